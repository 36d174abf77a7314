// Package pairs answers "can this text hold that substring?" cheaply:
// searching a long text for each of many substrings costs a pass per
// substring, while one pass records the pairs of adjacent bytes the text
// holds, and a substring whose pairs are not all there cannot be in it.
// Package bounce uses it for its markers and command phrases, searched in
// long prose a few dozen at a time (package literals serves hundreds).
package pairs

// Set is a set of byte pairs: 65,536 bits.
type Set [1024]uint64

// Fill makes s the set of the byte pairs of text.
func (s *Set) Fill(text string) {
	clear(s[:])
	for i := 0; i+1 < len(text); i++ {
		k := uint16(text[i])<<8 | uint16(text[i+1])
		s[k>>6] |= 1 << (k & 63)
	}
}

// FillBytes is Fill for a byte slice.
func (s *Set) FillBytes(text []byte) {
	clear(s[:])
	for i := 0; i+1 < len(text); i++ {
		k := uint16(text[i])<<8 | uint16(text[i+1])
		s[k>>6] |= 1 << (k & 63)
	}
}

func (s *Set) has(k uint16) bool { return s[k>>6]&(1<<(k&63)) != 0 }

// Keys are the pairs a substring is tested by: its first, middle and last.
type Keys []uint16

// KeysOf returns the keys of sub.
func KeysOf(sub string) Keys {
	if len(sub) < 2 {
		return nil
	}
	pair := func(i int) uint16 { return uint16(sub[i])<<8 | uint16(sub[i+1]) }
	return Keys{pair(0), pair(len(sub)/2 - 1 + len(sub)%2), pair(len(sub) - 2)}
}

// MayContain reports whether a text with the pairs s can hold a substring
// with keys k; always true for a nil set.
func (s *Set) MayContain(k Keys) bool {
	if s == nil {
		return true
	}
	for _, p := range k {
		if !s.has(p) {
			return false
		}
	}
	return true
}
