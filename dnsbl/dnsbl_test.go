package dnsbl

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

var zen = Zone{
	Name: "zen.example", Kind: IP, TestListed: "127.0.0.2", TestClean: "127.0.0.1",
	Codes: []Code{
		{Value: addr("127.0.0.2"), Class: Listed, Meaning: "SBL"},
		{Value: addr("127.0.0.10"), Class: Listed, Meaning: "PBL"},
		{Value: addr("127.255.255.254"), Class: Refused, Meaning: "public resolver"},
	},
}

var uribl = Zone{
	Name: "multi.uribl.example", Kind: Domain, Bitmask: true, TestListed: "test.uribl.example",
	Codes: []Code{
		{Value: addr("127.0.0.1"), Class: Refused, Meaning: "query refused"},
		{Bit: 2, Class: Listed, Meaning: "black"},
		{Bit: 4, Class: Listed, Meaning: "grey"},
		{Bit: 8, Class: Listed, Meaning: "red"},
	},
}

var allow = Zone{Name: "wl.example", Kind: IP, Codes: []Code{{Value: addr("127.0.10.3"), Class: Allowed, Meaning: "trusted"}}}

const zoneText = `$ORIGIN .
$TTL 300
. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
2.0.0.127.zen.example. IN A 127.0.0.2
2.0.0.127.zen.example. IN TXT "test entry"
21.100.51.198.zen.example. IN A 127.0.0.2
21.100.51.198.zen.example. IN A 127.0.0.10
21.100.51.198.zen.example. IN TXT "https://check.example/sbl/123"
22.100.51.198.zen.example. IN A 127.255.255.254
23.100.51.198.zen.example. IN A 192.0.2.1
24.100.51.198.zen.example. IN A 127.0.0.99
b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.zen.example. IN A 127.0.0.2
test.uribl.example.multi.uribl.example. IN A 127.0.0.14
spam.example.multi.uribl.example. IN A 127.0.0.2
blocked.example.multi.uribl.example. IN A 127.0.0.1
21.100.51.198.wl.example. IN A 127.0.10.3
`

func server(t *testing.T) *resolver.Client {
	t.Helper()
	s := dnstest.Start(t, zoneText)
	s.Fail("25.100.51.198.zen.example", dns.RcodeServerFailure)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 200*time.Millisecond, 0
	return c
}

// TestQueryName follows RFC 5782 §2.1 (IPv4), §2.4 (IPv6) and §3 (domains).
func TestQueryName(t *testing.T) {
	for _, tt := range []struct {
		z      Zone
		target string
		want   string
		ok     bool
	}{
		{zen, "192.0.2.99", "99.2.0.192.zen.example", true},
		{zen, "::ffff:192.0.2.99", "99.2.0.192.zen.example", true},
		// RFC 5782 §2.4's example.
		{zen, "2001:db8:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.zen.example", true},
		{uribl, "Example.COM.", "example.com.multi.uribl.example", true},
		{zen, "example.com", "", false},
		{uribl, "192.0.2.1", "", false},
		{uribl, "invalid", "invalid.multi.uribl.example", true}, // RFC 5782 §5
		{uribl, "", "", false},
		{uribl, "example.com:25", "", false},
	} {
		got, err := QueryName(tt.z, tt.target)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("QueryName(%s, %s) = %q, %v", tt.z.Name, tt.target, got, err)
		}
	}
}

func TestLookup(t *testing.T) {
	c := server(t)
	ctx := context.Background()
	for _, tt := range []struct {
		z        Zone
		target   string
		want     Status
		meanings string
	}{
		{zen, "198.51.100.21", StatusListed, "SBL, PBL"},
		{zen, "198.51.100.20", StatusClean, ""},
		// Spamhaus's 127.255.255.254 is a refusal, never a listing.
		{zen, "198.51.100.22", StatusRefused, "public resolver"},
		// RFC 5782 §2.1: codes outside 127/8 are not listings.
		{zen, "198.51.100.23", StatusUnknown, ""},
		{zen, "198.51.100.24", StatusListed, "a code the list does not document: read as listed"},
		{zen, "198.51.100.25", StatusUnknown, ""},
		{zen, "2001:db8:1:2:3:4:567:89ab", StatusListed, "SBL"},
		// Bitmask zones: 127.0.0.14 is black, grey and red.
		{uribl, "test.uribl.example", StatusListed, "black, grey, red"},
		{uribl, "spam.example", StatusListed, "black"},
		{uribl, "blocked.example", StatusRefused, "query refused"},
		{uribl, "clean.example", StatusClean, ""},
		{allow, "198.51.100.21", StatusAllowed, "trusted"},
	} {
		res := Lookup(ctx, c, tt.z, tt.target)
		var m []string
		for _, k := range res.Matched {
			m = append(m, k.Meaning)
		}
		if res.Status != tt.want || strings.Join(m, ", ") != tt.meanings {
			t.Errorf("%s in %s: %s %q (%v), want %s %q", tt.target, tt.z.Name, res.Status, m, res.Err, tt.want, tt.meanings)
		}
	}
	if res := Lookup(ctx, c, zen, "198.51.100.21"); len(res.TXT) != 1 || !strings.Contains(res.TXT[0], "sbl/123") {
		t.Errorf("TXT reason: %q", res.TXT)
	}
}

func TestCheckHealth(t *testing.T) {
	c := server(t)
	ctx := context.Background()
	if h := CheckHealth(ctx, c, zen); !h.OK() {
		t.Errorf("zen: %+v", h)
	}
	if h := CheckHealth(ctx, c, uribl); !h.OK() {
		t.Errorf("uribl: %+v", h)
	}
	// An emptied zone (SORBS after 2024) answers its test entry NXDOMAIN:
	// unavailable, not clean.
	gone := Zone{Name: "gone.example", Kind: IP, TestListed: "127.0.0.2", TestClean: "127.0.0.1"}
	if h := CheckHealth(ctx, c, gone); h.Status != StatusUnavailable || !strings.Contains(h.Reason, "not listed") {
		t.Errorf("gone: %+v", h)
	}
	// A zone that lists everything fails its clean test.
	all := zen
	all.TestClean = "127.0.0.2"
	if h := CheckHealth(ctx, c, all); h.Status != StatusUnavailable {
		t.Errorf("lists everything: %+v", h)
	}
	refusing := zen
	refusing.TestListed = "198.51.100.22"
	if h := CheckHealth(ctx, c, refusing); h.Status != StatusRefused || !strings.Contains(h.Reason, "public resolver") {
		t.Errorf("refusing: %+v", h)
	}
}

func FuzzQueryName(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "example.com", "", ".", "::ffff:1.2.3.4", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		for _, z := range []Zone{zen, uribl} {
			q, err := QueryName(z, target)
			if err == nil && !strings.HasSuffix(q, "."+z.Name) {
				t.Errorf("%q: %q is not under %s", target, q, z.Name)
			}
		}
	})
}

// TestCheckHealthIPv6: RFC 5782 §5 has an IPv6 DNSxL list ::FFFF:7F00:2
// and not ::FFFF:7F00:1, asked as IPv6 addresses. A list without them
// (IPv4 only) is unavailable for IPv6 addresses, never clean.
func TestCheckHealthIPv6(t *testing.T) {
	s := dnstest.Start(t, `$ORIGIN .
$TTL 300
. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
2.0.0.127.v6.example. IN A 127.0.0.2
`+reverse(testListed6)+`.v6.example. IN A 127.0.0.2
2.0.0.127.v4.example. IN A 127.0.0.2
*.all.example. IN A 127.0.0.2
`)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v6 := Zone{Name: "v6.example", Kind: IP, TestListed: "127.0.0.2", TestClean: "127.0.0.1"}
	if h := CheckHealthIPv6(ctx, c, v6); !h.OK() {
		t.Errorf("a list with the IPv6 test entry: %+v", h)
	}
	v4 := Zone{Name: "v4.example", Kind: IP, TestListed: "127.0.0.2", TestClean: "127.0.0.1"}
	if h := CheckHealth(ctx, c, v4); !h.OK() {
		t.Errorf("IPv4 health of an IPv4-only list: %+v", h)
	}
	if h := CheckHealthIPv6(ctx, c, v4); h.Status != StatusUnavailable || !strings.Contains(h.Reason, "IPv4 addresses only") {
		t.Errorf("an IPv4-only list for IPv6: %+v", h)
	}
	// The test entries are asked in IPv6 form: an IPv4-only list that
	// holds 127.0.0.2 must not pass for IPv6 through the mapped address.
	if q := Lookup(ctx, c, v4, "::ffff:127.0.0.2"); q.Status != StatusListed {
		t.Fatalf("a mapped address is asked as IPv4: %+v", q)
	}
	all := Zone{Name: "all.example", Kind: IP}
	if h := CheckHealthIPv6(ctx, c, all); h.Status != StatusUnavailable {
		t.Errorf("a list that lists ::FFFF:7F00:1: %+v", h)
	}
}
