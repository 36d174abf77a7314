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
