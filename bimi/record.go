// Package bimi reads BIMI assertion records (Brand Indicators for Message
// Identification, draft-brand-indicators-for-message-identification, here
// draft 10 of September 2025): the TXT record at
// <selector>._bimi.<domain> that names the logo a domain wants shown next
// to its mail and the mark certificate that proves its right to it. Mail
// uses the selector "default" unless a BIMI-Selector header names another
// (draft §4.4, §5.1).
//
// Only the record is read here. Whether a receiver shows the logo also
// depends on DMARC at enforcement (p=quarantine or reject, draft §2), the
// SVG profile and the certificate, none of which this package checks.
package bimi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultSelector is the selector of the record mail uses when it has no
// BIMI-Selector header (draft §4.4).
const DefaultSelector = "default"

// Problem is something wrong or noteworthy in a record.
type Problem struct {
	Tag     string `json:"tag,omitempty"` // the tag concerned, if any
	Error   bool   `json:"error"`         // true: receivers may ignore the record; false: a note
	Message string `json:"message"`
}

// Record is a parsed BIMI assertion record.
type Record struct {
	// Location is l=, the https URL of the logo, an SVG file; "" when
	// empty or absent. It is as written; Problems say whether receivers
	// will accept it.
	Location string
	// Evidence is a=, the https URL of the mark certificate (a VMC or CMC,
	// in PEM); "" when empty or absent.
	Evidence string
	// Declined is true when l= and a= are both empty: the domain declines
	// to show a logo (draft §4.3.1).
	Declined bool
	// LocalPartSelectors is lps=true: receivers look for a record under
	// a selector made from the sender's local-part first (draft §4.5).
	LocalPartSelectors bool
	// AvatarPreference is avp=: "brand" (the default) to prefer the logo,
	// "personal" to prefer a sender's own avatar (draft §4.3).
	AvatarPreference string
	Problems         []Problem
}

// ErrNotBIMI means the text is not a BIMI record: it does not begin with
// v=BIMI1, so receivers ignore it (draft §4.3).
var ErrNotBIMI = errors.New("bimi: not a BIMI record")

type tag struct{ name, value string }

// Parse reads a BIMI assertion record, the strings of a multi-string
// record joined. It fails only when the text does not begin with v=BIMI1;
// everything else is a Problem. Unknown tags are ignored, as receivers
// must (draft §4.3).
func Parse(txt string) (*Record, error) {
	parts := strings.Split(txt, ";")
	// "It MUST be the first tag in the list" and match precisely (§4.3).
	if v, ok := readTag(parts[0]); !ok || v.name != "v" || v.value != "BIMI1" {
		return nil, fmt.Errorf("%w: it does not begin with v=BIMI1 (it begins %q)", ErrNotBIMI, clip(txt))
	}
	r := &Record{AvatarPreference: "brand"}
	seen := map[string]bool{}
	for _, part := range parts[1:] {
		if strings.TrimSpace(part) == "" {
			continue
		}
		t, ok := readTag(part)
		if !ok {
			r.problem("", true, "%q is not a tag=value pair (RFC 6376 §3.2)", clip(strings.TrimSpace(part)))
			continue
		}
		if seen[t.name] {
			// BIMI uses the tag lists of DKIM, RFC 6376 §3.2: "Tags with
			// duplicate names MUST NOT occur".
			r.problem(t.name, true, "tag %s= appears more than once, which makes the record invalid (RFC 6376 §3.2); the first counts", t.name)
			continue
		}
		seen[t.name] = true
		r.tag(t)
	}
	r.summarize(seen["l"])
	return r, nil
}

// summarize says what the l= and a= tags together mean (draft §4.3.1).
func (r *Record) summarize(haveL bool) {
	switch {
	case !haveL:
		r.problem("l", true, "no l= tag; it is required, empty to decline to publish a logo (draft §4.3)")
	case r.Location == "" && r.Evidence == "":
		r.Declined = true
	case r.Location == "":
		r.problem("l", false, "l= is empty but a= is set: receivers that support it take the logo from the certificate; others show none")
	case r.Evidence == "":
		r.problem("a", false, "no a= mark certificate: Gmail and Apple Mail, like most large mailbox providers, show a BIMI logo only with a Verified or Common Mark Certificate; a few (such as Yahoo) may show it without one")
	}
}

// readTag reads "name=value". White space around both is dropped: the
// grammar allows it around "=" and the URIs (draft §4.3, RFC 6376 §3.2).
func readTag(part string) (tag, bool) {
	name, value, ok := strings.Cut(part, "=")
	return tag{strings.TrimSpace(name), strings.TrimSpace(value)}, ok
}

func (r *Record) problem(tag string, isErr bool, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Tag: tag, Error: isErr, Message: fmt.Sprintf(format, args...)})
}

func (r *Record) tag(t tag) {
	switch t.name {
	case "l":
		r.Location = t.value
		if t.value != "" {
			r.checkURL("l", t.value, []string{".svg", ".svgz"},
				"is not an SVG file: only SVG and SVGZ logos are allowed, and receivers treat anything else as a permanent error (draft §4.3.2)", true)
		}
	case "a":
		r.Evidence = t.value
		if t.value != "" {
			r.checkURL("a", t.value, []string{".pem"},
				"does not end in .pem; mark certificates are published as PEM files", false)
		}
	case "lps":
		switch t.value {
		case "true":
			r.LocalPartSelectors = true
		case "false":
		default:
			r.problem("lps", false, "lps=%s is not true or false; it is ignored (draft §4.3)", t.value)
		}
	case "avp":
		switch t.value {
		case "brand", "personal":
			r.AvatarPreference = t.value
		default:
			r.problem("avp", true, "avp=%s is not brand or personal; receivers ignore it or treat the record as failing (draft §4.3)", t.value)
		}
	}
}

// checkURL checks that the URL of tag is a single https URL on a domain
// name (draft §4.3) whose path ends in one of suffixes; if not, it reports
// suffixMsg at the level suffixErr.
func (r *Record) checkURL(tag, raw string, suffixes []string, suffixMsg string, suffixErr bool) {
	if strings.Contains(raw, ",") {
		r.problem(tag, true, "%s= holds a comma: it must be a single URI, with commas in it percent-encoded (draft §4.3)", tag)
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		r.problem(tag, true, "%s=%q is not a URL: %v", tag, raw, err)
		return
	}
	if u.Scheme != "https" {
		r.problem(tag, true, "%s=%q is not an https URL; https is the only transport (draft §4.3)", tag, raw)
		return
	}
	host := u.Hostname()
	if !strings.Contains(host, ".") || net.ParseIP(host) != nil {
		r.problem(tag, true, "%s=%q does not name a fully qualified domain (draft §4.3)", tag, raw)
		return
	}
	path := strings.ToLower(u.Path)
	for _, s := range suffixes {
		if strings.HasSuffix(path, s) {
			return
		}
	}
	r.problem(tag, suffixErr, "%s=%q %s", tag, raw, suffixMsg)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
