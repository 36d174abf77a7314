// Package report renders an incident analysis (analysis.Result) for people
// and scripts: a terminal report to read in a minute, JSON whose field names
// are a contract, Markdown for tickets, and one self-contained HTML file
// with an SVG chart of the deferral rate per lane per hour.
package report

import (
	"encoding/json"
	"io"

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

// normalize returns a copy of r with nil lists made empty, at every level,
// so JSON shows [] rather than null and scripts need not tell the two apart.
func normalize(r *analysis.Result) *analysis.Result {
	c := *r
	c.Inputs = orEmpty(c.Inputs)
	c.Lanes = orEmpty(c.Lanes)
	for i := range c.Lanes {
		c.Lanes[i].Domains = orEmpty(c.Lanes[i].Domains)
	}
	c.Hourly = orEmpty(c.Hourly)
	c.HardBounces = orEmpty(c.HardBounces)
	c.Expired = orEmpty(c.Expired)
	for i := range c.Expired {
		c.Expired[i].Lanes = orEmpty(c.Expired[i].Lanes)
	}
	c.Responses = orEmpty(c.Responses)
	for i := range c.Responses {
		c.Responses[i].Lanes = orEmpty(c.Responses[i].Lanes)
	}
	c.Providers = orEmpty(c.Providers)
	for i := range c.Providers {
		c.Providers[i].Filters = orEmpty(c.Providers[i].Filters)
	}
	c.Streams = orEmpty(c.Streams)
	for i := range c.Streams {
		c.Streams[i].Lanes = orEmpty(c.Streams[i].Lanes)
	}
	c.Relays = orEmpty(c.Relays)
	c.Hosts = orEmpty(c.Hosts)
	for i := range c.Hosts {
		c.Hosts[i].Lanes = orEmpty(c.Hosts[i].Lanes)
	}
	c.Domains = orEmpty(c.Domains)
	for i := range c.Domains {
		c.Domains[i].Reply.Lanes = orEmpty(c.Domains[i].Reply.Lanes)
	}
	c.Incidents = orEmpty(c.Incidents)
	for i := range c.Incidents {
		c.Incidents[i].Reply.Lanes = orEmpty(c.Incidents[i].Reply.Lanes)
	}
	c.Findings = orEmpty(c.Findings)
	for i := range c.Findings {
		c.Findings[i].Evidence = orEmpty(c.Findings[i].Evidence)
	}
	c.ExpiredRecipients = orEmpty(c.ExpiredRecipients)
	c.PendingRecipients = orEmpty(c.PendingRecipients)
	return &c
}

// orEmpty returns a copy of s, never nil: an empty s (nil or not) gives an
// empty slice. Slices are copied before their elements are touched, so the
// caller's result stays as it was.
func orEmpty[T any](s []T) []T {
	return append([]T{}, s...)
}
