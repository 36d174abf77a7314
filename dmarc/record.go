// Package dmarc reads DMARC policy records and finds the one that governs
// a domain: the record syntax of RFC 9989 (DMARCbis, which replaced
// RFC 7489 in 2026: np, psd and t added; pct, rf and ri removed), the
// policy discovery by DNS tree walk of RFC 9989 §4.10, and, for comparison,
// the Public Suffix List method of RFC 7489 §6.6.3, which many receivers
// still use.
//
// Parsing is lenient where the RFC says receivers must be (unknown tags are
// ignored) and says so in Problems, so a check can tell a user what a strict
// receiver would do with the record.
package dmarc

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
)

// Policy is a requested handling of failing mail (RFC 9989 §4.7, "p").
type Policy string

const (
	None       Policy = "none"
	Quarantine Policy = "quarantine"
	Reject     Policy = "reject"
)

// Record is a parsed DMARC record. Tags left out hold their defaults, and
// Explicit says which were written.
type Record struct {
	Policy          Policy // p
	SubdomainPolicy Policy // sp; defaults to p
	NonexistentPol  Policy // np (RFC 9989); defaults to sp
	PSD             string // psd: "y", "n" or "u" (the default)
	Testing         bool   // t=y (RFC 9989): the policy is being tested
	// PolicyInvalid: p, sp or np was missing or invalid, so receivers
	// read the record as p=none.
	PolicyInvalid bool
	ADKIM, ASPF   string // "r" (relaxed, the default) or "s" (strict)
	RUA, RUF      []URI  // report destinations
	FO            []string
	// Pct is a valid pct= (removed by RFC 9989, still applied by RFC 7489
	// receivers); -1 when absent or invalid.
	Pct int
	// Explicit holds the tags written in the record, in order.
	Explicit []string
	// Problems are what a careful reader should know: obsolete or
	// unknown tags, recoverable syntax errors.
	Problems []Problem
}

// URI is one report destination: "mailto:d@example.com!10m".
type URI struct {
	Raw     string
	Address string // the mailbox, for mailto URIs
	Domain  string // the mailbox's domain, lower case
	Size    string // the "!10m" limit, if any (RFC 9989 keeps it only as a hint)
}

// Problem is something wrong or noteworthy in a record.
type Problem struct {
	Tag     string `json:"tag,omitempty"`
	Error   bool   `json:"error"` // true: receivers may reject the record; false: a warning
	Message string `json:"message"`
}

// ErrNotDMARC means the text is not a DMARC record: it does not start with
// "v=DMARC1" (RFC 9989 §4.7).
var ErrNotDMARC = errors.New("dmarc: not a DMARC record (no v=DMARC1 first)")

// ErrNoPolicy means the record has an invalid p=, sp= or np= and no rua=:
// receivers apply no DMARC at all (RFC 7489 §6.6.3 step 6).
var ErrNoPolicy = errors.New("dmarc: an invalid policy tag and no rua=: receivers apply no DMARC")

// Parse reads a DMARC record. It fails only when the text is not a DMARC
// record or has no usable policy; everything else is a Problem.
func Parse(txt string) (*Record, error) {
	tags, problems := splitTags(txt)
	if len(tags) > 0 && tags[0].name == "v" && strings.HasPrefix(tags[0].value, "DMARC1") && len(strings.Fields(tags[0].value)) > 1 {
		return nil, fmt.Errorf("dmarc: %q: tags must be separated by semicolons (v=DMARC1; p=...)", txt)
	}
	if len(tags) == 0 || tags[0].name != "v" || tags[0].value != "DMARC1" {
		return nil, ErrNotDMARC
	}
	r := &Record{PSD: "u", ADKIM: "r", ASPF: "r", FO: []string{"0"}, Problems: problems, Pct: -1}
	seen := map[string]bool{}
	for _, t := range tags[1:] {
		if seen[t.name] {
			r.problem(t.name, false, "tag %s appears twice; the first counts", t.name)
			continue
		}
		seen[t.name] = true
		r.Explicit = append(r.Explicit, t.name)
		r.tag(t)
	}
	if r.Policy == "" || r.PolicyInvalid {
		// RFC 7489 §6.6.3 step 6: a record without a valid p, or with an
		// invalid sp, is read as p=none when it has a valid rua; without
		// one, no DMARC applies at all.
		if len(r.RUA) == 0 {
			return nil, ErrNoPolicy
		}
		r.PolicyInvalid = true
		r.Policy, r.SubdomainPolicy, r.NonexistentPol = None, None, None
		r.problem("p", true, "an invalid or missing policy tag: receivers read the whole record as p=none (RFC 7489 §6.6.3)")
	}
	if r.SubdomainPolicy == "" {
		r.SubdomainPolicy = r.Policy
	}
	if r.NonexistentPol == "" {
		r.NonexistentPol = r.SubdomainPolicy
	}
	if r.Pct >= 0 {
		r.pctProblem()
	}
	return r, nil
}

type tag struct{ name, value string }

// splitTags reads "v=DMARC1; p=none; ..." into tags (RFC 9989 §4.7: tag
// names are case-insensitive, values are trimmed).
func splitTags(txt string) ([]tag, []Problem) {
	var tags []tag
	var problems []Problem
	for _, part := range strings.Split(txt, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			problems = append(problems, Problem{Error: true, Message: fmt.Sprintf("%q is not a tag=value pair; it is ignored", part)})
			continue
		}
		tags = append(tags, tag{strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)})
	}
	return tags, problems
}

func (r *Record) problem(tag string, isErr bool, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Tag: tag, Error: isErr, Message: fmt.Sprintf(format, args...)})
}

func (r *Record) tag(t tag) {
	switch t.name {
	case "p", "sp", "np":
		p, ok := policyOf(t.value)
		if !ok {
			r.PolicyInvalid = true
			r.problem(t.name, true, "%s=%s is not none, quarantine or reject", t.name, t.value)
			return
		}
		switch t.name {
		case "p":
			r.Policy = p
		case "sp":
			r.SubdomainPolicy = p
		default:
			r.NonexistentPol = p
		}
	case "psd":
		switch v := strings.ToLower(t.value); v {
		case "y", "n", "u":
			r.PSD = v
		default:
			r.problem("psd", true, "psd=%s is not y, n or u; it is ignored", t.value)
		}
	case "t":
		switch strings.ToLower(t.value) {
		case "y":
			r.Testing = true
		case "n":
		default:
			r.problem("t", true, "t=%s is not y or n; it is ignored", t.value)
		}
	case "adkim", "aspf":
		v := strings.ToLower(t.value)
		if v != "r" && v != "s" {
			r.problem(t.name, true, "%s=%s is not r or s; relaxed applies", t.name, t.value)
			return
		}
		if t.name == "adkim" {
			r.ADKIM = v
		} else {
			r.ASPF = v
		}
	case "rua", "ruf":
		uris := r.uris(t)
		if t.name == "rua" {
			r.RUA = uris
		} else {
			r.RUF = uris
		}
	case "fo":
		var fo []string
		for _, o := range strings.Split(t.value, ":") {
			switch o = strings.TrimSpace(o); o {
			case "0", "1", "d", "s":
				fo = append(fo, o)
			default:
				r.problem("fo", true, "fo option %q is not 0, 1, d or s; it is ignored", o)
			}
		}
		if len(fo) > 0 {
			r.FO = fo
		}
	case "pct":
		r.pct(t.value)
	case "rf", "ri":
		r.problem(t.name, false, "%s= was removed by RFC 9989 (DMARCbis); receivers ignore it", t.name)
	default:
		r.problem(t.name, false, "unknown tag %s=; receivers ignore it (RFC 9989 §4.7)", t.name)
	}
}

// pct notes what pct= still does: RFC 9989 receivers ignore it, but a
// receiver on RFC 7489 applies p (or sp) to only pct percent of failing
// mail and the next weaker policy to the rest (RFC 7489 §6.3, §6.6.4).
// Called in tag order, so p may not be read yet; the message is finished
// in Parse.
func (r *Record) pct(v string) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100 {
		r.problem("pct", false, "pct=%s is not a number from 0 to 100, and pct= was removed by RFC 9989 (DMARCbis); remove it", v)
		return
	}
	r.Pct = n
}

func policyOf(v string) (Policy, bool) {
	switch p := Policy(strings.ToLower(v)); p {
	case None, Quarantine, Reject:
		return p, true
	}
	return "", false
}

// uris reads a comma-separated list of report URIs (RFC 9989 §4.7.1).
func (r *Record) uris(t tag) []URI {
	var out []URI
	for _, raw := range strings.Split(t.value, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u := URI{Raw: raw}
		rest := raw
		if i := strings.LastIndexByte(rest, '!'); i >= 0 {
			u.Size, rest = rest[i+1:], rest[:i]
			if !validSize(u.Size) {
				r.problem(t.name, true, "report size limit %q is not a number with an optional k, m, g or t", u.Size)
			}
		}
		scheme, addr, ok := strings.Cut(rest, ":")
		if !ok || !strings.EqualFold(scheme, "mailto") {
			r.problem(t.name, true, "report URI %q is not a mailto: URI; no reports will come", raw)
			continue
		}
		a, err := mail.ParseAddress(addr)
		if err != nil {
			r.problem(t.name, true, "report URI %q: %q is not a mail address", raw, addr)
			continue
		}
		u.Address = a.Address
		u.Domain = strings.ToLower(a.Address[strings.LastIndexByte(a.Address, '@')+1:])
		out = append(out, u)
	}
	return out
}

func validSize(s string) bool {
	if s == "" {
		return false
	}
	if strings.ContainsAny(s[len(s)-1:], "kmgtKMGT") {
		s = s[:len(s)-1]
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

func (r *Record) pctProblem() {
	weaker := map[Policy]Policy{Reject: Quarantine, Quarantine: None, None: None}
	if r.Pct == 100 || r.Policy == None && r.SubdomainPolicy == None {
		r.problem("pct", false, "pct=%d: pct= was removed by RFC 9989 (DMARCbis); with this value it changes nothing, but it can go", r.Pct)
		return
	}
	if r.Pct == 0 {
		r.problem("pct", false, "pct=0: RFC 9989 receivers ignore it and apply p=%s, but RFC 7489 receivers apply %s to all failing mail instead (RFC 7489 §6.6.4); to test a policy, use t=y instead (RFC 9989)", r.Policy, weaker[r.Policy])
		return
	}
	r.problem("pct", false, "pct=%d: RFC 9989 receivers ignore it and apply p=%s to all failing mail, but RFC 7489 receivers apply p=%s only to %d%% of failing mail and apply %s to the rest (RFC 7489 §6.6.4); to test a policy, use t=y instead (RFC 9989)",
		r.Pct, r.Policy, r.Policy, r.Pct, weaker[r.Policy])
}
