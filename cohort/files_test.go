package cohort

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestFiles: each lane's cohorts become files numbered in mailing order,
// the ones not to mail named so; a file appears only at Finish, and one an
// earlier split left that this one did not write is removed.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "cohorts", "apple", "03-engaged-180d.csv")
	mine := filepath.Join(dir, "cohorts", "apple", "notes.txt")
	for _, p := range []string{stale, mine} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("old\n"), 0o644)
	}
	fs := NewFiles(dir, []int{30, 90, 180})
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for _, w := range []struct{ lane, cohort, addr string }{
		{"apple", "engaged-30d", "a@icloud.com"},
		{"apple", "engaged-90d", "b@icloud.com"},
		{"apple", "engaged-30d", "c@me.com"},
		{"apple", Suppressed, "gone@icloud.com"},
		{"yahoo", Inactive, "old@yahoo.com"},
	} {
		if err := fs.Write(w.lane, w.cohort, w.addr, day); err != nil {
			t.Fatal(err)
		}
	}
	first := filepath.Join(dir, "cohorts", "apple", "01-engaged-30d.csv")
	if _, err := os.Stat(first); err == nil {
		t.Error("a cohort file is in place before Finish")
	}
	paths, err := fs.Finish()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{first,
		filepath.Join(dir, "cohorts", "apple", "02-engaged-90d.csv"),
		filepath.Join(dir, "cohorts", "apple", "do-not-mail-suppressed.csv"),
		filepath.Join(dir, "cohorts", "yahoo", "do-not-mail-inactive.csv"),
	}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if b, _ := os.ReadFile(first); string(b) != "email,last_engaged\na@icloud.com,2026-11-02\nc@me.com,2026-11-02\n" {
		t.Errorf("%s:\n%s", first, b)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale cohort file is still there")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file that is not a cohort's was removed: %v", err)
	}
}

// TestFilesAbort: an aborted split leaves nothing behind, not even the
// folders' temporary files.
func TestFilesAbort(t *testing.T) {
	dir := t.TempDir()
	fs := NewFiles(dir, []int{30})
	if err := fs.Write("apple", "engaged-30d", "a@icloud.com", time.Time{}); err != nil {
		t.Fatal(err)
	}
	fs.Abort()
	left, _ := filepath.Glob(filepath.Join(dir, "cohorts", "apple", "*"))
	if len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
}

// TestFilesNoDir: without a folder nothing is named or written.
func TestFilesNoDir(t *testing.T) {
	fs := NewFiles("", []int{30})
	if err := fs.Write("apple", "engaged-30d", "a@icloud.com", time.Time{}); err != nil || fs.Path("apple", "engaged-30d") != "" {
		t.Errorf("write %v, path %q", err, fs.Path("apple", "engaged-30d"))
	}
	if paths, err := fs.Finish(); err != nil || len(paths) != 0 {
		t.Errorf("finish %q, %v", paths, err)
	}
}
