package postfix

import (
	"unsafe"

	"github.com/mailtriage/mailtriage/internal/prefetch"
)

// table holds messages by a 64-bit hash, in open addressing with linear
// probing. A slot keeps the hash beside its message, so a probe compares
// hashes without reaching for the message's memory. Removing an entry
// moves the ones after it back into the gap (Knuth's Algorithm R, TAOCP
// vol. 3, §6.4), so the table keeps no tombstones: a Go map keeps one for
// each deletion, and the tracker deletes a message for each it adds, so
// its maps filled with them and had to be rebuilt. Messages whose keys
// share a hash sit in slots of their own, found by comparing their keys.
// The table keeps the size of the largest backlog it held: a tracker lives
// for one analysis, and shrinking would only make it grow again.
type table struct {
	slots []slot // a power of two in length, at most half full
	n     int
}

type slot struct {
	h uint64
	m *message // nil in an empty slot
}

const minTableSlots = 1 << 10

func (t *table) mask() uint64 { return uint64(len(t.slots) - 1) }

// match returns the message of hash h with host and queue id, or nil.
func (t *table) match(h uint64, host, qid []byte) *message {
	if t.n == 0 {
		return nil
	}
	mask := t.mask()
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.m == nil {
			return nil
		}
		if s.h == h && s.m.sameKey(host, qid) {
			return s.m
		}
	}
}

// first returns the first message of hash h, or nil: for a table that
// holds one message per hash (see put).
func (t *table) first(h uint64) *message {
	if t.n == 0 {
		return nil
	}
	mask := t.mask()
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.m == nil || s.h == h {
			return s.m
		}
	}
}

// insert adds m under hash h, beside any message of the same hash.
func (t *table) insert(h uint64, m *message) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := t.mask()
	i := h & mask
	for t.slots[i].m != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = slot{h: h, m: m}
	t.n++
}

// put makes m the message of hash h, in place of any other.
func (t *table) put(h uint64, m *message) {
	if t.n > 0 {
		mask := t.mask()
		for i := h & mask; t.slots[i].m != nil; i = (i + 1) & mask {
			if t.slots[i].h == h {
				t.slots[i].m = m
				return
			}
		}
	}
	t.insert(h, m)
}

// remove takes m, held under hash h, out of the table, if it is there.
func (t *table) remove(h uint64, m *message) {
	if t.n == 0 {
		return
	}
	mask := t.mask()
	i := h & mask
	for t.slots[i].m != m {
		if t.slots[i].m == nil {
			return
		}
		i = (i + 1) & mask
	}
	// Algorithm R: each entry after the gap, up to an empty slot, moves
	// into it unless its home slot lies cyclically after the gap and
	// not after the entry: a search for it, which starts at its home,
	// would not pass the gap.
	for j := i; ; {
		j = (j + 1) & mask
		if t.slots[j].m == nil {
			break
		}
		home := t.slots[j].h & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot{}
	t.n--
}

// grow doubles the slots, placing every message again.
func (t *table) grow() {
	old := t.slots
	t.slots = make([]slot, max(minTableSlots, 2*len(old)))
	t.n = 0
	for _, s := range old {
		if s.m != nil {
			t.insert(s.h, s.m)
		}
	}
}

// all calls f for every message.
func (t *table) all(f func(*message)) {
	for _, s := range t.slots {
		if s.m != nil {
			f(s.m)
		}
	}
}

// prefetchSlot asks the processor for the home slot of hash h (see
// Tracker.prefetch).
func (t *table) prefetchSlot(h uint64) {
	if len(t.slots) > 0 {
		prefetch.Line(unsafe.Pointer(&t.slots[h&t.mask()]))
	}
}

// home returns the message in the home slot of hash h if it has that
// hash, without probing further: most do.
func (t *table) home(h uint64) *message {
	if len(t.slots) == 0 {
		return nil
	}
	if s := &t.slots[h&t.mask()]; s.h == h {
		return s.m
	}
	return nil
}
