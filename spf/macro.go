package spf

import (
	"fmt"
	"strings"
)

// macroString is a parsed macro-string (RFC 7208 §7.1): literal text and
// macro-expands in order.
type macroString struct {
	parts []macroPart
}

// macroPart is a literal (letter 0) or a macro-expand "%{...}".
type macroPart struct {
	literal string
	letter  byte // lower case: s l o d i p v h c r t
	upper   bool // written in upper case: URL-escape the value (§7.3)
	digits  int  // keep this many right-hand parts; 0 keeps all
	reverse bool
	delims  string // split on these; "" means "."
}

func (m *macroString) hasMacros() bool {
	for _, p := range m.parts {
		if p.letter != 0 {
			return true
		}
	}
	return false
}

// letters returns the macro letters used, in order, without repeats.
func (m *macroString) letters() string {
	var b []byte
	for _, p := range m.parts {
		if p.letter != 0 && strings.IndexByte(string(b), p.letter) < 0 {
			b = append(b, p.letter)
		}
	}
	return string(b)
}

// parseDomainSpec parses a domain-spec (§7.1): a macro-string that ends in
// "." toplabel [ "." ] or in a macro-expand.
func parseDomainSpec(s string) (*macroString, error) {
	if s == "" {
		return nil, fmt.Errorf("empty domain")
	}
	ms, err := parseMacroString(s, false)
	if err != nil {
		return nil, err
	}
	// The literal text after the last macro-expand.
	tail := literalTail(s)
	if tail == "" {
		return ms, nil // ends in a macro-expand
	}
	t := strings.TrimSuffix(tail, ".")
	i := strings.LastIndexByte(t, '.')
	if i < 0 {
		return nil, fmt.Errorf("domain %q must end in .toplabel or a macro (RFC 7208 §7.1)", s)
	}
	if !validTopLabel(t[i+1:]) {
		return nil, fmt.Errorf("domain %q ends in an invalid toplabel %q: letters, digits and inner dashes, not all digits (RFC 7208 §7.1)", s, t[i+1:])
	}
	return ms, nil
}

// literalTail returns the text of s after its last macro-expand ("%{...}",
// "%%", "%_", "%-"); s is a valid macro-string.
func literalTail(s string) string {
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if s[i+1] == '{' {
			i += strings.IndexByte(s[i:], '}')
		} else {
			i++
		}
		last = i + 1
	}
	return s[last:]
}

// validTopLabel: ( *alphanum ALPHA *alphanum ) /
// ( 1*alphanum "-" *( alphanum / "-" ) alphanum ).
func validTopLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	alpha, dash := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isAlpha(c):
			alpha = true
		case c == '-':
			dash = true
		case !isDigit(c):
			return false
		}
	}
	return alpha || dash
}

// parseMacroString parses a macro-string (§7.1), or with exp an
// explain-string (§6.2), which may hold spaces and the letters c, r, t.
func parseMacroString(s string, exp bool) (*macroString, error) {
	ms := &macroString{}
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			ms.parts = append(ms.parts, macroPart{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			// macro-literal = %x21-24 / %x26-7E; SP only in explanations.
			if c < 0x21 && !(exp && c == ' ') || c > 0x7e {
				return nil, fmt.Errorf("invalid character %s at %d: SPF records are printable 7-bit ASCII (RFC 7208 §3.1, §7.1)", quoteByte(c), i)
			}
			lit.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("%q at the end: use %%%% for a percent sign (RFC 7208 §7.1)", "%")
		}
		switch s[i+1] {
		case '%':
			lit.WriteByte('%')
		case '_':
			lit.WriteByte(' ')
		case '-':
			lit.WriteString("%20")
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("macro %q has no closing } (RFC 7208 §7.1)", s[i:])
			}
			p, err := parseMacro(s[i+2:i+end], exp)
			if err != nil {
				return nil, err
			}
			flush()
			ms.parts = append(ms.parts, p)
			i += end
			continue
		default:
			return nil, fmt.Errorf("%q: %% must be followed by {, %%, _ or - (RFC 7208 §7.1)", s[i:i+2])
		}
		i++
	}
	flush()
	return ms, nil
}

// quoteByte shows a byte in a message: quoted if ASCII, else in hex.
func quoteByte(c byte) string {
	if c < 0x80 {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("0x%02X", c)
}

// parseMacro parses the inside of "%{...}":
// macro-letter transformers *delimiter, transformers = *DIGIT [ "r" ].
func parseMacro(s string, exp bool) (macroPart, error) {
	var p macroPart
	if s == "" {
		return p, fmt.Errorf("empty macro %%{} (RFC 7208 §7.1)")
	}
	l := s[0]
	p.upper = l >= 'A' && l <= 'Z'
	if p.upper {
		l += 'a' - 'A'
	}
	switch l {
	case 's', 'l', 'o', 'd', 'i', 'p', 'v', 'h':
	case 'c', 'r', 't':
		if !exp {
			return p, fmt.Errorf("macro %%{%s}: the letters c, r and t are allowed only in explanations (RFC 7208 §7.1)", s)
		}
	default:
		return p, fmt.Errorf("macro %%{%s}: unknown letter %s (RFC 7208 §7.1)", s, quoteByte(s[0]))
	}
	i := 1
	digits := false
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits = true
		if p.digits <= 255 {
			p.digits = p.digits*10 + int(s[i]-'0')
		}
	}
	if digits && p.digits == 0 {
		return p, fmt.Errorf("macro %%{%s}: the number of parts must not be zero (RFC 7208 §7.3)", s)
	}
	if i < len(s) && (s[i] == 'r' || s[i] == 'R') {
		p.reverse = true
		i++
	}
	for ; i < len(s); i++ {
		if strings.IndexByte(".-+,/_=", s[i]) < 0 {
			return p, fmt.Errorf("macro %%{%s}: invalid delimiter %s (RFC 7208 §7.1)", s, quoteByte(s[i]))
		}
		p.delims += s[i : i+1]
	}
	p.letter = l
	return p, nil
}

// macroValues gives the values of the macro letters (§7.3).
type macroValues interface {
	macroValue(letter byte) (string, error)
}

// expand expands ms with the values of v.
func (ms *macroString) expand(v macroValues) (string, error) {
	var b strings.Builder
	for _, p := range ms.parts {
		if p.letter == 0 {
			b.WriteString(p.literal)
			continue
		}
		val, err := v.macroValue(p.letter)
		if err != nil {
			return "", err
		}
		val = p.transform(val)
		if p.upper {
			val = urlEscape(val)
		}
		b.WriteString(val)
	}
	return b.String(), nil
}

// transform splits the value on the delimiters, reverses the parts if
// asked, keeps the right-hand ones asked for, and joins them with dots
// (§7.3).
func (p macroPart) transform(val string) string {
	if p.digits == 0 && !p.reverse && (p.delims == "" || p.delims == ".") {
		return val
	}
	delims := p.delims
	if delims == "" {
		delims = "."
	}
	parts := splitAny(val, delims)
	if p.reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if p.digits > 0 && p.digits < len(parts) {
		parts = parts[len(parts)-p.digits:]
	}
	return strings.Join(parts, ".")
}

// splitAny splits s at every byte in delims, keeping empty parts.
func splitAny(s, delims string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(delims, s[i]) >= 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// urlEscape escapes every byte outside the unreserved set of RFC 3986
// (ALPHA DIGIT - . _ ~), as upper-case macros ask (§7.3).
func urlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
