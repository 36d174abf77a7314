package source

import (
	"context"
	"io"
	"os"
)

// interruptible returns a reader of r whose Read returns ctx's error as
// soon as ctx is done, even while r has nothing to give: a pipe whose
// writer is silent (ssh host tail -f …) would otherwise hold the reading,
// and the report, until the writer writes or closes, whatever ^C says.
// A regular file never blocks, and is returned as it is.
//
// A goroutine reads r into buffers of its own, two that take turns, so
// that a Read that returns early leaves no read in flight into the
// caller's buffer (a Reader must not keep p). After ctx is done it stays
// blocked in r's Read until r gives something; the command is ending.
func interruptible(ctx context.Context, r io.Reader) io.Reader {
	if ctx.Done() == nil {
		return r // never cancelled
	}
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return r
		}
	}
	ir := &interruptReader{ctx: ctx, full: make(chan piece), free: make(chan []byte, 2)}
	ir.free <- make([]byte, pieceSize)
	ir.free <- make([]byte, pieceSize)
	go ir.pump(r)
	return ir
}

// pieceSize is as much as a pipe holds by default (64 KiB on Linux) and
// more: one read each.
const pieceSize = 256 << 10

type interruptReader struct {
	ctx  context.Context
	full chan piece  // read by pump, for Read
	free chan []byte // given back by Read, for pump
	cur  []byte      // the buffer rest is in
	rest []byte      // what the current piece has beyond the last Read
	err  error       // r's error, once pump has stopped
}

type piece struct {
	data []byte
	err  error
}

// pump reads r until it fails, handing each piece to Read.
func (ir *interruptReader) pump(r io.Reader) {
	for {
		var buf []byte
		select {
		case buf = <-ir.free:
		case <-ir.ctx.Done():
			return
		}
		n, err := r.Read(buf[:cap(buf)])
		select {
		case ir.full <- piece{buf[:n], err}:
		case <-ir.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (ir *interruptReader) Read(p []byte) (int, error) {
	if len(ir.rest) == 0 && ir.err == nil {
		if ir.cur != nil {
			ir.free <- ir.cur // never blocks: there are two buffers
			ir.cur = nil
		}
		select {
		case pc := <-ir.full:
			ir.cur, ir.rest, ir.err = pc.data, pc.data, pc.err
		case <-ir.ctx.Done():
			return 0, ir.ctx.Err()
		}
	}
	if len(ir.rest) > 0 {
		n := copy(p, ir.rest)
		ir.rest = ir.rest[n:]
		return n, nil
	}
	return 0, ir.err
}
