// Package tlsrpt reads SMTP TLS Reporting (RFC 8460): the TXT record at
// _smtp._tls.<domain> (§3) that tells sending MTAs where to report their
// failures to set up TLS with the domain's MX hosts, under STARTTLS, MTA-STS
// or DANE, and the JSON reports they send there (§4).
//
// Report destinations are mailto: or https: URIs (§3). Unlike DMARC's,
// they carry no "!10m" size limit: RFC 8460 requires "!", "," and ";" in a
// URI to be percent-encoded. Parsing is lenient and says what it forgave
// in Problems; senders that follow the RFC treat a record with an
// error-level Problem as no record.
package tlsrpt

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Problem is something wrong or noteworthy in a record.
type Problem struct {
	Tag     string `json:"tag,omitempty"` // the field concerned, if any
	Error   bool   `json:"error"`         // true: senders may ignore the record or the destination; false: a note
	Message string `json:"message"`
}

// Extension is a field this package does not know. RFC 8460 §3 allows them;
// senders ignore them.
type Extension struct {
	Name, Value string
}

// URI is one usable report destination of rua=.
type URI struct {
	Raw     string // as written
	Scheme  string // "mailto" or "https"
	Address string // the mailbox, for mailto URIs
	Domain  string // the mailbox's domain or the URL's host, lower case
}

// Record is a parsed TLSRPT record.
type Record struct {
	RUA        []URI // the usable destinations; those that are not are Problems
	Extensions []Extension
	Problems   []Problem
}

// ErrNotTLSRPT means the text is not a TLSRPT record: it does not begin
// with "v=TLSRPTv1" (RFC 8460 §3), so senders discard it.
var ErrNotTLSRPT = errors.New("tlsrpt: not a TLSRPT record")

const version = "v=TLSRPTv1"

// Parse reads the TXT record at _smtp._tls.<domain>, the strings of a
// multi-string record joined. It fails only when the text does not begin
// with v=TLSRPTv1; everything else is a Problem.
func Parse(txt string) (*Record, error) {
	fields := strings.Split(txt, ";")
	if trimWSP(fields[0]) != version {
		return nil, fmt.Errorf("%w: it begins %q, not %q", ErrNotTLSRPT, clip(txt), version)
	}
	r := &Record{}
	if !strings.HasPrefix(txt, version) {
		r.problem("v", true, "the record begins with white space; senders discard records that do not begin with \"v=TLSRPTv1;\" (RFC 8460 §3)")
	}
	rest := fields[1:]
	// The grammar allows one delimiter after the last field.
	if n := len(rest); n > 0 && trimWSP(rest[n-1]) == "" {
		rest = rest[:n-1]
	}
	seen := map[string]bool{}
	for _, f := range rest {
		r.field(trimWSP(f), seen)
	}
	if !seen["rua"] {
		r.problem("rua", true, "no rua= field: RFC 8460 §3 requires one, and senders have nowhere to send reports")
	}
	return r, nil
}

func (r *Record) problem(tag string, isErr bool, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Tag: tag, Error: isErr, Message: fmt.Sprintf(format, args...)})
}

// field reads one name=value field (RFC 8460 §3).
func (r *Record) field(f string, seen map[string]bool) {
	if f == "" {
		r.problem("", true, "empty field (\";;\"), which the grammar of RFC 8460 §3 does not allow")
		return
	}
	name, value, ok := strings.Cut(f, "=")
	if !ok {
		r.problem("", true, "%q is not a name=value field (RFC 8460 §3)", f)
		return
	}
	if !validName(name) {
		r.problem("", true, "%q is not a valid field name: a letter or digit, then at most 31 letters, digits, _, - or . (RFC 8460 §3)", name)
		return
	}
	dup := seen[name]
	seen[name] = true
	switch {
	case name == "rua" && dup:
		r.problem("rua", true, "rua= appears more than once; RFC 8460 §3 allows it once, with several URIs separated by commas")
	case name == "rua":
		r.rua(value)
	default:
		if !validValue(value) {
			r.problem(name, true, "the value of %s= is empty or holds spaces, control characters, ; or = (RFC 8460 §3)", name)
		}
		r.Extensions = append(r.Extensions, Extension{name, value})
	}
}

// rua reads the comma-separated report URIs (RFC 8460 §3, tlsrpt-rua).
func (r *Record) rua(value string) {
	for _, raw := range strings.Split(value, ",") {
		raw = trimWSP(raw)
		if raw == "" {
			r.problem("rua", true, "rua= has an empty URI (a stray comma?)")
			continue
		}
		if u, ok := r.uri(raw); ok {
			r.RUA = append(r.RUA, u)
		}
	}
}

// uri reads one report URI, which must be mailto: or https: (RFC 8460 §3).
func (r *Record) uri(raw string) (URI, bool) {
	if strings.Contains(raw, "!") {
		// DMARC's "mailto:a@example.com!10m" does not exist here.
		r.problem("rua", true, "report URI %q holds a \"!\", which must be percent-encoded (RFC 8460 §3); TLSRPT has no DMARC-style size limit", raw)
		return URI{}, false
	}
	scheme, rest, _ := strings.Cut(raw, ":")
	switch strings.ToLower(scheme) {
	case "mailto":
		return r.mailto(raw, rest)
	case "https":
		return r.https(raw)
	}
	r.problem("rua", true, "report URI %q is not mailto: or https:, the only schemes of RFC 8460 §3; senders will not report there", raw)
	return URI{}, false
}

func (r *Record) mailto(raw, rest string) (URI, bool) {
	// Headers after "?" (RFC 6068) do not name the mailbox.
	addr, _, _ := strings.Cut(rest, "?")
	addr, err := url.PathUnescape(addr)
	if err != nil {
		r.problem("rua", true, "report URI %q: bad percent-encoding: %v", raw, err)
		return URI{}, false
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		r.problem("rua", true, "report URI %q: %q is not a mail address", raw, addr)
		return URI{}, false
	}
	domain := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	return URI{Raw: raw, Scheme: "mailto", Address: a.Address, Domain: strings.ToLower(domain)}, true
}

func (r *Record) https(raw string) (URI, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		r.problem("rua", true, "report URI %q is not an https URL with a host", raw)
		return URI{}, false
	}
	return URI{Raw: raw, Scheme: "https", Domain: strings.ToLower(u.Hostname())}, true
}

// validName reports whether s is a tlsrpt-ext-name (RFC 8460 §3).
func validName(s string) bool {
	if s == "" || len(s) > 32 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// validValue reports whether s is a tlsrpt-ext-value: printable ASCII
// without space, ";" or "=" (RFC 8460 §3).
func validValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ';' || c == '=' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// trimWSP removes the WSP (space and tab) of RFC 5234 around s.
func trimWSP(s string) string {
	return strings.Trim(s, " \t")
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
