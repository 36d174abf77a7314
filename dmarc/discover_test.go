package dmarc

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/resolver"
)

// TestOrgDomainBelowPSDAfterShortcut: RFC 9989 §4.10.2: when a record
// with psd=y is found, the Organizational Domain is the domain one label
// below it. After the eight-label shortcut of §4.10 (step 4) the name
// queried before it can have many more labels, and is not that domain.
func TestOrgDomainBelowPSDAfterShortcut(t *testing.T) {
	z := resolver.NewZone(nil)
	if err := z.Load(strings.NewReader(`
$ORIGIN test.
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
_dmarc.e.f.g.h.test. IN TXT "v=DMARC1; p=reject; psd=y"
_dmarc.c.d.e.f.g.h.test. IN TXT "v=DMARC1; p=none; psd=y"
`), "", "test"); err != nil {
		t.Fatal(err)
	}
	// Nine labels: the walk asks the domain, then jumps to the seven-label c.d.e.f.g.h.test.
	d := Discover(context.Background(), z, "a.b.c.d.e.f.g.h.test")
	if d.OrgDomain != "b.c.d.e.f.g.h.test" {
		t.Errorf("psd=y at the seven-label name c.d.e.f.g.h.test: org domain %q, want b.c.d.e.f.g.h.test (one label below, RFC 9989 §4.10.2); queries %v", d.OrgDomain, d.Queries)
	}
}

// TestSeveralRecordsWalkOn: RFC 9989 §4.10 (DNS Tree Walk, steps 2 and
// 6): several DMARC records at one name are all discarded, and the walk
// goes on to the parent, whose policy then governs the subdomain. RFC 7489
// §6.6.3 step 5 instead ends discovery there: no DMARC applies.
func TestSeveralRecordsWalkOn(t *testing.T) {
	z := resolver.NewZone(nil)
	if err := z.Load(strings.NewReader(`
$ORIGIN test.
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
_dmarc.example IN TXT "v=DMARC1; p=reject; sp=quarantine"
_dmarc.sub.example IN TXT "v=DMARC1; p=none"
_dmarc.sub.example IN TXT "v=DMARC1; p=reject"
`), "", "test"); err != nil {
		t.Fatal(err)
	}
	d := Discover(context.Background(), z, "sub.example.test")
	if d.Record == nil || d.PolicyDomain != "example.test" || d.Applies != "sp" || d.Record.SubdomainPolicy != Quarantine {
		t.Errorf("RFC 9989 §4.10: the walk goes on past the several records to example.test: %+v", d)
	}
	if len(d.Several) != 1 || d.Several[0] != "_dmarc.sub.example.test" || len(d.Problems) == 0 {
		t.Errorf("the several records are still reported: %+v", d)
	}
	if d.PSLPolicyDomain != "" {
		t.Errorf("RFC 7489 §6.6.3 step 5: discovery ends at the several records, PSLPolicyDomain %q", d.PSLPolicyDomain)
	}
}
