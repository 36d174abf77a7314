package literals

import (
	"strings"
	"testing"
)

// TestScan: every string found wherever it occurs, overlapping or nested
// in another (the automaton's output links), and nothing else.
func TestScan(t *testing.T) {
	var x Index
	words := []string{"user unknown", "unknown", "known", "mailbox full", "over quota", "5.7.1", "x", ""}
	for _, w := range words {
		x.ID(w)
	}
	if x.ID("unknown") != 1 {
		t.Fatal("an existing string got a new id")
	}
	x.Compile()
	for _, text := range []string{"550 5.1.1 user unknown", "452 4.2.2 mailbox full (over quota)", "554 5.7.1 blocked", "", "xx"} {
		f := x.Scan(text)
		for id, w := range words {
			if got, want := f.Has(id), strings.Contains(text, w); got != want {
				t.Errorf("%q holds %q: got %v, want %v", text, w, got, want)
			}
		}
	}
}

func FuzzScan(f *testing.F) {
	words := []string{"user unknown", "unknown", "nkno", "mailbox", "box full", "é", "\x00"}
	var x Index
	for _, w := range words {
		x.ID(w)
	}
	x.Compile()
	f.Add("550 user unknown, mailbox full")
	f.Add("é\x00")
	f.Fuzz(func(t *testing.T, text string) {
		found := x.Scan(text)
		for id, w := range words {
			if got, want := found.Has(id), strings.Contains(text, w); got != want {
				t.Errorf("%q holds %q: got %v, want %v", text, w, got, want)
			}
		}
	})
}
