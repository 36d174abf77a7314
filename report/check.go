package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/check"
)

// CheckJSON writes a domain check as indented JSON; its field names are a
// contract with scripts.
func CheckJSON(w io.Writer, r *check.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CheckText writes a domain check for a person to read in a minute: the
// score with a bar per category, what is wrong with the fix for each, and
// the records it was judged on.
func CheckText(w io.Writer, r *check.Report, opts Options) error {
	return validUTF8(w, func(w io.Writer) error { return writeCheckText(w, r, opts) })
}

func writeCheckText(w io.Writer, r *check.Report, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = 100
	}
	name := r.Domain
	if r.Unicode != "" {
		name = r.Unicode + " (" + r.Domain + ")"
	}
	t.printf("%s %s  score %s, grade %s; %s\n", t.paint(bold, "mailtriage check:"), name,
		t.paint(gradeColor(r.Grade), fmt.Sprintf("%d/100", r.Score)), t.paint(gradeColor(r.Grade), r.Grade), r.Coverage)
	t.checkCategories(r)
	t.checkFindings(r)
	t.checkRecords(r)
	return bw.Flush()
}

func gradeColor(g string) string {
	switch g {
	case "A", "B":
		return bold
	case "C", "D":
		return yellow
	}
	return red
}

// bar draws score out of 100 in width cells.
func bar(score, width int) string {
	full := (score*width + 50) / 100
	return strings.Repeat("█", full) + strings.Repeat("░", width-full)
}

func (t *textWriter) checkCategories(r *check.Report) {
	t.section("SCORE BY CATEGORY")
	// Point at the COULD NOT CHECK section only when there is one: a
	// domain that does not exist has none, its other findings dropped.
	why := "not checked"
	switch {
	case slices.ContainsFunc(r.Findings, func(f mailtriage.Finding) bool { return f.Severity == mailtriage.SeverityUnknown }):
		why = "not checked: see COULD NOT CHECK"
	case slices.ContainsFunc(r.Findings, func(f mailtriage.Finding) bool { return f.Code == "domain.nxdomain" }):
		why = "not checked: the domain does not exist"
	}
	for _, c := range r.Categories {
		if !c.Checked {
			t.printf("  %-10s %s  %s\n", c.Name, t.paint(dim, strings.Repeat("·", 20)), t.paint(dim, why))
			continue
		}
		color := ""
		switch {
		case c.Score < 60:
			color = red
		case c.Score < 90:
			color = yellow
		}
		note := ""
		if c.Made < c.Total {
			note = t.paint(dim, fmt.Sprintf("  %d of %d checks made", c.Made, c.Total))
		}
		t.printf("  %-10s %s %3d%s\n", c.Name, t.paint(color, bar(c.Score, 20)), c.Score, note)
	}
}

var severityOrder = []mailtriage.Severity{mailtriage.SeverityError, mailtriage.SeverityWarning, mailtriage.SeverityUnknown, mailtriage.SeverityInfo}

var severityTitle = map[mailtriage.Severity]string{
	mailtriage.SeverityError:   "ERRORS",
	mailtriage.SeverityWarning: "WARNINGS",
	mailtriage.SeverityUnknown: "COULD NOT CHECK",
	mailtriage.SeverityInfo:    "NOTES",
}

func (t *textWriter) checkFindings(r *check.Report) {
	if len(r.Findings) == 0 {
		t.section("FINDINGS")
		t.printf("  None: everything checked is as receivers want it.\n")
		return
	}
	for _, sev := range severityOrder {
		var fs []mailtriage.Finding
		for _, f := range r.Findings {
			if f.Severity == sev {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		t.section(fmt.Sprintf("%s (%d)", severityTitle[sev], len(fs)))
		for _, f := range fs {
			code := f.Code
			switch sev {
			case mailtriage.SeverityError:
				code = t.paint(red, code)
			case mailtriage.SeverityWarning:
				code = t.paint(yellow, code)
			default:
				code = t.paint(dim, code)
			}
			t.printf("  %s\n    %s\n", code, t.wrap(f.Message, 4))
			if f.Fix != "" {
				t.printf("    %s %s\n", t.paint(cyan, "fix:"), t.wrap(f.Fix+" (owner: "+string(f.Owner)+")", 9))
			}
			if sev != mailtriage.SeverityInfo {
				for _, e := range f.Evidence {
					t.printf("    %s\n", t.paint(dim, t.wrap(clipMiddle(e, 2*t.width), 4)))
				}
			}
		}
	}
}

// clipMiddle shortens s to about n characters, keeping both ends, for
// evidence such as a DKIM key record whose middle is base64 (the JSON
// report keeps it whole).
func clipMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	keep := (n - 1) / 2
	return string(r[:keep]) + "…" + string(r[len(r)-keep:])
}

func (t *textWriter) checkRecords(r *check.Report) {
	lines := checkRecordLines(r)
	if len(lines) == 0 {
		return // nothing was read (a resolver that reaches no DNS)
	}
	t.section("RECORDS")
	row := func(label, value string) { t.printf("  %-9s %s\n", label, t.wrap(value, 12)) }
	for _, line := range lines {
		row(line[0], line[1])
	}
}

// checkRecordLines are the records a check read, as label and value, for
// the text and HTML reports.
func checkRecordLines(r *check.Report) [][2]string {
	var out [][2]string
	add := func(label, format string, args ...any) {
		out = append(out, [2]string{label, fmt.Sprintf(format, args...)})
	}
	if s := r.SPF; s != nil {
		switch {
		case s.State == "unknown":
			add("SPF", "unknown: the lookup failed")
		case s.Record == "":
			add("SPF", "none (%s)", s.State)
		default:
			add("SPF", "%s (%d DNS lookups, %d void)", s.Record, s.Lookups, s.VoidLookups)
		}
		for _, res := range s.Results {
			add("SPF", "%s: %s%s", res.IP, res.Result, nonEmpty(prefixed(" at ", res.Term), prefixed(": ", res.Error)))
		}
	}
	if d := r.DMARC; d != nil {
		switch {
		case d.Status == "unknown":
			add("DMARC", "unknown: the lookup failed")
		case d.Status == "several":
			add("DMARC", "several records: no DMARC applies")
		case d.Record == "":
			add("DMARC", "none (looked at _dmarc.%s)", strings.Join(d.Queries, ", _dmarc."))
		default:
			psl := "the same"
			if d.PSLPolicyDomain != d.PolicyDomain {
				psl = nonEmpty(d.PSLPolicyDomain, "none")
			}
			add("DMARC", "%s at _dmarc.%s, policy %s for %s (RFC 7489 would use: %s)", d.Record, d.PolicyDomain, d.Policy, r.Domain, psl)
		}
	}
	for _, k := range r.DKIM {
		desc := fmt.Sprintf("%s %d bits", k.KeyType, k.KeyBits)
		if k.Revoked {
			desc = "revoked"
		}
		if k.Testing {
			desc += ", testing"
		}
		if len(k.Delegated) > 0 {
			desc += ", CNAME to " + k.Delegated[len(k.Delegated)-1]
		}
		add("DKIM", "%s: %s", k.Selector, desc)
	}
	if m := r.MX; m != nil {
		switch {
		case m.Null:
			add("MX", "null MX: the domain takes no mail")
		default:
			for _, h := range m.Hosts {
				addrs := make([]string, len(h.Addrs))
				for i, a := range h.Addrs {
					addrs[i] = a.String()
				}
				implicit := ""
				if m.Implicit {
					implicit = " (no MX record: the domain's own address)"
				}
				add("MX", "%d %s [%s]%s", h.Preference, h.Host, nonEmpty(strings.Join(addrs, " "), h.Status), implicit)
			}
		}
	}
	if s := r.MTASTS; s != nil {
		add("MTA-STS", "%s; policy mode %s, mx %s", s.Record, nonEmpty(s.Mode, "-"), nonEmpty(strings.Join(s.MX, " "), "-"))
	}
	if s := r.TLSRPT; s != nil {
		add("TLS-RPT", "%s", s.Record)
	}
	for _, s := range r.TLS {
		switch {
		case s.Error != "":
			add("STARTTLS", "%s (%s): %s", s.Host, s.Addr, s.Error)
		default:
			cert := "certificate valid"
			if !s.Verified {
				cert = "certificate NOT valid: " + s.VerifyError
			}
			add("STARTTLS", "%s (%s): %s %s, %s", s.Host, s.Addr, s.Version, s.Cipher, cert)
		}
	}
	if s := r.BIMI; s != nil {
		add("BIMI", "%s", s.Record)
	}
	for _, ip := range r.IPs {
		ptr := nonEmpty(strings.Join(ip.PTR, " "), "no PTR ("+ip.Status+")")
		confirmed := "not forward-confirmed"
		if len(ip.Confirmed) > 0 {
			confirmed = "forward-confirmed"
		}
		add("rDNS", "%s → %s, %s", ip.IP, ptr, confirmed)
	}
	if h := r.HELO; h != nil {
		addrs := make([]string, len(h.Addrs))
		for i, a := range h.Addrs {
			addrs[i] = a.String()
		}
		add("HELO", "%s → %s", h.Name, nonEmpty(strings.Join(addrs, " "), h.Status))
	}
	return out
}

// prefixed returns p+s, or "" for an empty s.
func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// CheckHTML writes a domain check as one self-contained page.
func CheckHTML(w io.Writer, r *check.Report) error {
	return validUTF8(w, func(w io.Writer) error { return writeCheckHTML(w, r) })
}

func writeCheckHTML(w io.Writer, r *check.Report) error {
	bw := bufio.NewWriter(w)
	v := checkView{R: r, Records: checkRecordLines(r)}
	for _, c := range r.Categories {
		v.Bars = append(v.Bars, categoryBar{Category: c, Width: c.Score * 3})
	}
	if err := checkPage.Execute(bw, v); err != nil {
		return err
	}
	return bw.Flush()
}

type categoryBar struct {
	check.Category
	Width int // pixels of 300
}

type checkView struct {
	R       *check.Report
	Bars    []categoryBar
	Records [][2]string
}

var checkPage = template.Must(template.Must(template.New("check").Parse(checkTemplate)).Parse(pageCSS))

const checkTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="generator" content="mailtriage" />
<title>Domain check · {{.R.Domain}}</title>
<style>
{{template "css"}}</style>
</head>
<body>
<main>
<header>
<h1>Domain check: {{.R.Domain}}{{if .R.Unicode}} ({{.R.Unicode}}){{end}}</h1>
<p class="meta">Score <b>{{.R.Score}}/100</b>, grade <b>{{.R.Grade}}</b>; {{.R.Coverage.Made}} of {{.R.Coverage.Applied}} checks made ({{.R.Coverage.Percent}}%).</p>
</header>
<section>
<h2>Score by category</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="460" height="{{len .Bars}}0" viewBox="0 0 460 {{len .Bars}}0" role="img" aria-label="score by category">
{{- range $i, $b := .Bars}}
<g transform="translate(0,{{$i}}0)"><text x="0" y="7" font-size="8" dominant-baseline="middle">{{$b.Name}}</text>
<rect x="70" y="1" width="300" height="12" fill="#eef1f5" />
{{- if $b.Checked}}<rect x="70" y="1" width="{{$b.Width}}" height="12" fill="{{if lt $b.Score 60}}#b42318{{else if lt $b.Score 90}}#b54708{{else}}#067647{{end}}" />
<text x="380" y="7" font-size="8" dominant-baseline="middle">{{$b.Score}} ({{$b.Made}}/{{$b.Total}} checks)</text>
{{- else}}<text x="380" y="7" font-size="8" dominant-baseline="middle">not checked</text>{{end}}</g>
{{- end}}
</svg>
</section>
<section>
<h2>Findings</h2>
{{- if not .R.Findings}}
<p>None: everything checked is as receivers want it.</p>
{{- else}}
<ol class="findings">
{{- range .R.Findings}}
<li class="finding sev-{{.Severity}}">
<div class="finding-head"><span class="badge">{{.Severity}}</span> <code>{{.Code}}</code> <span class="muted">{{.Category}} · owner: {{.Owner}}</span></div>
<p class="message">{{.Message}}</p>
{{- if .Fix}}
<p class="fix"><strong>Fix:</strong> {{.Fix}}</p>
{{- end}}
{{- if .Evidence}}
<details><summary>Evidence</summary><ul>{{range .Evidence}}<li><code>{{.}}</code></li>{{end}}</ul></details>
{{- end}}
</li>
{{- end}}
</ol>
{{- end}}
</section>
<section>
<h2>Records</h2>
<table>
<tbody>
{{- range .Records}}
<tr><th scope="row">{{index . 0}}</th><td><code>{{index . 1}}</code></td></tr>
{{- end}}
</tbody>
</table>
</section>
<section>
<h2>Checks</h2>
<table>
<thead><tr><th>check</th><th>category</th><th>points</th><th>what earns them</th></tr></thead>
<tbody>
{{- range .R.Checks}}
<tr><td><code>{{.ID}}</code></td><td>{{.Category}}</td><td>{{if .Made}}{{.Points}} / {{.Max}}{{else}}not made{{end}}</td><td>{{.Title}}</td></tr>
{{- end}}
</tbody>
</table>
</section>
</main>
</body>
</html>
`
