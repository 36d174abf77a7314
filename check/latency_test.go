package check

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
)

// TestCheckLatency: with every DNS answer 50 ms late, a full check of a
// domain whose SPF nests includes three deep takes about its longest
// chain of dependent lookups × 50 ms, not the sum of all its lookups.
// The chain here: the SPF record and its three levels of includes, 4
// round trips (the a term the deepest records name is asked by the HELO
// check meanwhile, and the run's cache answers the second asking).
func TestCheckLatency(t *testing.T) {
	const delay = 50 * time.Millisecond
	var z strings.Builder
	z.WriteString(`$ORIGIN .
$TTL 300
. IN SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300
example.test. IN MX 10 mx.example.test.
mx.example.test. IN A 198.51.100.25
mail01.example.test. IN A 198.51.100.21
21.100.51.198.in-addr.arpa. IN PTR mail01.example.test.
_dmarc.example.test. IN TXT "v=DMARC1; p=reject; rua=mailto:d@reports.example.net"
example.test._report._dmarc.reports.example.net. IN TXT "v=DMARC1"
example.test. IN TXT "v=spf1 include:l1a.example.test include:l1b.example.test -all"
`)
	for _, l1 := range []string{"l1a", "l1b"} {
		fmt.Fprintf(&z, "%s.example.test. IN TXT \"v=spf1 include:%s-l2a.example.test include:%s-l2b.example.test -all\"\n", l1, l1, l1)
		for _, l2 := range []string{"l2a", "l2b"} {
			fmt.Fprintf(&z, "%s-%s.example.test. IN TXT \"v=spf1 include:%s-%s-l3.example.test -all\"\n", l1, l2, l1, l2)
			fmt.Fprintf(&z, "%s-%s-l3.example.test. IN TXT \"v=spf1 a:mail01.example.test -all\"\n", l1, l2)
		}
	}
	s := dnstest.Start(t, z.String())
	s.Delay.Store(int64(delay))
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 2 * time.Second
	start := time.Now()
	rep, err := Run(context.Background(), Options{
		Domain: "example.test", IPs: []netip.Addr{netip.MustParseAddr("198.51.100.21")}, HELO: "mail01.example.test",
		Selectors: []string{"s1"}, Resolver: c,
	})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	udp, tcp := s.Queries()
	queries := udp + tcp
	sum := time.Duration(queries) * delay
	t.Logf("full check: %v wall time, %d DNS queries at %v each (%v one after another), at most %d in flight",
		elapsed.Round(time.Millisecond), queries, delay, sum, s.MaxInFlight())
	if rep.SPF == nil || rep.SPF.Lookups != 2+4+4+4 {
		t.Fatalf("spf %+v", rep.SPF)
	}
	const chain = 4
	if elapsed < chain*delay {
		t.Errorf("%v is less than the %d round trips of the longest chain: is Delay applied?", elapsed, chain)
	}
	// Far below the sum, with room for a loaded CI machine.
	if elapsed > sum/3 {
		t.Errorf("%v: more than a third of the %v the %d lookups take one after another", elapsed, sum, queries)
	}
}

// TestFiftyStrings: a TXT record of 50 strings is one record, its strings
// joined (RFC 7208 §3.3); its answer is too big for UDP, so the client
// retries over TCP (RFC 7766).
func TestFiftyStrings(t *testing.T) {
	// 50 strings of six terms: over 4 kB, more than the client's EDNS0
	// buffer.
	var parts []string
	for i := range 50 {
		var terms []string
		for j := range 6 {
			terms = append(terms, fmt.Sprintf("ip4:10.%d.%d.0/24", i, j))
		}
		parts = append(parts, `"`+strings.Join(terms, " ")+` "`)
	}
	zone := `$ORIGIN .
$TTL 300
. IN SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300
example.test. IN TXT "v=spf1 " ` + strings.Join(parts, " ") + ` "-all"
`
	s := dnstest.Start(t, zone)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Domain: "example.test", IPs: []netip.Addr{netip.MustParseAddr("10.49.5.9")}, Resolver: c})
	if err != nil {
		t.Fatal(err)
	}
	if _, tcp := s.Queries(); tcp == 0 {
		t.Error("no TCP query: the big answer was not retried over TCP")
	}
	got := codes(rep.Findings)
	for _, want := range []string{"spf.strings", "spf.length"} {
		if !slices.Contains(got, want) {
			t.Errorf("want %s, got %v", want, got)
		}
	}
	if rep.SPF == nil || !strings.HasPrefix(rep.SPF.Record, "v=spf1 ip4:10.0.0.0/24 ip4:10.0.1.0/24 ") || rep.SPF.Results[0].Result != "pass" {
		t.Errorf("spf %+v", rep.SPF)
	}
}
