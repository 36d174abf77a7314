package mailhost

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/mailtriage/mailtriage/resolver"
)

// HELO is what a receiver makes of the name a client gives in HELO/EHLO.
type HELO struct {
	Name string
	// Literal is set for an address literal ("[198.51.100.21]"), which
	// RFC 5321 §4.1.4 allows only when the client has no name.
	Literal bool
	// Addresses of the name, when it is a name.
	Addresses
	// MatchesIP: the name resolves to the sending address.
	MatchesIP bool
	Generic   bool
	// Problems are what receivers hold against it.
	Problems []Problem
}

// CheckHELO checks name as the HELO of a client sending from ip (ip may be
// the zero Addr when unknown).
func CheckHELO(ctx context.Context, r resolver.Resolver, name string, ip netip.Addr) HELO {
	h := HELO{Name: trimDot(name)}
	if lit, ok := literal(h.Name); ok {
		h.Literal = true
		h.MatchesIP = ip.IsValid() && lit == ip.Unmap()
		h.Problems = append(h.Problems, problemf(HELOLiteral, "HELO %s is an address literal; many receivers (Gmail, Microsoft) score a client without a name down", name))
		if ip.IsValid() && !h.MatchesIP {
			h.Problems = append(h.Problems, problemf(HELOMismatch, "HELO %s is not the sending address %s", name, ip))
		}
		return h
	}
	if a, err := netip.ParseAddr(h.Name); err == nil {
		h.Problems = append(h.Problems, problemf(HELOBareIP, "HELO %s is a bare IP address; RFC 5321 §4.1.1.1 requires a domain name or an address literal in brackets", a))
		return h
	}
	if !strings.Contains(h.Name, ".") || h.Name == "localhost" || strings.HasSuffix(h.Name, ".localdomain") || strings.HasSuffix(h.Name, ".local") {
		h.Problems = append(h.Problems, problemf(HELONotFQDN, "HELO %s is not a fully qualified domain name (RFC 5321 §2.3.5)", name))
	}
	h.Addresses = LookupAddrs(ctx, r, h.Name)
	h.MatchesIP = ip.IsValid() && h.Has(ip)
	h.Generic = ip.IsValid() && Generic(h.Name, ip)
	switch {
	case h.Status == resolver.NXDomain || h.Status == resolver.NoData:
		h.Problems = append(h.Problems, problemf(HELONotFound, "HELO %s does not resolve (%s); receivers reject or score down a name that does not exist", h.Name, h.Status))
	case h.Status == resolver.OK && ip.IsValid() && !h.MatchesIP:
		h.Problems = append(h.Problems, problemf(HELOMismatch, "HELO %s resolves to %s, not to the sending address %s", h.Name, joinAddrs(h.Addrs), ip))
	}
	if h.Generic {
		h.Problems = append(h.Problems, problemf(HELOGeneric, "HELO %s looks generic, a name an access or cloud provider assigns", h.Name))
	}
	return h
}

func joinAddrs(a []netip.Addr) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}

// literal reads an RFC 5321 §4.1.3 address literal: [192.0.2.1] or
// [IPv6:2001:db8::1].
func literal(name string) (netip.Addr, bool) {
	if !strings.HasPrefix(name, "[") || !strings.HasSuffix(name, "]") {
		return netip.Addr{}, false
	}
	inner := name[1 : len(name)-1]
	if v6, ok := strings.CutPrefix(strings.ToLower(inner), "ipv6:"); ok {
		inner = v6
	}
	a, err := netip.ParseAddr(inner)
	return a.Unmap(), err == nil
}

// genericWords are labels that access and hosting providers put in the
// names they assign (the patterns SpamAssassin's RDNS_DYNAMIC and
// Spamhaus's PBL guidance describe).
var genericWords = regexp.MustCompile(`(^|[.\-_\d])(dyn|dynamic|dhcp|pool|dsl|adsl|xdsl|vdsl|cable|ppp|pppoe|dial|dialup|dialin|client|clients|broadband|cust|customer|resident|residential|static|unassigned|fibre|fiber|ftth)([.\-_\d]|$)`)

var digitRuns = regexp.MustCompile(`\d+`)

// cloudGeneric are the default names of cloud providers' instances.
var cloudGeneric = []string{".compute.amazonaws.com", ".compute.internal", ".bc.googleusercontent.com", ".cloudapp.azure.com", ".cloudapp.net", ".vultrusercontent.com", ".linodeusercontent.com", ".your-server.de", ".contaboserver.net", ".static.hetzner.com"}

// Generic reports whether name looks assigned to ip by an access or cloud
// provider rather than chosen for a mail server: it embeds the address
// (198-51-100-21, 21.100.51.198, c6336415 in hex), or carries words such
// as dynamic, dsl or pool next to numbers, or is a cloud default name.
func Generic(name string, ip netip.Addr) bool {
	name = trimDot(name)
	for _, c := range cloudGeneric {
		if strings.HasSuffix(name, c) {
			return true
		}
	}
	if ip.IsValid() && embedsAddr(name, ip.Unmap()) {
		return true
	}
	// A word alone (host.example.com) is a name someone chose; next to
	// digits (dsl-123.example.net) it is a pattern.
	first, _, _ := strings.Cut(name, ".")
	return genericWords.MatchString(first) && strings.ContainsAny(first, "0123456789")
}

// embedsAddr reports whether name spells out ip, in order or reversed,
// with any separator, or in hex.
func embedsAddr(name string, ip netip.Addr) bool {
	if !ip.Is4() {
		return strings.Contains(strings.ReplaceAll(name, "-", ":"), ip.StringExpanded()) ||
			strings.Contains(name, strings.ReplaceAll(ip.StringExpanded(), ":", ""))
	}
	b := ip.As4()
	o := [4]string{}
	for i, x := range b {
		o[i] = strconv.Itoa(int(x))
	}
	digits := digitRuns.FindAllString(name, -1)
	if containsRun(digits, o[:]) || containsRun(digits, []string{o[3], o[2], o[1], o[0]}) {
		return true
	}
	return strings.Contains(name, fmt.Sprintf("%02x%02x%02x%02x", b[0], b[1], b[2], b[3]))
}

// containsRun reports whether want appears as consecutive elements of s.
func containsRun(s, want []string) bool {
	for i := 0; i+len(want) <= len(s); i++ {
		match := true
		for j := range want {
			if s[i+j] != want[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
