package ascii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLower(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"in reply to rcpt to", "in reply to rcpt to"},
		{"(in reply to RCPT TO command)", "(in reply to rcpt to command)"},
		{"Content-Type", "content-type"},
		// Only ASCII letters fold: a non-ASCII capital stays, so that
		// offsets and lengths are the original's.
		{"Ärger: Mailbox VOLL", "Ärger: mailbox voll"},
		{"\u212A", "\u212A"}, // KELVIN SIGN, which strings.ToLower makes "k"
		{"\xffAB\x80", "\xffab\x80"},
	} {
		if got := Lower(tc.in); got != tc.want {
			t.Errorf("Lower(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := string(AppendLower([]byte("x:"), []byte(tc.in))); got != "x:"+tc.want {
			t.Errorf("AppendLower(%q) = %q, want %q", tc.in, got, "x:"+tc.want)
		}
	}
}

// FuzzLower: the length never changes, and on ASCII text Lower is
// strings.ToLower.
func FuzzLower(f *testing.F) {
	f.Add("Diagnostic-Code: SMTP; 550 5.1.1 User Unknown")
	f.Add("宛先不明 User UNKNOWN")
	f.Fuzz(func(t *testing.T, s string) {
		got := Lower(s)
		if len(got) != len(s) {
			t.Fatalf("Lower(%q) = %q: length changed", s, got)
		}
		if isASCII(s) && got != strings.ToLower(s) {
			t.Errorf("Lower(%q) = %q, strings.ToLower %q", s, got, strings.ToLower(s))
		}
		if utf8.ValidString(s) != utf8.ValidString(got) {
			t.Errorf("Lower(%q) = %q changed UTF-8 validity", s, got)
		}
		if string(AppendLower(nil, []byte(s))) != got {
			t.Errorf("AppendLower and Lower differ on %q", s)
		}
	})
}

func BenchmarkLower(b *testing.B) {
	s := strings.Repeat("This is the mail system at host mx.example.jp. 宛先不明 <Jane@Example.JP>: User Unknown\n", 40)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Lower(s)
	}
}

// FuzzSqueeze: Squeeze is strings.Join(strings.Fields(s), " ").
func FuzzSqueeze(f *testing.F) {
	for _, s := range []string{"", " ", "550 5.1.1 user unknown", "550  5.1.1", " 550", "550 ", "a\tb", "a\r\nb", "a\u00a0b", "a\u2003 b", "x\x85y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Squeeze(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("Squeeze(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzSqueezed: the word-at-a-time test says what a byte loop says.
func FuzzSqueezed(f *testing.F) {
	for _, s := range []string{"", "a", "12345678 abcdefg", "1234567  abcdefg", "1234567 \x01bcdefg", "abcdefgh\u00e9", "abcdefg\t", "x ", "abcdefghijklmno  p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) == 0 || s[0] != ' ' && s[len(s)-1] != ' '
		for i := 0; want && i < len(s); i++ {
			c := s[i]
			want = c < 0x80 && !(c >= '\t' && c <= '\r') && !(c == ' ' && s[i+1] == ' ')
		}
		if got := squeezed(s); got != want {
			t.Errorf("squeezed(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkSqueezed(b *testing.B) {
	s := "<20261126064230.AEA836EFAA@shop.example.net> [InternalId=924507037, Hostname=DM6PR11MB4316.namprd11.prod.outlook.com] Queued mail for delivery"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		squeezed(s)
	}
}
