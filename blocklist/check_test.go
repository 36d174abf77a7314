package blocklist

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/dnsbl"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

// testCatalogue has a healthy IP list, a list that refuses everything (a
// public resolver), an emptied list, a domain list, and an allowlist.
const testCatalogue = `
[[zone]]
name = "bl.test"
display = "Test BL"
kind = "ip"
tier = 1
test_listed = "127.0.0.2"
test_clean = "127.0.0.1"
delist_url = "https://bl.test/remove"
terms = "free"
code = [
  { value = "127.0.0.2", class = "listed", meaning = "spam source" },
  { value = "127.0.0.10", class = "listed", severity = "warning", meaning = "policy" },
  { value = "127.255.255.254", class = "refused", meaning = "public resolver" },
]

[[zone]]
name = "refusing.test"
kind = "ip"
tier = 1
test_listed = "127.0.0.2"
test_clean = "127.0.0.1"
code = [{ value = "127.255.255.254", class = "refused", meaning = "public resolver" }]

[[zone]]
name = "emptied.test"
kind = "ip"
tier = 1
test_listed = "127.0.0.2"
test_clean = "127.0.0.1"

[[zone]]
name = "dbl.test"
kind = "domain"
tier = 1
test_listed = "dbltest.test"
test_clean = "invalid"
code = [{ value = "127.0.1.2", class = "listed", meaning = "spam domain" }]

[[zone]]
name = "wl.test"
kind = "ip"
tier = 2
role = "allow"
default = "allowed"
test_clean = "127.0.0.1"
`

const testZones = `$ORIGIN .
$TTL 300
. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
2.0.0.127.bl.test. IN A 127.0.0.2
21.100.51.198.bl.test. IN A 127.0.0.2
21.100.51.198.bl.test. IN TXT "listed: see https://bl.test/21"
22.100.51.198.bl.test. IN A 127.0.0.10
23.100.51.198.bl.test. IN A 10.0.0.1
*.refusing.test. IN A 127.255.255.254
dbltest.test.dbl.test. IN A 127.0.1.2
example.com.dbl.test. IN A 127.0.1.2
21.100.51.198.wl.test. IN A 127.0.10.2
`

func testCheck(t *testing.T, targets ...string) (*Report, *dnstest.Server) {
	t.Helper()
	rep, s := runCheck(t, testCatalogue, testZones, func(s *dnstest.Server) {
		s.Fail("24.100.51.198.bl.test", dns.RcodeServerFailure)
	}, nil, targets...)
	return rep, s
}

// runCheck checks targets against the lists of catalogue, served from
// zones; setup may make the server fail some names, and with (if set)
// changes the catalogue first.
func runCheck(t *testing.T, catalogue, zones string, setup func(*dnstest.Server), with func(*Catalogue) *Catalogue, targets ...string) (*Report, *dnstest.Server) {
	t.Helper()
	cat := &Catalogue{}
	if err := cat.Load(strings.NewReader(catalogue), "test.toml"); err != nil {
		t.Fatal(err)
	}
	if with != nil {
		cat = with(cat)
	}
	s := dnstest.Start(t, zones)
	if setup != nil {
		setup(s)
	}
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 200*time.Millisecond, 0
	var ts []Target
	for _, in := range targets {
		tg, err := ParseTarget(in)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tg)
	}
	return Check(context.Background(), Options{Resolver: c, Catalogue: cat}, ts), s
}

func status(r *Report, target, zone string) Listing {
	for _, t := range r.Targets {
		for _, l := range t.Listings {
			if t.Query == target && l.Zone == zone {
				return l
			}
		}
	}
	return Listing{}
}

func TestCheck(t *testing.T) {
	rep, _ := testCheck(t, "198.51.100.21", "198.51.100.22", "198.51.100.23", "198.51.100.24", "198.51.100.25", "mail.example.com")
	for _, tt := range []struct {
		target, zone string
		want         dnsbl.Status
		meaning      string
	}{
		{"198.51.100.21", "bl.test", dnsbl.StatusListed, "spam source"},
		{"198.51.100.22", "bl.test", dnsbl.StatusListed, "policy"},
		// RFC 5782 §2.1: an answer outside 127/8 is broken, not a listing.
		{"198.51.100.23", "bl.test", dnsbl.StatusUnknown, ""},
		{"198.51.100.24", "bl.test", dnsbl.StatusUnknown, ""},
		{"198.51.100.25", "bl.test", dnsbl.StatusClean, ""},
		// A list that refuses its own test entry is not asked: refused.
		{"198.51.100.25", "refusing.test", dnsbl.StatusRefused, "public resolver"},
		// An emptied list (its test entry is gone) is unavailable, never clean.
		{"198.51.100.25", "emptied.test", dnsbl.StatusUnavailable, "not listed"},
		// Domains are asked at the registered-domain level.
		{"example.com", "dbl.test", dnsbl.StatusListed, "spam domain"},
		{"198.51.100.21", "wl.test", dnsbl.StatusAllowed, "a code of the allowlist"},
	} {
		l := status(rep, tt.target, tt.zone)
		if l.Status != tt.want || !strings.Contains(l.Meaning, tt.meaning) {
			t.Errorf("%s on %s: %s %q (%s), want %s %q", tt.target, tt.zone, l.Status, l.Meaning, l.Error, tt.want, tt.meaning)
		}
	}
	if l := status(rep, "198.51.100.21", "bl.test"); !l.Scored() || l.Severity != "error" || len(l.Reason) != 1 || l.DelistURL != "https://bl.test/remove" {
		t.Errorf("listing %+v", l)
	}
	if l := status(rep, "198.51.100.22", "bl.test"); l.Severity != "warning" {
		t.Errorf("policy listing severity %s", l.Severity)
	}
	if l := status(rep, "example.com", "bl.test"); l.Zone != "" {
		t.Error("a domain asked of an IP list")
	}
	for _, z := range rep.Zones {
		healthy := z.Status == dnsbl.StatusClean
		if want := z.Zone == "bl.test" || z.Zone == "dbl.test" || z.Zone == "wl.test"; healthy != want {
			t.Errorf("zone %s: %s %s", z.Zone, z.Status, z.Reason)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct {
		in, query, err string
	}{
		{"198.51.100.21", "198.51.100.21", ""},
		{"::ffff:198.51.100.21", "198.51.100.21", ""},
		{"2001:db8::25", "2001:db8::25", ""},
		{"Mail.Example.CO.UK.", "example.co.uk", ""},
		{"bücher.example.com", "example.com", ""},
		{"198.51.100.21:25", "", "with a port"},
		{"[2001:db8::1]:25", "", "with a port"},
		{"198.51.100.0/24", "", "CIDR"},
		{"2001:db8::/32", "", "CIDR"},
		{"198.51.100.0/33", "", "neither"},
		// A URL is asked by its host (RFC 3986 §3.2.2), as URI lists
		// (SURBL, URIBL) list the hosts of links.
		{"https://www.Example.co.uk/promo?id=1", "example.co.uk", ""},
		{"http://user@mail.example.com:8080/", "example.com", ""},
		{"example.com/unsubscribe", "example.com", ""},
		{"http://[2001:db8::25]/x", "2001:db8::25", ""},
		{"http://198.51.100.21:80/", "198.51.100.21", ""},
		{"10.1.2.3", "", "private"},
		{"127.0.0.1", "", "loopback"},
		{"100.64.0.1", "", "carrier-grade NAT"},
		{"co.uk", "", "public suffix"},
		{"not a domain", "", "neither"},
		{"", "", "empty"},
	} {
		got, err := ParseTarget(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %v, want an error with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.Query != tt.query {
			t.Errorf("%q: %+v %v", tt.in, got, err)
		}
	}
}

func TestPublicResolver(t *testing.T) {
	for in, want := range map[string]string{"8.8.8.8:53": "Google Public DNS", "1.1.1.1": "Cloudflare", "[2620:fe::fe]:53": "Quad9", "127.0.0.53:53": "", "unbound.local:53": ""} {
		if got := PublicResolver(in); got != want {
			t.Errorf("%s: %q", in, got)
		}
	}
}

// TestThroughput is the bench: 1,000 addresses against 10 lists
// through a local DNS server, with each list's concurrency limit held
// (the server counts the queries in flight per zone).
func TestThroughput(t *testing.T) {
	var cat strings.Builder
	var zones strings.Builder
	zones.WriteString("$ORIGIN .\n$TTL 300\n. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300\n")
	for z := range 10 {
		fmt.Fprintf(&cat, "[[zone]]\nname = \"z%d.test\"\nkind = \"ip\"\ntier = 1\ntest_listed = \"127.0.0.2\"\ntest_clean = \"127.0.0.1\"\n", z)
		fmt.Fprintf(&zones, "2.0.0.127.z%d.test. IN A 127.0.0.2\n", z)
		for i := range 10 { // every hundredth address listed
			fmt.Fprintf(&zones, "%d.%d.51.198.z%d.test. IN A 127.0.0.2\n", i*10, i, z)
		}
	}
	c := &Catalogue{}
	if err := c.Load(strings.NewReader(cat.String()), "bench.toml"); err != nil {
		t.Fatal(err)
	}
	s := dnstest.Start(t, zones.String())
	s.Delay.Store(int64(2 * time.Millisecond)) // a LAN resolver's round trip
	s.GroupBy(func(q string) string {
		labels := strings.Split(strings.TrimSuffix(q, "."), ".")
		return strings.Join(labels[len(labels)-2:], ".")
	})
	res, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var targets []Target
	for i := range 1000 {
		tg, _ := ParseTarget(fmt.Sprintf("198.51.%d.%d", i/100, i%100))
		targets = append(targets, tg)
	}
	const per = 8
	rep := Check(context.Background(), Options{Resolver: res, Catalogue: c, PerZone: per}, targets)
	udp, tcp := s.Queries()
	q := udp + tcp
	t.Logf("1,000 addresses × 10 lists: %v, %d queries, %.0f queries/s, at most %d per list in flight",
		rep.Elapsed.Round(time.Millisecond), q, float64(q)/rep.Elapsed.Seconds(), per)
	max, total := s.MaxInFlightByGroup()
	for z, n := range max {
		if n > per {
			t.Errorf("%s: %d queries in flight, over the limit of %d", z, n, per)
		}
		if total[z] < 1000 {
			t.Errorf("%s: %d queries", z, total[z])
		}
	}
	listed := 0
	for _, tr := range rep.Targets {
		listed += tr.Count(dnsbl.StatusListed)
		if n := tr.Count(dnsbl.StatusUnknown); n > 0 {
			t.Errorf("%s: %d unknown", tr.Query, n)
		}
	}
	if listed != 100 {
		t.Errorf("%d listings, want 100", listed)
	}
}

// TestDQSKeyNotShown: a Spamhaus DQS key is a paid secret and reports get
// shared, so no field of a report, errors included, carries it.
func TestDQSKeyNotShown(t *testing.T) {
	const key = "s3cretk3yabcdef"
	rep, _ := runCheck(t, `
[[zone]]
name = "zen.test"
dqs = "zen.dq.test"
kind = "ip"
tier = 1
test_listed = "127.0.0.2"
test_clean = "127.0.0.1"
code = [{ value = "127.0.0.2", class = "listed", meaning = "spam source" }]
`, `$ORIGIN .
$TTL 300
. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
2.0.0.127.`+key+`.zen.dq.test. IN A 127.0.0.2
21.100.51.198.`+key+`.zen.dq.test. IN A 127.0.0.2
`, func(s *dnstest.Server) {
		s.Fail("24.100.51.198."+key+".zen.dq.test", dns.RcodeServerFailure)
	}, func(c *Catalogue) *Catalogue { return c.WithDQSKey(key) }, "198.51.100.21", "198.51.100.24")
	if l := status(rep, "198.51.100.21", "<key>.zen.dq.test"); l.Status != dnsbl.StatusListed {
		t.Errorf("the listing through DQS: %+v", l)
	}
	if l := status(rep, "198.51.100.24", "<key>.zen.dq.test"); l.Status != dnsbl.StatusUnknown {
		t.Errorf("the failed lookup through DQS: %+v", l)
	}
	data, _ := json.Marshal(rep)
	if strings.Contains(string(data), key) {
		t.Errorf("the DQS key is in the report: %s", data)
	}
}

// TestIPv6OnlyWhereListed: an IPv6 address is asked only of lists that hold
// RFC 5782's IPv6 test entry (::FFFF:7F00:2); on an IPv4-only list it is
// unavailable, not clean, and IPv4 addresses are still asked there.
func TestIPv6OnlyWhereListed(t *testing.T) {
	// ::ffff:7f00:2 and 2001:db8::25 in nibbles, last first.
	const test6 = "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	const listed6 = "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	rep, _ := runCheck(t, `
[[zone]]
name = "v6.test"
kind = "ip"
tier = 1
test_listed = "127.0.0.2"
test_clean = "127.0.0.1"
code = [{ value = "127.0.0.2", class = "listed", meaning = "spam source" }]

[[zone]]
name = "v4.test"
kind = "ip"
tier = 1
test_listed = "127.0.0.2"
test_clean = "127.0.0.1"
code = [{ value = "127.0.0.2", class = "listed", meaning = "spam source" }]
`, `$ORIGIN .
$TTL 300
. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
2.0.0.127.v6.test. IN A 127.0.0.2
`+test6+`.v6.test. IN A 127.0.0.2
`+listed6+`.v6.test. IN A 127.0.0.2
2.0.0.127.v4.test. IN A 127.0.0.2
`, nil, nil, "2001:db8::25", "2001:db8::26", "198.51.100.25")
	for _, tt := range []struct {
		target, zone string
		want         dnsbl.Status
	}{
		{"2001:db8::25", "v6.test", dnsbl.StatusListed},
		{"2001:db8::26", "v6.test", dnsbl.StatusClean},
		{"2001:db8::25", "v4.test", dnsbl.StatusUnavailable},
		{"2001:db8::26", "v4.test", dnsbl.StatusUnavailable},
		{"198.51.100.25", "v4.test", dnsbl.StatusClean},
	} {
		if l := status(rep, tt.target, tt.zone); l.Status != tt.want {
			t.Errorf("%s on %s: %s (%s), want %s", tt.target, tt.zone, l.Status, l.Meaning, tt.want)
		}
	}
	if l := status(rep, "2001:db8::26", "v4.test"); !strings.Contains(l.Meaning, "IPv4 addresses only") {
		t.Errorf("why an IPv4-only list was not asked: %q", l.Meaning)
	}
}

// TestAnsweredNeedsAListedTest: a resolver that answers NXDOMAIN for every
// name passes an allowlist's clean test entry, and the lists that must
// list 127.0.0.2 fail: nothing was checked. With one list answering its
// listed test entry, something was.
func TestAnsweredNeedsAListedTest(t *testing.T) {
	const nothing = `$ORIGIN .
$TTL 300
. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
`
	rep, _ := runCheck(t, testCatalogue, nothing, nil, nil, "198.51.100.21")
	if rep.Answered() {
		t.Errorf("answered through a resolver that knows no name: %+v", rep.Zones)
	}
	for _, z := range rep.Zones {
		if z.Zone == "wl.test" && (z.Status != dnsbl.StatusClean || z.Tested) {
			t.Errorf("wl.test: %+v, want healthy and untested", z)
		}
	}
	if rep, _ = testCheck(t, "198.51.100.21"); !rep.Answered() {
		t.Errorf("bl.test answered its tests, yet not answered: %+v", rep.Zones)
	}
}
