package dmarcsum

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/report"
)

// HTMLOptions shape the page.
type HTMLOptions struct {
	// Top cuts the listing (see Summary.Groups); 0 lists every source.
	Top int
}

// HTML writes the summary as one self-contained page (inline CSS and SVG,
// no scripts, nothing fetched), to mail or attach to a ticket. Void
// elements are self-closed, so the page is also well-formed XML.
func HTML(w io.Writer, s *Summary, o HTMLOptions) error {
	bw := bufio.NewWriter(w)
	v := htmlView{S: s, Groups: s.Groups(o.Top), Chart: template.HTML(dayChart(s.Days)), Sources: int64(len(s.Sources)), Messages: s.sourceMessages()}
	for _, src := range s.Sources {
		if src.Unverified {
			v.Unverified++
		}
		if src.Category == Failing {
			v.Failing++
		}
	}
	if err := page.Execute(bw, v); err != nil {
		return err
	}
	return bw.Flush()
}

type htmlView struct {
	S                            *Summary
	Groups                       []Group
	Chart                        template.HTML
	Sources, Unverified, Failing int64
	Messages                     int64 // of all sources
}

// page is the summary's template, in the style every mailtriage page
// shares (report.PageCSS) with what only this page needs.
var page = template.Must(template.Must(template.New("dmarc").Funcs(template.FuncMap{
	"count":   count,
	"plural":  report.Plural,
	"percent": percent,
	"rate":    rate,
	"applied": applied,
	"orDash":  orDash,
	"top":     topFailures,
	"sum":     addSat,
}).Parse(pageTemplate)).Parse(report.PageCSS))

// Chart geometry, in viewBox units.
const (
	chartW     = 960.0
	chartH     = 260.0
	chartPadL  = 56.0 // message counts
	chartPadR  = 48.0 // "100%"
	chartTop   = 14.0
	chartPlotH = 200.0
	labelGap   = 80.0 // between day labels
	colorBar   = "#9fb3c8"
	colorRate  = "#067647"
	colorAxis  = "#5b6475"
)

// maxDenseDays is the longest span of days the chart draws on a time
// axis, days without reports as gaps; a longer one (reports years apart)
// draws the days that have reports side by side.
const maxDenseDays = 400

// denseDays fills the days without reports in, as empty days, when the
// span allows.
func denseDays(days []Day) []Day {
	first, err1 := time.Parse(time.DateOnly, days[0].Day)
	last, err2 := time.Parse(time.DateOnly, days[len(days)-1].Day)
	if err1 != nil || err2 != nil || last.Sub(first) > maxDenseDays*24*time.Hour {
		return days
	}
	var out []Day
	i := 0
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		if i < len(days) && days[i].Day == day {
			out = append(out, days[i])
			i++
		} else {
			out = append(out, Day{Day: day})
		}
	}
	return out
}

// dayChart draws the messages of each day as bars against the left axis
// and the DMARC pass rate as a line against the right one, broken where a
// day has no messages. Written by hand: a few hundred elements need no
// library, and the output stays byte-for-byte reproducible.
func dayChart(days []Day) string {
	if len(days) == 0 {
		return ""
	}
	days = denseDays(days)
	var most int64
	for _, d := range days {
		most = max(most, d.Messages)
	}
	tick, ticks := axisTicks(most)
	top := tick * float64(ticks)
	plotW := chartW - chartPadL - chartPadR
	step := plotW / float64(len(days))
	bottom := chartTop + chartPlotH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="messages and DMARC pass rate per day, %s to %s">`,
		chartW, chartH, days[0].Day, days[len(days)-1].Day)
	// Grid and axes: messages on the left, pass rate on the right.
	for i := 0; i <= ticks; i++ {
		y := bottom - chartPlotH*float64(i)/float64(ticks)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#dde2ea" stroke-width="1" />`, chartPadL, y, chartW-chartPadR, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="%s">%s</text>`, chartPadL-6, y+4, colorAxis, count(int64(tick*float64(i))))
	}
	// The rate's axis in quarters, on the right, whatever the grid.
	for i := 0; i <= 4; i++ {
		y := bottom - chartPlotH*float64(i)/4
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="%s">%d%%</text>`, chartW-chartPadR+6, y+4, colorRate, 25*i)
	}
	barW := max(step*0.7, 1)
	var line []string
	drawLine := func() {
		if len(line) == 1 {
			xy := strings.Split(line[0], ",")
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5" fill="%s" />`, xy[0], xy[1], colorRate)
		} else if len(line) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" />`, strings.Join(line, " "), colorRate)
		}
		line = line[:0]
	}
	every := max(1, int(labelGap/step+0.999))
	for i, d := range days {
		x := chartPadL + step*float64(i)
		if d.Messages > 0 || d.Reports > 0 {
			h := chartPlotH * float64(d.Messages) / top
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s messages, %s reports, %s passed DMARC</title></rect>`,
				x+(step-barW)/2, bottom-h, barW, h, colorBar, d.Day, count(d.Messages), count(d.Reports), percent(rate(d.DMARCPass, d.Messages)))
		}
		if d.Messages > 0 {
			y := bottom - chartPlotH*rate(d.DMARCPass, d.Messages)
			line = append(line, fmt.Sprintf("%.1f,%.1f", x+step/2, y))
		} else {
			drawLine()
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="%s">%s</text>`, x+step/2, bottom+16, colorAxis, d.Day)
		}
	}
	drawLine()
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="%s">messages per day (bars, left) · DMARC pass rate (line, right)</text>`, chartPadL, chartH-8, colorAxis)
	b.WriteString(`</svg>`)
	return b.String()
}

// axisTicks divides the message axis, 0 to at least most, into 2 to 4
// steps of 1, 2 or 5 times a power of ten, for labels people read at a
// glance (5,000, not 4,814).
func axisTicks(most int64) (step float64, ticks int) {
	if most <= 0 {
		return 1, 4
	}
	raw := float64(most) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = max(step, 1) // whole messages
	return step, int(math.Ceil(float64(most) / step))
}

const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="generator" content="mailtriage" />
<title>DMARC summary · {{.S.Scope}}</title>
<style>
{{template "css"}}
:root { --ok: #067647; }
.tiles { margin-top: 16px; }
header > p.muted { margin-top: 12px; }
/* A wide table scrolls in its box, and long names wrap, rather than
   pushing past the page. */
.scroll { max-width: 100%; }
.sources th { white-space: normal; }
.sources td.rdns { overflow-wrap: anywhere; min-width: 12em; }
.sources code, .flag { white-space: nowrap; }
tr.group th { background: #eef1f5; }
tr.total th { border-top: 2px solid var(--fg); }
.cat { white-space: nowrap; font-weight: 600; }
.cat-authorized { color: var(--ok); }
.cat-forwarded, .cat-partially_authorized, .flag { color: var(--warn); }
.cat-failing { color: var(--err); }
</style>
</head>
<body>
<main>
<header>
<h1>DMARC summary</h1>
<p class="meta">{{.S.Scope}} · days are UTC, by the day that holds the middle of each report's period</p>
<ul class="tiles">
<li class="tile"><span>reports</span><b>{{count .S.Reports}}</b></li>
<li class="tile"><span>messages</span><b>{{count .S.Messages}}</b></li>
<li class="tile"><span>DMARC pass</span><b>{{percent .S.PassRate}}</b></li>
<li class="tile"><span>sources</span><b>{{count .Sources}}</b></li>
<li class="tile{{if .Failing}} warn{{end}}"><span>failing sources</span><b>{{count .Failing}}</b></li>
<li class="tile{{if .Unverified}} warn{{end}}"><span>unverified</span><b>{{count .Unverified}}</b></li>
<li class="tile"><span>failure reports</span><b>{{count .S.Failures}}</b></li>
</ul>
{{- if lt .S.Declared 0}}
<p class="muted">No declared list (<code>--known FILE</code>): every source whose mail passes is shown unverified, and DKIM-only passes as forwarded.</p>
{{- end}}
</header>
{{- if .Chart}}
<section id="days">
<h2>Volume and pass rate per day</h2>
<div class="scroll">{{.Chart}}</div>
</section>
{{- end}}
<section id="sources">
<h2>Sources</h2>
{{- if not .S.Reports}}
<p>{{.S.NoReports}}</p>
{{- else}}
<div class="scroll">
<table class="sources">
<thead><tr><th>IP</th><th>rDNS</th><th class="n">messages</th><th class="n">SPF aligned pass</th><th class="n">DKIM aligned pass</th><th>applied</th><th class="n">DMARC pass</th><th>category</th><th></th></tr></thead>
{{- range .Groups}}
<tbody>
<tr class="group"><th colspan="2">{{if .Service}}{{.Name}}{{else}}<span class="muted">{{.Name}}</span>{{end}}{{if .Folded}} <span class="muted">({{plural .Hidden "source"}})</span>{{end}}</th><th class="n">{{count .Messages}}</th><th class="n">{{count .SPFAlignedPass}}</th><th class="n">{{count .DKIMAlignedPass}}</th><th></th><th class="n">{{percent (rate .DMARCPass .Messages)}}</th><th colspan="2"></th></tr>
{{- range .Sources}}
<tr><td><code>{{.IP}}</code></td><td class="rdns">{{orDash .RDNS}}</td><td class="n">{{count .Messages}}</td><td class="n">{{count .SPFAlignedPass}}</td><td class="n">{{count .DKIMAlignedPass}}</td><td>{{applied .}}</td><td class="n">{{percent .PassRate}}</td><td class="cat cat-{{.Category}}">{{.Category.Title}}</td><td>{{if .Unverified}}<span class="flag">unverified</span>{{end}}</td></tr>
{{- end}}
{{- if and .Hidden (not .Folded)}}
<tr><td colspan="9" class="muted">… and {{count .Hidden}} more, counted in the group's totals</td></tr>
{{- end}}
</tbody>
{{- end}}
<tfoot>
<tr class="group total"><th colspan="2">all sources <span class="muted">({{plural .Sources "source"}})</span></th><th class="n">{{count .Messages}}</th><th class="n">{{count .S.SPFAlignedPass}}</th><th class="n">{{count .S.DKIMAlignedPass}}</th><th></th><th class="n">{{percent (rate .S.DMARCPass .Messages)}}</th><th colspan="2"></th></tr>
</tfoot>
</table>
</div>
{{- end}}
</section>
<section id="tls">
<h2>SMTP TLS reports</h2>
{{- if not .S.TLS}}
<p>None here.</p>
{{- else}}
<div class="scroll">
<table>
<thead><tr><th>receiving domain</th><th>policy</th><th class="n">reports</th><th class="n">sessions</th><th class="n">failed</th><th class="n">failure rate</th><th>top failures</th></tr></thead>
<tbody>
{{- range .S.TLS}}
<tr><td>{{.Domain}}</td><td>{{.PolicyType}}</td><td class="n">{{count .Reports}}</td><td class="n">{{count (sum .Successes .Failures)}}</td><td class="n">{{count .Failures}}</td><td class="n">{{percent (rate .Failures (sum .Successes .Failures))}}</td><td>{{top .TopFailures}}</td></tr>
{{- end}}
</tbody>
</table>
</div>
{{- end}}
</section>
{{- if .S.Days}}
<section id="day-table">
<h2>Per day</h2>
<details><summary>{{len .S.Days}} days</summary>
<div class="scroll">
<table>
<thead><tr><th>day</th><th class="n">reports</th><th class="n">messages</th><th class="n">DMARC pass</th></tr></thead>
<tbody>
{{- range .S.Days}}
<tr><td>{{.Day}}</td><td class="n">{{count .Reports}}</td><td class="n">{{count .Messages}}</td><td class="n">{{percent (rate .DMARCPass .Messages)}}</td></tr>
{{- end}}
</tbody>
</table>
</div>
</details>
</section>
{{- end}}
</main>
</body>
</html>
`
