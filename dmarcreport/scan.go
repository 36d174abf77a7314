package dmarcreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strconv"
	"unicode/utf8"
)

// The fast path. encoding/xml spends most of a report's parsing time on
// generality a report does not use (it reads byte by byte, and allocates
// each name). scanAggregate reads the subset of XML that reporters write,
// a declaration, comments, elements with quoted attributes, text with the
// predefined and numeric references, straight from the bytes, and feeds
// the same aggParser as decodeAggregate. On anything else (a DOCTYPE,
// CDATA, an unknown entity, a syntax error) and on any error it gives up,
// and decodeAggregate reads the report again and is the one to judge it.
// FuzzScanAggregate checks that both agree on what the fast path accepts.

// errSlowPath means the document leaves the subset the fast path reads.
var errSlowPath = errors.New("dmarcreport: leave it to encoding/xml")

// scanAggregate reads a UTF-8 document with the fast path.
func scanAggregate(data []byte) (*Aggregate, error) {
	s := scanner{data: data}
	p := &aggParser{a: &Aggregate{}}
	for {
		t, err := s.next()
		if err != nil {
			return nil, err
		}
		var done bool
		switch t.kind {
		case startTok:
			err = p.startElement(xml.StartElement{Name: t.name, Attr: t.attr})
		case endTok:
			done, err = p.endElement(t.name)
		case textTok:
			err = p.charData(t.text)
		}
		if err != nil {
			return nil, err
		}
		if done {
			if err := p.finish(); err != nil {
				return nil, err
			}
			return p.a, nil
		}
	}
}

// token is what the scanner read. It is not an xml.Token: putting each
// token in an interface would allocate it.
type token struct {
	kind int
	name xml.Name
	attr []xml.Attr
	text []byte
}

const (
	startTok = iota + 1
	endTok
	textTok
)

type scanner struct {
	data       []byte
	i          int
	pendingEnd bool // a self-closing element's end is due
	name       xml.Name
	text       []byte // scratch for text with references
}

// next returns the next token: StartElement, EndElement or CharData.
func (s *scanner) next() (token, error) {
	if s.pendingEnd {
		s.pendingEnd = false
		return token{kind: endTok, name: s.name}, nil
	}
	for s.i < len(s.data) {
		if s.data[s.i] != '<' {
			return s.chars()
		}
		rest := s.data[s.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			if !s.procInst() {
				return token{}, errSlowPath
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			// XML forbids "--" inside a comment.
			j := bytes.Index(rest[4:], []byte("--"))
			if j < 0 || !bytes.HasPrefix(rest[4+j:], []byte("-->")) {
				return token{}, errSlowPath
			}
			s.i += 4 + j + 3
		case bytes.HasPrefix(rest, []byte("</")):
			return s.end()
		case bytes.HasPrefix(rest, []byte("<!")):
			return token{}, errSlowPath // DOCTYPE, CDATA
		default:
			return s.start()
		}
	}
	return token{}, errSlowPath // the end of the data inside the document
}

// procInst skips "<?target ...?>". The XML declaration must say version
// 1.0 if it says one, as encoding/xml requires.
func (s *scanner) procInst() bool {
	s.i += 2
	target, ok := s.readName()
	if !ok || target.Space != "" {
		return false
	}
	j := bytes.Index(s.data[s.i:], []byte("?>"))
	if j < 0 {
		return false
	}
	content := s.data[s.i : s.i+j]
	s.i += j + 2
	if len(content) > 0 && !isSpace(content[0]) {
		return false
	}
	if target.Local != "xml" {
		return true
	}
	if v, ok := pseudoAttr(content, "version"); ok && v != "1.0" {
		return false
	}
	v, ok := pseudoAttr(content, "encoding")
	return !ok || isUTF8(v)
}

// pseudoAttr returns the value of name="value" in an XML declaration.
func pseudoAttr(content []byte, name string) (string, bool) {
	_, v, ok := bytes.Cut(content, []byte(name))
	if !ok {
		return "", false
	}
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 || v[0] != '=' {
		return "", true
	}
	v = bytes.TrimLeft(v[1:], " \t\r\n")
	if len(v) == 0 || v[0] != '"' && v[0] != '\'' {
		return "", true
	}
	val, _, _ := bytes.Cut(v[1:], v[:1])
	return string(val), true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// chars reads text up to the next "<".
func (s *scanner) chars() (token, error) {
	j := bytes.IndexByte(s.data[s.i:], '<')
	if j < 0 {
		j = len(s.data) - s.i
	}
	t := s.data[s.i : s.i+j]
	s.i += j
	if bytes.IndexByte(t, '&') < 0 && bytes.IndexByte(t, '\r') < 0 {
		return token{kind: textTok, text: t}, nil
	}
	out, ok := unescape(s.text[:0], t)
	if !ok {
		return token{}, errSlowPath
	}
	s.text = out
	return token{kind: textTok, text: out}, nil
}

// end reads "</name>".
func (s *scanner) end() (token, error) {
	s.i += 2
	name, ok := s.readName()
	if !ok {
		return token{}, errSlowPath
	}
	s.skipSpace()
	if s.i >= len(s.data) || s.data[s.i] != '>' {
		return token{}, errSlowPath
	}
	s.i++
	return token{kind: endTok, name: name}, nil
}

// start reads "<name attr='v' ...>" or "<name .../>".
func (s *scanner) start() (token, error) {
	s.i++
	name, ok := s.readName()
	if !ok {
		return token{}, errSlowPath
	}
	var attrs []xml.Attr
	for {
		sp := s.skipSpace()
		if s.i >= len(s.data) {
			return token{}, errSlowPath
		}
		switch s.data[s.i] {
		case '>':
			s.i++
			return token{kind: startTok, name: name, attr: attrs}, nil
		case '/':
			if s.i+1 >= len(s.data) || s.data[s.i+1] != '>' {
				return token{}, errSlowPath
			}
			s.i += 2
			s.pendingEnd, s.name = true, name
			return token{kind: startTok, name: name, attr: attrs}, nil
		}
		if !sp {
			return token{}, errSlowPath
		}
		a, ok := s.attr()
		if !ok {
			return token{}, errSlowPath
		}
		attrs = append(attrs, a)
	}
}

// attr reads name="value" or name='value'.
func (s *scanner) attr() (xml.Attr, bool) {
	name, ok := s.readName()
	if !ok {
		return xml.Attr{}, false
	}
	s.skipSpace()
	if s.i >= len(s.data) || s.data[s.i] != '=' {
		return xml.Attr{}, false
	}
	s.i++
	s.skipSpace()
	if s.i >= len(s.data) || s.data[s.i] != '"' && s.data[s.i] != '\'' {
		return xml.Attr{}, false
	}
	q := s.data[s.i]
	j := bytes.IndexByte(s.data[s.i+1:], q)
	if j < 0 {
		return xml.Attr{}, false
	}
	raw := s.data[s.i+1 : s.i+1+j]
	s.i += j + 2
	if bytes.IndexByte(raw, '<') >= 0 {
		return xml.Attr{}, false
	}
	v, ok := unescape(nil, raw)
	if !ok || bytes.ContainsAny(v, "\t\n") {
		// encoding/xml keeps white space in values as written; the
		// XML rules normalize it. Leave such values to it.
		return xml.Attr{}, false
	}
	return xml.Attr{Name: name, Value: string(v)}, true
}

// skipSpace skips XML white space and says whether there was any.
func (s *scanner) skipSpace() bool {
	start := s.i
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
			continue
		}
		break
	}
	return s.i > start
}

// readName reads a name, split at its prefix as RawToken does.
func (s *scanner) readName() (xml.Name, bool) {
	start := s.i
	for s.i < len(s.data) && isNameByte(s.data[s.i], s.i == start) {
		s.i++
	}
	b := s.data[start:s.i]
	if len(b) == 0 {
		return xml.Name{}, false
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return xml.Name{}, false // leave the rules for letters to encoding/xml
		}
	}
	if k := bytes.IndexByte(b, ':'); k >= 0 {
		if k == 0 || k == len(b)-1 || bytes.IndexByte(b[k+1:], ':') >= 0 {
			return xml.Name{}, false
		}
		return xml.Name{Space: intern(b[:k]), Local: intern(b[k+1:])}, true
	}
	return xml.Name{Local: intern(b)}, true
}

// intern returns the elements of the schema without allocating.
func intern(b []byte) string {
	switch string(b) {
	case "feedback":
		return "feedback"
	case "version":
		return "version"
	case "report_metadata":
		return "report_metadata"
	case "org_name":
		return "org_name"
	case "email":
		return "email"
	case "extra_contact_info":
		return "extra_contact_info"
	case "report_id":
		return "report_id"
	case "date_range":
		return "date_range"
	case "begin":
		return "begin"
	case "end":
		return "end"
	case "policy_published":
		return "policy_published"
	case "domain":
		return "domain"
	case "record":
		return "record"
	case "row":
		return "row"
	case "source_ip":
		return "source_ip"
	case "count":
		return "count"
	case "policy_evaluated":
		return "policy_evaluated"
	case "disposition":
		return "disposition"
	case "dkim":
		return "dkim"
	case "spf":
		return "spf"
	case "identifiers":
		return "identifiers"
	case "header_from":
		return "header_from"
	case "envelope_from":
		return "envelope_from"
	case "auth_results":
		return "auth_results"
	case "selector":
		return "selector"
	case "result":
		return "result"
	case "scope":
		return "scope"
	}
	return string(b)
}

// unescape appends t to out with its references replaced and its line
// ends made "\n", as encoding/xml does. It fails on a reference it does not
// know, which strict XML refuses.
func unescape(out, t []byte) ([]byte, bool) {
	for len(t) > 0 {
		c := t[0]
		switch c {
		case '\r':
			out = append(out, '\n')
			t = t[1:]
			if len(t) > 0 && t[0] == '\n' {
				t = t[1:]
			}
			continue
		case '&':
		default:
			out = append(out, c)
			t = t[1:]
			continue
		}
		semi := bytes.IndexByte(t, ';')
		if semi < 0 {
			return nil, false
		}
		ref := string(t[1:semi])
		t = t[semi+1:]
		switch ref {
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "amp":
			out = append(out, '&')
		case "apos":
			out = append(out, '\'')
		case "quot":
			out = append(out, '"')
		default:
			r, ok := charRef(ref)
			if !ok {
				return nil, false
			}
			out = utf8.AppendRune(out, r)
		}
	}
	return out, true
}

// charRef reads "#123" or "#x7B" as a character XML allows.
func charRef(ref string) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || digits == "" || digits[0] == '+' {
		return 0, false
	}
	r := rune(n)
	switch {
	case r == '\t', r == '\n', r == '\r', r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return r, true
	}
	return 0, false
}
