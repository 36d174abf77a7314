package classify

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/bounce"
	"github.com/mailtriage/mailtriage/mailbox"
)

// bounceFloor is the lowest share of corpus rows whose reason the test
// accepts: just under what the package reaches (317 of 330), so that a
// change that reads real bounces worse fails the build.
const bounceFloor = 0.95

// TestBounceCorpus reads every bounce of the Sisimai corpus and compares
// the reasons found per file with the ones Sisimai's maintainers expect,
// as multisets (a file's recipients may come in another order). Rows whose
// file is missing from the corpus do not count. Run with -v for the
// disagreements.
func TestBounceCorpus(t *testing.T) {
	want := map[string][]string{}
	f, err := os.Open("../testdata/sisimai/expected.tsv")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) >= 5 && col[0] != "file" {
			want[col[0]] = append(want[col[0]], col[4])
		}
	}
	f.Close()
	c := newClassifier(t)
	agree, total := 0, 0
	var diffs []string
	for name, reasons := range want {
		path := filepath.Join("../testdata/sisimai/eml", name)
		if _, err := os.Stat(path); err != nil {
			continue // a label whose file is not in the corpus
		}
		total += len(reasons)
		var got []string
		diag := ""
		// As the product reads them: a file may be an mbox of several.
		mailbox.File(path, func(_ string, data []byte) error {
			m, _ := bounce.Parse(data)
			if m == nil {
				return nil
			}
			for _, r := range m.Recipients {
				v := c.Bounce(m, r)
				got = append(got, v.Reason)
				if diag == "" {
					diag = v.Rule + " [" + r.Status + " " + r.Command + "] " + r.Diagnostic
				}
			}
			return nil
		})
		n := multisetMatch(reasons, got)
		agree += n
		if n < len(reasons) {
			if len(diag) > 300 {
				diag = diag[:300]
			}
			diffs = append(diffs, name+": got "+strings.Join(got, ",")+" want "+strings.Join(reasons, ",")+": "+diag)
		}
	}
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Log(d)
	}
	share := float64(agree) / float64(total)
	t.Logf("reasons agree on %d of %d rows (%.1f%%)", agree, total, 100*share)
	if share < bounceFloor {
		t.Errorf("%.1f%% is under the floor of %.1f%%", 100*share, 100*bounceFloor)
	}
}

// multisetMatch counts the items of want that got has, each item of got
// used once.
func multisetMatch(want, got []string) int {
	left := slices.Clone(got)
	n := 0
	for _, w := range want {
		if i := slices.Index(left, w); i >= 0 {
			left = slices.Delete(left, i, i+1)
			n++
		}
	}
	return n
}

// BenchmarkBounce judges every recipient of the Sisimai corpus, as
// `mailtriage bounce` does after parsing.
func BenchmarkBounce(b *testing.B) {
	c := newClassifier(b)
	type pair struct {
		m *bounce.Message
		r bounce.Recipient
	}
	var all []pair
	files, _ := filepath.Glob("../testdata/sisimai/eml/*.eml")
	for _, f := range files {
		mailbox.File(f, func(_ string, data []byte) error {
			if m, _ := bounce.Parse(data); m != nil {
				for _, r := range m.Recipients {
					all = append(all, pair{m, r})
				}
			}
			return nil
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range all {
			c.Bounce(p.m, p.r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(all))/1e3, "µs/recipient")
}

// TestBounceGateway: an email security gateway's own "unknown user" is
// the gateway filtering; with a code that says the mailbox is unknown
// (5.1.1), it is the mailbox's answer, and so it is without a gateway at
// RCPT TO.
func TestBounceGateway(t *testing.T) {
	c := newClassifier(t)
	for _, tc := range []struct {
		header, diag, reason, filter string
	}{
		{"X-NAI-Header: Modified by McAfee Email and Web Security Appliance\n", "550 Unknown user jane@example.org", "filtered", "mcafee"},
		{"X-Mailer: SurfControl E-mail Filter\n", "550 jane@example.org... No such user", "filtered", "surfcontrol"},
		{"Received: From localhost (127.0.0.1) by mf.example.org (MAILFOUNDRY) id 1\n", "550 <jane@example.org> No such user here", "filtered", "mailfoundry"},
		{"X-NAI-Header: Modified by McAfee Email and Web Security Appliance\n", "550 5.1.1 <jane@example.org>... User unknown", "userunknown", ""},
		{"", "550 Unknown user jane@example.org (in reply to RCPT TO command)", "userunknown", ""},
	} {
		raw := "From: MAILER-DAEMON@mx.example.org\nSubject: Delivery Status\n" + tc.header +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nFailed.\n--b\n" +
			"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; jane@example.org\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; " + tc.diag + "\n--b--\n"
		m, err := bounce.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		v := c.Bounce(m, m.Recipients[0])
		if v.Reason != tc.reason || v.Filter != tc.filter {
			t.Errorf("%q %q: %s/%s, want %s/%s", tc.header, tc.diag, v.Reason, v.Filter, tc.reason, tc.filter)
		}
	}
}

// dsnWith is a delivery status notification about jane@example.org with
// the status and diagnostic given.
func dsnWith(t *testing.T, status, diag string) *bounce.Message {
	t.Helper()
	raw := "From: MAILER-DAEMON@mx.example.org\nSubject: Delivery Status\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nFailed.\n--b\n" +
		"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; jane@example.org\nAction: failed\nStatus: " + status + "\nDiagnostic-Code: smtp; " + diag + "\n--b--\n"
	m, err := bounce.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBounceInContext: a diagnostic read in the light of the report's
// status and the command it answered, each group under the rule it tests.
func TestBounceInContext(t *testing.T) {
	c := newClassifier(t)
	const nxdomain = "DNS Error: 80335577 DNS type 'mx' lookup of example.jp responded with code NXDOMAIN Domain name not found: example.jp"
	for _, tc := range []struct{ status, diag, reason string }{
		// RFC 3463 §3.3, §3.8: a status of X.2.1 (mailbox disabled) or
		// X.7.x (refused by policy) says more than "user unknown" in the
		// server's words, unless the refusal was at RCPT.
		{"5.2.1", "550 5.2.1 <jane@example.org>... User Unknown", "suspend"},
		{"5.7.1", "550 5.7.1 550 User Unknown: jane@example.org", "filtered"},
		{"5.1.1", "550 5.1.1 <jane@example.org>... User Unknown", "userunknown"},
		{"5.7.1", "550 5.7.1 User unknown (in reply to RCPT TO command)", "userunknown"},

		// Sisimai's reading of "unknown user" words (Reason::UserUnknown,
		// Reason::Filtered): a remote server's reply that no addressing
		// status (X.1.x) backs is the address's fault at RCPT TO, and a
		// filter's when the stage is unknown. The reporting MTA's own
		// words (no reply code) are its own lookup.
		{"5.0.0", "550 User unknown", "filtered"},
		{"5.0.0", "550 <jane@example.org>: User unknown", "filtered"},
		{"5.0.0", "550 <jane@example.org>: User unknown (in reply to RCPT TO command)", "userunknown"},
		{"5.1.1", "550 User unknown", "userunknown"},
		{"5.0.0", "550 5.1.1 <jane@example.org>... User unknown", "userunknown"},
		{"5.0.0", "550 #5.1.0 Address rejected.", "userunknown"},
		{"5.0.0", "550 sorry, no mailbox here by that name (#5.1.1 - chkusr)", "userunknown"},
		{"5.0.0", "Unknown user", "userunknown"},

		// A failed lookup of the recipient domain that the report calls
		// temporary (4.x.x) is retried: a network error in Sisimai's
		// terms (Rhost::GSuite); under a permanent status the host is
		// unknown.
		{"4.0.0", nxdomain, "networkerror"},
		{"5.0.0", nxdomain, "hostunknown"},
		{"5.1.2", nxdomain, "hostunknown"},

		// A refusal at MAIL FROM refuses the sender (Sisimai's rejected),
		// whether the server calls the address unknown or the access
		// denied.
		{"5.0.0", "550 5.7.1 <sender@example.jp>... Access denied (in reply to MAIL FROM command)", "rejected"},
		{"5.0.0", "550 5.1.1 <sender@example.jp>... User unknown (in reply to MAIL FROM command)", "rejected"},
		{"5.0.0", "550 5.7.1 <sender@example.jp>... Access denied (in reply to end of DATA command)", "securityerror"},
		{"5.0.0", "530 5.7.0 Authentication required (in reply to MAIL FROM command)", "securityerror"},

		// A final failure whose last reply was temporary is an expiry
		// when the status or the text says the message aged out, and
		// undecided (onhold) when its status is a temporary catch-all and
		// the text names no cause.
		{"4.0.0", "450 4.0.0 Temporary failure", "onhold"},
		{"4.3.0", "451 4.3.0 This message could not be delivered due to a recipient error. Please try again later.", "onhold"},
		{"4.4.7", "450 4.0.0 Temporary failure", "expired"},
		{"4.0.0", "451 Temporary failure; message expired", "expired"},
		{"5.3.0", "554 5.3.0 Mail system error", "systemerror"},
	} {
		m := dsnWith(t, tc.status, tc.diag)
		if v := c.Bounce(m, m.Recipients[0]); v.Reason != tc.reason {
			t.Errorf("%s %q: %s (%s), want %s", tc.status, tc.diag, v.Reason, v.Rule, tc.reason)
		}
	}
}
