package dmarcsum

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	fmt.Fprintf(bw, "{\n  \"reports\": %d,\n  \"sources\": [", s.Reports)
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
	}{{"messages", s.Messages}, {"spf_aligned_pass", s.SPFAlignedPass}, {"dkim_aligned_pass", s.DKIMAlignedPass}, {"dmarc_pass", s.DMARCPass}} {
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
// with each group's totals, the days, and the TLS reports.
func Text(w io.Writer, s *Summary, o TextOptions) error {
	bw := bufio.NewWriter(w)
	paint := func(code, str string) string {
		if !o.Color || str == "" {
			return str
		}
		return code + str + ansiReset
	}
	fmt.Fprintf(bw, "%s %s\n", paint(ansiBold, "DMARC aggregate reports:"), s.Scope())
	if s.Reports == 0 {
		fmt.Fprintln(bw, "No aggregate reports here: import them with 'mailtriage dmarc import'.")
	} else {
		fmt.Fprintf(bw, "%s, %s, %s passed DMARC", plural(s.Reports, "report"), plural(s.Messages, "message"), percent(s.PassRate()))
		if s.Failures > 0 {
			fmt.Fprintf(bw, "; %s", plural(s.Failures, "failure report"))
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

func sourcesTable(w io.Writer, s *Summary, top int, paint func(string, string) string) {
	fmt.Fprintf(w, "\n%s\n", paint(ansiBold, "Sources"))
	t := newTable("service", "IP", "rDNS", "messages>", "SPF aligned pass>", "DKIM aligned pass>", "DMARC pass>", "applied", "category", "")
	var hidden int64
	for _, g := range s.Groups(top) {
		hidden += g.Hidden
		if g.Folded {
			t.row("("+g.Name+")", "", plural(g.Hidden, "source"), count(g.Messages), count(g.SPFAlignedPass), count(g.DKIMAlignedPass),
				percent(rate(g.DMARCPass, g.Messages)), "", "", "")
			continue
		}
		for i, src := range g.Sources {
			name := ""
			if i == 0 {
				name = g.Name
				if !g.Service {
					name = "(" + name + ")"
				}
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
			t.row(name, src.IP.String(), orDash(src.RDNS), count(src.Messages), count(src.SPFAlignedPass), count(src.DKIMAlignedPass),
				percent(src.PassRate()), applied(src), cat, flag)
		}
		if g.Hidden > 0 {
			t.row("", "...", "and "+count(g.Hidden)+" more", "", "", "", "", "", "", "")
		}
		if n := int64(len(g.Sources)) + g.Hidden; n > 1 {
			t.row("", "total", plural(n, "source"), count(g.Messages), count(g.SPFAlignedPass), count(g.DKIMAlignedPass),
				percent(rate(g.DMARCPass, g.Messages)), "", "", "")
		}
	}
	t.write(w, "  ")
	if hidden > 0 {
		fmt.Fprintf(w, "  %s of %s not listed (--top 0 lists them all; --format json always does).\n", plural(hidden, "source"), count(int64(len(s.Sources))))
	}
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
	fmt.Fprintf(w, "\nPer day (UTC, by the day each report's period begins)\n")
	if len(s.Days) > maxTextDays {
		fmt.Fprintf(w, "  %d days, %s to %s: see --format html for the chart, or --format json.\n", len(s.Days), s.Days[0].Day, s.Days[len(s.Days)-1].Day)
		return
	}
	t := newTable("day", "reports>", "messages>", "DMARC pass>")
	for _, d := range s.Days {
		t.row(d.Day, count(d.Reports), count(d.Messages), percent(rate(d.DMARCPass, d.Messages)))
	}
	t.write(w, "  ")
}

func tlsTable(w io.Writer, s *Summary, paint func(string, string) string) {
	fmt.Fprintf(w, "\n%s\n", paint(ansiBold, "SMTP TLS reports (RFC 8460)"))
	if len(s.TLS) == 0 {
		fmt.Fprintln(w, "  None here.")
		return
	}
	t := newTable("domain", "policy", "reports>", "sessions>", "failed>", "failure rate>", "top failures")
	for _, p := range s.TLS {
		rateText := percent(rate(p.Failures, p.Successes+p.Failures))
		if p.Failures > 0 {
			rateText = paint(ansiRed, rateText)
		}
		t.row(p.Domain, p.PolicyType, count(p.Reports), count(p.Successes+p.Failures), count(p.Failures), rateText, topFailures(p.TopFailures))
	}
	t.write(w, "  ")
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

func percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// count writes n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return count(n) + " " + what + "s"
}

// table lays out rows in aligned columns; a header ending in ">" is a
// right-aligned (numeric) column.
type table struct {
	head  []string
	right []bool
	rows  [][]string
}

func newTable(head ...string) *table {
	t := &table{}
	for _, h := range head {
		t.right = append(t.right, strings.HasSuffix(h, ">"))
		t.head = append(t.head, strings.TrimSuffix(h, ">"))
	}
	return t
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// visible is the printed width of s, without colour codes.
func visible(s string) int {
	n := 0
	for len(s) > 0 {
		if s[0] == 0x1b {
			if end := strings.IndexByte(s, 'm'); end >= 0 {
				s = s[end+1:]
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		n++
	}
	return n
}

func (t *table) write(w io.Writer, indent string) {
	wd := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			wd[i] = max(wd[i], visible(c))
		}
	}
	var b strings.Builder
	for _, r := range append([][]string{t.head}, t.rows...) {
		var line strings.Builder
		line.WriteString(indent)
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", wd[i]-visible(c))
			if t.right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	io.WriteString(w, b.String())
}
