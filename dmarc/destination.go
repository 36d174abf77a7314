package dmarc

import (
	"context"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// Destination is one report address of a policy and whether its domain
// has agreed to take the reports.
type Destination struct {
	URI URI
	// External: the address is outside the policy domain's organizational
	// domain, so receivers send reports only if the destination publishes
	// an authorization record (RFC 7489 §7.1, kept by RFC 9990).
	External bool
	// Name is the authorization record's name,
	// <policy domain>._report._dmarc.<destination domain>.
	Name string
	// Status is the outcome of its lookup; Authorized is set when it holds
	// at least one v=DMARC1 record.
	Status     resolver.Status
	Err        error
	Authorized bool
}

// Unknown reports whether the authorization could not be looked up.
func (d Destination) Unknown() bool { return d.External && !d.Status.Known() }

// VerifyDestinations checks every external report address of uris (a
// policy's rua= or ruf=) for policyDomain, at once.
func VerifyDestinations(ctx context.Context, r resolver.Resolver, policyDomain string, uris []URI) []Destination {
	policyDomain = strings.TrimSuffix(strings.ToLower(policyDomain), ".")
	out := make([]Destination, len(uris))
	var wg sync.WaitGroup
	for i, u := range uris {
		out[i] = Destination{URI: u, External: !sameOrganization(policyDomain, u.Domain)}
		if !out[i].External {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &out[i]
			d.Name = policyDomain + "._report._dmarc." + u.Domain
			a := r.Lookup(ctx, d.Name, dns.TypeTXT)
			d.Status, d.Err = a.Status, a.Err
			n := 0
			for _, t := range a.TXT() {
				if isDMARC1(t) {
					n++
				}
			}
			// RFC 7489 §7.1 steps 5-7 (RFC 9990 §4): records not starting
			// with v=DMARC1 are discarded; at least one left authorizes.
			d.Authorized = n >= 1
		}()
	}
	wg.Wait()
	return out
}

// isDMARC1 reports whether txt starts with the v=DMARC1 tag.
func isDMARC1(txt string) bool {
	v, _, _ := strings.Cut(txt, ";")
	name, value, ok := strings.Cut(v, "=")
	return ok && strings.TrimSpace(name) == "v" && strings.TrimSpace(value) == "DMARC1"
}

// sameOrganization reports whether a and b share an organizational domain
// by the Public Suffix List, as RFC 7489 §7.1 step 1 compares them.
func sameOrganization(a, b string) bool {
	oa, err1 := publicsuffix.EffectiveTLDPlusOne(a)
	ob, err2 := publicsuffix.EffectiveTLDPlusOne(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return oa == ob
}
