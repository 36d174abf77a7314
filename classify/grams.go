package classify

// A rule's text conditions are substrings of the reply. Testing each of
// some three hundred with strings.Contains costs a pass over the text per
// substring, which long texts (a bounce's prose) make dear. grams records
// which pairs of adjacent bytes a text holds, in one pass; a substring
// whose pairs are not all there cannot be in the text, and is skipped
// without a search.

// grams is a set of byte pairs: 65,536 bits.
type grams [1024]uint64

// minGramText is the length from which a text's pairs are worth
// collecting: shorter texts are searched directly.
const minGramText = 96

func (g *grams) fill(s string) {
	clear(g[:])
	for i := 0; i+1 < len(s); i++ {
		k := uint16(s[i])<<8 | uint16(s[i+1])
		g[k>>6] |= 1 << (k & 63)
	}
}

func (g *grams) has(k uint16) bool { return g[k>>6]&(1<<(k&63)) != 0 }

// gramKeys are the pairs a substring is tested by: its first, middle and
// last.
func gramKeys(s string) []uint16 {
	if len(s) < 2 {
		return nil
	}
	pair := func(i int) uint16 { return uint16(s[i])<<8 | uint16(s[i+1]) }
	return []uint16{pair(0), pair(len(s)/2 - 1 + len(s)%2), pair(len(s) - 2)}
}

// mayContain reports whether a text with pairs g can hold a substring
// with the given keys; always true without pairs.
func (g *grams) mayContain(keys []uint16) bool {
	if g == nil {
		return true
	}
	for _, k := range keys {
		if !g.has(k) {
			return false
		}
	}
	return true
}
