package mailhost

import (
	"context"
	"net/netip"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Reverse is the reverse DNS of an address and its forward confirmation.
type Reverse struct {
	IP netip.Addr
	// Name is the PTR name asked (21.100.51.198.in-addr.arpa).
	Name string
	// Status and Err are the outcome of the PTR lookup.
	Status resolver.Status
	Err    error
	// PTR are the names found, lower case, no final dot.
	PTR []string
	// Forward holds each PTR name's addresses.
	Forward map[string]Addresses
	// Confirmed are the PTR names whose addresses include IP: the
	// forward-confirmed reverse DNS (FCrDNS) receivers ask for.
	Confirmed []string
	// Generic is set when every PTR name looks assigned by an access or
	// cloud provider rather than chosen for a mail server.
	Generic bool
}

// LookupReverse reads the PTR records of ip and looks every name up
// forward, at once.
func LookupReverse(ctx context.Context, r resolver.Resolver, ip netip.Addr) Reverse {
	ip = ip.Unmap()
	rev := Reverse{IP: ip, Forward: map[string]Addresses{}}
	rev.Name, _ = dns.ReverseAddr(ip.String())
	a := r.Lookup(ctx, rev.Name, dns.TypePTR)
	rev.Status, rev.Err = a.Status, a.Err
	for _, rr := range a.Records {
		if p, ok := rr.(*dns.PTR); ok {
			rev.PTR = append(rev.PTR, trimDot(p.Ptr))
		}
	}
	forward := make([]Addresses, len(rev.PTR))
	var wg sync.WaitGroup
	for i, name := range rev.PTR {
		wg.Add(1)
		go func() {
			defer wg.Done()
			forward[i] = LookupAddrs(ctx, r, name)
		}()
	}
	wg.Wait()
	generic := len(rev.PTR) > 0
	for i, name := range rev.PTR {
		rev.Forward[name] = forward[i]
		if forward[i].Has(ip) {
			rev.Confirmed = append(rev.Confirmed, name)
		}
		generic = generic && Generic(name, ip)
	}
	rev.Generic = generic
	return rev
}

// ForwardUnknown reports whether a forward lookup failed, so that a
// missing confirmation may only be a failure to look.
func (r Reverse) ForwardUnknown() bool {
	for _, f := range r.Forward {
		if !f.Status.Known() {
			return true
		}
	}
	return false
}

// Problems says what a receiver will hold against the address.
func (r Reverse) Problems() []Problem {
	switch {
	case r.Status == resolver.NXDomain || r.Status == resolver.NoData:
		return []Problem{problemf(NoPTR, "%s has no reverse DNS (PTR %s: %s)", r.IP, r.Name, r.Status)}
	case r.Status != resolver.OK:
		return nil
	}
	var out []Problem
	if len(r.PTR) > 1 {
		out = append(out, problemf(ManyPTR, "%s has %d PTR records; receivers may check any one of them, so publish one", r.IP, len(r.PTR)))
	}
	if len(r.Confirmed) == 0 && !r.ForwardUnknown() {
		out = append(out, problemf(NotConfirmed, "the reverse DNS of %s (%s) does not resolve back to it: no forward-confirmed rDNS", r.IP, r.PTR[0]))
	}
	if r.Generic {
		out = append(out, problemf(GenericPTR, "the reverse DNS of %s (%s) looks generic, as an access or cloud provider assigns it", r.IP, r.PTR[0]))
	}
	return out
}
