package evidence

import (
	"strconv"
	"strings"
)

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func itoa(n int) string { return strconv.Itoa(n) }

// thousands writes a count as analyze does: 2,692.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
