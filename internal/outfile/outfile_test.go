package outfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrite: a new file appears whole with the usual mode; a file written
// over keeps its mode; a link stays a link, and the file it points to gets
// the data; no temporary file is left behind.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "report.json")
	if err := Write(fresh, []byte("one")); err != nil {
		t.Fatal(err)
	}
	checkFile(t, fresh, "one", 0o644)

	private := filepath.Join(dir, "private.json")
	os.WriteFile(private, []byte("old"), 0o600)
	if err := Write(private, []byte("two")); err != nil {
		t.Fatal(err)
	}
	checkFile(t, private, "two", 0o600)

	link := filepath.Join(dir, "latest.json")
	if err := os.Symlink(private, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := Write(link, []byte("three")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a link: %v", link, err)
	}
	checkFile(t, private, "three", 0o600)

	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func checkFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != data {
		t.Errorf("%s holds %q (%v), want %q", path, b, err, data)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != mode {
		t.Errorf("%s: mode %v (%v), want %v", path, st.Mode().Perm(), err, mode)
	}
}

// TestCheckWritable: a folder, and a folder that does not exist, are
// refused before any work, naming the path and what is wrong.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("a file in a writable folder: %v", err)
	}
	if err := CheckWritable(dir); !errors.Is(err, ErrIsDir) || !strings.Contains(err.Error(), dir) {
		t.Errorf("a folder: %v", err)
	}
	missing := filepath.Join(dir, "no", "such", "report.html")
	if err := CheckWritable(missing); err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err == nil {
		t.Error("CheckWritable left a file")
	}
}

// TestWriteDanglingLink: a link to a file not yet there stays a link, and
// the report is made where it points, as "> link" makes it.
func TestWriteDanglingLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "latest.html")
	if err := os.Symlink("reports/today.html", link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	os.Mkdir(filepath.Join(dir, "reports"), 0o755)
	if err := Write(link, []byte("report")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a link: %v", link, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "reports", "today.html")); err != nil || string(b) != "report" {
		t.Errorf("the link's target holds %q, %v", b, err)
	}
}

// TestWriteLinkLoop: links that point at each other are refused, as
// "> link" refuses them (ELOOP), and both stay links: none is replaced by
// the report.
func TestWriteLinkLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.html"), filepath.Join(dir, "b.html")
	if err := os.Symlink("b.html", a); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	os.Symlink("a.html", b)
	if err := CheckWritable(a); err == nil || !strings.Contains(err.Error(), a) {
		t.Errorf("CheckWritable: %v, want an error naming %s", err, a)
	}
	if err := Write(a, []byte("report")); err == nil || !strings.Contains(err.Error(), a) {
		t.Errorf("Write: %v, want an error naming %s", err, a)
	}
	for _, l := range []string{a, b} {
		if st, err := os.Lstat(l); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", l, err)
		}
	}
}
