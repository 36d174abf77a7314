package check

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mailtriage/mailtriage/dmarc"
	"github.com/mailtriage/mailtriage/resolver"
)

// DMARCSummary is the DMARC part of a report.
type DMARCSummary struct {
	// Status is what discovery found: "found", "none", "several" (no
	// DMARC applies), "invalid" or "unknown" (a lookup failed).
	Status string `json:"status"`
	Record string `json:"record"`
	Policy string `json:"policy"` // the policy that applies to the domain: p, or sp for a subdomain
	// PolicyDomain is where the RFC 9989 tree walk found the record;
	// DiscoveredVia says how ("tree walk"); PSLPolicyDomain is where
	// RFC 7489's public-suffix method would look.
	PolicyDomain    string              `json:"policy_domain"`
	DiscoveredVia   string              `json:"discovered_via"`
	PSLPolicyDomain string              `json:"psl_policy_domain"`
	OrgDomain       string              `json:"org_domain"`
	Testing         bool                `json:"testing"`
	Destinations    []DestinationStatus `json:"report_destinations,omitempty"`
	Queries         []string            `json:"queries"`
}

// DestinationStatus is one report address and its authorization.
type DestinationStatus struct {
	Tag        string `json:"tag"` // rua or ruf
	Address    string `json:"address"`
	External   bool   `json:"external"`
	Authorized bool   `json:"authorized"`
	Record     string `json:"authorization_record,omitempty"`
	Status     string `json:"status,omitempty"`
}

const dmarcFix = "publish a TXT record at _dmarc.%s, starting with p=none and rua= to read reports: v=DMARC1; p=none; rua=mailto:dmarc-reports@%s"

func checkDMARC(ctx context.Context, r resolver.Resolver, domain string, p *part) *DMARCSummary {
	d := dmarc.Discover(ctx, r, domain)
	s := &DMARCSummary{Record: d.Raw, PolicyDomain: d.PolicyDomain, DiscoveredVia: "tree walk (RFC 9989 §4.10)",
		PSLPolicyDomain: d.PSLPolicyDomain, OrgDomain: d.OrgDomain, Queries: d.Queries}
	evidence := "queried: _dmarc." + strings.Join(d.Queries, ", _dmarc.")
	for _, name := range d.Several {
		p.find("dmarc.multiple", name+" has several DMARC records: receivers use none of them (RFC 9989 receivers go on to the parent domain's record, RFC 7489 receivers stop and apply no DMARC)", "keep one v=DMARC1 record at "+name, evidence)
	}
	switch {
	case d.Unknown:
		s.Status = "unknown"
		p.find("dmarc.unknown", fmt.Sprintf("the DMARC policy of %s could not be looked up: %v", domain, d.Err), "check again, or with another --resolver", evidence)
		return s
	case d.Record == nil && len(d.Problems) > len(d.Several):
		s.Status = "invalid"
		var msgs []string
		for _, pr := range d.Problems {
			if !strings.Contains(pr.Message, "several") {
				msgs = append(msgs, pr.Message)
			}
		}
		p.find("dmarc.invalid", "no usable DMARC record: "+strings.Join(msgs, "; "), "correct the record; RFC 9989 §4.7 lists the tags", evidence)
		p.fail("dmarc.policy", "dmarc.reports")
		return s
	case d.Record == nil && len(d.Several) > 0:
		s.Status = "several"
		p.fail("dmarc.policy", "dmarc.reports")
		return s
	case d.Record == nil:
		s.Status = "none"
		p.find("dmarc.missing", fmt.Sprintf("no DMARC policy covers %s: receivers apply none, and nobody reports to you who sends as it", domain),
			fmt.Sprintf(dmarcFix, orgOr(d.OrgDomain, domain), orgOr(d.OrgDomain, domain)), evidence)
		p.fail("dmarc.policy", "dmarc.reports")
		return s
	}
	s.Status = "found"
	p.check("dmarc.record", "dmarc.policy", "dmarc.reports")
	rec := d.Record
	ev := []string{fmt.Sprintf("_dmarc.%s TXT %q", d.PolicyDomain, d.Raw)}
	dmarcRecordFindings(p, rec, ev)
	if len(d.Broken) > 0 {
		var msgs []string
		for _, pr := range d.Problems {
			if !strings.Contains(pr.Message, "several") {
				msgs = append(msgs, pr.Message)
			}
		}
		p.find("dmarc.invalid", fmt.Sprintf("%s holds a DMARC record receivers cannot use (%s): receivers on RFC 7489 stop there and apply no DMARC to %s (§6.6.3); the RFC 9989 tree walk goes on to %s",
			strings.Join(d.Broken, ", "), strings.Join(msgs, "; "), domain, d.PolicyDomain),
			fmt.Sprintf("correct %s (v=DMARC1; p=...; with semicolons between tags), or delete it so the policy of %s applies everywhere", strings.Join(d.Broken, ", "), d.PolicyDomain), evidence)
	}
	// The policy that applies: p for the domain itself, sp for a
	// subdomain that exists, np for one that does not (RFC 9989 §4.7).
	tag, pol := "p", rec.Policy
	if d.Applies == "sp" {
		tag, pol = "sp", rec.SubdomainPolicy
		if dmarc.NonExistent(ctx, r, domain) {
			tag, pol = "np", rec.NonexistentPol
		}
		own := "has no DMARC record of its own"
		if len(d.Broken) > 0 || slices.Contains(d.Several, "_dmarc."+domain) {
			own = "has no usable DMARC record of its own"
		}
		p.find("dmarc.inherited", fmt.Sprintf("%s %s; the record of %s applies, with %s=%s", domain, own, d.PolicyDomain, tag, pol),
			"nothing to do unless the subdomain needs its own policy", ev...)
	}
	s.Policy, s.Testing = string(pol), rec.Testing
	// RFC 7489 §6.6.3 step 5 ends discovery at several records at the
	// domain or its organizational domain; the RFC 9989 walk passes them.
	stop := ""
	for _, name := range d.Several {
		if name == "_dmarc."+domain || d.PSLOrgDomain != "" && name == "_dmarc."+d.PSLOrgDomain {
			stop = name
			break
		}
	}
	switch {
	case stop != "" && d.PSLPolicyDomain == "":
		p.find("dmarc.psl-differs", fmt.Sprintf("the RFC 9989 tree walk passes over the several records at %s and finds the policy at %s, but receivers not yet on RFC 9989 stop at them and apply no DMARC to %s (RFC 7489 §6.6.3)",
			stop, d.PolicyDomain, domain),
			"keep one v=DMARC1 record at "+stop, ev...)
	case d.PSLPolicyDomain != d.PolicyDomain:
		p.find("dmarc.psl-differs", fmt.Sprintf("the RFC 9989 tree walk finds the policy at %s, but RFC 7489's public-suffix method looks at %s and finds %s: receivers not yet on RFC 9989 apply a different policy, or none",
			d.PolicyDomain, orgOr(d.PSLOrgDomain, domain), orgOr(d.PSLPolicyDomain, "no record")),
			fmt.Sprintf("publish the same policy at _dmarc.%s too, so both kinds of receiver apply it", orgOr(d.PSLOrgDomain, domain)), ev...)
	}
	if rec.PolicyInvalid {
		p.fail("dmarc.policy") // dmarc.invalid says why
	} else {
		dmarcPolicyFindings(p, rec, domain, tag, pol, ev)
	}
	s.Destinations = dmarcDestinations(ctx, r, p, d.PolicyDomain, rec, ev)
	return s
}

func orgOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dmarcRecordFindings reports the record's syntax problems.
func dmarcRecordFindings(p *part, rec *dmarc.Record, ev []string) {
	var errs []string
	for _, pr := range rec.Problems {
		if pr.Error {
			errs = append(errs, pr.Message)
			continue
		}
		p.find("dmarc.tag-warning", pr.Message, "remove or correct the tag", ev...)
	}
	if len(errs) > 0 {
		p.find("dmarc.invalid", "the DMARC record has errors: "+strings.Join(errs, "; "), "correct the record; https://www.rfc-editor.org/rfc/rfc9989 §4.7 lists the tags", ev...)
	}
}

// dmarcPolicyFindings judges the policy as the seed story advises: do
// not push a stricter policy before the reports show all legitimate mail
// aligned.
func dmarcPolicyFindings(p *part, rec *dmarc.Record, domain, tag string, pol dmarc.Policy, ev []string) {
	switch {
	case pol == dmarc.None:
		p.find("dmarc.policy-none", fmt.Sprintf("%s=none applies to %s: receivers deliver mail that fails DMARC as if there were no policy, so anyone can send as it", tag, domain),
			"read the aggregate reports until every legitimate source (ESP, CRM, billing, support) passes aligned SPF or DKIM; then move to quarantine, then reject. Do not tighten the policy during a delivery incident.", ev...)
	case rec.Testing:
		p.find("dmarc.policy-testing", fmt.Sprintf("t=y: receivers apply %s=%s one step weaker while it is tested (RFC 9989 §4.7)", tag, pol),
			"remove t=y once the reports show legitimate mail aligned", ev...)
	}
	if tag != "p" || pol == dmarc.None {
		return
	}
	for _, w := range []struct {
		tag string
		pol dmarc.Policy
	}{{"sp", rec.SubdomainPolicy}, {"np", rec.NonexistentPol}} {
		if has(rec.Explicit, w.tag) && w.pol == dmarc.None {
			p.find("dmarc.subdomain-weaker", fmt.Sprintf("%s=none under p=%s: mail from %s subdomains is not protected", w.tag, pol, map[string]string{"sp": "existing", "np": "non-existent"}[w.tag]),
				fmt.Sprintf("set %s=%s, or drop %s= so p applies", w.tag, pol, w.tag), ev...)
		}
	}
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dmarcDestinations checks rua= and ruf= and the authorization of
// their external addresses.
func dmarcDestinations(ctx context.Context, r resolver.Resolver, p *part, policyDomain string, rec *dmarc.Record, ev []string) []DestinationStatus {
	if len(rec.RUA) == 0 {
		p.find("dmarc.no-rua", "no rua=: nobody receives the aggregate reports that show who sends as the domain and whether it passes",
			"add rua=mailto:dmarc-reports@"+policyDomain+" (mailtriage can read the reports)", ev...)
	}
	uris := append(append([]dmarc.URI(nil), rec.RUA...), rec.RUF...)
	var out []DestinationStatus
	for i, d := range dmarc.VerifyDestinations(ctx, r, policyDomain, uris) {
		tag, code, what := "rua", "dmarc.rua-unauthorized", "aggregate reports"
		if i >= len(rec.RUA) {
			tag, code, what = "ruf", "dmarc.ruf-unauthorized", "failure reports"
		}
		st := DestinationStatus{Tag: tag, Address: d.URI.Address, External: d.External, Authorized: d.Authorized || !d.External, Record: d.Name}
		if d.External {
			st.Status = d.Status.String()
		}
		out = append(out, st)
		switch {
		case d.Unknown():
			p.find("dmarc.unknown", fmt.Sprintf("the authorization of report address %s could not be looked up: %v", d.URI.Address, d.Err), "check again", "queried: "+d.Name+" TXT")
		case d.External && !d.Authorized:
			p.find(code, fmt.Sprintf("%s=%s is outside %s and has not authorized the reports: receivers will not send %s there", tag, d.URI.Address, policyDomain, what),
				fmt.Sprintf("ask the owner of %s to publish %s TXT \"v=DMARC1\"", d.URI.Domain, d.Name), "queried: "+d.Name+" TXT: "+d.Status.String())
		}
	}
	return out
}
