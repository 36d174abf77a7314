//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const outLog = "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n" +
	"2026-11-30T10:00:01+00:00 mta1 postfix/smtp[2]: 4F1A22C0B3: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)\n"

// TestOutNotRegular: --out /dev/stdout, --out /dev/null or a named pipe
// is written to, not replaced by a new file (which, as root, would put a
// regular file in place of /dev/stdout); --out through a symbolic link
// replaces the file it points to and leaves the link.
func TestOutNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "report.pipe")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	code, _, errs := mt(t, outLog, "analyze", "--out", fifo)
	if code != exitOK {
		t.Errorf("--out a named pipe: exit %d, stderr %q", code, errs)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("--out a named pipe replaced it: %v %v", st.Mode(), err)
		os.WriteFile(fifo, nil, 0o600) // let the reader end
	}
	select {
	case r := <-got:
		if !strings.Contains(r, "mailtriage analyze") {
			t.Errorf("the pipe got %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Error("nothing came through the pipe")
	}

	target := filepath.Join(dir, "reports", "today.txt")
	os.Mkdir(filepath.Dir(target), 0o755)
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "latest.txt")
	os.Symlink(target, link)
	if code, _, errs := mt(t, outLog, "analyze", "--out", link); code != exitOK {
		t.Errorf("--out a link: exit %d, stderr %q", code, errs)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("--out a link replaced the link: %v %v", st.Mode(), err)
	}
	if b, _ := os.ReadFile(target); !strings.Contains(string(b), "mailtriage analyze") {
		t.Errorf("the link's target holds %q", b)
	}
}

// TestOutKeepsMode: a report written over an existing file keeps that
// file's permissions: one made private (it names recipients) stays so.
func TestOutKeepsMode(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.txt")
	os.WriteFile(out, []byte("old"), 0o600)
	os.Chmod(out, 0o600)
	if code, _, errs := mt(t, outLog, "analyze", "--out", out); code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("report over a 0600 file: mode %v, err %v", st.Mode(), err)
	}
}

// TestCohortFilesUmask: plan's cohort lists, which are addresses, get the
// mode the user's umask gives new files, as reports do: with umask 077
// they are the user's alone.
func TestCohortFilesUmask(t *testing.T) {
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	os.WriteFile(list, []byte("email,last_click\na@icloud.com,2026-11-25\n"), 0o600)
	out := filepath.Join(dir, "out")
	if code, _, errs := mt(t, "", "plan", "--analysis", sampleAnalysis, "--recipients", list, "--as-of", "2026-12-01", "--out-dir", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	files, _ := filepath.Glob(filepath.Join(out, "cohorts", "*", "*.csv"))
	if len(files) == 0 {
		t.Fatal("no cohort file written")
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v, want 0600", f, st.Mode().Perm(), err)
		}
	}
}

// TestCohortFileKeepsMode: a cohort file written again keeps the mode its
// owner gave it, as an --out report does.
func TestCohortFileKeepsMode(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	os.WriteFile(list, []byte("email,last_click\na@icloud.com,2026-11-25\n"), 0o600)
	out := filepath.Join(dir, "out")
	args := []string{"plan", "--analysis", sampleAnalysis, "--recipients", list, "--as-of", "2026-12-01", "--out-dir", out}
	if code, _, errs := mt(t, "", args...); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	files, _ := filepath.Glob(filepath.Join(out, "cohorts", "*", "*.csv"))
	if len(files) == 0 {
		t.Fatal("no cohort file written")
	}
	os.Chmod(files[0], 0o640)
	if code, _, errs := mt(t, "", args...); code != exitOK {
		t.Fatalf("again: exit %d: %s", code, errs)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("%s: mode %v %v, want 0640 kept", files[0], st.Mode().Perm(), err)
	}
}
