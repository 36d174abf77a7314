// Package literals answers "which of these strings does this text hold?"
// in one pass over the text, with an Aho–Corasick automaton (Aho and
// Corasick, "Efficient string matching", CACM 18(6), 1975). The automaton
// is github.com/coregx/ahocorasick, a DFA over byte classes whose flat
// table stays in the cache (a table of 256 transitions a state, for the
// classifier's 8,000 states, did not). The classifier's rules and the
// provider catalogue's markers each hold hundreds of substrings, and
// searching a reply text once for each of them was most of the cost of
// judging a reply.
package literals

import (
	"github.com/coregx/ahocorasick"
)

// Index is a set of strings, each with a small integer id. Add them all,
// then Compile; after that it is safe for concurrent use.
type Index struct {
	ids  map[string]int
	list []string
	// auto finds the non-empty strings; byPattern maps its pattern
	// numbers to ids.
	auto      *ahocorasick.Automaton
	byPattern []int
	compiled  bool
}

// ID returns the id of s, adding it if it is new. It panics after
// Compile: the automaton is built for a fixed set.
func (x *Index) ID(s string) int {
	if x.compiled {
		panic("literals: ID after Compile")
	}
	if x.ids == nil {
		x.ids = map[string]int{}
	}
	if id, ok := x.ids[s]; ok {
		return id
	}
	x.ids[s] = len(x.list)
	x.list = append(x.list, s)
	return len(x.list) - 1
}

// Compile builds the automaton.
func (x *Index) Compile() {
	b := ahocorasick.NewBuilder()
	for _, s := range x.list {
		if s != "" {
			b.AddPattern([]byte(s))
			x.byPattern = append(x.byPattern, x.ids[s])
		}
	}
	x.compiled = true
	if len(x.byPattern) == 0 {
		return
	}
	a, err := b.Build()
	if err != nil {
		panic("literals: " + err.Error()) // only for no or empty patterns, left out above
	}
	x.auto = a
}

// Found is the set of ids a text holds.
type Found []uint64

// Has reports whether the text held the string with this id.
func (f Found) Has(id int) bool { return f[id>>6]&(1<<(id&63)) != 0 }

// Scan returns the ids of the strings text holds. An empty string is in
// every text.
func (x *Index) Scan(text string) Found {
	f := make(Found, (len(x.list)+63)/64)
	if x.auto != nil {
		for _, m := range x.auto.FindAllOverlapping([]byte(text)) {
			id := x.byPattern[m.PatternID]
			f[id>>6] |= 1 << (id & 63)
		}
	}
	if id, ok := x.ids[""]; ok {
		f[id>>6] |= 1 << (id & 63)
	}
	return f
}
