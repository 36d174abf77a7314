package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
)

// field is one header field as it is in the message.
type field struct {
	Name string // as written, without surrounding whitespace
	// Raw is the whole field, name, colon and folded value, without its
	// final CRLF.
	Raw string
	// value is what follows the colon, folding kept.
	value string
	// pos is the field's place in the header, 0 for the topmost.
	pos int
}

// Value returns the field's value unfolded (RFC 5322 §2.2.3) and trimmed.
func (f field) Value() string {
	v := strings.ReplaceAll(f.value, "\r\n", "")
	return strings.TrimSpace(v)
}

// message is one message read for verification.
type message struct {
	// raw is the message as verified: lines end in CRLF, and a header
	// without a body is followed by the blank line that ends a header.
	raw    []byte
	fields []field
	body   []byte
	// bodyless: the message ended inside its header, without the blank
	// line (go-msgauth cannot read such a message as it is).
	bodyless bool
	// lfOnly: the lines ended in LF alone, as files on Unix keep them.
	lfOnly bool
	// bom: the file began with a UTF-8 byte order mark, dropped.
	bom bool
	// badLines are header lines that are not fields.
	badLines []string
}

// ErrNotMessage means the input has no header to read.
var ErrNotMessage = errors.New("not a message")

// parseMessage splits a message into header fields and body. DKIM hashes
// bytes, not MIME structure, so nothing below the header is parsed.
func parseMessage(data []byte) (*message, error) {
	m := &message{}
	// Editors on Windows put a byte order mark before the first field.
	// It was not in the message as sent (RFC 5322 §2.1: US-ASCII), nor
	// in what was signed.
	data, m.bom = bytes.CutPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: the input is empty", ErrNotMessage)
	}
	if err := binary(data); err != nil {
		return nil, err
	}
	if !bytes.Contains(data, []byte("\r\n")) && bytes.Contains(data, []byte("\n")) {
		m.lfOnly = true
	}
	data = toCRLF(data)
	end := bytes.Index(data, []byte("\r\n\r\n"))
	switch {
	case bytes.HasPrefix(data, []byte("\r\n")):
		return nil, fmt.Errorf("%w: the first line is blank, so there is no header", ErrNotMessage)
	case end < 0:
		m.bodyless = true
		if !bytes.HasSuffix(data, []byte("\r\n")) {
			data = append(data, "\r\n"...)
		}
		end = len(data) - 2
		// RFC 6376 §3.4.3: an empty body is canonicalized as one CRLF;
		// the blank line that ends the header makes the message one
		// go-msgauth can read, with that empty body.
		data = append(data, "\r\n"...)
	}
	m.raw = data
	m.body = data[end+4:]
	m.splitFields(string(data[:end+2]))
	if !fieldLine(firstLine(data)) {
		return nil, fmt.Errorf("%w: the first line is not a header field (RFC 5322 §2.2: name, colon, value): %q", ErrNotMessage, clip(firstLine(data)))
	}
	if !m.has("From") && !m.has("Received") && !m.has("DKIM-Signature") {
		return nil, fmt.Errorf("%w: no From, Received or DKIM-Signature field among its %d header field(s) (the first %q): a message has at least a From field (RFC 5322 §3.6)", ErrNotMessage, len(m.fields), clip(m.fields[0].Name))
	}
	return m, nil
}

// utf8BOM is the byte order mark U+FEFF in UTF-8.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// gzipMagic starts a gzip file (RFC 1952 §2.3.1): a message saved
// compressed (.eml.gz) is the usual binary input.
var gzipMagic = []byte{0x1f, 0x8b}

// binary rejects data that is not text: mail is lines of characters, and
// RFC 5322 §2.1 and §3.5 allow no NUL anywhere in a message.
func binary(data []byte) error {
	if bytes.HasPrefix(data, gzipMagic) {
		return fmt.Errorf("%w: gzip-compressed: decompress it first (gunzip)", ErrNotMessage)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Errorf("%w: binary data (a NUL byte at offset %d)", ErrNotMessage, i)
	}
	return nil
}

func (m *message) has(name string) bool {
	_, ok := m.first(name)
	return ok
}

// fieldLine reports whether line starts a header field: a field name of
// one or more printable US-ASCII characters but the colon (RFC 5322
// §3.6.8 ftext), then the colon. Whitespace before the colon is obsolete
// syntax that readers accept (§4.5).
func fieldLine(line string) bool {
	name, _, ok := strings.Cut(line, ":")
	s := strings.TrimRight(name, " \t")
	if !ok || s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// splitFields reads the header the way go-msgauth does, so the
// DKIM-Signature fields line up with its verifications: a line that
// starts with whitespace continues the field before it.
func (m *message) splitFields(header string) {
	for line := range strings.SplitSeq(strings.TrimSuffix(header, "\r\n"), "\r\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(m.fields) > 0 {
			f := &m.fields[len(m.fields)-1]
			f.Raw += "\r\n" + line
			f.value += "\r\n" + line
			continue
		}
		if !fieldLine(line) {
			m.badLines = append(m.badLines, line)
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		m.fields = append(m.fields, field{Name: strings.TrimRight(name, " \t"), Raw: line, value: value, pos: len(m.fields)})
	}
}

// all returns the fields named name, top first.
func (m *message) all(name string) []field {
	var out []field
	for _, f := range m.fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	return out
}

// first returns the topmost field named name.
func (m *message) first(name string) (field, bool) {
	for _, f := range m.fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return field{}, false
}

// toCRLF ends every line in CRLF: mail on the wire does (RFC 5322 §2.1),
// and signatures are computed on it so; files often keep LF alone.
func toCRLF(data []byte) []byte {
	n := bytes.Count(data, []byte("\n")) - bytes.Count(data, []byte("\r\n"))
	if n == 0 {
		return data
	}
	out := make([]byte, 0, len(data)+n)
	for i, c := range data {
		if c == '\n' && (i == 0 || data[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func firstLine(data []byte) string {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return strings.TrimRight(string(data), "\r")
}

// From is the author of the message (RFC 5322 §3.6.2).
type From struct {
	// Header is the From field's value as written (unfolded); Fields is
	// how many From fields the message has.
	Header string `json:"header"`
	Fields int    `json:"fields"`
	// Addresses are the addresses it names; Domain is the author domain,
	// the domain of the first.
	Addresses []string `json:"addresses"`
	Domain    string   `json:"domain"`
}

// addressParser decodes display names in any charset without judging
// them: only the addresses matter here.
var addressParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(charset string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// looseAddress finds an address where the list does not parse.
var looseAddress = regexp.MustCompile(`[^\s<>()",;:@]+@[A-Za-z0-9][A-Za-z0-9.-]*`)

// readFrom reads the From field and says what is wrong with it.
func readFrom(m *message) (From, []Finding) {
	fields := m.all("From")
	f := From{Fields: len(fields)}
	var out []Finding
	if len(fields) == 0 {
		return f, []Finding{{Severity: SeverityError, Code: "from-missing",
			Message: "the message has no From field (RFC 5322 §3.6 requires one): there is no author domain, so DMARC cannot be evaluated"}}
	}
	if len(fields) > 1 {
		out = append(out, Finding{Severity: SeverityError, Code: "from-several-fields",
			Message: fmt.Sprintf("the message has %d From fields (RFC 5322 §3.6 allows one); receivers may reject it outright; the first is used here", len(fields))})
	}
	f.Header = fields[0].Value()
	list, err := addressParser.ParseList(f.Header)
	if err != nil {
		for _, a := range looseAddress.FindAllString(f.Header, -1) {
			list = append(list, &mail.Address{Address: a})
		}
		out = append(out, Finding{Severity: SeverityWarning, Code: "from-syntax",
			Message: fmt.Sprintf("From %q does not parse as RFC 5322 addresses (%v); %d address(es) found in it anyway", clip(f.Header), err, len(list))})
	}
	domains := map[string]bool{}
	for _, a := range list {
		f.Addresses = append(f.Addresses, a.Address)
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			d := strings.TrimSuffix(strings.ToLower(a.Address[i+1:]), ".")
			if f.Domain == "" {
				f.Domain = d
			}
			domains[d] = true
		}
	}
	switch {
	case len(f.Addresses) == 0:
		out = append(out, Finding{Severity: SeverityError, Code: "from-no-address",
			Message: fmt.Sprintf("From %q names no address: there is no author domain, so DMARC cannot be evaluated", clip(f.Header))})
	case len(f.Addresses) > 1 && len(domains) > 1:
		out = append(out, Finding{Severity: SeverityError, Code: "from-several-domains",
			Message: fmt.Sprintf("From names %d addresses in %d domains; receivers may reject such a message or need every domain to pass DMARC; DMARC is evaluated here for the first, %s", len(f.Addresses), len(domains), f.Domain)})
	case len(f.Addresses) > 1:
		out = append(out, Finding{Severity: SeverityWarning, Code: "from-several-addresses",
			Message: fmt.Sprintf("From names %d addresses, all in %s; RFC 5322 then requires a Sender field", len(f.Addresses), f.Domain)})
	}
	return f, out
}
