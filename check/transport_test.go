package check

import (
	"slices"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage"
)

// stsZone is a domain with one MX and the MTA-STS policy host; each case
// adds its TXT records.
const stsZone = "$ORIGIN .\n$TTL 300\n. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300\n" +
	"example.test. IN MX 10 mx.example.test.\nmx.example.test. IN A 198.51.100.25\nmta-sts.example.test. IN A 198.51.100.80\n"

// enforcePolicy covers mx.example.test in enforce mode.
var enforcePolicy = []string{"version: STSv1", "mode: enforce", "mx: mx.example.test", "max_age: 604800"}

// runTransport checks example.test with records added to stsZone and
// policy served.
func runTransport(t *testing.T, records string, policy []string) *Report {
	t.Helper()
	fx := fixture{opts: Options{Domain: "example.test"}, fail: map[string]int{}, zone: stsZone + records, policy: policy}
	return fx.run(t)
}

// TestDiscardedRecords: senders discard the TXT records that do not begin
// with the version, "v=STSv1;" (RFC 8461 §3.1) or "v=TLSRPTv1;" (RFC 8460
// §3), before counting: a stray record beside a good one leaves one.
func TestDiscardedRecords(t *testing.T) {
	for _, tt := range []struct {
		name, records string
		want, not     []string
		record        string // the MTA-STS or TLS-RPT record the summary shows
	}{
		{
			"sts: white space before a second record",
			`_mta-sts.example.test. IN TXT " v=STSv1; id=1"` + "\n" + `_mta-sts.example.test. IN TXT "v=STSv1; id=2"`,
			nil, []string{"mtasts.invalid"}, "v=STSv1; id=2",
		},
		{
			"sts: another version beside the record",
			`_mta-sts.example.test. IN TXT "v=STSv10; id=1"` + "\n" + `_mta-sts.example.test. IN TXT "v=STSv1; id=2"`,
			nil, []string{"mtasts.invalid"}, "v=STSv1; id=2",
		},
		{
			"sts: two good records are still two",
			`_mta-sts.example.test. IN TXT "v=STSv1; id=1"` + "\n" + `_mta-sts.example.test. IN TXT "v=STSv1; id=2"`,
			[]string{"mtasts.invalid"}, nil, "v=STSv1; id=1 | v=STSv1; id=2",
		},
		{
			"sts: a lone record with white space is invalid, not missing",
			`_mta-sts.example.test. IN TXT " v=STSv1; id=1"`,
			[]string{"mtasts.invalid"}, []string{"mtasts.missing"}, " v=STSv1; id=1",
		},
		{
			"tlsrpt: white space before a second record",
			`_smtp._tls.example.test. IN TXT " v=TLSRPTv1; rua=mailto:a@example.test"` + "\n" + `_smtp._tls.example.test. IN TXT "v=TLSRPTv1; rua=mailto:b@example.test"`,
			nil, []string{"tlsrpt.invalid"}, "v=TLSRPTv1; rua=mailto:b@example.test",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := runTransport(t, tt.records+"\n", enforcePolicy)
			got := codes(rep.Findings)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("want %s, got %v", w, got)
				}
			}
			for _, n := range tt.not {
				if slices.Contains(got, n) {
					t.Errorf("did not want %s, got %v", n, got)
				}
			}
			var record string
			switch {
			case rep.TLSRPT != nil && rep.MTASTS == nil:
				record = rep.TLSRPT.Record
			case rep.MTASTS != nil:
				record = rep.MTASTS.Record
			}
			if record != tt.record {
				t.Errorf("record %q, want %q", record, tt.record)
			}
		})
	}
}

// TestPolicyErrorFix: the fix of an invalid policy names what to change:
// the web server's Content-Type (RFC 8461 §3.2: the policy is text/plain),
// the file, or both.
func TestPolicyErrorFix(t *testing.T) {
	for _, tt := range []struct {
		name, contentType string
		policy            []string
		fix, notFix       []string
	}{
		{"content type", "text/html", enforcePolicy, []string{"Content-Type: text/plain"}, []string{"policy file"}},
		{"file", "text/plain", []string{"version: STSv1", "mode: enforce", "mx: mx.example.test"}, []string{"policy file"}, []string{"Content-Type"}},
		{"both", "application/octet-stream", []string{"version: STSv1", "mode: Enforce", "mx: mx.example.test", "max_age: 604800"}, []string{"Content-Type: text/plain", "policy file"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fx := fixture{opts: Options{Domain: "example.test"}, fail: map[string]int{}, policy: tt.policy, httpType: tt.contentType,
				zone: stsZone + `_mta-sts.example.test. IN TXT "v=STSv1; id=1"` + "\n"}
			rep := fx.run(t)
			i := slices.IndexFunc(rep.Findings, func(f mailtriage.Finding) bool { return f.Code == "mtasts.invalid" })
			if i < 0 {
				t.Fatalf("no mtasts.invalid in %v", codes(rep.Findings))
			}
			fix := rep.Findings[i].Fix
			for _, w := range tt.fix {
				if !strings.Contains(fix, w) {
					t.Errorf("fix %q does not say %q", fix, w)
				}
			}
			for _, n := range tt.notFix {
				if strings.Contains(fix, n) {
					t.Errorf("fix %q says %q", fix, n)
				}
			}
		})
	}
}

// TestSTARTTLSUnderEnforce: an MX without working STARTTLS gets mail in
// clear text, unless the MTA-STS policy is enforced: then senders that
// honour it do not deliver there at all (RFC 8461 §5, §4.2).
func TestSTARTTLSUnderEnforce(t *testing.T) {
	testingPolicy := []string{"version: STSv1", "mode: testing", "mx: mx.example.test", "max_age: 604800"}
	for _, tt := range []struct {
		name, smtp, code string
		policy           []string
		enforced         bool
	}{
		{"no STARTTLS, enforce", "plain", "tls.no-starttls", enforcePolicy, true},
		{"no STARTTLS, testing", "plain", "tls.no-starttls", testingPolicy, false},
		{"handshake fails, enforce", "broken", "tls.starttls-failed", enforcePolicy, true},
		{"handshake fails, testing", "broken", "tls.starttls-failed", testingPolicy, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fx := fixture{opts: Options{Domain: "example.test", SMTPProbe: true}, fail: map[string]int{}, policy: tt.policy, smtp: tt.smtp,
				zone: stsZone + `_mta-sts.example.test. IN TXT "v=STSv1; id=1"` + "\n"}
			rep := fx.run(t)
			i := slices.IndexFunc(rep.Findings, func(f mailtriage.Finding) bool { return f.Code == tt.code })
			if i < 0 {
				t.Fatalf("no %s in %v", tt.code, codes(rep.Findings))
			}
			msg := rep.Findings[i].Message
			if says := strings.Contains(msg, "will not deliver"); says != tt.enforced {
				t.Errorf("message %q: says senders will not deliver: %v, want %v", msg, says, tt.enforced)
			}
		})
	}
}
