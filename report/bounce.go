package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mailtriage/mailtriage/bouncescan"
)

// BounceJSON writes one JSON object per recipient, in an array, followed by
// nothing else: the skipped messages go to standard error as text.
func BounceJSON(w io.Writer, r *bouncescan.Result) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i := range r.Records {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  ")
		b, err := json.Marshal(&r.Records[i])
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	if len(r.Records) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// BounceText writes the reasons as a bar chart, then a row per recipient:
// where it came from, the address, the reason, the status and reply code,
// who answered and the diagnostic.
func BounceText(w io.Writer, r *bouncescan.Result, opts Options) error {
	return validUTF8(w, func(w io.Writer) error { return writeBounceText(w, r, opts) })
}

func writeBounceText(w io.Writer, r *bouncescan.Result, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = 100
	}
	t.printf("%s %s, %s", t.paint(bold, "mailtriage bounce:"), plural(r.Messages, "message"), plural(len(r.Records), "recipient"))
	var notes []string
	if skipped := len(r.NotReports) + len(r.NoRecipient); skipped > 0 {
		notes = append(notes, plural(skipped, "message")+" gave none")
	}
	if len(r.Unreadable) > 0 {
		notes = append(notes, plural(len(r.Unreadable), "input")+" could not be read")
	}
	if len(notes) > 0 {
		t.printf(" (%s: see standard error)", strings.Join(notes, ", "))
	}
	t.printf("\n")
	if len(r.Records) == 0 {
		return bw.Flush()
	}
	t.bounceReasons(r.Records)
	t.section("RECIPIENTS")
	tb := newTable("file", "recipient", "reason", "status", "code>", "who", "diagnostic")
	for _, rec := range r.Records {
		code := ""
		if rec.Code > 0 {
			code = fmt.Sprint(rec.Code)
		}
		reason := rec.Reason
		switch rec.Class {
		case "permanent":
			reason = t.paint(red, reason)
		case "temporary":
			reason = t.paint(yellow, reason)
		}
		tb.row(rec.File, cmp.Or(rec.Recipient, "(not named)"), reason, rec.Status, code, who(rec.Provider, rec.Filter), clip(oneLine(rec.Diagnostic), 70))
	}
	tb.write(t.w, "  ")
	return bw.Flush()
}

// bounceReasons charts the reasons, most frequent first.
func (t *textWriter) bounceReasons(recs []bouncescan.Record) {
	if len(recs) == 0 {
		return
	}
	count := map[string]int{}
	for _, r := range recs {
		count[r.Reason]++
	}
	reasons := make([]string, 0, len(count))
	for k := range count {
		reasons = append(reasons, k)
	}
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b)) })
	t.section("REASONS")
	top := count[reasons[0]]
	for _, k := range reasons {
		n := max(1, count[k]*30/top)
		t.printf("  %-16s %6d  %s\n", k, count[k], t.paint(cyan, strings.Repeat("█", n)))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
