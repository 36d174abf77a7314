package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/store"
	"github.com/mailtriage/mailtriage/store/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "mailtriage.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Suite{
		New: func(t *testing.T) store.Store { return openTemp(t) },
		Reopen: func(t *testing.T, st store.Store) store.Store {
			path := st.(*Store).Path()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}.Run(t)
}

// TestMigrations: every embedded migration is applied once, in order, and
// reopening applies none again.
func TestMigrations(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	s := openTemp(t)
	ctx := context.Background()
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(ms) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(ms))
	}
	path := s.Path()
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Errorf("%d rows in schema_migrations, %v; want %d", n, err, len(ms))
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
}

// TestNewerSchema: a database from a newer mailtriage is refused, not
// written to.
func TestNewerSchema(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	if _, err := s.db.Exec("INSERT INTO schema_migrations (version, name, applied_unix) VALUES (99, '0099_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(context.Background(), path); err == nil {
		s.Close()
		t.Fatal("opened a database of schema version 99")
	}
}

func TestDefaultPath(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MAILTRIAGE_DB": "/srv/m.db", "XDG_DATA_HOME": "/x", "HOME": "/home/a"}, "/srv/m.db"},
		{map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/home/a"}, "/x/mailtriage/mailtriage.db"},
		// The XDG specification ignores a relative XDG_DATA_HOME.
		{map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/home/a"}, "/home/a/.local/share/mailtriage/mailtriage.db"},
		{map[string]string{"HOME": "/home/a"}, "/home/a/.local/share/mailtriage/mailtriage.db"},
	} {
		got, err := DefaultPath(env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("DefaultPath(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", filepath.Join(file, "m.db"), filepath.Join(dir, "a?b.db"), file} {
		if s, err := Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestDaysBackfill: migration 3 fills the per-day rollup from the reports
// a database already holds.
func TestDaysBackfill(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for i := range 50 {
		if _, err := s.PutAggregateReport(ctx, benchReport(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	q := store.DMARCQuery{Domain: "example1.com"}
	days, err := s.DMARCDaily(ctx, q)
	if err != nil || len(days) == 0 {
		t.Fatalf("DMARCDaily: %v, %v", days, err)
	}
	counts, _ := s.DMARCCounts(ctx, store.DMARCQuery{})
	if _, err := s.db.Exec("DROP TABLE dmarc_days; DELETE FROM schema_migrations WHERE version = 3"); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	again, err := s.DMARCDaily(ctx, q)
	if err != nil || !reflect.DeepEqual(days, again) {
		t.Errorf("after the backfill:\n%+v\nbefore:\n%+v", again, days)
	}
	if c, _ := s.DMARCCounts(ctx, store.DMARCQuery{}); c != counts || c.Reports != 50 {
		t.Errorf("counts %+v after the backfill, %+v before", c, counts)
	}
}
