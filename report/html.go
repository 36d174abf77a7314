package report

import (
	"bufio"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// HTML writes the report as one self-contained HTML file: inline CSS, inline
// SVG charts, no scripts and nothing fetched, so it opens offline, can be
// attached to a ticket, and prints. html/template escapes every value from
// the logs; the charts are built in svg.go, which escapes its own text.
func HTML(w io.Writer, r *analysis.Result) error {
	return validUTF8(w, func(w io.Writer) error { return writeHTML(w, r) })
}

func writeHTML(w io.Writer, r *analysis.Result) error {
	bw := bufio.NewWriter(w)
	if err := htmlPage.Execute(bw, newHTMLView(r)); err != nil {
		return err
	}
	return bw.Flush()
}

// htmlRows caps the long tables: a page of a few hundred rows still reads,
// and the JSON has the rest.
const htmlRows = 100

// rows is a table's rows, capped, and how many were left out.
type rows[T any] struct {
	Items []T
	More  int
}

func capRows[T any](s []T) rows[T] {
	if len(s) > htmlRows {
		return rows[T]{Items: s[:htmlRows], More: len(s) - htmlRows}
	}
	return rows[T]{Items: s}
}

// tile is one number of the summary row. Class "warn" draws the eye.
type tile struct {
	Label, Value, Note, Class string
}

type volumeView struct {
	chartLane
	SVG template.HTML
}

// htmlView is what the template reads: the result, plus what is easier to
// compute in Go than in a template.
type htmlView struct {
	R          *analysis.Result
	Span       string
	Zone       string
	InputsLine string
	Tiles      []tile
	ChartLanes []chartLane
	Rate       template.HTML
	RateAlt    string
	Volume     []volumeView
	StatusKey  []struct{ Name, Color string }
	Lanes      rows[analysis.LaneStats]
	Responses  rows[analysis.Response]
	Expired    rows[analysis.ExpiredGroup]
	Providers  rows[analysis.ProviderStats]
	Streams    rows[analysis.StreamStats]
	Relays     rows[analysis.RelayStats]
	Hosts      rows[analysis.HostStats]
	Domains    rows[analysis.DomainStats]
}

func newHTMLView(r *analysis.Result) *htmlView {
	v := &htmlView{
		R:         r,
		Span:      inputSpan(r),
		Zone:      zoneNote(r),
		Tiles:     summaryTiles(r),
		Lanes:     capRows(r.Lanes),
		Responses: capRows(r.Responses),
		Expired:   capRows(r.Expired),
		Providers: capRows(r.Providers),
		Streams:   capRows(r.Streams),
		Relays:    capRows(r.Relays),
		Hosts:     capRows(r.Hosts),
		Domains:   capRows(r.Domains),
		StatusKey: statusKey,
	}
	var lines int64
	for _, in := range r.Inputs {
		lines += in.Lines
	}
	v.InputsLine = plural(len(r.Inputs), "input") + ", " + Plural(lines, "line")
	if ax, ok := newHourAxis(r.Hourly); ok {
		var undrawn int
		v.ChartLanes, undrawn = chartLanes(r)
		if len(v.ChartLanes) > 0 {
			v.RateAlt = rateSummary(v.ChartLanes, undrawn, ax, len(r.Incidents))
			// The SVG was escaped as it was written (svgWriter).
			v.Rate = template.HTML(rateChart(r, v.ChartLanes, ax, v.RateAlt))
			for _, l := range v.ChartLanes {
				v.Volume = append(v.Volume, volumeView{l, template.HTML(volumeChart(l, ax))})
			}
		}
	}
	return v
}

// inputSpan is the first to the last timestamp over all inputs; without
// one, why: no input held a mail record (it could not be read, or its
// lines, stamped or not, were other programs'), or the records had no
// time.
func inputSpan(r *analysis.Result) string {
	var first, last time.Time
	records := false
	for _, in := range r.Inputs {
		records = records || in.MatchedLines > 0
		if !in.First.IsZero() && (first.IsZero() || in.First.Before(first)) {
			first = in.First
		}
		if in.Last.After(last) {
			last = in.Last
		}
	}
	switch {
	case first.IsZero() && !records:
		return "no mail records"
	case first.IsZero():
		return "no timestamps"
	case first.Equal(last):
		return "at " + shortTime(first) // a queue snapshot alone
	}
	return shortTime(first) + " to " + shortTime(last)
}

// pendingNote says when the pending recipients were still queued: when
// the log ended, or at --until when the window ends before the log does,
// as the analysis then is the log cut there; a queue snapshot (postqueue
// -j) alone is no log: its recipients were queued when it was taken.
func pendingNote(r *analysis.Result) string {
	snapshot := false
	for _, in := range r.Inputs {
		if in.Error != "" {
			continue
		}
		if in.Format != "postqueue" {
			snapshot = false
			break
		}
		snapshot = true
	}
	if snapshot {
		return "in the queue snapshot"
	}
	if until, err := time.Parse(time.RFC3339, r.Until); err == nil {
		if _, to := r.Span(); to.Equal(until) {
			return "when the window ended"
		}
	}
	return "when the log ended"
}

// unnamedNote adds to the pending tile the recipients no line named.
func unnamedNote(s analysis.Summary) string {
	if s.PendingUnnamed == 0 {
		return ""
	}
	return "; +" + numfmt.Thousands(int64(s.PendingUnnamed)) + " not yet tried"
}

func summaryTiles(r *analysis.Result) []tile {
	s := r.Summary
	warn := func(b bool) string {
		if b {
			return "warn"
		}
		return ""
	}
	t := []tile{
		{Label: "messages", Value: numfmt.Thousands(int64(s.Messages))},
		{Label: "recipients", Value: numfmt.Thousands(int64(s.Recipients))},
		{Label: "delivered", Value: numfmt.Thousands(int64(s.Delivered)), Note: pct(s.Delivered, s.Recipients) + " of recipients"},
		{Label: "bounced", Value: numfmt.Thousands(int64(s.Bounced)), Class: warn(s.Bounced > 0)},
		{Label: "expired", Value: numfmt.Thousands(int64(s.Expired)), Note: "queue timeouts", Class: warn(s.Expired > 0)},
		{Label: "pending", Value: numfmt.Thousands(int64(s.Pending)), Note: pendingNote(r) + unnamedNote(s)},
		{Label: "attempts", Value: numfmt.Thousands(int64(s.Attempts))},
		{Label: "deferrals", Value: numfmt.Thousands(int64(s.Deferrals))},
		{Label: "deferral rate", Value: rateOf(s.DeferralRate, s.Attempts), Note: "of attempts", Class: warn(s.DeferralRate >= 0.2 && s.Attempts >= 20)},
		{Label: "local deferrals", Value: numfmt.Thousands(int64(s.LocalDeferrals)), Note: "held back by the MTA"},
		{Label: "notifications", Value: numfmt.Thousands(int64(s.Notifications)), Note: "bounces and delay notices sent"},
	}
	if s.Deleted > 0 {
		t = append(t, tile{Label: "deleted", Value: numfmt.Thousands(int64(s.Deleted)), Note: "by an administrator"})
	}
	if s.Discarded > 0 {
		t = append(t, tile{Label: "discarded", Value: numfmt.Thousands(int64(s.Discarded)), Note: "on this host, never sent"})
	}
	if s.UnparsedLines > 0 {
		t = append(t, tile{Label: "unreadable lines", Value: numfmt.Thousands(s.UnparsedLines), Note: "skipped"})
	}
	return t
}

var htmlFuncs = template.FuncMap{
	"n": func(v any) string {
		switch v := v.(type) {
		case int:
			return numfmt.Thousands(int64(v))
		case int64:
			return numfmt.Thousands(v)
		}
		return "?"
	},
	"sum":    func(a, b int64) int64 { return a + b },
	"rate":   rate,
	"rateOf": rateOf,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return shortTime(t)
	},
	"who": who,
	// inputError drops the input's name from its error, which the row
	// above already shows (read errors start with it).
	"inputError": func(name, err string) string {
		return strings.TrimPrefix(strings.TrimPrefix(err, name+": "), displayName(name)+": ")
	},
	"join":     func(l []string) string { return strings.Join(l, ", ") },
	"input":    displayName,
	"listedOn": listedOn,
	"dash":     func(s string) string { return nonEmpty(s, "-") },
	"isURL":    func(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") },
	// hot marks a deferral rate worth a look, as the text report does.
	"hot": func(rt float64, attempts int) bool { return rt >= 0.2 && attempts >= 20 },
	"code": func(code int, enhanced string) string {
		s := "-"
		if code != 0 {
			s = strconv.Itoa(code)
		}
		if enhanced != "" {
			s += " " + enhanced
		}
		return s
	},
}

var htmlPage = template.Must(template.Must(template.New("report").Funcs(htmlFuncs).Parse(htmlTemplate)).Parse(pageCSS))

// htmlTemplate is the page. The CSS uses the system font stack, keeps
// numbers in aligned columns, lets wide tables and charts scroll on a
// phone, and has a print style that opens the evidence and keeps colours.
// Void elements are self-closed, so the page is also well-formed XML and
// the tests can check it with encoding/xml.
const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="generator" content="mailtriage" />
<title>Delivery incident report · {{.Span}}</title>
<style>
{{template "css"}}</style>
</head>
<body>
<main>
<header>
<h1>Delivery incident report</h1>
<p class="meta">{{.Span}} · times in UTC{{.Zone}} · {{.InputsLine}}</p>
{{- if or .R.Since .R.Until}}
<p class="meta">Window: since {{or .R.Since "the start"}} until {{or .R.Until "the end"}}</p>
{{- end}}
<nav aria-label="Sections">
<a href="#findings">What to do first</a>
<a href="#deferral-rate">Deferral rate</a>
<a href="#attempts">Attempts</a>
<a href="#lanes">Lanes</a>
<a href="#incidents">Incidents</a>
<a href="#replies">Replies</a>
<a href="#timeouts">Queue timeouts</a>
<a href="#domains">Domains</a>
<a href="#providers">Who answered</a>
<a href="#streams">Streams</a>
<a href="#hosts">Sending hosts</a>
{{- if .R.Blocklists}}
<a href="#blocklists">Blocklists</a>
{{- end}}
<a href="#relays">Relays</a>
<a href="#inputs">Inputs</a>
</nav>
</header>

<section id="summary">
<h2>Summary</h2>
<ul class="tiles">
{{- range .Tiles}}
<li class="tile {{.Class}}"><span>{{.Label}}</span><b>{{.Value}}</b>{{with .Note}}<small>{{.}}</small>{{end}}</li>
{{- end}}
</ul>
</section>

<section id="findings">
<h2>What to do first</h2>
{{- if .R.Findings}}
<ol class="findings">
{{- range .R.Findings}}
<li class="finding sev-{{.Severity}}">
<div class="finding-head"><span class="badge">{{.Severity}}</span><code>{{.Code}}</code>{{with .Category}}<span class="muted">{{.}}</span>{{end}}</div>
<p class="message">{{.Message}}</p>
<p class="fix">{{with .Fix}}<strong>Fix:</strong> {{.}} {{end}}{{with .Owner}}<span class="owner">(owner: {{.}})</span>{{end}}</p>
{{- with .Evidence}}
<details><summary>Evidence ({{len .}})</summary>
<ul class="evidence">
{{- range .}}
<li><code>{{.}}</code></li>
{{- end}}
</ul>
</details>
{{- end}}
</li>
{{- end}}
</ol>
{{- else}}
<p>Nothing stands out: no lane's deferrals rose above its baseline and no blocks were seen.</p>
{{- end}}
</section>

<section id="deferral-rate">
<h2>Deferral rate per lane per hour</h2>
{{- if .Rate}}
<figure>
<ul class="legend">
{{- range .ChartLanes}}
<li><span class="swatch" style="border-top-color: {{.Color}}{{if .Dashed}}; border-top-style: dashed{{end}}"></span>{{.Name}}</li>
{{- end}}
{{- if .R.Incidents}}
<li><span class="swatch band"></span>incident (in the lane's colour)</li>
{{- end}}
</ul>
<div class="scroll">
{{.Rate}}</div>
<figcaption>{{.RateAlt}} A gap in a line is an hour without attempts to that lane; a hollow point, an hour with fewer than 10. Point at a dot for its numbers.</figcaption>
</figure>
{{- else}}
<p>No attempts with a timestamp: nothing to draw.</p>
{{- end}}
</section>

<section id="attempts">
<h2>Attempts per hour by lane</h2>
{{- if .Volume}}
<p class="muted">Each bar is one UTC hour, on the same time axis as the chart above, scaled to the lane's busiest hour.</p>
<ul class="legend">
{{- range .StatusKey}}
<li><span class="key" style="border-color: {{.Color}}"></span>{{.Name}}</li>
{{- end}}
</ul>
{{- range .Volume}}
<figure class="small">
<figcaption><span class="swatch" style="border-top-color: {{.Color}}{{if .Dashed}}; border-top-style: dashed{{end}}"></span><strong>{{.Name}}</strong>: {{n .Attempts}} attempts, {{rate .Rate}} deferred</figcaption>
<div class="scroll">
{{.SVG}}</div>
</figure>
{{- end}}
{{- else}}
<p>No attempts with a timestamp.</p>
{{- end}}
</section>

<section id="lanes">
<h2>Lanes</h2>
<p class="muted">A lane is the receiving infrastructure a recipient domain is delivered to.</p>
{{- with .Lanes}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th>lane</th><th class="n">attempts</th><th class="n">delivered</th><th class="n">deferrals</th><th class="n">bounces</th><th class="n">deferral rate</th><th class="n">recipients</th><th class="n">expired</th><th class="n">pending</th><th class="n">local deferrals</th><th>domains</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td>{{.Lane}}</td><td class="n">{{n .Attempts}}</td><td class="n">{{n .Delivered}}</td><td class="n">{{n .Deferrals}}</td><td class="n">{{n .Bounces}}</td><td class="n{{if hot .DeferralRate .Attempts}} hot{{end}}">{{rateOf .DeferralRate .Attempts}}</td><td class="n">{{n .Recipients}}</td><td class="n">{{n .Expired}}</td><td class="n">{{n .Pending}}</td><td class="n">{{n .LocalDeferrals}}</td><td>{{join .Domains}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None.</p>
{{- end}}{{end}}
</section>

<section id="incidents">
<h2>Incidents</h2>
<p class="muted">Hours in which a lane's deferral rate rose well above its own baseline (the median of its hourly rates).</p>
{{- if .R.Incidents}}
<div class="scroll"><table>
<thead><tr><th>lane</th><th>from</th><th>to</th><th class="n">attempts</th><th class="n">deferrals</th><th class="n">deferral rate</th><th class="n">peak</th><th class="n">baseline</th><th>dominant reply</th></tr></thead>
<tbody>
{{- range .R.Incidents}}
<tr><td>{{.Lane}}</td><td class="mono nowrap">{{time .Start}}</td><td class="mono nowrap">{{time .End}}</td><td class="n">{{n .Attempts}}</td><td class="n">{{n .Deferrals}}</td><td class="n">{{rateOf .DeferralRate .Attempts}}</td><td class="n">{{rate .PeakRate}}</td><td class="n">{{rate .Baseline}}</td><td class="example"><span class="code">{{code .Reply.Code .Reply.Enhanced}}</span>{{with .Reply.Count}} ({{n .}}×){{end}}{{with .Reply.Rule}}, rule {{.}}{{end}}<br />{{.Reply.Example}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- else}}
<p>None: no lane's deferral rate rose well above its baseline.</p>
{{- end}}
</section>

<section id="replies">
<h2>Replies to failed attempts</h2>
{{- with .Responses}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th class="n">count</th><th>code</th><th>class</th><th>reason</th><th>category</th><th>who</th><th>rule</th><th>action</th><th>example</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td class="n">{{n .Count}}</td><td class="mono nowrap">{{code .Code .Enhanced}}</td><td>{{dash (print .Class)}}</td><td>{{dash .Reason}}</td><td>{{dash .Category}}</td><td>{{who .Provider .Filter}}</td><td class="mono">{{dash .Rule}}</td><td class="action">{{.Action}}{{with .Ref}}{{if isURL .}} <a href="{{.}}">reference</a>{{else}} ({{.}}){{end}}{{end}}</td><td class="example">{{.Example}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None: no attempt was deferred or bounced.</p>
{{- end}}{{end}}
</section>

<section id="timeouts">
<h2>Queue timeouts by last real failure</h2>
<p class="muted">A queue timeout is the sending MTA giving up; the last reply a server gave is the cause to fix.</p>
{{- with .Expired}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th class="n">recipients</th><th>code</th><th>last reply</th><th>class</th><th>reason</th><th>who</th><th>rule</th><th>action</th><th>lanes</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td class="n">{{n .Count}}</td><td class="mono nowrap">{{code .LastReply.Code .LastReply.Enhanced}}</td><td class="example">{{or .LastReply.Text "none recorded"}}</td><td>{{dash (print .LastReply.Class)}}</td><td>{{dash .LastReply.Reason}}</td><td>{{who .LastReply.Provider .LastReply.Filter}}</td><td class="mono">{{dash .LastReply.Rule}}</td><td class="action">{{.LastReply.Action}}</td><td>{{join .Lanes}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None: no recipient timed out in the queue.</p>
{{- end}}{{end}}
</section>

<section id="domains">
<h2>Domains that accepted nothing</h2>
<p class="muted">Recipient domains with at least 10 attempts and not one delivery: dead servers, typo domains, refusals.</p>
{{- with .Domains}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th>domain</th><th>lane</th><th class="n">attempts</th><th class="n">deferrals</th><th class="n">bounces</th><th>most frequent reply</th><th>rule</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td>{{.Domain}}</td><td>{{.Lane}}</td><td class="n">{{n .Attempts}}</td><td class="n">{{n .Deferrals}}</td><td class="n">{{n .Bounces}}</td><td class="example">{{.Reply.Example}}</td><td class="mono">{{dash .Reply.Rule}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None.</p>
{{- end}}{{end}}
</section>

<section id="providers">
<h2>Who answered</h2>
{{- with .Providers}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th>provider</th><th>filters its replies named</th><th class="n">attempts</th><th class="n">delivered</th><th class="n">deferrals</th><th class="n">bounces</th><th class="n">deferral rate</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td>{{or .Provider "unknown"}}</td><td>{{dash (join .Filters)}}</td><td class="n">{{n .Attempts}}</td><td class="n">{{n .Delivered}}</td><td class="n">{{n .Deferrals}}</td><td class="n">{{n .Bounces}}</td><td class="n{{if hot .DeferralRate .Attempts}} hot{{end}}">{{rateOf .DeferralRate .Attempts}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None.</p>
{{- end}}{{end}}
</section>

<section id="streams">
<h2>Streams</h2>
<p class="muted">A stream is one envelope sender (or its domain).</p>
{{- with .Streams}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th>stream</th><th class="n">messages</th><th class="n">recipients</th><th class="n">attempts</th><th class="n">deferral rate</th><th class="n">expired</th><th class="n">bounced</th><th>lanes</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td>{{.Stream}}</td><td class="n">{{n .Messages}}</td><td class="n">{{n .Recipients}}</td><td class="n">{{n .Attempts}}</td><td class="n{{if hot .DeferralRate .Attempts}} hot{{end}}">{{rateOf .DeferralRate .Attempts}}</td><td class="n">{{n .Expired}}</td><td class="n">{{n .Bounced}}</td><td>{{join .Lanes}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None.</p>
{{- end}}{{end}}
</section>

<section id="hosts">
<h2>Sending hosts</h2>
<p class="muted">The hosts that wrote the logs: when one deferral rate stands out, that host's IP is the one receivers distrust.</p>
{{- with .Hosts}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th>host</th><th class="n">attempts</th><th class="n">delivered</th><th class="n">deferrals</th><th class="n">bounces</th><th class="n">deferral rate</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td class="mono">{{.Label}}</td><td class="n">{{n .Attempts}}</td><td class="n">{{n .Delivered}}</td><td class="n">{{n .Deferrals}}</td><td class="n">{{n .Bounces}}</td><td class="n{{if hot .DeferralRate .Attempts}} hot{{end}}">{{rateOf .DeferralRate .Attempts}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None.</p>
{{- end}}{{end}}
</section>

{{- with .R.Blocklists}}
<section id="blocklists">
<h2>Sending addresses on blocklists</h2>
<p class="muted">Each sending address's listings on the scored lists, beside the mail its host carried: a listing matters when the failed mail left from it.</p>
<div class="scroll"><table>
<thead><tr><th>address</th><th>host</th><th>listed on</th><th class="n">carried: attempts</th><th class="n">deferrals</th><th class="n">bounces</th></tr></thead>
<tbody>
{{- range .}}
<tr><td class="mono">{{.IP}}</td><td class="mono">{{dash .Host}}</td><td{{if .Listed}} class="hot"{{end}}>{{listedOn .}}{{range .Listed}}{{if isURL .DelistURL}} <a href="{{.DelistURL}}">delist {{.List}}</a>{{end}}{{end}}</td>
{{- with .Carried}}<td class="n">{{n .Attempts}}</td><td class="n">{{n .Deferrals}}</td><td class="n">{{n .Bounces}}</td>{{else}}<td class="n">-</td><td class="n">-</td><td class="n">-</td>{{end}}</tr>
{{- end}}
</tbody>
</table></div>
</section>
{{- end}}

<section id="relays">
<h2>Relays</h2>
<p class="muted">The remote servers tried, by attempts.</p>
{{- with .Relays}}{{if .Items}}
<div class="scroll"><table>
<thead><tr><th>relay</th><th>IP</th><th>who</th><th>lane</th><th class="n">attempts</th><th class="n">delivered</th><th class="n">deferrals</th><th class="n">bounces</th><th class="n">deferral rate</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td class="mono">{{.Relay}}</td><td class="mono">{{dash .IP}}</td><td>{{who .Provider .Filter}}</td><td>{{.Lane}}</td><td class="n">{{n .Attempts}}</td><td class="n">{{n .Delivered}}</td><td class="n">{{n .Deferrals}}</td><td class="n">{{n .Bounces}}</td><td class="n{{if hot .DeferralRate .Attempts}} hot{{end}}">{{rateOf .DeferralRate .Attempts}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- template "more" .More}}
{{- else}}
<p>None.</p>
{{- end}}{{end}}
</section>

<section id="inputs">
<h2>Inputs</h2>
{{- if .R.Inputs}}
<div class="scroll"><table>
<thead><tr><th>input</th><th>format</th><th class="n">bytes</th><th class="n">lines</th><th class="n">matched</th><th class="n">other programs</th><th class="n">unreadable</th><th>first</th><th>last</th></tr></thead>
<tbody>
{{- range .R.Inputs}}
<tr{{if .Error}} class="err"{{end}}><td>{{input .Name}}</td><td>{{dash .Format}}</td><td class="n">{{n .Bytes}}</td><td class="n">{{n .Lines}}</td><td class="n">{{n .MatchedLines}}</td><td class="n">{{n .OtherLines}}</td><td class="n">{{n (sum .Unparsed .Overlong)}}</td><td class="mono nowrap">{{time .First}}</td><td class="mono nowrap">{{time .Last}}</td></tr>
{{- if .Error}}
<tr class="err"><td colspan="9"><strong>✗ error:</strong> {{inputError .Name .Error}}</td></tr>
{{- end}}
{{- end}}
</tbody>
</table></div>
{{- else}}
<p>None.</p>
{{- end}}
</section>

<footer>Made by mailtriage. Rates are shares of delivery attempts; times are UTC.</footer>
</main>
</body>
</html>
{{define "more"}}{{if .}}
<p class="more">… and {{n .}} more rows: --format json has all of them.</p>{{end}}{{end}}`

// pageCSS is the style every mailtriage page shares.
const pageCSS = `{{define "css"}}:root { color-scheme: light; --fg: #1d2433; --muted: #5b6475; --line: #dde2ea; --panel: #f5f7fa; --err: #b42318; --warn: #b54708; --info: #175cd3; --unknown: #5b6475; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 24px 56px; }
h1 { font-size: 1.7rem; line-height: 1.2; margin: 0 0 6px; }
h2 { font-size: 1.2rem; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
p { margin: 0 0 10px; }
a { color: var(--info); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.86em; }
.meta, .muted, figcaption, .more { color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 14px 0 0; font-size: 0.9rem; }
nav a { text-decoration: none; }
nav a:hover { text-decoration: underline; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; list-style: none; margin: 0; padding: 0; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--panel); }
.tile span { display: block; color: var(--muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.04em; }
.tile b { display: block; font-size: 1.45rem; font-variant-numeric: tabular-nums; }
.tile small { display: block; color: var(--muted); font-size: 0.78rem; }
.tile.warn { border-color: var(--warn); background: #fffaeb; }
.tile.warn b { color: var(--warn); }
.findings { list-style: none; margin: 0; padding: 0; counter-reset: finding; }
.finding { --sev: var(--unknown); counter-increment: finding; border: 1px solid var(--line); border-left: 6px solid var(--sev); border-radius: 6px; padding: 12px 16px; margin: 0 0 12px; }
.sev-error { --sev: var(--err); }
.sev-warning { --sev: var(--warn); }
.sev-info { --sev: var(--info); }
.finding-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px; margin-bottom: 4px; }
.finding-head::before { content: counter(finding) "."; font-weight: 600; }
.badge { background: var(--sev); color: #fff; border-radius: 4px; padding: 1px 8px; font-size: 0.75rem; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; }
.message { font-weight: 500; }
.fix strong { color: var(--sev); }
.owner { white-space: nowrap; color: var(--muted); }
details { margin-top: 6px; }
summary { cursor: pointer; color: var(--muted); font-size: 0.9rem; }
.evidence { margin: 6px 0 0; padding-left: 20px; }
.evidence code { word-break: break-word; }
figure { margin: 0 0 8px; }
.scroll { overflow-x: auto; }
.chart { display: block; width: 100%; min-width: 640px; height: auto; }
.chart circle:hover { stroke: var(--fg); stroke-width: 2.5; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 20px; list-style: none; margin: 0 0 6px; padding: 0; font-size: 0.9rem; }
.swatch { display: inline-block; width: 24px; border-top: 3px solid; vertical-align: middle; margin-right: 6px; }
.swatch.band { border-top: 10px solid #dde2ea; }
.key { display: inline-block; width: 0; height: 0; border: 6px solid; vertical-align: -1px; margin-right: 6px; }
.small figcaption { color: var(--fg); margin-top: 10px; }
table { border-collapse: collapse; width: 100%; font-size: 0.875rem; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.hot { color: var(--err); font-weight: 600; }
td.nowrap, .code { white-space: nowrap; }
td.action { min-width: 16em; font-size: 0.94em; }
td.example { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; color: var(--muted); min-width: 18em; word-break: break-word; }
tr.err td { background: #fef3f2; color: var(--err); border-bottom-color: #fecdca; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.85rem; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; }
  tr, figure, .finding, .tile { break-inside: avoid; }
  .scroll { overflow: visible; }
  .chart { min-width: 0; }
  table { font-size: 8pt; }
  th, td { padding: 3px 5px; white-space: normal; }
  td.nowrap { white-space: normal; }
  td.example { overflow-wrap: anywhere; }
  td.n { white-space: nowrap; }
  td.example, td.action { min-width: 0; }
  details > * { display: block; }
  details::details-content { content-visibility: visible; display: block; }
  summary { list-style: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
{{end}}`
