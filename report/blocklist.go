package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mailtriage/mailtriage/blocklist"
	"github.com/mailtriage/mailtriage/dnsbl"
)

// BlocklistReport is what `mailtriage blocklist` shows.
type BlocklistReport struct {
	*blocklist.Report
	Resolver string   `json:"resolver"`
	Warnings []string `json:"warnings"`
}

// BlocklistJSON writes the report as indented JSON.
func BlocklistJSON(w io.Writer, r *BlocklistReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// BlocklistText writes, per target, its listings with their meaning and
// where to ask for removal, the lists that could not tell, and the lists
// that did not answer their test entries.
func BlocklistText(w io.Writer, r *BlocklistReport, opts Options) error {
	return validUTF8(w, func(w io.Writer) error { return writeBlocklistText(w, r, opts) })
}

func writeBlocklistText(w io.Writer, r *BlocklistReport, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = 100
	}
	healthy := 0
	for _, z := range r.Zones {
		if z.Status == dnsbl.StatusClean {
			healthy++
		}
	}
	t.printf("%s %s, %s (%d answered their test entries) via %s\n", t.paint(bold, "mailtriage blocklist:"),
		plural(len(r.Targets), "target"), plural(len(r.Zones), "list"), healthy, r.Resolver)
	for _, warn := range r.Warnings {
		t.printf("%s %s\n", t.paint(yellow, "warning:"), t.wrap(warn, 9))
	}
	for _, tr := range r.Targets {
		t.blocklistTarget(tr)
	}
	t.blocklistZones(r.Zones)
	t.printf("\n%s\n", t.paint(dim, t.wrap("A clean answer is one input, not proof of good reputation: mailbox providers keep their own (Proofpoint, Microsoft SNDS, Gmail Postmaster Tools), and their replies in your logs say more.", 0)))
	return bw.Flush()
}

func (t *textWriter) blocklistTarget(tr blocklist.TargetReport) {
	title := tr.Query
	if tr.Note != "" {
		title += "  " + t.paint(dim, "("+tr.Note+")")
	}
	t.section(title)
	counts := map[dnsbl.Status][]string{}
	for _, l := range tr.Listings {
		switch l.Status {
		case dnsbl.StatusListed, dnsbl.StatusAllowed:
			t.blocklistListing(l)
		default:
			counts[l.Status] = append(counts[l.Status], l.List)
		}
	}
	var parts []string
	for _, s := range []dnsbl.Status{dnsbl.StatusClean, dnsbl.StatusUnknown, dnsbl.StatusRefused, dnsbl.StatusUnavailable} {
		if n := len(counts[s]); n > 0 {
			part := fmt.Sprintf("%s on %s", s, plural(n, "list"))
			if s != dnsbl.StatusClean {
				part += " (" + join(counts[s], 4) + ")"
			}
			parts = append(parts, part)
		}
	}
	if len(parts) > 0 {
		t.printf("  %s\n", t.wrap(strings.Join(parts, "; "), 2))
	}
}

func (t *textWriter) blocklistListing(l blocklist.Listing) {
	label := strings.ToUpper(string(l.Status))
	switch {
	case l.Status == dnsbl.StatusAllowed:
		label = t.paint(bold, "allowed")
	case l.Scored() && l.Severity == "error":
		label = t.paint(red, label)
	case l.Scored():
		label = t.paint(yellow, label)
	default:
		label = t.paint(dim, "listed (informational)")
	}
	codes := make([]string, len(l.Codes))
	for i, c := range l.Codes {
		codes[i] = c.String()
	}
	t.printf("  %s  %s (%s) %s\n", label, l.List, l.Zone, t.paint(dim, strings.Join(codes, " ")))
	if l.Meaning != "" {
		t.printf("    %s\n", t.wrap(l.Meaning, 4))
	}
	for _, r := range l.Reason {
		t.printf("    %s %s\n", t.paint(dim, "reason:"), t.wrap(r, 12))
	}
	if l.Status == dnsbl.StatusListed && l.DelistURL != "" {
		t.printf("    %s %s\n", t.paint(cyan, "delist:"), l.DelistURL)
	}
}

func (t *textWriter) blocklistZones(zones []blocklist.ZoneHealth) {
	var bad []blocklist.ZoneHealth
	for _, z := range zones {
		if z.Status != dnsbl.StatusClean {
			bad = append(bad, z)
		}
	}
	if len(bad) == 0 {
		return
	}
	t.section(fmt.Sprintf("LISTS THAT COULD NOT BE TRUSTED (%d)", len(bad)))
	for _, z := range bad {
		t.printf("  %s %s (%s)\n    %s\n", t.paint(yellow, string(z.Status)), z.List, z.Zone, t.wrap(z.Reason, 4))
		if z.Terms != "" {
			t.printf("    %s\n", t.paint(dim, t.wrap("terms: "+z.Terms, 4)))
		}
	}
}
