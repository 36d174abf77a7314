package cohort

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mailtriage/mailtriage/internal/outfile"
)

// Files writes a split's cohorts as one CSV per lane and cohort
// (email,last_engaged) under dir/cohorts/LANE/: numbered in mailing order
// ("01-engaged-30d.csv"), and "do-not-mail-inactive.csv" and
// "do-not-mail-suppressed.csv" for the recipients the recovery leaves
// out, so that a sender who takes every numbered file does not take
// them. Each file is written to a temporary one, renamed into place by
// Finish: it appears whole or not at all. Its Write is a Sink.
type Files struct {
	dir   string
	order []string // the cohorts' names in mailing order
	files map[string]*file
}

type file struct {
	tmp  *os.File
	buf  *bufio.Writer
	csv  *csv.Writer
	path string
}

// NewFiles returns the writer of the cohorts of windows under dir; with
// dir "" it names and writes nothing.
func NewFiles(dir string, windows []int) *Files {
	return &Files{dir: dir, order: Names(windows), files: map[string]*file{}}
}

// Path names the file of a lane's cohort, "" when there is no dir.
func (c *Files) Path(lane, cohort string) string {
	if c.dir == "" {
		return ""
	}
	if cohort == Inactive || cohort == Suppressed {
		return filepath.Join(c.dir, "cohorts", lane, "do-not-mail-"+cohort+".csv")
	}
	n := slices.Index(c.order, cohort) + 1
	return filepath.Join(c.dir, "cohorts", lane, fmt.Sprintf("%02d-%s.csv", n, cohort))
}

// Write adds a recipient to its lane's cohort file.
func (c *Files) Write(lane, cohort, addr string, last time.Time) error {
	if c.dir == "" {
		return nil
	}
	key := lane + "/" + cohort
	f := c.files[key]
	if f == nil {
		var err error
		if f, err = create(c.Path(lane, cohort)); err != nil {
			return err
		}
		c.files[key] = f
	}
	day := ""
	if !last.IsZero() {
		day = last.Format("2006-01-02")
	}
	return f.csv.Write([]string{addr, day})
}

// create starts a cohort file, in a temporary file beside path.
func create(path string) (*file, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	tmp, err := outfile.Temp(path)
	if err != nil {
		return nil, err
	}
	f := &file{tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<16), path: path}
	f.csv = csv.NewWriter(f.buf)
	f.csv.Write([]string{"email", "last_engaged"})
	return f, nil
}

// Finish puts every file in place and returns their paths, sorted. The
// cohort files an earlier split left that this one did not write are
// removed: a cohort now empty must not be mailed from last week's list.
func (c *Files) Finish() ([]string, error) {
	var paths []string
	for _, f := range c.files {
		if err := f.commit(); err != nil {
			c.Abort()
			return nil, fmt.Errorf("writing %s: %w", f.path, err)
		}
		paths = append(paths, f.path)
	}
	slices.Sort(paths)
	return paths, c.removeStale(paths)
}

func (f *file) commit() error {
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
	return err
}

// removeStale deletes the cohort files under dir that are not in written.
func (c *Files) removeStale(written []string) error {
	if c.dir == "" {
		return nil
	}
	old, err := Existing(c.dir)
	if err != nil {
		return err
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

// Existing lists the cohort files a split left under dir, sorted.
func Existing(dir string) ([]string, error) {
	var found []string
	for _, pattern := range []string{"[0-9][0-9]-*.csv", "do-not-mail-*.csv"} {
		f, err := filepath.Glob(filepath.Join(dir, "cohorts", "*", pattern))
		if err != nil {
			return nil, err
		}
		found = append(found, f...)
	}
	slices.Sort(found)
	return found, nil
}

// Abort removes the temporary files: nothing is left half-written.
func (c *Files) Abort() {
	for _, f := range c.files {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
}
