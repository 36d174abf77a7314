// Package errtext shows a value read from untrusted input inside an error
// message: quoted, shortened without cutting a character in two, and
// summarised when it is not text at all, so a report full of binary
// garbage gives a message a person can read.
package errtext

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Quote quotes s for an error, shortened to about 40 bytes. A value that is
// not text (a quarter of it U+FFFD, which decoders make of invalid bytes,
// or control characters) is summarised as "binary data (N bytes)".
func Quote(s string) string {
	bad, n := 0, 0
	for _, r := range s {
		n++
		if r == utf8.RuneError || r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			bad++
		}
	}
	if bad > 0 && bad*4 >= n {
		return fmt.Sprintf("binary data (%d bytes)", len(s))
	}
	return strconv.Quote(Clip(s, 40))
}

// Clip shortens s to at most n bytes and a "...", cutting at the start of
// a character.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
