package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/cohort"
	"github.com/mailtriage/mailtriage/internal/numfmt"
	"github.com/mailtriage/mailtriage/plan"
)

// cohortOptions are plan's flags for the recipient list.
type cohortOptions struct {
	recipients string
	suppress   string
	windows    []int
	asOf       string
	cols       map[string]*string
}

// splitRecipients reads --recipients, puts the cohorts into the plan and,
// with --out-dir, writes one CSV per lane and cohort. Files appear whole
// or not at all. Suppressed are the --suppress addresses and the
// analysis's hard bounces.
func splitRecipients(e *env, o *planOptions, p *plan.Plan, hardBounces []string) ([]string, error) {
	c := &o.cohorts
	asOf := time.Now().UTC()
	if c.asOf != "" {
		t, err := time.Parse("2006-01-02", c.asOf)
		if err != nil {
			return nil, usagef("--as-of %q: want a date, 2026-12-01", c.asOf)
		}
		asOf = t
	}
	suppressed, err := readSuppress(c.suppress)
	if err != nil {
		return nil, err
	}
	// The logs' own hard bounces (user unknown, host unknown, moved,
	// disabled) are suppressed too.
	for _, a := range hardBounces {
		suppressed[strings.ToLower(a)] = true
	}
	f, err := os.Open(c.recipients)
	if err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("--recipients: %w", err)}
	}
	defer f.Close()
	var r io.Reader = f
	if isTerminal(e.stderr) {
		if st, err := f.Stat(); err == nil {
			prog := newProgress(e.stderr)
			defer prog.done()
			r = &countingReader{r: f, update: func(n int64) { prog.update(c.recipients, n, st.Size()) }}
		}
	}
	laneOf, err := planLanes(p, o.lanesFile)
	if err != nil {
		return nil, err
	}
	opts := cohort.Options{Columns: columnsFrom(c.cols), Windows: c.windows, AsOf: asOf, LaneOf: laneOf,
		OpensIgnored: map[string]bool{"icloud.com": true, "me.com": true, "mac.com": true, "privaterelay.appleid.com": true},
		Suppressed:   func(a string) bool { return suppressed[a] }}
	out := cohort.NewFiles(o.outDir, c.windows)
	sink := func(lane, name, addr string, last time.Time) error {
		if err := out.Write(lane, name, addr, last); err != nil {
			return fmt.Errorf("--out-dir: %w", err)
		}
		return nil
	}
	s, err := cohort.Split(r, c.recipients, opts, sink)
	if err != nil {
		out.Abort()
		if errors.Is(err, cohort.ErrColumns) {
			return nil, usagef("--recipients: %v (name the columns with --col-address, --col-click, ...)", err)
		}
		return nil, &codeError{code: exitError, err: err}
	}
	for _, sample := range s.Samples {
		e.log.Debug("recipients: unreadable date", "at", sample) // the count and the first follow, on stderr
	}
	if s.BadRows > 0 {
		fmt.Fprintf(e.stderr, "mailtriage: --recipients: %s could not be read (in no cohort); the first: %s\n", numfmt.Count(int64(s.BadRows), "row"), s.RowSamples[0])
	}
	if s.BadDates > 0 {
		fmt.Fprintf(e.stderr, "mailtriage: --recipients: %s could not be read (those fields were left out); the first: %s\n", numfmt.Count(int64(s.BadDates), "date"), s.Samples[0])
	}
	if s.Duplicates > 0 {
		dups := numfmt.Thousands(int64(s.Duplicates)) + " duplicate addresses"
		if s.Duplicates == 1 {
			dups = "1 duplicate address"
		}
		fmt.Fprintf(e.stderr, "mailtriage: --recipients: %s (the first row of each counts)\n", dups)
	}
	paths, err := out.Finish()
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	p.AddCohorts(s)
	for i := range p.Lanes {
		for j := range p.Lanes[i].Cohorts {
			p.Lanes[i].Cohorts[j].File = out.Path(p.Lanes[i].Lane, p.Lanes[i].Cohorts[j].Name)
		}
	}
	return paths, nil
}

// planLanes maps a recipient domain to its lane when the plan restarts
// that lane.
func planLanes(p *plan.Plan, lanesFile string) (func(string) string, error) {
	_, table, err := catalogAndLanes(lanesFile)
	if err != nil {
		return nil, err
	}
	restarted := map[string]bool{}
	known := map[string]string{}
	for _, l := range p.Lanes {
		restarted[l.Lane] = true
		for _, d := range l.Domains {
			known[d] = l.Lane
		}
	}
	return func(domain string) string {
		if l, ok := known[domain]; ok {
			return l
		}
		if l := table.Lane(domain, ""); restarted[l] {
			return l
		}
		return ""
	}, nil
}

// readSuppress reads --suppress (see cohort.ReadSuppression).
func readSuppress(path string) (map[string]bool, error) {
	if path == "" {
		return map[string]bool{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("--suppress: %w", err)}
	}
	defer f.Close()
	set, err := cohort.ReadSuppression(f)
	if err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("--suppress %s: %w", path, err)}
	}
	return set, nil
}

func columnsFrom(flags map[string]*string) cohort.Columns {
	c := cohort.DefaultColumns()
	set := func(dst *[]string, v *string) {
		if v != nil && *v != "" {
			*dst = []string{*v}
			c.Required = append(c.Required, *v)
		}
	}
	set(&c.Address, flags["address"])
	set(&c.Open, flags["open"])
	set(&c.Click, flags["click"])
	set(&c.Purchase, flags["purchase"])
	set(&c.Reply, flags["reply"])
	set(&c.Login, flags["login"])
	return c
}

// countingReader reports how much was read.
type countingReader struct {
	r      io.Reader
	n      int64
	update func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.update(c.n)
	return n, err
}
