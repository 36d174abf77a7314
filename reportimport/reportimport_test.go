package reportimport

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/reportfile"
	"github.com/mailtriage/mailtriage/store"
	"github.com/mailtriage/mailtriage/store/sqlite"
)

const corpus = "../testdata/dmarc-reports"

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// failures records what Failed is told.
type failures struct {
	mu    sync.Mutex
	names []string
}

func (f *failures) add(name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names = append(f.names, filepath.Base(name)+": "+err.Error())
}

// TestRun: every kind of report is counted by kind; a second import of the
// same files finds only duplicates; an unreadable file is a failure, and
// the others still go in.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"aggregate/rfc9990-sample.xml",
		"aggregate/ikea.com!example.de!1538690400!1538776800.xml",
		"failure/dmarc_ruf_report_linkedin.eml",
		"smtp-tls/rfc8460.json",
	} {
		data, err := os.ReadFile(filepath.Join(corpus, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := open(t)
	run := func() (Counts, []string) {
		var f failures
		im := &Importer{Store: st, Failed: f.add}
		walkErr, fatal := im.Run(context.Background(), &reportfile.Walker{}, []string{dir})
		if walkErr != nil || fatal != nil {
			t.Fatalf("walk %v, fatal %v", walkErr, fatal)
		}
		return im.Counts(), f.names
	}
	c, failed := run()
	if want := (Counts{Imported: 4, Aggregate: 2, Failure: 1, TLS: 1, Failed: 1}); c != want {
		t.Errorf("first import %+v, want %+v", c, want)
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "notes.txt: ") {
		t.Errorf("failures %q, want notes.txt's", failed)
	}
	if c, _ := run(); c != (Counts{Duplicates: 4, Failed: 1}) {
		t.Errorf("second import %+v, want 4 duplicates and the failure", c)
	}
}

// TestStoreRefusal: a report the parser let through but the store refuses
// (a negative count) is a failed input, not the end of the import.
func TestStoreRefusal(t *testing.T) {
	var f failures
	im := &Importer{Store: open(t), Failed: f.add}
	bad := &dmarcreport.Aggregate{Org: "x", ReportID: "1", Begin: time.Unix(0, 0), End: time.Unix(86399, 0),
		Records: []dmarcreport.Record{{SourceIP: netip.MustParseAddr("192.0.2.1"), Count: -1}}}
	if err := im.write(context.Background(), []named{{Item: reportfile.Item{Source: "bad.xml", Aggregate: bad}}}); err != nil {
		t.Fatalf("put stopped the import: %v", err)
	}
	if c := im.Counts(); c.Failed != 1 || c.Imported != 0 || len(f.names) != 1 || !strings.Contains(f.names[0], "bad.xml: store: invalid report") {
		t.Errorf("counts %+v, failures %q", c, f.names)
	}
}

// brokenStore fails every write, as a full disk does.
type brokenStore struct{ Store }

var errDiskFull = errors.New("disk full")

func (brokenStore) PutAggregateReports(context.Context, []store.AggregateInput) ([]store.PutResult, error) {
	return nil, errDiskFull
}

// TestStoreFailureStops: a store that cannot write ends the import with
// its error, naming the report it was writing, and the walk stops.
func TestStoreFailureStops(t *testing.T) {
	im := &Importer{Store: brokenStore{open(t)}}
	_, fatal := im.Run(context.Background(), &reportfile.Walker{}, []string{filepath.Join(corpus, "aggregate", "rfc9990-sample.xml")})
	if !errors.Is(fatal, errDiskFull) || !strings.Contains(fatal.Error(), "rfc9990-sample.xml") {
		t.Errorf("fatal %v, want the store's error naming the report", fatal)
	}
	if c := im.Counts(); c.Imported != 0 {
		t.Errorf("counts %+v", c)
	}
}
