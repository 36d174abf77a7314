package dmarcsum

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Known is the sender's declared list: the sources that may send as the
// domain. A passing source outside it is flagged unverified, and a
// DKIM-only pass from outside it reads as forwarding.
//
// The file (--known FILE) has one entry a line; '#' starts a comment:
//
//	# our own MTAs
//	ip 192.0.2.10
//	ip 198.51.100.0/24
//	2001:db8:5::/48              an address or prefix alone is an ip entry
//	rdns *.mta.example.com       a reverse DNS pattern, "*" any characters
//	rdns mail.example.net        one name
//	service SendGrid             every source the services list calls SendGrid
//
// Service names are those of the services list (built in, or --services),
// matched without regard to case; a name it does not hold is an error, so
// a typo does not silently leave a platform undeclared. rdns and service
// entries rely on the reverse DNS looked up at import, which keeps only
// forward-confirmed names: anyone can point the PTR of their own address
// at a name under google.com, not the name back at their address.
type Known struct {
	prefixes []netip.Prefix
	rdns     []string
	services map[string]bool
	entries  int
}

// ParseKnown reads a declared list; name names it in errors, services
// checks the service entries.
func ParseKnown(r io.Reader, name string, services *Services) (*Known, error) {
	k := &Known{services: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if err := k.add(fields, services); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		k.entries++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

func (k *Known) add(fields []string, services *Services) error {
	kind, rest := strings.ToLower(fields[0]), fields[1:]
	if _, err := parsePrefix(fields[0]); err == nil {
		kind, rest = "ip", fields
	}
	switch kind {
	case "ip":
		if len(rest) != 1 {
			return fmt.Errorf("ip takes one address or prefix, like 192.0.2.10 or 198.51.100.0/24")
		}
		p, err := parsePrefix(rest[0])
		if err != nil {
			return err
		}
		k.prefixes = append(k.prefixes, p)
	case "rdns":
		if len(rest) != 1 {
			return fmt.Errorf("rdns takes one name or pattern, like *.mta.example.com")
		}
		p, err := normPattern(rest[0])
		if err != nil {
			return err
		}
		k.rdns = append(k.rdns, p)
	case "service":
		if len(rest) == 0 {
			return fmt.Errorf("service takes a service's name, like SendGrid")
		}
		want := strings.Join(rest, " ")
		name, ok := services.Lookup(want)
		if !ok {
			return fmt.Errorf("no service %q in the services list (it has %s)", want, strings.Join(services.Names(), ", "))
		}
		k.services[name] = true
	default:
		return fmt.Errorf("%q: want an entry 'ip ADDRESS[/BITS]', 'rdns PATTERN' or 'service NAME'", fields[0])
	}
	return nil
}

// parsePrefix reads an address as a one-address prefix, or a prefix; the
// bits beyond the prefix length are cleared (198.51.100.7/24 means the /24).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address prefix: %w", s, err)
		}
		if p.Addr().Is4In6() && p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q mixes IPv4-mapped and IPv6 addresses", s)
		}
		return netip.PrefixFrom(p.Addr().Unmap().WithZone(""), p.Bits()-unmapBits(p.Addr())).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address", s)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// unmapBits is what an IPv4-mapped IPv6 prefix (::ffff:192.0.2.0/120)
// loses in length when read as IPv4.
func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// Len is the number of entries.
func (k *Known) Len() int {
	if k == nil {
		return 0
	}
	return k.entries
}

// Has reports whether a source is declared: by its address, its reverse
// DNS name, or the service that name belongs to. A nil list declares
// nothing.
func (k *Known) Has(ip netip.Addr, rdns, service string) bool {
	if k == nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range k.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	if service != "" && k.services[service] {
		return true
	}
	if rdns = normName(rdns); rdns != "" {
		for _, p := range k.rdns {
			if matchName(p, rdns) {
				return true
			}
		}
	}
	return false
}
