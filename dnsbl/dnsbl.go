// Package dnsbl asks DNS blocklists and allowlists (DNSBL, RHSBL) about
// an address or a domain, as RFC 5782 describes them: an IPv4 address is
// looked up as its reversed octets under the list's zone, an IPv6 address
// as its reversed nibbles, a domain as itself; an A record in 127.0.0.0/8
// says it is listed, and a TXT record at the same name often says why.
//
// The answer must be read per zone: lists answer codes that mean "query
// refused" (Spamhaus 127.255.255.254 for public resolvers, URIBL
// 127.0.0.1), and reading any answer as "listed" is the classic false
// positive. A Zone says which codes mean what, and Check tells a zone's
// test entries apart, so a zone that answers them wrongly is "unavailable",
// never "clean". A lookup that fails is "unknown".
package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Kind is what a zone lists.
type Kind string

const (
	IP     Kind = "ip"     // addresses (DNSBL)
	Domain Kind = "domain" // domain names (RHSBL, URI lists)
)

// Class is what a return code means.
type Class string

const (
	Listed  Class = "listed"  // the target is on the list
	Allowed Class = "allowed" // on an allowlist: a positive signal
	Neutral Class = "neutral" // a code that is not a listing (Hostkarma's yellow, a reputation step)
	Refused Class = "refused" // the list refused the query (public resolver, volume, bad zone name)
)

// Code is one return code of a zone and its meaning. For a bitmask zone
// (URIBL, SURBL) Bit is the bit of the last octet that carries it.
type Code struct {
	Value   netip.Addr
	Bit     uint8
	Class   Class
	Meaning string
}

// Zone is one list.
type Zone struct {
	Name    string // the zone queried: zen.spamhaus.org
	Kind    Kind
	Bitmask bool // the last octet is a set of bits, each a sub-list
	Codes   []Code
	// Default is the class of a code the zone does not document: Listed
	// ("" too) for a blocklist, Allowed for an allowlist whose codes
	// encode categories (DNSWL's 127.0.x.y).
	Default Class
	// TestListed is an entry the list always lists (127.0.0.2,
	// dbltest.com); TestClean one it never lists (127.0.0.1 for IP lists,
	// RFC 5782 §5). Either may be empty.
	TestListed, TestClean string
}

// Status is the outcome of one lookup.
type Status string

const (
	StatusListed      Status = "listed"      // a listing code
	StatusAllowed     Status = "allowed"     // on an allowlist
	StatusClean       Status = "clean"       // NXDOMAIN, or only neutral codes
	StatusRefused     Status = "refused"     // the list refused to answer
	StatusUnknown     Status = "unknown"     // the lookup failed, or the answer made no sense
	StatusUnavailable Status = "unavailable" // the zone failed its test entries (set by the caller)
)

// Result is what a zone said about a target.
type Result struct {
	Zone   string
	Target string
	Query  string // the name asked
	Status Status
	// Codes are the A records answered; Matched their meanings, in
	// order; a code the zone does not define is read as listed, with the
	// meaning "unknown code".
	Codes   []netip.Addr
	Matched []Code
	// TXT is the list's reason, when it gives one.
	TXT []string
	Err error
}

// ErrTarget is wrapped by the errors about targets that can't be asked.
var ErrTarget = errors.New("dnsbl: not a target")

// QueryName returns the name to ask zone about target: an address for an
// IP zone, a domain for a domain zone (RFC 5782 §2.1, §2.4, §3).
func QueryName(z Zone, target string) (string, error) {
	zone := strings.Trim(strings.ToLower(z.Name), ".")
	switch z.Kind {
	case IP:
		ip, err := netip.ParseAddr(target)
		if err != nil {
			return "", fmt.Errorf("%w: %q is not an IP address, and %s lists addresses", ErrTarget, target, z.Name)
		}
		return reverse(ip.Unmap()) + "." + zone, nil
	case Domain:
		// Single labels are allowed: RFC 5782 §5's test entries are TEST
		// and INVALID.
		d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(target)), ".")
		if _, err := netip.ParseAddr(d); err == nil || d == "" || strings.ContainsAny(d, " /:") {
			return "", fmt.Errorf("%w: %q is not a domain, and %s lists domains", ErrTarget, target, z.Name)
		}
		return d + "." + zone, nil
	}
	return "", fmt.Errorf("dnsbl: zone %s: unknown kind %q", z.Name, z.Kind)
}

// reverse writes an address as RFC 5782 asks: 192.0.2.99 as 99.2.0.192,
// 2001:db8:1:2:3:4:567:89ab as its 32 nibbles, last first.
func reverse(ip netip.Addr) string {
	if ip.Is4() {
		b := ip.As4()
		return fmt.Sprintf("%d.%d.%d.%d", b[3], b[2], b[1], b[0])
	}
	b := ip.As16()
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 63)
	for i := len(b) - 1; i >= 0; i-- {
		if len(out) > 0 {
			out = append(out, '.')
		}
		out = append(out, hex[b[i]&0xf], '.', hex[b[i]>>4])
	}
	return string(out)
}

// loopback is where RFC 5782 §2.1 puts listing codes.
var loopback = netip.MustParsePrefix("127.0.0.0/8")

// Lookup asks zone about target.
func Lookup(ctx context.Context, r resolver.Resolver, z Zone, target string) Result {
	q, err := QueryName(z, target)
	if err != nil {
		return Result{Zone: z.Name, Target: target, Status: StatusUnknown, Err: err}
	}
	return lookupName(ctx, r, z, target, q)
}

// lookupName asks zone the query name q, made from target.
func lookupName(ctx context.Context, r resolver.Resolver, z Zone, target, q string) Result {
	res := Result{Zone: z.Name, Target: target, Query: q}
	a := r.Lookup(ctx, q, dns.TypeA)
	switch a.Status {
	case resolver.NXDomain, resolver.NoData:
		res.Status = StatusClean
		return res
	case resolver.OK:
	default:
		res.Status, res.Err = StatusUnknown, fmt.Errorf("%s: %s: %w", q, a.Status, a.Err)
		return res
	}
	for _, rr := range a.Records {
		if rec, ok := rr.(*dns.A); ok {
			if ip, ok := netip.AddrFromSlice(rec.A.To4()); ok {
				res.Codes = append(res.Codes, ip)
			}
		}
	}
	res.Status, res.Matched, res.Err = z.read(res.Codes)
	if res.Status == StatusListed || res.Status == StatusAllowed {
		res.TXT = r.Lookup(ctx, q, dns.TypeTXT).TXT()
	}
	return res
}

// read says what the codes answered mean: a refusal wins over everything,
// since the list did not really answer; then a listing; then an
// allowlisting; else clean.
func (z Zone) read(codes []netip.Addr) (Status, []Code, error) {
	var matched []Code
	for _, c := range codes {
		if !loopback.Contains(c) {
			// RFC 5782 §2.1: codes are in 127/8; anything else is a broken
			// or hijacked answer (an ISP's NXDOMAIN redirection).
			return StatusUnknown, nil, fmt.Errorf("%s answered %s, outside 127.0.0.0/8: a broken answer or a resolver that rewrites NXDOMAIN", z.Name, c)
		}
		matched = append(matched, z.meanings(c)...)
	}
	status := StatusClean
	for _, m := range matched {
		switch {
		case m.Class == Refused:
			return StatusRefused, matched, nil
		case m.Class == Listed:
			status = StatusListed
		case m.Class == Allowed && status == StatusClean:
			status = StatusAllowed
		}
	}
	return status, matched, nil
}

// meanings returns the codes of the zone that c carries.
func (z Zone) meanings(c netip.Addr) []Code {
	for _, k := range z.Codes {
		if k.Bit == 0 && k.Value == c {
			return []Code{k} // an exact code (a bitmask zone's refusal too)
		}
	}
	var out []Code
	if z.Bitmask {
		last := c.As4()[3]
		for _, k := range z.Codes {
			if k.Bit != 0 && last&k.Bit != 0 {
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 {
		if z.Default == Allowed {
			return []Code{{Value: c, Class: Allowed, Meaning: "a code of the allowlist"}}
		}
		out = append(out, Code{Value: c, Class: Listed, Meaning: "a code the list does not document: read as listed"})
	}
	return out
}
