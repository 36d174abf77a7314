package postfix

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage/postfixlog"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// Options tune Read and ReadBytes.
type Options struct {
	// Workers parse chunks in parallel; 0 means one per CPU.
	Workers int
	// NewClassifier returns a classifier for one worker (for example a
	// classify.Cache, which is not safe for concurrent use). Nil leaves
	// classification to the Tracker's classifier.
	NewClassifier func() Classifier
	// MaxLine is the longest line read; longer lines are skipped and
	// counted. 0 means 64 KiB.
	MaxLine int
	// Samples is how many unparsed lines per input to keep for the user.
	Samples int
	// Progress, if set, is called with the number of bytes read so far.
	Progress func(n int64)
}

// Stats describe one input.
type Stats struct {
	Lines    int64 // all lines
	Postfix  int64 // Postfix lines
	Other    int64 // syslog lines of other programs (dovecot, amavis, ...)
	Unparsed int64 // lines that are not syslog lines
	Overlong int64 // lines longer than MaxLine, skipped
	// FirstOverlong is the line number of the first overlong line.
	FirstOverlong int64
	// Zoneless counts Postfix lines whose stamp had no zone, which the
	// clock's Location supplied; Yearless those of them that had no year
	// either (traditional syslog), and Year is the year they were given.
	Zoneless int64
	Yearless int64
	Year     int
	Bytes    int64
	First    time.Time // first and last Postfix timestamp
	Last     time.Time
	// Samples are some unparsed lines, with their line numbers.
	Samples []Sample
}

// Sample is one line that could not be read.
type Sample struct {
	Line int64
	Text string
	Err  string
}

const chunkSize = 1 << 20

// linesPerChunk is room for the kept lines of a chunk: a MiB holds about
// 6,000 log lines, of which the tracker needs up to nine in ten (a relay
// that logs little besides its messages). About a quarter of the lines are
// delivery lines, with a report each.
const (
	linesPerChunk   = 8192
	reportsPerChunk = linesPerChunk / 4
)

type chunk struct {
	buf []byte // the chunk's complete lines
	// skipAfter counts the overlong lines the splitter dropped right after
	// this chunk's data, before the next chunk's.
	skipAfter int64
	clock     *syslogstamp.Clock
	lines     []line
	// reports are the decoded reports of the delivery lines, by line's
	// detail index: the worker's cached ones, shared and never written
	// after, and the others in decodes, which holds them for the chunk
	// (pointers taken before it grows stay good: an old array is not
	// written again).
	reports []*decoded
	decodes []decoded
	stats   Stats
	err     error // a fault while parsing a mapped file
	end     int   // for data in memory: the offset where the chunk ends
	done    chan struct{}
}

// Read reads one Postfix log from r into the tracker, parsing in parallel
// and tracking in order. clock decides the time of each stamp; give each
// input its own. It returns what it saw, and an error if reading stopped
// early (a truncated compressed file, a cancelled context): the lines read
// before it are in the tracker.
//
// Memory stays bounded: a fixed set of chunks circulates between the
// reader, the workers and the tracker, whatever the size of the input.
func Read(ctx context.Context, r io.Reader, clock *syslogstamp.Clock, t *Tracker, opts Options) (Stats, error) {
	opts = opts.withDefaults()
	sp := &splitter{clock: clock, maxLine: opts.MaxLine}
	rs := &readSplitter{r: r, s: sp, progress: opts.Progress, carry: make([]byte, 0, opts.MaxLine)}
	sp.fill = rs.fill
	return pipeline(ctx, sp, chunkSize+opts.MaxLine, false, t, opts)
}

// ReadBytes is Read for a log already in memory, such as a file mapped
// with mmap: the workers parse it in place, without a copy. The tracker
// keeps copies of what it needs; release, if not nil, is told, a few
// chunks later, that the tracker is done with the first n bytes of data.
func ReadBytes(ctx context.Context, data []byte, release func(n int), clock *syslogstamp.Clock, t *Tracker, opts Options) (Stats, error) {
	opts = opts.withDefaults()
	sp := &splitter{clock: clock, maxLine: opts.MaxLine, release: release}
	bs := &byteSplitter{data: data, progress: opts.Progress}
	sp.fill = bs.fill
	return pipeline(ctx, sp, 0, true, t, opts)
}

// ErrTruncated means a mapped file shrank while it was read: someone
// truncated it (logrotate's copytruncate does).
var ErrTruncated = errors.New("the file was truncated while it was read")

// guarded runs f. When the data is a mapped file, a memory fault in f
// (the file truncated under us) becomes ErrTruncated instead of a crash.
func guarded(mapped bool, f func()) (err error) {
	if !mapped {
		f()
		return nil
	}
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); ok {
				err = ErrTruncated
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 64 << 10
	}
	return o
}

// pipeline runs the splitter, the workers and the tracker. Chunks get
// buffers of bufSize bytes; 0 when the splitter points them into memory
// it already has. mapped says that memory is a mapped file.
func pipeline(ctx context.Context, sp *splitter, bufSize int, mapped bool, t *Tracker, opts Options) (Stats, error) {
	inFlight := 2*opts.Workers + 2
	free := make(chan *chunk, inFlight)
	for i := 0; i < inFlight; i++ {
		// Room for what the tracker needs of a chunk, so the slices do
		// not grow by copying.
		free <- &chunk{
			buf:     make([]byte, 0, bufSize),
			lines:   make([]line, 0, linesPerChunk),
			reports: make([]*decoded, 0, reportsPerChunk),
			decodes: make([]decoded, 0, reportsPerChunk),
		}
	}
	jobs := make(chan *chunk, inFlight)
	order := make(chan *chunk, inFlight)

	var wg sync.WaitGroup
	for i := 0; i < opts.Workers; i++ {
		wg.Add(1)
		var cl Classifier
		if opts.NewClassifier != nil {
			cl = opts.NewClassifier()
		}
		w := newWorker(cl, t.seed)
		go func() {
			defer wg.Done()
			for c := range jobs {
				c.err = guarded(mapped, func() { parseChunk(c, w, opts.Samples, opts.MaxLine) })
				close(c.done)
			}
		}()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readErr error
	go func() {
		defer close(order)
		defer close(jobs)
		if err := guarded(mapped, func() { readErr = sp.run(ctx, free, jobs, order) }); err != nil {
			readErr = err
		}
	}()

	var total Stats
	roll := syslogstamp.Rollover{Location: sp.clock.Location}
	// The first and last times of the lines the tracker got, after the
	// year rollover; the workers' own figures can't know about it.
	var first, last time.Time
	var failed error // after a fault, the chunks are drained, not tracked
	for c := range order {
		<-c.done
		if failed == nil && c.err != nil {
			failed = c.err
			cancel()
		}
		if failed == nil {
			// Workers number lines within their chunk; in order, the
			// numbers become the file's.
			base := total.Lines
			for i := range c.stats.Samples {
				c.stats.Samples[i].Line += base
			}
			if c.stats.FirstOverlong != 0 {
				c.stats.FirstOverlong += base
			}
			if c.skipAfter > 0 {
				if c.stats.FirstOverlong == 0 {
					c.stats.FirstOverlong = base + c.stats.Lines + 1
				}
				c.stats.Overlong += c.skipAfter
				c.stats.Lines += c.skipAfter
			}
			merge(&total, &c.stats, opts.Samples)
			failed = guarded(mapped, func() {
				var e entry
				for i := range c.lines {
					t.prefetch(c.lines, i)
					l := &c.lines[i]
					switch {
					case l.traditional:
						l.time = roll.Fix(time.Unix(0, l.time)).UnixNano()
					case l.settle:
						l.time = roll.Settle(time.Unix(0, l.time)).UnixNano()
					}
					c.entry(i, &e)
					if first.IsZero() || e.time.Before(first) {
						first = e.time
					}
					if e.time.After(last) {
						last = e.time
					}
					t.add(&e)
				}
			})
			if failed != nil {
				cancel()
			}
		}
		clear(c.reports) // the cached reports they point to may be dropped
		c.lines, c.reports, c.decodes = c.lines[:0], c.reports[:0], c.decodes[:0]
		c.stats = Stats{}
		c.err, c.skipAfter = nil, 0
		free <- c
	}
	wg.Wait()
	// The splitter is done: order is closed.
	if total.Yearless > 0 {
		total.Year = sp.clock.Fixed().Year
	}
	if !first.IsZero() {
		total.First, total.Last = first, last
	}
	if failed != nil {
		return total, failed
	}
	if readErr == nil {
		readErr = ctx.Err()
	}
	return total, readErr
}

// splitter hands out the input in chunks of whole lines, in order, each
// with a clock for the workers.
type splitter struct {
	clock   *syslogstamp.Clock
	maxLine int
	// fill puts the next chunk's lines into c and says whether the input
	// ended (and why, if it was an error).
	fill func(c *chunk) (end bool, err error)
	// release, if set, is told the end of each chunk the tracker is done
	// with, when the chunk comes back for reuse. Releasing pages costs
	// system time in proportion to the data: this goroutine has it to
	// spare, the tracker's does not.
	release func(n int)

	yearDecided bool
	yearTries   int
}

// run hands out chunks in order until the input ends. A read error ends
// the input: the data before it is still handed out, and the error is
// returned.
func (s *splitter) run(ctx context.Context, free <-chan *chunk, jobs, order chan<- *chunk) error {
	for {
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		if s.release != nil && c.end > 0 {
			s.release(c.end)
		}
		end, err := s.fill(c)
		if !s.yearDecided {
			s.yearDecided = decideYear(s.clock, c.buf, &s.yearTries)
		}
		c.clock = s.clock.Fixed()
		c.done = make(chan struct{})
		order <- c
		jobs <- c
		if end {
			return err
		}
	}
}

// readSplitter fills chunks from a reader, carrying a cut line over to
// the next chunk.
type readSplitter struct {
	r        io.Reader
	s        *splitter
	progress func(int64)
	carry    []byte // the start of a line the last chunk did not finish
	read     int64
	skipping bool // inside an overlong line, dropping bytes to its end
}

// skip starts dropping an overlong line that follows c's data.
func (s *readSplitter) skip(c *chunk) {
	s.skipping = true
	c.skipAfter++
}

// fill reads the next chunk into c: the carried start of a line, then as
// much input as fits, cut after the last newline.
func (s *readSplitter) fill(c *chunk) (end bool, err error) {
	for {
		c.buf = append(c.buf[:0], s.carry...)
		s.carry = s.carry[:0]
		n, rerr := io.ReadFull(s.r, c.buf[len(c.buf):len(c.buf)+chunkSize])
		data := c.buf[len(c.buf) : len(c.buf)+n]
		s.read += int64(n)
		if s.progress != nil {
			s.progress(s.read)
		}
		end = rerr != nil
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			rerr = nil // io.ReadFull's own signals for the end of the input
		}
		if s.skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if end {
					c.buf = c.buf[:0]
					return true, rerr
				}
				continue
			}
			copy(c.buf[len(c.buf):cap(c.buf)], data[i+1:])
			data = c.buf[len(c.buf) : len(c.buf)+n-i-1]
			s.skipping = false
		}
		whole := c.buf[:len(c.buf)+len(data)]
		if end {
			c.buf = whole
			return true, rerr
		}
		last := bytes.LastIndexByte(whole, '\n')
		if last < 0 {
			if len(whole) > s.s.maxLine {
				// A line longer than any Postfix writes: drop it to its end.
				s.skip(c)
				c.buf = c.buf[:0]
				return false, nil
			}
			s.carry = append(s.carry, whole...)
			continue
		}
		rest := whole[last+1:]
		if len(rest) > s.s.maxLine {
			s.skip(c)
		} else {
			s.carry = append(s.carry, rest...)
		}
		c.buf = whole[:last+1]
		return false, nil
	}
}

// byteSplitter fills chunks with pieces of a log in memory, cut after a
// newline near every chunkSize bytes; nothing is copied.
type byteSplitter struct {
	data     []byte
	off      int
	progress func(int64)
}

func (s *byteSplitter) fill(c *chunk) (end bool, err error) {
	rest := s.data[s.off:]
	if len(rest) <= chunkSize {
		c.buf = rest
		s.off = len(s.data)
	} else {
		cut := chunkSize
		if i := bytes.IndexByte(rest[cut:], '\n'); i >= 0 {
			cut += i + 1
		} else {
			cut = len(rest)
		}
		c.buf = rest[:cut]
		s.off += cut
	}
	c.end = s.off
	if s.progress != nil {
		s.progress(int64(s.off))
	}
	return s.off == len(s.data), nil
}

// decideYear lets the clock infer the year from the first traditional
// stamp, before the workers get fixed copies of it. Stamps that carry their
// year need none, so the search stops after the first chunks of a log that
// starts with them.
func decideYear(clock *syslogstamp.Clock, buf []byte, tries *int) bool {
	*tries++
	// A log with traditional stamps has them on nearly every line: the
	// first lines of a chunk tell, and the rest need not be split here,
	// ahead of the workers.
	for n := 0; len(buf) > 0 && n < 256; n++ {
		line := buf
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			buf = nil
		}
		line = syslogstamp.TrimPRI(line) // "<22>Nov 30 10:00:01", as Parse reads it
		if syslogstamp.Traditional(line) {
			if _, _, ok := clock.Parse(line); ok {
				return true
			}
		}
	}
	return *tries >= 8
}

// parseChunk parses every line of c and keeps the lines that matter for
// the lifecycle, with their reports decoded and classified.
func parseChunk(c *chunk, w *worker, samples, maxLine int) {
	buf := c.buf
	c.stats.Bytes = int64(len(buf))
	var lineNo int64 = 1 // within the chunk; the tracker's side makes it absolute
	// One record on the stack is reused for every line; keep copies what
	// the tracker needs into the chunk's compact lines.
	var rec postfixlog.Record
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		var line []byte
		if i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			line, buf = buf, nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		c.stats.Lines++
		if len(line) > maxLine {
			// Longer than any line Postfix writes: a damaged file.
			c.stats.Overlong++
			if c.stats.FirstOverlong == 0 {
				c.stats.FirstOverlong = lineNo
			}
			lineNo++
			continue
		}
		err := postfixlog.Parse(c.clock, line, &rec)
		switch {
		case err == nil:
			c.stats.Postfix++
			if c.stats.First.IsZero() || rec.Time.Before(c.stats.First) {
				c.stats.First = rec.Time
			}
			if rec.Time.After(c.stats.Last) {
				c.stats.Last = rec.Time
			}
			if rec.Zoneless {
				c.stats.Zoneless++
			}
			if rec.Traditional {
				c.stats.Yearless++
			}
			c.keep(&rec, w)
		case errors.Is(err, postfixlog.ErrNotPostfix):
			c.stats.Other++
		case len(line) == 0:
		default:
			c.stats.Unparsed++
			if len(c.stats.Samples) < samples {
				text := line
				if len(text) > 200 {
					text = text[:200]
				}
				c.stats.Samples = append(c.stats.Samples, Sample{Line: lineNo, Text: string(text), Err: err.Error()})
			}
		}
		lineNo++
	}
}

func merge(total, s *Stats, samples int) {
	total.Lines += s.Lines
	total.Postfix += s.Postfix
	total.Other += s.Other
	total.Unparsed += s.Unparsed
	total.Overlong += s.Overlong
	if s.FirstOverlong != 0 && (total.FirstOverlong == 0 || s.FirstOverlong < total.FirstOverlong) {
		total.FirstOverlong = s.FirstOverlong
	}
	total.Zoneless += s.Zoneless
	total.Yearless += s.Yearless
	total.Bytes += s.Bytes
	if !s.First.IsZero() && (total.First.IsZero() || s.First.Before(total.First)) {
		total.First = s.First
	}
	if s.Last.After(total.Last) {
		total.Last = s.Last
	}
	for _, smp := range s.Samples {
		if len(total.Samples) < samples {
			total.Samples = append(total.Samples, smp)
		}
	}
}
