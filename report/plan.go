package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/internal/numfmt"
	"github.com/mailtriage/mailtriage/plan"
	"github.com/mailtriage/mailtriage/throttle"
)

// PlanReport is what `mailtriage plan` shows: the plan, the MTA
// configuration, and where each written file went.
type PlanReport struct {
	*plan.Plan
	MTA     string          `json:"mta"`
	Files   []throttle.File `json:"files"`
	Written []string        `json:"written,omitempty"` // paths, with --out-dir
	// ConfigNote, when no configuration is written for the lanes, says
	// why (the logs are of an MTA mailtriage writes none for) and what
	// to do instead.
	ConfigNote string `json:"config_note,omitempty"`
	// CohortFiles are the cohort CSVs written, with --recipients and
	// --out-dir.
	CohortFiles []string `json:"cohort_files,omitempty"`
}

// PlanJSON writes the report as indented JSON.
func PlanJSON(w io.Writer, r *PlanReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// PlanText writes the plan for a person: per lane why, the day-one
// throttle, the schedule with its rule; the streams; then the
// configuration, or where it was written.
func PlanText(w io.Writer, r *PlanReport, opts Options) error {
	return validUTF8(w, func(w io.Writer) error { return writePlanText(w, r, opts) })
}

func writePlanText(w io.Writer, r *PlanReport, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = 100
	}
	var names []string
	for _, l := range r.Lanes {
		names = append(names, l.Lane)
	}
	t.printf("%s %s to slow%s; analysis from %s to %s\n", t.paint(bold, "mailtriage plan:"), plural(len(r.Lanes), "lane"),
		listIn(names), shortTime(r.From), shortTime(r.To))
	if r.Nothing != "" {
		t.printf("\n  %s\n", t.wrap(r.Nothing, 2))
	}
	for _, l := range r.Lanes {
		t.planLane(r, l)
	}
	if len(r.Watch) > 0 {
		t.section("WATCH, DO NOT THROTTLE YET")
		for _, w := range r.Watch {
			t.printf("  %s\n", t.wrap(w, 2))
		}
	}
	t.planStreams(r.Streams)
	t.planFiles(r)
	return bw.Flush()
}

// listIn writes " (a, b)", or nothing for an empty list.
func listIn(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return " (" + strings.Join(l, ", ") + ")"
}

// routing says where the throttled lane's mail goes and how its limits
// are shared. PowerMTA queues each domain on its own (per domain and
// virtual MTA), whatever MX hosts they share: each queue takes the limits.
func routing(mta string, th throttle.Lane) string {
	switch {
	case mta == "powermta" && len(th.Domains) > 1:
		n := len(th.Domains) // as the configuration splits it
		if th.Destinations > 0 {
			n = min(th.Destinations, n)
		}
		s := fmt.Sprintf("each domain its own queue (PowerMTA queues by domain and virtual MTA) with these limits; the rate split among the %d with mail", n)
		if r := th.PowerMTAQueueRate(); r != "" {
			s += ": " + r + " each"
		}
		return s
	case mta == "powermta":
		return "the domain's own queue"
	case th.Relayhost != "":
		return "through the relayhost " + th.Relayhost + ", one destination"
	case th.Nexthop != "":
		return "all domains to " + th.Nexthop + "'s MX (they share it), one set of limits"
	case th.Destinations > 1:
		return fmt.Sprintf("each domain its own destination; the rate split among the %d with mail", th.Destinations)
	}
	return "each domain its own destination"
}

// dayOne says the day-one throttle as the MTA applies it. Postfix with a
// rate delay delivers one message at a time per destination, whatever the
// concurrency limit, and reuses no connection past its cache time (2s).
func dayOne(mta string, th throttle.Lane) string {
	if d := th.PostfixRateDelay(); mta == "postfix" && d > 0 {
		s := fmt.Sprintf("%s an hour: Postfix delivers one at a time, one every %ds per destination", plural(th.PerHour, "message"), d)
		if d > 2 {
			return s + ", each on a new connection"
		}
		return s + ", " + plural(th.MessagesPerConnection, "message") + " per connection"
	}
	return fmt.Sprintf("%s, %s per connection, %s an hour", plural(th.Connections, "connection"), plural(th.MessagesPerConnection, "message"), plural(th.PerHour, "message"))
}

func (t *textWriter) planLane(r *PlanReport, l plan.LanePlan) {
	t.section(fmt.Sprintf("LANE %s (%s)", strings.ToUpper(l.Lane), strings.Join(l.Domains, ", ")))
	t.printf("  why:       %s\n", t.wrap(l.Why, 13))
	t.printf("  usual:     %s\n", t.wrap(fmt.Sprintf("%d attempts an hour (a busy hour, and enough for the busiest usual day), %s deferred; a step holds above %s", l.UsualPerHour, rate(l.UsualRate), rate(l.Threshold)), 13))
	th := l.Throttle
	t.printf("  day one:   %s\n", t.wrap(dayOne(r.MTA, th), 13))
	t.printf("  routing:   %s\n", t.wrap(routing(r.MTA, th), 13))
	for _, n := range l.Notes {
		t.printf("  %s %s\n", t.paint(yellow, "note:     "), t.wrap(n, 13))
	}
	for i, d := range l.Deferrals {
		label := "           "
		if i == 0 {
			label = "back off:  "
		}
		t.printf("  %s%s\n", label, t.wrap(d, 13))
	}
	if len(l.Cohorts) > 0 {
		for i, c := range l.Cohorts {
			label := "           "
			if i == 0 {
				label = "cohorts:   "
			}
			what := "mailed in turn"
			if !c.Send {
				what = "not mailed during the recovery"
			}
			file := ""
			if c.File != "" && c.Recipients > 0 {
				file = t.paint(dim, "  "+c.File)
			}
			t.printf("  %s%-14s %8s  %s%s\n", label, c.Name, numfmt.Thousands(int64(c.Recipients)), what, file)
		}
	}
	head := []string{"day>", "phase", "share of usual>", "per hour>", "per day>"}
	if len(l.Cohorts) > 0 {
		head = append(head, "cohorts")
	}
	tb := newTable(head...)
	var rules []string
	for _, d := range l.Schedule {
		cells := []string{fmt.Sprint(d.Day), d.Phase, fmt.Sprintf("%d%%", d.Share), fmt.Sprint(d.PerHour), fmt.Sprint(d.PerDay)}
		if len(l.Cohorts) > 0 {
			cells = append(cells, strings.Join(d.Cohorts, ", "))
		}
		tb.row(cells...)
		if !slices.Contains(rules, d.Rule) {
			rules = append(rules, d.Rule)
		}
	}
	t.printf("\n")
	tb.write(t.w, "  ")
	// The rules repeat from day to day: each is said once.
	for i, r := range rules {
		label := "then:"
		if i == 0 {
			label = "day 1:"
		} else if i == len(rules)-1 && len(rules) > 2 {
			label = "last:"
		}
		t.printf("  %-7s %s\n", label, t.wrap(r, 10))
	}
}

func (t *textWriter) planStreams(ss []plan.Stream) {
	if len(ss) == 0 {
		return
	}
	t.section("STREAMS")
	for _, s := range ss {
		messages := n(s.Messages) + " messages"
		if s.Messages == 1 {
			messages = "1 message"
		}
		t.printf("  %-14s %s: %s, %s deferred (%s)\n", s.Kind, s.Stream, messages, rate(s.DeferralRate), join(s.Lanes, 6))
		if s.Advice != "" {
			t.printf("    %s %s\n", t.paint(cyan, "→"), t.wrap(s.Advice, 6))
		}
	}
}

func (t *textWriter) planFiles(r *PlanReport) {
	if r.ConfigNote != "" {
		t.section("CONFIGURATION")
		t.printf("  %s\n", t.wrap(r.ConfigNote, 2))
	}
	if len(r.Files) == 0 {
		return
	}
	if len(r.Written) > 0 {
		t.section(fmt.Sprintf("CONFIGURATION FOR %s, WRITTEN", strings.ToUpper(r.MTA)))
		for i, f := range r.Files {
			t.printf("  %s\n    → %s\n", r.Written[i], f.Install)
		}
		return
	}
	t.section(fmt.Sprintf("CONFIGURATION FOR %s (--out-dir DIR writes these files)", strings.ToUpper(r.MTA)))
	for _, f := range r.Files {
		t.printf("\n  %s  %s\n", t.paint(bold, f.Name), t.paint(dim, "→ "+f.Install))
		for _, line := range strings.Split(strings.TrimRight(f.Content, "\n"), "\n") {
			t.printf("    %s\n", printable(line))
		}
	}
}

// PlanMarkdown writes the plan for a ticket or a runbook.
func PlanMarkdown(w io.Writer, r *PlanReport) error {
	return validUTF8(w, func(w io.Writer) error { return writePlanMarkdown(w, r) })
}

func writePlanMarkdown(w io.Writer, r *PlanReport) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("# Recovery plan\n\nAnalysis from %s to %s.\n", shortTime(r.From), shortTime(r.To))
	if r.Nothing != "" {
		p("\n%s\n", mdEscape(r.Nothing))
	}
	for _, l := range r.Lanes {
		th := l.Throttle
		p("\n## Lane %s (%s)\n\n", l.Lane, strings.Join(l.Domains, ", "))
		p("- **Why:** %s\n- **Usual:** %d attempts an hour (a busy hour, and enough for the busiest usual day), %s deferred; a step holds above %s.\n", mdEscape(l.Why), l.UsualPerHour, rate(l.UsualRate), rate(l.Threshold))
		p("- **Day one:** %s.\n", mdEscape(dayOne(r.MTA, th)))
		p("- **Routing:** %s\n", mdEscape(routing(r.MTA, th)))
		for _, n := range l.Notes {
			p("- **Note:** %s\n", mdEscape(n))
		}
		for _, d := range l.Deferrals {
			p("- **Back off on:** `%s`\n", strings.ReplaceAll(d, "`", "'"))
		}
		if len(l.Cohorts) > 0 {
			p("\n| cohort | recipients | mailed |\n|---|---:|---|\n")
			for _, c := range l.Cohorts {
				p("| %s | %d | %v |\n", c.Name, c.Recipients, c.Send)
			}
		}
		p("\n| day | phase | share | per hour | per day | cohorts | to go on |\n|---:|---|---:|---:|---:|---|---|\n")
		for _, d := range l.Schedule {
			p("| %d | %s | %d%% | %d | %d | %s | %s |\n", d.Day, d.Phase, d.Share, d.PerHour, d.PerDay, strings.Join(d.Cohorts, ", "), mdEscape(d.Rule))
		}
	}
	if len(r.Watch) > 0 {
		p("\n## Watch, do not throttle yet\n\n")
		for _, w := range r.Watch {
			p("- %s\n", mdEscape(w))
		}
	}
	if len(r.Streams) > 0 {
		p("\n## Streams\n\n| stream | kind | messages | deferred | advice |\n|---|---|---:|---:|---|\n")
		for _, s := range r.Streams {
			p("| %s | %s | %s | %s | %s |\n", mdEscape(s.Stream), s.Kind, n(s.Messages), rate(s.DeferralRate), mdEscape(s.Advice))
		}
	}
	if r.ConfigNote != "" {
		p("\n## Configuration\n\n%s\n", mdEscape(r.ConfigNote))
	}
	if len(r.Files) > 0 {
		p("\n## Configuration for %s\n", r.MTA)
		for _, f := range r.Files {
			p("\n`%s` → %s\n\n```\n%s```\n", f.Name, mdEscape(f.Install), f.Content)
		}
	}
	return bw.Flush()
}

// PlanCheckJSON writes the progress of each lane as indented JSON.
func PlanCheckJSON(w io.Writer, ps []plan.Progress) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Lanes []plan.Progress `json:"lanes"`
	}{ps})
}

// PlanCheckText writes, per lane, a row a day (the step it was on, its
// deferral rate, a mark per hour against the threshold, the decision)
// and what to do today.
func PlanCheckText(w io.Writer, ps []plan.Progress, thresholds map[string]float64, opts Options) error {
	return validUTF8(w, func(w io.Writer) error { return writePlanCheckText(w, ps, thresholds, opts) })
}

func writePlanCheckText(w io.Writer, ps []plan.Progress, thresholds map[string]float64, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = 100
	}
	t.printf("%s %s\n", t.paint(bold, "mailtriage plan check:"), plural(len(ps), "lane"))
	for _, p := range ps {
		th := thresholds[p.Lane]
		t.section(fmt.Sprintf("LANE %s (a step holds above %s; hours: ▁ 0%% … █ 100%%, red over the threshold)", strings.ToUpper(p.Lane), rate(th)))
		tb := newTable("date", "day", "phase", "limit/h>", "attempts>", "deferred>", "hours 00-23", "decision")
		for _, d := range p.Days {
			decision := string(d.Decision)
			switch d.Decision {
			case plan.Hold:
				decision = t.paint(yellow, decision)
			case plan.RollBack:
				decision = t.paint(red, decision)
			}
			if d.Suspect != "" {
				decision += " (suspect " + d.Suspect + ")"
			}
			tb.row(d.Date.Format(time.DateOnly), fmt.Sprint(d.Step), d.Phase, fmt.Sprint(d.Limit), numfmt.Thousands(int64(d.Attempts)), rate(d.DeferralRate), t.dayMarks(d, th), decision)
		}
		tb.write(t.w, "  ")
		if n := len(p.Days); n > 0 && p.Days[n-1].Reason != "" {
			t.printf("  %s %s\n", t.paint(bold, "why:"), t.wrap(p.Days[n-1].Reason, 7))
		}
		t.printf("  %s %s\n", t.paint(bold, "now:"), t.wrap(p.Today, 7))
	}
	return bw.Flush()
}

// dayMarks draws a day's 24 hours: a mark per hour with attempts, its
// height the deferral rate, red above the threshold.
func (t *textWriter) dayMarks(d plan.DayProgress, threshold float64) string {
	byHour := map[int]plan.HourRate{}
	for _, h := range d.Hours {
		byHour[h.Hour.UTC().Hour()] = h
	}
	var b strings.Builder
	for i := range 24 {
		h, ok := byHour[i]
		if !ok || h.Attempts == 0 {
			b.WriteByte(' ')
			continue
		}
		mark := string(sparks[min(len(sparks)-1, int(h.Rate*float64(len(sparks))))])
		if h.Rate > threshold {
			mark = t.paint(red, mark)
		}
		b.WriteString(mark)
	}
	return b.String()
}
