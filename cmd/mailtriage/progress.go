package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress shows, on a terminal, how far the reading of each input is: a
// bar when the input's size is known, the amount read otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	last  time.Time
	shown bool
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, start: time.Now()}
}

func (p *progress) update(name string, read, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond || now.Sub(p.start) < 500*time.Millisecond {
		return
	}
	p.last = now
	mbps := float64(read) / 1e6 / now.Sub(p.start).Seconds()
	line := fmt.Sprintf("reading %s: %s", name, megabytes(read))
	if size > 0 && read <= size {
		const width = 30
		done := int(float64(width) * float64(read) / float64(size))
		bar := make([]byte, width)
		for i := range bar {
			if i < done {
				bar[i] = '#'
			} else {
				bar[i] = '.'
			}
		}
		line = fmt.Sprintf("reading %s [%s] %3.0f%%", name, bar, 100*float64(read)/float64(size))
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s  %.0f MB/s", line, mbps)
	p.shown = true
}

// count shows how many items have been read, for inputs of unknown size.
func (p *progress) count(what string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond || now.Sub(p.start) < 500*time.Millisecond {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\r\x1b[K%s: %d  %.0f/s", what, n, float64(n)/now.Sub(p.start).Seconds())
	p.shown = true
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
