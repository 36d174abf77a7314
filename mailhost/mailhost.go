// Package mailhost checks the DNS names of mail hosts, as receivers see
// them: a domain's MX records (RFC 5321 §5.1, null MX of RFC 7505), the
// reverse DNS of a sending address and whether it confirms forward
// (FCrDNS, the "iprev" of RFC 8601 §3), and the name a client gives in
// HELO/EHLO (RFC 5321 §4.1.1.1 and §2.3.5).
//
// Receivers such as Gmail, Yahoo and Microsoft refuse or junk mail from an
// address without reverse DNS, or whose name does not resolve back to it,
// and score down generic names (198-51-100-21.dsl.example.net): this
// package tells which of those a host has.
package mailhost

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Addresses is what the A and AAAA lookups of a host name gave.
type Addresses struct {
	Addrs []netip.Addr
	// Status is OK when either lookup found addresses; otherwise the worse
	// of the two outcomes, so a failed lookup is never read as "no address".
	Status resolver.Status
	Err    error
	// CNAMEs is the alias chain, when the name is an alias.
	CNAMEs []string
}

// LookupAddrs asks for the A and AAAA records of name at once.
func LookupAddrs(ctx context.Context, r resolver.Resolver, name string) Addresses {
	var a4, a6 resolver.Answer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a4 = r.Lookup(ctx, name, dns.TypeA) }()
	go func() { defer wg.Done(); a6 = r.Lookup(ctx, name, dns.TypeAAAA) }()
	wg.Wait()
	var out Addresses
	for _, a := range []resolver.Answer{a4, a6} {
		for _, rr := range a.Records {
			switch rr := rr.(type) {
			case *dns.A:
				if ip, ok := netip.AddrFromSlice(rr.A.To4()); ok {
					out.Addrs = append(out.Addrs, ip)
				}
			case *dns.AAAA:
				if ip, ok := netip.AddrFromSlice(rr.AAAA); ok {
					out.Addrs = append(out.Addrs, ip)
				}
			}
		}
		if len(a.CNAMEs) > len(out.CNAMEs) {
			out.CNAMEs = a.CNAMEs
		}
	}
	out.Status, out.Err = combine(a4, a6)
	if len(out.Addrs) > 0 {
		out.Status, out.Err = resolver.OK, nil
	}
	return out
}

// combine returns the outcome of two lookups of one name: a failure of
// either wins over a negative answer, since the other type might have been
// there; NODATA wins over NXDOMAIN (the name exists).
func combine(a, b resolver.Answer) (resolver.Status, error) {
	for _, x := range []resolver.Answer{a, b} {
		if !x.Status.Known() {
			return x.Status, x.Err
		}
	}
	if a.Status == resolver.NXDomain && b.Status == resolver.NXDomain {
		return resolver.NXDomain, nil
	}
	return resolver.NoData, nil
}

// Has reports whether ip is among the addresses.
func (a Addresses) Has(ip netip.Addr) bool {
	for _, x := range a.Addrs {
		if x == ip.Unmap() {
			return true
		}
	}
	return false
}

// Problem is one thing a receiver or a sending MTA will hold against a
// host name.
type Problem struct {
	Kind    Kind
	Message string
}

func (p Problem) String() string { return p.Message }

func problemf(k Kind, format string, args ...any) Problem {
	return Problem{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Kind names a Problem, stably.
type Kind string

// The kinds of Problem.
const (
	NullMXPreference Kind = "null-mx-preference" // RFC 7505 §3: preference 0
	NullMXMixed      Kind = "null-mx-mixed"      // a null MX beside others
	MXIPLiteral      Kind = "mx-ip-literal"      // an MX that names an address
	MXAlias          Kind = "mx-alias"           // an MX that names a CNAME
	MXNoAddress      Kind = "mx-no-address"      // an MX host without A or AAAA
	MXPrivateAddress Kind = "mx-private-address" // an MX host at a non-public address
	MXUnreachable    Kind = "mx-unreachable"     // no MX host with a public address
	NoAddress        Kind = "no-address"         // no MX, and the domain has no address
	NoPTR            Kind = "no-ptr"
	ManyPTR          Kind = "many-ptr"
	NotConfirmed     Kind = "not-confirmed" // no PTR name resolves back
	GenericPTR       Kind = "generic-ptr"
	HELOLiteral      Kind = "helo-literal"
	HELOBareIP       Kind = "helo-bare-ip"
	HELONotFQDN      Kind = "helo-not-fqdn"
	HELONotFound     Kind = "helo-not-found"
	HELOMismatch     Kind = "helo-mismatch"
	HELOGeneric      Kind = "helo-generic"
)

// trimDot lowers name and drops its final dot.
func trimDot(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// Public reports whether ip is routable on the internet: not private
// (RFC 1918, RFC 4193), loopback, link-local, unspecified, shared
// (RFC 6598) or benchmarking space. A mail host published at such an
// address can't be reached from outside.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // RFC 6598 shared address space
	netip.MustParsePrefix("192.0.0.0/24"),  // RFC 6890 IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // RFC 2544 benchmarking
}
