package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailtriage/mailtriage/analysis"
)

// Markdown writes the report as GitHub-flavoured Markdown, for a ticket or
// an email to the ESP.
func Markdown(w io.Writer, r *analysis.Result) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	s := r.Summary
	p("# Delivery incident report\n\n")
	p("Times are UTC; zone-less timestamps were read as %s.\n\n", r.TimeZone)
	p("## Summary\n\n")
	p("| messages | recipients | delivered | bounced | expired | pending | attempts | deferrals | deferral rate | local deferrals | notifications |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	p("| %d | %d | %d | %d | %d | %d | %d | %d | %s | %d | %d |\n\n", s.Messages, s.Recipients, s.Delivered, s.Bounced,
		s.Expired, s.Pending, s.Attempts, s.Deferrals, rate(s.DeferralRate), s.LocalDeferrals, s.Notifications)
	p("## What to do first\n\n")
	if len(r.Findings) == 0 {
		p("Nothing stands out.\n\n")
	}
	for i, f := range r.Findings {
		p("%d. **%s** `%s` %s\n   - Fix: %s (owner: %s)\n", i+1, f.Severity, f.Code, mdEscape(f.Message), mdEscape(f.Fix), f.Owner)
		for _, ev := range f.Evidence {
			p("   - Evidence: `%s`\n", strings.ReplaceAll(ev, "`", "'"))
		}
	}
	p("\n## Lanes\n\n| lane | attempts | delivered | deferrals | bounces | deferral rate | expired | pending | domains |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, l := range r.Lanes {
		p("| %s | %d | %d | %d | %d | %s | %d | %d | %s |\n", l.Lane, l.Attempts, l.Delivered, l.Deferrals, l.Bounces,
			rate(l.DeferralRate), l.Expired, l.Pending, mdEscape(join(l.Domains, 4)))
	}
	if len(r.Incidents) > 0 {
		p("\n## Incidents\n\n| lane | from | to | attempts | deferral rate | peak | baseline | dominant reply |\n|---|---|---|---:|---:|---:|---:|---|\n")
		for _, in := range r.Incidents {
			p("| %s | %s | %s | %d | %s | %s | %s | %s |\n", in.Lane, shortTime(in.Start), shortTime(in.End), in.Attempts,
				rate(in.DeferralRate), rate(in.PeakRate), rate(in.Baseline), mdEscape(in.Reply.Example))
		}
	}
	p("\n## Replies to failed attempts\n\n| count | code | class | reason | who | rule | example |\n|---:|---|---|---|---|---|---|\n")
	for _, resp := range r.Responses {
		code := strconv.Itoa(resp.Code)
		if resp.Enhanced != "" {
			code += " " + resp.Enhanced
		}
		p("| %d | %s | %s | %s | %s | `%s` | %s |\n", resp.Count, code, resp.Class, resp.Reason, who(resp.Provider, resp.Filter), resp.Rule, mdEscape(resp.Example))
	}
	if len(r.Expired) > 0 {
		p("\n## Queue timeouts by last real failure\n\n| recipients | last reply | class | reason | who | rule |\n|---:|---|---|---|---|---|\n")
		for _, g := range r.Expired {
			lr := g.LastReply
			p("| %d | %s | %s | %s | %s | `%s` |\n", g.Count, mdEscape(nonEmpty(lr.Text, "none recorded")), lr.Class, lr.Reason, who(lr.Provider, lr.Filter), lr.Rule)
		}
	}
	p("\n## Streams\n\n| stream | messages | recipients | attempts | deferral rate | expired | bounced |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, st := range r.Streams {
		p("| %s | %d | %d | %d | %s | %d | %d |\n", mdEscape(st.Stream), st.Messages, st.Recipients, st.Attempts, rate(st.DeferralRate), st.Expired, st.Bounced)
	}
	p("\n## Inputs\n\n")
	for _, in := range r.Inputs {
		if in.Error != "" {
			p("- %s: **%s**\n", mdEscape(in.Name), mdEscape(in.Error))
			continue
		}
		p("- %s: %d lines, %d Postfix, %d other programs, %d unreadable\n", mdEscape(in.Name), in.Lines, in.MatchedLines, in.OtherLines, in.Unparsed+in.Overlong)
	}
	return bw.Flush()
}

// mdEscape keeps table cells intact: pipes and line breaks would break them.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return strings.ReplaceAll(s, ">", "&gt;")
}
