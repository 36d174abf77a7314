package mailbox

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestMbox: RFC 4155 §2 separates messages by From lines after a blank
// line; mboxrd's ">From " loses one ">"; a From line inside a paragraph
// is text, unless it is a whole postmark (sender and asctime date), which
// some writers put right after the last body line; CRLF files work.
func TestMbox(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		mbox := strings.ReplaceAll(`From MAILER-DAEMON Thu Apr 29 23:34:45 2021
Subject: one

>From the start
From inside a paragraph

From MAILER-DAEMON Thu Apr 29 23:34:46 2021
Subject: two

body
From double-bounce@example.com  Thu Apr  1 12:05:05 2021
Subject: three

body
`, "\n", nl)
		for reader, read := range readers {
			names, bodies, err := read(mbox)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, []string{"box#1", "box#2", "box#3"}) {
				t.Fatalf("%s: names %v", reader, names)
			}
			if !strings.Contains(bodies[0], nl+"From the start"+nl+"From inside a paragraph") || !strings.Contains(bodies[1], "Subject: two") || strings.Contains(bodies[1], "three") {
				t.Errorf("%s: bodies %q", reader, bodies)
			}
		}
	}
}

// readers are the two ways an mbox is read: streamed (Mbox) and, for a
// file that fits in memory, in place (mboxData).
var readers = map[string]func(mbox string) (names, bodies []string, err error){
	"stream": func(mbox string) (names, bodies []string, err error) {
		err = Mbox(strings.NewReader(mbox), "box", func(name string, data []byte) error {
			names, bodies = append(names, name), append(bodies, string(data))
			return nil
		})
		return names, bodies, err
	},
	"memory": func(mbox string) (names, bodies []string, err error) {
		err = mboxData([]byte(mbox), "box", func(name string, data []byte) error {
			names, bodies = append(names, name), append(bodies, string(data))
			return nil
		})
		return names, bodies, err
	},
}

// TestWalk reads a folder holding a message file, an mbox, a Maildir (tmp
// left out), a link to a message elsewhere and a link to a folder (not
// followed inside a folder), and reports a link to nothing without
// stopping. A link to a folder given as the path is followed.
func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.eml", "Subject: a\n\nx\n")
	write("box", "From x\nSubject: b1\n\n\nFrom y\nSubject: b2\n\n")
	write("md/cur/1", "Subject: c\n\n")
	write("md/new/2", "Subject: d\n\n")
	write("md/tmp/3", "Subject: partial\n\n")
	write(".hidden", "Subject: no\n\n")
	elsewhere := t.TempDir()
	os.WriteFile(filepath.Join(elsewhere, "e.eml"), []byte("Subject: e\n\n"), 0o644)
	os.Symlink(filepath.Join(elsewhere, "e.eml"), filepath.Join(dir, "link.eml"))
	os.Symlink(elsewhere, filepath.Join(dir, "linkdir"))
	os.Symlink("/nonexistent", filepath.Join(dir, "broken"))
	walk := func(path string) (got, bad []string) {
		err := Walk(path, func(name string, data []byte) error {
			rel, _ := filepath.Rel(path, strings.Split(name, "#")[0])
			got = append(got, rel+"#"+strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "Subject: "))
			return nil
		}, func(name string, err error) { bad = append(bad, filepath.Base(name)) })
		if err != nil {
			t.Fatal(err)
		}
		return got, bad
	}
	got, bad := walk(dir)
	want := []string{"a.eml#a", "box#b1", "box#b2", "link.eml#e", "md/cur/1#c", "md/new/2#d"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !slices.Equal(bad, []string{"broken"}) {
		t.Errorf("bad: %v, want the link to nothing", bad)
	}
	if got, _ := walk(filepath.Join(dir, "linkdir")); !slices.Equal(got, []string{"e.eml#e"}) {
		t.Errorf("a link to a folder as the path: got %v", got)
	}
}

// TestWalkStoreFiles: the files a mail store keeps beside its messages
// are not messages: those beside a Maildir's cur and new (Dovecot's and
// Courier's indexes and lists, maildirfolder), in a Maildir++ subfolder
// too, Thunderbird's summaries (.msf), and the Info.plist and
// table_of_contents of an Apple Mail .mbox folder. A file named as the
// path is read whatever its name.
func TestWalkStoreFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Maildir/cur/1:2,S", "Subject: a\n\n")
	write("Maildir/new/2", "Subject: b\n\n")
	for _, name := range []string{"dovecot-uidlist", "dovecot-uidvalidity", "dovecot.index", "dovecot.index.log", "dovecot.index.cache", "dovecot-keywords", "subscriptions", "courierimapuiddb"} {
		write("Maildir/"+name, "3 V1700000000 N5\n")
	}
	write("Maildir/.Bounces/cur/3:2,RS", "Subject: c\n\n")
	write("Maildir/.Bounces/new/.keep", "")
	write("Maildir/.Bounces/maildirfolder", "")
	write("Maildir/.Bounces/dovecot.index.log", "\x01\x02")
	write("Thunderbird/Bounces", "From - Thu Apr 29 23:34:45 2021\nSubject: d\n\n")
	write("Thunderbird/Bounces.msf", "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n")
	write("Bounces.mbox/mbox", "From x Thu Apr 29 23:34:45 2021\nSubject: e\n\n")
	write("Bounces.mbox/Info.plist", "<?xml version=\"1.0\"?>\n<plist/>\n")
	write("Bounces.mbox/table_of_contents", "\x00\x01")
	var got []string
	h := func(name string, data []byte) error {
		rel, _ := filepath.Rel(dir, strings.Split(name, "#")[0])
		got = append(got, rel+"#"+strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "Subject: "))
		return nil
	}
	if err := Walk(dir, h, func(name string, err error) { t.Errorf("%s: %v", name, err) }); err != nil {
		t.Fatal(err)
	}
	want := []string{"Bounces.mbox/mbox#e", "Maildir/.Bounces/cur/3:2,RS#c", "Maildir/cur/1:2,S#a", "Maildir/new/2#b", "Thunderbird/Bounces#d"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got = nil
	if err := Walk(filepath.Join(dir, "Maildir/subscriptions"), h, nil); err != nil || len(got) != 1 {
		t.Errorf("a store's file named as the path: %v %v", got, err)
	}
}

func FuzzMbox(f *testing.F) {
	f.Add("From a\nSubject: x\n\n>From y\n\nFrom b\n\n")
	f.Add("no from line at all")
	f.Add("From a\r\n\r\n>>From b\r\nFrom c Thu Apr  1 12:05:05 2021\r\nx")
	f.Fuzz(func(t *testing.T, s string) {
		names, bodies, _ := readers["stream"](s)
		total := 0
		for _, b := range bodies {
			total += len(b)
		}
		if total > len(s) {
			t.Errorf("more bytes out (%d) than in (%d)", total, len(s))
		}
		// Read in place, the same messages.
		names2, bodies2, _ := readers["memory"](s)
		if !slices.Equal(names, names2) || !slices.Equal(bodies, bodies2) {
			t.Errorf("streamed %q %q, in memory %q %q", names, bodies, names2, bodies2)
		}
	})
}

// TestFileCR: an mbox file with CR line endings alone is split as one
// with LF.
func TestFileCR(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mac.mbox")
	os.WriteFile(path, []byte("From a@b Thu Apr 29 23:34:45 2021\rSubject: one\r\rx\r\rFrom a@b Thu Apr 29 23:34:46 2021\rSubject: two\r\ry\r"), 0o644)
	var subjects []string
	File(path, func(_ string, data []byte) error {
		subjects = append(subjects, strings.SplitN(string(data), "\n", 2)[0])
		return nil
	})
	if !slices.Equal(subjects, []string{"Subject: one", "Subject: two"}) {
		t.Errorf("messages %q", subjects)
	}
}

// TestWalkCompressed: an mbox or a message compressed with gzip or zstd
// is read as it would be plain, as analyze reads a compressed input; xz
// is refused with a message that says so. File reads a file as it is.
func TestWalkCompressed(t *testing.T) {
	const mbox = "From a@b Thu Apr 29 23:34:45 2021\nSubject: one\n\nx\n\nFrom a@b Thu Apr 29 23:34:46 2021\nSubject: two\n\n>From y\n"
	dir := t.TempDir()
	write := func(name string, compress func(io.Writer) io.WriteCloser, s string) string {
		var b bytes.Buffer
		w := compress(&b)
		io.WriteString(w, s)
		w.Close()
		path := filepath.Join(dir, name)
		os.WriteFile(path, b.Bytes(), 0o644)
		return path
	}
	gz := func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }
	zst := func(w io.Writer) io.WriteCloser { z, _ := zstd.NewWriter(w); return z }
	// walk reads one file as Walk does, and returns what went wrong.
	walk := func(path string, h Handler) (err error) {
		Walk(path, h, func(_ string, e error) { err = e })
		return err
	}
	for _, path := range []string{write("box.gz", gz, mbox), write("box.zst", zst, mbox)} {
		var got []string
		err := walk(path, func(name string, data []byte) error {
			got = append(got, filepath.Base(name)+" "+string(data))
			return nil
		})
		if want := []string{filepath.Base(path) + "#1 Subject: one\n\nx\n\n", filepath.Base(path) + "#2 Subject: two\n\nFrom y\n"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", path, got, err, want)
		}
	}
	path := write("one.eml.gz", gz, "Subject: x\n\nbody\n")
	var got []string
	if err := walk(path, func(_ string, data []byte) error { got = append(got, string(data)); return nil }); err != nil || !slices.Equal(got, []string{"Subject: x\n\nbody\n"}) {
		t.Errorf("one message, gzip: %q, %v", got, err)
	}
	got = nil
	if err := File(path, func(_ string, data []byte) error { got = append(got, string(data)); return nil }); err != nil || len(got) != 1 || compression([]byte(got[0])) != "gzip" {
		t.Errorf("File, one message, gzip: %q, %v; want it as it is", got, err)
	}
	xz := filepath.Join(dir, "box.xz")
	os.WriteFile(xz, []byte("\xfd7zXZ\x00\x00\x04"), 0o644)
	if err := walk(xz, func(string, []byte) error { t.Error("xz read"); return nil }); err == nil || !strings.Contains(err.Error(), "xz") || !strings.Contains(err.Error(), xz) {
		t.Errorf("xz: %v", err)
	}
}

// TestFileCut: a message file larger than MaxMessage is read up to it.
func TestFileCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.eml")
	os.WriteFile(path, append([]byte("Subject: big\n\n"), make([]byte, MaxMessage+1000)...), 0o644)
	var got int
	if err := File(path, func(_ string, data []byte) error { got = len(data); return nil }); err != nil || got != MaxMessage {
		t.Errorf("read %d bytes (%v), want %d", got, err, MaxMessage)
	}
}

// TestOpen: a small regular file is read whole; a large one and a folder
// come back open, for a streaming read; a missing file is an error that
// names it.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.eml")
	os.WriteFile(small, []byte("Subject: x\n\nbody\n"), 0o644)
	if data, f, _, err := open(small, 1<<20); err != nil || f != nil || string(data) != "Subject: x\n\nbody\n" {
		t.Errorf("small file: %q %v %v", data, f, err)
	}
	if data, f, _, err := open(small, 10); err != nil || f == nil || data != nil {
		t.Errorf("file over the limit: %q %v %v", data, f, err)
	} else {
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "Subject: x\n\nbody\n" {
			t.Errorf("file over the limit, streamed: %q", b)
		}
	}
	if _, f, _, err := open(dir, 1<<20); err != nil || f == nil {
		t.Errorf("folder: %v %v", f, err)
	} else {
		f.Close()
	}
	missing := filepath.Join(dir, "missing.eml")
	if _, _, _, err := open(missing, 1<<20); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

// TestMboxLongLine: a line longer than the streaming reader's buffer
// comes out whole, and the messages after it are their own.
func TestMboxLongLine(t *testing.T) {
	long := "X-Long: " + strings.Repeat("x", 70000)
	mbox := "From a@b Thu Apr 29 23:34:45 2021\nSubject: one\n" + long + "\n\nbody one\n\nFrom a@b Thu Apr 29 23:34:46 2021\nSubject: two\n\n>From quoted\n"
	for reader, read := range readers {
		_, bodies, err := read(mbox)
		if err != nil {
			t.Fatal(err)
		}
		if len(bodies) != 2 || !strings.Contains(bodies[0], long+"\n") || strings.Contains(bodies[0], "Subject: two") ||
			!strings.HasPrefix(bodies[1], "Subject: two\n") || !strings.Contains(bodies[1], "\nFrom quoted") {
			t.Errorf("%s: %d messages, first %d bytes, second %q", reader, len(bodies), len(bodies[0]), bodies[len(bodies)-1])
		}
	}
}
