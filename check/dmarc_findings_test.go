package check

import (
	"slices"
	"strings"
	"testing"
)

// dmarcCase is one domain checked against a zone, with the policy and
// findings the RFCs call for.
type dmarcCase struct {
	name, rfc   string
	domain      string
	policy      string
	want, not   []string
	msgContains map[string]string // code -> text its message must hold
	msgLacks    map[string]string // code -> text its message must not hold
}

func runDMARCCases(t *testing.T, zone string, cases []dmarcCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rep := runZone(t, zone, Options{Domain: tt.domain})
			got := codes(rep.Findings)
			if tt.policy != "-" && (rep.DMARC == nil || rep.DMARC.Policy != tt.policy) {
				t.Errorf("%s: policy %+v, want %q", tt.rfc, rep.DMARC, tt.policy)
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s: want %s, got %v", tt.rfc, w, got)
				}
			}
			for _, n := range tt.not {
				if slices.Contains(got, n) {
					t.Errorf("%s: did not want %s, got %v", tt.rfc, n, got)
				}
			}
			for _, f := range rep.Findings {
				if s, ok := tt.msgContains[f.Code]; ok && !strings.Contains(f.Message, s) {
					t.Errorf("%s: %s message %q lacks %q", tt.rfc, f.Code, f.Message, s)
				}
				if s, ok := tt.msgLacks[f.Code]; ok && strings.Contains(f.Message, s) {
					t.Errorf("%s: %s message %q holds %q", tt.rfc, f.Code, f.Message, s)
				}
			}
		})
	}
}

// TestDMARCBrokenRecordBelowPolicy: a subdomain that publishes a DMARC
// record receivers cannot use is not a subdomain "with no record of its
// own": RFC 7489 §6.6.3 steps 3, 5 and 6 stop at the first name that holds
// a v=DMARC1 record, so a receiver applies no DMARC at all, while the
// tree walk of RFC 9989 §4.10 goes on to the parent. The user must hear of
// the broken record.
func TestDMARCBrokenRecordBelowPolicy(t *testing.T) {
	zone := `_dmarc.org.test. IN TXT "v=DMARC1; p=reject; rua=mailto:d@org.test"
_dmarc.sub.org.test. IN TXT "v=DMARC1 p=none"
_dmarc.sub2.org.test. IN TXT "v=DMARC1; p=bogus"
sub.org.test. IN A 192.0.2.1
sub2.org.test. IN A 192.0.2.1
`
	runDMARCCases(t, zone, []dmarcCase{
		{name: "no semicolons", rfc: "RFC 7489 §6.6.3", domain: "sub.org.test", policy: "reject",
			want: []string{"dmarc.invalid"}, msgContains: map[string]string{"dmarc.invalid": "_dmarc.sub.org.test"},
			msgLacks: map[string]string{"dmarc.inherited": "no DMARC record of its own"}},
		{name: "invalid p without rua", rfc: "RFC 7489 §6.6.3 step 6", domain: "sub2.org.test", policy: "reject",
			want: []string{"dmarc.invalid"}, msgContains: map[string]string{"dmarc.invalid": "_dmarc.sub2.org.test"},
			msgLacks: map[string]string{"dmarc.inherited": "no DMARC record of its own"}},
	})
}

// TestDMARCPctStillCountsForRFC7489Receivers: RFC 9989 removed pct=, but
// a receiver still on RFC 7489 applies p= to only pct percent of failing
// mail and, for the rest, the next weaker policy (RFC 7489 §6.3 "pct",
// §6.6.4): "receivers ignore it" is true of half the receivers only.
func TestDMARCPctStillCountsForRFC7489Receivers(t *testing.T) {
	zone := `_dmarc.zero.test. IN TXT "v=DMARC1; p=reject; pct=0; rua=mailto:d@zero.test"
_dmarc.half.test. IN TXT "v=DMARC1; p=quarantine; pct=50; rua=mailto:d@half.test"
_dmarc.full.test. IN TXT "v=DMARC1; p=reject; pct=100; rua=mailto:d@full.test"
`
	runDMARCCases(t, zone, []dmarcCase{
		{name: "pct=0 under reject", rfc: "RFC 7489 §6.6.4", domain: "zero.test", policy: "reject",
			want: []string{"dmarc.tag-warning"}, msgContains: map[string]string{"dmarc.tag-warning": "RFC 7489 receivers apply quarantine"}},
		{name: "pct=50 under quarantine", rfc: "RFC 7489 §6.6.4", domain: "half.test", policy: "quarantine",
			want: []string{"dmarc.tag-warning"}, msgContains: map[string]string{"dmarc.tag-warning": "to 50% of failing mail"}},
		{name: "pct=100 is harmless", rfc: "RFC 9989", domain: "full.test", policy: "reject",
			want: []string{"dmarc.tag-warning"}, msgLacks: map[string]string{"dmarc.tag-warning": "RFC 7489 receivers apply"}},
	})
}

// TestDMARCNonExistentSubdomain: RFC 9989 §3.2 ("Non-existent Domains") calls a domain
// non-existent when its A, AAAA and MX lookups all answer NXDOMAIN or
// NODATA, so np= covers not only a name that is not in the DNS at all but
// also one that holds only other records (a TXT, an SPF record for a
// bounce domain) and an empty non-terminal; verify judges the same
// messages so (dmarc.Evaluate).
func TestDMARCNonExistentSubdomain(t *testing.T) {
	zone := `_dmarc.org.test. IN TXT "v=DMARC1; p=reject; sp=quarantine; np=none; rua=mailto:d@org.test"
txt.org.test. IN TXT "v=spf1 -all"
host.leaf.org.test. IN A 192.0.2.1
mx.org.test. IN MX 10 host.leaf.org.test.
a.org.test. IN A 192.0.2.1
`
	runDMARCCases(t, zone, []dmarcCase{
		{name: "NXDOMAIN", rfc: "RFC 9989 §3.2", domain: "ghost.org.test", policy: "none",
			msgContains: map[string]string{"dmarc.inherited": "np=none"}},
		{name: "TXT only (NODATA)", rfc: "RFC 9989 §3.2", domain: "txt.org.test", policy: "none",
			msgContains: map[string]string{"dmarc.inherited": "np=none"}},
		{name: "empty non-terminal (NODATA)", rfc: "RFC 9989 §3.2", domain: "leaf.org.test", policy: "none",
			msgContains: map[string]string{"dmarc.inherited": "np=none"}},
		{name: "MX only", rfc: "RFC 9989 §3.2", domain: "mx.org.test", policy: "quarantine",
			msgContains: map[string]string{"dmarc.inherited": "sp=quarantine"}},
		{name: "A", rfc: "RFC 9989 §3.2", domain: "a.org.test", policy: "quarantine",
			msgContains: map[string]string{"dmarc.inherited": "sp=quarantine"}},
	})
}
