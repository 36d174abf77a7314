package mtasts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailtriage/mailtriage/internal/fieldlist"
)

// Mode is what a policy asks of senders (RFC 8461 §5).
type Mode string

const (
	Enforce Mode = "enforce" // deliver only over authenticated TLS to an MX the policy lists
	Testing Mode = "testing" // report failures (RFC 8460) but deliver anyway
	None    Mode = "none"    // treat the domain as having no policy
)

// Policy is a parsed policy file (RFC 8461 §3.2).
type Policy struct {
	Version string // "STSv1"
	Mode    Mode   // "" when missing or invalid
	// MX holds the valid mx patterns, as written less a trailing dot:
	// "mail.example.com" or "*.example.net".
	MX            []string
	MaxAgeSeconds int64 // max_age; 0 when missing or invalid
	Extensions    []Extension
	Problems      []Problem
}

// MaxPolicySize is the largest policy body read: RFC 8461 §3.3 says senders
// should limit the size of the response, and real policies are a few
// hundred bytes.
const MaxPolicySize = 64 << 10

const (
	// max_age may be at most a year (RFC 8461 §3.2), and a policy cached
	// for less than a day protects little.
	maxMaxAge   = 31557600
	shortMaxAge = 86400
	// maxProblems bounds the problems listed for one policy.
	maxProblems = 100
)

// utf8BOM is the byte order mark some editors put at the start of a UTF-8
// file.
const utf8BOM = "\ufeff"

// ErrNotPolicy means the text is not an MTA-STS policy: it has no
// "version: STSv1" line (RFC 8461 §3.2).
var ErrNotPolicy = errors.New("mtasts: not an MTA-STS policy")

// ParsePolicy reads a policy file. It fails when the body is larger than
// MaxPolicySize or has no "version: STSv1" line; everything else is a
// Problem.
func ParsePolicy(body []byte) (*Policy, error) {
	if len(body) > MaxPolicySize {
		return nil, fmt.Errorf("mtasts: policy of %d bytes is over the limit of %d (RFC 8461 §3.3)", len(body), MaxPolicySize)
	}
	p := &Policy{}
	text, bom := strings.CutPrefix(string(body), utf8BOM)
	if bom {
		p.problem("", true, "the policy begins with a UTF-8 byte order mark (bytes EF BB BF), which the grammar of RFC 8461 §3.2 does not allow: strict senders read the first key as something other than \"version\" and reject the policy; save the file without it")
	}
	lines := strings.Split(text, "\n")
	// A line break ends the last line; it does not start an empty one.
	if n := len(lines); lines[n-1] == "" {
		lines = lines[:n-1]
	}
	seen := map[string]bool{}
	blank := 0
	for i, line := range lines {
		// Lines end in LF or CRLF (RFC 8461 §3.2, sts-policy-term).
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			blank++
			if blank == 1 {
				p.problem("", true, "line %d is blank; the grammar of RFC 8461 §3.2 has no blank lines and strict senders reject the policy", i+1)
			}
			continue
		}
		p.line(i+1, line, seen)
	}
	if !seen["version"] {
		return nil, fmt.Errorf("%w: no \"version: STSv1\" line", ErrNotPolicy)
	}
	if p.Version != "STSv1" {
		return nil, fmt.Errorf("%w: version %q is not STSv1", ErrNotPolicy, p.Version)
	}
	p.check(seen)
	return p, nil
}

// problem records a problem; past maxProblems it notes once that there are
// more, so a body of 64 KiB of garbage does not make thousands.
func (p *Policy) problem(tag string, isErr bool, format string, args ...any) {
	switch n := len(p.Problems); {
	case n == maxProblems:
		p.Problems = append(p.Problems, Problem{Error: true, Message: "more problems follow; they are not listed"})
	case n < maxProblems:
		p.Problems = append(p.Problems, Problem{Tag: tag, Error: isErr, Message: fmt.Sprintf(format, args...)})
	}
}

// line reads one "key: value" line (RFC 8461 §3.2).
func (p *Policy) line(n int, line string, seen map[string]bool) {
	key, value, ok := strings.Cut(line, ":")
	if !ok {
		p.problem("", true, "line %d: %q is not a \"key: value\" line", n, clip(line))
		return
	}
	if !fieldlist.ValidName(key) {
		if fieldlist.ValidName(strings.TrimSpace(key)) {
			p.problem(strings.TrimSpace(key), true, "line %d: white space around the key %q is not allowed (RFC 8461 §3.2)", n, key)
		} else {
			p.problem("", true, "line %d: %q is not a valid key", n, clip(key))
		}
		return
	}
	value = fieldlist.TrimWSP(value)
	if value == "" {
		p.problem(key, true, "line %d: %s has no value", n, key)
		return
	}
	dup := seen[key]
	seen[key] = true
	if dup && key != "mx" {
		p.problem(key, false, "line %d: %s appears more than once; senders use the first (RFC 8461 §3.2)", n, key)
		return
	}
	switch key {
	case "version":
		p.Version = value
	case "mode":
		p.mode(value)
	case "max_age":
		p.maxAge(value)
	case "mx":
		p.mx(value)
	default:
		if k := strings.ToLower(key); k == "version" || k == "mode" || k == "max_age" || k == "mx" {
			p.problem(key, true, "line %d: keys are case-sensitive: %s is not %s and senders ignore it", n, key, k)
		}
		p.Extensions = append(p.Extensions, Extension{key, value})
	}
}

func (p *Policy) mode(v string) {
	switch m := Mode(v); m {
	case Enforce, Testing, None:
		p.Mode = m
	default:
		p.problem("mode", true, "mode %q is not enforce, testing or none (values are case-sensitive, RFC 8461 §3.2)", v)
	}
}

func (p *Policy) maxAge(v string) {
	// sts-policy-max-age-value = 1*10(DIGIT)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || len(v) > 10 || v[0] < '0' || v[0] > '9' {
		p.problem("max_age", true, "max_age %q is not a number of seconds (RFC 8461 §3.2)", clip(v))
		return
	}
	p.MaxAgeSeconds = n
	switch {
	case n > maxMaxAge:
		p.problem("max_age", true, "max_age %d is over the maximum of 31557600 seconds, a year (RFC 8461 §3.2)", n)
	case n < shortMaxAge:
		p.problem("max_age", false, "max_age %d is under a day: senders refetch the policy often, and RFC 8461 §3.2 expects weeks or more so an attacker at refresh time gains little", n)
	}
}

// mx reads an mx pattern: a domain, optionally with "*." in front
// (RFC 8461 §3.2, sts-policy-mx-value).
func (p *Policy) mx(v string) {
	if d, ok := strings.CutSuffix(v, "."); ok {
		p.problem("mx", true, "mx %q ends in a dot, which the grammar of RFC 8461 §3.2 does not allow; strict senders reject the policy", v)
		v = d
	}
	if !validDomain(strings.TrimPrefix(v, "*.")) {
		p.problem("mx", true, "mx %q is not a host name or a *. pattern (RFC 8461 §3.2); it matches nothing", clip(v))
		return
	}
	for _, have := range p.MX {
		if strings.EqualFold(have, v) {
			p.problem("mx", false, "mx %s is listed twice", v)
			return
		}
	}
	p.MX = append(p.MX, v)
}

// check notes what is missing once all lines are read.
func (p *Policy) check(seen map[string]bool) {
	if !seen["mode"] {
		p.problem("mode", true, "no mode line; it is required (RFC 8461 §3.2)")
	}
	if !seen["max_age"] {
		p.problem("max_age", true, "no max_age line; it is required (RFC 8461 §3.2)")
	}
	if len(p.MX) == 0 && p.Mode != None {
		p.problem("mx", true, "no valid mx line; every mode but none needs at least one (RFC 8461 §3.2)")
	}
	switch p.Mode {
	case Testing:
		p.problem("mode", false, "mode testing: senders report TLS failures (RFC 8460) but deliver anyway, so the policy does not protect mail yet")
	case None:
		p.problem("mode", false, "mode none: senders treat the domain as having no MTA-STS policy (RFC 8461 §5)")
	}
}

// validDomain reports whether s is an ASCII host name of letters, digits
// and hyphens (RFC 5321 Domain, as RFC 8461 §3.2 uses it).
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !validLabel(label) {
			return false
		}
	}
	return true
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || !fieldlist.IsAlnum(l[0]) || !fieldlist.IsAlnum(l[len(l)-1]) {
		return false
	}
	for i := 0; i < len(l); i++ {
		if !fieldlist.IsAlnum(l[i]) && l[i] != '-' {
			return false
		}
	}
	return true
}

// Matches reports whether the policy allows mxHost, an MX host name such as
// "mx1.example.com." (RFC 8461 §4.1): a pattern matches the name itself,
// and "*.example.com" matches one label more, "mx1.example.com" but not
// "example.com" or "a.mx1.example.com". Case and a trailing dot do not
// matter. The mode is not considered: under mode none nothing is enforced.
func (p *Policy) Matches(mxHost string) bool {
	if p == nil {
		return false
	}
	host := normalHost(mxHost)
	if host == "" {
		return false
	}
	for _, pat := range p.MX {
		if matchPattern(normalHost(pat), host) {
			return true
		}
	}
	return false
}

func matchPattern(pat, host string) bool {
	parent, ok := strings.CutPrefix(pat, "*.")
	if !ok {
		return pat == host
	}
	label, rest, ok := strings.Cut(host, ".")
	return ok && validLabel(label) && rest == parent
}

func normalHost(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "."))
}
