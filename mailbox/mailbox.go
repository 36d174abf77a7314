// Package mailbox reads the messages of the stores mail is kept in: a
// message file (.eml, RFC 5322), an mbox file (RFC 4155, with the ">From "
// quoting of mboxrd undone), a Maildir (its cur and new folders) and
// folders of any of them; Walk reads a file compressed with gzip, zstd or
// bzip2 too.
package mailbox

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// MaxMessage bounds a message read from a file or an mbox: the bytes
// past it are skipped (a report puts its substance first).
const MaxMessage = 8 << 20

// Handler is called with each message: a name that says where it came
// from ("bounces/1.eml", "mbox-0#3" for the third message of an mbox) and
// its bytes, which are the handler's to keep: a parallel reader hands them
// to another goroutine without a copy.
type Handler func(name string, data []byte) error

// Walk calls h for every message under path: a file (a message or an
// mbox), a Maildir, or a folder of them, in name order. A symbolic link
// to a file is read; one to a folder is followed when path names it, not
// inside a folder (a link back up would never end). The files a mail
// store keeps beside its messages are left out (see storeFile). An
// unreadable file is reported to bad and the walk goes on; an error h
// returns stops it. A file reached twice, through links or hard links,
// is read once. A file compressed with gzip, zstd or bzip2 is read
// decompressed.
func Walk(path string, h Handler, bad func(name string, err error)) error {
	return new(Walker).Walk(path, h, bad)
}

// A Walker walks paths as Walk does, and reads each file once over all
// its walks: a file named twice, or inside a folder also named, or
// reached through a link or a hard link (a copy Dovecot makes between
// Maildir folders), gives its messages once. The zero Walker is ready to
// use.
type Walker struct {
	seen map[fileID]bool
}

// fileID identifies a file: its device and inode, where the system
// tells them.
type fileID struct{ dev, ino uint64 }

// first reports whether the file id is read for the first time, and
// remembers it.
func (w *Walker) first(id fileID) bool {
	if id == (fileID{}) {
		return true // not known
	}
	if w.seen[id] {
		return false
	}
	if w.seen == nil {
		w.seen = map[fileID]bool{}
	}
	w.seen[id] = true
	return true
}

// Walk calls h for every message under path not read before; see the
// function Walk.
func (w *Walker) Walk(path string, h Handler, bad func(name string, err error)) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return w.file(path, h, bad)
	}
	root := path
	if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		// WalkDir does not follow a link at its root; a trailing
		// separator makes the system resolve it.
		root = path + string(filepath.Separator)
	}
	maildirs := map[string]bool{} // the Maildirs met, by clean path
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			bad(p, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			// Maildir's tmp holds messages still being written.
			if p != root && (strings.HasPrefix(name, ".") && !isMaildirFolder(p) || name == "tmp" && isMaildir(filepath.Dir(p))) {
				return fs.SkipDir
			}
			if isMaildir(p) {
				maildirs[filepath.Clean(p)] = true
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || storeFile(filepath.Dir(p), name, maildirs) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			switch {
			case err != nil:
				bad(p, err) // a link to nothing
				return nil
			case !st.Mode().IsRegular():
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil // a pipe, a socket, a device
		}
		return w.file(p, h, bad)
	})
}

// file reads one file for Walk: an error of h stops the walk, any other
// is reported to bad.
func (w *Walker) file(path string, h Handler, bad func(name string, err error)) error {
	if err := readFile(path, h, w); err != nil {
		if he, ok := err.(handlerError); ok {
			return he.err
		}
		bad(path, err)
	}
	return nil
}

// storeFile reports whether a file in dir is a mail store's own, not
// mail: any file beside a Maildir's cur and new (Dovecot's and Courier's
// indexes and lists, subscriptions, maildirfolder), a Thunderbird summary
// (.msf), and the Info.plist and table_of_contents of an Apple Mail .mbox
// folder.
func storeFile(dir, name string, maildirs map[string]bool) bool {
	switch {
	case maildirs[dir], strings.HasSuffix(name, ".msf"):
		return true
	case name == "Info.plist" || name == "table_of_contents":
		return strings.HasSuffix(dir, ".mbox")
	}
	return false
}

// isMaildir reports whether dir is a Maildir: it has cur and new.
func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// isMaildirFolder reports whether a dot-folder is a Maildir++ subfolder
// (".Junk"), which holds messages too.
func isMaildirFolder(dir string) bool { return isMaildir(dir) }

// handlerError carries the handler's own error out of File, to stop a walk.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// File calls h for the messages of one file: each message of an mbox, or
// the file as one message. It reads the file as it is: Walk is what
// decompresses.
func File(path string, h Handler) error {
	return readFile(path, h, nil)
}

// readFile is File; with a Walker, a file compressed with gzip, zstd or
// bzip2 is decompressed, and a file the Walker read before is left alone.
func readFile(path string, h Handler, w *Walker) error {
	// Most files are one message: read it whole, without a buffer.
	data, f, id, err := open(path, MaxMessage)
	if err != nil {
		return err
	}
	if w != nil && !w.first(id) {
		if f != nil {
			f.Close()
		}
		return nil
	}
	unpack := w != nil
	if f == nil && unpack && compression(data) != "" {
		return stream(bytes.NewReader(data), path, h, true)
	}
	if f == nil {
		if bytes.HasPrefix(data, []byte("From ")) {
			if bytes.IndexByte(data, '\n') < 0 {
				// Old Mac line endings, CR alone: its lines are the
				// mbox's.
				data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
			}
			return mboxData(data, path, h)
		}
		if err := h(path, data); err != nil {
			return handlerError{err}
		}
		return nil
	}
	defer f.Close()
	return stream(f, path, h, unpack)
}

// stream reads the messages of a file from r: an mbox or one message,
// compressed or, with unpack, not.
func stream(r io.Reader, path string, h Handler, unpack bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(6)
	if c := compression(head); unpack && c != "" {
		z, err := decompress(c, br)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer z.Close()
		br = bufio.NewReaderSize(z, 64<<10)
	}
	if head, _ := br.Peek(5); string(head) == "From " {
		return Mbox(br, path, h)
	}
	// A message past MaxMessage is cut there, as in an mbox: a report
	// puts its substance first.
	data, err := io.ReadAll(io.LimitReader(br, MaxMessage))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := h(path, data); err != nil {
		return handlerError{err}
	}
	return nil
}

// compression names how a file whose first bytes are head is compressed:
// gzip, zstd, bzip2 or xz (which is not read), or "" for none.
func compression(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return "bzip2"
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z'}):
		return "xz"
	}
	return ""
}

// decompress reads r, compressed with c (one of compression's names).
func decompress(c string, r io.Reader) (io.ReadCloser, error) {
	switch c {
	case "gzip":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("not a readable gzip file: %w", err)
		}
		return z, nil
	case "zstd":
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("not a readable zstd file: %w", err)
		}
		return z.IOReadCloser(), nil
	case "bzip2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	return nil, fmt.Errorf("compressed with %s, which mailtriage does not read (it reads gzip, zstd and bzip2); decompress it first", c)
}

// Mbox calls h for each message of an mbox read from r, named name#N.
// A message starts at a "From " line at the start of the file or after a
// blank line (RFC 4155 §2); ">From " lines lose one ">" (mboxrd).
func Mbox(r io.Reader, name string, h Handler) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	var msg bytes.Buffer
	var lines mboxLines
	n := 0
	flush := func() error {
		if !lines.started {
			return nil
		}
		n++
		if err := h(fmt.Sprintf("%s#%d", name, n), bytes.Clone(msg.Bytes())); err != nil {
			return handlerError{err}
		}
		msg.Reset()
		return nil
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: keep it whole. The start
			// is copied before reading on refills the buffer it is in.
			head := slices.Clone(line)
			rest, err2 := br.ReadBytes('\n')
			line, err = append(head, rest...), err2
		}
		if len(line) > 0 {
			wasStarted := lines.started
			switch starts, in := lines.next(line); {
			case starts:
				if wasStarted {
					if err := flush(); err != nil {
						return err
					}
				}
			case in:
				if isQuotedFrom(line) {
					line = line[1:]
				}
				if msg.Len() < MaxMessage {
					msg.Write(line)
				}
			}
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

// mboxData is Mbox for an mbox already in memory: the messages are
// pieces of data, copied only to undo ">From " quoting.
func mboxData(data []byte, name string, h Handler) error {
	var lines mboxLines
	n, start := 0, -1
	emit := func(end int) error {
		n++
		if err := h(fmt.Sprintf("%s#%d", name, n), unquoteFrom(data[start:end:end])); err != nil {
			return handlerError{err}
		}
		return nil
	}
	for off := 0; off < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		if starts, _ := lines.next(data[off:end]); starts {
			if start >= 0 {
				if err := emit(off); err != nil {
					return err
				}
			}
			start = end // the message starts after its From line
		}
		off = end
	}
	if start < 0 {
		return nil
	}
	return emit(len(data))
}

// mboxLines tells the lines of an mbox apart.
type mboxLines struct {
	seen    bool // a line was read
	blank   bool // the last line was blank
	started bool // a message has started
}

// next reads one line, with its newline: whether it starts a message,
// and else whether it belongs to one (text before the first From line
// does not). A message starts at a "From " line at the start of the file
// or after a blank line (RFC 4155 §2), or at a whole postmark.
func (m *mboxLines) next(line []byte) (starts, in bool) {
	atStart := !m.seen
	m.seen = true
	starts = bytes.HasPrefix(line, []byte("From ")) && (atStart || m.blank || isPostmark(line))
	in = !starts && m.started
	if starts {
		m.started = true
	}
	m.blank = len(bytes.TrimRight(line, "\r\n")) == 0
	return starts, in
}

// unquoteFrom undoes mboxrd quoting in a message: a line ">From ",
// ">>From ", ... loses one ">".
func unquoteFrom(msg []byte) []byte {
	if !bytes.Contains(msg, []byte(">From ")) {
		return msg
	}
	out := make([]byte, 0, len(msg))
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line = msg[:i+1]
		}
		msg = msg[len(line):]
		if isQuotedFrom(line) {
			line = line[1:]
		}
		out = append(out, line...)
	}
	return out
}

// isPostmark reports whether a From line is a whole mbox postmark, the
// envelope sender and an asctime date ("From a@b.c  Thu Jul  2 12:05:05
// 2020"): some writers leave out the blank line RFC 4155 wants before
// one, and no body line looks like that by chance.
func isPostmark(line []byte) bool {
	f := strings.Fields(string(line[5:]))
	if len(f) < 6 {
		return false
	}
	date := strings.Join(f[1:6], " ")
	_, err := time.Parse("Mon Jan _2 15:04:05 2006", date)
	return err == nil
}

// isQuotedFrom reports whether a line is a quoted From line: ">From ",
// ">>From ", ...
func isQuotedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}
