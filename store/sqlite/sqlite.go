// Package sqlite is mailtriage's embedded store: one SQLite file
// (modernc.org/sqlite, pure Go, no cgo) in WAL mode, written through one
// connection, with its schema in numbered migrations that are embedded in
// the binary and applied when the file is opened.
//
// The setup follows the measurements of the research notes
// (scale-clickhouse.md §6): WAL with synchronous=NORMAL (a commit does not
// wait for the disk; a crash loses at most the last commits, never the
// file's consistency), a busy timeout so a second mailtriage waits its turn
// instead of failing, and rollups maintained in the writing transaction
// (per day and source, per day, per lane and hour), so the summaries read
// the rollups, never the records or events, and always agree with them.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/store"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store in one SQLite file. It is safe for concurrent use;
// writes are serialised on its one connection.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
	put  putStmts
	ev   eventStmts
}

var _ store.Store = (*Store)(nil)

// DefaultPath is where the database lives when --db is not given:
// $MAILTRIAGE_DB, else $XDG_DATA_HOME/mailtriage/mailtriage.db, else
// ~/.local/share/mailtriage/mailtriage.db (the XDG base directory
// specification's default). getenv is os.Getenv outside tests.
func DefaultPath(getenv func(string) string) (string, error) {
	if p := getenv("MAILTRIAGE_DB"); p != "" {
		return p, nil
	}
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mailtriage", "mailtriage.db"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("no place for the database: set MAILTRIAGE_DB or give --db: %w", err)
		}
	}
	return filepath.Join(home, ".local", "share", "mailtriage", "mailtriage.db"), nil
}

// Open opens the database at path, creating it and its directory if
// needed, and applies the migrations it lacks.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if strings.ContainsRune(path, '?') {
		// The driver reads what follows a '?' as connection options.
		return nil, fmt.Errorf("database %s: a path with '?' is not supported", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	// One connection: SQLite has one writer at a time anyway, and a pool
	// would only turn that into SQLITE_BUSY waits between our own
	// connections. Immediate transactions take the write lock up front, so
	// a second process waits on busy_timeout rather than failing mid-way.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: path, now: time.Now}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.prepareEvents(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Path is the database's file name.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.put.report, s.put.name, s.put.day} {
		if st != nil {
			st.Close()
		}
	}
	s.put.records.close()
	s.put.rollup.close()
	s.closeEvents()
	return s.db.Close()
}

// Health runs SQLite's quick integrity check.
func (s *Store) Health(ctx context.Context) error {
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	if res != "ok" {
		return fmt.Errorf("database %s is damaged: %s", s.path, res)
	}
	return nil
}

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order. Their
// names are NNNN_what.sql; a gap or a repeated number is a build mistake.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql", e.Name())
		}
		b, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.name, i+1)
		}
	}
	return out, nil
}

// Migrate applies the migrations the database lacks, in order, each in its
// own transaction with its row in schema_migrations, so an interrupted
// upgrade resumes where it stopped.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version      INTEGER PRIMARY KEY,
		name         TEXT NOT NULL,
		applied_unix INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	applied := map[int]bool{}
	newest := 0
	err = s.each(ctx, "SELECT version FROM schema_migrations", nil, func(rows *sql.Rows) error {
		var v int
		if err := rows.Scan(&v); err != nil {
			return err
		}
		applied[v] = true
		newest = max(newest, v)
		return nil
	})
	if err != nil {
		return err
	}
	if newest > len(ms) {
		return fmt.Errorf("database %s has schema version %d, newer than this mailtriage knows (%d): use a newer mailtriage", s.path, newest, len(ms))
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("database %s: migration %s: %w", s.path, m.name, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_unix) VALUES (?, ?, ?)", m.version, m.name, s.now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// SchemaVersion is the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// Period lengths in seconds: the rollups' units.
const (
	hourSeconds = 3600
	daySeconds  = 86400
)

// unitOf is the number of the period of length unit (seconds) that t
// falls in, counted from the Unix epoch.
func unitOf(t time.Time, unit int64) int64 {
	s := t.Unix()
	n := s / unit
	if s < 0 && s%unit != 0 {
		n--
	}
	return n
}

// unixDay is the Unix day t falls on (days since 1970-01-01, UTC).
func unixDay(t time.Time) int64 { return unitOf(t, daySeconds) }

// reportDay is the Unix day an aggregate report counts on: the UTC day
// that holds the middle of its period. Receivers report by their own day,
// which begins before midnight UTC east of it (22:00 in UTC+2) and after
// it west of it: the middle of a day's report falls on that day either way
// (migration 5 says the same in SQL).
func reportDay(begin, end time.Time) int64 {
	b, e := begin.Unix(), end.Unix()
	return unixDay(time.Unix(b+(e-b)/2, 0))
}

// hourTime is the start of a Unix hour.
func hourTime(hour int64) time.Time { return time.Unix(hour*hourSeconds, 0).UTC() }

// dayTime is midnight UTC of a Unix day.
func dayTime(day int64) time.Time { return time.Unix(day*daySeconds, 0).UTC() }

// dayRange turns [since, until) into the half-open range of Unix days that
// overlap it; zero times leave a side open.
func dayRange(since, until time.Time) (from, to int64) { return unitRange(since, until, daySeconds) }

// unitRange turns [since, until) into the half-open range of periods of
// length unit that overlap it; zero times leave a side open.
func unitRange(since, until time.Time, unit int64) (from, to int64) {
	from, to = -1<<40, 1<<40 // open: far beyond any data, and still safe to multiply by a day
	if !since.IsZero() {
		from = unitOf(since, unit)
	}
	if !until.IsZero() {
		to = unitOf(until, unit)
		if until.Unix() > to*unit {
			to++ // until falls inside its period: that period overlaps
		}
	}
	return from, to
}
