package spf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

const zoneHead = `
$ORIGIN example.com.
$TTL 300
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@        IN NS  ns1
ns1      IN A   192.0.2.53
`

// serve starts a dnstest server for the records (under example.com) and
// returns a client of it with short timeouts.
func serve(t *testing.T, records string) (*dnstest.Server, *resolver.Client) {
	t.Helper()
	s := dnstest.Start(t, zoneHead+records)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 200*time.Millisecond, 0
	return s, c
}

// find returns the node of the tree with domain and via, or nil.
func find(root *Node, domain string) *Node {
	var found *Node
	walk(root, func(n *Node) {
		if found == nil && n.Domain == domain {
			found = n
		}
	})
	return found
}

func codes(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func findingOf(d *Diagnosis, code string) *Finding {
	for i := range d.Findings {
		if d.Findings[i].Code == code {
			return &d.Findings[i]
		}
	}
	return nil
}

// TestDiagnoseDeepTree: includes three deep, 13 DNS-querying terms in
// all, counted exactly and past the limit, each record with its own
// count; CheckHost on the same records stops at the 11th.
func TestDiagnoseDeepTree(t *testing.T) {
	_, c := serve(t, `
deep      IN TXT "v=spf1 a mx include:l1a.deep.example.com include:l1b.deep.example.com -all"
deep      IN A   192.0.2.10
deep      IN MX  10 mx.deep
mx.deep   IN A   192.0.2.25
l1a.deep  IN TXT "v=spf1 include:l2a.deep.example.com ip4:192.0.2.0/28 ~all"
l1b.deep  IN TXT "v=spf1 a:mx.deep.example.com include:l2b.deep.example.com -all"
l2a.deep  IN TXT "v=spf1 include:l3a.deep.example.com exists:%{i}.rbl.deep.example.com -all"
l2b.deep  IN TXT "v=spf1 ip4:198.51.100.1 -all"
l3a.deep  IN TXT "v=spf1 a mx ptr ?exists:%{i}.ok.deep.example.com -all"
l3a.deep  IN A   192.0.2.30
l3a.deep  IN MX  10 mx.deep
*.ok.deep IN A   127.0.0.2
`)
	d := Diagnose(context.Background(), c, "deep.example.com")
	if d.Lookups != 13 || d.Root.TotalLookups != 13 {
		t.Errorf("lookups %d (root total %d), want 13", d.Lookups, d.Root.TotalLookups)
	}
	for domain, want := range map[string][2]int{ // own, total
		"deep.example.com":     {4, 13},
		"l1a.deep.example.com": {1, 7},
		"l1b.deep.example.com": {2, 2},
		"l2a.deep.example.com": {2, 6},
		"l2b.deep.example.com": {0, 0},
		"l3a.deep.example.com": {4, 4},
	} {
		n := find(d.Root, domain)
		if n == nil {
			t.Errorf("%s: not in the tree", domain)
			continue
		}
		if n.State != StateOK || n.Lookups != want[0] || n.TotalLookups != want[1] {
			t.Errorf("%s: %s, own %d, total %d; want ok, %d, %d", domain, n.State, n.Lookups, n.TotalLookups, want[0], want[1])
		}
	}
	if l3 := find(d.Root, "l3a.deep.example.com"); l3 == nil || l3.Via != "include:l3a.deep.example.com" {
		t.Errorf("l3a: %+v", l3)
	}
	f := findingOf(d, "spf-lookup-limit")
	if f == nil || f.Severity != SeverityError || !strings.Contains(f.Message, "13 DNS-querying terms, 3 over") {
		t.Errorf("lookup-limit finding: %+v; all: %v", f, codes(d.Findings))
	}
	if d.VoidLookups != 0 {
		t.Errorf("void lookups %d, want 0", d.VoidLookups)
	}
	if !d.OverLimit() {
		t.Error("OverLimit() = false")
	}
	if findingOf(d, "spf-ptr") == nil {
		t.Errorf("no ptr finding: %v", codes(d.Findings))
	}

	// A receiver evaluates term by term and stops at the 11th.
	res := CheckHost(context.Background(), c, netip.MustParseAddr("203.0.113.9"), "deep.example.com", "a@deep.example.com", "mail.example.net")
	if res.Status != Permerror || !errors.Is(res.Err, ErrTooManyLookups) || res.Lookups != 11 {
		t.Errorf("CheckHost: %s (%v) after %d lookups, want permerror for too many lookups after 11", res.Status, res.Err, res.Lookups)
	}
}

// TestDiagnoseVoid: lookups that come back empty, NXDOMAIN or NODATA,
// through a, mx, exists and include, are counted (limit 2).
func TestDiagnoseVoid(t *testing.T) {
	_, c := serve(t, `
void     IN TXT "v=spf1 a:nx1.example.com mx:nodata.example.com exists:nx3.example.com include:nx4.example.com ip4:192.0.2.1 -all"
nodata   IN TXT "just some text"
`)
	d := Diagnose(context.Background(), c, "void.example.com")
	if d.VoidLookups != 4 || d.Root.VoidLookups != 4 || d.Lookups != 4 {
		t.Errorf("void %d (root %d), lookups %d; want 4, 4, 4", d.VoidLookups, d.Root.VoidLookups, d.Lookups)
	}
	if f := findingOf(d, "spf-void-limit"); f == nil || f.Severity != SeverityError || !strings.Contains(f.Message, "4 lookups come back empty") {
		t.Errorf("void finding: %+v; all %v", f, codes(d.Findings))
	}
	var voidTerms []string
	for _, f := range d.Findings {
		if f.Code == "spf-void-term" {
			voidTerms = append(voidTerms, f.Term)
		}
	}
	slices.Sort(voidTerms)
	if fmt.Sprint(voidTerms) != "[a:nx1.example.com exists:nx3.example.com mx:nodata.example.com]" {
		t.Errorf("void terms: %v", voidTerms)
	}
	if f := findingOf(d, "spf-target-missing"); f == nil || f.Term != "include:nx4.example.com" {
		t.Errorf("missing include finding: %+v", f)
	}
	res := CheckHost(context.Background(), c, netip.MustParseAddr("192.0.2.1"), "void.example.com", "a@void.example.com", "")
	if res.Status != Permerror || !errors.Is(res.Err, ErrTooManyVoid) || res.VoidLookups != 3 {
		t.Errorf("CheckHost: %s (%v), %d void; want permerror for too many void lookups at 3", res.Status, res.Err, res.VoidLookups)
	}
}

// TestDiagnoseLoop: an include loop and a redirect to itself are found
// and not followed; the diagnosis ends.
func TestDiagnoseLoop(t *testing.T) {
	_, c := serve(t, `
loop1    IN TXT "v=spf1 include:loop2.example.com -all"
loop2    IN TXT "v=spf1 ip4:192.0.2.1 include:LOOP1.example.com. ~all"
self     IN TXT "v=spf1 ip4:192.0.2.2 redirect=self.example.com"
`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := Diagnose(ctx, c, "loop1.example.com")
	loop2 := find(d.Root, "loop2.example.com")
	if loop2 == nil || len(loop2.Children) != 1 || loop2.Children[0].State != StateLoop {
		t.Fatalf("loop2: %+v", loop2)
	}
	if f := findingOf(d, "spf-loop"); f == nil || f.Domain != "loop2.example.com" || f.Severity != SeverityError {
		t.Errorf("loop finding: %+v; all %v", f, codes(d.Findings))
	}
	if d.Lookups != 2 {
		t.Errorf("lookups %d, want 2 (each include once)", d.Lookups)
	}

	d = Diagnose(ctx, c, "self.example.com")
	if len(d.Root.Children) != 1 || d.Root.Children[0].State != StateLoop || findingOf(d, "spf-loop") == nil {
		t.Errorf("redirect to itself: %+v, %v", d.Root.Children, codes(d.Findings))
	}
	if ctx.Err() != nil {
		t.Fatal("the diagnosis of a loop ran out of time")
	}
	// A receiver runs into the limit.
	res := CheckHost(ctx, c, netip.MustParseAddr("203.0.113.1"), "loop1.example.com", "a@loop1.example.com", "")
	if res.Status != Permerror || !errors.Is(res.Err, ErrTooManyLookups) {
		t.Errorf("CheckHost: %s (%v), want permerror", res.Status, res.Err)
	}
}

// TestDiagnoseMissingAndUnknown: an include of a missing domain is "does
// not exist"; one whose lookup times out or fails is unknown (a receiver's
// temperror), never missing.
func TestDiagnoseMissingAndUnknown(t *testing.T) {
	s, c := serve(t, `
mixed    IN TXT "v=spf1 include:missing.example.com include:slow.example.com include:broken.example.com include:text.example.com include:ok.example.com -all"
slow     IN TXT "v=spf1 -all"
broken   IN TXT "v=spf1 -all"
text     IN TXT "google-site-verification=abc"
ok       IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
`)
	s.Fail("slow.example.com", -1)
	s.Fail("broken.example.com", dns.RcodeServerFailure)
	d := Diagnose(context.Background(), c, "mixed.example.com")
	for _, tt := range []struct {
		domain string
		state  State
		dns    resolver.Status
	}{
		{"missing.example.com", StateNotFound, resolver.NXDomain},
		{"slow.example.com", StateUnknown, resolver.Timeout},
		{"broken.example.com", StateUnknown, resolver.ServFail},
		{"text.example.com", StateNoRecord, resolver.OK},
		{"ok.example.com", StateOK, resolver.OK},
	} {
		n := find(d.Root, tt.domain)
		if n == nil || n.State != tt.state || n.DNS != tt.dns {
			t.Errorf("%s: %+v, want %s with DNS %s", tt.domain, n, tt.state, tt.dns)
		}
	}
	var unknown, missing []string
	for _, f := range d.Findings {
		switch {
		case f.Code == "spf-dns-failure" && f.Severity == SeverityUnknown:
			unknown = append(unknown, f.Domain)
		case f.Code == "spf-target-missing":
			missing = append(missing, f.Term)
		}
	}
	slices.Sort(unknown)
	if fmt.Sprint(unknown) != "[broken.example.com slow.example.com]" {
		t.Errorf("unknown findings for %v; all %v", unknown, d.Findings)
	}
	if fmt.Sprint(missing) != "[include:missing.example.com]" {
		t.Errorf("missing findings for %v", missing)
	}
	if findingOf(d, "spf-target-no-record") == nil {
		t.Errorf("no finding for the include without record: %v", codes(d.Findings))
	}
	if d.VoidLookups != 1 {
		t.Errorf("void lookups %d, want 1 (missing.example.com)", d.VoidLookups)
	}

	// The root itself: timeout is unknown, NXDOMAIN is missing.
	s.Fail("mixed.example.com", -1)
	c2, _ := resolver.NewClient(s.Addr)
	c2.Timeout, c2.Retries = 200*time.Millisecond, 0
	d = Diagnose(context.Background(), c2, "mixed.example.com")
	if d.Root.State != StateUnknown || findingOf(d, "spf-dns-failure") == nil || findingOf(d, "spf-none") != nil {
		t.Errorf("root timeout: %s, %v", d.Root.State, codes(d.Findings))
	}
	d = Diagnose(context.Background(), c2, "nowhere.example.com")
	if d.Root.State != StateNotFound || findingOf(d, "spf-domain-missing") == nil {
		t.Errorf("root nxdomain: %s, %v", d.Root.State, codes(d.Findings))
	}
}

// TestDiagnoseFindings: each problem worth a finding, one record each.
func TestDiagnoseFindings(t *testing.T) {
	_, c := serve(t, `
passall  IN TXT "v=spf1 +all"
neutral  IN TXT "v=spf1 ip4:192.0.2.1 ?all"
noall    IN TXT "v=spf1 ip4:192.0.2.1"
ptr      IN TXT "v=spf1 ptr -all"
redirall IN TXT "v=spf1 -all redirect=ok.example.com"
afterall IN TXT "v=spf1 -all ip4:192.0.2.1"
default  IN TXT "v=spf1 ip4:192.0.2.1 default=deny"
dup      IN TXT "v=spf1 include:ok.example.com include:OK.example.com. -all"
strings  IN TXT "v=spf1 ip4:192.0.2.1 " "-all"
two      IN TXT "v=spf1 -all"
two      IN TXT "v=spf1 ip4:192.0.2.1 -all"
none     IN TXT "some text"
syntax   IN TXT "v=spf1 ip4:192.0.2.300 a:foo -all"
manymx   IN TXT "v=spf1 mx -all"
manymx   IN MX 1 m1
manymx   IN MX 2 m2
manymx   IN MX 3 m3
manymx   IN MX 4 m4
manymx   IN MX 5 m5
manymx   IN MX 6 m6
manymx   IN MX 7 m7
manymx   IN MX 8 m8
manymx   IN MX 9 m9
manymx   IN MX 10 m10
manymx   IN MX 11 m11
spfrr    IN TXT "v=spf1 -all"
spfrr    IN SPF "v=spf1 -all"
macro    IN TXT "v=spf1 include:%{l}._spf.example.com include:%{d}.ok.example.com -all"
example.com.ok IN TXT "v=spf1 ip4:192.0.2.2 -all"
macro.example.com.ok IN TXT "v=spf1 ip4:192.0.2.2 -all"
unknown  IN TXT "v=spf1 -all moo=cow"
near     IN TXT "v=spf1 a:ok.example.com a:ok.example.com a:ok.example.com a:ok.example.com a:ok.example.com a:ok.example.com a:ok.example.com a:ok.example.com a:ok.example.com -all"
ok       IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
ok       IN A   192.0.2.1
`)
	long := "v=spf1"
	for i := 0; len(long) < 460; i++ {
		long += fmt.Sprintf(" ip4:198.51.100.%d", i)
	}
	long += " -all"
	_, c2 := serve(t, `long IN TXT "`+long[:255]+`" "`+long[255:]+`"`)

	for _, tt := range []struct {
		r      resolver.Resolver
		domain string
		code   string
		sev    Severity
		state  State
	}{
		{c, "passall.example.com", "spf-pass-all", SeverityError, StateOK},
		{c, "neutral.example.com", "spf-neutral-all", SeverityWarning, StateOK},
		{c, "noall.example.com", "spf-no-all", SeverityWarning, StateOK},
		{c, "ptr.example.com", "spf-ptr", SeverityWarning, StateOK},
		{c, "redirall.example.com", "spf-redirect-ignored", SeverityWarning, StateOK},
		{c, "afterall.example.com", "spf-after-all", SeverityWarning, StateOK},
		{c, "default.example.com", "spf-deprecated", SeverityWarning, StateOK},
		{c, "dup.example.com", "spf-duplicate-include", SeverityWarning, StateOK},
		{c, "strings.example.com", "spf-strings", SeverityInfo, StateOK},
		{c, "two.example.com", "spf-multiple", SeverityError, StateMultiple},
		{c, "none.example.com", "spf-none", SeverityError, StateNoRecord},
		{c, "syntax.example.com", "spf-syntax", SeverityError, StateInvalid},
		{c, "manymx.example.com", "spf-mx-limit", SeverityError, StateOK},
		{c, "spfrr.example.com", "spf-rr-type", SeverityInfo, StateOK},
		{c, "macro.example.com", "spf-macro-target", SeverityInfo, StateOK},
		{c, "unknown.example.com", "spf-unknown-modifier", SeverityInfo, StateOK},
		{c, "near.example.com", "spf-lookup-limit-near", SeverityInfo, StateOK},
		{c2, "long.example.com", "spf-length", SeverityWarning, StateOK},
	} {
		d := Diagnose(context.Background(), tt.r, tt.domain)
		f := findingOf(d, tt.code)
		if f == nil || f.Severity != tt.sev || d.Root.State != tt.state {
			t.Errorf("%s: state %s, findings %v; want %s and a %s %s", tt.domain, d.Root.State, codes(d.Findings), tt.state, tt.sev, tt.code)
		}
	}

	// Details of a few.
	d := Diagnose(context.Background(), c, "syntax.example.com")
	if len(d.Root.Errors) != 2 || d.Root.Errors[0].Term != "ip4:192.0.2.300" || d.Root.Errors[1].Term != "a:foo" {
		t.Errorf("syntax errors: %v", d.Root.Errors)
	}
	d = Diagnose(context.Background(), c, "redirall.example.com")
	if len(d.Root.Children) != 0 || d.Lookups != 0 {
		t.Errorf("an ignored redirect is followed or counted: %d lookups", d.Lookups)
	}
	d = Diagnose(context.Background(), c, "macro.example.com")
	if ch := d.Root.Children; len(ch) != 2 || ch[0].State != StateMacro || ch[1].State != StateOK || ch[1].Domain != "macro.example.com.ok.example.com" {
		t.Errorf("macro includes: %+v %+v", ch[0], ch[1])
	}
	d = Diagnose(context.Background(), c, "two.example.com")
	if len(d.Root.Records) != 2 {
		t.Errorf("several records: %v", d.Root.Records)
	}
	d = Diagnose(context.Background(), c2, "long.example.com")
	if d.Root.Strings != 2 || d.Root.Length != len(long) || d.Root.Record != long {
		t.Errorf("long record: %d strings, %d bytes", d.Root.Strings, d.Root.Length)
	}
	d = Diagnose(context.Background(), c, "ok.example.com")
	if len(d.Findings) != 0 {
		t.Errorf("a good record has findings: %v", d.Findings)
	}
}

// TestDiagnoseLatency: with every answer 50 ms late, a tree three includes
// deep with several includes a level costs about (depth+1) round trips,
// not one per record.
func TestDiagnoseLatency(t *testing.T) {
	const delay = 50 * time.Millisecond
	var zone strings.Builder
	zone.WriteString(`lat IN TXT "v=spf1 include:a0.lat.example.com include:a1.lat.example.com include:a2.lat.example.com -all"` + "\n")
	records := 1
	for i := range 3 {
		fmt.Fprintf(&zone, `a%d.lat IN TXT "v=spf1 include:b%d0.lat.example.com include:b%d1.lat.example.com include:b%d2.lat.example.com ~all"`+"\n", i, i, i, i)
		records++
		for j := range 3 {
			fmt.Fprintf(&zone, `b%d%d.lat IN TXT "v=spf1 include:c%d%d0.lat.example.com include:c%d%d1.lat.example.com ~all"`+"\n", i, j, i, j, i, j)
			records++
			for k := range 2 {
				fmt.Fprintf(&zone, `c%d%d%d.lat IN TXT "v=spf1 ip4:192.0.2.%d ~all"`+"\n", i, j, k, i*9+j*3+k)
				records++
			}
		}
	}
	s, c := serve(t, zone.String())
	c.Timeout = 2 * time.Second
	s.Delay.Store(int64(delay))

	const depth = 3
	start := time.Now()
	d := Diagnose(context.Background(), c, "lat.example.com")
	elapsed := time.Since(start)
	udp, tcp := s.Queries()
	t.Logf("%d records, %d include levels: %v wall time with %v per answer (%v if sequential), %d queries (%d UDP, %d TCP), at most %d at once",
		records, depth, elapsed.Round(time.Millisecond), delay, time.Duration(records)*delay, udp+tcp, udp, tcp, s.MaxInFlight())
	if d.Lookups != 3+9+18 {
		t.Errorf("lookups %d, want 30", d.Lookups)
	}
	n := 0
	walk(d.Root, func(n2 *Node) {
		if n2.State == StateOK {
			n++
		}
	})
	if n != records {
		t.Errorf("%d records found, want %d", n, records)
	}
	if min := (depth + 1) * delay; elapsed < min {
		t.Errorf("%v is less than the %v the depth takes: is Delay applied?", elapsed, min)
	}
	// The server saw a whole level in flight at once (the 18 records of
	// the deepest); the wall time must be far from the sequential sum, with
	// room for a loaded CI machine.
	if s.MaxInFlight() < 18 {
		t.Errorf("at most %d queries in flight; the independent includes are not looked up at once", s.MaxInFlight())
	}
	if max := time.Duration(records) * delay / 2; elapsed > max {
		t.Errorf("%v: more than half the sequential %v", elapsed, time.Duration(records)*delay)
	}
}
