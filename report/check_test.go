package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/check"
)

func sampleCheck() *check.Report {
	return &check.Report{
		Domain: "xn--bcher-kva.example", Unicode: "bücher.example", Score: 62, Grade: "D",
		Coverage: check.Coverage{Made: 9, Applied: 10, Percent: 90},
		Categories: []check.Category{
			{Name: "spf", Score: 100, Checked: true, Made: 3, Total: 3},
			{Name: "dmarc", Score: 24, Checked: true, Made: 3, Total: 3},
			{Name: "identity", Checked: false, Total: 2},
		},
		Findings: []mailtriage.Finding{
			{Code: "dmarc.policy-none", Severity: mailtriage.SeverityWarning, Category: "dmarc", Message: "p=none <script>", Fix: "move on", Owner: mailtriage.OwnerSender, Evidence: []string{`_dmarc TXT "v=DMARC1; p=none"`}},
			{Code: "rdns.unknown", Severity: mailtriage.SeverityUnknown, Category: "identity", Message: "timeout", Fix: "again", Owner: mailtriage.OwnerESP, Evidence: []string{"PTR: timeout"}},
		},
		SPF:   &check.SPFSummary{Record: "v=spf1 -all"},
		DMARC: &check.DMARCSummary{Record: "v=DMARC1; p=none", PolicyDomain: "bücher.example", Policy: "none"},
	}
}

// TestCheckHTMLWellFormed: the page parses as XML, escapes what the DNS
// said, and draws one bar per category.
func TestCheckHTMLWellFormed(t *testing.T) {
	var b bytes.Buffer
	if err := CheckHTML(&b, sampleCheck()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	parseXML(t, page)
	if strings.Contains(page, "<script>") {
		t.Error("a record's text reached the page unescaped")
	}
	if n := len(svgs(t, page)); n != 1 {
		t.Errorf("%d svg elements, want 1", n)
	}
	for _, want := range []string{"bücher.example", "dmarc.policy-none", "not checked", "62/100"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestCheckText(t *testing.T) {
	var b bytes.Buffer
	if err := CheckText(&b, sampleCheck(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"bücher.example (xn--bcher-kva.example)", "score 62/100, grade D", "WARNINGS (1)", "COULD NOT CHECK (1)", "not checked", "SPF       v=spf1 -all"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Color")
	}
}

func TestClipMiddle(t *testing.T) {
	if got := clipMiddle("abcdefghij", 5); got != "ab…ij" {
		t.Errorf("%q", got)
	}
	if got := clipMiddle("short", 10); got != "short" {
		t.Errorf("%q", got)
	}
}

// TestTextEscapesControls: an ESC in a DNS record must not reach the
// terminal.
func TestTextEscapesControls(t *testing.T) {
	r := sampleCheck()
	r.SPF.Record = "v=spf1 \x1b]0;pwned\x07\x1b[2J -all"
	r.Findings[0].Message = "bad \x1b[2J record"
	var b bytes.Buffer
	if err := CheckText(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Errorf("control characters reached the text: %q", b.String())
	}
	if !strings.Contains(b.String(), `\x1b]0;pwned\x07`) {
		t.Errorf("escaped form missing: %s", b.String())
	}
}
