package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
)

func TestToUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"plain ascii":         "plain ascii",
		"gr\u00fc\u00df":      "gr\u00fc\u00df", // valid UTF-8 stays
		"Benutzer \xfcber":    "Benutzer \u00fcber",
		"jos\xe9@example.com": "jos\u00e9@example.com",
		"c1 \x85 byte":        "c1 \ufffd byte",
		"cut \xe2\x82":        "cut \u00e2\ufffd",
	} {
		if got := string(toUTF8([]byte(in))); got != want {
			t.Errorf("toUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReportsAreUTF8: a reply in Latin-1 (an old server's) comes out of
// every human format as valid UTF-8, its letters kept.
func TestReportsAreUTF8(t *testing.T) {
	r := &analysis.Result{Findings: []mailtriage.Finding{{Code: "x", Severity: mailtriage.SeverityWarning,
		Message: "550 5.1.1 Benutzer unbekannt \xfcber mx.example.de"}}}
	for name, out := range renderAll(t, r) {
		if !utf8.ValidString(out) || !strings.Contains(out, "\u00fcber") {
			t.Errorf("%s: not UTF-8, or the letter lost", name)
		}
	}
}
