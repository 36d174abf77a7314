package spf

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestCheckHost covers what the RFC 7208 suite does not: the result's
// details, failures of the resolver other than timeouts, escaped TXT
// text, a context that runs out.
func TestCheckHost(t *testing.T) {
	s, c := serve(t, `
@        IN TXT "v=spf1 ip4:192.0.2.0/24 include:inc.example.com redirect=red.example.com"
inc      IN TXT "v=spf1 ip6:2001:db8::/32 -all"
red      IN TXT "v=spf1 a:mail.example.com -all exp=why.example.com"
mail     IN A   198.51.100.7
why      IN TXT "%{i} may not send for \"%{d}\"; see http://example.com/spf?s=%{S}"
servfail IN TXT "v=spf1 -all"
refused  IN TXT "v=spf1 -all"
`)
	s.Fail("servfail.example.com", dns.RcodeServerFailure)
	s.Fail("refused.example.com", dns.RcodeRefused)
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		ip     string
		domain string
		want   Result
		err    error
	}{
		{"ip4 in the record", "192.0.2.7", "example.com", Result{Status: Pass, Domain: "example.com", Term: "ip4:192.0.2.0/24"}, nil},
		{"§5: IPv4-mapped IPv6 is IPv4", "::ffff:192.0.2.7", "example.com", Result{Status: Pass, Domain: "example.com", Term: "ip4:192.0.2.0/24"}, nil},
		{"§5.2: through an include, the including term", "2001:db8::1", "example.com.", Result{Status: Pass, Domain: "example.com", Term: "include:inc.example.com", Lookups: 1}, nil},
		{"§6.1: through a redirect, the target's record", "198.51.100.7", "example.com", Result{Status: Pass, Domain: "red.example.com", Term: "a:mail.example.com", Lookups: 3}, nil},
		{"§6.2: the explanation, escaped quotes read", "203.0.113.5", "example.com", Result{Status: Fail, Domain: "red.example.com", Term: "-all", Lookups: 3,
			Explanation: `203.0.113.5 may not send for "red.example.com"; see http://example.com/spf?s=user%40example.com`}, nil},
		{"§4.4: SERVFAIL is temperror", "192.0.2.7", "servfail.example.com", Result{Status: Temperror, Domain: "servfail.example.com"}, ErrDNS},
		{"§4.4: REFUSED is temperror", "192.0.2.7", "refused.example.com", Result{Status: Temperror, Domain: "refused.example.com"}, ErrDNS},
		{"§4.3: NXDOMAIN is none", "192.0.2.7", "nowhere.example.com", Result{Status: None, Domain: "nowhere.example.com"}, ErrNoRecord},
		{"§4.3: no SPF record is none", "192.0.2.7", "mail.example.com", Result{Status: None, Domain: "mail.example.com"}, ErrNoRecord},
		{"§4.3: a single label is none", "192.0.2.7", "localhost", Result{Status: None, Domain: "localhost"}, ErrInvalidDomain},
	} {
		res := CheckHost(ctx, c, netip.MustParseAddr(tt.ip), tt.domain, "user@example.com", "mail.example.com")
		err := res.Err
		res.Err = nil
		if res != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s:\n got %+v (%v)\nwant %+v (%v)", tt.name, res, err, tt.want, tt.err)
		}
	}

	if res := CheckHost(ctx, c, netip.Addr{}, "example.com", "user@example.com", ""); res.Status != Permerror || !errors.Is(res.Err, ErrInvalidIP) {
		t.Errorf("no IP: %+v", res)
	}
	// §4.6.4: a check that runs out of time is a temperror.
	s.Delay.Store(int64(300 * time.Millisecond))
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if res := CheckHost(short, c, netip.MustParseAddr("203.0.113.9"), "late.example.com", "user@late.example.com", ""); res.Status != Temperror {
		t.Errorf("out of time: %+v", res)
	}
}

func TestSenderIdentity(t *testing.T) {
	for _, tt := range []struct {
		mailFrom, helo, domain, sender string
	}{
		{"user@example.com", "mx.example.net", "example.com", "user@example.com"},
		{"<user@example.com>", "mx.example.net", "example.com", "user@example.com"},
		{"", "mx.example.net", "mx.example.net", "postmaster@mx.example.net"}, // §2.4: null reverse-path
		{"<>", "mx.example.net", "mx.example.net", "postmaster@mx.example.net"},
		{"a@b@example.com", "h", "example.com", "a@b@example.com"}, // the last @ splits
		{"@example.com", "h", "example.com", "@example.com"},       // §4.3: the checker puts postmaster in
	} {
		d, s := SenderIdentity(tt.mailFrom, tt.helo)
		if d != tt.domain || s != tt.sender {
			t.Errorf("SenderIdentity(%q, %q) = %q, %q; want %q, %q", tt.mailFrom, tt.helo, d, s, tt.domain, tt.sender)
		}
	}
}

// TestNames: names go to the resolver as miekg/dns writes them, and come
// back to bytes.
func TestNames(t *testing.T) {
	for _, tt := range []struct{ raw, query string }{
		{"mail.example.com", "mail.example.com"},
		{"foo:bar/baz.example.com", "foo:bar/baz.example.com"},
		{"macro%percent  space%20url.example.com", `macro%percent\ \ space%20url.example.com`},
		{"a\\b\"c@d.example.com", `a\\b\"c\@d.example.com`},
		{"\x00\x7f\xef.example.com", `\000\127\239.example.com`},
	} {
		if got := queryName(tt.raw); got != tt.query {
			t.Errorf("queryName(%q) = %q, want %q", tt.raw, got, tt.query)
		}
		if got := unescape(tt.query); got != tt.raw {
			t.Errorf("unescape(%q) = %q, want %q", tt.query, got, tt.raw)
		}
	}
	// §7.3: names over 253 bytes lose labels on the left.
	long := ""
	for range 30 {
		long += "abcdefghi."
	}
	long += "example.com"
	if got := truncateName(long); len(got) > 253 || got[len(got)-12:] != ".example.com" || got[0] == '.' {
		t.Errorf("truncateName: %d bytes: %q", len(got), got)
	}
}
