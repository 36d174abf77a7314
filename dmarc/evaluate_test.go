package dmarc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

const evalZone = `
com. 3600 IN SOA ns.com. hostmaster.com. 1 3600 600 86400 300
example.com. A 192.0.2.1
_dmarc.example.com. TXT "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:d@example.com"
news.example.com. A 192.0.2.2
mail.example.com. MX 10 mx.example.com.
strict.com. A 192.0.2.3
_dmarc.strict.com. TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s"
bounce.strict.com. MX 10 mx.strict.com.
testing.com. A 192.0.2.4
_dmarc.testing.com. TXT "v=DMARC1; p=reject; t=y"
testingq.com. A 192.0.2.10
_dmarc.testingq.com. TXT "v=DMARC1; p=quarantine; t=y"
monitor.com. A 192.0.2.5
_dmarc.monitor.com. TXT "v=DMARC1; p=none"
nodmarc.com. A 192.0.2.6
esp.com. A 192.0.2.7
_dmarc.esp.com. TXT "v=DMARC1; p=none"
noexist.com. A 192.0.2.8
_dmarc.noexist.com. TXT "v=DMARC1; p=quarantine"
shaky.com. A 192.0.2.9
_dmarc.shaky.com. TXT "v=DMARC1; p=reject"
`

// failing answers SERVFAIL for some names and types, the zone for the rest.
type failing struct {
	z    *resolver.Zone
	fail map[string]bool // "name type", or "name" for every type
}

func (f failing) Lookup(ctx context.Context, name string, qtype uint16) resolver.Answer {
	n := strings.TrimSuffix(strings.ToLower(name), ".")
	if f.fail[n] || f.fail[n+" "+dns.TypeToString[qtype]] {
		return resolver.Answer{Name: dns.Fqdn(n), Type: qtype, Status: resolver.ServFail, Err: errServFail}
	}
	return f.z.Lookup(ctx, name, qtype)
}

var errServFail = errors.New("SERVFAIL")

func evalResolver(t *testing.T) resolver.Resolver {
	t.Helper()
	z := resolver.NewZone(nil)
	if err := z.Load(strings.NewReader(evalZone), "", "eval.zone"); err != nil {
		t.Fatal(err)
	}
	return failing{z: z, fail: map[string]bool{
		"_dmarc.broken.com":    true,
		"_dmarc.flaky.esp.com": true,
		"_dmarc.flaky.com":     true,
		"gone.shaky.com A":     true,
	}}
}

func TestEvaluate(t *testing.T) {
	r := evalResolver(t)
	pass := func(d string) Identifier { return Identifier{Domain: d, Result: "pass"} }
	fail := func(d string) Identifier { return Identifier{Domain: d, Result: "fail"} }
	for _, tt := range []struct {
		name string
		in   Input
		// want
		result              Result
		applies             string
		policy, disposition Policy
		spf, dkim, testing  bool
		nonExistent         bool
	}{
		// §4.10.1: no record anywhere up the tree: DMARC does not apply.
		{"no policy", Input{From: "nodmarc.com", SPF: pass("nodmarc.com")}, ResultNone, "", "", "", true, false, false, false},
		// §4.4.1: a DKIM d= equal to the author domain aligns in any mode.
		{"dkim same domain", Input{From: "example.com", SPF: fail("example.com"), DKIM: []Identifier{pass("example.com")}},
			ResultPass, "p", Reject, None, false, true, false, false},
		// §4.4.2, relaxed (the default): MAIL FROM in a subdomain of the
		// author domain's organizational domain aligns.
		{"spf relaxed", Input{From: "example.com", SPF: pass("mail.example.com")}, ResultPass, "p", Reject, None, true, false, false, false},
		// §4.4.1, relaxed: d= a subdomain aligns too.
		{"dkim relaxed", Input{From: "Example.COM.", DKIM: []Identifier{pass("mail.example.com")}}, ResultPass, "p", Reject, None, false, true, false, false},
		// §4.4.2 with aspf=s: the subdomain does not align; the same domain
		// through DKIM (adkim=s) does.
		{"spf strict", Input{From: "strict.com", SPF: pass("bounce.strict.com")}, ResultFail, "p", Quarantine, Quarantine, false, false, false, false},
		{"dkim strict", Input{From: "strict.com", SPF: pass("bounce.strict.com"), DKIM: []Identifier{pass("strict.com")}},
			ResultPass, "p", Quarantine, None, false, true, false, false},
		// §4.4: a pass for another organization's domain does not count.
		{"unaligned pass", Input{From: "example.com", SPF: fail("example.com"), DKIM: []Identifier{pass("esp.com")}},
			ResultFail, "p", Reject, Reject, false, false, false, false},
		// An aligned signature that failed counts for nothing (§4.4.1:
		// only a passing signature is an authenticated identifier).
		{"aligned fail", Input{From: "example.com", DKIM: []Identifier{fail("example.com"), pass("esp.com")}},
			ResultFail, "p", Reject, Reject, false, false, false, false},
		// §4.7: sp covers an existing subdomain without a record of its own.
		{"subdomain sp", Input{From: "news.example.com", SPF: fail("news.example.com")}, ResultFail, "sp", Quarantine, Quarantine, false, false, false, false},
		// §4.7 np and the definition of non-existent domains: no A, AAAA
		// or MX.
		{"nonexistent np", Input{From: "ghost.example.com", SPF: fail("ghost.example.com")}, ResultFail, "np", Reject, Reject, false, false, false, true},
		// np defaults to sp, sp to p (§4.7).
		{"np default", Input{From: "ghost.noexist.com"}, ResultFail, "np", Quarantine, Quarantine, false, false, false, true},
		// A failed A lookup leaves existence unknown: sp, the safer reading.
		{"existence unknown", Input{From: "gone.shaky.com"}, ResultFail, "sp", Reject, Reject, false, false, false, false},
		// §4.7 t=y: the policy is being tested, and failing mail gets the
		// policy one level below it: quarantine for reject, none for
		// quarantine.
		{"testing reject", Input{From: "testing.com", SPF: fail("testing.com")}, ResultFail, "p", Reject, Quarantine, false, false, true, false},
		{"testing quarantine", Input{From: "testingq.com", SPF: fail("testingq.com")}, ResultFail, "p", Quarantine, None, false, false, true, false},
		{"testing pass", Input{From: "testing.com", SPF: pass("testing.com")}, ResultPass, "p", Reject, None, true, false, true, false},
		{"monitoring", Input{From: "monitor.com"}, ResultFail, "p", None, None, false, false, false, false},
		// A failed policy lookup is temperror, never "no policy" (§4.10.1).
		{"policy lookup fails", Input{From: "broken.com", DKIM: []Identifier{pass("broken.com")}}, ResultTempError, "", "", "", false, true, false, false},
		// An aligned identifier whose check was temperror may pass on retry.
		{"aligned temperror", Input{From: "example.com", SPF: fail("example.com"), DKIM: []Identifier{{Domain: "example.com", Result: "temperror"}}},
			ResultTempError, "p", Reject, "", false, false, false, false},
		// A pass whose organizational domain can't be looked up might align.
		{"org lookup fails", Input{From: "esp.com", DKIM: []Identifier{pass("flaky.esp.com")}}, ResultTempError, "p", None, "", false, false, false, false},
		// Domains without a common label need no lookup to know they do not align.
		{"other tld", Input{From: "example.com", DKIM: []Identifier{pass("example.net")}}, ResultFail, "p", Reject, Reject, false, false, false, false},
		{"no author domain", Input{From: ""}, ResultNone, "", "", "", false, false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := Evaluate(context.Background(), r, tt.in)
			if ev.Result != tt.result || ev.Applies != tt.applies || ev.Policy != tt.policy || ev.Disposition != tt.disposition ||
				ev.AlignedSPF != tt.spf || ev.AlignedDKIM != tt.dkim || ev.Testing != tt.testing || ev.NonExistent != tt.nonExistent {
				t.Errorf("got %s applies %q policy %q disposition %q spf %v dkim %v testing %v nonexistent %v (%s)\nwant %s applies %q policy %q disposition %q spf %v dkim %v testing %v nonexistent %v",
					ev.Result, ev.Applies, ev.Policy, ev.Disposition, ev.AlignedSPF, ev.AlignedDKIM, ev.Testing, ev.NonExistent, ev.Reason,
					tt.result, tt.applies, tt.policy, tt.disposition, tt.spf, tt.dkim, tt.testing, tt.nonExistent)
			}
			if ev.Reason == "" {
				t.Error("no reason")
			}
			if ev.Result == ResultTempError && ev.Err == nil {
				t.Error("temperror without Err")
			}
		})
	}
}

func TestEvaluateAlignmentDetail(t *testing.T) {
	ev := Evaluate(context.Background(), evalResolver(t), Input{
		From: "example.com",
		SPF:  Identifier{Domain: "bounce.esp.com", Result: "pass"},
		DKIM: []Identifier{{Domain: "mail.example.com", Result: "pass"}, {Domain: "esp.com", Result: "pass"}},
	})
	if ev.OrgDomain != "example.com" || ev.SPF.Aligned || ev.SPF.OrgDomain != "esp.com" || !ev.DKIM[0].Aligned || ev.DKIM[0].OrgDomain != "example.com" || ev.DKIM[1].Aligned {
		t.Errorf("%+v", ev)
	}
	if !strings.Contains(ev.Reason, "DKIM (mail.example.com)") {
		t.Errorf("reason %q", ev.Reason)
	}
	ev = Evaluate(context.Background(), evalResolver(t), Input{From: "example.com", SPF: Identifier{Domain: "bounce.esp.com", Result: "pass"}})
	if ev.Result != ResultFail || !strings.Contains(ev.Reason, "does not align") || !strings.Contains(ev.Reason, "no DKIM signature") {
		t.Errorf("reason %q", ev.Reason)
	}
}
