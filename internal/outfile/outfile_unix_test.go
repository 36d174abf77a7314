//go:build unix

package outfile

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteUmask: a new report gets the mode the user's umask gives new
// files, as "> report.txt" would: with umask 077 it is the user's alone
// (a report names recipients), not readable by all.
func TestWriteUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "report.txt")
	if err := Write(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, "one", 0o600)
}
