package report

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// validUTF8 renders with render into a buffer and writes it to w as valid
// UTF-8. Log text is bytes: an old server's reply or a syslog line can
// carry Latin-1, and a report that declares UTF-8 (HTML's meta charset,
// Markdown in a ticket, a terminal) must be it.
func validUTF8(w io.Writer, render func(w io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	_, err := w.Write(toUTF8(buf.Bytes()))
	return err
}

// toUTF8 returns b, or, when b is not valid UTF-8, a copy in which each
// byte outside a valid sequence is read as Latin-1 (ISO 8859-1), the usual
// 8-bit charset of mail, or as U+FFFD in the C1 range, which Latin-1
// leaves to control characters.
func toUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r != utf8.RuneError || n > 1:
			out = append(out, b[:n]...)
		case b[0] >= 0xa0:
			out = utf8.AppendRune(out, rune(b[0]))
		default:
			out = utf8.AppendRune(out, utf8.RuneError)
		}
		b = b[n:]
	}
	return out
}
