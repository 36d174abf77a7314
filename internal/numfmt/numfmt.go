// Package numfmt writes counts as every report of the project does, with
// comma separators between thousands: 2,692 — so a figure reads the same
// in analyze, plan and evidence.
package numfmt

import "strconv"

// Thousands writes n with a comma between each group of three digits.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	b := make([]byte, 0, len(sign)+len(s)+len(s)/3)
	b = append(b, sign...)
	pre := len(s) % 3
	if pre == 0 {
		pre = 3
	}
	b = append(b, s[:pre]...)
	for i := pre; i < len(s); i += 3 {
		b = append(append(b, ','), s[i:i+3]...)
	}
	return string(b)
}

// Count writes n, as Thousands does, and the noun, plural unless n is 1:
// "1 attempt", "2,692 attempts".
func Count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Thousands(n) + " " + noun + "s"
}
