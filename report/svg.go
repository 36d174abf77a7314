package report

import (
	"cmp"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// The charts are written by hand: a few hundred lines of SVG need no
// library, and writing them element by element in slice order keeps the
// output byte-for-byte reproducible for the golden files.

// Geometry in viewBox units. Every chart shares the horizontal layout so
// the hourly volume charts line up under the deferral-rate chart.
const (
	chartW    = 960.0
	chartPadL = 48.0 // room for "100%"
	chartPadR = 14.0
	plotW     = chartW - chartPadL - chartPadR

	rateTop    = 12.0
	rateHeight = 220.0
	rateBottom = 40.0 // hour labels, then day labels

	volTop    = 8.0
	volHeight = 52.0
	volBottom = 6.0

	maxChartLanes = 8
	fewAttempts   = 10   // below this an hour's rate is drawn hollow, and is not the headline peak
	dayLabelWidth = 72.0 // "2006-01-02" at font-size 11, with a margin
)

// laneColors are the Okabe–Ito colours (distinguishable with the common
// colour-vision deficiencies), yellow swapped for a darker grey so every
// line shows on white paper.
var laneColors = [maxChartLanes]string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#5d3a9b", "#555555"}

// Status colours of the volume charts, bottom to top of a stacked bar.
const (
	colorDelivered = "#3b8f5a"
	colorDeferred  = "#e3a008"
	colorBounced   = "#c0362c"
	colorOther     = "#9aa3b2"
)

// statusKey is the volume charts' legend, in stacking order: delivered,
// deferred, bounced, other.
var statusKey = []struct{ Name, Color string }{
	{"delivered", colorDelivered}, {"deferred", colorDeferred}, {"bounced", colorBounced}, {"other", colorOther},
}

// chartLane is one lane drawn in the charts.
type chartLane struct {
	Name     string
	Color    string
	Dashed   bool // lanes after the fourth are dashed, so a grey print still tells them apart
	Attempts int
	Rate     float64
	Hours    []analysis.HourStats // by hour, only hours with attempts
}

// chartLanes picks the lanes to draw: at most maxChartLanes, those with the
// most attempts, listed in Result.Lanes order so colours follow the table.
// undrawn counts the lanes with attempts left out.
func chartLanes(r *analysis.Result) (drawn []chartLane, undrawn int) {
	byLane := map[string][]analysis.HourStats{}
	for _, h := range r.Hourly {
		if h.Attempts > 0 {
			byLane[h.Lane] = append(byLane[h.Lane], h)
		}
	}
	var idx []int // into r.Lanes; a lane listed twice is drawn once
	for i, l := range r.Lanes {
		if len(byLane[l.Lane]) > 0 && !slices.ContainsFunc(idx, func(j int) bool { return r.Lanes[j].Lane == l.Lane }) {
			idx = append(idx, i)
		}
	}
	// Stable, so lanes with equal attempts keep their table order.
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(r.Lanes[b].Attempts, r.Lanes[a].Attempts) })
	undrawn = max(len(idx)-maxChartLanes, 0)
	idx = idx[:min(len(idx), maxChartLanes)]
	slices.Sort(idx)
	out := make([]chartLane, 0, len(idx))
	for n, i := range idx {
		l := r.Lanes[i]
		hours := byLane[l.Lane]
		slices.SortStableFunc(hours, func(x, y analysis.HourStats) int { return x.Hour.Compare(y.Hour) })
		out = append(out, chartLane{Name: l.Lane, Color: laneColors[n], Dashed: n >= 4, Attempts: l.Attempts, Rate: l.DeferralRate, Hours: hours})
	}
	return out, undrawn
}

// hourAxis maps time to x. Hour i of the chart is the band
// [x0+i*step, x0+(i+1)*step) and its point sits in the middle, so incident
// spans, which are whole hours, cover exactly the points they contain.
type hourAxis struct {
	first time.Time
	hours int
	step  float64
}

// newHourAxis spans the first to the last hour in hourly (any lane).
func newHourAxis(hourly []analysis.HourStats) (hourAxis, bool) {
	if len(hourly) == 0 {
		return hourAxis{}, false
	}
	first, last := hourly[0].Hour, hourly[0].Hour
	for _, h := range hourly {
		if h.Hour.Before(first) {
			first = h.Hour
		}
		if h.Hour.After(last) {
			last = h.Hour
		}
	}
	first = first.UTC().Truncate(time.Hour)
	n := int(last.Sub(first)/time.Hour) + 1
	return hourAxis{first: first, hours: n, step: plotW / float64(n)}, true
}

func (a hourAxis) x(t time.Time) float64 {
	return chartPadL + t.Sub(a.first).Hours()*a.step
}

func (a hourAxis) mid(t time.Time) float64 { return a.x(t) + a.step/2 }

func (a hourAxis) end() time.Time { return a.first.Add(time.Duration(a.hours) * time.Hour) }

// num formats a coordinate with at most one decimal: enough for a
// 960-unit canvas, and short.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// svgWriter writes elements; every attribute value and text is escaped
// here, because this markup bypasses html/template.
type svgWriter struct{ b strings.Builder }

func (w *svgWriter) tag(name string, attrs []string, selfClose bool) {
	w.b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.b.WriteString(" " + attrs[i] + `="` + html.EscapeString(attrs[i+1]) + `"`)
	}
	if selfClose {
		w.b.WriteString("/>")
	} else {
		w.b.WriteString(">")
	}
}

func (w *svgWriter) open(name string, attrs ...string) { w.tag(name, attrs, false) }
func (w *svgWriter) void(name string, attrs ...string) { w.tag(name, attrs, true); w.b.WriteByte('\n') }
func (w *svgWriter) close(name string)                 { w.b.WriteString("</" + name + ">\n") }
func (w *svgWriter) text(s string)                     { w.b.WriteString(html.EscapeString(s)) }
func (w *svgWriter) elem(name, text string, a ...string) {
	w.open(name, a...)
	w.text(text)
	w.close(name)
}

// titled writes an element with a <title> child: the browser's tooltip.
func (w *svgWriter) titled(name, title string, attrs ...string) {
	w.open(name, attrs...)
	w.elem("title", title)
	w.close(name)
}

// rateChart draws the deferral rate per lane per hour: incident spans
// shaded at the back, then the grid, then one line per lane with a point
// per hour that had attempts. A lane's line breaks where it had none.
func rateChart(r *analysis.Result, lanes []chartLane, ax hourAxis, alt string) string {
	h := rateTop + rateHeight + rateBottom
	var w svgWriter
	w.open("svg", "class", "chart", "viewBox", "0 0 "+num(chartW)+" "+num(h), "role", "img",
		"aria-labelledby", "rate-title rate-desc", "font-size", "11")
	w.elem("title", "Deferral rate per lane per hour (UTC)", "id", "rate-title")
	w.elem("desc", alt, "id", "rate-desc")
	w.void("rect", "x", num(chartPadL), "y", num(rateTop), "width", num(plotW), "height", num(rateHeight), "fill", "#fbfcfe")
	incidentBands(&w, r.Incidents, lanes, ax)
	rateGrid(&w, ax)
	for _, l := range lanes {
		rateLine(&w, l, ax)
	}
	w.close("svg")
	return w.b.String()
}

func rateY(rate float64) float64 {
	return rateTop + rateHeight*(1-min(max(rate, 0), 1))
}

// incidentBands shades each incident in its lane's colour (grey for a lane
// not drawn), clipped to the chart, with a strip on top to name it.
func incidentBands(w *svgWriter, incidents []analysis.Incident, lanes []chartLane, ax hourAxis) {
	for _, in := range incidents {
		start, end := maxTime(in.Start, ax.first), minTime(in.End, ax.end())
		if !end.After(start) {
			continue
		}
		color := colorOther
		for _, l := range lanes {
			if l.Name == in.Lane {
				color = l.Color
			}
		}
		x, wd := ax.x(start), ax.x(end)-ax.x(start)
		title := "Incident on " + in.Lane + ": " + shortTime(in.Start) + " to " + shortTime(in.End) + ", " + rate(in.DeferralRate) +
			" of " + Plural(int64(in.Attempts), "attempt") + " deferred (peak " + rate(in.PeakRate) + ", baseline " + rate(in.Baseline) + ")"
		w.open("g", "class", "incident", "fill", color)
		w.elem("title", title)
		w.void("rect", "x", num(x), "y", num(rateTop), "width", num(wd), "height", num(rateHeight), "fill-opacity", "0.13")
		w.void("rect", "x", num(x), "y", num(rateTop), "width", num(wd), "height", "4", "fill-opacity", "0.85")
		w.close("g")
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// rateGrid draws the y grid every 20 %, hour gridlines every 6 h (every
// hour or few on a chart too short to hold a 6-hour tick) when they are far
// enough apart to help, and a labelled tick at each UTC midnight.
func rateGrid(w *svgWriter, ax hourAxis) {
	x0, x1 := chartPadL, chartPadL+plotW
	bottom := rateTop + rateHeight
	every := hourEvery(ax)
	w.open("g", "class", "grid", "stroke", "#dde2ea", "stroke-width", "1")
	for p := 0; p <= 100; p += 20 {
		y := num(rateY(float64(p) / 100))
		w.void("line", "x1", num(x0), "x2", num(x1), "y1", y, "y2", y)
	}
	if float64(every)*ax.step >= 12 {
		for t := ax.first; !t.After(ax.end()); t = t.Add(time.Hour) {
			if t.Hour()%every == 0 && t.Hour() != 0 {
				x := num(ax.x(t))
				w.void("line", "x1", x, "x2", x, "y1", num(rateTop), "y2", num(bottom+4))
			}
		}
	}
	w.close("g")
	w.open("g", "class", "axis", "fill", "#5b6475")
	for p := 0; p <= 100; p += 20 {
		w.elem("text", strconv.Itoa(p)+"%", "x", num(x0-6), "y", num(rateY(float64(p)/100)+4), "text-anchor", "end")
	}
	if float64(every)*ax.step >= hourLabelWidth {
		for t := ax.first; !t.After(ax.end()); t = t.Add(time.Hour) {
			if t.Hour()%every == 0 && t.Hour() != 0 {
				anchor := "middle"
				if ax.x(t)+hourLabelWidth/2 > chartW {
					anchor = "end" // the right edge: keep the label inside
				}
				w.elem("text", t.Format("15:04"), "x", num(ax.x(t)), "y", num(bottom+15), "text-anchor", anchor)
			}
		}
	}
	dayTicks(w, ax, bottom)
	w.close("g")
}

// hourLabelWidth is the room an hour label ("15:04") needs.
const hourLabelWidth = 34.0

// hourEvery is how many hours apart the hour ticks are: 6, unless the
// chart is too short to hold a 6-hour tick other than midnight (which has
// its date); then every hour, or every 2 or 3 if hours are narrow.
func hourEvery(ax hourAxis) int {
	for t := ax.first; !t.After(ax.end()); t = t.Add(time.Hour) {
		if t.Hour()%6 == 0 && t.Hour() != 0 {
			return 6
		}
	}
	for _, k := range []int{1, 2, 3} {
		if float64(k)*ax.step >= hourLabelWidth {
			return k
		}
	}
	return 6
}

// dayTicks marks each UTC midnight with a line through the plot and a date
// label to its right, thinned to every k-th day when days are narrow. If
// the span starts after midnight, its first date is labelled at the left
// edge, so the reader always knows the day.
func dayTicks(w *svgWriter, ax hourAxis, bottom float64) {
	dayW := 24 * ax.step
	every := max(1, int(math.Ceil(dayLabelWidth/dayW)))
	firstMidnight := ax.first.Truncate(24 * time.Hour)
	if firstMidnight.Before(ax.first) {
		firstMidnight = firstMidnight.Add(24 * time.Hour)
	}
	labelY := num(bottom + 32)
	if !firstMidnight.Equal(ax.first) && (firstMidnight.After(ax.end()) || ax.x(firstMidnight)-chartPadL >= dayLabelWidth) {
		w.elem("text", ax.first.Format("2006-01-02"), "x", num(chartPadL), "y", labelY)
	}
	for i, t := 0, firstMidnight; !t.After(ax.end()); i, t = i+1, t.Add(24*time.Hour) {
		x := num(ax.x(t))
		w.void("line", "x1", x, "x2", x, "y1", num(rateTop), "y2", num(bottom+22), "stroke", "#aab2c0")
		if i%every == 0 && ax.x(t)+dayLabelWidth <= chartW {
			w.elem("text", t.Format("2006-01-02"), "x", num(ax.x(t)+3), "y", labelY)
		}
	}
}

// rateLine draws one lane: a polyline per run of consecutive hours, and a
// point per hour whose tooltip gives the numbers behind it.
func rateLine(w *svgWriter, l chartLane, ax hourAxis) {
	w.open("g", "class", "lane", "stroke", l.Color)
	var run []string
	flush := func() {
		if len(run) > 1 {
			line := []string{"points", strings.Join(run, " "), "fill", "none", "stroke-width", "2", "stroke-linejoin", "round"}
			if l.Dashed {
				line = append(line, "stroke-dasharray", "6 4")
			}
			w.void("polyline", line...)
		}
		run = run[:0]
	}
	for i, h := range l.Hours {
		if i > 0 && h.Hour.Sub(l.Hours[i-1].Hour) > time.Hour {
			flush()
		}
		run = append(run, num(ax.mid(h.Hour))+","+num(rateY(h.DeferralRate)))
	}
	flush()
	radius := num(min(3, max(1.2, ax.step*0.35)))
	for _, h := range l.Hours {
		// A hollow point: under fewAttempts attempts, the rate says little.
		fill := l.Color
		if h.Attempts < fewAttempts {
			fill = "#ffffff"
		}
		w.titled("circle", pointTitle(l.Name, h), "cx", num(ax.mid(h.Hour)), "cy", num(rateY(h.DeferralRate)), "r", radius,
			"fill", fill, "stroke-width", "1.2")
	}
	w.close("g")
}

func pointTitle(lane string, h analysis.HourStats) string {
	return lane + ", " + shortTime(h.Hour) + ", " + rate(h.DeferralRate) + " deferred, " + Plural(int64(h.Attempts), "attempt")
}

// rateSummary is the chart's text alternative: what is drawn, over which
// hours, and its highest point (among hours with at least fewAttempts
// attempts, when there are any, so one deferred attempt is not the
// headline).
func rateSummary(lanes []chartLane, undrawn int, ax hourAxis, incidents int) string {
	names := make([]string, len(lanes))
	for i, l := range lanes {
		names[i] = l.Name
	}
	s := "Share of attempts deferred in each UTC hour, " + shortTime(ax.first) + " to " + shortTime(ax.end()) + ", for " +
		plural(len(lanes), "lane") + " (" + strings.Join(names, ", ") + ")."
	if undrawn > 0 {
		s += " " + plural(undrawn, "more lane") + ", with fewer attempts, not drawn: the Lanes table has them."
	}
	lane, h, ok := peakHour(lanes, fewAttempts)
	if !ok {
		lane, h, ok = peakHour(lanes, 1)
	}
	if ok {
		s += " Highest: " + lane + " at " + shortTime(h.Hour) + ", " + rate(h.DeferralRate) + " of " + Plural(int64(h.Attempts), "attempt") + "."
	}
	if incidents > 0 {
		s += " Shaded: " + plural(incidents, "incident") + "."
	}
	return s
}

// peakHour is the hour with the highest deferral rate among those with at
// least minAttempts attempts; the first one wins a tie.
func peakHour(lanes []chartLane, minAttempts int) (string, analysis.HourStats, bool) {
	var best analysis.HourStats
	lane, found := "", false
	for _, l := range lanes {
		for _, h := range l.Hours {
			if h.Attempts >= minAttempts && (!found || h.DeferralRate > best.DeferralRate) {
				best, lane, found = h, l.Name, true
			}
		}
	}
	return lane, best, found
}

// volumeChart draws one lane's attempts per hour as stacked bars:
// delivered, deferred, bounced, and any other outcome, on the lane's own
// scale (the caption gives the peak).
func volumeChart(l chartLane, ax hourAxis) string {
	peak := 0
	for _, h := range l.Hours {
		peak = max(peak, h.Attempts)
	}
	h := volTop + volHeight + volBottom
	var w svgWriter
	w.open("svg", "class", "chart volume", "viewBox", "0 0 "+num(chartW)+" "+num(h), "role", "img", "font-size", "11")
	w.elem("title", "Attempts per hour to "+l.Name+" (UTC), peak "+numfmt.Thousands(int64(peak)))
	bottom := volTop + volHeight
	w.void("line", "x1", num(chartPadL), "x2", num(chartPadL+plotW), "y1", num(bottom), "y2", num(bottom), "stroke", "#aab2c0")
	w.elem("text", numfmt.Thousands(int64(peak))+"/h", "x", num(chartPadL-6), "y", num(volTop+8), "text-anchor", "end", "fill", "#5b6475")
	barW := max(ax.step*0.8, 0.5)
	for _, hs := range l.Hours {
		x := num(ax.x(hs.Hour) + (ax.step-barW)/2)
		w.open("g")
		w.elem("title", volumeTitle(l.Name, hs))
		y := bottom
		counts := [...]int{hs.Delivered, hs.Deferrals, hs.Bounces, hs.Attempts - hs.Delivered - hs.Deferrals - hs.Bounces}
		for i, key := range statusKey {
			if counts[i] <= 0 || peak == 0 {
				continue
			}
			ht := volHeight * float64(counts[i]) / float64(peak)
			y -= ht
			w.void("rect", "x", x, "y", num(y), "width", num(barW), "height", num(ht), "fill", key.Color)
		}
		w.close("g")
	}
	w.close("svg")
	return w.b.String()
}

func volumeTitle(lane string, h analysis.HourStats) string {
	return lane + ", " + shortTime(h.Hour) + ": " + Plural(int64(h.Attempts), "attempt") + ", " + numfmt.Thousands(int64(h.Delivered)) + " delivered, " +
		numfmt.Thousands(int64(h.Deferrals)) + " deferred, " + numfmt.Thousands(int64(h.Bounces)) + " bounced"
}
