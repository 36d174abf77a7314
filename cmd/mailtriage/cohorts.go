package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/cohort"
	"github.com/mailtriage/mailtriage/internal/outfile"
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
	out := &cohortFiles{dir: o.outDir, order: cohort.Names(c.windows), files: map[string]*cohortFile{}}
	sink := func(string, string, string, time.Time) error { return nil }
	if o.outDir != "" {
		sink = out.write
	}
	s, err := cohort.Split(r, c.recipients, opts, sink)
	if err != nil {
		out.abort()
		if errors.Is(err, cohort.ErrColumns) {
			return nil, usagef("--recipients: %v (name the columns with --col-address, --col-click, ...)", err)
		}
		return nil, &codeError{code: exitError, err: err}
	}
	for _, sample := range s.Samples {
		e.log.Warn("recipients: unreadable date", "at", sample)
	}
	if s.BadRows > 0 {
		fmt.Fprintf(e.stderr, "mailtriage: --recipients: %d rows could not be read and are in no cohort; the first: %s\n", s.BadRows, s.RowSamples[0])
	}
	if s.BadDates > 0 {
		fmt.Fprintf(e.stderr, "mailtriage: --recipients: %d dates could not be read (those fields were left out); the first: %s\n", s.BadDates, s.Samples[0])
	}
	if s.Duplicates > 0 {
		fmt.Fprintf(e.stderr, "mailtriage: --recipients: %d duplicate addresses (the first row of each counts)\n", s.Duplicates)
	}
	paths, err := out.finish()
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	p.AddCohorts(s)
	for i := range p.Lanes {
		for j := range p.Lanes[i].Cohorts {
			p.Lanes[i].Cohorts[j].File = out.path(p.Lanes[i].Lane, p.Lanes[i].Cohorts[j].Name)
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

// readSuppress reads addresses not to mail: a list, one a line ("#"
// comments), or an export in any shape (any separator, the address in any
// column, with a display name): every address on a line is suppressed.
func readSuppress(path string) (map[string]bool, error) {
	set := map[string]bool{}
	if path == "" {
		return set, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("--suppress: %w", err)}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		// Spreadsheets start their CSV exports with a byte order mark.
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" \t,;\"'<>()[]", r) }) {
			if a, ok := cohort.Address(w); ok {
				set[a] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("--suppress %s: %w", path, err)}
	}
	return set, nil
}

func columnsFrom(flags map[string]*string) cohort.Columns {
	c := cohort.DefaultColumns()
	set := func(dst *[]string, v *string) {
		if v != nil && *v != "" {
			*dst = []string{*v}
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

// cohortFiles writes one CSV per lane and cohort under dir/cohorts, each
// to a temporary file renamed into place when all went well.
type cohortFiles struct {
	dir   string
	order []string
	files map[string]*cohortFile
}

type cohortFile struct {
	tmp  *os.File
	buf  *bufio.Writer
	csv  *csv.Writer
	path string
}

// path names a cohort's file: numbered in mailing order, or, for the
// recipients never mailed during the recovery (inactive, suppressed),
// "do-not-mail-...", so that a sender who takes every numbered file of
// the folder does not take them.
func (c *cohortFiles) path(laneName, cohortName string) string {
	if c.dir == "" {
		return ""
	}
	if cohortName == cohort.Inactive || cohortName == cohort.Suppressed {
		return filepath.Join(c.dir, "cohorts", laneName, "do-not-mail-"+cohortName+".csv")
	}
	n := slices.Index(c.order, cohortName) + 1
	return filepath.Join(c.dir, "cohorts", laneName, fmt.Sprintf("%02d-%s.csv", n, cohortName))
}

func (c *cohortFiles) write(laneName, cohortName, addr string, last time.Time) error {
	key := laneName + "/" + cohortName
	f := c.files[key]
	if f == nil {
		path := c.path(laneName, cohortName)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("--out-dir: %w", err)
		}
		tmp, err := outfile.Temp(path)
		if err != nil {
			return fmt.Errorf("--out-dir: %w", err)
		}
		f = &cohortFile{tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<16), path: path}
		f.csv = csv.NewWriter(f.buf)
		f.csv.Write([]string{"email", "last_engaged"})
		c.files[key] = f
	}
	day := ""
	if !last.IsZero() {
		day = last.Format("2006-01-02")
	}
	return f.csv.Write([]string{addr, day})
}

// finish flushes and renames every file into place.
func (c *cohortFiles) finish() ([]string, error) {
	var paths []string
	for _, f := range c.files {
		f.csv.Flush()
		err := f.csv.Error()
		if err == nil {
			err = f.buf.Flush()
		}
		if cerr := f.tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = outfile.Commit(f.tmp.Name(), f.path)
		}
		if err != nil {
			c.abort()
			return nil, fmt.Errorf("writing %s: %w", f.path, err)
		}
		paths = append(paths, f.path)
	}
	slices.Sort(paths)
	return paths, c.removeStale(paths)
}

// removeStale deletes the cohort files an earlier run left in the
// directory that this run did not write: a cohort now empty must not be
// mailed from last week's list.
func (c *cohortFiles) removeStale(written []string) error {
	if c.dir == "" {
		return nil
	}
	var old []string
	for _, pattern := range []string{"[0-9][0-9]-*.csv", "do-not-mail-*.csv"} {
		found, err := filepath.Glob(filepath.Join(c.dir, "cohorts", "*", pattern))
		if err != nil {
			return err
		}
		old = append(old, found...)
	}
	for _, f := range old {
		if !slices.Contains(written, f) {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("removing the stale cohort file %s: %w", f, err)
			}
		}
	}
	return nil
}

// abort removes the temporary files: nothing is left half-written.
func (c *cohortFiles) abort() {
	for _, f := range c.files {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
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
