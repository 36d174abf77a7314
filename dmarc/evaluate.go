package dmarc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Result is the outcome of a DMARC evaluation, named as the dmarc method's
// results in Authentication-Results (RFC 8601 §2.7).
type Result string

const (
	// ResultPass: an identifier aligned with the author domain passed SPF
	// or DKIM.
	ResultPass Result = "pass"
	// ResultFail: a policy applies and no aligned identifier passed.
	ResultFail Result = "fail"
	// ResultNone: no DMARC policy covers the author domain.
	ResultNone Result = "none"
	// ResultTempError: a DNS failure kept the evaluation from an answer
	// (the policy, an organizational domain or an aligned identifier's own
	// check); a later try may give one.
	ResultTempError Result = "temperror"
)

// Identifier is a domain that SPF or DKIM authenticated, or tried to, and
// what it concluded, in the result names of RFC 8601 §2.7 ("pass", "fail",
// "softfail", "temperror", ...).
type Identifier struct {
	Domain string
	Result string
}

// Input is what a receiver knows when it evaluates DMARC for one message
// (RFC 9989 §5.3): the author domain and the authentication results.
type Input struct {
	// From is the domain of the RFC5322.From address, the author domain.
	From string
	// SPF is the result of SPF for the MAIL FROM identity (the HELO
	// identity stands in for a null reverse-path, RFC 7208 §2.4); DMARC
	// uses no other SPF result (RFC 9989 §4.4.2). A zero Identifier means
	// SPF was not evaluated.
	SPF Identifier
	// DKIM holds one entry per signature: its d= domain and its result.
	DKIM []Identifier
}

// Alignment says whether one authenticated identifier aligns with the
// author domain (RFC 9989 §4.4).
type Alignment struct {
	Domain string `json:"domain"`
	Result string `json:"result"`
	// Mode is the mode the policy asks for: "r" (relaxed: the same
	// organizational domain) or "s" (strict: the same domain).
	Mode string `json:"mode"`
	// Aligned is set when the domain aligns in Mode, whatever its
	// result; it counts for DMARC only with Result "pass".
	Aligned bool `json:"aligned"`
	// OrgDomain is the domain's organizational domain by the tree walk,
	// looked up only when relaxed mode needs it.
	OrgDomain string `json:"org_domain,omitempty"`
	// Err says why alignment could not be told (a failed lookup).
	Err error `json:"-"`
}

// Passes reports whether the identifier counts towards a DMARC pass.
func (a Alignment) Passes() bool { return a.Aligned && a.Err == nil && a.Result == "pass" }

// Evaluation is the DMARC verdict for one message.
type Evaluation struct {
	Result Result
	// From is the author domain, lower case.
	From string
	// Discovery is the policy discovery of the author domain
	// (RFC 9989 §4.10.1).
	Discovery Discovery
	// Applies is the tag whose policy covers the author domain: "p" for
	// the policy domain itself, "sp" for an existing subdomain of it,
	// "np" for a subdomain that does not exist (RFC 9989 §4.7).
	// Policy is that tag's value.
	Applies string
	Policy  Policy
	// NonExistent: the author domain has no A, AAAA or MX records, so np
	// covers it when the policy is inherited (RFC 9989 §3.2, "Non-existent
	// Domains").
	NonExistent bool
	// Testing is t=y: the domain owner is testing the policy and asks
	// receivers to apply the one a level below it to failing mail:
	// quarantine for reject, none for quarantine (RFC 9989 §4.7).
	Testing bool
	// Disposition is what the policy asks for this message: Policy on a
	// fail (a level below it under t=y), None on a pass; "" when no
	// policy applies or the result is temperror.
	Disposition Policy
	// OrgDomain is the author domain's organizational domain by the tree
	// walk (RFC 9989 §4.10.2).
	OrgDomain string
	// ADKIM and ASPF are the alignment modes: the record's, or relaxed,
	// the default, when there is no record.
	ADKIM, ASPF string
	SPF         Alignment
	DKIM        []Alignment
	// AlignedSPF and AlignedDKIM say that an aligned identifier passed:
	// what DMARC counts.
	AlignedSPF, AlignedDKIM bool
	// Reason says in a sentence why the result is what it is.
	Reason string
	// Err is the DNS failure behind a temperror.
	Err error
}

// Evaluate evaluates DMARC for a message as a receiver does (RFC 9989
// §5.3): it discovers the author domain's policy by the tree walk, finds
// whether the author domain exists when the policy is inherited (np), and
// checks each identifier's alignment in the record's modes, looking up
// organizational domains by the tree walk where relaxed mode needs them.
// The lookups that do not depend on each other run at once.
func Evaluate(ctx context.Context, r resolver.Resolver, in Input) Evaluation {
	from := normalize(in.From)
	ev := Evaluation{From: from, ADKIM: "r", ASPF: "r"}
	if from == "" || !strings.Contains(from, ".") {
		ev.Result = ResultNone
		ev.Reason = fmt.Sprintf("no author domain to evaluate (%q)", in.From)
		return ev
	}
	ev.Discovery = Discover(ctx, r, from)
	d := &ev.Discovery
	ev.OrgDomain = d.OrgDomain
	if d.Record != nil {
		ev.ADKIM, ev.ASPF = d.Record.ADKIM, d.Record.ASPF
	}

	var wg sync.WaitGroup
	var exists existence
	if d.Record != nil && d.Applies == "sp" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exists = lookupExistence(ctx, r, from)
		}()
	}
	orgs := orgDomains(ctx, r, from, d.OrgDomain, in, ev.ASPF, ev.ADKIM)
	wg.Wait()

	ev.SPF = align(in.SPF, from, d.OrgDomain, ev.ASPF, orgs)
	for _, id := range in.DKIM {
		a := align(id, from, d.OrgDomain, ev.ADKIM, orgs)
		ev.DKIM = append(ev.DKIM, a)
		ev.AlignedDKIM = ev.AlignedDKIM || a.Passes()
	}
	ev.AlignedSPF = ev.SPF.Passes()

	switch {
	case d.Unknown:
		ev.Result, ev.Err = ResultTempError, d.Err
		ev.Reason = "the DMARC policy could not be looked up: " + d.Err.Error()
		return ev
	case d.Record == nil:
		ev.Result = ResultNone
		ev.Reason = fmt.Sprintf("no DMARC policy covers %s", from)
		if len(d.Several) > 0 {
			ev.Reason += fmt.Sprintf(" (%s has several records, so none applies)", d.Several[0])
		}
		return ev
	}
	ev.applies(exists)
	ev.decide()
	return ev
}

// applies picks the policy that covers the author domain (RFC 9989 §4.7):
// p at the policy domain, sp below it, np below it when the author domain
// does not exist.
func (ev *Evaluation) applies(exists existence) {
	rec := ev.Discovery.Record
	ev.Applies, ev.Policy, ev.Testing = "p", rec.Policy, rec.Testing
	if ev.Discovery.Applies != "sp" {
		return
	}
	ev.Applies, ev.Policy = "sp", rec.SubdomainPolicy
	if exists == nonExistent {
		ev.NonExistent = true
		ev.Applies, ev.Policy = "np", rec.NonexistentPol
	}
}

// decide sets the result from the alignments: pass when an aligned
// identifier passed; temperror when none did but one that aligns, or
// might, failed for a transient reason; fail otherwise.
func (ev *Evaluation) decide() {
	if ev.AlignedSPF || ev.AlignedDKIM {
		ev.Result, ev.Disposition = ResultPass, None
		var via []string
		if ev.AlignedSPF {
			via = append(via, "SPF ("+ev.SPF.Domain+")")
		}
		for _, a := range ev.DKIM {
			if a.Passes() {
				via = append(via, "DKIM ("+a.Domain+")")
				break
			}
		}
		ev.Reason = fmt.Sprintf("aligned %s passed", strings.Join(via, " and "))
		return
	}
	for _, a := range append([]Alignment{ev.SPF}, ev.DKIM...) {
		if a.Err != nil && a.Result == "pass" {
			ev.Result, ev.Err = ResultTempError, a.Err
			ev.Reason = fmt.Sprintf("%s passed, but whether it aligns could not be told: %v", a.Domain, a.Err)
			return
		}
		if a.Aligned && a.Result == "temperror" {
			ev.Result = ResultTempError
			ev.Err = fmt.Errorf("%s: %w", a.Domain, errTransient)
			ev.Reason = fmt.Sprintf("no aligned identifier passed, and the check of the aligned %s ended in temperror", a.Domain)
			return
		}
	}
	ev.Result, ev.Disposition = ResultFail, ev.Policy
	if ev.Testing {
		ev.Disposition = weaker(ev.Policy)
	}
	ev.Reason = ev.failReason()
}

// weaker is the policy a level below p, which t=y asks receivers to
// apply (RFC 9989 §4.7).
func weaker(p Policy) Policy {
	if p == Reject {
		return Quarantine
	}
	return None
}

var errTransient = errors.New("dmarc: an aligned identifier's check failed for a transient reason")

// failReason says what was missing for a pass.
func (ev *Evaluation) failReason() string {
	var parts []string
	switch a := ev.SPF; {
	case a.Domain == "":
		parts = append(parts, "SPF was not evaluated")
	case a.Result != "pass":
		parts = append(parts, fmt.Sprintf("SPF gave %s for %s", orNone(a.Result), a.Domain))
	case !a.Aligned:
		parts = append(parts, fmt.Sprintf("SPF passed for %s, which does not align with %s (%s)", a.Domain, ev.From, modeName(a.Mode)))
	}
	if len(ev.DKIM) == 0 {
		parts = append(parts, "no DKIM signature")
	}
	for _, a := range ev.DKIM {
		if a.Result != "pass" {
			parts = append(parts, fmt.Sprintf("DKIM gave %s for %s", orNone(a.Result), a.Domain))
		} else {
			parts = append(parts, fmt.Sprintf("DKIM passed for %s, which does not align with %s (%s)", a.Domain, ev.From, modeName(a.Mode)))
		}
	}
	return "no aligned identifier passed: " + strings.Join(parts, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func modeName(m string) string {
	if m == "s" {
		return "strict alignment"
	}
	return "relaxed alignment"
}

// align checks one identifier (RFC 9989 §4.4.1, §4.4.2): strict needs the
// same domain, relaxed the same organizational domain.
func align(id Identifier, from, fromOrg, mode string, orgs map[string]orgResult) Alignment {
	a := Alignment{Domain: normalize(id.Domain), Result: strings.ToLower(id.Result), Mode: mode}
	switch {
	case a.Domain == "":
		return a
	case a.Domain == from:
		a.Aligned = true
		return a
	case mode == "s":
		return a
	}
	o, ok := orgs[a.Domain]
	if !ok {
		// No label in common: an organizational domain is a suffix of its
		// domain, so theirs cannot be the same.
		return a
	}
	a.OrgDomain, a.Err = o.org, o.err
	a.Aligned = o.err == nil && fromOrg != "" && o.org == fromOrg
	return a
}

type orgResult struct {
	org string
	err error
}

// orgDomains finds, at once, the organizational domains that relaxed
// alignment needs: those of the identifiers that are not the author
// domain itself.
func orgDomains(ctx context.Context, r resolver.Resolver, from, fromOrg string, in Input, aspf, adkim string) map[string]orgResult {
	want := map[string]bool{}
	add := func(domain, mode string) {
		if domain = normalize(domain); domain != "" && domain != from && mode == "r" && sharesSuffix(domain, from) {
			want[domain] = true
		}
	}
	add(in.SPF.Domain, aspf)
	for _, id := range in.DKIM {
		add(id.Domain, adkim)
	}
	out := make(map[string]orgResult, len(want))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for domain := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := Discover(ctx, r, domain)
			res := orgResult{org: d.OrgDomain}
			if d.Unknown {
				res = orgResult{err: fmt.Errorf("the organizational domain of %s: %w", domain, d.Err)}
			}
			mu.Lock()
			out[domain] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

type existence uint8

const (
	existenceUnknown existence = iota
	exists
	nonExistent
)

// lookupExistence tells whether domain exists for DMARC: RFC 9989 §3.2
// calls a domain non-existent when its A, AAAA and MX lookups all answer
// NXDOMAIN or NODATA. A failed lookup leaves it unknown, and unknown
// is read as existing (sp applies), the safer of the two.
func lookupExistence(ctx context.Context, r resolver.Resolver, domain string) existence {
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX}
	statuses := make([]resolver.Status, len(types))
	var wg sync.WaitGroup
	for i, t := range types {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = r.Lookup(ctx, domain, t).Status
		}()
	}
	wg.Wait()
	result := nonExistent
	for _, s := range statuses {
		switch s {
		case resolver.NXDomain, resolver.NoData:
		case resolver.OK:
			return exists
		default:
			result = existenceUnknown
		}
	}
	return result
}

// NonExistent reports whether domain is non-existent for DMARC
// (RFC 9989 §3.2): its A, AAAA and MX lookups all answer NXDOMAIN or
// NODATA, so np= is the policy of an inherited record that covers it. A
// failed lookup makes it false: sp=, the safer reading, applies.
func NonExistent(ctx context.Context, r resolver.Resolver, domain string) bool {
	return lookupExistence(ctx, r, normalize(domain)) == nonExistent
}

// sharesSuffix reports whether a and b end in the same label.
func sharesSuffix(a, b string) bool {
	return a[strings.LastIndexByte(a, '.')+1:] == b[strings.LastIndexByte(b, '.')+1:]
}

func normalize(domain string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
}
