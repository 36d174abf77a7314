//go:build unix

package mailbox

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFileFIFO: a named pipe given as a file is read once, as a stream:
// opening it a second time would wait for a writer that has gone.
func TestFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "bounce.eml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	const msg = "Subject: x\n\nbody\n"
	go func() {
		fd, err := syscall.Open(fifo, syscall.O_WRONLY, 0)
		if err != nil {
			return
		}
		syscall.Write(fd, []byte(msg))
		syscall.Close(fd)
	}()
	got := make(chan string, 1)
	go func() {
		File(fifo, func(name string, data []byte) error {
			got <- string(data)
			return nil
		})
		close(got)
	}()
	select {
	case s := <-got:
		if s != msg {
			t.Errorf("read %q, want %q", s, msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a named pipe hangs")
	}
}
