package cohort

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestReadSuppression: suppression lists come as exports too (Mailchimp's
// unsubscribed and cleaned, SendGrid's bounces with the address in the
// second column, a spreadsheet in semicolons); every address in them is
// suppressed, whatever its column, case or display name.
func TestReadSuppression(t *testing.T) {
	in := "\ufeffEmail Address;Reason\r\n" +
		"a@icloud.com;bounce\r\n" +
		"created,email,reason\n" +
		"1700000000,b@icloud.com,\"550 5.1.1 user unknown, sorry\"\n" +
		"\"Bee, C\" <C@icloud.com>\n" +
		"d@icloud.com\t2026-01-01\n" +
		" E@ICLOUD.COM \n" +
		"# f@icloud.com is a comment\n"
	got, err := ReadSuppression(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	addrs := slices.Sorted(maps.Keys(got))
	if want := []string{"a@icloud.com", "b@icloud.com", "c@icloud.com", "d@icloud.com", "e@icloud.com"}; !slices.Equal(addrs, want) {
		t.Errorf("got %v, want %v", addrs, want)
	}
}

// TestReadSuppressionLongLine: a line longer than the scanner allows is
// an error, not a list cut short without a word.
func TestReadSuppressionLongLine(t *testing.T) {
	if _, err := ReadSuppression(strings.NewReader("a@b.example\n" + strings.Repeat("x", 1<<24+1) + "\n")); err == nil {
		t.Error("a 16 MiB line was read without an error")
	}
}

// FuzzReadSuppression: any input reads without a panic, and every address
// kept is one Address accepts, in lower case.
func FuzzReadSuppression(f *testing.F) {
	f.Add("a@icloud.com\n# c\n\"Bee, C\" <C@icloud.com>;x\n")
	f.Add("\ufeffemail\r\n<@>\n@\nx@\n")
	f.Fuzz(func(t *testing.T, in string) {
		set, err := ReadSuppression(strings.NewReader(in))
		if err != nil {
			return
		}
		for a := range set {
			if got, ok := Address(a); !ok || got != a || strings.ToLower(a) != a {
				t.Errorf("kept %q, which Address reads as %q, %v", a, got, ok)
			}
		}
	})
}
