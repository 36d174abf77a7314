package errtext

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"10.0.0.x", `"10.0.0.x"`},
		{strings.Repeat("é", 30), `"` + strings.Repeat("é", 20) + `..."`}, // 40 bytes, no half character
		{"\x00\x01\x02abc", "binary data (6 bytes)"},
		{"\uFFFD\uFFFDab", "binary data (8 bytes)"},
		{"tab\there", `"tab\there"`},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func FuzzQuote(f *testing.F) {
	f.Add("é\x00")
	f.Fuzz(func(t *testing.T, s string) {
		if q := Quote(s); len(q) > 200 {
			t.Fatalf("Quote made %d bytes of %d", len(q), len(s))
		}
	})
}
