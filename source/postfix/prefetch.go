package postfix

import (
	"unsafe"

	"github.com/mailtriage/mailtriage/internal/prefetch"
	"github.com/mailtriage/mailtriage/postfixlog"
)

// Distances, in lines, at which the tracker asks for what a line will
// read: its table slot first, then the message the slot points to, then
// what the message points to. A step reads what the step before asked for,
// which has come by then, to learn the next address.
const (
	slotAhead      = 16
	messageAhead   = 8
	recipientAhead = 4
)

// prefetch asks the processor for the memory the tracker will read for
// lines after line i (see internal/prefetch). An incident keeps thousands
// of messages queued for hours, and their table, messages and recipients
// outgrow the cache: each lookup waited on memory, one pointer after
// another, with the tracker's goroutine bounding the analysis. The
// workers hashed every line's keys, so the addresses are known lines
// ahead. A wrong guess (a slot that holds another message) costs a
// wasted fetch, never a wrong result.
func (t *Tracker) prefetch(lines []line, i int) {
	if !prefetch.Enabled {
		// The reads of slots and messages below would be loads that
		// wait on memory, for addresses nothing asks for.
		return
	}
	if j := i + slotAhead; j < len(lines) {
		l := &lines[j]
		t.msgs.prefetchSlot(l.msg)
		if l.kind == postfixlog.MessageID {
			t.byMsgID.prefetchSlot(l.idHash)
		}
	}
	if j := i + messageAhead; j < len(lines) {
		if m := t.msgs.home(lines[j].msg); m != nil {
			prefetch.Line(unsafe.Pointer(m))
			if lines[j].kind == postfixlog.Delivery {
				// A delivery line goes on to the message's recipients,
				// the first of which is the message's own.
				for off := uintptr(64); off < unsafe.Sizeof(*m); off += 64 {
					prefetch.Line(unsafe.Add(unsafe.Pointer(m), off))
				}
			}
		}
	}
	if j := i + recipientAhead; j < len(lines) {
		l := &lines[j]
		m := t.msgs.home(l.msg)
		if m == nil {
			return
		}
		switch l.kind {
		case postfixlog.Delivery:
			// Compared with the line's recipient; and a failure's
			// report goes to the recipient's cause.
			if m.first.addr != "" {
				prefetch.Line(unsafe.Pointer(unsafe.StringData(m.first.addr)))
			}
			if m.first.cause != nil {
				prefetch.Line(unsafe.Pointer(m.first.cause))
			}
		case postfixlog.Removed:
			// Closing takes the message out of the Message-ID index.
			if m.messageID != "" {
				t.byMsgID.prefetchSlot(m.idHash)
			}
		}
	}
}
