package main

import (
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/blocklist"
	"github.com/mailtriage/mailtriage/dnsbl"
	"github.com/spf13/cobra"
)

// sender is a sending address named with --ip, and the logging host that
// sends from it.
type sender struct {
	host string
	ip   netip.Addr
}

// parseSenders reads analyze's --ip values: ADDRESS or HOST=ADDRESS.
func parseSenders(enabled bool, list []string) ([]sender, error) {
	if !enabled {
		if len(list) > 0 {
			return nil, usagef("--ip needs --blocklists: the addresses are for the blocklist lookups")
		}
		return nil, nil
	}
	if len(list) == 0 {
		return nil, usagef("--blocklists needs the sending addresses: --ip ADDRESS or --ip HOST=ADDRESS (Postfix logs do not name them)")
	}
	var out []sender
	for _, v := range list {
		host, addr, ok := strings.Cut(v, "=")
		if !ok {
			host, addr = "", v
		}
		t, err := blocklist.ParseTarget(addr)
		if err != nil || t.Kind != dnsbl.IP {
			return nil, usagef("--ip %q: want ADDRESS or HOST=ADDRESS with an IP address (%v)", v, err)
		}
		out = append(out, sender{host: host, ip: netip.MustParseAddr(t.Query)})
	}
	return out, nil
}

// addListings looks the senders up and puts the answers in the result.
// It reports whether any list answered its test entries: if none did,
// nothing was checked.
func addListings(cmd *cobra.Command, e *env, o *analyzeOptions, senders []sender, res *analysis.Result) (answered bool, err error) {
	cat, err := o.lists.catalogue()
	if err != nil {
		return false, err
	}
	var queries atomic.Int64
	r, err := o.dns.resolverFor(e, &queries)
	if err != nil {
		return false, err
	}
	if w := publicResolverWarning(o.dns.describe()); w != "" {
		e.log.Warn(w)
	}
	targets := make([]blocklist.Target, len(senders))
	for i, s := range senders {
		targets[i] = blocklist.Target{Input: s.ip.String(), Query: s.ip.String(), Kind: dnsbl.IP}
	}
	rep := blocklist.Check(cmd.Context(), blocklist.Options{Resolver: r, Catalogue: cat, PerZone: o.lists.perZone}, targets)
	e.log.Info("blocklists done", "dns_queries", queries.Load(), "elapsed", rep.Elapsed)
	ls := make([]analysis.SenderListing, len(senders))
	for i, tr := range rep.Targets {
		ls[i] = analysis.SenderListing{IP: tr.Query, Host: senders[i].host, Listed: []analysis.ListEntry{}}
		for _, l := range tr.Listings {
			switch {
			case l.Scored():
				ls[i].Listed = append(ls[i].Listed, analysis.ListEntry{List: l.List, Zone: l.Zone, Meaning: l.Meaning, Severity: string(l.Severity), DelistURL: l.DelistURL})
			case l.Status == dnsbl.StatusClean && l.Tier == 1:
				ls[i].Clean = append(ls[i].Clean, l.List)
			case l.Status != dnsbl.StatusListed && l.Status != dnsbl.StatusClean && l.Status != dnsbl.StatusAllowed && l.Tier == 1:
				ls[i].Unknown = append(ls[i].Unknown, l.List)
			}
		}
	}
	res.AddListings(ls)
	return rep.Answered(), nil
}
