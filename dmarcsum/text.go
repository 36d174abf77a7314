package dmarcsum

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/internal/numfmt"
	"github.com/mailtriage/mailtriage/report"
)

// TextOptions shape the terminal summary.
type TextOptions struct {
	Color bool // ANSI colours (the caller honours NO_COLOR)
	// Top cuts the listing (see Summary.Groups); 0 lists every source.
	Top int
}

// maxTextDays is how many days the text summary lists; a longer window
// is better read as the HTML chart.
const maxTextDays = 31

const (
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

// JSON writes the summary as one JSON object: reports, sources, tls,
// days. Each source is one line: a domain can have a hundred thousand
// sources (mostly spoofers, each seen once), and the lines stream out as
// they are encoded, grep well, and stay readable.
func JSON(w io.Writer, s *Summary) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "{\n  \"reports\": %d,\n  \"failure_reports\": %d,\n  \"sources\": [", s.Reports, s.Failures)
	var b []byte
	for i := range s.Sources {
		b = appendSource(b[:0], &s.Sources[i])
		writeItem(bw, i, b)
	}
	closeList(bw, len(s.Sources))
	bw.WriteString(",\n  \"tls\": [")
	for i := range s.TLS {
		j, err := json.Marshal(&s.TLS[i])
		if err != nil {
			return err
		}
		writeItem(bw, i, j)
	}
	closeList(bw, len(s.TLS))
	bw.WriteString(",\n  \"days\": [")
	for i := range s.Days {
		j, err := json.Marshal(&s.Days[i])
		if err != nil {
			return err
		}
		writeItem(bw, i, j)
	}
	closeList(bw, len(s.Days))
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func writeItem(w *bufio.Writer, i int, item []byte) {
	if i > 0 {
		w.WriteByte(',')
	}
	w.WriteString("\n    ")
	w.Write(item)
}

func closeList(w *bufio.Writer, n int) {
	if n > 0 {
		w.WriteString("\n  ")
	}
	w.WriteByte(']')
}

// appendSource encodes a source as encoding/json would (the struct tags
// say the same names), by hand: it is the one object written by the
// hundred thousand.
func appendSource(b []byte, s *Source) []byte {
	b = append(b, `{"ip":`...)
	b = appendString(b, s.IP.String())
	b = append(b, `,"rdns":`...)
	b = appendString(b, s.RDNS)
	b = append(b, `,"service":`...)
	b = appendString(b, s.Service)
	for _, f := range []struct {
		name string
		n    int64
	}{{"messages", s.Messages}, {"spf_aligned_pass", s.SPFAlignedPass}, {"dkim_aligned_pass", s.DKIMAlignedPass}, {"dmarc_pass", s.DMARCPass},
		{"quarantined", s.Quarantined}, {"rejected", s.Rejected}} {
		b = append(b, ',', '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, f.n, 10)
	}
	b = append(b, `,"category":`...)
	b = appendString(b, string(s.Category))
	b = append(b, `,"unverified":`...)
	b = strconv.AppendBool(b, s.Unverified)
	return append(b, '}')
}

// appendString quotes s as JSON: plain ASCII as it is, anything else
// through encoding/json (which also escapes <, > and &).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Text writes the summary for a terminal: the sources grouped by service
// with each group's totals and a grand total, the days, and the TLS
// reports. Every name that came from a report or the DNS is shown with its
// control characters escaped.
func Text(w io.Writer, s *Summary, o TextOptions) error {
	bw := bufio.NewWriter(w)
	paint := func(code, str string) string {
		if !o.Color || str == "" {
			return str
		}
		return code + str + ansiReset
	}
	fmt.Fprintf(bw, "%s %s\n", paint(ansiBold, "DMARC aggregate reports:"), report.Printable(s.Scope()))
	if s.Reports == 0 {
		fmt.Fprintln(bw, s.NoReports())
	} else {
		fmt.Fprintf(bw, "%s, %s, %s passed DMARC", report.Plural(s.Reports, "report"), report.Plural(s.Messages, "message"), report.Percent(s.PassRate()))
		if s.Failures > 0 {
			fmt.Fprintf(bw, "; %s", report.Plural(s.Failures, "failure report"))
		}
		fmt.Fprintln(bw)
		if s.Declared < 0 {
			fmt.Fprintln(bw, "No declared list (--known FILE): every source whose mail passes is shown unverified, and DKIM-only passes as forwarded.")
		}
		sourcesTable(bw, s, o.Top, paint)
		daysTable(bw, s)
	}
	tlsTable(bw, s, paint)
	return bw.Flush()
}

// NoReports says why the summary has no aggregate report: the store has
// none, or none matches the domain and days asked.
func (s *Summary) NoReports() string {
	if s.StoreEmpty || !s.Filtered() {
		return "No aggregate reports here: import them with 'mailtriage dmarc import'."
	}
	what := "those days"
	switch {
	case s.Domain != "" && (!s.Since.IsZero() || !s.Until.IsZero()):
		what = "that domain and those days"
	case s.Domain != "":
		what = "that domain"
	}
	return "No aggregate reports match " + s.Scope() + ": the database holds reports, none for " + what + "."
}

func sourcesTable(w io.Writer, s *Summary, top int, paint func(string, string) string) {
	fmt.Fprintf(w, "\n%s\n", paint(ansiBold, "Sources"))
	t := report.NewTable("service", "IP", "rDNS", "messages>", "SPF aligned pass>", "DKIM aligned pass>", "applied", "DMARC pass>", "category", "")
	var hidden int64
	for _, g := range s.Groups(top) {
		hidden += g.Hidden
		name := report.Printable(g.Name)
		if g.Folded {
			t.Row("("+name+")", "", report.Plural(g.Hidden, "source"), count(g.Messages), count(g.SPFAlignedPass), count(g.DKIMAlignedPass),
				"", percent(rate(g.DMARCPass, g.Messages)), "", "")
			continue
		}
		if !g.Service {
			name = "(" + name + ")"
		}
		for i, src := range g.Sources {
			if i > 0 {
				name = ""
			}
			cat := src.Category.Title()
			switch src.Category {
			case Authorized:
				cat = paint(ansiGreen, cat)
			case Failing:
				cat = paint(ansiRed, cat)
			default:
				cat = paint(ansiYellow, cat)
			}
			flag := ""
			if src.Unverified {
				flag = paint(ansiYellow, "unverified")
			}
			t.Row(name, src.IP.String(), orDash(report.Printable(src.RDNS)), count(src.Messages), count(src.SPFAlignedPass), count(src.DKIMAlignedPass),
				applied(src), percent(src.PassRate()), cat, flag)
		}
		if g.Hidden > 0 {
			t.Row("", "...", "and "+count(g.Hidden)+" more", "", "", "", "", "", "", "")
		}
		if n := int64(len(g.Sources)) + g.Hidden; n > 1 {
			t.Row("", "group total", report.Plural(n, "source"), count(g.Messages), count(g.SPFAlignedPass), count(g.DKIMAlignedPass),
				"", percent(rate(g.DMARCPass, g.Messages)), "", "")
		}
	}
	// The grand total stands apart: under the last group, a total row
	// would read as that group's.
	t.Row()
	t.Row(paint(ansiBold, "all sources"), "", report.Plural(int64(len(s.Sources)), "source"), count(s.sourceMessages()), count(s.SPFAlignedPass), count(s.DKIMAlignedPass),
		"", percent(rate(s.DMARCPass, s.sourceMessages())), "", "")
	t.Write(w, "  ")
	if hidden > 0 {
		fmt.Fprintf(w, "  %s of %s not listed (--top 0 lists them all; --format json always does).\n", report.Plural(hidden, "source"), count(int64(len(s.Sources))))
	}
}

// sourceMessages sums the sources' messages, which Messages (from the
// per-day rollup) should equal.
func (s *Summary) sourceMessages() int64 {
	var n int64
	for i := range s.Sources {
		n = addSat(n, s.Sources[i].Messages)
	}
	return n
}

// applied says what receivers did with the source's mail.
func applied(s Source) string {
	var parts []string
	if s.Quarantined > 0 {
		parts = append(parts, count(s.Quarantined)+" quarantined")
	}
	if s.Rejected > 0 {
		parts = append(parts, count(s.Rejected)+" rejected")
	}
	if len(parts) == 0 {
		return "delivered"
	}
	return strings.Join(parts, ", ")
}

func daysTable(w io.Writer, s *Summary) {
	if len(s.Days) == 0 {
		return
	}
	fmt.Fprintf(w, "\nPer day (UTC, by the day that holds the middle of each report's period)\n")
	if len(s.Days) > maxTextDays {
		fmt.Fprintf(w, "  %d days, %s to %s: see --format html for the chart, or --format json.\n", len(s.Days), s.Days[0].Day, s.Days[len(s.Days)-1].Day)
		return
	}
	t := report.NewTable("day", "reports>", "messages>", "DMARC pass>")
	for _, d := range s.Days {
		t.Row(d.Day, count(d.Reports), count(d.Messages), percent(rate(d.DMARCPass, d.Messages)))
	}
	t.Write(w, "  ")
}

func tlsTable(w io.Writer, s *Summary, paint func(string, string) string) {
	fmt.Fprintf(w, "\n%s\n", paint(ansiBold, "SMTP TLS reports (RFC 8460)"))
	if len(s.TLS) == 0 {
		fmt.Fprintln(w, "  None here.")
		return
	}
	t := report.NewTable("domain", "policy", "reports>", "sessions>", "failed>", "failure rate>", "top failures")
	for _, p := range s.TLS {
		sessions := addSat(p.Successes, p.Failures)
		rateText := percent(rate(p.Failures, sessions))
		if p.Failures > 0 {
			rateText = paint(ansiRed, rateText)
		}
		t.Row(report.Printable(p.Domain), report.Printable(p.PolicyType), count(p.Reports), count(sessions), count(p.Failures), rateText, report.Printable(topFailures(p.TopFailures)))
	}
	t.Write(w, "  ")
}

func topFailures(fs []TLSFailure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s %s", f.ResultType, count(f.Sessions))
	}
	return orDash(strings.Join(parts, ", "))
}

// Scope says which reports the summary covers.
func (s *Summary) Scope() string {
	dom := "all domains"
	if s.Domain != "" {
		dom = s.Domain
	}
	switch {
	case !s.Since.IsZero() && !s.Until.IsZero():
		return fmt.Sprintf("%s, UTC days from %s until %s", dom, s.Since.UTC().Format(time.DateOnly), lastDay(s.Until))
	case !s.Since.IsZero():
		return fmt.Sprintf("%s, UTC days from %s", dom, s.Since.UTC().Format(time.DateOnly))
	case !s.Until.IsZero():
		return fmt.Sprintf("%s, UTC days until %s", dom, lastDay(s.Until))
	}
	return dom + ", all days"
}

// lastDay is the last day a query's Until takes in (the day before, when
// Until is a midnight).
func lastDay(until time.Time) string {
	u := until.UTC()
	if u.Equal(u.Truncate(24 * time.Hour)) {
		u = u.Add(-time.Nanosecond)
	}
	return u.Format(time.DateOnly)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// count and percent write figures as every mailtriage table does (package
// numfmt's separators, package report's percentages).
func count(n int64) string { return numfmt.Thousands(n) }

func percent(share float64) string { return report.Percent(share) }
