package analysis

import (
	"testing"
	"time"
)

// TestSpan: the period an analysis covers is its inputs' first to last
// stamp, as analyze heads its report, so plan and evidence say the same:
// a queue timeout logged days after the last attempt is inside it, and
// --since/--until narrow it. A saved analysis without inputs falls back
// to the hours that had attempts.
func TestSpan(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	hourly := []HourStats{{Hour: at("2025-03-10T14:00:00Z")}, {Hour: at("2025-03-10T15:00:00Z")}}
	inputs := []Input{
		{Name: "a", First: at("2025-03-10T14:02:11Z"), Last: at("2025-03-14T14:06:02Z")},
		{Name: "b", First: at("2025-03-09T10:00:00Z"), Last: at("2025-03-12T10:00:00Z")},
		{Name: "missing"},
	}
	for _, tc := range []struct {
		name     string
		r        Result
		from, to string
	}{
		{"inputs", Result{Inputs: inputs, Hourly: hourly}, "2025-03-09T10:00:00Z", "2025-03-14T14:06:02Z"},
		{"window", Result{Inputs: inputs, Hourly: hourly, Since: "2025-03-10T00:00:00Z", Until: "2025-03-11T00:00:00Z"}, "2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z"},
		{"no inputs", Result{Hourly: hourly}, "2025-03-10T14:00:00Z", "2025-03-10T16:00:00Z"},
	} {
		from, to := tc.r.Span()
		if !from.Equal(at(tc.from)) || !to.Equal(at(tc.to)) {
			t.Errorf("%s: %v to %v, want %s to %s", tc.name, from, to, tc.from, tc.to)
		}
	}
}
