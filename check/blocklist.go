package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/blocklist"
	"github.com/mailtriage/mailtriage/dnsbl"
	"github.com/mailtriage/mailtriage/mailhost"
)

// BlocklistSummary is the blocklist part of a report: every listing of
// the domain, the sending addresses and the MX hosts' addresses, and the
// lists that could not be trusted.
type BlocklistSummary struct {
	Listings []blocklist.Listing    `json:"listings"`
	Zones    []blocklist.ZoneHealth `json:"zones"`
}

// checkBlocklists looks the domain, the --ip addresses and the MX hosts'
// addresses up; the MX lookup is its own (the run's cache shares it).
func (c *checker) checkBlocklists(ctx context.Context, p *part) *BlocklistSummary {
	if c.o.Blocklists == nil {
		return nil
	}
	roles := map[string]string{} // target → "ip", "mx" or "domain"
	var targets []blocklist.Target
	add := func(in, role string) {
		t, err := blocklist.ParseTarget(in)
		if err != nil || roles[t.Query] != "" {
			return // a private MX address, say: nothing to look up
		}
		roles[t.Query] = role
		targets = append(targets, t)
	}
	add(c.domain, "domain")
	for _, ip := range c.o.IPs {
		add(ip.String(), "ip")
	}
	for _, h := range mailhost.LookupMX(ctx, c.r, c.domain).Hosts {
		for _, ip := range h.Addrs {
			add(ip.String(), "mx")
		}
	}
	rep := blocklist.Check(ctx, blocklist.Options{Resolver: c.r, Catalogue: c.o.Blocklists, PerZone: c.o.BlocklistPerZone}, targets)
	sum := &BlocklistSummary{Zones: rep.Zones}
	var untrusted []string
	healthy := map[string]bool{}
	for _, z := range rep.Zones {
		healthy[z.Zone] = z.Status == dnsbl.StatusClean
		if !healthy[z.Zone] {
			untrusted = append(untrusted, fmt.Sprintf("%s (%s)", z.List, z.Status))
		}
	}
	if len(untrusted) > 0 {
		p.find("blocklist.unavailable", fmt.Sprintf("%d of %d lists could not be trusted (they refused this resolver, failed their test entries, or did not answer): %s", len(untrusted), len(rep.Zones), strings.Join(untrusted, ", ")),
			"ask through your own recursive resolver (--resolver), registered where a list requires it; for Spamhaus give --spamhaus-key", "mailtriage blocklist shows each list's reason")
	}
	for _, tr := range rep.Targets {
		role := roles[tr.Query]
		answered := false
		for _, l := range tr.Listings {
			if !healthy[l.Zone] {
				continue // the list, not the target: said once, above
			}
			sum.Listings = append(sum.Listings, l)
			if l.Tier == 1 && (l.Status == dnsbl.StatusListed || l.Status == dnsbl.StatusClean) {
				answered = true
			}
			listingFinding(p, role, l)
		}
		if answered {
			p.check("blocklist." + role)
		}
	}
	return sum
}

// listingFinding reports one list's listing of a target.
func listingFinding(p *part, role string, l blocklist.Listing) {
	ev := []string{fmt.Sprintf("%s %s: %v", l.Zone, l.Target, l.Codes)}
	for _, r := range l.Reason {
		ev = append(ev, "reason: "+r)
	}
	what := map[string]string{"ip": "sending address", "mx": "MX address", "domain": "domain"}[role]
	fix := "find and stop the cause (compromised account, bad list, spam trap hits), then ask for removal at " + l.DelistURL
	switch {
	case l.Status == dnsbl.StatusAllowed:
		p.find("blocklist.allowed", fmt.Sprintf("the %s %s is on the allowlist %s: %s", what, l.Target, l.List, l.Meaning), "", ev...)
	case l.Status != dnsbl.StatusListed:
	case !l.Scored():
		p.find("blocklist.informational", fmt.Sprintf("the %s %s is on %s, an informational list: %s", what, l.Target, l.List, l.Meaning), fix, ev...)
	case l.Severity == mailtriage.SeverityWarning:
		p.find("blocklist.policy-"+role, fmt.Sprintf("the %s %s is on %s: %s", what, l.Target, l.List, l.Meaning), policyFix(l, role), ev...)
	default:
		p.find("blocklist.listed-"+role, fmt.Sprintf("the %s %s is listed on %s: %s; receivers that use the list refuse or junk its mail", what, l.Target, l.List, l.Meaning), fix, ev...)
	}
}

func policyFix(l blocklist.Listing, role string) string {
	if role == "domain" {
		return "check what the list says about the domain at " + l.DelistURL
	}
	return "if the address sends mail directly to MX hosts, ask its network owner (or the list, at " + l.DelistURL + ") to remove it from the policy list; otherwise relay through a smarthost"
}

// blocklistChecks are the blocklist checks that apply to a run.
func blocklistChecks(o Options) []string {
	if o.Blocklists == nil {
		return nil
	}
	ids := []string{"blocklist.domain", "blocklist.mx"}
	if len(o.IPs) > 0 {
		ids = append(ids, "blocklist.ip")
	}
	return ids
}
