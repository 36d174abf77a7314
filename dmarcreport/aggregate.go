package dmarcreport

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"

	"github.com/mailtriage/mailtriage/internal/errtext"
)

// Limits on what ParseAggregate reads. The largest real reports we know
// of (Google's and Microsoft's for large senders) are a few MB; parsing may
// hold two or three copies of a report, so the cap is what bounds memory.
const (
	// MaxAggregateSize bounds the XML of one report; past it the report
	// is refused, not read on.
	MaxAggregateSize = 32 << 20
	// MaxDepth bounds element nesting. The schema nests five deep
	// (feedback/record/auth_results/dkim/domain); extensions may add a few.
	MaxDepth = 32
	// MaxCount bounds one record's count, about 10^12 messages: far above
	// what any receiver counts for one source in a day, and low enough
	// that the counts of 8 million records add up without overflowing an
	// int64 (a report within MaxAggregateSize holds under a million).
	MaxCount = 1 << 40
)

// Namespace2 is the XML namespace of RFC 9990 reports.
const Namespace2 = "urn:ietf:params:xml:ns:dmarc-2.0"

var (
	// ErrNotAggregate means the input is not an aggregate report at all:
	// not XML, or XML whose root is not <feedback>.
	ErrNotAggregate = errors.New("dmarcreport: not an aggregate report")
	// ErrInvalid means the input is an aggregate report that breaks a rule
	// of RFC 9990 or RFC 7489 too badly to be used.
	ErrInvalid = errors.New("dmarcreport: invalid report")
	// ErrTooLarge means the input is larger than a cap.
	ErrTooLarge = errors.New("dmarcreport: too large")
)

// ParseAggregate reads one aggregate report: the XML of RFC 7489 appendix
// C or of RFC 9990 §3, with or without the RFC 9990 namespace, read by one
// code path. It forgives what real reporters send (invalid UTF-8, values in
// odd case, white space, stray "<" in text, an unclosed xs:schema wrapper,
// encodings other than UTF-8) and says what it forgave in Warnings. It
// refuses reports without a report id or reporter, with a reversed date
// range, a count that is not a number from 0 to MaxCount or a source_ip
// that is not an IP address; and input past MaxAggregateSize or MaxDepth.
func ParseAggregate(r io.Reader) (*Aggregate, error) {
	br := bufio.NewReader(r)
	// Garbage is refused on its first bytes, before it is read whole.
	if head, _ := br.Peek(512); len(head) > 0 && utf16Order(head) == nil {
		if err := notXML(head, false); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(br, MaxAggregateSize+1))
	if err != nil {
		return nil, fmt.Errorf("dmarcreport: reading the report: %w", err)
	}
	return ParseAggregateBytes(data)
}

// ParseAggregateBytes is ParseAggregate for a report already in memory; it
// reads data in place, without a copy, and does not keep it.
func ParseAggregateBytes(data []byte) (*Aggregate, error) {
	if len(data) > MaxAggregateSize {
		return nil, fmt.Errorf("%w: the report is larger than %d MB", ErrTooLarge, MaxAggregateSize>>20)
	}
	if order := utf16Order(data); order != nil {
		data = fromUTF16(data, *order)
	}
	if err := notXML(data, true); err != nil {
		return nil, err
	}
	return parseAggregate(data)
}

// notXML refuses at once what cannot be an XML document: one begins,
// after a byte order mark and white space, with "<" (XML 1.0 §2.1, §2.8).
// Read on, a file of zeros would be copied twice over before encoding/xml
// said so. complete says data is the whole input, not its first bytes.
func notXML(data []byte, complete bool) error {
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(data) == 0:
		return fmt.Errorf("%w: empty file", ErrNotAggregate)
	case len(t) == 0 && complete:
		return fmt.Errorf("%w: nothing but white space", ErrNotAggregate)
	case len(t) > 0 && t[0] != '<':
		return fmt.Errorf("%w: not XML: it begins with %s", ErrNotAggregate, describe(t))
	}
	return nil
}

// utf16Order tells a document in UTF-16 by its first bytes (XML 1.0
// appendix F.1): a byte order mark, or "<?" without one; nil when the
// document is not UTF-16.
func utf16Order(data []byte) *unicode.Endianness {
	le, be := unicode.LittleEndian, unicode.BigEndian
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte("<\x00?\x00")):
		return &le
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}), bytes.HasPrefix(data, []byte("\x00<\x00?")):
		return &be
	}
	return nil
}

// fromUTF16 decodes a UTF-16 document to UTF-8 (XML 1.0 §4.3.3: every
// processor reads both) and drops its XML declaration, whose encoding no
// longer holds.
func fromUTF16(data []byte, order unicode.Endianness) []byte {
	// Invalid code units become U+FFFD; the decoder does not fail.
	out, _ := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Bytes(data)
	out = bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(out, []byte("<?xml")) {
		if end := bytes.Index(out, []byte("?>")); end > 0 {
			out = out[end+2:]
		}
	}
	return out
}

// describe shows the first bytes of data in an error message: quoted
// text, or "binary data" rather than a run of escapes or U+FFFD.
func describe(data []byte) string {
	head := data[:min(len(data), 24)]
	if isBinary(head) {
		return "binary data"
	}
	if len(head) < len(data) {
		return fmt.Sprintf("%q...", head)
	}
	return fmt.Sprintf("%q", head)
}

// isBinary reports whether b is not text: a NUL, or a quarter of its
// bytes control characters or invalid UTF-8.
func isBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	return countBad(b, len(b)) > len(b)/4
}

func parseAggregate(data []byte) (*Aggregate, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var warnings []string
	if enc := declaredEncoding(data); isUTF8(enc) {
		clean, changed, err := sanitize(data)
		if err != nil {
			return nil, err
		}
		if changed {
			data = clean
			warnings = append(warnings, "invalid UTF-8 or control characters replaced with U+FFFD")
		}
		if a, err := scanAggregate(data); err == nil {
			a.Warnings = append(warnings, a.Warnings...)
			return a, nil
		}
	}
	a, err := decodeAggregate(data, true)
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		// Reporters write addresses and domains into text unescaped
		// ("<email><x@y></email>"); parsedmarc recovers them too.
		if fixed, changed := escapeStrays(data); changed {
			if a2, err2 := decodeAggregate(fixed, false); err2 == nil {
				a, err = a2, nil
				warnings = append(warnings, fmt.Sprintf("malformed XML (%s); stray \"<\" and \"&\" read as text", syn.Msg))
			}
		}
	}
	if err != nil {
		return nil, err
	}
	a.Warnings = append(warnings, a.Warnings...)
	return a, nil
}

// decodeAggregate walks the tokens of the document. It keeps a stack of
// element names and assigns each leaf's text by its place in the tree, so
// namespaces and element order do not matter, unknown elements are skipped
// and nesting is counted as it is read. It reads raw tokens, 20% faster
// than Token's, and matches end tags to start tags itself.
func decodeAggregate(data []byte, strict bool) (*Aggregate, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = strict
	d.CharsetReader = charsetReader
	p := &aggParser{a: &Aggregate{}}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if p.root {
				return nil, fmt.Errorf("%w: the document ends inside <feedback>", ErrInvalid)
			}
			return nil, fmt.Errorf("%w: no <feedback> element", ErrNotAggregate)
		}
		if err != nil {
			var syn *xml.SyntaxError
			if errors.As(err, &syn) && !p.root {
				return nil, fmt.Errorf("%w: not XML: %w", ErrNotAggregate, err)
			}
			return nil, fmt.Errorf("%w: XML: %w", ErrInvalid, err)
		}
		done, err := p.token(tok)
		if err != nil {
			return nil, err
		}
		if done {
			// Whatever follows </feedback> (a wrapper's missing end tag,
			// trailing garbage) is not the report's.
			if err := p.finish(); err != nil {
				return nil, err
			}
			return p.a, nil
		}
	}
}

type aggParser struct {
	a     *Aggregate
	root  bool     // inside <feedback>
	wraps int      // wrapper elements around <feedback> (ikea's xs:schema)
	stack []string // local names from <feedback> down
	pfx   []string // their prefixes, to match end tags
	ns    map[string]string
	text  []byte

	// The values checked once the whole report is read, as sent.
	rawBegin, rawEnd raw
	rows             []rawRow // one per record
}

// raw is a value as sent, and whether it was.
type raw struct {
	v   string
	set bool
}

type rawRow struct{ ip, count raw }

// token handles one token; done is true after </feedback>.
func (p *aggParser) token(tok xml.Token) (done bool, err error) {
	switch t := tok.(type) {
	case xml.StartElement:
		return false, p.startElement(t)
	case xml.EndElement:
		return p.endElement(t.Name)
	case xml.CharData:
		return false, p.charData(t)
	}
	return false, nil
}

func (p *aggParser) startElement(t xml.StartElement) error {
	if !p.root {
		return p.outside(t)
	}
	if len(p.stack)+p.wraps >= MaxDepth {
		return fmt.Errorf("%w: elements nested deeper than %d", ErrInvalid, MaxDepth)
	}
	p.stack = append(p.stack, t.Name.Local)
	p.pfx = append(p.pfx, t.Name.Space)
	p.text = p.text[:0]
	p.open()
	return nil
}

// endElement closes an element; done is true after </feedback>.
func (p *aggParser) endElement(name xml.Name) (done bool, err error) {
	if !p.root {
		return false, nil
	}
	top := len(p.stack) - 1
	if name.Local != p.stack[top] || name.Space != p.pfx[top] {
		return false, fmt.Errorf("%w: XML: element <%s> closed by </%s>", ErrInvalid, qname(p.pfx[top], p.stack[top]), qname(name.Space, name.Local))
	}
	p.close(string(bytes.TrimSpace(p.text)))
	p.text = p.text[:0]
	p.stack, p.pfx = p.stack[:top], p.pfx[:top]
	return top == 0, nil
}

func (p *aggParser) charData(t []byte) error {
	if !p.root {
		if len(bytes.TrimSpace(t)) > 0 {
			return fmt.Errorf("%w: not XML: text %s before the first element", ErrNotAggregate, errtext.Quote(string(bytes.TrimSpace(t))))
		}
		return nil
	}
	p.text = append(p.text, t...)
	return nil
}

// outside handles an element before <feedback>: the root, or a wrapper.
func (p *aggParser) outside(t xml.StartElement) error {
	for _, at := range t.Attr {
		switch {
		case at.Name.Space == "xmlns":
			p.declare(at.Name.Local, at.Value)
		case at.Name.Space == "" && at.Name.Local == "xmlns":
			p.declare("", at.Value)
		}
	}
	switch t.Name.Local {
	case "feedback":
		p.root = true
		p.stack = append(p.stack, "feedback")
		p.pfx = append(p.pfx, t.Name.Space)
		p.a.Namespace = t.Name.Space
		if uri, ok := p.ns[t.Name.Space]; ok {
			p.a.Namespace = uri
		}
	case "schema":
		// <xs:schema ...> before <feedback>, never closed (parsedmarc's
		// ikea.com sample).
		p.wraps++
		if p.wraps > 2 {
			return fmt.Errorf("%w: <%s> wrapped more than twice around <feedback>", ErrNotAggregate, t.Name.Local)
		}
	default:
		return fmt.Errorf("%w: the root element is <%s>, not <feedback>", ErrNotAggregate, t.Name.Local)
	}
	return nil
}

func (p *aggParser) declare(prefix, uri string) {
	if p.ns == nil {
		p.ns = map[string]string{}
	}
	p.ns[prefix] = uri
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// parent returns the name of the element n levels above the current one.
func (p *aggParser) parent(n int) string {
	if i := len(p.stack) - 1 - n; i >= 0 {
		return p.stack[i]
	}
	return ""
}

// open opens the repeated structures: records, reasons and results.
func (p *aggParser) open() {
	name, up := p.parent(0), p.parent(1)
	switch {
	case name == "record" && up == "feedback":
		p.a.Records = append(p.a.Records, Record{})
		p.rows = append(p.rows, rawRow{})
	case p.inRecord():
		r := &p.a.Records[len(p.a.Records)-1]
		switch {
		case name == "reason" && up == "policy_evaluated":
			r.Reasons = append(r.Reasons, Reason{})
		case name == "dkim" && up == "auth_results":
			r.DKIMResults = append(r.DKIMResults, DKIMResult{})
		case name == "spf" && up == "auth_results":
			r.SPFResults = append(r.SPFResults, SPFResult{})
		}
	}
}

// inRecord reports whether the current element is inside a record.
func (p *aggParser) inRecord() bool {
	return len(p.stack) > 2 && p.stack[1] == "record" && len(p.a.Records) > 0
}

// close assigns the text of a closing element by where it stands.
func (p *aggParser) close(v string) {
	name, up := p.parent(0), p.parent(1)
	a := p.a
	switch up {
	case "feedback":
		if name == "version" {
			a.Version = v
		}
	case "report_metadata":
		p.metadata(name, v)
	case "date_range":
		if p.parent(2) != "report_metadata" {
			return
		}
		switch name {
		case "begin":
			p.rawBegin = raw{v, true}
		case "end":
			p.rawEnd = raw{v, true}
		}
	case "policy_published":
		p.policy(name, v)
	default:
		if p.inRecord() {
			p.record(&a.Records[len(a.Records)-1], name, up, v)
		}
	}
}

func (p *aggParser) metadata(name, v string) {
	a := p.a
	switch name {
	case "org_name":
		a.Org = v
	case "email":
		a.Email = v
	case "extra_contact_info":
		a.ExtraContact = v
	case "report_id":
		a.ReportID = v
	case "generator":
		a.Generator = v
	case "error":
		if v != "" {
			a.Errors = append(a.Errors, v)
		}
	}
}

func (p *aggParser) policy(name, v string) {
	pp := &p.a.Policy
	lv := strings.ToLower(v)
	switch name {
	case "domain":
		pp.Domain = lv
	case "adkim":
		pp.ADKIM = lv
	case "aspf":
		pp.ASPF = lv
	case "p":
		pp.P = lv
	case "sp":
		pp.SP = lv
	case "np":
		pp.NP = lv
	case "pct":
		pp.PCT = lv
	case "fo":
		pp.FO = lv
	case "testing":
		pp.Testing = lv
	case "discovery_method":
		pp.DiscoveryMethod = lv
	}
}

func (p *aggParser) record(r *Record, name, up, v string) {
	lv := strings.ToLower(v)
	switch up {
	case "row":
		row := &p.rows[len(p.rows)-1]
		switch name {
		case "source_ip":
			row.ip = raw{v, true}
		case "count":
			row.count = raw{v, true}
		}
	case "policy_evaluated":
		switch name {
		case "disposition":
			r.Disposition = lv
		case "dkim":
			r.DKIM = lv
		case "spf":
			r.SPF = lv
		}
	case "reason":
		if n := len(r.Reasons); n > 0 && p.parent(2) == "policy_evaluated" {
			switch name {
			case "type":
				r.Reasons[n-1].Type = lv
			case "comment":
				r.Reasons[n-1].Comment = v
			}
		}
	case "identifiers":
		switch name {
		case "header_from":
			r.HeaderFrom = lv
		case "envelope_from":
			r.EnvelopeFrom = lv
		case "envelope_to":
			r.EnvelopeTo = lv
		}
	case "dkim":
		if n := len(r.DKIMResults); n > 0 && p.parent(2) == "auth_results" {
			d := &r.DKIMResults[n-1]
			switch name {
			case "domain":
				d.Domain = lv
			case "selector":
				d.Selector = v
			case "result":
				d.Result = lv
			case "human_result":
				d.HumanResult = v
			}
		}
	case "spf":
		if n := len(r.SPFResults); n > 0 && p.parent(2) == "auth_results" {
			s := &r.SPFResults[n-1]
			switch name {
			case "domain":
				s.Domain = lv
			case "scope":
				s.Scope = lv
			case "result":
				s.Result = lv
			case "human_result":
				s.HumanResult = v
			}
		}
	}
}

// finish checks what a usable report needs, once it is read whole.
func (p *aggParser) finish() error {
	a := p.a
	if a.Org == "" {
		// Some reporters leave org_name empty; parsedmarc names them by
		// their address's domain, as we do.
		if _, dom, ok := strings.Cut(a.Email, "@"); ok && strings.Trim(dom, "<> ") != "" {
			a.Org = strings.ToLower(strings.Trim(dom, "<> "))
			a.Warnings = append(a.Warnings, "no org_name; the domain of the report's email named the reporter")
		} else {
			return fmt.Errorf("%w: no report_metadata/org_name (nor an email to name the reporter by)", ErrInvalid)
		}
	}
	if a.ReportID == "" {
		return fmt.Errorf("%w: no report_metadata/report_id", ErrInvalid)
	}
	var err error
	if a.Begin, err = timestamp("begin", p.rawBegin); err != nil {
		return err
	}
	if a.End, err = timestamp("end", p.rawEnd); err != nil {
		return err
	}
	if a.End.Before(a.Begin) {
		return fmt.Errorf("%w: the date range is reversed: end %s is before begin %s", ErrInvalid,
			a.End.Format(time.RFC3339), a.Begin.Format(time.RFC3339))
	}
	if a.Policy.Domain == "" {
		if len(a.Records) == 0 || a.Records[0].HeaderFrom == "" {
			return fmt.Errorf("%w: no policy_published/domain", ErrInvalid)
		}
		a.Policy.Domain = a.Records[0].HeaderFrom
		a.Warnings = append(a.Warnings, "no policy_published/domain; the first record's header_from taken for it")
	}
	for i, row := range p.rows {
		if err := row.fill(&a.Records[i]); err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrInvalid, i+1, err)
		}
	}
	return nil
}

// fill checks and sets a record's source and count (RFC 9990 §3, row).
func (row rawRow) fill(r *Record) error {
	if row.ip.v == "" {
		return errors.New("no source_ip")
	}
	ip, err := netip.ParseAddr(row.ip.v)
	if err != nil {
		return fmt.Errorf("source_ip %s is not an IP address", errtext.Quote(row.ip.v))
	}
	r.SourceIP = ip.Unmap()
	if row.count.v == "" {
		return errors.New("no count")
	}
	n, err := strconv.ParseInt(row.count.v, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		// A number of 19 digits or more; its sign says which way it is wrong.
		n, err = math.MaxInt64, nil
		if strings.HasPrefix(row.count.v, "-") {
			n = -1
		}
	}
	switch {
	case err != nil:
		return fmt.Errorf("count %s is not a number", errtext.Quote(row.count.v))
	case n < 0:
		return fmt.Errorf("count %s is negative", errtext.Clip(row.count.v, 40))
	case n > MaxCount:
		return fmt.Errorf("count %s is more than %d, the most one record may count", errtext.Clip(row.count.v, 40), int64(MaxCount))
	}
	r.Count = n
	return nil
}

// timestamp reads date_range's begin or end: seconds since 1970 (RFC 9990
// §3).
func timestamp(name string, r raw) (time.Time, error) {
	if !r.set {
		return time.Time{}, fmt.Errorf("%w: no report_metadata/date_range/%s", ErrInvalid, name)
	}
	v := r.v
	// Some reporters write "1538413632.0".
	if i := strings.IndexByte(v, '.'); i > 0 && strings.Trim(v[i+1:], "0") == "" {
		v = v[:i]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	// 1<<37 seconds is the year 6325: past it, the number is not a time.
	if err != nil || n < 0 || n > 1<<37 {
		return time.Time{}, fmt.Errorf("%w: date_range/%s %s is not a time in seconds since 1970", ErrInvalid, name, errtext.Quote(r.v))
	}
	return time.Unix(n, 0).UTC(), nil
}

// declaredEncoding returns the encoding an XML declaration names, or "".
func declaredEncoding(data []byte) string {
	head := bytes.TrimLeft(data[:min(len(data), 512)], " \t\r\n")
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return ""
	}
	decl, _, ok := bytes.Cut(head, []byte("?>"))
	if !ok {
		return ""
	}
	enc, _ := pseudoAttr(decl, "encoding")
	return enc
}

// isUTF8 reports whether a declared encoding is UTF-8 (or none: XML's
// default).
func isUTF8(enc string) bool {
	if enc == "" || strings.EqualFold(enc, "utf-8") {
		return true
	}
	name, err := htmlindex.Get(enc)
	if err != nil {
		return false
	}
	n, _ := htmlindex.Name(name)
	return n == "utf-8"
}

// charsetReader decodes the encodings an XML declaration may name: the
// WHATWG labels, which cover latin1, windows-1252, the ISO 8859 family,
// koi8-r, shift_jis, gb2312 and more.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unknown encoding %q", charset)
	}
	return enc.NewDecoder().Reader(input), nil
}

// sanitize replaces invalid UTF-8 and the control characters XML forbids
// with U+FFFD. It returns data itself when there is nothing to replace,
// which is nearly always, and otherwise one copy of the size it needs. A
// document of which more than an eighth is such bytes is not text, and is
// refused rather than copied.
func sanitize(data []byte) ([]byte, bool, error) {
	i := firstBad(data)
	if i < 0 {
		return data, false, nil
	}
	most := len(data) / 8
	bad := countBad(data[i:], most+1)
	if bad > most {
		return nil, false, fmt.Errorf("%w: binary data, not text (more than %d bytes of %d are control characters or invalid UTF-8)", ErrNotAggregate, most, len(data))
	}
	out := make([]byte, 0, len(data)+2*bad)
	out = append(out, data[:i]...)
	for i < len(data) {
		n, bad := badAt(data, i)
		if bad {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, data[i:i+n]...)
		}
		i += n
	}
	return out, true, nil
}

// firstBad returns the index of the first byte sanitize would replace, or
// -1.
func firstBad(data []byte) int {
	for i := 0; i < len(data); {
		n, bad := badAt(data, i)
		if bad {
			return i
		}
		i += n
	}
	return -1
}

// countBad counts what sanitize would replace in data, up to stop.
func countBad(data []byte, stop int) int {
	count := 0
	for i := 0; i < len(data) && count < stop; {
		n, bad := badAt(data, i)
		if bad {
			count++
		}
		i += n
	}
	return count
}

// badAt reads the character at data[i]: its length, and whether it is
// invalid UTF-8, a control character XML forbids (XML 1.0 §2.2) or one
// of the noncharacters U+FFFE and U+FFFF.
func badAt(data []byte, i int) (n int, bad bool) {
	c := data[i]
	if c < utf8.RuneSelf {
		return 1, c < 0x20 && c != '\t' && c != '\n' && c != '\r'
	}
	r, n := utf8.DecodeRune(data[i:])
	return n, r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF
}

// escapeStrays escapes a "<" that cannot begin markup, and an "&" that
// does not begin a reference, so that text such as "<x@y>" or "a<b.net"
// reads as text.
func escapeStrays(data []byte) ([]byte, bool) {
	// A first pass sizes the copy, so that it is made once, and only when
	// there is something to escape.
	extra := 0
	for i := range data {
		if repl := strayRepl(data, i); repl != "" {
			extra += len(repl) - 1
		}
	}
	if extra == 0 {
		return data, false
	}
	out := make([]byte, 0, len(data)+extra)
	last := 0
	for i := range data {
		if repl := strayRepl(data, i); repl != "" {
			out = append(out, data[last:i]...)
			out = append(out, repl...)
			last = i + 1
		}
	}
	return append(out, data[last:]...), true
}

// strayRepl returns what escapes data[i], or "" when it is not a stray.
func strayRepl(data []byte, i int) string {
	switch data[i] {
	case '<':
		if !startsMarkup(data[i+1:]) {
			return "&lt;"
		}
	case '&':
		if !startsReference(data[i+1:]) {
			return "&amp;"
		}
	}
	return ""
}

// startsMarkup reports whether the bytes after a "<" make a tag: "/", "!",
// "?", or a name ended by white space, "/" or ">".
func startsMarkup(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case '/', '!', '?':
		return true
	}
	n := 0
	for n < len(b) && isNameByte(b[n], n == 0) {
		n++
	}
	if n == 0 || n == len(b) {
		return false
	}
	switch b[n] {
	case ' ', '\t', '\r', '\n', '/', '>':
		return true
	}
	return false
}

// startsReference reports whether the bytes after "&" make "name;",
// "#123;" or "#x1F;".
func startsReference(b []byte) bool {
	n, numeric := 0, len(b) > 0 && b[0] == '#'
	if numeric {
		n = 1
		if n < len(b) && b[n] == 'x' {
			n++
		}
	}
	start := n
	for n < len(b) && n < 40 && (numeric && isHex(b[n]) || !numeric && isNameByte(b[n], n == 0)) {
		n++
	}
	return n > start && n < len(b) && b[n] == ';'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= utf8.RuneSelf:
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}
