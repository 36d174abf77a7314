package evidence

import "strconv"

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func itoa(n int) string { return strconv.Itoa(n) }

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// nonNil is l, or an empty list for nil: JSON [] rather than null.
func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// parens is " (s)", or "" for no s.
func parens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
