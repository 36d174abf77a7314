package postfix

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage/postfixlog"
)

// Options tune a Reader.
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

type chunk struct {
	buf       []byte // the chunk's complete lines
	firstLine int64  // line number of the first line
	clock     *postfixlog.Clock
	overlong  int64 // lines skipped before this chunk's data
	lines     []Line
	stats     Stats
	done      chan struct{}
}

// Read reads one Postfix log from r into the tracker, parsing in parallel
// and tracking in order. clock decides the time of each stamp; give each
// input its own. It returns what it saw, and an error if reading stopped
// early (a truncated compressed file, a cancelled context): the lines read
// before it are in the tracker.
func Read(ctx context.Context, r io.Reader, clock *postfixlog.Clock, t *Tracker, opts Options) (Stats, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	maxLine := opts.MaxLine
	if maxLine <= 0 {
		maxLine = 64 << 10
	}
	jobs := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers)
	pool := sync.Pool{New: func() any { return &chunk{buf: make([]byte, 0, chunkSize+maxLine)} }}

	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		var cl Classifier
		if opts.NewClassifier != nil {
			cl = opts.NewClassifier()
		}
		go func() {
			defer wg.Done()
			for c := range jobs {
				parseChunk(c, cl, opts.Samples)
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
		readErr = split(ctx, r, clock, maxLine, &pool, jobs, order, opts.Progress)
	}()

	var total Stats
	var roll postfixlog.Rollover
	// The first and last times of the lines the tracker got, after the
	// year rollover; the workers' own figures can't know about it.
	var first, last time.Time
	for c := range order {
		<-c.done
		merge(&total, &c.stats, opts.Samples)
		total.Overlong += c.overlong
		for i := range c.lines {
			l := &c.lines[i]
			if l.Rec.Traditional {
				l.Rec.Time = roll.Fix(l.Rec.Time)
			}
			if first.IsZero() || l.Rec.Time.Before(first) {
				first = l.Rec.Time
			}
			if l.Rec.Time.After(last) {
				last = l.Rec.Time
			}
			t.Add(l)
		}
		c.lines = c.lines[:0]
		c.buf = c.buf[:0]
		c.stats = Stats{}
		pool.Put(c)
	}
	wg.Wait()
	if !first.IsZero() {
		total.First, total.Last = first, last
	}
	if readErr == nil {
		readErr = ctx.Err()
	}
	return total, readErr
}

// split cuts r into chunks of whole lines and hands them out in order. A
// read error ends the input: the data before it is still handed out, and
// the error is returned.
func split(ctx context.Context, r io.Reader, clock *postfixlog.Clock, maxLine int, pool *sync.Pool,
	jobs, order chan<- *chunk, progress func(int64)) error {
	var carry []byte
	var line int64 = 1
	var read, overlong int64
	skipping := false // inside an overlong line, dropping bytes to its end
	yearDecided := false
	buf := make([]byte, chunkSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf)
		end := err != nil
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil // io.ReadFull's own signals for the end of the input
		}
		data := buf[:n]
		read += int64(n)
		if progress != nil {
			progress(read)
		}
		if skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if end {
					return err
				}
				continue
			}
			data = data[i+1:]
			line++
			skipping = false
		}
		c := pool.Get().(*chunk)
		c.firstLine = line
		c.overlong, overlong = overlong, 0
		c.buf = append(c.buf[:0], carry...)
		if last := bytes.LastIndexByte(data, '\n'); last >= 0 {
			c.buf = append(c.buf, data[:last+1]...)
			carry = append(carry[:0], data[last+1:]...)
		} else {
			carry = append(carry, data...)
			c.buf = c.buf[:0]
		}
		switch {
		case end:
			c.buf = append(c.buf, carry...)
			carry = carry[:0]
		case len(carry) > maxLine:
			// A line longer than any Postfix writes: drop it to its end.
			carry = carry[:0]
			skipping = true
			overlong++
		}
		line += int64(bytes.Count(c.buf, []byte{'\n'}))
		if !yearDecided {
			yearDecided = decideYear(clock, c.buf)
		}
		c.clock = clock.Fixed()
		c.done = make(chan struct{})
		select {
		case order <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		jobs <- c
		if end {
			return err
		}
	}
}

// decideYear lets the clock infer the year from the first traditional stamp
// in buf, before the workers get fixed copies of it.
func decideYear(clock *postfixlog.Clock, buf []byte) bool {
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		line := buf
		if i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			buf = nil
		}
		if _, _, ok := clock.Parse(line); ok && postfixlog.Traditional(line) {
			return true
		}
	}
	return false
}

// parseChunk parses every line of c and keeps the lines that matter for
// the lifecycle, with their reports decoded and classified.
func parseChunk(c *chunk, cl Classifier, samples int) {
	buf := c.buf
	lineNo := c.firstLine
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
		c.stats.Bytes += int64(len(line)) + 1
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
			if rec.Kind != postfixlog.Other && len(rec.QueueID) > 0 {
				c.lines = append(c.lines, Line{Rec: rec})
				if rec.Kind == postfixlog.Delivery && cl != nil {
					l := &c.lines[len(c.lines)-1]
					l.Detail = decode(&rec)
					l.Verdict = cl.Classify(l.Detail)
					l.Decoded = true
				}
			}
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
