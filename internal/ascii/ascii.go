// Package ascii folds the case of ASCII letters only, as protocol text
// wants it folded: SMTP keywords, header field names (RFC 5322 §1.2.2) and
// the phrases MTAs write are ASCII. Folding no other byte is also faster
// than strings.ToLower on text with non-ASCII bytes, and keeps every
// offset in the folded text an offset in the original.
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
