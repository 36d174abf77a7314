package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
)

// TestCheck walks a lane through four days of new logs: a clean day
// (advance), a day with one bad hour (hold, suspecting the cohort added
// last), a bad day (roll back), a quiet day (no data).
func TestCheck(t *testing.T) {
	p := New(sample(t), Options{Threshold: 0.05})
	p.Lanes[0].Schedule[1].Cohorts = []string{"engaged-30d", "engaged-90d"}
	for i := range p.Lanes[0].Schedule {
		p.Lanes[0].Schedule[i].PerHour = 40
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	hour := func(day, h, attempts, deferrals int) analysis.HourStats {
		return analysis.HourStats{Lane: "apple", Hour: start.Add(time.Duration(day*24+h) * time.Hour), Attempts: attempts, Deferrals: deferrals,
			DeferralRate: float64(deferrals) / float64(attempts)}
	}
	r := &analysis.Result{Hourly: []analysis.HourStats{
		hour(0, 9, 20, 0), hour(0, 10, 20, 1), hour(0, 11, 3, 1), // 1 of 3: too few to judge
		hour(1, 9, 20, 0), hour(1, 10, 20, 4), hour(1, 11, 40, 0), // one hour at 20%
		hour(2, 9, 20, 5), hour(2, 10, 20, 6), // the day at 27%
		hour(3, 9, 0, 0),
		{Lane: "yahoo", Hour: start, Attempts: 10},
	}}
	pr := p.Check(r, start.Add(5*time.Hour))
	a := pr[0]
	want := []struct {
		step int
		d    Decision
	}{{1, Advance}, {2, Hold}, {2, RollBack}, {1, NoData}}
	if len(a.Days) != len(want) {
		t.Fatalf("%d days: %+v", len(a.Days), a.Days)
	}
	for i, w := range want {
		if d := a.Days[i]; d.Step != w.step || d.Decision != w.d {
			t.Errorf("day %d: step %d %s, want %d %s", i+1, d.Step, d.Decision, w.step, w.d)
		}
	}
	if a.Days[1].Suspect != "engaged-90d" || len(a.Days[1].HoursOver) != 1 || a.Days[1].WorstRate != 0.2 {
		t.Errorf("hold day %+v", a.Days[1])
	}
	if a.Today == "" || pr[1].Lane != "yahoo" {
		t.Errorf("today %q, lanes %d", a.Today, len(pr))
	}
}

// TestCheckGuards: a day the logs do not cover to its end is not judged
// yet; hours well over the step's limit hold the lane (the throttle is
// not holding); a bad first day says to pause, as there is no step back.
func TestCheckGuards(t *testing.T) {
	p := New(sample(t), Options{Threshold: 0.05})
	for i := range p.Lanes[0].Schedule {
		p.Lanes[0].Schedule[i].PerHour = 10
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	hour := func(day, h, attempts, deferrals int) analysis.HourStats {
		return analysis.HourStats{Lane: "apple", Hour: start.Add(time.Duration(day*24+h) * time.Hour), Attempts: attempts, Deferrals: deferrals,
			DeferralRate: float64(deferrals) / float64(attempts)}
	}
	for _, tt := range []struct {
		name   string
		hours  []analysis.HourStats
		want   Decision
		reason string
	}{
		{"partial", []analysis.HourStats{hour(0, 9, 10, 0)}, Partial, "logs end"},
		{"over limit", []analysis.HourStats{hour(0, 9, 60, 0), hour(1, 0, 1, 0)}, Hold, "not holding"},
		{"bad first day", []analysis.HourStats{hour(0, 9, 10, 5), hour(1, 0, 1, 0)}, RollBack, "pause"},
		// Two deferrals in a day of few attempts: over the threshold, but
		// too few to step back on.
		{"two deferrals", []analysis.HourStats{hour(0, 9, 2, 1), hour(0, 15, 2, 1), hour(0, 20, 20, 0), hour(1, 0, 1, 0)}, Hold, "too few"},
	} {
		pr := p.Check(&analysis.Result{Hourly: tt.hours}, start)
		d := pr[0].Days[0]
		if d.Decision != tt.want || !strings.Contains(d.Reason, tt.reason) {
			t.Errorf("%s: %s (%s), want %s (%q)", tt.name, d.Decision, d.Reason, tt.want, tt.reason)
		}
	}
}

// TestJSONNoNulls: every list in a plan and in a check is a JSON array,
// empty when there is nothing, never null (jq's .lanes[] fails on null).
func TestJSONNoNulls(t *testing.T) {
	nulls := func(name string, v any) {
		t.Helper()
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(path string, x any)
		walk = func(path string, x any) {
			switch x := x.(type) {
			case nil:
				t.Errorf("%s: %s is null", name, path)
			case map[string]any:
				for k, v := range x {
					walk(path+"."+k, v)
				}
			case []any:
				for i, v := range x {
					walk(fmt.Sprintf("%s[%d]", path, i), v)
				}
			}
		}
		var x any
		json.Unmarshal(data, &x)
		walk("", x)
	}
	r := sample(t)
	p := New(r, Options{})
	nulls("plan", p)
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC) // a quiet day first
	nulls("check", p.Check(r, start))
	nulls("check with no mail", p.Check(&analysis.Result{}, start))
	r.Incidents = nil
	nothing := New(r, Options{})
	nulls("nothing to throttle", nothing)
	nulls("check of nothing", nothing.Check(r, start))
}

// TestCheckDone: a clean day on the last step (the usual volume) ends the
// recovery: what to do now is to remove the throttle, as the last step's
// rule says, not to stay on that step.
func TestCheckDone(t *testing.T) {
	p := New(sample(t), Options{Threshold: 0.05})
	l := &p.Lanes[0]
	for i := range l.Schedule {
		l.Schedule[i].PerHour = 10
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var hours []analysis.HourStats
	for d := 0; d <= len(l.Schedule); d++ {
		hours = append(hours, analysis.HourStats{Lane: "apple", Hour: start.Add(time.Duration(d*24+9) * time.Hour), Attempts: 10})
	}
	hours = append(hours, analysis.HourStats{Lane: "yahoo", Hour: start.Add(time.Duration(len(l.Schedule)+1) * 24 * time.Hour)})
	pr := p.Check(&analysis.Result{Hourly: hours}, start)[0]
	if last := pr.Days[len(pr.Days)-1]; last.Step != len(l.Schedule) || last.Decision != Advance {
		t.Fatalf("last day %+v", last)
	}
	if !strings.Contains(pr.Today, "remove the throttle") {
		t.Errorf("today %q: the recovery is over", pr.Today)
	}
	// One clean day on the last step is not yet the end.
	pr = p.Check(&analysis.Result{Hourly: hours[:len(l.Schedule)-1]}, start)[0]
	if strings.Contains(pr.Today, "remove the throttle") {
		t.Errorf("today %q before the last step", pr.Today)
	}
}

// TestCheckNotInstalled: a day of 1,054 attempts against a step of 1 an
// hour (24 a day) says first that the throttle is not installed or not
// holding, whatever else the day's deferrals decide: rolling back a step
// changes nothing while the throttle lets everything through.
func TestCheckNotInstalled(t *testing.T) {
	p := New(sample(t), Options{Threshold: 0.05})
	for i := range p.Lanes[0].Schedule {
		p.Lanes[0].Schedule[i].PerHour = 1
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var hours []analysis.HourStats
	for h := range 24 {
		n := 44
		if h < 2 {
			n = 43
		}
		hours = append(hours, analysis.HourStats{Lane: "apple", Hour: start.Add(time.Duration(h) * time.Hour), Attempts: n, Deferrals: 12, DeferralRate: 12 / float64(n)})
	}
	clean := slices.Clone(hours)
	for i := range clean {
		clean[i].Deferrals, clean[i].DeferralRate = 0, 0
	}
	for _, tt := range []struct {
		name  string
		hours []analysis.HourStats
		want  Decision
	}{
		{"bad first day", hours, RollBack},
		{"partial day", clean[:20], Partial},
	} {
		pr := p.Check(&analysis.Result{Hourly: tt.hours}, start)
		d := pr[0].Days[0]
		i := strings.Index(d.Reason, "not installed or not holding")
		if d.Decision != tt.want || i < 0 || i > 80 {
			t.Errorf("%s: %s (%s), want %s, saying first that the throttle is not installed or not holding", tt.name, d.Decision, d.Reason, tt.want)
		}
	}
	if got := hours[0].Attempts + 22*44 + hours[1].Attempts; got != 1054 {
		t.Fatalf("%d attempts", got)
	}
}
