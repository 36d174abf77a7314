// Package literals answers "which of these strings does this text hold?"
// in one pass over the text, with an Aho–Corasick automaton (Aho and
// Corasick, "Efficient string matching", CACM 18(6), 1975; the automaton is
// github.com/BobuSumisu/aho-corasick). The classifier's rules and the
// provider catalogue's markers each hold hundreds of substrings, and
// searching a reply text once for each of them was most of the cost of
// judging a reply.
package literals

import (
	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// Index is a set of strings, each with a small integer id. Add them all,
// then Compile; after that it is safe for concurrent use.
type Index struct {
	ids  map[string]int
	list []string
	trie *ahocorasick.Trie
}

// ID returns the id of s, adding it if it is new. It panics after
// Compile: the automaton is built for a fixed set.
func (x *Index) ID(s string) int {
	if x.trie != nil {
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
	b := ahocorasick.NewTrieBuilder()
	for _, s := range x.list {
		b.AddString(s)
	}
	x.trie = b.Build()
}

// Found is the set of ids a text holds.
type Found []uint64

// Has reports whether the text held the string with this id.
func (f Found) Has(id int) bool { return f[id>>6]&(1<<(id&63)) != 0 }

// Scan returns the ids of the strings text holds. An empty string is in
// every text.
func (x *Index) Scan(text string) Found {
	f := make(Found, (len(x.list)+63)/64)
	if x.trie == nil || len(x.list) == 0 {
		return f
	}
	x.trie.Walk([]byte(text), func(_, _, pattern int64) bool {
		f[pattern>>6] |= 1 << (pattern & 63)
		return true
	})
	if id, ok := x.ids[""]; ok {
		f[id>>6] |= 1 << (id & 63)
	}
	return f
}
