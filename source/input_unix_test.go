//go:build unix

package source

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenPipe: a named pipe, or the /dev/fd/N that a shell's process
// substitution (<(zcat mail.log.2.gz)) gives, can be read once only. It is
// opened once and read as a stream, like standard input: its head is not
// lost to the compression check, and reading does not wait for a second
// writer that never comes.
func TestOpenPipe(t *testing.T) {
	text := "line one\nline two\n"
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write([]byte(text))
		f.Close()
	}()
	done := make(chan struct{})
	var head, all []byte
	var err error
	go func() {
		defer close(done)
		var in *Input
		if in, err = Open(context.Background(), fifo, nil); err != nil {
			return
		}
		if head, err = in.Head(4); err != nil {
			return
		}
		var r io.ReadCloser
		if r, err = in.Reader(); err != nil {
			return
		}
		defer r.Close()
		all, err = io.ReadAll(r)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading a named pipe hangs")
	}
	if err != nil || string(head) != "line" || string(all) != text {
		t.Errorf("pipe: head %q, all %q, err %v", head, all, err)
	}
}
