package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/evidence"
)

// cells splits a Markdown table row as GitHub does: at each pipe not
// escaped with a backslash, code spans included.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	parts := regexp.MustCompile(`(^|[^\\])\|`).FindAllStringIndex(row, -1)
	return make([]string, max(len(parts)-1, 0))
}

// TestEvidenceMarkdownCodeCells: replies and Message-IDs are the
// receivers' and the senders' text, quoted as code: a pipe in one must
// not split the table's row, a backtick not end the code span early, a
// line break not end the row.
func TestEvidenceMarkdownCodeCells(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	reply := "550 5.7.1 blocked | see `https://example.net/?a|b`\nsecond line"
	r := &analysis.Result{
		Responses: []analysis.Response{{Count: 3, Code: 550, Enhanced: "5.7.1", Example: reply, Lanes: []string{"apple"}, First: at, Last: at}},
		ExpiredRecipients: []analysis.RecipientOutcome{{Time: at, Source: "postfix", Host: "mta1", QueueID: "4F1A2B3C",
			MessageID: "a|b`c@shop.example", Lane: "apple", Attempts: 2, LastReply: reply}},
	}
	var buf bytes.Buffer
	if err := EvidenceMarkdown(&buf, evidence.Build(r, evidence.Options{IncludeRecipients: true})); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| 3 |") && len(cells(l)) != 6 {
			t.Errorf("reply row has %d cells, want 6:\n%s", len(cells(l)), l)
		}
		if strings.HasPrefix(l, "| mta1/4F1A2B3C |") && len(cells(l)) != 8 {
			t.Errorf("sample row has %d cells, want 8:\n%s", len(cells(l)), l)
		}
	}
	if !strings.Contains(md, "`` 550 5.7.1 blocked \\| see `https://example.net/?a\\|b` second line ``") {
		t.Errorf("the reply is not one code span with its backticks and pipes kept:\n%s", md)
	}
	if strings.Contains(md, "\nsecond line") {
		t.Errorf("a line break in a reply ends the table row:\n%s", md)
	}
}
