package check

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/resolver"
)

// IPSummary is the identity of one sending address.
type IPSummary struct {
	IP        netip.Addr `json:"ip"`
	PTR       []string   `json:"ptr"`
	Confirmed []string   `json:"fcrdns"`
	Status    string     `json:"status"`
	Generic   bool       `json:"generic"`
}

// HELOSummary is what the HELO name resolves to.
type HELOSummary struct {
	Name    string       `json:"name"`
	Addrs   []netip.Addr `json:"addresses"`
	Status  string       `json:"status"`
	Matches bool         `json:"matches_ip"`
}

var identityFixes = map[mailhost.Kind]string{
	mailhost.NoPTR:        "ask whoever runs the address (your ESP or hosting provider) to set its PTR record to the sending host's name",
	mailhost.ManyPTR:      "keep one PTR record, the name the host gives in HELO",
	mailhost.NotConfirmed: "give the PTR name an A or AAAA record with this address, or change the PTR to a name that has it",
	mailhost.GenericPTR:   "set the PTR to a name of your own domain (mail01.example.com) that resolves back to the address",
	mailhost.HELOLiteral:  "configure the MTA to say a host name whose A record is the sending address (Postfix: smtp_helo_name)",
	mailhost.HELOBareIP:   "configure the MTA to say a host name whose A record is the sending address (Postfix: smtp_helo_name)",
	mailhost.HELONotFQDN:  "configure the MTA to say a fully qualified host name (Postfix: myhostname or smtp_helo_name)",
	mailhost.HELONotFound: "publish an A record for the HELO name, or configure the MTA with one that has it",
	mailhost.HELOGeneric:  "use a name of your own domain that resolves to the sending address",
	mailhost.HELOMismatch: "point the HELO name's A record at the sending address, or say a name that has it",
}

func checkIPs(ctx context.Context, r resolver.Resolver, ips []netip.Addr, p *part) []IPSummary {
	revs := make([]mailhost.Reverse, len(ips))
	var wg sync.WaitGroup
	for i, ip := range ips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			revs[i] = mailhost.LookupReverse(ctx, r, ip)
		}()
	}
	wg.Wait()
	var out []IPSummary
	for _, rev := range revs {
		out = append(out, IPSummary{IP: rev.IP, PTR: rev.PTR, Confirmed: rev.Confirmed, Status: rev.Status.String(), Generic: rev.Generic})
		ev := fmt.Sprintf("%s PTR: %s %v", rev.Name, rev.Status, rev.PTR)
		if !rev.Status.Known() {
			p.find("rdns.unknown", fmt.Sprintf("the reverse DNS of %s could not be looked up: %v", rev.IP, rev.Err), "check again, or with another --resolver", ev)
			continue
		}
		p.check("rdns.ptr")
		if rev.Status != resolver.OK {
			p.notApplicable("rdns.fcrdns", "rdns.name") // no name to judge
		}
		if rev.Status == resolver.OK {
			p.check("rdns.name")
			if !rev.ForwardUnknown() || len(rev.Confirmed) > 0 {
				p.check("rdns.fcrdns")
			}
		}
		for _, pr := range rev.Problems() {
			p.find("rdns."+string(pr.Kind), pr.Message, identityFixes[pr.Kind], ev)
		}
	}
	return out
}

func checkHELO(ctx context.Context, r resolver.Resolver, name string, ips []netip.Addr, p *part) *HELOSummary {
	if name == "" {
		return nil
	}
	// The HELO is checked against each address; without one, only the name.
	targets := ips
	if len(targets) == 0 {
		targets = []netip.Addr{{}}
	}
	var sum *HELOSummary
	for _, ip := range targets {
		h := mailhost.CheckHELO(ctx, r, name, ip)
		if sum == nil {
			sum = &HELOSummary{Name: h.Name, Addrs: h.Addrs, Status: h.Status.String(), Matches: true}
		}
		sum.Matches = sum.Matches && h.MatchesIP
		ev := fmt.Sprintf("%s A/AAAA: %s %v", h.Name, h.Status, h.Addrs)
		if !h.Literal && h.Status != 0 && !h.Status.Known() {
			p.find("helo.unknown", fmt.Sprintf("the HELO name %s could not be looked up: %v", h.Name, h.Err), "check again, or with another --resolver", ev)
			continue
		}
		p.check("helo.name")
		if ip.IsValid() {
			p.check("helo.match")
		}
		for _, pr := range h.Problems {
			p.find("helo."+string(pr.Kind), pr.Message, identityFixes[pr.Kind], ev)
		}
		if ip.IsValid() && h.MatchesIP && !h.Literal {
			rdnsAgreement(ctx, r, h.Name, ip, p)
		}
	}
	return sum
}

// rdnsAgreement notes a HELO name that is not the address's reverse name:
// some receivers (and SpamAssassin's HELO checks) compare the two.
func rdnsAgreement(ctx context.Context, r resolver.Resolver, name string, ip netip.Addr, p *part) {
	rev := mailhost.LookupReverse(ctx, r, ip)
	if rev.Status == resolver.OK && !slices.Contains(rev.PTR, name) {
		p.find("helo.rdns-differs", fmt.Sprintf("HELO %s is not the reverse name of %s (%v)", name, ip, rev.PTR),
			"say the PTR name in HELO, or set the PTR to the HELO name", fmt.Sprintf("%s PTR %v", rev.Name, rev.PTR))
	}
}
