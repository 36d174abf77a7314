package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// Decision is what to do after a day of the schedule.
type Decision string

const (
	Advance  Decision = "advance"   // every hour stayed under the threshold
	Hold     Decision = "hold"      // an hour passed it: stay on this step
	RollBack Decision = "roll back" // the day as a whole passed it: one step back
	NoData   Decision = "no data"   // the lane sent nothing that day
	Partial  Decision = "partial"   // the logs end before the day does: judge it tomorrow
)

// Progress is how a lane is doing against its schedule.
type Progress struct {
	Lane  string        `json:"lane"`
	Days  []DayProgress `json:"days"`
	Today string        `json:"today"` // what to do now, in a sentence
}

// DayProgress is one day of the lane in new logs.
type DayProgress struct {
	Date         time.Time  `json:"date"`
	Step         int        `json:"step"` // the schedule day the lane was on, 1-based
	Phase        string     `json:"phase"`
	Limit        int        `json:"per_hour_limit"`
	Attempts     int        `json:"attempts"`
	DeferralRate float64    `json:"deferral_rate"`
	WorstHour    time.Time  `json:"worst_hour,omitzero"`
	WorstRate    float64    `json:"worst_rate"`
	HoursOver    []HourRate `json:"hours_over_threshold"`
	Hours        []HourRate `json:"hours"`
	// OverLimit are the hours that carried well over the step's limit:
	// the throttle is not installed, or not holding.
	OverLimit []HourRate `json:"hours_over_limit,omitempty"`
	Decision  Decision   `json:"decision"`
	Reason    string     `json:"reason"`
	Suspect   string     `json:"suspect,omitempty"` // the cohort added last, when holding or rolling back
}

// HourRate is one hour's deferral rate.
type HourRate struct {
	Hour     time.Time `json:"hour"`
	Attempts int       `json:"attempts"`
	Rate     float64   `json:"deferral_rate"`
}

// minJudged is the fewest attempts an hour needs to count against the
// threshold: two deferrals out of three say little.
const minJudged = 5

// minDayDeferrals is the fewest deferrals that can step a day back: at
// day one's hour a message, one deferral of 24 is 4%, two are 8%, and
// neither says the receiver objects.
const minDayDeferrals = 3

// Check follows each lane of the plan through new analysed logs, day by
// day from start (day one of the schedule, UTC midnight): each day's
// hourly deferral rates against the lane's threshold, and the decision
// they lead to. A day with every judged hour under the threshold
// advances a step; one with an hour over it holds; one whose whole rate
// passed the threshold steps back, if it had deferrals enough to tell
// (else it holds). Holding and stepping back name the
// cohort added last, the first suspect.
func (p *Plan) Check(r *analysis.Result, start time.Time) []Progress {
	start = start.UTC().Truncate(24 * time.Hour)
	out := []Progress{} // a JSON array, never null
	for _, l := range p.Lanes {
		if len(l.Schedule) > 0 {
			out = append(out, l.progress(r, start))
		}
	}
	return out
}

// Valid says whether p is a whole plan (as read back from JSON).
func (p *Plan) Valid() error {
	if len(p.Lanes) == 0 && p.Nothing == "" {
		return fmt.Errorf("plan: no lanes, and no word that nothing needs slowing")
	}
	for _, l := range p.Lanes {
		if l.Lane == "" || len(l.Schedule) == 0 || l.Threshold <= 0 {
			return fmt.Errorf("plan: lane %q has no schedule or threshold", l.Lane)
		}
	}
	return nil
}

func (l LanePlan) progress(r *analysis.Result, start time.Time) Progress {
	days := map[int][]analysis.HourStats{}
	last := -1
	var logEnd time.Time // the end of the last hour the logs cover, any lane
	for _, h := range r.Hourly {
		if end := h.Hour.Add(time.Hour); end.After(logEnd) {
			logEnd = end
		}
	}
	for _, h := range r.Hourly {
		if h.Lane != l.Lane || h.Hour.Before(start) {
			continue
		}
		d := int(h.Hour.Sub(start) / (24 * time.Hour))
		days[d] = append(days[d], h)
		last = max(last, d)
	}
	pr := Progress{Lane: l.Lane, Days: []DayProgress{}}
	step := 0
	done := false // a clean day on the last step: the recovery is over
	for d := 0; d <= last; d++ {
		date := start.Add(time.Duration(d) * 24 * time.Hour)
		dp := l.judge(date, step, days[d], date.Add(24*time.Hour).After(logEnd))
		pr.Days = append(pr.Days, dp)
		switch dp.Decision {
		case Advance:
			done = done || step == len(l.Schedule)-1
			step = min(step+1, len(l.Schedule)-1)
		case RollBack:
			done = false
			step = max(step-1, 0)
		case Hold:
			done = false
		}
	}
	s := l.Schedule[step]
	switch {
	case done:
		pr.Today = fmt.Sprintf("a day at the usual volume (day %d) with every hour under %.0f%%: remove the throttle (the configuration's roll back steps) and keep watching the lane", s.Day, 100*l.Threshold)
	case len(pr.Days) == 0 && len(elsewhere(r, l)) > 0:
		pr.Today = fmt.Sprintf("no mail counted to the lane, but the logs have mail to its domains in other lanes (%s): give plan check the --lanes file the plan was made with", strings.Join(elsewhere(r, l), ", "))
	case len(pr.Days) == 0:
		pr.Today = fmt.Sprintf("no mail to the lane since %s: start with day 1 (%d an hour)", start.Format(time.DateOnly), l.Schedule[0].PerHour)
	default:
		pr.Today = fmt.Sprintf("be on day %d (%s): %d an hour%s", s.Day, s.Phase, s.PerHour, cohortsNote(s.Cohorts))
	}
	return pr
}

// elsewhere names the lane's domains that the logs put in other lanes
// ("corp.example.org in other"): the logs were sorted with other lanes
// than the plan's.
func elsewhere(r *analysis.Result, l LanePlan) []string {
	var out []string
	for _, ls := range r.Lanes {
		if ls.Lane == l.Lane {
			continue
		}
		for _, d := range ls.Sites {
			if slices.Contains(l.Domains, d.Domain) {
				out = append(out, d.Domain+" in "+ls.Lane)
			}
		}
	}
	return out
}

func cohortsNote(c []string) string {
	if len(c) == 0 {
		return ""
	}
	return ", cohorts " + fmt.Sprint(c)
}

// overLimit says whether an hour carried well over the step's limit (a
// fifth more, and two: retries and rounding are not a breach).
func overLimit(attempts, limit int) bool { return attempts > limit+limit/5+2 }

// notHolding says that the throttle is evidently not installed, or not
// holding, when the day or some of its hours carried well over the step's
// limit (overLimit); "" when not.
func notHolding(dp DayProgress, perHour int) string {
	const w = "the throttle is not installed or not holding"
	switch perDay := 24 * perHour; {
	case overLimit(dp.Attempts, perDay):
		return fmt.Sprintf("%s: %s attempts in the day against the step's %d an hour (%s a day)", w, numfmt.Thousands(int64(dp.Attempts)), perHour, numfmt.Thousands(int64(perDay)))
	case len(dp.OverLimit) > 0:
		hours := fmt.Sprintf("%d hours", len(dp.OverLimit))
		if len(dp.OverLimit) == 1 {
			hours = "1 hour"
		}
		return fmt.Sprintf("%s: %s carried well over the step's %d an hour", w, hours, perHour)
	}
	return ""
}

// judge decides one day, on step (0-based) of the schedule; partial when
// the logs end before the day does.
func (l LanePlan) judge(date time.Time, step int, hours []analysis.HourStats, partial bool) DayProgress {
	s := l.Schedule[step]
	dp := DayProgress{Date: date, Step: s.Day, Phase: s.Phase, Limit: s.PerHour, Hours: []HourRate{}, HoursOver: []HourRate{}}
	deferrals := 0
	for _, h := range hours {
		hr := HourRate{Hour: h.Hour, Attempts: h.Attempts, Rate: h.DeferralRate}
		dp.Hours = append(dp.Hours, hr)
		dp.Attempts += h.Attempts
		deferrals += h.Deferrals
		if overLimit(h.Attempts, s.PerHour) {
			dp.OverLimit = append(dp.OverLimit, hr)
		}
		if h.Attempts < minJudged {
			continue
		}
		if h.DeferralRate > dp.WorstRate {
			dp.WorstRate, dp.WorstHour = h.DeferralRate, h.Hour
		}
		if h.DeferralRate > l.Threshold {
			dp.HoursOver = append(dp.HoursOver, hr)
		}
	}
	if dp.Attempts > 0 {
		dp.DeferralRate = float64(deferrals) / float64(dp.Attempts)
	}
	t := fmt.Sprintf("%.0f%%", 100*l.Threshold)
	// The throttle caps every hour, so a day or hours well over the
	// step's limit say it is not there, before anything the deferrals
	// say: a step back changes nothing while all the mail goes through.
	// (A day with no attempts is over no limit.)
	notThere := notHolding(dp, s.PerHour)
	said := false // the decision itself is that the throttle is not holding
	switch {
	case dp.Attempts == 0:
		dp.Decision, dp.Reason = NoData, "no mail to the lane that day"
	case dp.DeferralRate > l.Threshold && deferrals < minDayDeferrals && len(dp.HoursOver) == 0:
		dp.Decision, dp.Reason = Hold, fmt.Sprintf("%d of %d attempts deferred (%.0f%%, over %s), too few to judge the day by: stay on this step a day", deferrals, dp.Attempts, 100*dp.DeferralRate, t)
	case dp.DeferralRate > l.Threshold && step == 0:
		dp.Decision, dp.Reason = RollBack, fmt.Sprintf("the day's deferral rate, %.0f%%, passed %s on the first step: pause the lane's bulk mail for a day (essential mail only), check the blocklists and authentication, and start again at day 1", 100*dp.DeferralRate, t)
	case dp.DeferralRate > l.Threshold:
		dp.Decision, dp.Reason = RollBack, fmt.Sprintf("the day's deferral rate, %.0f%%, passed %s: one step back", 100*dp.DeferralRate, t)
	case len(dp.HoursOver) > 0:
		dp.Decision, dp.Reason = Hold, fmt.Sprintf("%d hours passed %s: stay on this step a day", len(dp.HoursOver), t)
	case partial:
		dp.Decision, dp.Reason = Partial, "the logs end before the day does: judge it once the day is over"
	case len(dp.OverLimit) > 0:
		dp.Decision, dp.Reason, said = Hold, notThere+"; fix it before going on", true
	default:
		dp.Decision, dp.Reason = Advance, "every hour stayed under "+t
	}
	if notThere != "" && !said {
		dp.Reason = notThere + "; fix it first. Then: " + dp.Reason
	}
	if (dp.Decision == Hold || dp.Decision == RollBack) && len(s.Cohorts) > 0 {
		dp.Suspect = s.Cohorts[len(s.Cohorts)-1]
	}
	return dp
}
