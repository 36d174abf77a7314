package mailhost

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// MX is one mail exchanger of a domain.
type MX struct {
	Preference uint16
	Host       string // lower case, no final dot; "" for a null MX
	Addresses
}

// MXSet is what a domain publishes for receiving mail.
type MXSet struct {
	Domain string
	// Status and Err are the outcome of the MX lookup.
	Status resolver.Status
	Err    error
	// Hosts in preference order, each with its addresses.
	Hosts []MX
	// Null: the domain says it accepts no mail (RFC 7505 §3: one MX,
	// preference 0, host ".").
	Null bool
	// Implicit: there is no MX record, so senders deliver to the
	// domain's own address (RFC 5321 §5.1); Hosts holds it if it has one.
	Implicit bool
	// Problems are what a sender's MTA will stumble on.
	Problems []Problem
}

// LookupMX reads the MX records of domain and resolves every host at
// once.
func LookupMX(ctx context.Context, r resolver.Resolver, domain string) MXSet {
	set := MXSet{Domain: trimDot(domain)}
	a := r.Lookup(ctx, set.Domain, dns.TypeMX)
	set.Status, set.Err = a.Status, a.Err
	switch a.Status {
	case resolver.OK:
	case resolver.NoData:
		// RFC 5321 §5.1: no MX means the domain itself is the host.
		set.Implicit = true
		set.Hosts = []MX{{Host: set.Domain}}
	default:
		return set
	}
	for _, rr := range a.Records {
		if mx, ok := rr.(*dns.MX); ok {
			set.Hosts = append(set.Hosts, MX{Preference: mx.Preference, Host: trimDot(mx.Mx)})
		}
	}
	slices.SortStableFunc(set.Hosts, func(a, b MX) int {
		return cmp.Or(cmp.Compare(a.Preference, b.Preference), cmp.Compare(a.Host, b.Host))
	})
	if set.null() {
		return set
	}
	set.resolve(ctx, r)
	set.Problems = append(set.Problems, set.hostProblems()...)
	return set
}

// null recognises a null MX, and the mistake of mixing one with real
// hosts (RFC 7505 §3: "MUST NOT publish any other MX records").
func (s *MXSet) null() bool {
	nulls := 0
	for _, h := range s.Hosts {
		if h.Host == "" {
			nulls++
		}
	}
	switch {
	case nulls == 0:
		return false
	case len(s.Hosts) == 1 && s.Hosts[0].Preference == 0:
		s.Null = true
		return true
	case len(s.Hosts) == 1:
		s.Null = true
		s.Problems = append(s.Problems, problemf(NullMXPreference, "null MX with preference %d; RFC 7505 §3 asks for 0", s.Hosts[0].Preference))
		return true
	default:
		s.Problems = append(s.Problems, problemf(NullMXMixed, "a null MX (\".\") beside other MX records: RFC 7505 §3 forbids it, and senders may try to deliver to \".\""))
		s.Hosts = slices.DeleteFunc(s.Hosts, func(h MX) bool { return h.Host == "" })
		return false
	}
}

// resolve looks up the addresses of every host in parallel.
func (s *MXSet) resolve(ctx context.Context, r resolver.Resolver) {
	var wg sync.WaitGroup
	for i := range s.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Hosts[i].Addresses = LookupAddrs(ctx, r, s.Hosts[i].Host)
		}()
	}
	wg.Wait()
}

// hostProblems says what is wrong with the hosts themselves.
func (s *MXSet) hostProblems() []Problem {
	var out []Problem
	reachable := 0
	for _, h := range s.Hosts {
		if _, err := netip.ParseAddr(h.Host); err == nil {
			out = append(out, problemf(MXIPLiteral, "MX %s is an IP address; RFC 5321 §5.1 requires a host name", h.Host))
			continue
		}
		if len(h.CNAMEs) > 0 && !s.Implicit {
			// RFC 2181 §10.3: an MX must not point at an alias.
			out = append(out, problemf(MXAlias, "MX %s is an alias (CNAME to %s); RFC 2181 §10.3 says an MX must name the host itself", h.Host, h.CNAMEs[len(h.CNAMEs)-1]))
		}
		switch h.Status {
		case resolver.OK:
		case resolver.NXDomain, resolver.NoData:
			if s.Implicit {
				out = append(out, problemf(NoAddress, "%s has no MX record and no address (%s): mail to it cannot be delivered", h.Host, h.Status))
			} else {
				out = append(out, problemf(MXNoAddress, "MX %s has no address (%s)", h.Host, h.Status))
			}
			continue
		default:
			continue // unknown, not wrong
		}
		public := 0
		for _, ip := range h.Addrs {
			if Public(ip) {
				public++
			} else {
				out = append(out, problemf(MXPrivateAddress, "MX %s has the non-public address %s", h.Host, ip))
			}
		}
		if public > 0 {
			reachable++
		}
	}
	if reachable == 0 && len(s.Hosts) > 0 && s.allKnown() && len(out) == 0 || reachable == 0 && len(s.Hosts) > 1 && s.allKnown() {
		out = append(out, problemf(MXUnreachable, "no MX host has a public address: mail to the domain cannot be delivered"))
	}
	return out
}

func (s *MXSet) allKnown() bool {
	for _, h := range s.Hosts {
		if !h.Status.Known() {
			return false
		}
	}
	return true
}
