package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/evidence"
)

// EvidenceJSON writes the pack as indented JSON.
func EvidenceJSON(w io.Writer, p *evidence.Pack) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// EvidenceMarkdown writes the pack for a ticket: sections an ESP's or a
// filter operator's support reads top to bottom.
func EvidenceMarkdown(w io.Writer, p *evidence.Pack) error {
	return validUTF8(w, func(w io.Writer) error { return writeEvidenceMarkdown(w, p) })
}

func writeEvidenceMarkdown(w io.Writer, p *evidence.Pack) error {
	bw := bufio.NewWriter(w)
	f := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	f("# Delivery evidence\n\nWindow: %s to %s (times in UTC%s). Generated %s.\n\n%s\n",
		stamp(p.From), stamp(p.To), packZoneNote(p), stamp(p.Generated), mdEscape(p.Recipients))
	f("\n## What happened\n\n")
	if len(p.Summary) == 0 {
		f("No incident: no lane's deferrals rose well above its usual rate.\n")
	}
	for _, s := range p.Summary {
		f("- %s\n", mdEscape(s))
	}
	if len(p.FirstDeferrals) > 0 {
		f("\n## First deferral\n\n| lane | first seen | from | reply |\n|---|---|---|---|\n")
		for _, d := range p.FirstDeferrals {
			f("| %s | %s | %s | %s |\n", d.Lane, stamp(d.Time), mdEscape(d.Who), mdCodeCell(d.Reply))
		}
	}
	f("\n## Sending identity\n\n")
	f("- Sending IP addresses: %s\n", mdList(p.SendingIPs, "not in the logs; give them with --ip"))
	f("- Sending hosts: %s\n", mdList(p.SendingHosts, "-"))
	f("- Sending (envelope-sender) domains: %s\n", mdList(p.SendingDomains, "-"))
	f("- DKIM selectors: %s\n", mdList(p.Selectors, "not given (--selector)"))
	if len(p.EnvelopeSenders) > 0 {
		f("\n| envelope sender | messages | attempts | deferred |\n|---|---:|---:|---:|\n")
		for _, s := range p.EnvelopeSenders {
			f("| %s | %s | %s | %s |\n", mdEscape(s.Sender), n(s.Messages), n(s.Attempts), rate(s.DeferralRate))
		}
	}
	if len(p.ReceivingHosts) > 0 {
		f("\n## Receiving hosts of the lanes with an incident (the whole window)\n\n| lane | host | IP | attempts | deferred |\n|---|---|---|---:|---:|\n")
		for _, h := range p.ReceivingHosts {
			f("| %s | %s | %s | %s | %s |\n", mdEscape(h.Lane), mdEscape(nonEmpty(h.Host, "-")), mdEscape(nonEmpty(h.IP, "-")), n(h.Attempts), rate(h.DeferralRate))
		}
	}
	if a := p.Auth; a != nil {
		f("\n## Authentication and reputation (checked %s)\n\n", stamp(p.Generated))
		f("- Domain %s: score %d/100, grade %s\n- SPF: %s\n- DMARC: %s\n- DKIM: %s\n", a.Domain, a.Score, a.Grade, mdCodeSpan(a.SPF), mdCodeSpan(a.DMARC), mdList(a.DKIM, "no key found"))
		for _, pr := range a.Problems {
			f("- Problem: %s\n", mdEscape(pr))
		}
		if len(a.IPs) > 0 {
			f("\n| sending IP | reverse DNS (PTR) | SPF of %s |\n|---|---|---|\n", mdEscape(a.Domain))
			for _, ip := range a.IPs {
				f("| %s | %s | %s |\n", ip.IP, mdEscape(ip.RDNS), mdEscape(nonEmpty(ip.SPF, "-")))
			}
			f("\n")
		}
		if len(p.Listings) == 0 {
			if p.ListsAnswered > 0 {
				f("- Blocklists: no listing on the lists that answered\n")
			} else {
				f("- Blocklists: no list answered, so the blocklist status is not known (not a clean result)\n")
			}
		}
		if len(p.CouldNotTell) > 0 {
			f("- Blocklists that could not tell (not asked, or no trustworthy answer; not a clean result): %s\n", mdList(p.CouldNotTell, "-"))
		}
		for _, l := range p.Listings {
			f("- Listed: %s on %s (%s)\n", l.Target, mdEscape(l.List), mdEscape(l.Detail))
		}
	}
	if len(p.Responses) > 0 {
		f("\n## Replies and failures, exactly as received\n\n| count | code | first | last | from | reply |\n|---:|---|---|---|---|---|\n")
		for _, r := range p.Responses {
			f("| %s | %s | %s | %s | %s | %s |\n", n(r.Count), replyCode(r.Code, r.Enhanced), stamp(r.First), stamp(r.Last), mdEscape(whoOrDash(r.Provider, r.Filter)), mdCodeCell(r.Example))
		}
		if p.ResponsesLeftOut > 0 {
			f("\nLeft out, less frequent: %s (mailtriage analyze --format json lists every reply).\n", n(p.ResponsesLeftOut))
		}
	}
	if len(p.Samples) > 0 {
		f("\n## Sample messages that timed out\n\n| queue id | Message-ID | lane | recipient | queued | expired | attempts | last reply |\n|---|---|---|---|---|---|---:|---|\n")
		for _, s := range p.Samples {
			f("| %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(s.ID()), mdCodeCell(s.MessageID), mdEscape(s.Lane), mdEscape(nonEmpty(s.Recipient, "-")),
				stamp(s.Queued), stamp(s.Expired), n(s.Attempts), mdCodeCell(s.LastReply))
		}
	}
	f("\n## Clean-up done so far\n\n")
	if len(p.Actions) == 0 {
		f("None recorded (--actions FILE).\n")
	}
	for _, a := range p.Actions {
		f("- %s\n", mdEscape(a))
	}
	return bw.Flush()
}

// mdCodeSpan quotes text as received (a reply, a DNS record) as one code
// span, "-" when there is none: line breaks become spaces, and the fence
// is longer than any run of backticks in the text, so a backtick in it
// does not end the span early.
func mdCodeSpan(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if len(fence) > 1 {
		// A space each side keeps a backtick at either end apart from
		// the fence; CommonMark strips them.
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdCodeCell is mdCodeSpan in a table cell: a pipe, even in a code span,
// ends the cell unless escaped (GitHub renders the escaped pipe as "|").
func mdCodeCell(s string) string {
	return strings.ReplaceAll(mdCodeSpan(s), "|", "\\|")
}

func mdList(l []string, none string) string {
	if len(l) == 0 {
		return mdEscape(none)
	}
	return mdEscape(strings.Join(l, ", "))
}

// EvidenceHTML writes the pack as one self-contained page with the
// deferral-rate chart.
func EvidenceHTML(w io.Writer, p *evidence.Pack) error {
	return validUTF8(w, func(w io.Writer) error { return writeEvidenceHTML(w, p) })
}

// whoOrDash names who answered, "-" when nothing tells, as analyze's
// tables write it.
func whoOrDash(provider, filter string) string {
	return nonEmpty(mailtriage.Who(provider, filter), "-")
}

// packZoneNote is zoneNote for the pack's analysis; a pack read back
// without one names the zone it was made with.
func packZoneNote(p *evidence.Pack) string {
	if p.Result != nil {
		return zoneNote(p.Result)
	}
	return "; log stamps without zone read as " + nonEmpty(p.TimeZone, "UTC")
}

func writeEvidenceHTML(w io.Writer, p *evidence.Pack) error {
	v := struct {
		P     *evidence.Pack
		Zone  string
		Chart template.HTML
	}{P: p, Zone: packZoneNote(p)}
	if r := p.Result; r != nil {
		if ax, ok := newHourAxis(r.Hourly); ok {
			if lanes, undrawn := chartLanes(r); len(lanes) > 0 {
				// The SVG was escaped as it was written (svgWriter).
				v.Chart = template.HTML(rateChart(r, lanes, ax, rateSummary(lanes, undrawn, ax, len(r.Incidents))))
			}
		}
	}
	bw := bufio.NewWriter(w)
	if err := evidencePage.Execute(bw, v); err != nil {
		return err
	}
	return bw.Flush()
}

var evidencePage = template.Must(template.Must(template.New("evidence").Funcs(template.FuncMap{"stamp": stamp, "rate": rate, "replyCode": replyCode, "n": n, "who": whoOrDash}).Parse(evidenceTemplate)).Parse(pageCSS))

const evidenceTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="generator" content="mailtriage" />
<title>Delivery evidence · {{stamp .P.From}} to {{stamp .P.To}}</title>
<style>
{{template "css"}}</style>
</head>
<body>
<main>
<header>
<h1>Delivery evidence</h1>
<p class="meta">Window {{stamp .P.From}} to {{stamp .P.To}} (times in UTC{{.Zone}}). Generated {{stamp .P.Generated}}.</p>
<p class="meta">{{.P.Recipients}}</p>
</header>
<section>
<h2>What happened</h2>
{{- if not .P.Summary}}<p>No incident: no lane's deferrals rose well above its usual rate.</p>{{end}}
<ul>{{range .P.Summary}}<li>{{.}}</li>{{end}}</ul>
{{- if .Chart}}
<figure>{{.Chart}}<figcaption>Deferral rate per lane and hour.</figcaption></figure>
{{- end}}
</section>
{{- if .P.FirstDeferrals}}
<section>
<h2>First deferral</h2>
<table><thead><tr><th>lane</th><th>first seen</th><th>from</th><th>reply</th></tr></thead><tbody>
{{- range .P.FirstDeferrals}}
<tr><td>{{.Lane}}</td><td>{{stamp .Time}}</td><td>{{.Who}}</td><td><code>{{.Reply}}</code></td></tr>
{{- end}}
</tbody></table>
</section>
{{- end}}
<section>
<h2>Sending identity</h2>
<ul>
<li>Sending IP addresses: {{range $i, $ip := .P.SendingIPs}}{{if $i}}, {{end}}{{$ip}}{{else}}not in the logs; give them with --ip{{end}}</li>
<li>Sending hosts: {{range $i, $h := .P.SendingHosts}}{{if $i}}, {{end}}{{$h}}{{end}}</li>
<li>Sending (envelope-sender) domains: {{range $i, $d := .P.SendingDomains}}{{if $i}}, {{end}}{{$d}}{{end}}</li>
<li>DKIM selectors: {{range $i, $s := .P.Selectors}}{{if $i}}, {{end}}{{$s}}{{else}}not given (--selector){{end}}</li>
</ul>
<table><thead><tr><th>envelope sender</th><th>messages</th><th>attempts</th><th>deferred</th></tr></thead><tbody>
{{- range .P.EnvelopeSenders}}
<tr><td>{{.Sender}}</td><td>{{n .Messages}}</td><td>{{n .Attempts}}</td><td>{{rate .DeferralRate}}</td></tr>
{{- end}}
</tbody></table>
</section>
{{- if .P.ReceivingHosts}}
<section>
<h2>Receiving hosts of the lanes with an incident (the whole window)</h2>
<table><thead><tr><th>lane</th><th>host</th><th>IP</th><th>attempts</th><th>deferred</th></tr></thead><tbody>
{{- range .P.ReceivingHosts}}
<tr><td>{{.Lane}}</td><td>{{or .Host "-"}}</td><td>{{or .IP "-"}}</td><td>{{n .Attempts}}</td><td>{{rate .DeferralRate}}</td></tr>
{{- end}}
</tbody></table>
</section>
{{- end}}
{{- with .P.Auth}}
<section>
<h2>Authentication and reputation</h2>
<ul>
<li>Domain {{.Domain}}: score {{.Score}}/100, grade {{.Grade}}</li>
<li>SPF: <code>{{.SPF}}</code></li>
<li>DMARC: <code>{{.DMARC}}</code></li>
<li>DKIM: {{range $i, $k := .DKIM}}{{if $i}}, {{end}}{{$k}}{{else}}no key found{{end}}</li>
{{- range .Problems}}
<li>Problem: {{.}}</li>
{{- end}}
</ul>
{{- if .IPs}}
<table><thead><tr><th>sending IP</th><th>reverse DNS (PTR)</th><th>SPF of {{.Domain}}</th></tr></thead><tbody>
{{- range .IPs}}
<tr><td>{{.IP}}</td><td>{{.RDNS}}</td><td>{{if .SPF}}{{.SPF}}{{else}}-{{end}}</td></tr>
{{- end}}
</tbody></table>
{{- end}}
</section>
{{- end}}
{{- if or .P.Listings .P.CouldNotTell}}
<section>
<h2>Blocklist listings</h2>
{{- if .P.Listings}}
<ul>{{range .P.Listings}}<li>{{.Target}} on {{.List}}: {{.Detail}}</li>{{end}}</ul>
{{- else if .P.ListsAnswered}}
<p>No listing on the lists that answered.</p>
{{- else}}
<p>Blocklists: no list answered, so the blocklist status is not known (not a clean result).</p>
{{- end}}
{{- if .P.CouldNotTell}}
<p>Blocklists that could not tell (not asked, or no trustworthy answer; not a clean result): {{range $i, $l := .P.CouldNotTell}}{{if $i}}, {{end}}{{$l}}{{end}}</p>
{{- end}}
</section>
{{- end}}
{{- if .P.Responses}}
<section>
<h2>Replies and failures, exactly as received</h2>
<table><thead><tr><th>count</th><th>code</th><th>first</th><th>last</th><th>from</th><th>reply</th></tr></thead><tbody>
{{- range .P.Responses}}
<tr><td>{{n .Count}}</td><td>{{replyCode .Code .Enhanced}}</td><td>{{stamp .First}}</td><td>{{stamp .Last}}</td><td>{{who .Provider .Filter}}</td><td><code>{{.Example}}</code></td></tr>
{{- end}}
</tbody></table>
{{- if .P.ResponsesLeftOut}}
<p>Left out, less frequent: {{n .P.ResponsesLeftOut}} (mailtriage analyze --format json lists every reply).</p>
{{- end}}
</section>
{{- end}}
{{- if .P.Samples}}
<section>
<h2>Sample messages that timed out</h2>
<table><thead><tr><th>queue id</th><th>Message-ID</th><th>lane</th><th>recipient</th><th>queued</th><th>expired</th><th>attempts</th><th>last reply</th></tr></thead><tbody>
{{- range .P.Samples}}
<tr><td>{{.ID}}</td><td><code>{{.MessageID}}</code></td><td>{{.Lane}}</td><td>{{.Recipient}}</td><td>{{stamp .Queued}}</td><td>{{stamp .Expired}}</td><td>{{n .Attempts}}</td><td><code>{{.LastReply}}</code></td></tr>
{{- end}}
</tbody></table>
</section>
{{- end}}
<section>
<h2>Clean-up done so far</h2>
{{- if not .P.Actions}}<p>None recorded.</p>{{end}}
<ul>{{range .P.Actions}}<li>{{.}}</li>{{end}}</ul>
</section>
</main>
</body>
</html>
`
