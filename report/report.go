// Package report renders an incident analysis (analysis.Result) for people
// and scripts: a terminal report to read in a minute, JSON whose field names
// are a contract, Markdown for tickets, and one self-contained HTML file
// with an SVG chart of the deferral rate per lane per hour.
package report

import (
	"encoding/json"
	"io"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
)

// Options shape the human formats.
type Options struct {
	// Color uses ANSI colours in the text report.
	Color bool
	// Width is the terminal width for the text report; 0 means 100.
	Width int
	// Limit caps the rows of long tables; 0 means 12.
	Limit int
}

func (o Options) limit() int {
	if o.Limit <= 0 {
		return 12
	}
	return o.Limit
}

// JSON writes the result as indented JSON.
func JSON(w io.Writer, r *analysis.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // reply texts quote <addresses>; keep them readable
	return enc.Encode(normalize(r))
}

// normalize returns r with nil slices made empty, so JSON shows [] rather
// than null and scripts need not tell the two apart.
func normalize(r *analysis.Result) *analysis.Result {
	c := *r
	if c.Inputs == nil {
		c.Inputs = []analysis.Input{}
	}
	if c.Lanes == nil {
		c.Lanes = []analysis.LaneStats{}
	}
	if c.Hourly == nil {
		c.Hourly = []analysis.HourStats{}
	}
	if c.Expired == nil {
		c.Expired = []analysis.ExpiredGroup{}
	}
	if c.Responses == nil {
		c.Responses = []analysis.Response{}
	}
	if c.Providers == nil {
		c.Providers = []analysis.ProviderStats{}
	}
	if c.Streams == nil {
		c.Streams = []analysis.StreamStats{}
	}
	if c.Relays == nil {
		c.Relays = []analysis.RelayStats{}
	}
	if c.Incidents == nil {
		c.Incidents = []analysis.Incident{}
	}
	if c.Findings == nil {
		c.Findings = []mailtriage.Finding{}
	}
	return &c
}
