package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// Markdown writes the report as GitHub-flavoured Markdown, for a ticket or
// an email to the ESP.
func Markdown(w io.Writer, r *analysis.Result) error {
	return validUTF8(w, func(w io.Writer) error { return writeMarkdown(w, r) })
}

func writeMarkdown(w io.Writer, r *analysis.Result) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	s := r.Summary
	p("# Delivery incident report\n\n")
	p("%s. Times are UTC%s.\n\n", upperFirst(inputSpan(r)), zoneNote(r))
	if r.Since != "" || r.Until != "" {
		p("Window: since %s until %s; the figures cover only these events.\n\n", nonEmpty(r.Since, "the start"), nonEmpty(r.Until, "the end"))
	}
	p("## Summary\n\n")
	p("| messages | recipients | delivered | bounced | expired | pending | attempts | deferrals | deferral rate | local deferrals | notifications |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n\n", n(s.Messages), n(s.Recipients), n(s.Delivered), n(s.Bounced),
		n(s.Expired), n(s.Pending), n(s.Attempts), n(s.Deferrals), rateOf(s.DeferralRate, s.Attempts), n(s.LocalDeferrals), n(s.Notifications))
	if s.PendingUnnamed > 0 {
		p("Besides the pending recipients, %s were still queued and not yet tried: the MTA counted them, no line named them.\n\n", n(s.PendingUnnamed))
	}
	if s.Deleted > 0 {
		p("%s deleted from the queue by an administrator.\n\n", recipientsWere(s.Deleted))
	}
	if s.Discarded > 0 {
		p("%s discarded on the sending host (a content filter's or a milter's discard, Postfix's discard transport, Exim's :blackhole:): never sent, and the sender not told.\n\n", recipientsWere(s.Discarded))
	}
	p("## What to do first\n\n")
	if len(r.Findings) == 0 {
		p("Nothing stands out.\n\n")
	}
	for i, f := range r.Findings {
		p("%d. **%s** `%s` %s\n", i+1, f.Severity, f.Code, mdEscape(f.Message))
		if f.Fix != "" {
			p("   - Fix: %s (owner: %s)\n", mdEscape(f.Fix), f.Owner)
		}
		for _, ev := range f.Evidence {
			p("   - Evidence: `%s`\n", strings.ReplaceAll(ev, "`", "'"))
		}
	}
	p("\n## Lanes\n\n")
	if len(r.Lanes) == 0 {
		p("None: no recipient was seen.\n")
	} else {
		p("| lane | attempts | delivered | deferrals | bounces | deferral rate | expired | pending | domains |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	}
	for _, l := range r.Lanes {
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", l.Lane, n(l.Attempts), n(l.Delivered), n(l.Deferrals), n(l.Bounces),
			rateOf(l.DeferralRate, l.Attempts), n(l.Expired), n(l.Pending), mdEscape(join(l.Domains, 4)))
	}
	if len(r.Incidents) > 0 {
		p("\n## Incidents\n\n| lane | from | to | attempts | deferral rate | peak | baseline | dominant reply |\n|---|---|---|---:|---:|---:|---:|---|\n")
		for _, in := range r.Incidents {
			p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", in.Lane, shortTime(in.Start), shortTime(in.End), n(in.Attempts),
				rate(in.DeferralRate), rate(in.PeakRate), rate(in.Baseline), mdEscape(in.Reply.Example))
		}
	}
	p("\n## Replies to failed attempts\n\n")
	if len(r.Responses) == 0 {
		p("None: no attempt was deferred or bounced.\n")
	} else {
		p("| count | code | class | reason | who | rule | example |\n|---:|---|---|---|---|---|---|\n")
	}
	for _, resp := range r.Responses {
		p("| %s | %s | %s | %s | %s | %s | %s |\n", n(resp.Count), replyCode(resp.Code, resp.Enhanced), resp.Class, resp.Reason,
			who(resp.Provider, resp.Filter), mdCode(resp.Rule), mdEscape(resp.Example))
	}
	if len(r.Expired) > 0 {
		p("\n## Queue timeouts by last real failure\n\n| recipients | last reply | class | reason | who | rule |\n|---:|---|---|---|---|---|\n")
		for _, g := range r.Expired {
			lr := g.LastReply
			p("| %s | %s | %s | %s | %s | %s |\n", n(g.Count), mdEscape(nonEmpty(lr.Text, "none recorded")), nonEmpty(string(lr.Class), "-"),
				nonEmpty(lr.Reason, "-"), who(lr.Provider, lr.Filter), mdCode(lr.Rule))
		}
	}
	if len(r.Domains) > 0 {
		p("\n## Domains that accepted nothing\n\n| domain | lane | attempts | most frequent reply | rule |\n|---|---|---:|---|---|\n")
		for _, d := range r.Domains {
			p("| %s | %s | %s | %s | %s |\n", mdEscape(d.Domain), d.Lane, n(d.Attempts), mdEscape(d.Reply.Example), mdCode(d.Reply.Rule))
		}
	}
	if len(r.Providers) > 0 {
		p("\n## Who answered\n\n| provider | filters its replies named | attempts | deferrals | bounces | deferral rate |\n|---|---|---:|---:|---:|---:|\n")
		for _, pr := range r.Providers {
			p("| %s | %s | %s | %s | %s | %s |\n", nonEmpty(pr.Provider, "unknown"), nonEmpty(strings.Join(pr.Filters, ", "), "-"), n(pr.Attempts),
				n(pr.Deferrals), n(pr.Bounces), rateOf(pr.DeferralRate, pr.Attempts))
		}
	}
	if len(r.Hosts) > 0 {
		p("\n## Sending hosts\n\n| host | attempts | deferrals | bounces | deferral rate |\n|---|---:|---:|---:|---:|\n")
		for _, h := range r.Hosts {
			p("| %s | %s | %s | %s | %s |\n", mdEscape(h.Label()), n(h.Attempts), n(h.Deferrals), n(h.Bounces), rateOf(h.DeferralRate, h.Attempts))
		}
	}
	if len(r.Blocklists) > 0 {
		p("\n## Sending addresses on blocklists\n\n| address | host | listed on | carried: attempts | deferrals | bounces |\n|---|---|---|---:|---:|---:|\n")
		for _, l := range r.Blocklists {
			a, d, b := "-", "-", "-"
			if c := l.Carried; c != nil {
				a, d, b = n(c.Attempts), n(c.Deferrals), n(c.Bounces)
			}
			p("| %s | %s | %s | %s | %s | %s |\n", l.IP, mdEscape(nonEmpty(l.Host, "-")), mdEscape(listedOn(l)), a, d, b)
		}
		for _, l := range r.Blocklists {
			for _, e := range l.Listed {
				if e.DelistURL != "" {
					p("\n- %s on %s: delist at %s", l.IP, mdEscape(e.List), e.DelistURL)
				}
			}
		}
		p("\n")
	}
	p("\n## Streams\n\n")
	if len(r.Streams) == 0 {
		p("None.\n")
	} else {
		p("| stream | messages | recipients | attempts | deferral rate | expired | bounced |\n|---|---:|---:|---:|---:|---:|---:|\n")
	}
	for _, st := range r.Streams {
		p("| %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(st.Stream), n(st.Messages), n(st.Recipients), n(st.Attempts), rateOf(st.DeferralRate, st.Attempts), n(st.Expired), n(st.Bounced))
	}
	if len(r.Relays) > 0 {
		p("\n## Relays\n\n| relay | ip | provider | lane | attempts | deferral rate |\n|---|---|---|---|---:|---:|\n")
		for _, rl := range r.Relays {
			p("| %s | %s | %s | %s | %s | %s |\n", mdEscape(rl.Relay), rl.IP, who(rl.Provider, rl.Filter), rl.Lane, n(rl.Attempts), rateOf(rl.DeferralRate, rl.Attempts))
		}
	}
	p("\n## Inputs\n\n")
	for _, in := range r.Inputs {
		if in.Error != "" {
			p("- **%s**\n", mdEscape(in.Error))
			continue
		}
		p("- %s: %s\n", mdEscape(displayName(in.Name)), mdEscape(inputCounts(in)))
		for _, l := range in.Limits {
			p("  - %s\n", mdEscape(l))
		}
	}
	return bw.Flush()
}

// mdEscaper keeps table cells intact and reply texts literal: pipes and
// line breaks would break a table, and *, _ and backticks would format.
var mdEscaper = strings.NewReplacer("|", "\\|", "\n", " ", "<", "&lt;", ">", "&gt;", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]")

func mdEscape(s string) string { return mdEscaper.Replace(s) }

// n writes a count with thousands separators.
func n(v int) string { return numfmt.Thousands(int64(v)) }

// recipientsWere is "1 recipient was", "2 recipients were".
func recipientsWere(v int) string {
	if v == 1 {
		return "1 recipient was"
	}
	return n(v) + " recipients were"
}

// mdCode writes a rule id as code, or "-" when there is none.
func mdCode(s string) string {
	if s == "" {
		return "-"
	}
	return "`" + s + "`"
}

// replyCode writes "421 4.7.0", "-" when there is no code.
func replyCode(code int, enhanced string) string {
	s := "-"
	if code != 0 {
		s = strconv.Itoa(code)
	}
	if enhanced != "" {
		s += " " + enhanced
	}
	return s
}

// upperFirst starts a sentence with a capital: "at 2026-11-27 10:00Z"
// (a queue snapshot's instant) or "no mail records" open the report's
// first line.
func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}
