package resolver_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

const zone = `
$ORIGIN example.com.
$TTL 3600
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@        IN NS  ns1
@        IN MX  10 mx1
@        IN TXT "v=spf1 include:_spf.example.net -all"
ns1      IN A   192.0.2.53
mx1      IN A   192.0.2.25
www      IN CNAME mx1
_dmarc   IN TXT "v=DMARC1; p=none; rua=mailto:d@example.com"
long     IN TXT "part one " "part two"
escaped  IN TXT "say \"hi\" \\ caf\195\169"
*.wild   IN TXT "wildcard"
a.b.deep IN A   192.0.2.1
`

func client(t *testing.T, s *dnstest.Server) *resolver.Client {
	t.Helper()
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 200*time.Millisecond, 1
	return c
}

// TestOutcomes: each outcome of a lookup is kept apart (RFC 2308 §2.1 and
// §2.2 for the negative ones); failures are never "record missing".
func TestOutcomes(t *testing.T) {
	s := dnstest.Start(t, zone)
	s.Fail("servfail.example.com", dns.RcodeServerFailure)
	s.Fail("refused.example.com", dns.RcodeRefused)
	s.Fail("silent.example.com", -1)
	c := client(t, s)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		qtype uint16
		want  resolver.Status
		n     int
	}{
		{"example.com", dns.TypeMX, resolver.OK, 1},
		{"EXAMPLE.COM.", dns.TypeTXT, resolver.OK, 1},
		{"nope.example.com", dns.TypeA, resolver.NXDomain, 0},
		{"mx1.example.com", dns.TypeTXT, resolver.NoData, 0},
		{"deep.example.com", dns.TypeA, resolver.NoData, 0}, // empty non-terminal (RFC 8020)
		{"x.wild.example.com", dns.TypeTXT, resolver.OK, 1}, // RFC 4592 wildcard
		{"www.example.com", dns.TypeA, resolver.OK, 1},      // through a CNAME
		{"servfail.example.com", dns.TypeTXT, resolver.ServFail, 0},
		{"refused.example.com", dns.TypeTXT, resolver.Refused, 0},
		{"silent.example.com", dns.TypeTXT, resolver.Timeout, 0},
	} {
		a := c.Lookup(ctx, tt.name, tt.qtype)
		if a.Status != tt.want || len(a.Records) != tt.n {
			t.Errorf("%s %s: status %s with %d records (%v), want %s with %d", tt.name, dns.TypeToString[tt.qtype], a.Status, len(a.Records), a.Err, tt.want, tt.n)
		}
		if a.Status.Known() != (tt.want == resolver.OK || tt.want == resolver.NXDomain || tt.want == resolver.NoData) {
			t.Errorf("%s: Known() = %v", tt.name, a.Status.Known())
		}
	}
	if a := c.Lookup(ctx, "www.example.com", dns.TypeA); len(a.CNAMEs) != 1 || a.CNAMEs[0] != "mx1.example.com." {
		t.Errorf("CNAMEs %v", a.CNAMEs)
	}
	// RFC 1035 §5.1 escapes are resolved to the published bytes.
	if a := c.Lookup(ctx, "escaped.example.com", dns.TypeTXT); len(a.TXT()) != 1 || a.TXT()[0] != `say "hi" \ café` {
		t.Errorf("escaped TXT: %q", a.TXT())
	}
	if a := c.Lookup(ctx, "long.example.com", dns.TypeTXT); len(a.TXT()) != 1 || a.TXT()[0] != "part one part two" {
		t.Errorf("TXT strings joined: %q", a.TXT())
	}
	if a := c.Lookup(ctx, "example.com", dns.TypeMX); a.TTL != 3600 {
		t.Errorf("TTL %d", a.TTL)
	}
}

// TestTimeoutIsBounded: a server that never answers costs the timeout
// times the tries, not forever.
func TestTimeoutIsBounded(t *testing.T) {
	s := dnstest.Start(t, zone)
	s.Fail("silent.example.com", -1)
	c := client(t, s)
	start := time.Now()
	a := c.Lookup(context.Background(), "silent.example.com", dns.TypeTXT)
	if a.Status != resolver.Timeout {
		t.Fatalf("status %s", a.Status)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v with a 200 ms timeout and 1 retry", d)
	}
	if udp, _ := s.Queries(); udp != 2 {
		t.Errorf("%d UDP queries, want 2 (one retry)", udp)
	}
}

// TestTCPFallback: a truncated UDP answer is asked again over TCP
// (RFC 7766 §5).
func TestTCPFallback(t *testing.T) {
	s := dnstest.Start(t, zone)
	s.TruncateUDP.Store(true)
	c := client(t, s)
	a := c.Lookup(context.Background(), "example.com", dns.TypeTXT)
	if a.Status != resolver.OK || len(a.TXT()) != 1 {
		t.Fatalf("status %s, records %v", a.Status, a.Records)
	}
	if udp, tcp := s.Queries(); udp != 1 || tcp != 1 {
		t.Errorf("queries udp %d tcp %d, want 1 and 1", udp, tcp)
	}
}

// TestCacheAndConcurrency: lookups run at once; the same question is asked
// once per run, however many ask it.
func TestCacheAndConcurrency(t *testing.T) {
	s := dnstest.Start(t, zone)
	s.Delay.Store(int64(50 * time.Millisecond))
	c := client(t, s)
	var traced []string
	var mu sync.Mutex
	c.Trace = func(q resolver.Query) {
		mu.Lock()
		traced = append(traced, q.String())
		mu.Unlock()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("h%d.wild.example.com", i%10)
			if a := c.Lookup(context.Background(), name, dns.TypeTXT); a.Status != resolver.OK {
				t.Errorf("%s: %s", name, a.Status)
			}
		}()
	}
	wg.Wait()
	// Ten names at 50 ms each: about 50 ms in parallel, 500 in a row. The
	// server's count of overlapping queries below is the test; the time
	// is logged, since a loaded machine stretches it.
	t.Logf("20 lookups took %v", time.Since(start))
	if udp, _ := s.Queries(); udp != 10 {
		t.Errorf("%d queries for 10 distinct questions", udp)
	}
	if s.MaxInFlight() < 5 {
		t.Errorf("at most %d queries in flight", s.MaxInFlight())
	}
	if len(traced) != 20 || !strings.Contains(strings.Join(traced, "\n"), "(cached)") {
		t.Errorf("trace:\n%s", strings.Join(traced, "\n"))
	}
}

// TestZoneWithFallback: a zone file answers its own names; others go to
// live DNS (here the test server), so a changed record can be tried before
// it is published.
func TestZoneWithFallback(t *testing.T) {
	s := dnstest.Start(t, zone)
	z := resolver.NewZone(client(t, s))
	draft := "$ORIGIN example.org.\n@ 300 IN SOA ns hm 1 1 1 1 1\n@ 300 IN TXT \"v=spf1 include:example.com -all\"\nalias 300 IN CNAME mx1.example.com.\n"
	if err := z.Load(strings.NewReader(draft), "", "draft.zone"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if a := z.Lookup(ctx, "example.org", dns.TypeTXT); a.Status != resolver.OK || a.TXT()[0] != "v=spf1 include:example.com -all" {
		t.Errorf("zone name: %s %v", a.Status, a.TXT())
	}
	if a := z.Lookup(ctx, "example.com", dns.TypeMX); a.Status != resolver.OK {
		t.Errorf("fallback: %s", a.Status)
	}
	if a := z.Lookup(ctx, "alias.example.org", dns.TypeA); a.Status != resolver.OK || len(a.CNAMEs) != 1 {
		t.Errorf("CNAME out of the zone: %s %v", a.Status, a.CNAMEs)
	}
	if a := z.Lookup(ctx, "missing.example.org", dns.TypeA); a.Status != resolver.NXDomain {
		t.Errorf("missing: %s", a.Status)
	}
	alone := resolver.NewZone(nil)
	alone.Load(strings.NewReader(draft), "", "draft.zone")
	if a := alone.Lookup(ctx, "example.com", dns.TypeMX); a.Status != resolver.Refused || a.Err != resolver.ErrOutsideZone {
		t.Errorf("no fallback: %s %v", a.Status, a.Err)
	}
}

func TestZoneErrors(t *testing.T) {
	for name, text := range map[string]string{
		"syntax":    "$ORIGIN example.org.\n@ IN TXT \"unterminated\n",
		"no origin": "www 300 IN A 192.0.2.1\n",
		"include":   "$INCLUDE /etc/passwd\n",
	} {
		if err := resolver.NewZone(nil).Load(strings.NewReader(text), "", name+".zone"); err == nil || !strings.Contains(err.Error(), name+".zone") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// FuzzZone loads arbitrary zone text and looks names up in it: errors are
// fine, panics and endless CNAME chains are not.
func FuzzZone(f *testing.F) {
	f.Add(zone)
	f.Add("$ORIGIN a.\n@ 1 IN SOA a a 1 1 1 1 1\nx 1 IN CNAME y\ny 1 IN CNAME x\n*.w 1 IN CNAME x\n")
	f.Fuzz(func(t *testing.T, text string) {
		z := resolver.NewZone(nil)
		if err := z.Load(strings.NewReader(text), "", "fuzz.zone"); err != nil {
			return
		}
		for _, name := range []string{"example.com", "x.a", "q.w.a", "a", "nope.a"} {
			for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeCNAME, dns.TypeMX} {
				z.Lookup(context.Background(), name, qt)
			}
		}
	})
}

// TestZoneSeveralZonesInOneFile: each SOA starts a zone, so one file can
// hold a domain, an ESP's include and a reverse zone.
func TestZoneSeveralZonesInOneFile(t *testing.T) {
	z := resolver.NewZone(nil)
	err := z.Load(strings.NewReader(`
$ORIGIN example.com.
@ 300 IN SOA ns hm 1 1 1 1 1
@ 300 IN TXT "v=spf1 include:_spf.esp.example.net -all"
$ORIGIN esp.example.net.
@ 300 IN SOA ns hm 1 1 1 1 1
_spf 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
$ORIGIN 2.0.192.in-addr.arpa.
@ 300 IN SOA ns.example.com. hm.example.com. 1 1 1 1 1
25 300 IN PTR mx.example.com.
`), "", "several")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		qtype uint16
		want  resolver.Status
	}{
		{"example.com", dns.TypeTXT, resolver.OK},
		{"_spf.esp.example.net", dns.TypeTXT, resolver.OK},
		{"nope.esp.example.net", dns.TypeTXT, resolver.NXDomain},
		{"25.2.0.192.in-addr.arpa", dns.TypePTR, resolver.OK},
		{"example.net", dns.TypeTXT, resolver.Refused}, // above every zone: not ours to answer
	} {
		if a := z.Lookup(ctx, tt.name, tt.qtype); a.Status != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, a.Status, tt.want)
		}
	}
	// RFC 2308 §5: a negative answer lives for the SOA minimum.
	if a := z.Lookup(ctx, "nope.esp.example.net", dns.TypeTXT); a.TTL != 1 {
		t.Errorf("negative TTL %d, want the SOA minimum 1", a.TTL)
	}
}
