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

	"github.com/mailtriage/mailtriage/internal/fieldlist"
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
	fields, leadingWSP, ok := fieldlist.Split(txt, version)
	if !ok {
		return nil, fmt.Errorf("%w: it begins %q, not %q", ErrNotTLSRPT, clip(txt), version)
	}
	r := &Record{}
	if leadingWSP {
		r.problem("v", true, "the record begins with white space; senders discard records that do not begin with \"v=TLSRPTv1;\" (RFC 8460 §3)")
	}
	seen := map[string]bool{}
	for _, f := range fields {
		r.field(f, seen)
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
	if !fieldlist.ValidName(name) {
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
		if !fieldlist.ValidValue(value) {
			r.problem(name, true, "the value of %s= is empty or holds spaces, control characters, ; or = (RFC 8460 §3)", name)
		}
		r.Extensions = append(r.Extensions, Extension{name, value})
	}
}

// rua reads the comma-separated report URIs (RFC 8460 §3, tlsrpt-rua).
func (r *Record) rua(value string) {
	for _, raw := range strings.Split(value, ",") {
		raw = fieldlist.TrimWSP(raw)
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

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
