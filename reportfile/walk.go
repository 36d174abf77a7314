package reportfile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/mailbox"
)

// DefaultWorkers is how many inputs are parsed at once. Parsing is the
// work, reading files is not; a few workers use the CPUs a CLI may take
// without starving the rest of the machine.
const DefaultWorkers = 3

// window bounds how many inputs may be read ahead of the one whose
// reports are handed on next, and so the memory held for them.
const window = 64

// Walker reads inputs in parallel and hands their reports on in input
// order.
type Walker struct {
	// Workers parse in parallel; 0 means DefaultWorkers.
	Workers int
	// Stdin is read for the path "-"; nil means os.Stdin.
	Stdin io.Reader
	// Progress, if set, is called after each input (a file, or a message
	// of an mbox) is handed on, with the number done so far.
	Progress func(inputs int)
}

// Walk reads each path (file or folder, recursively) and calls found for
// every report, bad for every input or part that could not be read (name +
// reason), and goes on. It uses a Walker with the defaults.
func Walk(ctx context.Context, paths []string, found func(Item) error, bad func(name string, err error)) error {
	var w Walker
	return w.Walk(ctx, paths, found, bad)
}

// job is one input to parse: a file, or a message of an mbox; or an input
// that could not be read, passed along to be reported in its turn.
type job struct {
	seq  int
	name string
	data []byte
	err  error
}

type result struct {
	seq    int
	events []event
}

// Walk reads each path: "-" is standard input; a folder is walked in name
// order, recursively, skipping hidden files and Maildir's tmp; a file is
// one input, or each message of an mbox. Inputs are parsed by Workers at
// once, and found and bad are called from the calling goroutine in input
// order, whatever order the workers finish in. An error from found stops
// the walk and is returned, as is the context's error.
func (w *Walker) Walk(ctx context.Context, paths []string, found func(Item) error, bad func(name string, err error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := w.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	jobs := make(chan job, workers)
	results := make(chan result, window)
	slots := make(chan struct{}, window)

	go w.produce(ctx, paths, jobs, slots)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				if j.err != nil {
					results <- result{j.seq, []event{{name: j.name, err: j.err}}}
				} else if ctx.Err() != nil {
					results <- result{seq: j.seq}
				} else {
					results <- result{j.seq, scan(j.name, j.data)}
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	pending := map[int][]event{}
	next, done := 0, 0
	var stop error
	for r := range results {
		pending[r.seq] = r.events
		for {
			events, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			if stop == nil {
				if stop = deliver(events, found, bad); stop != nil {
					cancel()
				}
				done++
				if w.Progress != nil {
					w.Progress(done)
				}
			}
		}
	}
	if stop != nil {
		return stop
	}
	return ctx.Err()
}

// produce reads the inputs and queues them as jobs, numbered in order. It
// takes a slot for each, so that no more than window inputs wait to be
// handed on.
func (w *Walker) produce(ctx context.Context, paths []string, jobs chan<- job, slots chan struct{}) {
	defer close(jobs)
	seq := 0
	send := func(j job) error {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		j.seq = seq
		seq++
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			<-slots
			seq--
			return ctx.Err()
		}
	}
	for _, p := range paths {
		var err error
		if p == "-" {
			in := w.Stdin
			if in == nil {
				in = os.Stdin
			}
			err = readStream(in, "-", -1, send)
		} else {
			err = walkPath(p, send)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if send(job{name: p, err: unpath(err)}) != nil {
				return
			}
		}
	}
}

// walkPath queues the inputs under a path: the file, or the files of a
// folder in name order. Errors about single files are queued as jobs in
// their place; the error returned is the context's, or about p itself. A
// symbolic link to a file is read as the file; one to a folder is not
// followed (it could loop) and is reported. A folder with no file to read
// is reported, so that a wrong path does not pass for a quiet one.
func walkPath(p string, send func(job) error) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return readFile(p, send)
	}
	files := 0
	err = filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			files++
			if serr := send(job{name: name, err: unpath(err)}); serr != nil {
				return serr
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if name != p && skipDir(name, d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		files++
		if err := regular(name, d); err != nil {
			return send(job{name: name, err: err})
		}
		return readFile(name, send)
	})
	if err == nil && files == 0 {
		return fmt.Errorf("%w: no files in the folder (hidden ones and Maildir's tmp are passed over)", ErrNotReport)
	}
	return err
}

// regular says why a folder's entry is not a file to read, or nil: a
// symbolic link to a folder, a broken link, a device, a pipe.
func regular(name string, d fs.DirEntry) error {
	t := d.Type()
	if t.IsRegular() {
		return nil
	}
	if t&fs.ModeSymlink == 0 {
		return fmt.Errorf("%w: not a regular file but %s", ErrNotReport, modeName(t))
	}
	st, err := os.Stat(name)
	switch {
	case err != nil:
		return fmt.Errorf("symbolic link: %w", unpath(err))
	case st.IsDir():
		return fmt.Errorf("%w: a symbolic link to a folder, not followed (name the folder to read it)", ErrNotReport)
	case !st.Mode().IsRegular():
		return fmt.Errorf("%w: a symbolic link to %s, not to a regular file", ErrNotReport, modeName(st.Mode()))
	}
	return nil
}

// modeName names what a file that is not a regular file is.
func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// skipDir reports whether a folder holds no reports to read: hidden
// folders other than Maildir++ subfolders (".Junk"), and Maildir's tmp,
// which holds messages still being written (the rules of package mailbox).
func skipDir(dir, base string) bool {
	if strings.HasPrefix(base, ".") {
		return !isMaildir(dir)
	}
	return base == "tmp" && isMaildir(filepath.Dir(dir))
}

func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// readFile queues one file: whole, or message by message for an mbox.
// A file that cannot be read is queued as a failed job; only the
// context's error is returned.
func readFile(name string, send func(job) error) error {
	f, err := os.Open(name)
	if err != nil {
		return send(job{name: name, err: unpath(err)})
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	if err := readStream(f, name, size, send); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return send(job{name: name, err: err})
	}
	return nil
}

// readStream queues what r holds: each message of an mbox, or the whole
// input up to MaxInput. size is the input's size when known, or -1.
func readStream(r io.Reader, name string, size int64, send func(job) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(5); string(head) == "From " {
		var stop error
		err := mailbox.Mbox(br, name, func(msg string, b []byte) error {
			stop = send(job{name: msg, data: bytes.Clone(b)})
			return stop
		})
		if stop != nil {
			return stop
		}
		return err
	}
	// Garbage is refused on its first bytes, before it is read whole.
	head, err := br.Peek(headSize)
	if !mayBegin(head, err != nil) {
		return notReport(head)
	}
	if size > MaxInput {
		return fmt.Errorf("%w: the file is %d MB, more than %d MB", ErrTooLarge, size>>20, MaxInput>>20)
	}
	var buf bytes.Buffer
	if size > 0 {
		// ReadFrom wants bytes.MinRead free to find the end; with less,
		// it would double the buffer there.
		buf.Grow(int(size) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(br, MaxInput+1))
	if err != nil {
		return err
	}
	if n > MaxInput {
		return fmt.Errorf("%w: more than %d MB", ErrTooLarge, MaxInput>>20)
	}
	return send(job{name: name, data: buf.Bytes()})
}

// unpath drops the path from a file system error: the job names the file
// already, and bad's callers print both.
func unpath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
