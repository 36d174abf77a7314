package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress shows, on a terminal, how far the reading of each input is.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	sizes map[string]int64
	start time.Time
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, names []string) *progress {
	p := &progress{w: w, sizes: map[string]int64{}, start: time.Now()}
	for _, n := range names {
		if st, err := os.Stat(n); err == nil {
			p.sizes[n] = st.Size()
		}
	}
	return p
}

func (p *progress) update(name string, read int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond || now.Sub(p.start) < 500*time.Millisecond {
		return
	}
	p.last = now
	mbps := float64(read) / 1e6 / now.Sub(p.start).Seconds()
	line := fmt.Sprintf("reading %s: %s", name, megabytes(read))
	if size := p.sizes[name]; size > 0 && read <= size {
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

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
