// Package ascii normalises protocol text cheaply: it folds the case of
// ASCII letters only, as SMTP keywords, header field names (RFC 5322
// §1.2.2) and the phrases MTAs write want it folded (faster than
// strings.ToLower on text with non-ASCII bytes, and every offset in the
// folded text is one in the original), and squeezes white space without
// allocating for text that has no run of it.
package ascii

import "strings"

// Lower returns s with A-Z folded to a-z: s itself when it has none.
func Lower(s string) string {
	i := 0
	for i < len(s) && !isUpper(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// AppendLower appends b to dst with A-Z folded to a-z.
func AppendLower(dst, b []byte) []byte {
	n := len(dst)
	dst = append(dst, b...)
	fold(dst[n:])
	return dst
}

// fold folds A-Z to a-z in b.
func fold(b []byte) {
	for i, c := range b {
		if isUpper(c) {
			b[i] = c + 'a' - 'A'
		}
	}
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// Squeeze is strings.Join(strings.Fields(s), " "): runs of white space
// become one space, and the ends lose theirs. Protocol text is mostly
// squeezed already; then s comes back as is, without the allocations.
func Squeeze(s string) string {
	if squeezed(s) {
		return s
	}
	if !isASCII(s) {
		return strings.Join(strings.Fields(s), " ") // Unicode's spaces
	}
	// One pass and one allocation, where Fields and Join take two of
	// each; words are copied whole.
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		if j > i {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}

// isSpace reports whether c is ASCII white space, as unicode.IsSpace
// has it: space, tab, newline, vertical tab, form feed, carriage return.
func isSpace(c byte) bool { return c == ' ' || c-'\t' <= '\r'-'\t' }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// squeezed reports whether s is ASCII with single spaces between its
// words and none at its ends: what Squeeze makes of any text.
func squeezed(s string) bool {
	if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return false
	}
	// Eight bytes at a time (every reply a log holds comes through here):
	// a word with a byte past ASCII is not squeezed, one with a control
	// byte is left to the loop below, and spaces side by side are found
	// as adjacent zero bytes of the word XOR spaces.
	i := 0
	var spaceBefore uint64 // 1 if the byte before the word is a space
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&highBits != 0 {
			return false
		}
		if (w-0x2020202020202020)&^w&highBits != 0 {
			break // a control byte, perhaps white space
		}
		x := w ^ 0x2020202020202020
		spaces := ^((x&lowBits + lowBits) | x | lowBits) // 0x80 in each space
		if spaces&(spaces>>8) != 0 || spaceBefore&(spaces>>7) != 0 {
			return false
		}
		spaceBefore = spaces >> 63
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80, c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			return false
		case c == ' ' && (s[i+1] == ' ' || i > 0 && s[i-1] == ' '):
			return false
		}
	}
	return true
}

const (
	highBits = 0x8080808080808080
	lowBits  = 0x7f7f7f7f7f7f7f7f
)
