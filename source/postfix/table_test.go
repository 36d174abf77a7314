package postfix

import (
	"math/rand/v2"
	"testing"
)

// TestTable checks the table against a Go map through random inserts and
// removals, with hashes from a small range so that probe runs collide,
// wrap around the end of the slots, and hold several messages of one hash.
func TestTable(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var tb table
	want := map[*message]bool{}
	var live []*message
	for step := range 200000 {
		if len(live) > 0 && rnd.IntN(2) == 0 {
			k := rnd.IntN(len(live))
			m := live[k]
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
			delete(want, m)
			tb.remove(m.hash, m)
		} else {
			// The top hashes land in the last slots, whose runs wrap.
			h := uint64(rnd.IntN(64))
			if rnd.IntN(4) == 0 {
				h = ^h
			}
			m := &message{hash: h}
			want[m] = true
			live = append(live, m)
			tb.insert(h, m)
		}
		if tb.n != len(want) {
			t.Fatalf("step %d: %d in the table, want %d", step, tb.n, len(want))
		}
		if step%1000 == 0 {
			checkTable(t, &tb, want)
		}
	}
	checkTable(t, &tb, want)
}

// checkTable: every message is found from its hash's home slot, and the
// table holds nothing else.
func checkTable(t *testing.T, tb *table, want map[*message]bool) {
	t.Helper()
	n := 0
	tb.all(func(m *message) {
		n++
		if !want[m] {
			t.Fatalf("a removed message is still in the table")
		}
		mask := tb.mask()
		for i := m.hash & mask; tb.slots[i].m != m; i = (i + 1) & mask {
			if tb.slots[i].m == nil {
				t.Fatalf("message of hash %d cut off from its home slot", m.hash)
			}
		}
	})
	if n != len(want) {
		t.Fatalf("%d messages in the table, want %d", n, len(want))
	}
}

// TestTablePut: put replaces the message of a hash, and first finds it.
func TestTablePut(t *testing.T) {
	var tb table
	a, b, c := &message{}, &message{}, &message{}
	tb.put(7, a)
	tb.put(7+minTableSlots, c) // the same home slot, another hash
	tb.put(7, b)
	if tb.first(7) != b || tb.first(7+minTableSlots) != c || tb.n != 2 {
		t.Fatalf("first(7) = %p, want %p; %d held", tb.first(7), b, tb.n)
	}
	tb.remove(7, a) // not there any more: nothing happens
	if tb.n != 2 {
		t.Fatal("removing an absent message changed the table")
	}
	tb.remove(7, b)
	if tb.first(7) != nil || tb.first(7+minTableSlots) != c {
		t.Fatal("removal lost the other hash")
	}
}
