package dmarcgen

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/reportfile"
)

// TestGeneratedParse: what Write writes parses back with reportfile.Walk,
// one report per file, in every shape and container.
func TestGeneratedParse(t *testing.T) {
	const n = 300
	dir := t.TempDir()
	if err := Write(dir, n, 7); err != nil {
		t.Fatal(err)
	}
	var found int
	orgs := map[string]int{}
	shapes := map[string]int{}
	containers := map[string]int{}
	ips := map[string]int{}
	keys := map[dmarcreport.Key]bool{}
	err := reportfile.Walk(context.Background(), []string{dir}, func(it reportfile.Item) error {
		found++
		a := it.Aggregate
		if a == nil {
			t.Fatalf("%s: not an aggregate report", it.Source)
		}
		if len(a.Records) < 1 || len(a.Records) > 40 {
			t.Errorf("%s: %d records", it.Source, len(a.Records))
		}
		if keys[a.Key()] {
			t.Errorf("%s: a report with the same key as another", it.Source)
		}
		keys[a.Key()] = true
		orgs[a.Org]++
		shapes[a.Namespace]++
		switch {
		case strings.Contains(it.Source, ".zip!"):
			containers["zip"]++
		case strings.HasSuffix(it.Source, ".xml.gz"):
			containers["gzip"]++
		case strings.HasSuffix(it.Source, ".xml"):
			containers["xml"]++
		}
		for _, r := range a.Records {
			first, _, _ := strings.Cut(r.SourceIP.String(), ".")
			ips[first]++
			// A receiver applies the policy only to failing mail.
			if r.DMARCPass() && r.Disposition != "none" {
				t.Errorf("%s: %+v", it.Source, r)
			}
		}
		return nil
	}, func(name string, err error) { t.Errorf("%s: %v", name, err) })
	if err != nil {
		t.Fatal(err)
	}
	if found != n {
		t.Errorf("found %d reports, want %d", found, n)
	}
	for _, org := range []string{"google.com", "Yahoo", "Enterprise Outlook", "Mail.Ru"} {
		if orgs[org] == 0 {
			t.Errorf("no report from %s: %v", org, orgs)
		}
	}
	if shapes[""] == 0 || shapes[dmarcreport.Namespace2] == 0 {
		t.Errorf("shapes: %v", shapes)
	}
	if containers["zip"] == 0 || containers["gzip"] == 0 || containers["xml"] == 0 {
		t.Errorf("sources: %v", containers)
	}
	for _, first := range []string{"209", "40", "167", "54", "198"} {
		if ips[first] == 0 {
			t.Errorf("no source in %s.x: %v", first, ips)
		}
	}
}

// TestDeterministic: the same seed writes the same files.
func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := Write(dir, 20, 42); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := os.ReadDir(a)
	if len(files) != 20 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		x, _ := os.ReadFile(filepath.Join(a, f.Name()))
		y, err := os.ReadFile(filepath.Join(b, f.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs (%v)", f.Name(), err)
		}
	}
}
