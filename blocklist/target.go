package blocklist

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/mailtriage/mailtriage/dnsbl"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Target is one thing to look up: an address, or a domain at its
// registered-domain level.
type Target struct {
	Input string     `json:"input"`   // as given
	Query string     `json:"checked"` // what the lists are asked
	Kind  dnsbl.Kind `json:"kind"`
	Note  string     `json:"note,omitempty"`
}

// ErrTarget is wrapped by the errors of targets that can't be looked up.
var ErrTarget = errors.New("blocklist: cannot look up")

var lookupProfile = idna.New(idna.MapForLookup(), idna.VerifyDNSLength(true), idna.BidiRule())

// ParseTarget reads an address or a domain. Domains are asked at their
// registered-domain level (mail.example.co.uk as example.co.uk), since
// domain lists list those.
func ParseTarget(s string) (Target, error) {
	in := strings.TrimSpace(s)
	t := Target{Input: in}
	if in == "" {
		return t, fmt.Errorf("%w: an empty target", ErrTarget)
	}
	if _, err := netip.ParsePrefix(in); err == nil {
		return t, fmt.Errorf("%w %q: a CIDR range; lists answer for single addresses, so give the addresses that send", ErrTarget, in)
	}
	if host, ok := urlHost(in); ok {
		// URI lists (SURBL, URIBL) list the hosts of links: a URL pasted
		// from a message is asked by its host (RFC 3986 §3.2.2).
		t.Note = "checked by its host " + host
		in = host
	}
	if strings.Contains(in, "/") {
		return t, fmt.Errorf("%w %q: neither an IP address, a domain name nor a URL", ErrTarget, t.Input)
	}
	if ap, err := netip.ParseAddrPort(in); err == nil {
		return t, fmt.Errorf("%w %q: an address with a port; give the address alone (%s)", ErrTarget, in, ap.Addr())
	}
	if ip, err := netip.ParseAddr(strings.Trim(in, "[]")); err == nil {
		ip = ip.Unmap()
		if why := notListable(ip); why != "" {
			return t, fmt.Errorf("%w %s: %s, so no list can list it", ErrTarget, ip, why)
		}
		t.Query, t.Kind = ip.String(), dnsbl.IP
		return t, nil
	}
	d, err := lookupProfile.ToASCII(strings.TrimSuffix(in, "."))
	if err != nil || !strings.Contains(d, ".") {
		return t, fmt.Errorf("%w %q: neither an IP address nor a domain name", ErrTarget, in)
	}
	d = strings.ToLower(d)
	reg, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return t, fmt.Errorf("%w %q: a public suffix, which no one registers", ErrTarget, in)
	}
	t.Query, t.Kind = reg, dnsbl.Domain
	if reg != d {
		t.Note = strings.TrimPrefix(t.Note+"; checked as "+reg+", its registered domain: domain lists list those", "; ")
	}
	return t, nil
}

// urlHost returns the host of a URL (scheme://host[:port]/path) or of a
// host followed by a path (example.com/page), without brackets or port.
func urlHost(s string) (string, bool) {
	if !strings.Contains(s, "://") {
		host, _, ok := strings.Cut(s, "/")
		if _, err := netip.ParseAddr(host); !ok || host == "" || strings.Contains(host, ":") || err == nil {
			return "", false // no host, or a malformed CIDR range
		}
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "", false
	}
	return u.Hostname(), true
}

// notListable says why an address is not on the internet, or "".
func notListable(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address (RFC 1918, RFC 4193)"
	case ip.IsLinkLocalUnicast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "the unspecified address"
	case ip.IsMulticast():
		return "a multicast address"
	case !ip.IsGlobalUnicast():
		return "not a unicast address"
	}
	for _, r := range reserved {
		if r.p.Contains(ip) {
			return r.why
		}
	}
	return ""
}

var reserved = []struct {
	p   netip.Prefix
	why string
}{
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT space (RFC 6598)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol space (RFC 6890)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking space (RFC 2544)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved space (RFC 1112)"},
}

// isIPv6 reports whether the target is an IPv6 address.
func (t Target) isIPv6() bool {
	if t.Kind != dnsbl.IP {
		return false
	}
	ip, err := netip.ParseAddr(t.Query)
	return err == nil && ip.Is6()
}
