package check

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/spf"
)

// SPFSummary is the SPF part of a report.
type SPFSummary struct {
	Record string `json:"record"`
	// State is what was found: "ok", "no SPF record", "unknown" (the
	// lookup failed), "several SPF records", ...
	State       string      `json:"state"`
	Lookups     int         `json:"lookups"`
	VoidLookups int         `json:"void_lookups"`
	Results     []SPFResult `json:"results,omitempty"`
	Tree        *spf.Node   `json:"tree"`
}

// SPFResult is check_host() for one sending address.
type SPFResult struct {
	IP     netip.Addr `json:"ip"`
	Result string     `json:"result"`
	Term   string     `json:"term,omitempty"` // the mechanism that matched
	Error  string     `json:"error,omitempty"`
}

// checkSPF diagnoses the record tree and evaluates each address at once.
func checkSPF(ctx context.Context, r resolver.Resolver, domain, helo string, ips []netip.Addr, p *part) *SPFSummary {
	var d *spf.Diagnosis
	results := make([]spf.Result, len(ips))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d = spf.Diagnose(ctx, r, domain) }()
	for i, ip := range ips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The MAIL FROM identity: a bounce address at the domain.
			results[i] = spf.CheckHost(ctx, r, ip, domain, "postmaster@"+domain, helo)
		}()
	}
	wg.Wait()
	root := d.Root
	s := &SPFSummary{Record: root.Record, State: string(root.State), Lookups: d.Lookups, VoidLookups: d.VoidLookups, Tree: root}
	ev := fmt.Sprintf("%s TXT %q", domain, root.Record)
	for i, res := range results {
		s.Results = append(s.Results, spfResult(ips[i], res))
		spfIPFinding(ips[i], res, domain, p)
	}
	switch root.State {
	case spf.StateUnknown:
		p.find("spf.dns-failure", fmt.Sprintf("the SPF record of %s could not be looked up (%s): %s", domain, root.DNS, root.Error),
			"check again, or with another --resolver", domain+" TXT: "+root.DNS.String())
		return s
	case spf.StateOK:
		p.check("spf.record", "spf.policy")
		if !treeUnknown(root) {
			// With a failed lookup in the tree, the count is only a floor.
			p.check("spf.lookups")
		}
	case spf.StateInvalid, spf.StateMultiple:
		// Receivers give permerror: the record protects nothing.
		p.check("spf.record")
		p.fail("spf.policy", "spf.lookups")
	default:
		p.check("spf.record")
		p.fail("spf.policy")
		p.notApplicable("spf.lookups")
	}
	for _, f := range d.Findings {
		code := "spf." + strings.TrimPrefix(f.Code, "spf-")
		fix := f.Fix
		if fix == "" && f.Severity != spf.SeverityInfo {
			fix = "correct the SPF record of " + f.Domain
			if f.Code == "spf-domain-missing" {
				fix = "check the domain's spelling; a domain that does not exist has no SPF"
			}
		}
		evidence := []string{ev}
		if f.Domain != "" && f.Domain != domain {
			evidence = append(evidence, "in "+f.Domain+"'s record")
		}
		if f.Term != "" {
			evidence = append(evidence, "term: "+f.Term)
		}
		msg := f.Message
		if f.Domain != "" && f.Domain != domain {
			msg = f.Domain + ": " + msg
		}
		p.find(code, msg, fix, evidence...)
	}
	return s
}

// treeUnknown reports whether a record of the tree could not be looked up.
func treeUnknown(n *spf.Node) bool {
	if n.State == spf.StateUnknown {
		return true
	}
	for _, c := range n.Children {
		if treeUnknown(c) {
			return true
		}
	}
	return false
}

func spfResult(ip netip.Addr, res spf.Result) SPFResult {
	out := SPFResult{IP: ip, Result: string(res.Status), Term: res.Term}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	return out
}

// spfIPFinding judges check_host() for one sending address.
func spfIPFinding(ip netip.Addr, res spf.Result, domain string, p *part) {
	ev := fmt.Sprintf("check_host(%s, %s) = %s", ip, domain, res.Status)
	if res.Term != "" {
		ev += " at " + res.Term
	}
	if res.Err != nil {
		ev += ": " + res.Err.Error()
	}
	authorize := fmt.Sprintf("add ip%s:%s (or the include of the service that sends from it) to %s's SPF record", ipVersion(ip), ip, domain)
	switch res.Status {
	case spf.Pass:
		p.check("spf.ip")
	case spf.Fail:
		p.find("spf.ip-fail", fmt.Sprintf("SPF fails for %s: receivers may reject its mail, and DMARC cannot pass through SPF", ip), authorize, ev)
	case spf.Softfail:
		p.find("spf.ip-softfail", fmt.Sprintf("SPF soft-fails for %s: receivers treat its mail as suspect", ip), authorize, ev)
	case spf.Neutral, spf.None:
		p.find("spf.ip-neutral", fmt.Sprintf("SPF gives %s for %s: it says nothing for the address", res.Status, ip), authorize, ev)
	case spf.Permerror:
		p.find("spf.ip-permerror", fmt.Sprintf("SPF evaluation for %s ends in permerror: receivers treat the record as broken", ip), "fix the errors the SPF findings list", ev)
	case spf.Temperror:
		p.find("spf.ip-temperror", fmt.Sprintf("SPF evaluation for %s ends in temperror: a lookup failed", ip), "check again, or with another --resolver", ev)
	}
}

func ipVersion(ip netip.Addr) string {
	if ip.Is4() {
		return "4"
	}
	return "6"
}
