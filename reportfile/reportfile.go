// Package reportfile finds DMARC aggregate reports (RFC 7489 appendix C,
// RFC 9990), DMARC failure reports (RFC 6591, RFC 9991) and SMTP TLS
// reports (RFC 8460) in the files they arrive in: XML and JSON files,
// gzip and zip archives under any name, and mail (message files, mbox,
// Maildir) that carries them as attachments or is a failure report
// itself. What a file holds is told from its content, not its name:
// reporters name their attachments as they please.
//
// Parsing is packages dmarcreport's and tlsrpt's; this package unpacks and
// walks.
package reportfile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/mailbox"
	"github.com/mailtriage/mailtriage/tlsrpt"
)

// Limits against decompression bombs, garbage and hostile nesting. The
// largest aggregate reports we know of (Google's and Microsoft's for large
// senders) are a few MB of XML, TLS reports less. The caps are what bounds
// memory: parsing may hold two or three copies of a report, and
// DefaultWorkers inputs are parsed at once.
const (
	// MaxDecompressed bounds what one gzip stream or zip member inflates to.
	MaxDecompressed = 32 << 20
	// MaxInput bounds a file read whole (an mbox is read message by
	// message and may be larger).
	MaxInput = 64 << 20
	// MaxInflated bounds what all gzip streams and zip members of one
	// input inflate to together. Once it is spent, the rest of the input is
	// not read, and one error says so.
	MaxInflated = 64 << 20
	// maxMembers bounds the members of one zip archive.
	maxMembers = 1000
	// maxNesting bounds containers in containers: a zip in a gzip in a
	// message forwarded in a message.
	maxNesting = 6
	// headSize is how much of a file or of what a member inflates to is
	// read before it is judged. A report begins, after a byte order mark
	// and white space, with "<", "{", a mail header or an archive's magic
	// number; zeros or random bytes are refused after 4 KB, not 32 MB.
	headSize = 4 << 10
)

// ErrTooLarge means an input or a member inflates past a cap.
var ErrTooLarge = errors.New("reportfile: too large")

// ErrNotReport means an input holds no report this package knows.
var ErrNotReport = errors.New("reportfile: not a report")

var (
	// errBudget means an input's MaxInflated is spent; it is reported once,
	// for the input.
	errBudget = fmt.Errorf("%w: the archives of this input inflate to more than %d MB together", ErrTooLarge, MaxInflated>>20)
	// errSpent means the budget was spent before, and said so.
	errSpent = errors.New("reportfile: budget spent")
)

// Item is one report found in an input.
type Item struct {
	Source    string // the file, plus "!member" for a zip member or "#n" / message name for a message in an mbox or Maildir
	Aggregate *dmarcreport.Aggregate
	Failure   *dmarcreport.Failure
	TLS       *tlsrpt.Report
}

// event is a report found, or a part that could not be read.
type event struct {
	item *Item
	name string
	err  error
}

// Read finds the reports in one input held in memory (standard input, a
// message fetched from an IMAP server): found is called for each report,
// bad for each part that could not be read, in the order they appear. An
// mbox is split into its messages. Read returns the first error found
// returns.
func Read(name string, data []byte, found func(Item) error, bad func(name string, err error)) error {
	if isMbox(data) {
		var stop error
		err := mailbox.Mbox(bytes.NewReader(data), name, func(msg string, b []byte) error {
			stop = deliver(scan(msg, b), found, bad)
			return stop
		})
		if stop != nil {
			return stop
		}
		if err != nil {
			bad(name, err)
		}
		return nil
	}
	return deliver(scan(name, data), found, bad)
}

// deliver hands the events of one input on, in order.
func deliver(events []event, found func(Item) error, bad func(string, error)) error {
	for _, e := range events {
		if e.item == nil {
			bad(e.name, e.err)
			continue
		}
		if err := found(*e.item); err != nil {
			return err
		}
	}
	return nil
}

// scan finds the reports in one input.
func scan(name string, data []byte) []event {
	s := &scanner{root: name}
	s.input(name, data, 0)
	if len(s.events) == 0 {
		s.fail(name, fmt.Errorf("%w: no report found", ErrNotReport))
	}
	return s.events
}

type scanner struct {
	root     string // the input
	events   []event
	inflated int64 // bytes decompressed so far, against MaxInflated
	spent    bool  // MaxInflated is spent; nothing more is inflated
}

func (s *scanner) found(it Item) { s.events = append(s.events, event{item: &it}) }

func (s *scanner) fail(name string, err error) {
	s.events = append(s.events, event{name: name, err: err})
}

// failInflate reports what could not be inflated. The input's budget
// spent is reported once, for the input; parts not read after it are not
// reported at all.
func (s *scanner) failInflate(name string, err error) {
	switch {
	case errors.Is(err, errSpent):
	case errors.Is(err, errBudget):
		s.fail(s.root, fmt.Errorf("%w; not read from %s on", err, name))
	default:
		s.fail(name, err)
	}
}

// input finds the reports in data, told by its content.
func (s *scanner) input(name string, data []byte, depth int) {
	if depth > maxNesting {
		s.fail(name, fmt.Errorf("%w: containers nested deeper than %d", ErrNotReport, maxNesting))
		return
	}
	switch kind := sniff(data); kind {
	case kindGzip:
		out, err := s.gunzip(data)
		if err != nil {
			s.failInflate(name, err)
			return
		}
		s.input(name, out, depth+1)
	case kindZip:
		s.unzip(name, data, depth)
	case kindXML:
		a, err := dmarcreport.ParseAggregateBytes(data)
		if err != nil {
			s.fail(name, err)
			return
		}
		s.found(Item{Source: name, Aggregate: a})
	case kindJSON:
		r, err := tlsrpt.ParseReport(data)
		if err != nil {
			s.fail(name, err)
			return
		}
		s.found(Item{Source: name, TLS: r})
	case kindMessage:
		s.message(name, data, depth)
	default:
		s.fail(name, notReport(data))
	}
}

type kind int

const (
	kindUnknown kind = iota
	kindGzip
	kindZip
	kindXML
	kindJSON
	kindMessage
)

// sniff tells what data is, from its first bytes. Its name says nothing:
// reporters name attachments as they please, and a ".xml" file that does
// not begin as XML is not XML.
func sniff(data []byte) kind {
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		return kindGzip
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return kindZip
	}
	t := trim(data)
	switch {
	case len(t) > 0 && t[0] == '<', isUTF16XML(data):
		return kindXML
	case len(t) > 0 && t[0] == '{':
		return kindJSON
	case isMessage(data):
		return kindMessage
	}
	return kindUnknown
}

// isUTF16XML reports whether data begins as XML in UTF-16, which every
// XML processor reads (XML 1.0 §4.3.3): a byte order mark, white space,
// "<"; or "<?" without the mark (appendix F.1).
func isUTF16XML(data []byte) bool {
	if bytes.HasPrefix(data, []byte("<\x00?\x00")) || bytes.HasPrefix(data, []byte("\x00<\x00?")) {
		return true
	}
	for _, p := range []struct {
		bom      string
		at, zero int // the byte of a code unit that holds an ASCII character, and the other
	}{{"\xff\xfe", 0, 1}, {"\xfe\xff", 1, 0}} {
		rest, ok := bytes.CutPrefix(data, []byte(p.bom))
		for ok && len(rest) >= 2 && rest[p.zero] == 0 {
			switch rest[p.at] {
			case ' ', '\t', '\r', '\n':
				rest = rest[2:]
				continue
			case '<':
				return true
			}
			break
		}
	}
	return false
}

// trim drops a UTF-8 byte order mark and white space from the start of
// data.
func trim(data []byte) []byte {
	return bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
}

// mayBegin reports whether head, the first bytes of an input, may begin a
// report or an archive. complete says head is the whole input. An empty
// input may: input says what is wrong with it.
func mayBegin(head []byte, complete bool) bool {
	return sniff(head) != kindUnknown || complete && len(trim(head)) == 0
}

// notReport says why data is not a report.
func notReport(data []byte) error {
	switch {
	case len(data) == 0:
		return fmt.Errorf("%w: empty file", ErrNotReport)
	case len(trim(data)) == 0 && len(data) >= headSize:
		return fmt.Errorf("%w: nothing but white space in its first %d KB", ErrNotReport, headSize>>10)
	case len(trim(data)) == 0:
		return fmt.Errorf("%w: nothing but white space", ErrNotReport)
	}
	return fmt.Errorf("%w: neither XML, JSON, gzip, zip nor a mail message (it begins with %s)", ErrNotReport, head(data))
}

// isMessage reports whether data begins as a mail message: an mbox From
// line or a header field (RFC 5322 §2.2: printable ASCII name, colon).
func isMessage(data []byte) bool {
	if isMbox(data) {
		return true
	}
	line, _, _ := bytes.Cut(data[:min(len(data), 1000)], []byte("\n"))
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func isMbox(data []byte) bool { return bytes.HasPrefix(data, []byte("From ")) }

// gunzip inflates a gzip file, up to MaxDecompressed. Concatenated members
// are read as one stream (RFC 1952 §2.2); bytes after a complete member
// that do not begin another (padding, garbage some reporters append) are
// ignored. A truncated or corrupt member is an error.
func (s *scanner) gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, inFormat("gzip", err)
	}
	out, err := s.inflate(zr, 0)
	if errors.Is(err, gzip.ErrHeader) && len(out) > 0 {
		// The first member ended with its checksum verified; what
		// follows is not gzip.
		err = nil
	}
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrNotReport), errors.Is(err, errSpent):
		return nil, err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("gzip: truncated: %w", err)
	}
	return nil, inFormat("gzip", err)
}

// inflate reads r to its end, up to MaxDecompressed and what is left of
// the input's MaxInflated. It reads the first headSize bytes first, and
// stops there when they cannot begin a report. size is what a zip member
// declares (0 if unknown), to size the buffer at once. On an error it
// returns what it read so far.
func (s *scanner) inflate(r io.Reader, size uint64) ([]byte, error) {
	if s.spent {
		return nil, errSpent
	}
	limit := min(int64(MaxDecompressed), MaxInflated-s.inflated)
	head := make([]byte, min(headSize, limit+1))
	n, err := readHead(r, head)
	head = head[:n]
	s.inflated += int64(n)
	complete := err != nil
	if err == io.EOF {
		err = nil
	}
	if !mayBegin(head, complete) {
		return nil, fmt.Errorf("%w: inflates to %s", ErrNotReport, describeStart(head))
	}
	if complete {
		return head, err
	}
	var buf bytes.Buffer
	// ReadFrom wants bytes.MinRead free before each read, the last that
	// finds the end too: without them a buffer the member's size would be
	// doubled at its end.
	buf.Grow(int(min(max(size, headSize), uint64(limit)+1)) + bytes.MinRead)
	buf.Write(head)
	m, err := buf.ReadFrom(io.LimitReader(r, limit+1-int64(n)))
	s.inflated += m
	if int64(n)+m > limit {
		if limit < MaxDecompressed {
			s.spent = true
			return nil, errBudget
		}
		return nil, fmt.Errorf("%w: inflates to more than %d MB (a decompression bomb?)", ErrTooLarge, MaxDecompressed>>20)
	}
	return buf.Bytes(), err
}

// readHead fills b from r, as io.ReadFull does, but returns r's error as
// it is: a gzip stream's io.ErrUnexpectedEOF says it is truncated.
func readHead(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// describeStart says what data begins with, for an error.
func describeStart(data []byte) string {
	if len(trim(data)) == 0 {
		return fmt.Sprintf("%d bytes of white space", len(data))
	}
	return "data that is neither XML, JSON, gzip, zip nor a mail message (it begins with " + head(data) + ")"
}

// inFormat says an error is of the gzip or zip layer, as the errors of
// compress/gzip and archive/zip say already ("zip: not a valid zip
// file"): the name is added only where the error lacks it (a flate or an
// io error), not written twice.
func inFormat(format string, err error) error {
	if strings.HasPrefix(err.Error(), format+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", format, err)
}

// unzip reads every member of a zip archive, each named name!member.
func (s *scanner) unzip(name string, data []byte, depth int) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		s.fail(name, inFormat("zip", err))
		return
	}
	if len(zr.File) > maxMembers {
		s.fail(name, fmt.Errorf("%w: zip: %d members, more than %d", ErrTooLarge, len(zr.File), maxMembers))
		return
	}
	for _, f := range zr.File {
		if s.spent {
			return
		}
		if f.FileInfo().IsDir() {
			continue
		}
		member := name + "!" + f.Name
		if f.UncompressedSize64 > MaxDecompressed {
			s.fail(member, fmt.Errorf("%w: zip member declares %d MB, more than %d MB (a decompression bomb?)", ErrTooLarge, f.UncompressedSize64>>20, MaxDecompressed>>20))
			continue
		}
		b, err := s.member(f)
		if err != nil {
			s.failInflate(member, err)
			continue
		}
		s.input(member, b, depth+1)
	}
}

// member inflates one zip member. It reads the raw data and inflates it
// itself, so that a member that inflates past MaxDecompressed is stopped
// there, whatever size it declares.
func (s *scanner) member(f *zip.File) ([]byte, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, inFormat("zip", err)
	}
	var r io.Reader
	switch f.Method {
	case zip.Store:
		r = raw
	case zip.Deflate:
		fr := flate.NewReader(raw)
		defer fr.Close()
		r = fr
	default:
		return nil, fmt.Errorf("%w (method %d)", zip.ErrAlgorithm, f.Method)
	}
	b, err := s.inflate(r, f.UncompressedSize64)
	switch {
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrNotReport), errors.Is(err, errSpent):
		return nil, err
	case err != nil:
		return nil, inFormat("zip", err)
	case f.CRC32 != 0 && crc32.ChecksumIEEE(b) != f.CRC32:
		return nil, zip.ErrChecksum
	}
	return b, nil
}

// message finds the reports a mail message carries. A failure report (a
// message/feedback-report part) is one report; otherwise every attachment
// that may be a report is read, and attached messages (a report forwarded
// as an attachment) are searched in turn.
func (s *scanner) message(name string, data []byte, depth int) {
	parts, err := dmarcreport.MessageParts(data)
	for _, p := range parts {
		if p.Type == "message/feedback-report" {
			f, ferr := dmarcreport.ParseFailure(data)
			if ferr != nil {
				s.fail(name, ferr)
				return
			}
			s.found(Item{Source: name, Failure: f})
			return
		}
	}
	before := len(s.events)
	for i, p := range parts {
		sub := partName(name, i, p)
		switch {
		case p.Type == "message/rfc822":
			s.input(sub, p.Body, depth+1)
		case mayBeReport(p):
			s.input(sub, p.Body, depth+1)
		}
	}
	if err != nil {
		s.fail(name, err)
		return
	}
	if len(s.events) == before {
		s.fail(name, fmt.Errorf("%w: the message has no report attached (parts: %s)", ErrNotReport, partTypes(parts)))
	}
}

// mayBeReport reports whether a part may hold a report: the types
// reporters use (RFC 7489 §7.2.1.1, RFC 8460 §5.3 and what they send in
// practice), a file name that says so, or content that is a gzip or zip
// archive whatever its type (application/octet-stream, unnamed). Other
// parts (the human-readable note, a logo) are passed over.
func mayBeReport(p dmarcreport.Part) bool {
	switch p.Type {
	case "application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
		"application/x-zip", "application/xml", "text/xml", "application/json",
		"application/tlsrpt+json", "application/tlsrpt+gzip":
		return true
	}
	switch strings.ToLower(path.Ext(p.Filename)) {
	case ".xml", ".gz", ".zip", ".json":
		return true
	}
	k := sniff(p.Body)
	return k == kindGzip || k == kindZip
}

// partName names an attachment: the message's name, "!", its file name
// or its position.
func partName(name string, i int, p dmarcreport.Part) string {
	if p.Filename != "" {
		return name + "!" + p.Filename
	}
	return fmt.Sprintf("%s!part%d", name, i+1)
}

func partTypes(parts []dmarcreport.Part) string {
	if len(parts) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Type)
	}
	return b.String()
}

// head shows the first bytes of data in an error message: quoted text, or
// "binary data" rather than a run of escapes.
func head(data []byte) string {
	data = bytes.TrimSpace(data)
	const n = 16
	h := data[:min(len(data), n)]
	if isBinary(h) {
		return "binary data"
	}
	if len(data) > n {
		return fmt.Sprintf("%q...", h)
	}
	return fmt.Sprintf("%q", h)
}

// isBinary reports whether b is not text: a NUL, or a quarter of it
// control characters other than white space or invalid UTF-8.
func isBinary(b []byte) bool {
	bad, n := 0, len(b)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == 0:
			return true
		case r == utf8.RuneError && size == 1, r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			bad++
		}
		b = b[size:]
	}
	return bad*4 > n
}
