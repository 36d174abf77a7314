package numfmt

import "testing"

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 2692: "2,692", 123456: "123,456",
		1234567: "1,234,567", -5: "-5", -1234: "-1,234", -123456: "-123,456",
	} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 attempts"}, {1, "1 attempt"}, {2, "2 attempts"}, {2692, "2,692 attempts"},
	} {
		if got := Count(tt.n, "attempt"); got != tt.want {
			t.Errorf("Count(%d, attempt) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
