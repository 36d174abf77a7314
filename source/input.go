// Package source opens the inputs of an analysis: plain log files, rotated
// files compressed with gzip (RFC 1952), zstd (RFC 8878) or bzip2, recognised by
// their content rather than their names, standard input, and folders
// (mailboxes of returned messages); and it puts files in time order by
// their first timestamp, whatever their names.
package source

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Stdin is the name that stands for standard input.
const Stdin = "-"

// Compression of an input. Xz is recognised, to say it is not read.
const (
	Plain = ""
	Gzip  = "gzip"
	Zstd  = "zstd"
	Bzip2 = "bzip2"
	Xz    = "xz"
)

var (
	gzipMagic  = []byte{0x1f, 0x8b}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	bzip2Magic = []byte("BZh")
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// Input is one input of an analysis.
type Input struct {
	Name        string // as given; Stdin for standard input
	Size        int64  // bytes on disk, 0 for standard input
	Modified    time.Time
	Compression string
	// First is the input's first timestamp, once Order has read it.
	First time.Time
	// Dir says the input is a folder: a mailbox of returned messages
	// (message files, mbox files, Maildir), read by package mailbox, not
	// through Reader.
	Dir bool

	// stream is an input that can be read once only: standard input, a
	// named pipe, a shell's process substitution (/dev/fd/N). It is
	// buffered so its head can be read twice; file is what to close.
	stream *bufio.Reader
	file   *os.File
}

// Open checks that name can be read and finds its compression. stdin is
// used when name is Stdin. A pipe (a named pipe, a shell's <(command)) is
// opened here, once, and read as a stream. Reading a stream stops with
// ctx's error once ctx is done, even while the stream is silent.
func Open(ctx context.Context, name string, stdin io.Reader) (*Input, error) {
	if name == Stdin {
		in := &Input{Name: name, Modified: time.Now()}
		in.readStream(interruptible(ctx, stdin))
		return in, nil
	}
	st, err := os.Stat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", name)
		}
		return nil, errOpen(name, err)
	}
	if st.IsDir() {
		return &Input{Name: name, Modified: st.ModTime(), Dir: true}, nil
	}
	in := &Input{Name: name, Size: st.Size(), Modified: st.ModTime()}
	f, err := os.Open(name)
	if err != nil {
		return nil, errOpen(name, err)
	}
	if !st.Mode().IsRegular() {
		// A pipe gives its data once: keep it open and read it as a
		// stream, or the bytes read here are lost to the reading.
		in.Size, in.file = 0, f
		in.readStream(interruptible(ctx, f))
		return in, nil
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	in.Compression = compressionOf(head[:n])
	return in, nil
}

// readStream makes r the input's stream, buffered so that its head can be
// read twice, and finds its compression in that head.
func (in *Input) readStream(r io.Reader) {
	in.stream = bufio.NewReaderSize(r, 1<<20)
	head, _ := in.stream.Peek(4)
	in.Compression = compressionOf(head)
}

// errOpen says why name could not be opened ("permission denied"),
// naming it first as every message about an input does.
func errOpen(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: cannot open: %w", name, err)
}

// errIsDir is what a folder answers when read as a file.
func errIsDir(name string) error {
	return fmt.Errorf("%s: is a directory; name the log files in it (for example %s/mail.log*)", name, name)
}

func compressionOf(head []byte) string {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return Gzip
	case bytes.HasPrefix(head, zstdMagic):
		return Zstd
	case bytes.HasPrefix(head, bzip2Magic) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	case bytes.HasPrefix(head, xzMagic[:4]):
		return Xz
	}
	return Plain
}

// Identity names the file behind name (its device and inode where the
// system has them, else its absolute path), so the same file given twice,
// as overlapping globs do, is read once. Standard input is itself: "-"
// given twice is read once too. It is "" for names that can't be resolved.
func Identity(name string) string {
	if name == Stdin {
		return Stdin
	}
	st, err := os.Stat(name)
	if err != nil {
		return ""
	}
	if id := fileID(st); id != "" {
		return id
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return ""
	}
	return abs
}

// Stream reports whether the input can be read once only (standard
// input, a pipe), so its head is known only when it is not compressed.
func (in *Input) Stream() bool { return in.stream != nil }

// Buffered reports whether a stream holds data read ahead (by Head) that
// its reading has not taken yet.
func (in *Input) Buffered() bool { return in.stream != nil && in.stream.Buffered() > 0 }

// Reader returns the input's content, decompressed. A damaged compressed
// stream shows as an error from Read once the good part has been read,
// wrapped with the input's name.
func (in *Input) Reader() (io.ReadCloser, error) {
	if in.Dir {
		return nil, errIsDir(in.Name)
	}
	if in.Compression == Xz {
		return nil, fmt.Errorf("%s: compressed with xz, which mailtriage does not read (it reads gzip, zstd and bzip2); decompress it first, for example with xzcat", in.Name)
	}
	var raw io.Reader
	var closer io.Closer
	if in.stream != nil {
		raw = in.stream
		if in.file != nil {
			closer = in.file
		}
	} else {
		f, err := os.Open(in.Name)
		if err != nil {
			return nil, errOpen(in.Name, err)
		}
		raw, closer = f, f
	}
	var r io.Reader = raw
	var dec io.Closer
	switch in.Compression {
	case Gzip:
		br := bufio.NewReaderSize(raw, 1<<20)
		z, err := gzip.NewReader(br)
		if err != nil {
			closeAll(closer)
			return nil, fmt.Errorf("%s: not a readable gzip file: %w", in.Name, err)
		}
		z.Multistream(false)
		r, dec = &gzipMembers{br: br, z: z}, z
	case Zstd:
		z, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1))
		if err != nil {
			closeAll(closer)
			return nil, fmt.Errorf("%s: not a readable zstd file: %w", in.Name, err)
		}
		r, dec = z, closerFunc(func() error { z.Close(); return nil })
	case Bzip2:
		// logrotate's compresscmd may be bzip2. The standard library's
		// reader is slower than the others, and needs no dependency.
		r = bzip2.NewReader(bufio.NewReaderSize(raw, 1<<20))
	}
	return &reader{r: r, name: in.Name, compression: in.Compression, closers: []io.Closer{dec, closer}}, nil
}

// errTrailingGarbage is data after a gzip file's last member that is
// neither another member nor padding.
var errTrailingGarbage = errors.New("trailing garbage after the end of the gzip data, ignored")

// gzipMembers reads the members of a gzip file one after the other (cat
// a.gz b.gz makes one), and judges what follows the last as gzip -d does:
// zero bytes are padding, anything else is trailing garbage.
type gzipMembers struct {
	br *bufio.Reader // z's input, left at the end of each member
	z  *gzip.Reader
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err != io.EOF {
		return n, err
	}
	next, _ := g.br.Peek(len(gzipMagic))
	switch {
	case len(next) == 0:
		return n, io.EOF
	case bytes.Equal(next, gzipMagic):
		if err := g.z.Reset(g.br); err != nil {
			return n, err
		}
		g.z.Multistream(false)
		return n, nil
	}
	for {
		b, err := g.br.ReadByte()
		if err != nil {
			return n, err // io.EOF: zeros to the end
		}
		if b != 0 {
			return n, errTrailingGarbage
		}
	}
}

// reader names the input in the errors its decompressor returns.
type reader struct {
	r           io.Reader
	name        string
	compression string
	closers     []io.Closer
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		if errors.Is(err, io.ErrUnexpectedEOF) && r.compression != Plain {
			err = fmt.Errorf("%s: truncated %s stream: %w", r.name, r.compression, err)
		} else {
			err = fmt.Errorf("%s: %w", r.name, err)
		}
	}
	return n, err
}

func (r *reader) Close() error {
	return closeAll(r.closers...)
}

func closeAll(cs ...io.Closer) error {
	var first error
	for _, c := range cs {
		if c == nil {
			continue
		}
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// Head returns up to n bytes of the input's decompressed content. For
// standard input it reads ahead without consuming.
func (in *Input) Head(n int) ([]byte, error) {
	if in.Dir {
		return nil, errIsDir(in.Name)
	}
	if in.stream != nil && in.Compression == Plain {
		b, err := in.stream.Peek(n)
		// A stream that gave some data and then failed, or was
		// interrupted while silent (^C), has that much for a head; the
		// reading shows the error again after it.
		if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) || len(b) > 0 {
			err = nil
		}
		return b, err
	}
	if in.stream != nil {
		return nil, nil // a compressed stream can't be read twice; it keeps its place
	}
	r, err := in.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, n)
	m, err := io.ReadFull(r, buf)
	// io.ReadFull's own signals say the input is shorter than n. A damaged
	// stream that gave some data shows its error again when read; one that
	// gave none must say so here, or it passes for an empty file.
	if err == io.EOF || err == io.ErrUnexpectedEOF || m > 0 {
		err = nil
	}
	return buf[:m], err
}

// Order sorts inputs by their first timestamp, as first finds it in an
// input's first 64 KiB, then by modification time; inputs whose time can't
// be found keep their place after those that have one.
func Order(inputs []*Input, first func(in *Input, head []byte) (time.Time, bool)) {
	for _, in := range inputs {
		head, err := in.Head(64 << 10)
		if err != nil {
			continue
		}
		if t, ok := first(in, head); ok {
			in.First = t
		}
	}
	sort.SliceStable(inputs, func(i, j int) bool {
		a, b := inputs[i].First, inputs[j].First
		if a.IsZero() || b.IsZero() {
			return !a.IsZero() && b.IsZero()
		}
		if a.Equal(b) {
			return inputs[i].Modified.Before(inputs[j].Modified)
		}
		return a.Before(b)
	})
}
