package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// Text writes the terminal report: the summary, what to do first, the
// lanes with a sparkline of their hourly deferral rate, who answered, the
// replies by meaning, the queue timeouts by root cause, and the streams.
func Text(w io.Writer, r *analysis.Result, opts Options) error {
	return validUTF8(w, func(w io.Writer) error { return writeText(w, r, opts) })
}

func writeText(w io.Writer, r *analysis.Result, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = 100
	}
	t.header(r)
	t.summary(r)
	t.actions(r)
	t.lanes(r, opts.limit())
	t.hourly(r, opts.limit())
	t.providers(r, opts.limit())
	t.responses(r, opts.limit())
	t.expired(r, opts.limit())
	t.domains(r, opts.limit())
	t.streams(r, opts.limit())
	t.hosts(r, opts.limit())
	t.listings(r)
	t.inputs(r)
	return bw.Flush()
}

type textWriter struct {
	w     *bufio.Writer
	color bool
	width int
}

const (
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	reset  = "\x1b[0m"
)

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + reset
}

func (t *textWriter) printf(format string, args ...any) { fmt.Fprintf(t.w, format, args...) }

func (t *textWriter) section(title string) {
	t.printf("\n%s\n", t.paint(bold, title))
}

func (t *textWriter) header(r *analysis.Result) {
	var lines int64
	for _, in := range r.Inputs {
		lines += in.Lines
	}
	t.printf("%s %s\n", t.paint(bold, "mailtriage analyze:"), fmt.Sprintf("%s, %s, %s (times in UTC%s)",
		plural(len(r.Inputs), "input"), Plural(lines, "line"), inputSpan(r), zoneNote(r)))
	if r.Since != "" || r.Until != "" {
		t.printf("window: since %s until %s\n", nonEmpty(r.Since, "the start"), nonEmpty(r.Until, "the end"))
	}
}

// zoneNote says how stamps without zone were read, if any were, and the
// year given to those without one either (traditional syslog).
func zoneNote(r *analysis.Result) string {
	var n int64
	years := map[int]bool{}
	// Zone-less stamps of an input given no year carried their own (RFC
	// 3339 without an offset, Exim's, PowerMTA's): the year is not theirs.
	dated := false
	for _, in := range r.Inputs {
		n += in.Zoneless
		if in.Year != 0 {
			years[in.Year] = true
		} else if in.Zoneless > 0 {
			dated = true
		}
	}
	if n == 0 {
		return ""
	}
	note := fmt.Sprintf("; %s lines without zone read as %s", numfmt.Thousands(n), nonEmpty(r.TimeZone, "UTC"))
	if len(years) == 1 {
		which := "year"
		if dated {
			which = "those without year in"
		}
		for y := range years {
			note += fmt.Sprintf(", %s %d (--year to change)", which, y)
		}
	}
	return note
}

func (t *textWriter) summary(r *analysis.Result) {
	s := r.Summary
	t.section("SUMMARY")
	t.printf("  messages %s   recipients %s   notifications %s\n", numfmt.Thousands(int64(s.Messages)), numfmt.Thousands(int64(s.Recipients)), numfmt.Thousands(int64(s.Notifications)))
	t.printf("  delivered %s (%s)   bounced %s   expired %s   pending %s",
		numfmt.Thousands(int64(s.Delivered)), pct(s.Delivered, s.Recipients), numfmt.Thousands(int64(s.Bounced)),
		t.paint(warnIf(s.Expired > 0), numfmt.Thousands(int64(s.Expired))), numfmt.Thousands(int64(s.Pending)))
	if s.PendingUnnamed > 0 {
		t.printf(" (+%s not yet tried, known only by their count)", numfmt.Thousands(int64(s.PendingUnnamed)))
	}
	if s.Deleted > 0 {
		t.printf("   deleted %s", numfmt.Thousands(int64(s.Deleted)))
	}
	if s.Discarded > 0 {
		t.printf("   discarded %s", numfmt.Thousands(int64(s.Discarded)))
	}
	if s.Complaints > 0 {
		t.printf("   complaints %s", t.paint(yellow, numfmt.Thousands(int64(s.Complaints))))
	}
	t.printf("\n  attempts %s   deferrals %s (%s of attempts)   local deferrals %s\n",
		numfmt.Thousands(int64(s.Attempts)), numfmt.Thousands(int64(s.Deferrals)), rateOf(s.DeferralRate, s.Attempts), numfmt.Thousands(int64(s.LocalDeferrals)))
	if s.UnparsedLines > 0 {
		t.printf("  %s\n", t.paint(dim, fmt.Sprintf("%s skipped as unreadable (--verbose shows some)", Plural(s.UnparsedLines, "line"))))
	}
	t.printf("  %s\n", t.paint(dim, t.wrap("An attempt is one try to deliver to one recipient, answered or not; the deferral rate is deferrals / attempts. "+
		"Local deferrals are recipients the MTA held back without trying (a suspended destination): not attempts. "+
		"Notifications are the bounce and delay notices the MTA sent back to senders: counted apart. "+
		"Pending recipients were still queued when the inputs ended, or the --until window did.", 2)))
}

func warnIf(b bool) string {
	if b {
		return yellow
	}
	return ""
}

func (t *textWriter) actions(r *analysis.Result) {
	t.section("WHAT TO DO FIRST")
	if len(r.Findings) == 0 {
		t.printf("  Nothing stands out: no lane's deferrals rose above its baseline and no blocks were seen.\n")
		return
	}
	for i, f := range r.Findings {
		if i == 8 {
			t.printf("  %s\n", t.paint(dim, fmt.Sprintf("... %d more findings in --format json, markdown or html", len(r.Findings)-i)))
			break
		}
		sev := string(f.Severity)
		switch f.Severity {
		case mailtriage.SeverityError:
			sev = t.paint(red, sev)
		case mailtriage.SeverityWarning:
			sev = t.paint(yellow, sev)
		default:
			sev = t.paint(dim, sev)
		}
		t.printf("  %d. [%s] %s\n", i+1, sev, t.wrap(f.Message, 7))
		if f.Fix != "" {
			t.printf("     %s %s\n", t.paint(cyan, "→"), t.wrap(f.Fix+" (owner: "+string(f.Owner)+")", 7))
		}
	}
}

// wrap breaks s into lines that fit the width, indenting continuations.
func (t *textWriter) wrap(s string, indent int) string {
	s = printable(s)
	limit := t.width - indent
	if limit < 40 {
		limit = 40
	}
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		if i > 0 {
			if col+1+n > limit {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

func (t *textWriter) lanes(r *analysis.Result, limit int) {
	t.section("LANES (by recipient domain's receiving infrastructure)")
	if len(r.Lanes) == 0 {
		t.printf("  None: no recipient was seen.\n")
		return
	}
	tb := newTable("lane", "attempts>", "delivered>", "deferrals>", "bounces>", "deferral rate>", "expired>", "pending>", "domains")
	for i, l := range r.Lanes {
		if i == limit {
			break
		}
		rt := rateOf(l.DeferralRate, l.Attempts)
		if l.DeferralRate >= 0.2 && l.Attempts >= 20 {
			rt = t.paint(red, rt)
		}
		tb.row(printable(l.Lane), numfmt.Thousands(int64(l.Attempts)), numfmt.Thousands(int64(l.Delivered)), numfmt.Thousands(int64(l.Deferrals)),
			numfmt.Thousands(int64(l.Bounces)), rt, numfmt.Thousands(int64(l.Expired)), numfmt.Thousands(int64(l.Pending)), printable(join(l.Domains, 3)))
	}
	tb.write(t.w, "  ")
	more(t, len(r.Lanes), limit, "lanes")
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// hourly draws one sparkline per lane: one character per hour from the
// first hour with attempts to the last, its height the deferral rate.
// Where bounces outnumber deferrals (and are 5% of the lane's attempts or
// more), the line says so: a lane that bounces everything is flat.
func (t *textWriter) hourly(r *analysis.Result, limit int) {
	if len(r.Hourly) == 0 {
		return
	}
	first, last := r.Hourly[0].Hour, r.Hourly[0].Hour
	rates := map[string]map[int64]analysis.HourStats{}
	for _, h := range r.Hourly {
		if h.Hour.Before(first) {
			first = h.Hour
		}
		if h.Hour.After(last) {
			last = h.Hour
		}
		if rates[h.Lane] == nil {
			rates[h.Lane] = map[int64]analysis.HourStats{}
		}
		rates[h.Lane][h.Hour.Unix()] = h
	}
	hours := int(last.Sub(first)/time.Hour) + 1
	width := max(t.width-32, 10)
	step := 1
	for (hours+step-1)/step > width {
		step++
	}
	per := "hour"
	if step > 1 {
		per = plural(step, "hour")
	}
	t.section(fmt.Sprintf("DEFERRAL RATE PER HOUR (%s to %s, one mark per %s; ▁ 0%% … █ 100%%, blank: no attempts)",
		shortTime(first), shortTime(last.Add(time.Hour)), per))
	shown, drawable := 0, 0
	for _, l := range r.Lanes {
		byHour, ok := rates[l.Lane]
		if !ok || l.Attempts == 0 {
			continue
		}
		drawable++
		if shown == limit {
			continue
		}
		shown++
		var b strings.Builder
		peak, peakAt := -1.0, time.Time{}
		for i := 0; i < hours; i += step {
			var c analysis.Counts
			for j := i; j < i+step && j < hours; j++ {
				at := first.Add(time.Duration(j) * time.Hour)
				if h, ok := byHour[at.Unix()]; ok {
					c.Attempts += h.Attempts
					c.Deferrals += h.Deferrals
					if h.Attempts >= 10 && h.DeferralRate > peak {
						peak, peakAt = h.DeferralRate, at
					}
				}
			}
			if c.Attempts == 0 {
				b.WriteByte(' ')
				continue
			}
			rt := c.Rate()
			mark := string(sparks[min(len(sparks)-1, int(rt*float64(len(sparks))))])
			switch {
			case rt >= 0.2:
				mark = t.paint(red, mark)
			case rt >= 0.05:
				mark = t.paint(yellow, mark)
			}
			b.WriteString(mark)
		}
		note := ""
		if peak >= 0 {
			note = fmt.Sprintf(" peak %s at %s", rate(peak), shortTime(peakAt))
		}
		note = t.paint(dim, note)
		if bounced := float64(l.Bounces) / float64(l.Attempts); l.Bounces > l.Deferrals && bounced >= 0.05 {
			// The line draws deferrals: a lane that bounces instead
			// would read as healthy.
			say := fmt.Sprintf(" %s bounced", rate(bounced))
			if bounced >= 0.2 {
				say = t.paint(red, say)
			}
			if peak <= 0 {
				note = t.paint(dim, " no deferrals;") + say
			} else {
				note += t.paint(dim, ";") + say
			}
		}
		t.printf("  %-11s %s%s\n", l.Lane, b.String(), note)
	}
	more(t, drawable, limit, "lanes")
}

func (t *textWriter) providers(r *analysis.Result, limit int) {
	if len(r.Providers) == 0 {
		return
	}
	t.section("WHO ANSWERED")
	tb := newTable("provider", "attempts>", "deferrals>", "bounces>", "deferral rate>", "filters its replies named")
	for i, p := range r.Providers {
		if i == limit {
			break
		}
		tb.row(nonEmpty(p.Provider, "unknown"), numfmt.Thousands(int64(p.Attempts)), numfmt.Thousands(int64(p.Deferrals)),
			numfmt.Thousands(int64(p.Bounces)), rateOf(p.DeferralRate, p.Attempts), nonEmpty(strings.Join(p.Filters, ", "), "-"))
	}
	tb.write(t.w, "  ")
	more(t, len(r.Providers), limit, "providers")
}

func (t *textWriter) responses(r *analysis.Result, limit int) {
	if len(r.Responses) == 0 {
		return
	}
	t.section("REPLIES TO FAILED ATTEMPTS, BY MEANING")
	tb := newTable("count>", "code", "class", "reason", "category", "who", "rule")
	var examples []string
	for i, resp := range r.Responses {
		if i == limit {
			break
		}
		code := strconv.Itoa(resp.Code)
		if resp.Code == 0 {
			code = "-"
		}
		if resp.Enhanced != "" {
			code += " " + resp.Enhanced
		}
		tb.row(numfmt.Thousands(int64(resp.Count)), code, string(resp.Class), resp.Reason, resp.Category, who(resp.Provider, resp.Filter), resp.Rule)
		examples = append(examples, resp.Example)
	}
	tb.writeWithNotes(t.w, "  ", examples, t)
	more(t, len(r.Responses), limit, "reply groups")
}

func (t *textWriter) expired(r *analysis.Result, limit int) {
	if len(r.Expired) == 0 {
		return
	}
	t.section("QUEUE TIMEOUTS, BY THE LAST REAL FAILURE")
	for i, g := range r.Expired {
		if i == limit {
			break
		}
		lr := g.LastReply
		desc := nonEmpty(lr.Text, "no reply recorded")
		t.printf("  %6s  %s\n", numfmt.Thousands(int64(g.Count)), t.wrap(desc, 10))
		t.printf("          %s\n", t.paint(dim, fmt.Sprintf("%s, %s, %s, rule %s, lanes %s", nonEmpty(string(lr.Class), "-"), nonEmpty(lr.Reason, "-"),
			who(lr.Provider, lr.Filter), nonEmpty(lr.Rule, "-"), strings.Join(g.Lanes, ", "))))
	}
	more(t, len(r.Expired), limit, "root causes")
	t.printf("  %s\n", t.paint(dim, "--format json lists the recipients, queue ids and message ids (expired_recipients)"))
}

func (t *textWriter) domains(r *analysis.Result, limit int) {
	if len(r.Domains) == 0 {
		return
	}
	t.section("DOMAINS THAT ACCEPTED NOTHING")
	tb := newTable("domain", "lane", "attempts>", "most frequent reply")
	shown := r.Domains[:min(len(r.Domains), limit)]
	// The reply takes what the line has left after the other columns.
	used := 2 + len("attempts") + 2
	wd, wl := len("domain"), len("lane")
	for _, d := range shown {
		wd, wl = max(wd, visible(printable(d.Domain))), max(wl, visible(printable(d.Lane)))
	}
	room := max(t.width-used-wd-2-wl-2, 30)
	for _, d := range shown {
		tb.row(printable(d.Domain), printable(d.Lane), numfmt.Thousands(int64(d.Attempts)), clip(printable(nonEmpty(d.Reply.Example, "-")), room))
	}
	tb.write(t.w, "  ")
	more(t, len(r.Domains), limit, "domains")
}

func (t *textWriter) hosts(r *analysis.Result, limit int) {
	if len(r.Hosts) < 2 {
		return // one host: the summary says it all
	}
	t.section("SENDING HOSTS")
	tb := newTable("host", "attempts>", "deferrals>", "bounces>", "deferral rate>")
	for i, h := range r.Hosts {
		if i == limit {
			break
		}
		tb.row(printable(h.Label()), numfmt.Thousands(int64(h.Attempts)), numfmt.Thousands(int64(h.Deferrals)), numfmt.Thousands(int64(h.Bounces)), rateOf(h.DeferralRate, h.Attempts))
	}
	tb.write(t.w, "  ")
	more(t, len(r.Hosts), limit, "hosts")
}

// listings puts each sending address's blocklist listings beside what its
// host carried.
func (t *textWriter) listings(r *analysis.Result) {
	if len(r.Blocklists) == 0 {
		return
	}
	t.section("SENDING ADDRESSES ON BLOCKLISTS")
	tb := newTable("address", "host", "listed on", "carried: attempts>", "deferrals>", "bounces>")
	for _, l := range r.Blocklists {
		listed := listedOn(l)
		if len(l.Listed) > 0 {
			listed = t.paint(red, listed)
		}
		a, d, b := "-", "-", "-"
		if c := l.Carried; c != nil {
			a, d, b = numfmt.Thousands(int64(c.Attempts)), numfmt.Thousands(int64(c.Deferrals)), numfmt.Thousands(int64(c.Bounces))
		}
		tb.row(l.IP, nonEmpty(l.Host, "-"), listed, a, d, b)
	}
	tb.write(t.w, "  ")
}

// listedOn says where an address is listed. "none of the scored lists"
// needs a list that answered: when every one could not tell, the row says
// so, as a blocklist answer is never read as clean by default.
func listedOn(l analysis.SenderListing) string {
	switch {
	case len(l.Listed) > 0:
		lists := make([]string, len(l.Listed))
		for i, e := range l.Listed {
			lists[i] = e.List
		}
		s := strings.Join(lists, ", ")
		if len(l.Unknown) > 0 {
			s += fmt.Sprintf(" (%d could not tell)", len(l.Unknown))
		}
		return s
	case len(l.Clean) == 0 && len(l.Unknown) > 0:
		return fmt.Sprintf("could not tell: no scored list answered (%d asked)", len(l.Unknown))
	case len(l.Unknown) > 0:
		return fmt.Sprintf("none of the scored lists (%d could not tell)", len(l.Unknown))
	}
	return "none of the scored lists"
}

func (t *textWriter) streams(r *analysis.Result, limit int) {
	if len(r.Streams) == 0 {
		return
	}
	t.section("STREAMS (by envelope sender, or its domain with --stream-by domain)")
	tb := newTable("stream", "messages>", "recipients>", "attempts>", "deferral rate>", "expired>", "bounced>", "lanes")
	for i, s := range r.Streams {
		if i == limit {
			break
		}
		tb.row(printable(s.Stream), numfmt.Thousands(int64(s.Messages)), numfmt.Thousands(int64(s.Recipients)), numfmt.Thousands(int64(s.Attempts)), rateOf(s.DeferralRate, s.Attempts),
			numfmt.Thousands(int64(s.Expired)), numfmt.Thousands(int64(s.Bounced)), join(s.Lanes, 4))
	}
	tb.write(t.w, "  ")
	more(t, len(r.Streams), limit, "streams")
}

func (t *textWriter) inputs(r *analysis.Result) {
	t.section("INPUTS")
	for _, in := range r.Inputs {
		if in.Error != "" {
			t.printf("  %s  %s\n", t.paint(red, "✗"), in.Error)
			continue
		}
		t.printf("  %s  %s: %s\n", t.paint(cyan, "✓"), displayName(in.Name), inputCounts(in))
		for _, l := range in.Limits {
			t.printf("     %s %s\n", t.paint(yellow, "!"), t.wrap(l, 7))
		}
	}
}

// inputCounts says what was read of one input, in its own units: "9,876
// lines, 9,501 Postfix, 372 other programs, 3 unreadable".
func inputCounts(in analysis.Input) string {
	units, matched := Plural(in.Lines, "line"), numfmt.Thousands(in.MatchedLines)+" Postfix"
	others, bad := "other programs", "unreadable"
	switch {
	case in.Format == "bounces":
		// A returned message is a unit of its own, and tells of
		// recipients.
		units, matched = Plural(in.Lines, "message"), Plural(in.MatchedLines, "recipient")+" reported"
		others, bad = "ordinary messages or auto-replies", "naming nobody"
	case in.Format == "journal-json":
		// The journal's entries, Postfix's read as its log lines.
		units = Plural(in.Lines, "journal record")
	case in.Format != "" && in.Format != "postfix":
		matched, others = Plural(in.MatchedLines, in.Format+" record"), "without a delivery"
	}
	return fmt.Sprintf("%s, %s, %s %s, %s %s", units, matched, numfmt.Thousands(in.OtherLines), others, numfmt.Thousands(in.Unparsed+in.Overlong), bad)
}

// printable shows the control characters of s as \xNN: text from the
// DNS or a log could otherwise move the cursor, retitle or clear the
// terminal (an SPF record with ESC ] 0; in it).
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// displayName names an input for people: "-" is standard input.
func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

func more(t *textWriter, n, limit int, what string) {
	if n > limit {
		t.printf("  %s\n", t.paint(dim, fmt.Sprintf("... and %d more %s (--format json has all)", n-limit, what)))
	}
}

// who names who answered in a table cell, "-" when nobody is known.
func who(provider, filter string) string {
	return nonEmpty(mailtriage.Who(provider, filter), "-")
}

func join(list []string, n int) string {
	if len(list) > n {
		return strings.Join(list[:n], ", ") + ", …"
	}
	return strings.Join(list, ", ")
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func shortTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

func rate(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// rateOf writes a deferral rate, or "-" when there was no attempt to
// take it over: 0 of 0 is no rate, not 0.0% (a lane whose mail was all
// held back by the MTA has no attempts).
func rateOf(f float64, attempts int) string {
	if attempts == 0 {
		return "-"
	}
	return rate(f)
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return rate(float64(n) / float64(of))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
