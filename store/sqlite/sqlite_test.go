package sqlite

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/dmarcreport"
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

// TestReportDayMigration: migration 5 moves the reports an earlier
// version counted on the UTC day their period begins to the day that holds
// its middle, and rebuilds the rollups to match: the database answers as if
// the reports had been imported anew.
func TestReportDayMigration(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for i := range 60 {
		r := benchReport(i)
		// A reporter in UTC+2: its day begins at 22:00 UTC the day before.
		r.Begin, r.End = r.Begin.Add(-2*time.Hour), r.End.Add(-2*time.Hour+time.Second)
		r.Records[1].Disposition, r.Records[2].Disposition = "quarantine", "reject"
		if _, err := s.PutAggregateReport(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	q := store.DMARCQuery{Domain: "example1.com", Since: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)}
	days, err := s.DMARCDaily(ctx, q)
	if err != nil || len(days) == 0 || days[0].Day.Day() != 11 {
		t.Fatalf("DMARCDaily: %+v, %v; want the days from January 11 (the report of January 11 begins on the 10th at 22:00 UTC)", days, err)
	}
	srcs, err := s.DMARCSources(ctx, q)
	if err != nil || len(srcs) == 0 {
		t.Fatalf("DMARCSources: %v, %v", srcs, err)
	}
	// The database as an earlier version wrote it: every report a day
	// early. (Shifted in two steps, so that no row meets another's key.)
	for _, table := range []string{"dmarc_reports", "dmarc_source_days", "dmarc_days"} {
		if _, err := s.db.Exec("UPDATE " + table + " SET day = day + 1000000"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec("UPDATE " + table + " SET day = day - 1000001"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.Exec("DELETE FROM schema_migrations WHERE version = 5"); err != nil {
		t.Fatal(err)
	}
	if old, _ := s.DMARCDaily(ctx, q); reflect.DeepEqual(old, days) {
		t.Fatal("the shift to the old days did not take")
	}
	path := s.Path()
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if again, err := s.DMARCDaily(ctx, q); err != nil || !reflect.DeepEqual(again, days) {
		t.Errorf("days after the migration (%v):\n%+v\nwant:\n%+v", err, again[:min(len(again), 3)], days[:3])
	}
	if again, err := s.DMARCSources(ctx, q); err != nil || !reflect.DeepEqual(again, srcs) {
		t.Errorf("sources after the migration (%v):\n%+v\nwant:\n%+v", err, again[:min(len(again), 3)], srcs[:3])
	}
}

// TestFailureDomainMigration: migration 6 gives the failure reports an
// earlier version kept without a Reported-Domain the domain of their
// message's From.
func TestFailureDomainMigration(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	f := &dmarcreport.Failure{FeedbackType: "auth-failure", From: "ceo@Example.com", MessageID: "m1@example.com",
		Arrival: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	if _, err := s.PutFailureReport(ctx, f); err != nil {
		t.Fatal(err)
	}
	q := store.DMARCQuery{Domain: "example.com"}
	if c, err := s.DMARCCounts(ctx, q); err != nil || c.Failures != 1 {
		t.Fatalf("failures of example.com: %+v, %v; want 1", c, err)
	}
	// As an earlier version kept it.
	s = migrateAgain(t, s, 6, "UPDATE dmarc_failures SET reported_domain = ''")
	if c, err := s.DMARCCounts(ctx, q); err != nil || c.Failures != 1 {
		t.Errorf("failures of example.com after the migration: %+v, %v; want 1", c, err)
	}
}

// TestDamagedSums: rows whose sums overflow int64 (written by an older
// mailtriage, before counts were capped: SQLite's integer + overflows into
// a REAL) never make a summary fail; the sums stop at store.MaxSum.
func TestDamagedSums(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	const big = "9200000000000000000"
	for _, q := range []string{
		`INSERT INTO dmarc_source_days VALUES ('example.com', 20000, '192.0.2.1', 1, ` + big + `, ` + big + `, 0, 0, 0, 0, 0)`,
		`INSERT INTO dmarc_source_days VALUES ('example.com', 20001, '192.0.2.1', 1, ` + big + `, ` + big + `, 0, 0, 0, 0, 0)`,
		`INSERT INTO dmarc_source_days VALUES ('example.com', 20002, '192.0.2.1', 1, 1.84e19, 1.84e19, 0, 0, 0, 0, 0)`,
		`INSERT INTO dmarc_days VALUES ('example.com', 20000, 1, ` + big + `, ` + big + `)`,
		`INSERT INTO dmarc_days VALUES ('example.com', 20001, 1, 1.84e19, 1.84e19)`,
		`INSERT INTO tls_reports VALUES (1, 'o', 'a', 1728000000, 1728086399, '', 0), (2, 'o', 'b', 1728000000, 1728086399, '', 1)`,
		`INSERT INTO tls_policies VALUES (1, 0, 'sts', 'example.com', '[]', '[]', ` + big + `, 0), (2, 0, 'sts', 'example.com', '[]', '[]', ` + big + `, 0)`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	src, err := s.DMARCSources(ctx, store.DMARCQuery{})
	if err != nil || len(src) != 1 || src[0].Messages != store.MaxSum || src[0].BothPass != store.MaxSum {
		t.Errorf("DMARCSources = %+v, %v; want one source at MaxSum", src, err)
	}
	days, err := s.DMARCDaily(ctx, store.DMARCQuery{})
	if err != nil || len(days) != 2 || days[1].Messages != store.MaxSum {
		t.Errorf("DMARCDaily = %+v, %v", days, err)
	}
	if c, err := s.DMARCCounts(ctx, store.DMARCQuery{}); err != nil || c.Messages != store.MaxSum {
		t.Errorf("DMARCCounts = %+v, %v", c, err)
	}
	tls, err := s.TLSSummary(ctx, store.TLSQuery{})
	if err != nil || len(tls) != 1 || tls[0].Successes != store.MaxSum {
		t.Errorf("TLSSummary = %+v, %v", tls, err)
	}
	// A report on top of a rollup at the limit leaves it an integer.
	r := benchReport(0)
	r.Begin, r.End = dayTime(20000), dayTime(20000).Add(time.Hour)
	r.Policy.Domain = "example.com"
	r.Records = r.Records[:1]
	r.Records[0].SourceIP = netip.MustParseAddr("192.0.2.1")
	if _, err := s.PutAggregateReport(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	var typ string
	if err := s.db.QueryRowContext(ctx, `SELECT typeof(messages) FROM dmarc_source_days WHERE day = 20000`).Scan(&typ); err != nil || typ != "integer" {
		t.Errorf("the rollup holds a %s, %v; want an integer", typ, err)
	}
}

// TestDiscardedMigration: migration 7 widens the events' status CHECK to
// Discarded and keeps the events already stored; a status past it is
// still refused.
func TestDiscardedMigration(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ev := func(status mailtriage.Status) mailtriage.Event {
		return mailtriage.Event{Kind: mailtriage.Final, Status: status, Time: at, Source: "postfix", Host: "mx1", QueueID: "4Q1",
			Recipient: "a@example.net", Domain: "example.net", Lane: "other"}
	}
	if added, err := s.AppendEvents(ctx, store.EventBatch{ID: "a", Events: []mailtriage.Event{ev(mailtriage.Delivered), ev(mailtriage.Discarded)}}); err != nil || !added {
		t.Fatalf("a discarded recipient's event: %v, %v", added, err)
	}
	// Migration 7 again, as on a database an earlier version wrote.
	s = migrateAgain(t, s, 7, "")
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM delivery_events WHERE status = ?", int(mailtriage.Discarded)).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d discarded events after the migration, %v; want 1", n, err)
	}
	if _, err := s.AppendEvents(ctx, store.EventBatch{ID: "b", Events: []mailtriage.Event{ev(mailtriage.Discarded + 1)}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a status past Discarded: %v, want ErrInvalid", err)
	}
}

// migrateAgain makes s's database look as an earlier version left it (the
// statements in before, then migration version not applied) and opens it
// again, so that the migration runs on it. The store it returns is closed
// at the end of the test; s is closed.
func migrateAgain(t *testing.T, s *Store, version int, before string) *Store {
	t.Helper()
	if before != "" {
		if _, err := s.db.Exec(before); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.Exec("DELETE FROM schema_migrations WHERE version = ?", version); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	again, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	return again
}
