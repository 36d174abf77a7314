package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
)

// golang.org/x/net/html is not a dependency of the module, so these tests
// check the page with encoding/xml: the template self-closes its void
// elements, which makes the whole page well-formed XML, and the SVG must
// be well-formed XML anyway.

func renderHTML(t *testing.T, r *analysis.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// node is a parsed element: enough of a DOM to query the charts.
type node struct {
	name  string
	attr  map[string]string
	text  string // character data directly inside
	kids  []*node
	order int // position in the document
}

// parseXML decodes s strictly, token by token, into a tree under a
// synthetic root; any malformed markup fails the test.
func parseXML(t *testing.T, s string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	root := &node{name: "#root"}
	stack := []*node{root}
	count := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v (line %d)", err, lineOf(s, d.InputOffset()))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			count++
			n := &node{name: tok.Name.Local, attr: map[string]string{}, order: count}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(tok)
		}
	}
	if len(stack) != 1 {
		t.Fatalf("%d elements left open", len(stack)-1)
	}
	return root
}

func lineOf(s string, off int64) int { return strings.Count(s[:min(int(off), len(s))], "\n") + 1 }

func checkXML(t *testing.T, s string) { t.Helper(); parseXML(t, s) }

// all returns the elements named name under n, in document order.
func (n *node) all(name string) []*node {
	var out []*node
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
		out = append(out, k.all(name)...)
	}
	return out
}

// title is the text of n's <title> child: its tooltip.
func (n *node) title() string {
	for _, k := range n.kids {
		if k.name == "title" {
			return k.text
		}
	}
	return ""
}

// svgs cuts every <svg>…</svg> out of the page and parses each alone.
func svgs(t *testing.T, page string) []*node {
	t.Helper()
	var out []*node
	for rest := page; ; {
		i := strings.Index(rest, "<svg")
		if i < 0 {
			return out
		}
		j := strings.Index(rest[i:], "</svg>")
		if j < 0 {
			t.Fatal("an <svg> is not closed")
		}
		root := parseXML(t, rest[i:i+j+len("</svg>")])
		if len(root.kids) != 1 || root.kids[0].name != "svg" {
			t.Fatalf("svg fragment parses to %d elements", len(root.kids))
		}
		out = append(out, root.kids[0])
		rest = rest[i+j:]
	}
}

func TestHTMLWellFormed(t *testing.T) {
	page := renderHTML(t, sampleResult())
	root := parseXML(t, page)
	if h := root.all("html"); len(h) != 1 || h[0].attr["lang"] != "en" {
		t.Errorf("want one <html lang=en>")
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n") {
		t.Errorf("no doctype: %.40q", page)
	}
	// The rate chart, then one volume chart per drawn lane.
	if n := len(svgs(t, page)); n != 4 {
		t.Errorf("%d svg elements, want 4", n)
	}
}

// TestHTMLSections: the parts come in the promised order, and the header
// gives the span of the inputs and the zone.
func TestHTMLSections(t *testing.T) {
	page := renderHTML(t, sampleResult())
	at := -1
	for _, s := range []string{
		"<h1>Delivery incident report</h1>", "2025-03-03 21:02Z to 2025-03-04 06:58Z", "lines without zone read as Europe/Berlin",
		`class="tiles"`, `id="findings"`, `id="deferral-rate"`, `id="attempts"`, `id="lanes"`, `id="incidents"`, `id="replies"`,
		`id="timeouts"`, `id="providers"`, `id="streams"`, `id="relays"`, `id="inputs"`,
	} {
		i := strings.Index(page[max(at, 0):], s)
		if i < 0 {
			t.Errorf("%q missing, or not after the previous part", s)
			continue
		}
		at += i + 1
	}
	root := parseXML(t, page)
	if n := len(root.all("li")); n < 11 {
		t.Errorf("only %d list items; the summary alone has 11 tiles", n)
	}
	var errRow *node
	for _, tr := range root.all("tr") {
		if tr.attr["class"] == "err" {
			errRow = tr
		}
	}
	if errRow == nil || !strings.Contains(page, "gzip: invalid header") {
		t.Errorf("the input that failed is not highlighted")
	}
	var sev []string
	for _, li := range root.all("li") {
		if c := li.attr["class"]; strings.HasPrefix(c, "finding ") {
			sev = append(sev, c)
		}
	}
	if !slices.Equal(sev, []string{"finding sev-error", "finding sev-warning"}) {
		t.Errorf("findings %v", sev)
	}
	if n := len(root.all("details")); n != 2 {
		t.Errorf("%d evidence blocks, want 2", n)
	}
}

// TestHTMLRateChart checks the deferral-rate chart against the sample:
// ten hours (21:00 to 06:00) on a 898-unit plot from x=48 are bands of
// 89.8 units; 0 % is y=232 and 100 % is y=12.
func TestHTMLRateChart(t *testing.T) {
	chart := svgs(t, renderHTML(t, sampleResult()))[0]
	if chart.attr["viewBox"] != "0 0 960 272" || chart.attr["role"] != "img" {
		t.Errorf("svg attributes %v", chart.attr)
	}
	if d := chart.all("desc"); len(d) != 1 || !strings.Contains(d[0].text, "3 lanes (microsoft, google, other)") {
		t.Errorf("text alternative: %v", d)
	}

	// One group per lane, in table order, each its own colour.
	var lanes []*node
	for _, g := range chart.all("g") {
		if g.attr["class"] == "lane" {
			lanes = append(lanes, g)
		}
	}
	if len(lanes) != 3 || lanes[0].attr["stroke"] == lanes[1].attr["stroke"] || lanes[1].attr["stroke"] == lanes[2].attr["stroke"] {
		t.Fatalf("lane groups: %d", len(lanes))
	}

	// A gap breaks the line: microsoft has none at 02:00, other none from
	// 00:00 to 03:00.
	var runs []int
	for _, l := range lanes {
		for _, p := range l.all("polyline") {
			runs = append(runs, len(strings.Fields(p.attr["points"])))
		}
	}
	if !slices.Equal(runs, []int{5, 4, 10, 2, 2}) {
		t.Errorf("points per line run %v, want [5 4 10 2 2]", runs)
	}

	// A point per hour with attempts, with its numbers as a tooltip.
	var tips []string
	for _, c := range lanes[0].all("circle") {
		tips = append(tips, c.title())
	}
	if len(tips) != 9 || tips[4] != "microsoft, 2025-03-04 01:00Z, 78.1% deferred, 64 attempts" {
		t.Errorf("microsoft tooltips %q", tips)
	}
	p := lanes[0].all("circle")[4]
	if p.attr["cx"] != "452.1" || p.attr["cy"] != "60.1" {
		t.Errorf("01:00 at 78.1%% drawn at %s,%s, want 452.1,60.1", p.attr["cx"], p.attr["cy"])
	}
	if n := len(lanes[1].all("circle")) + len(lanes[2].all("circle")); n != 14 {
		t.Errorf("%d google and other points, want 14", n)
	}

	// The incident is shaded from 00:00 to 04:00, behind the lines.
	var band *node
	for _, g := range chart.all("g") {
		if g.attr["class"] == "incident" {
			band = g
		}
	}
	if band == nil || !strings.HasPrefix(band.title(), "Incident on microsoft: 2025-03-04 00:00Z to 2025-03-04 04:00Z") {
		t.Fatalf("incident band missing: %v", band)
	}
	if r := band.all("rect")[0]; r.attr["x"] != "317.4" || r.attr["width"] != "359.2" || band.attr["fill"] != lanes[0].attr["stroke"] {
		t.Errorf("incident band at x=%s width=%s fill=%s", r.attr["x"], r.attr["width"], band.attr["fill"])
	}
	if band.order > lanes[0].order {
		t.Errorf("the incident is drawn over the lines")
	}

	// Axes: y gridlines every 20 %, the 06:00 gridline, both dates.
	var texts []string
	for _, x := range chart.all("text") {
		texts = append(texts, x.text)
	}
	want := []string{"0%", "20%", "40%", "60%", "80%", "100%", "06:00", "2025-03-03", "2025-03-04"}
	if !slices.Equal(texts, want) {
		t.Errorf("axis labels %q, want %q", texts, want)
	}
	var ys []string
	for _, l := range chart.all("line") {
		if l.attr["x1"] == "48" && l.attr["x2"] == "946" {
			ys = append(ys, l.attr["y1"])
		}
	}
	if !slices.Equal(ys, []string{"232", "188", "144", "100", "56", "12"}) {
		t.Errorf("y gridlines at %v", ys)
	}
}

// TestHTMLChartLanes: at most eight lanes are drawn, those with the most
// attempts, in the order of the lanes table.
func TestHTMLChartLanes(t *testing.T) {
	r := &analysis.Result{}
	for i, n := range []int{5, 100, 3, 60, 90, 80, 70, 50, 40, 30} {
		name := fmt.Sprintf("lane%d", i)
		r.Lanes = append(r.Lanes, analysis.LaneStats{Lane: name, Attempts: n})
		r.Hourly = append(r.Hourly, hour(name, at(3, 12), n, n, 0, 0))
	}
	var drawn []string
	for _, c := range svgs(t, renderHTML(t, r))[0].all("circle") {
		drawn = append(drawn, strings.Split(c.title(), ",")[0])
	}
	want := []string{"lane1", "lane3", "lane4", "lane5", "lane6", "lane7", "lane8", "lane9"}
	if !slices.Equal(drawn, want) {
		t.Errorf("drawn %v, want %v", drawn, want)
	}
}

// TestHourlyViewsSayWhatIsLeftOut: lanes left out of the per-hour views
// (the chart's eight, the text report's limit) are counted, not dropped
// silently.
func TestHourlyViewsSayWhatIsLeftOut(t *testing.T) {
	r := &analysis.Result{}
	for i, n := range []int{100, 90, 80, 70, 60, 50, 40, 30, 20, 10} {
		name := fmt.Sprintf("lane%d", i)
		r.Lanes = append(r.Lanes, analysis.LaneStats{Lane: name, Attempts: n})
		r.Hourly = append(r.Hourly, hour(name, at(3, 12), n, n, 0, 0))
	}
	chart := svgs(t, renderHTML(t, r))[0]
	if d := chart.all("desc"); len(d) != 1 || !strings.Contains(d[0].text, "2 more lanes") {
		t.Errorf("the chart's text does not count the 2 lanes not drawn: %v", d[0].text)
	}
	var b bytes.Buffer
	if err := Text(&b, r, Options{Limit: 6}); err != nil {
		t.Fatal(err)
	}
	_, hourly, _ := strings.Cut(b.String(), "DEFERRAL RATE PER HOUR")
	hourly, _, _ = strings.Cut(hourly, "\n\n")
	if !strings.Contains(hourly, "4 more lanes") {
		t.Errorf("the text's hourly lines do not count the 4 lanes left out:%s", hourly)
	}
}

// TestHTMLNavReachesEverySection: the header's links lead to every
// section after the summary.
func TestHTMLNavReachesEverySection(t *testing.T) {
	root := parseXML(t, renderHTML(t, sampleResult()))
	links := map[string]bool{}
	for _, nav := range root.all("nav") {
		for _, a := range nav.all("a") {
			links[a.attr["href"]] = true
		}
	}
	for _, sec := range root.all("section") {
		if id := sec.attr["id"]; id != "summary" && !links["#"+id] {
			t.Errorf("no link to section %q", id)
		}
	}
}

// TestHTMLChartCountsSeparated: the chart's tooltips write counts as the
// tables do, 2,692 and not 2692.
func TestHTMLChartCountsSeparated(t *testing.T) {
	r := &analysis.Result{
		Lanes:  []analysis.LaneStats{{Lane: "apple", Attempts: 3000, Deferrals: 2000, DeferralRate: 2.0 / 3}},
		Hourly: []analysis.HourStats{hour("apple", at(3, 12), 3000, 1000, 1500, 500)},
		Incidents: []analysis.Incident{{Lane: "apple", Start: at(3, 12), End: at(3, 13), Attempts: 3000, Deferrals: 1500,
			DeferralRate: 0.5}},
	}
	page := renderHTML(t, r)
	for _, want := range []string{"of 3,000 attempts deferred", "3,000 attempts, 1,000 delivered, 1,500 deferred", "peak 3,000"} {
		if !strings.Contains(page, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

// TestHTMLSelfContained: nothing is fetched when the page opens. No
// scripts, stylesheets, images or frames; URLs from the data appear only
// as the href of a plain <a>.
func TestHTMLSelfContained(t *testing.T) {
	page := renderHTML(t, sampleResult())
	lower := strings.ToLower(page)
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<base", "<video", "<audio",
		"<source", "@import", "url(", "xlink:href"} {
		if strings.Contains(lower, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	tag := regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*/?>`)
	attr := regexp.MustCompile(`([^\s=]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	var links []string
	for _, m := range tag.FindAllStringSubmatch(page, -1) {
		for _, a := range attr.FindAllStringSubmatch(m[2], -1) {
			name := strings.ToLower(a[1])
			val := strings.ToLower(strings.TrimSpace(html.UnescapeString(strings.Trim(a[2], `"'`))))
			external := strings.Contains(val, "://") || strings.HasPrefix(val, "//")
			switch {
			case external && strings.ToLower(m[1]) == "a" && name == "href" &&
				(strings.HasPrefix(val, "https://") || strings.HasPrefix(val, "http://")):
				links = append(links, val)
			case external:
				t.Errorf("<%s %s=%s> refers outside the page", m[1], name, a[2])
			case (name == "src" || name == "href" || name == "srcset" || name == "action") && !strings.HasPrefix(val, "#"):
				t.Errorf("<%s %s=%s> loads something", m[1], name, a[2])
			}
		}
	}
	// The one link in the sample's data is the Gmail rule's reference.
	if !slices.Equal(links, []string{"https://support.google.com/mail/answer/81126"}) {
		t.Errorf("links %q", links)
	}
}

// TestHTMLEscapes: text from the logs cannot add markup, neither through
// the template nor through the hand-written SVG.
func TestHTMLEscapes(t *testing.T) {
	r := sampleResult()
	r.Findings[0].Message = `Lane <script>alert("x")</script> & co`
	r.Findings[0].Evidence = append(r.Findings[0].Evidence, `</code></details><img src=x onerror=alert(1)>`)
	for i := range r.Lanes {
		if r.Lanes[i].Lane == "google" {
			r.Lanes[i].Lane = `goo<u>"gle"</u>`
		}
	}
	for i := range r.Hourly {
		if r.Hourly[i].Lane == "google" {
			r.Hourly[i].Lane = `goo<u>"gle"</u>`
		}
	}
	r.Responses[3].Ref = `javascript:alert(1)`
	page := renderHTML(t, r)
	for _, bad := range []string{"<script", "<img", "<u>", "href=\"javascript"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if !strings.Contains(page, `Lane &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co`) {
		t.Errorf("finding message not escaped as expected")
	}
	root := parseXML(t, page)
	var tip string
	for _, c := range svgs(t, page)[0].all("circle") {
		if strings.HasPrefix(c.title(), "goo") {
			tip = c.title()
			break
		}
	}
	if tip != `goo<u>"gle"</u>, 2025-03-03 21:00Z, 0.0% deferred, 30 attempts` {
		t.Errorf("svg tooltip decodes to %q", tip)
	}
	if n := len(root.all("u")); n != 0 {
		t.Errorf("%d <u> elements made it into the page", n)
	}
}

// TestHTMLDayLabels: over any span, the date labels under the chart do not
// overlap and stay inside it, and each names the UTC midnight it marks
// (or, at the left edge, the first day).
func TestHTMLDayLabels(t *testing.T) {
	for _, hours := range []int{1, 5, 30, 24 * 7, 24 * 45, 24 * 400} {
		r := &analysis.Result{Lanes: []analysis.LaneStats{{Lane: "x", Attempts: 2 * hours}}}
		start := at(3, 13)
		for _, h := range []int{0, hours - 1} {
			r.Hourly = append(r.Hourly, hour("x", start.Add(time.Duration(h)*time.Hour), 1, 1, 0, 0))
		}
		var labels []*node
		for _, x := range svgs(t, renderHTML(t, r))[0].all("text") {
			if len(x.text) == len("2006-01-02") && strings.Count(x.text, "-") == 2 {
				labels = append(labels, x)
			}
		}
		if len(labels) == 0 {
			t.Errorf("%d hours: no date label", hours)
			continue
		}
		if labels[0].text != "2025-03-03" && hours < 24 {
			t.Errorf("%d hours: first label %q", hours, labels[0].text)
		}
		prev := -1e9
		for _, l := range labels {
			x, err := strconv.ParseFloat(l.attr["x"], 64)
			if err != nil || x-prev < dayLabelWidth || x+dayLabelWidth > chartW+1 {
				t.Errorf("%d hours: label %s at x=%s (previous at %v)", hours, l.text, l.attr["x"], prev)
			}
			prev = x
		}
	}
}

// TestHTMLHourLabels: a chart of a few hours names its hours, so a reader
// knows which hour a point is without pointing at it; labels never
// crowd each other.
func TestHTMLHourLabels(t *testing.T) {
	for _, tt := range []struct {
		start time.Time
		hours int
		want  []string // hour labels that must be there
	}{
		{at(3, 10), 1, []string{"10:00", "11:00"}},
		{at(3, 13), 3, []string{"13:00", "14:00", "15:00", "16:00"}},
		{at(3, 22), 5, []string{"22:00", "23:00", "01:00"}},
		{at(3, 1), 24 * 4, []string{"06:00", "12:00", "18:00"}},
	} {
		r := &analysis.Result{Lanes: []analysis.LaneStats{{Lane: "x", Attempts: 2}}}
		for _, h := range []int{0, tt.hours - 1} {
			r.Hourly = append(r.Hourly, hour("x", tt.start.Add(time.Duration(h)*time.Hour), 1, 1, 0, 0))
		}
		var got []string
		prev := -1e9
		for _, x := range svgs(t, renderHTML(t, r))[0].all("text") {
			if len(x.text) == len("15:04") && x.text[2] == ':' {
				got = append(got, x.text)
				v, _ := strconv.ParseFloat(x.attr["x"], 64)
				if v-prev < 30 {
					t.Errorf("%d hours from %s: label %s at x=%v crowds the one at %v", tt.hours, tt.start, x.text, v, prev)
				}
				prev = v
			}
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%d hours from %s: hour labels %q, want %s among them", tt.hours, tt.start, got, w)
			}
		}
	}
}

// TestHTMLPendingNote: the pending tile says when its recipients were
// still queued: when the log ended, or at --until when the window ends
// before the log, since the analysis is then the log cut there.
func TestHTMLPendingNote(t *testing.T) {
	for _, tc := range []struct{ until, want string }{
		{"", "when the log ended"},
		{"2025-03-05T00:00:00Z", "when the log ended"}, // after the log's last stamp
		{"2025-03-04T06:00:00Z", "when the window ended"},
	} {
		r := sampleResult()
		r.Until = tc.until
		want := "<span>pending</span><b>2</b><small>" + tc.want + "</small>"
		if page := renderHTML(t, r); !strings.Contains(page, want) {
			t.Errorf("until %q: no %q", tc.until, want)
		}
	}
}

// TestHTMLPendingNoteSnapshot: a queue snapshot (postqueue -j) is no log:
// its pending recipients are those in the snapshot, not "when the log
// ended".
func TestHTMLPendingNoteSnapshot(t *testing.T) {
	snap := analysis.Input{Name: "queue.json", Format: "postqueue", Lines: 9, MatchedLines: 9,
		First: at(4, 6), Last: at(4, 6)}
	r := &analysis.Result{Summary: analysis.Summary{Recipients: 9, Pending: 9}, Inputs: []analysis.Input{snap}}
	const want = "<span>pending</span><b>9</b><small>in the queue snapshot</small>"
	if page := renderHTML(t, r); !strings.Contains(page, want) {
		t.Errorf("snapshot alone: no %q", want)
	}
	// Beside a log, the log's end is when they were counted.
	r.Inputs = append(r.Inputs, analysis.Input{Name: "mail.log", Format: "postfix", Lines: 10, MatchedLines: 10, First: at(3, 21), Last: at(4, 5)})
	if page := renderHTML(t, r); !strings.Contains(page, "<small>when the log ended</small>") {
		t.Errorf("snapshot and log: not %q", "when the log ended")
	}
}
