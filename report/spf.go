package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mailtriage/mailtriage/spf"
)

// SPFReport is what `mailtriage spf` shows: the diagnosis of a domain's
// record tree and, when an address was given, check_host()'s result.
type SPFReport struct {
	Domain      string        `json:"domain"`
	Record      string        `json:"record"`
	Lookups     int           `json:"lookups"`
	VoidLookups int           `json:"void_lookups"`
	Tree        *spf.Node     `json:"tree"`
	Findings    []spf.Finding `json:"findings"`
	// The evaluation, with --ip.
	IP          string `json:"ip,omitempty"`
	Sender      string `json:"sender,omitempty"`
	HELO        string `json:"helo,omitempty"`
	Result      string `json:"result,omitempty"`
	Term        string `json:"matched,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	Error       string `json:"error,omitempty"`
	// Flattened is the equivalent record within the limits, with
	// --flatten.
	Flattened *spf.Flattened `json:"flattened,omitempty"`
}

// SPFJSON writes the report as indented JSON.
func SPFJSON(w io.Writer, r *SPFReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// SPFText writes the report for a person: the counts, the include tree
// with each record and its lookups, the findings, the result.
func SPFText(w io.Writer, r *SPFReport, opts Options) error {
	return validUTF8(w, func(w io.Writer) error { return writeSPFText(w, r, opts) })
}

func writeSPFText(w io.Writer, r *SPFReport, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = 100
	}
	count := plural(r.Lookups, "DNS lookup")
	if over := r.Lookups - spf.MaxLookups; over > 0 {
		count = t.paint(red, fmt.Sprintf("%d DNS lookups, %d over the limit of %d", r.Lookups, over, spf.MaxLookups))
	}
	void := fmt.Sprintf("%d void", r.VoidLookups)
	if r.VoidLookups > spf.MaxVoidLookups {
		void = t.paint(red, fmt.Sprintf("%d void, over the limit of %d", r.VoidLookups, spf.MaxVoidLookups))
	}
	t.printf("%s %s  %s, %s\n", t.paint(bold, "mailtriage spf:"), r.Domain, count, void)
	if r.Tree != nil {
		t.section("RECORDS")
		t.spfNode(r.Tree, "", "")
	}
	t.spfFindings(r.Findings)
	if r.Result != "" {
		t.section("RESULT")
		line := fmt.Sprintf("check_host(%s, %s, %s) = %s", r.IP, r.Domain, printable(r.Sender), t.paint(resultColor(r.Result), r.Result))
		if r.Term != "" {
			line += " at " + printable(r.Term)
		}
		t.printf("  %s\n", line)
		if r.Error != "" {
			t.printf("  %s\n", t.wrap(r.Error, 2))
		}
		if r.Explanation != "" {
			t.printf("  explanation: %s\n", t.wrap(r.Explanation, 15))
		}
	}
	if r.Flattened != nil {
		t.spfFlattened(r.Flattened)
	}
	return bw.Flush()
}

func resultColor(r string) string {
	switch r {
	case "pass":
		return bold
	case "softfail", "neutral", "none":
		return yellow
	}
	return red
}

// spfNode writes one record of the tree and, below it, what it includes.
func (t *textWriter) spfNode(n *spf.Node, prefix, branch string) {
	label := n.Domain
	if n.Via != "" {
		label = n.Via
	}
	counts := "[" + plural(n.Lookups, "lookup")
	if n.TotalLookups != n.Lookups {
		counts += fmt.Sprintf(", %d with its includes", n.TotalLookups)
	}
	if n.VoidLookups > 0 {
		counts += fmt.Sprintf(", %d void", n.VoidLookups)
	}
	counts += "]"
	body := n.Record
	if n.State != spf.StateOK {
		body = t.paint(red, string(n.State))
		if n.Record != "" {
			body += ": " + n.Record
		}
		if n.Error != "" {
			body += " (" + n.Error + ")"
		}
	}
	t.printf("  %s%s%s %s\n", prefix, branch, t.paint(bold, printable(label)), t.paint(dim, counts))
	next := prefix
	switch branch {
	case "├─ ":
		next += "│  "
	case "└─ ":
		next += "   "
	}
	t.printf("  %s   %s\n", next, t.wrap(body, visible(next)+5))
	for i, c := range n.Children {
		b := "├─ "
		if i == len(n.Children)-1 {
			b = "└─ "
		}
		t.spfNode(c, next, b)
	}
}

func (t *textWriter) spfFindings(fs []spf.Finding) {
	if len(fs) == 0 {
		return
	}
	t.section(fmt.Sprintf("FINDINGS (%d)", len(fs)))
	for _, f := range fs {
		sev := string(f.Severity)
		switch f.Severity {
		case spf.SeverityError:
			sev = t.paint(red, sev)
		case spf.SeverityWarning:
			sev = t.paint(yellow, sev)
		default:
			sev = t.paint(dim, sev)
		}
		where := f.Domain
		if f.Term != "" {
			where += ", " + f.Term
		}
		t.printf("  [%s] %s %s\n    %s\n", sev, f.Code, t.paint(dim, printable("("+where+")")), t.wrap(f.Message, 4))
		if f.Fix != "" {
			t.printf("    %s %s\n", t.paint(cyan, "fix:"), t.wrap(f.Fix, 9))
		}
	}
}

// spfFlattened writes the records to publish, what was kept as it is,
// and what flattening costs.
func (t *textWriter) spfFlattened(f *spf.Flattened) {
	t.section(fmt.Sprintf("FLATTENED: %s instead of %d, %s", plural(f.LookupsAfter, "DNS lookup"), f.LookupsBefore, plural(f.Addresses, "address term")))
	for _, rec := range f.Records {
		t.printf("  %s\n", printable(rec.Zone()))
	}
	for _, k := range f.Kept {
		t.printf("  %s %s (in %s): %s\n", t.paint(yellow, "kept"), k.Term, k.Domain, t.wrap(k.Reason, 8))
	}
	for _, k := range f.Dropped {
		t.printf("  %s %s (in %s): %s\n", t.paint(dim, "dropped"), k.Term, k.Domain, t.wrap(k.Reason, 8))
	}
	for _, n := range f.Notes {
		t.printf("  %s\n", t.wrap("note: "+n, 8))
	}
	var srcs []string
	for _, s := range f.Sources {
		srcs = append(srcs, fmt.Sprintf("%s %s (TTL %ds)", s.Name, s.Type, s.TTL))
	}
	if len(srcs) > 0 {
		t.printf("  %s\n", t.wrap("copied from: "+strings.Join(srcs, ", "), 8))
	}
}
