package spf

import (
	"fmt"
	"net/netip"
	"strings"
)

// Qualifier is the prefix of a mechanism, the result it gives when it
// matches (RFC 7208 §4.6.2). A mechanism written without one has
// QualifierPass.
type Qualifier byte

const (
	QualifierPass     Qualifier = '+'
	QualifierFail     Qualifier = '-'
	QualifierSoftfail Qualifier = '~'
	QualifierNeutral  Qualifier = '?'
)

// Status returns the result a matching mechanism with q gives.
func (q Qualifier) Status() Status {
	switch q {
	case QualifierFail:
		return Fail
	case QualifierSoftfail:
		return Softfail
	case QualifierNeutral:
		return Neutral
	}
	return Pass
}

// Kind tells mechanisms from modifiers.
type Kind uint8

const (
	Mechanism Kind = iota + 1 // all, include, a, mx, ptr, ip4, ip6, exists (§5)
	Modifier                  // redirect=, exp= and unknown ones (§6)
)

// Term is one mechanism or modifier of a record.
type Term struct {
	// Raw is the term as written; Pos is its byte offset in the record.
	Raw string
	Pos int
	// Kind says whether the term is a mechanism or a modifier.
	Kind Kind
	// Qualifier is the mechanism's qualifier, QualifierPass if none was
	// written; 0 for modifiers.
	Qualifier Qualifier
	// Name is the mechanism or modifier name in lower case: "all",
	// "include", "a", "mx", "ptr", "ip4", "ip6", "exists", "redirect",
	// "exp", or an unknown modifier's name (§6: kept, and ignored).
	Name string
	// Value is what follows the ":" or "=": the domain-spec, the network,
	// the modifier value, without a CIDR suffix; "" when absent.
	Value string
	// Prefix is the network of ip4 and ip6.
	Prefix netip.Prefix
	// V4Bits and V6Bits are the prefix lengths of a and mx
	// (dual-cidr-length, §5.6); 32 and 128 unless written.
	V4Bits, V6Bits int

	spec *macroString // the parsed domain-spec or modifier value
}

// HasMacros reports whether the term's domain-spec uses macros (§7), so
// its target depends on the sender, the IP or the domain checked.
func (t *Term) HasMacros() bool { return t.spec != nil && t.spec.hasMacros() }

// Lookup reports whether evaluating the term costs a DNS lookup counted
// against the limit of 10 (§4.6.4).
func (t *Term) Lookup() bool {
	switch t.Name {
	case "include", "a", "mx", "ptr", "exists":
		return t.Kind == Mechanism
	case "redirect":
		return t.Kind == Modifier
	}
	return false
}

// Record is a parsed SPF record: its terms in order, with their text.
type Record struct {
	// Text is the record as parsed, version section included.
	Text  string
	Terms []Term
}

// Redirect returns the redirect= modifier, or nil.
func (r *Record) Redirect() *Term { return r.modifier("redirect") }

// Exp returns the exp= modifier, or nil.
func (r *Record) Exp() *Term { return r.modifier("exp") }

func (r *Record) modifier(name string) *Term {
	for i := range r.Terms {
		if t := &r.Terms[i]; t.Kind == Modifier && t.Name == name {
			return t
		}
	}
	return nil
}

// All returns the "all" mechanism, or nil.
func (r *Record) All() *Term {
	for i := range r.Terms {
		if t := &r.Terms[i]; t.Kind == Mechanism && t.Name == "all" {
			return t
		}
	}
	return nil
}

// Lookups returns the number of this record's own terms that cause DNS
// lookups (§4.6.4), not counting what includes and redirects bring in.
// A redirect in a record with "all" is never used (§6.1) and not counted.
func (r *Record) Lookups() int {
	n := 0
	all := r.All() != nil
	for i := range r.Terms {
		t := &r.Terms[i]
		if t.Lookup() && !(all && t.Name == "redirect") {
			n++
		}
	}
	return n
}

func (r *Record) String() string { return r.Text }

// SyntaxError is a term that does not follow the grammar of RFC 7208
// §4.6.1, §5, §6 and §7.1 (Appendix A). A record with one yields permerror.
type SyntaxError struct {
	Pos    int    // byte offset of the term in the record
	Term   string // the term as written
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("spf: syntax error at byte %d, term %q: %s", e.Pos, e.Term, e.Reason)
}

// IsSPF reports whether txt is an SPF record: it begins with "v=spf1",
// in any case, followed by a space or the end (§4.5).
func IsSPF(txt string) bool {
	return len(txt) >= 6 && strings.EqualFold(txt[:6], "v=spf1") && (len(txt) == 6 || txt[6] == ' ')
}

// Parse parses an SPF record (RFC 7208 §4.5, §4.6.1, §12). It returns
// ErrNotSPF for a text without the version "v=spf1". On syntax errors it
// returns the record with every term it could read and a *SyntaxError for
// the first bad term; Errors lists them all, for a diagnosis.
func Parse(record string) (*Record, error) {
	rec, errs := parse(record)
	if rec == nil {
		return nil, ErrNotSPF
	}
	if len(errs) > 0 {
		return rec, errs[0]
	}
	return rec, nil
}

// Errors returns every syntax error of record, in order; nil if it is
// valid or not an SPF record.
func Errors(record string) []*SyntaxError {
	_, errs := parse(record)
	return errs
}

func parse(record string) (*Record, []*SyntaxError) {
	if !IsSPF(record) {
		return nil, nil
	}
	rec := &Record{Text: record}
	var errs []*SyntaxError
	seen := map[string]bool{}
	for i := 6; i < len(record); {
		// Terms are separated by one or more spaces, and only by
		// spaces (§4.6.1; a tab or a newline is part of a term).
		if record[i] == ' ' {
			i++
			continue
		}
		end := strings.IndexByte(record[i:], ' ')
		if end < 0 {
			end = len(record)
		} else {
			end += i
		}
		t, err := parseTerm(record[i:end], i)
		if err == nil && t.Kind == Modifier && (t.Name == "redirect" || t.Name == "exp") {
			// §6: each MUST NOT appear more than once.
			if seen[t.Name] {
				err = t.errorf("%s= appears more than once (RFC 7208 §6)", t.Name)
			}
			seen[t.Name] = true
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			rec.Terms = append(rec.Terms, t)
		}
		i = end
	}
	return rec, errs
}

func (t *Term) errorf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: t.Pos, Term: t.Raw, Reason: fmt.Sprintf(format, args...)}
}

// parseTerm parses one term (§4.6.1): a modifier if it starts with a name
// and "=" before any ":" or "/", else a mechanism.
func parseTerm(s string, pos int) (Term, *SyntaxError) {
	t := Term{Raw: s, Pos: pos}
	if i := strings.IndexAny(s, "=:/"); i >= 0 && s[i] == '=' {
		t.Kind = Modifier
		return t, t.modifier(s[:i], s[i+1:])
	}
	t.Kind = Mechanism
	t.Qualifier = QualifierPass
	if s[0] == '+' || s[0] == '-' || s[0] == '~' || s[0] == '?' {
		t.Qualifier = Qualifier(s[0])
		s = s[1:]
	}
	i := strings.IndexAny(s, ":/")
	if i < 0 {
		i = len(s)
	}
	t.Name = strings.ToLower(s[:i])
	return t, t.mechanism(s[i:])
}

// modifier parses name=value (§6, Appendix A).
func (t *Term) modifier(name, value string) *SyntaxError {
	if !validName(name) {
		return t.errorf("invalid modifier name %q: a letter, then letters, digits, -, _ or . (RFC 7208 §6)", name)
	}
	t.Name = strings.ToLower(name)
	t.Value = value
	switch t.Name {
	case "redirect", "exp":
		ms, err := parseDomainSpec(value)
		if err != nil {
			return t.errorf("%s=: %v", t.Name, err)
		}
		t.spec = ms
	default:
		// unknown-modifier = name "=" macro-string: kept, not evaluated,
		// but its macros must be valid (Appendix A).
		ms, err := parseMacroString(value, false)
		if err != nil {
			return t.errorf("modifier %s: %v", t.Name, err)
		}
		t.spec = ms
	}
	return nil
}

// validName reports whether s is a modifier name:
// ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
func validName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// mechanism parses what follows a mechanism's name (§5).
func (t *Term) mechanism(rest string) *SyntaxError {
	switch t.Name {
	case "all":
		// §5.1: all = "all", nothing after it.
		if rest != "" {
			return t.errorf(`"all" takes no argument (RFC 7208 §5.1)`)
		}
	case "include", "exists":
		// §5.2, §5.7: include = "include" ":" domain-spec.
		if !strings.HasPrefix(rest, ":") {
			return t.errorf("%s needs :domain (RFC 7208 §5)", t.Name)
		}
		t.Value = rest[1:]
		ms, err := parseDomainSpec(t.Value)
		if err != nil {
			return t.errorf("%s: %v", t.Name, err)
		}
		t.spec = ms
	case "ptr":
		// §5.5: ptr = "ptr" [ ":" domain-spec ].
		if rest == "" {
			return nil
		}
		if rest[0] != ':' {
			return t.errorf("ptr takes :domain and no prefix length (RFC 7208 §5.5)")
		}
		t.Value = rest[1:]
		ms, err := parseDomainSpec(t.Value)
		if err != nil {
			return t.errorf("ptr: %v", err)
		}
		t.spec = ms
	case "a", "mx":
		// §5.3, §5.4: a = "a" [ ":" domain-spec ] [ dual-cidr-length ].
		t.V4Bits, t.V6Bits = 32, 128
		spec, v4, v6 := splitDualCIDR(rest)
		if v4 != "" {
			n, ok := cidrLength(v4, 32)
			if !ok {
				return t.errorf("invalid IPv4 prefix length /%s: 0 to 32, no leading zero (RFC 7208 §5.6)", v4)
			}
			t.V4Bits = n
		}
		if v6 != "" {
			n, ok := cidrLength(v6, 128)
			if !ok {
				return t.errorf("invalid IPv6 prefix length //%s: 0 to 128, no leading zero (RFC 7208 §5.6)", v6)
			}
			t.V6Bits = n
		}
		if spec == "" {
			return nil
		}
		if spec[0] != ':' {
			return t.errorf("%s takes :domain, /ip4-length and //ip6-length (RFC 7208 §5.6)", t.Name)
		}
		t.Value = spec[1:]
		ms, err := parseDomainSpec(t.Value)
		if err != nil {
			return t.errorf("%s: %v", t.Name, err)
		}
		t.spec = ms
	case "ip4", "ip6":
		// §5.6: ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ].
		if !strings.HasPrefix(rest, ":") {
			return t.errorf("%s needs :network (RFC 7208 §5.6)", t.Name)
		}
		network, length, hasLength := strings.Cut(rest[1:], "/")
		t.Value = network
		addr, err := netip.ParseAddr(network)
		max := 32
		if t.Name == "ip6" {
			max = 128
		}
		switch {
		case err != nil:
			return t.errorf("invalid %s network %q (RFC 7208 §5.6)", t.Name, network)
		case t.Name == "ip4" && !addr.Is4():
			return t.errorf("ip4 needs an IPv4 address, not %q (RFC 7208 §5.6)", network)
		case t.Name == "ip6" && (!addr.Is6() || addr.Zone() != ""):
			return t.errorf("ip6 needs an IPv6 address, not %q (RFC 7208 §5.6)", network)
		}
		bits := max
		if hasLength {
			n, ok := cidrLength(length, max)
			if !ok {
				return t.errorf("invalid prefix length /%s: 0 to %d, no leading zero (RFC 7208 §5.6)", length, max)
			}
			bits = n
		}
		t.Prefix = netip.PrefixFrom(addr, bits)
	default:
		if t.Name == "" {
			return t.errorf("empty mechanism")
		}
		return t.errorf("unknown mechanism %q (RFC 7208 §5)", t.Name)
	}
	return nil
}

// splitDualCIDR splits "[:domain-spec][/n][//m]" into its parts. A
// domain-spec ends in a toplabel or a macro, never in "/digits", so the
// lengths can be taken from the end.
func splitDualCIDR(s string) (spec, v4, v6 string) {
	end := len(s)
	j := end
	for j > 0 && isDigit(s[j-1]) {
		j--
	}
	if j < end && j >= 2 && s[j-1] == '/' && s[j-2] == '/' {
		v6, end = s[j:end], j-2
	}
	j = end
	for j > 0 && isDigit(s[j-1]) {
		j--
	}
	if j < end && j >= 1 && s[j-1] == '/' {
		v4, end = s[j:end], j-1
	}
	return s[:end], v4, v6
}

// cidrLength parses a prefix length: "0" or a number without leading
// zero, at most max (ip4-cidr-length, ip6-cidr-length).
func cidrLength(s string, max int) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= max
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
