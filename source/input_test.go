package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func TestOpenAndRead(t *testing.T) {
	dir := t.TempDir()
	text := "line one\nline two\n"
	plain := filepath.Join(dir, "mail.log")
	os.WriteFile(plain, []byte(text), 0o644)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	// Named .log, but gzip inside: the content decides.
	gzName := filepath.Join(dir, "rotated.log")
	os.WriteFile(gzName, gz.Bytes(), 0o644)

	var zs bytes.Buffer
	zenc, _ := zstd.NewWriter(&zs)
	zenc.Write([]byte(text))
	zenc.Close()
	zstName := filepath.Join(dir, "mail.log.zst")
	os.WriteFile(zstName, zs.Bytes(), 0o644)

	for name, want := range map[string]string{plain: Plain, gzName: Gzip, zstName: Zstd} {
		in, err := Open(context.Background(), name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if in.Compression != want {
			t.Errorf("%s: compression %q, want %q", name, in.Compression, want)
		}
		r, err := in.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != text {
			t.Errorf("%s: read %q, %v", name, got, err)
		}
	}

	// Standard input: its head can be read, then all of it.
	in, err := Open(context.Background(), Stdin, strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	head, _ := in.Head(4)
	r, _ := in.Reader()
	all, _ := io.ReadAll(r)
	if string(head) != "line" || string(all) != text {
		t.Errorf("stdin head %q all %q", head, all)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), filepath.Join(dir, "missing.log"), nil); err == nil || !strings.Contains(err.Error(), "missing.log: no such file") {
		t.Errorf("missing: %v", err)
	}
	// Other failures name the input first, as every message about an
	// input does, not the system call ("stat x: ...", "open x: ...").
	file := filepath.Join(dir, "mail.log")
	os.WriteFile(file, []byte("x\n"), 0o644)
	if _, err := Open(context.Background(), filepath.Join(file, "x"), nil); err == nil || err.Error() != filepath.Join(file, "x")+": cannot open: not a directory" {
		t.Errorf("path through a file: %v", err)
	}
	if os.Geteuid() != 0 { // root reads anything
		private := filepath.Join(dir, "private.log")
		os.WriteFile(private, []byte("x\n"), 0o200)
		if _, err := Open(context.Background(), private, nil); err == nil || err.Error() != private+": cannot open: permission denied" {
			t.Errorf("unreadable: %v", err)
		}
	}
	// A folder opens as one (a mailbox), and says so when read as a file.
	if in, err := Open(context.Background(), dir, nil); err != nil || !in.Dir {
		t.Errorf("directory: %+v %v", in, err)
	} else if _, err := in.Reader(); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory read as a file: %v", err)
	}
	// A truncated gzip file reads its good part, then names the problem.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("a line of a log\n"), 10000))
	zw.Close()
	cut := filepath.Join(dir, "cut.gz")
	os.WriteFile(cut, gz.Bytes()[:gz.Len()/2], 0o644)
	in, err := Open(context.Background(), cut, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := in.Reader()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "cut.gz: truncated gzip stream") || len(got) == 0 {
		t.Errorf("truncated: read %d bytes, err %v", len(got), err)
	}
}

// TestGzipTail: what follows a gzip file's last member. Another member
// (cat a.gz b.gz) is read on; zero bytes (padding from a copy to a
// block device or a preallocated file) are ignored, as gzip -d does; other
// bytes are reported as trailing garbage, once the log before them is
// read.
func TestGzipTail(t *testing.T) {
	member := func(text string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(text))
		zw.Close()
		return b.Bytes()
	}
	dir := t.TempDir()
	cases := []struct {
		name, data, want, err string
	}{
		{"two.gz", string(member("one\n")) + string(member("two\n")), "one\ntwo\n", ""},
		{"padded.gz", string(member("one\n")) + string(make([]byte, 1000)), "one\n", ""},
		{"garbage.gz", string(member("one\n")) + "garbage\n", "one\n", "garbage.gz: trailing garbage"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		os.WriteFile(path, []byte(c.data), 0o644)
		in, err := Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if string(got) != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: read %q, err %v; want %q, err %q", c.name, got, err, c.want, c.err)
		}
	}
}

// TestUnreadCompression: xz files are not read, and say so by name, with
// what to do, instead of passing for binary garbage.
func TestUnreadCompression(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log.2.xz")
	os.WriteFile(path, []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4F"), 0o644)
	in, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Head(4096); err == nil || !strings.Contains(err.Error(), "mail.log.2.xz: compressed with xz") {
		t.Errorf("xz: %v", err)
	}
}

// TestBzip2: logrotate may compress with bzip2 (compresscmd); such a file
// reads as its text. testdata/mail.log.2.bz2 is the first 50 lines of the
// shipped sample, compressed with bzip2 -9.
func TestBzip2(t *testing.T) {
	in, err := Open(context.Background(), "testdata/mail.log.2.bz2", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := in.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if in.Compression != Bzip2 || err != nil || bytes.Count(data, []byte("\n")) != 50 || !bytes.HasPrefix(data, []byte("2026-11-26T")) {
		t.Errorf("compression %q, %d bytes, err %v: %.60q", in.Compression, len(data), err, data)
	}
}

// TestHeadOfTruncated: a compressed file cut before its first block ends
// has no head to show; Head says it is truncated rather than empty.
func TestHeadOfTruncated(t *testing.T) {
	var zs bytes.Buffer
	zenc, _ := zstd.NewWriter(&zs)
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(zenc, "line %d of a log\n", i)
	}
	zenc.Close()
	cut := filepath.Join(t.TempDir(), "mail.log.zst")
	os.WriteFile(cut, zs.Bytes()[:zs.Len()/2], 0o644)
	in, err := Open(context.Background(), cut, nil)
	if err != nil {
		t.Fatal(err)
	}
	head, err := in.Head(4096)
	if err == nil || !strings.Contains(err.Error(), "mail.log.zst: truncated zstd stream") {
		t.Errorf("head of a truncated zstd file: %d bytes, err %v", len(head), err)
	}
}

func TestOrder(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"mail.log":    "2026-11-30T00:00:00Z x\n",
		"mail.log.2":  "2026-11-28T00:00:00Z x\n",
		"mail.log.10": "2026-11-29T00:00:00Z x\n",
		"odd.log":     "no stamp here\n",
	}
	var inputs []*Input
	for _, n := range []string{"odd.log", "mail.log", "mail.log.10", "mail.log.2"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte(files[n]), 0o644)
		in, err := Open(context.Background(), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	Order(inputs, func(_ *Input, head []byte) (time.Time, bool) {
		t, err := time.Parse(time.RFC3339, string(head[:20]))
		return t, err == nil
	})
	var got []string
	for _, in := range inputs {
		got = append(got, filepath.Base(in.Name))
	}
	if strings.Join(got, " ") != "mail.log.2 mail.log.10 mail.log odd.log" {
		t.Errorf("order %v", got)
	}
}

// TestStreamInterrupted: a stream whose writer is silent gives way when the
// context is done, so ^C reports what was read instead of waiting on the
// writer; what came before is read whole.
func TestStreamInterrupted(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		pw.Write([]byte("2026-11-30T10:00:00Z mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"))
		time.Sleep(50 * time.Millisecond)
		cancel() // the writer stays silent
	}()
	in, err := Open(ctx, Stdin, pr)
	if err != nil {
		t.Fatal(err)
	}
	r, err := in.Reader()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var got []byte
	go func() {
		got, err = io.ReadAll(r)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the read did not end when the context was cancelled")
	}
	if !errors.Is(err, context.Canceled) || !strings.HasSuffix(string(got), "removed\n") {
		t.Errorf("read %q, %v; want the line and context.Canceled", got, err)
	}
}
