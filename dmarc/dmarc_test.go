package dmarc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
)

func TestParse(t *testing.T) {
	r, err := Parse("v=DMARC1; p=quarantine; sp=reject; np=reject; psd=n; t=y; adkim=s; rua=mailto:d@example.com,mailto:x@reports.example.net!10m; fo=1:d")
	if err != nil {
		t.Fatal(err)
	}
	if r.Policy != Quarantine || r.SubdomainPolicy != Reject || r.NonexistentPol != Reject || r.PSD != "n" || !r.Testing ||
		r.ADKIM != "s" || r.ASPF != "r" || len(r.RUA) != 2 || r.RUA[1].Domain != "reports.example.net" || r.RUA[1].Size != "10m" ||
		!slices.Equal(r.FO, []string{"1", "d"}) || len(r.Problems) != 0 {
		t.Errorf("%+v", r)
	}
	// Defaults (RFC 9989 §4.7): sp from p, np from sp, psd u, r alignment.
	r, _ = Parse("v=DMARC1; p=reject")
	if r.SubdomainPolicy != Reject || r.NonexistentPol != Reject || r.PSD != "u" || r.ADKIM != "r" {
		t.Errorf("defaults %+v", r)
	}
}

func TestParseProblems(t *testing.T) {
	for _, tt := range []struct {
		txt, tag string
		isErr    bool
	}{
		// RFC 9989 removed pct, rf and ri: receivers ignore them.
		{"v=DMARC1; p=none; pct=50", "pct", false},
		{"v=DMARC1; p=none; ri=3600", "ri", false},
		// Unknown tags are ignored (RFC 9989 §4.7).
		{"v=DMARC1; p=none; colour=blue", "colour", false},
		{"v=DMARC1; p=maybe; rua=mailto:a@example.com", "p", true},
		{"v=DMARC1; p=none; rua=https://example.com/r", "rua", true},
		{"v=DMARC1; p=none; rua=mailto:not an address", "rua", true},
		{"v=DMARC1; p=none; adkim=x", "adkim", true},
		{"v=DMARC1; p=none; p=reject", "p", false},
	} {
		r, err := Parse(tt.txt)
		if err != nil {
			t.Errorf("%s: %v", tt.txt, err)
			continue
		}
		found := false
		for _, p := range r.Problems {
			if p.Tag == tt.tag && p.Error == tt.isErr {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: problems %+v, want one for %s (error %v)", tt.txt, r.Problems, tt.tag, tt.isErr)
		}
	}
	for _, bad := range []string{"", "p=none", "v=DMARC2; p=none", "v=DMARC1", "v=DMARC1; p=bogus"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestWalkNames(t *testing.T) {
	// RFC 9989 §4.10: more than seven labels jump to seven.
	got := walkNames("a.b.c.d.e.f.g.h.i.example.com")
	want := []string{"a.b.c.d.e.f.g.h.i.example.com", "e.f.g.h.i.example.com", "f.g.h.i.example.com", "g.h.i.example.com",
		"h.i.example.com", "i.example.com", "example.com", "com"}
	if !slices.Equal(got, want) {
		t.Errorf("walk %v\nwant %v", got, want)
	}
	if got := walkNames("mail.example.co.uk"); !slices.Equal(got, []string{"mail.example.co.uk", "example.co.uk", "co.uk", "uk"}) {
		t.Errorf("walk %v", got)
	}
}

const zone = `
$ORIGIN example.
$TTL 300
@              IN SOA ns hm 1 1 1 1 1
_dmarc.shop    IN TXT "v=DMARC1; p=quarantine; sp=none; rua=mailto:d@shop.example"
_dmarc.psd     IN TXT "v=DMARC1; p=reject; psd=y"
_dmarc.org.psd IN TXT "v=DMARC1; p=none; psd=n"
_dmarc.two     IN TXT "v=DMARC1; p=none"
_dmarc.two     IN TXT "v=DMARC1; p=reject"
_dmarc.spf     IN TXT "v=spf1 -all"
`

func TestDiscover(t *testing.T) {
	s := dnstest.Start(t, zone)
	s.Fail("_dmarc.broken.example", -1)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 100*time.Millisecond, 0
	ctx := context.Background()

	d := Discover(ctx, c, "news.shop.example")
	if d.Record == nil || d.PolicyDomain != "shop.example" || d.Applies != "sp" || d.Record.SubdomainPolicy != None ||
		d.OrgDomain != "shop.example" || d.Unknown {
		t.Errorf("subdomain: %+v", d)
	}
	d = Discover(ctx, c, "SHOP.example.")
	if d.Record == nil || d.PolicyDomain != "shop.example" || d.Applies != "p" {
		t.Errorf("the domain itself: %+v", d)
	}
	// A public suffix domain's record (psd=y) makes the domain below it
	// the organizational domain; psd=n says "I am one".
	d = Discover(ctx, c, "mail.org.psd.example")
	if d.PolicyDomain != "org.psd.example" || d.OrgDomain != "org.psd.example" {
		t.Errorf("psd: %+v", d)
	}
	d = Discover(ctx, c, "x.two.example")
	if d.Record != nil || len(d.Problems) == 0 {
		t.Errorf("several records: %+v", d)
	}
	// A TXT that is not DMARC is no record.
	if d = Discover(ctx, c, "spf.example"); d.Record != nil || d.Unknown {
		t.Errorf("non-DMARC TXT: %+v", d)
	}
	// A failed lookup is unknown, never "no record".
	d = Discover(ctx, c, "mail.broken.example")
	if !d.Unknown || d.Record != nil || d.Err == nil || !strings.Contains(d.Err.Error(), "timeout") {
		t.Errorf("timeout: %+v", d)
	}
}

func TestDiscoverIsOneRoundTrip(t *testing.T) {
	s := dnstest.Start(t, zone)
	s.Delay.Store(int64(50 * time.Millisecond))
	c, _ := resolver.NewClient(s.Addr)
	start := time.Now()
	d := Discover(context.Background(), c, "a.b.c.d.news.shop.example")
	elapsed := time.Since(start)
	if d.Record == nil || len(d.Queries) != 7 {
		t.Fatalf("%+v", d)
	}
	// The server saw the queries overlap: all were sent before any
	// answer came. (The wall time is only logged: a loaded CI machine
	// stretches it.)
	if n := s.MaxInFlight(); n < 7 {
		t.Errorf("at most %d of 7 lookups were in flight at once: not in parallel", n)
	}
	t.Logf("7 lookups at 50 ms each took %v", elapsed)
}

func TestPSL(t *testing.T) {
	s := dnstest.Start(t, "$ORIGIN co.uk.\n@ 300 IN SOA ns hm 1 1 1 1 1\n_dmarc.example 300 IN TXT \"v=DMARC1; p=reject\"\n")
	c, _ := resolver.NewClient(s.Addr)
	d := Discover(context.Background(), c, "mail.example.co.uk")
	if d.PSLOrgDomain != "example.co.uk" || d.PSLPolicyDomain != "example.co.uk" || d.PolicyDomain != "example.co.uk" {
		t.Errorf("%+v", d)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"v=DMARC1; p=none", "v=DMARC1;p=reject;rua=mailto:a@b!10m,mailto:c@d", "v=DMARC1; fo=0:1:d:s:x; psd=y; t=n",
		"v=DMARC1; ;;=;p", "v=DMARC1; rua=mailto:\x00@\xff!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err == nil && (r.Policy == "" || r.SubdomainPolicy == "" || r.NonexistentPol == "") {
			t.Fatalf("parsed %q without policies: %+v", s, r)
		}
	})
}

// TestVerifyDestinations: RFC 7489 §7.1, an external report address
// needs <policy domain>._report._dmarc.<destination> with v=DMARC1.
func TestVerifyDestinations(t *testing.T) {
	z := resolver.NewZone(nil)
	for _, text := range []string{`
$ORIGIN reports.example.net.
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
example.com._report._dmarc IN TXT "v=DMARC1"
twice.example.com._report._dmarc IN TXT "v=DMARC1"
twice.example.com._report._dmarc IN TXT "v=DMARC1; rua=mailto:a@reports.example.net"
other.example.com._report._dmarc IN TXT "some-verification=abc"
`} {
		if err := z.Load(strings.NewReader(text), "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := Parse("v=DMARC1; p=none; rua=mailto:d@example.com,mailto:d@mail.example.com,mailto:a@reports.example.net,mailto:b@other.reports.example.net,mailto:c@elsewhere.test")
	if err != nil {
		t.Fatal(err)
	}
	got := VerifyDestinations(context.Background(), z, "Example.com.", rec.RUA)
	want := []struct {
		external, authorized bool
		status               resolver.Status
	}{
		{false, false, 0}, // the domain itself
		{false, false, 0}, // the same organization
		{true, true, resolver.OK},
		{true, false, resolver.NXDomain},
		{true, false, resolver.Refused}, // outside every zone: unknown, not refused authorization
	}
	for i, w := range want {
		d := got[i]
		if d.External != w.external || d.Authorized != w.authorized || d.Status != w.status {
			t.Errorf("%s: %+v", d.URI.Raw, d)
		}
	}
	if !got[4].Unknown() || got[3].Unknown() {
		t.Error("Unknown() should be set only for a failed lookup")
	}
	// RFC 7489 §7.1 steps 6-7 (RFC 9990 §4 step 8): "If at least one TXT
	// resource record remains in the set after parsing, then the external
	// reporting arrangement was authorized". Several are no reason to refuse.
	twice := VerifyDestinations(context.Background(), z, "twice.example.com", rec.RUA[2:3])
	if !twice[0].Authorized {
		t.Error("two v=DMARC1 authorization records still authorize (RFC 7489 §7.1 step 7)")
	}
	if other := VerifyDestinations(context.Background(), z, "other.example.com", rec.RUA[2:3]); other[0].Authorized {
		t.Error("a TXT record without v=DMARC1 first is no authorization (RFC 7489 §7.1 steps 5-6)")
	}
}

// TestParseInvalidPolicy follows RFC 7489 §6.6.3 step 6: an invalid p or
// sp makes the record p=none when it has rua, and no DMARC without.
func TestParseInvalidPolicy(t *testing.T) {
	for _, txt := range []string{
		"v=DMARC1; p=reject; sp=bogus; rua=mailto:d@example.com",
		"v=DMARC1; p=rejct; sp=quarantine; rua=mailto:d@example.com",
		"v=DMARC1; sp=reject; rua=mailto:d@example.com",
	} {
		r, err := Parse(txt)
		if err != nil || r.Policy != None || r.SubdomainPolicy != None || r.NonexistentPol != None || !r.PolicyInvalid {
			t.Errorf("%s: %+v %v", txt, r, err)
		}
	}
	if _, err := Parse("v=DMARC1; p=reject; sp=bogus"); !errors.Is(err, ErrNoPolicy) {
		t.Errorf("no rua: %v", err)
	}
	if _, err := Parse("v=DMARC1 p=reject rua=mailto:d@example.com"); err == nil || !strings.Contains(err.Error(), "semicolons") {
		t.Errorf("no semicolons: %v", err)
	}
}
