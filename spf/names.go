package spf

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Domain names in this package are "raw": labels of any bytes separated
// by dots, as SPF text and macro expansion make them. miekg/dns, and so
// the resolver, take and give names in presentation format, where some
// bytes are escaped ("\ ", "\@", "\DDD"), and give TXT strings escaped
// the same way. queryName and unescape convert between the two.

// queryName returns raw in the presentation format miekg/dns gives names
// when it reads them from the wire, so the resolver matches the answer's
// owner names with the name asked.
func queryName(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '.':
			b.WriteByte('.')
		case c == ' ' || c == '\'' || c == '@' || c == ';' || c == '(' || c == ')' || c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescape turns a name or a TXT string in presentation format ("\DDD",
// "\X") back into its bytes.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); n <= 255 {
				b = append(b, byte(n))
				i += 3
				continue
			}
		}
		i++
		b = append(b, s[i])
	}
	return string(b)
}

// validDNSName reports whether raw can be asked of the DNS: 1 to 63 bytes a
// label, 253 in all (RFC 1035 §2.3.4). A name the DNS cannot hold is taken
// as one that does not exist (RFC 7208 §4.3, §4.8), without a query. A
// trailing space is refused too: the resolver trims it.
func validDNSName(raw string) bool {
	if raw == "" || len(raw) > 253 || raw[len(raw)-1] == ' ' {
		return false
	}
	for l := range strings.SplitSeq(raw, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

// validDomain reports whether domain can be the <domain> of check_host()
// (§4.3): a multi-label name the DNS can hold, of printable ASCII, not a
// domain literal ("[192.0.2.1]"). A trailing dot is allowed.
func validDomain(domain string) bool {
	d := strings.TrimSuffix(domain, ".")
	if !validDNSName(d) || !strings.Contains(d, ".") {
		return false
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c <= ' ' || c > '~' || strings.IndexByte(`[]@\"`, c) >= 0 {
			return false
		}
	}
	return true
}

// truncateName removes labels from the left of an expanded name longer
// than 253 bytes until it fits (§7.3).
func truncateName(s string) string {
	for len(s) > 253 {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	return s
}

// sameOrSub reports whether name is domain or a name under it, ignoring
// case and trailing dots.
func sameOrSub(name, domain string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	return name == domain || strings.HasSuffix(name, "."+domain)
}

// reverseName returns the PTR name of ip (RFC 1035 §3.5, RFC 3596 §2.5).
func reverseName(ip netip.Addr) string {
	if ip.Is4() {
		b := ip.As4()
		return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", b[3], b[2], b[1], b[0])
	}
	return nibbles(ip, true) + ".ip6.arpa."
}

// nibbles returns ip's 32 hex digits separated by dots, lower case as in
// RFC 7208 §7.4's example, in reverse order if asked (the "i" macro,
// §7.3; the ip6.arpa name, RFC 3596 §2.5).
func nibbles(ip netip.Addr, reverse bool) string {
	const hex = "0123456789abcdef"
	var n []byte
	for _, x := range ip.As16() {
		n = append(n, hex[x>>4], hex[x&15])
	}
	if reverse {
		slices.Reverse(n)
	}
	out := make([]byte, 0, 2*len(n))
	for i, c := range n {
		if i > 0 {
			out = append(out, '.')
		}
		out = append(out, c)
	}
	return string(out)
}
