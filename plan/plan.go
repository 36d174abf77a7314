// Package plan turns an incident analysis into the recovery plan of the
// seed story: slow only the lanes in trouble (with the MTA configuration
// that does it), restart with the recipients most likely to want the mail
// and add cohorts step by step, and move to each next step only while the
// lane's deferral rate stays under a threshold; if it rises, hold, and
// suspect the cohort added last.
package plan

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/cohort"
	"github.com/mailtriage/mailtriage/internal/numfmt"
	"github.com/mailtriage/mailtriage/throttle"
)

// Options shape a plan.
type Options struct {
	// Threshold is the deferral rate a step must stay under; 0 means twice
	// the lane's usual rate, at least 5%.
	Threshold float64
	// SharedNexthop sends all of a lane's domains to one destination even
	// when the logs do not show them sharing MX hosts. Without it a lane
	// shares one when every domain with mail went to the same site.
	SharedNexthop bool
	// Relayhost is the smarthost Postfix relays all mail through, if any:
	// the lane's mail keeps going there.
	Relayhost string
	// Known returns the domains the lane table puts in a lane (nil for
	// none): routed through the throttle before the logs show them.
	Known func(lane string) []string
	// Named returns the lane the lane table puts a domain in by its name
	// alone, wildcards included ("hotmail.*"), not by its MX; nil to take
	// Known's domains as the lane's own.
	Named func(domain string) string
	// BulkSource is the PowerMTA virtual MTA or KumoMTA egress source the
	// bulk stream is sent through: the throttle then slows only it.
	BulkSource string
	// MTA is the MTA the plan's configuration is for (one of MTAs), or
	// "". PowerMTA queues each domain apart and has no shared nexthop, so
	// the lane table's domains the logs did not show are routed there
	// even when the others share one.
	MTA string
}

// Plan is the recovery plan.
type Plan struct {
	// Window is the span of the analysis the plan is drawn from.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Lanes are the lanes to slow, worst first.
	Lanes []LanePlan `json:"lanes"`
	// Streams says how transactional and bulk mail share the lanes.
	Streams []Stream `json:"streams"`
	// Watch are lanes with incidents too mild to throttle for: their
	// deferral rate stayed under MinIncidentRate. One line a lane, its
	// worst incident by peak hour first, then its others.
	Watch []string `json:"watch"`
	// Nothing, when no lane needs slowing, says so and why.
	Nothing string `json:"nothing,omitempty"`
}

// MinIncidentRate is the deferral rate over an incident that makes a lane
// worth slowing; milder incidents are listed to watch.
const MinIncidentRate = 0.15

// LanePlan is the plan for one lane.
type LanePlan struct {
	Lane    string   `json:"lane"`
	Domains []string `json:"domains"`
	Why     string   `json:"why"`
	// Incident is the worst incident of the lane in the analysis.
	Incident analysis.Incident `json:"incident"`
	// Usual is the lane's usual hourly volume (attempts) and deferral rate,
	// from its hours outside incidents.
	UsualPerHour int     `json:"usual_per_hour"` // a busy usual hour, at least the busiest usual day / 24
	UsualRate    float64 `json:"usual_deferral_rate"`
	Threshold    float64 `json:"threshold"`
	// Throttle is what the MTA configuration sets on day one.
	Throttle throttle.Lane `json:"throttle"`
	// Notes say what the throttle's domains rest on: a shared nexthop the
	// logs do not confirm, domains left out.
	Notes     []string `json:"notes,omitempty"`
	Deferrals []string `json:"deferral_replies"`
	Schedule  []Day    `json:"schedule"`
	// Cohorts are the lane's recipients by engagement, with --recipients.
	Cohorts []CohortCount `json:"cohorts,omitempty"`
}

// Day is one step of the schedule.
type Day struct {
	Day     int    `json:"day"`
	Phase   string `json:"phase"` // containment, proof, volume
	Share   int    `json:"share_percent"`
	PerHour int    `json:"per_hour"`
	PerDay  int    `json:"per_day"`
	// Cohorts are the recipient cohorts sent to that day (by name), the
	// last one new.
	Cohorts []string `json:"cohorts"`
	Rule    string   `json:"rule"`
}

// Stream is an envelope sender's mail and whether it shares a lane in
// trouble with other streams.
type Stream struct {
	Stream       string   `json:"stream"`
	Kind         string   `json:"kind"` // transactional or bulk, from its volume profile
	Messages     int      `json:"messages"`
	DeferralRate float64  `json:"deferral_rate"`
	Lanes        []string `json:"lanes"`
	Advice       string   `json:"advice,omitempty"`
}

// steps is the schedule: day one holds the lane to a tenth of its usual
// volume (essential and most-engaged mail only); days two to five prove
// it at a fifth to a half; then volume steps back to the usual.
var steps = []struct {
	phase string
	share int
}{
	{"containment", 10},
	{"proof", 20}, {"proof", 30}, {"proof", 40}, {"proof", 50},
	{"volume", 75}, {"volume", 100},
}

// New draws the plan from an analysis.
func New(r *analysis.Result, o Options) *Plan {
	// Lists are empty, not nil: JSON arrays, never null.
	p := &Plan{Lanes: []LanePlan{}, Watch: []string{}}
	p.From, p.To = r.Span()
	// A lane's incident is its worst by deferrals among those that reached
	// MinIncidentRate: one such incident is enough to slow the lane, though
	// a milder one deferred more mail.
	worst := map[string]analysis.Incident{}
	for _, inc := range r.Incidents {
		w, ok := worst[inc.Lane]
		reaches, wReaches := inc.DeferralRate >= MinIncidentRate, w.DeferralRate >= MinIncidentRate
		if !ok || reaches && !wReaches || reaches == wReaches && inc.Deferrals > w.Deferrals {
			worst[inc.Lane] = inc
		}
	}
	for _, ls := range r.Lanes {
		inc, ok := worst[ls.Lane]
		switch {
		case !ok || ls.Lane == "other":
		case inc.DeferralRate < MinIncidentRate:
			p.Watch = append(p.Watch, watch(r, ls.Lane))
		default:
			p.Lanes = append(p.Lanes, lanePlan(r, ls, inc, o))
		}
	}
	slices.SortStableFunc(p.Lanes, func(a, b LanePlan) int { return cmp.Compare(b.Incident.Deferrals, a.Incident.Deferrals) })
	if len(p.Lanes) == 0 {
		p.Nothing = "no lane had an incident in the analysis (no run of hours with deferrals well above the lane's usual rate): there is nothing to throttle"
	}
	p.Streams = streams(r, p.Lanes, o.BulkSource)
	return p
}

// lanePlan plans one lane around its worst incident.
func lanePlan(r *analysis.Result, ls analysis.LaneStats, inc analysis.Incident, o Options) LanePlan {
	lp := LanePlan{Lane: ls.Lane, Domains: ls.Domains, Incident: inc}
	lp.UsualPerHour, lp.UsualRate = usual(r, ls.Lane)
	lp.Threshold = o.Threshold
	if lp.Threshold <= 0 {
		lp.Threshold = max(0.05, 2*lp.UsualRate)
	}
	lp.Why = fmt.Sprintf("%s: %.1f%% of %s attempts deferred %s (usually %.1f%%), mostly %d %s from %s",
		ls.Lane, 100*inc.DeferralRate, numfmt.Thousands(int64(inc.Attempts)), window(inc),
		100*lp.UsualRate, inc.Reply.Code, inc.Reply.Enhanced, who(inc.Reply))
	lp.Deferrals = deferrals(r, ls.Lane, inc)
	first := perHour(lp.UsualPerHour, steps[0].share)
	lp.Throttle = throttle.Lane{
		Name: safeName(ls.Lane), Connections: 2, MessagesPerConnection: 5, PerHour: first,
		Deferrals: lp.Deferrals, Why: lp.Why, Relayhost: o.Relayhost, Source: o.BulkSource,
	}
	lp.routes(ls, o)
	for i, s := range steps {
		d := Day{Day: i + 1, Phase: s.phase, Share: s.share, PerHour: perHour(lp.UsualPerHour, s.share), Cohorts: []string{}}
		d.PerDay = d.PerHour * 24
		d.Rule = rule(s.phase, lp.Threshold, i == len(steps)-1)
		lp.Schedule = append(lp.Schedule, d)
	}
	return lp
}

// watch says a lane to watch, once: its worst incident by peak hour (on
// a tie, the one with more deferrals, then the first), then its others.
// Incidents that tie on deferrals can differ in how bad they got.
func watch(r *analysis.Result, lane string) string {
	var incs []analysis.Incident
	for _, inc := range r.Incidents {
		if inc.Lane == lane {
			incs = append(incs, inc)
		}
	}
	slices.SortStableFunc(incs, func(a, b analysis.Incident) int {
		return cmp.Or(cmp.Compare(b.PeakRate, a.PeakRate), cmp.Compare(b.Deferrals, a.Deferrals))
	})
	w := incs[0]
	s := fmt.Sprintf("%s: %.1f%% deferred %s, peak hour %.1f%%", lane, 100*w.DeferralRate, window(w), 100*w.PeakRate)
	if len(incs) > 1 {
		var others []string
		for _, inc := range incs[1:] {
			others = append(others, fmt.Sprintf("%.1f%% %s, peak hour %.1f%%", 100*inc.DeferralRate, window(inc), 100*inc.PeakRate))
		}
		s += fmt.Sprintf(" (the worst of its %d incidents by peak hour; also %s)", len(incs), strings.Join(others, "; "))
	}
	return s
}

// window says when an incident ran, with the end's date when it differs.
func window(inc analysis.Incident) string {
	from, to := inc.Start.UTC(), inc.End.UTC()
	end := to.Format("15:04Z")
	if from.YearDay() != to.YearDay() || from.Year() != to.Year() {
		end = to.Format("2006-01-02 15:04Z")
	}
	return "from " + from.Format("2006-01-02 15:04Z") + " to " + end
}

// routes decides which domains the lane's throttle routes and whether they
// share one destination. Every domain the logs saw in the lane is routed.
// The domains share a nexthop when all that reached a server reached the
// same site (the registered domain of the MX: icloud.com for icloud.com,
// me.com and mac.com), so one set of limits holds for the lane; otherwise
// each domain is a destination and the rate is split among those with
// mail. Domains the lane table names but the logs did not show are routed
// too, but not to a shared nexthop the logs have not confirmed for them.
// A domain that joined the lane by its MX shares no nexthop: a provider's
// site holds many customers' MX hosts.
func (lp *LanePlan) routes(ls analysis.LaneStats, o Options) {
	seen := ls.Sites
	if len(seen) == 0 { // an analysis saved before sites were kept
		for _, d := range ls.Domains {
			seen = append(seen, analysis.DomainSite{Domain: d})
		}
	}
	var domains []string
	sites := map[string][]string{}
	for _, d := range seen {
		domains = append(domains, d.Domain)
		if d.Site != "" {
			sites[d.Site] = append(sites[d.Site], d.Domain)
		}
	}
	t := &lp.Throttle
	t.Destinations = max(1, len(domains))
	var known []string
	if o.Known != nil {
		for _, d := range o.Known(lp.Lane) {
			if !slices.Contains(domains, d) {
				known = append(known, d)
			}
		}
	}
	// A domain the lane table does not name joined the lane by its MX (a
	// business domain on Microsoft 365, a Proofpoint customer): its site,
	// the MX's registered domain, is the provider's, shared by customers
	// whose MX hosts differ and take only their own domains' mail
	// (contoso-com.mail.protection.outlook.com is no Outlook.com MX).
	var learned []string
	if o.Named != nil || o.Known != nil {
		var own []string
		if o.Named == nil {
			own = o.Known(lp.Lane)
		}
		for _, d := range seen {
			named := slices.Contains(own, d.Domain)
			if o.Named != nil {
				named = o.Named(d.Domain) == lp.Lane
			}
			if d.Site != "" && !named {
				learned = append(learned, d.Domain)
			}
		}
	}
	share := len(domains) > 1 && len(sites) == 1 && o.Relayhost == "" && len(learned) == 0
	// PowerMTA queues each domain on its own: the lane's domains with no
	// mail in the logs get their queues too.
	ownQueuesForKnown := func() bool {
		if len(known) == 0 || o.MTA != "powermta" {
			return false
		}
		t.Domains = append(domains, known...)
		lp.Notes = append(lp.Notes, ownQueues(known, t.Destinations))
		return true
	}
	switch {
	case o.Relayhost != "":
		t.Domains = append(domains, known...)
	case share:
		t.Nexthop = domains[0]
		t.Domains = domains
		if !ownQueuesForKnown() && len(known) > 0 {
			lp.Notes = append(lp.Notes, fmt.Sprintf("not routed: %s (in the lane, but no mail to them in the logs shows they share %s's MX)", strings.Join(known, ", "), domains[0]))
		}
	case o.SharedNexthop && len(domains) > 1:
		t.Nexthop = domains[0]
		t.Domains = domains
		lp.Notes = append(lp.Notes, "--shared-nexthop: all of the lane's domains go to "+domains[0]+"'s MX; the logs show them on "+siteList(sites)+": check each domain's MX before installing")
		ownQueuesForKnown()
	default:
		t.Domains = append(domains, known...)
		if len(learned) > 0 && len(domains) > 1 && len(sites) == 1 {
			lp.Notes = append(lp.Notes, fmt.Sprintf("each domain is its own destination, the rate split among the %d with mail: %s joined the lane by its MX on %s, which hosts other customers' domains on other MX hosts, so no one domain's MX takes the others' mail", t.Destinations, strings.Join(learned, ", "), siteList(sites)))
		}
		if len(sites) > 1 {
			lp.Notes = append(lp.Notes, fmt.Sprintf("the lane's domains went to %d sites (%s): each domain is its own destination, the rate split among the %d with mail", len(sites), siteList(sites), t.Destinations))
		}
	}
	lp.Domains = t.Domains
}

// ownQueues says that the lane table's domains without mail in the logs
// are routed under PowerMTA, each its own queue.
func ownQueues(known []string, withMail int) string {
	return fmt.Sprintf("routed too: %s (in the lane, no mail to them in the logs): PowerMTA queues each domain apart, so each is its own queue with the same limits; the rate is split among the %d with mail", strings.Join(known, ", "), withMail)
}

// siteList names the sites and their domains: "yahoodns.net (yahoo.com,
// aol.com), prodigy.net (att.net)".
func siteList(sites map[string][]string) string {
	var out []string
	for s, ds := range sites {
		out = append(out, s+" ("+strings.Join(ds, ", ")+")")
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// usual is the lane's usual hourly volume and its median hourly deferral
// rate, over the hours outside its incidents (the whole analysis when that
// leaves none). The volume is a busy usual hour (the 75th percentile of
// the hours with attempts), and at least the busiest usual day spread over
// its 24 hours: campaigns send in bursts and leave hours empty, and a
// throttle that can't carry a usual day leaves the queue growing for good.
func usual(r *analysis.Result, lane string) (perHour int, rate float64) {
	in := func(t time.Time) bool {
		for _, inc := range r.Incidents {
			if inc.Lane == lane && !t.Before(inc.Start) && t.Before(inc.End) {
				return true
			}
		}
		return false
	}
	var attempts []int
	var rates []float64
	days := map[time.Time]int{} // attempts by UTC day
	for pass := 0; pass < 2 && len(attempts) == 0; pass++ {
		for _, h := range r.Hourly {
			if h.Lane == lane && h.Attempts > 0 && (pass == 1 || !in(h.Hour)) {
				attempts = append(attempts, h.Attempts)
				rates = append(rates, h.DeferralRate)
				days[h.Hour.UTC().Truncate(24*time.Hour)] += h.Attempts
			}
		}
	}
	if len(attempts) == 0 {
		return 1, 0
	}
	slices.Sort(attempts)
	slices.Sort(rates)
	busiestDay := 0
	for _, n := range days {
		busiestDay = max(busiestDay, n)
	}
	return max(1, attempts[len(attempts)*3/4], (busiestDay+23)/24), rates[len(rates)/2]
}

func perHour(usual, share int) int {
	return max(1, int(math.Round(float64(usual)*float64(share)/100)))
}

func rule(phase string, threshold float64, last bool) string {
	t := fmt.Sprintf("%.0f%%", 100*threshold)
	switch {
	case phase == "containment":
		return "send only essential mail and the most recently engaged cohort; go on when no hour's deferral rate passed " + t
	case last:
		return "the lane is back at its usual volume: remove the throttle once a day passes with every hour under " + t
	}
	return "go on to the next step only while every hour's deferral rate stays under " + t + "; if one passes it, hold at this step for a day, and suspect the cohort added last"
}

// deferrals are the lane's deferral replies to back off on: the
// incident's dominant reply, and the lane's other temporary replies from
// its provider or filter.
func deferrals(r *analysis.Result, lane string, inc analysis.Incident) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) && len(out) < 5 {
			out = append(out, s)
		}
	}
	add(inc.Reply.Example)
	for _, resp := range r.Responses {
		if resp.Class == "temporary" && slices.Contains(resp.Lanes, lane) && resp.Code >= 400 && resp.Code < 500 && resp.Count >= 10 {
			add(resp.Example)
		}
	}
	return out
}

// who names who gave a reply as every report does ("apple behind
// proofpoint"), or "the receivers" when nobody is known.
func who(r analysis.Response) string {
	return cmp.Or(mailtriage.Who(r.Provider, r.Filter), "the receivers")
}

// safeName makes a lane name fit for MTA configuration.
func safeName(lane string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(lane) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "l" + s
	}
	return s
}

// streams sorts the analysis's streams into transactional and bulk by
// their sender's name (news@, noreply@, billing@, a news. subdomain), and
// advises separating them where both reach a lane in trouble.
func streams(r *analysis.Result, lanes []LanePlan, bulkSource string) []Stream {
	trouble := map[string]bool{}
	for _, l := range lanes {
		trouble[l.Lane] = true
	}
	out := []Stream{}
	kinds := map[string]bool{}
	for _, s := range r.Streams {
		kind := streamKind(s.Stream)
		st := Stream{Stream: s.Stream, Kind: kind, Messages: s.Messages, DeferralRate: s.DeferralRate, Lanes: s.Lanes}
		for _, l := range s.Lanes {
			if trouble[l] {
				kinds[kind] = true
			}
		}
		out = append(out, st)
	}
	if kinds["transactional"] && kinds["bulk"] {
		advice := "keep this stream on its own path (another source address and transport), so the lane's throttle and the bulk stream's reputation do not hold it back"
		switch {
		case bulkSource != "":
			advice = "the throttle's limits slow only the bulk stream's source, " + bulkSource + " (PowerMTA, KumoMTA); keep this stream off it. KumoMTA's automation rules are not scoped to a source: they suspend this stream's source too when it gets the lane's deferral replies (the shaping file says how to drop them). On Postfix, send it through a second instance that does not load the throttle"
		default:
			advice += "; with PowerMTA or KumoMTA, --bulk-source NAME slows only the bulk stream's virtual MTA or egress source"
		}
		for i := range out {
			if out[i].Kind == "transactional" {
				out[i].Advice = advice
			}
		}
	}
	return out
}

// streamKind guesses a stream's kind from its sender: the words senders
// use for each, in the local part or the first label of the domain.
func streamKind(sender string) string {
	local, domain, _ := strings.Cut(strings.ToLower(sender), "@")
	first, _, _ := strings.Cut(domain, ".")
	words := strings.FieldsFunc(local+"."+first, func(r rune) bool { return !(r >= 'a' && r <= 'z') })
	for _, w := range words {
		switch w {
		case "news", "newsletter", "newsletters", "marketing", "mkt", "promo", "promotions", "offers", "deals", "campaign", "campaigns", "bulk", "mailing", "list":
			return "bulk"
		case "noreply", "no", "reply", "donotreply", "notification", "notifications", "notify", "receipt", "receipts", "order", "orders", "billing", "invoice", "invoices", "alerts", "alert", "security", "account", "accounts", "auth", "verify", "support", "transactional", "tx":
			return "transactional"
		}
	}
	return "unknown"
}

// ErrSeveralMTAs is wrapped by ChooseMTA's error when the logs come from
// more than one MTA a plan configures: which one is the user's to say.
var ErrSeveralMTAs = errors.New("say which MTA to configure")

// ChooseMTA picks the MTA a plan configures from those whose logs were read
// (as ingest.SendingMTAs names them): the one of MTAs among them, Postfix
// when they name none (the documented default). When they name only MTAs
// or services a plan does not configure (Exim, Sendmail, an ESP), it
// returns "" and a note that says why no configuration is written and what
// to do there instead.
func ChooseMTA(sending []string) (mta, note string, err error) {
	var configurable, other []string
	for _, m := range sending {
		if slices.Contains(MTAs, m) {
			configurable = append(configurable, m)
		} else {
			other = append(other, m)
		}
	}
	switch {
	case len(configurable) > 1:
		return "", "", fmt.Errorf("the logs come from %s: %w", strings.Join(configurable, " and "), ErrSeveralMTAs)
	case len(configurable) == 1:
		return configurable[0], "", nil
	case len(other) == 0:
		return "postfix", "", nil
	}
	const writes = "mailtriage writes throttle configuration for Postfix, PowerMTA and KumoMTA (--mta)."
	switch other[0] {
	case "exim":
		note = "No configuration written: the logs are Exim's, and " + writes + " On Exim, slow the lane with a router " +
			"that sends its domains to an smtp transport of its own, with a low max_parallel (connections at once) and " +
			"connection_max_messages (messages per connection); Exim has no per-lane message rate and no backoff on " +
			"replies, so hold the lane's bulk mail back at its source to the schedule's rates."
	case "esp":
		note = "No configuration written: the logs are an ESP's events, and the ESP sets the sending rate. Ask it to " +
			"slow only this lane to day one's limits above, or give --mta for an MTA of your own; " + writes
	default:
		note = "No configuration written: the logs are " + other[0] + "'s, and " + writes + " Hold the lane's bulk mail " +
			"back at its source to the schedule's rates."
	}
	return "", note, nil
}

// MTAs are the MTAs a plan writes configuration for.
var MTAs = []string{"postfix", "powermta", "kumomta"}

// Config returns the day-one throttle configuration of the plan's lanes
// for mta.
func (p *Plan) Config(mta string) ([]throttle.File, error) {
	if len(p.Lanes) == 0 {
		return nil, nil
	}
	lanes := make([]throttle.Lane, len(p.Lanes))
	for i, l := range p.Lanes {
		lanes[i] = l.Throttle
	}
	switch mta {
	case "postfix":
		return throttle.Postfix(lanes...)
	case "powermta":
		return throttle.PowerMTA(lanes...)
	case "kumomta":
		return throttle.KumoMTA(lanes...)
	}
	return nil, fmt.Errorf("plan: unknown MTA %q; want one of %s", mta, strings.Join(MTAs, ", "))
}

// CohortCount is one cohort of a lane's recipients.
type CohortCount struct {
	Name       string `json:"name"`
	Recipients int    `json:"recipients"`
	// Send: false for the inactive and suppressed, who are not mailed
	// during the recovery.
	Send bool   `json:"send"`
	File string `json:"file,omitempty"` // with --out-dir
}

// AddCohorts puts the cohorts of a split recipient list into the lanes,
// and the cohorts to mail into each day of the schedule: the first
// engaged cohort on days one and two, one more cohort every other day,
// all engaged cohorts in the volume phase; the inactive and suppressed
// never.
func (p *Plan) AddCohorts(s *cohort.Summary) {
	var engaged []string
	for _, name := range s.Order {
		if name != cohort.Inactive && name != cohort.Suppressed {
			engaged = append(engaged, name)
		}
	}
	for i := range p.Lanes {
		l := &p.Lanes[i]
		counts := s.Cohorts[l.Lane]
		l.Cohorts = nil
		for _, name := range s.Order {
			l.Cohorts = append(l.Cohorts, CohortCount{Name: name, Recipients: counts[name], Send: slices.Contains(engaged, name)})
		}
		for d := range l.Schedule {
			k := min(len(engaged), 1+d/2)
			if l.Schedule[d].Phase == "volume" {
				k = len(engaged)
			}
			l.Schedule[d].Cohorts = append([]string{}, engaged[:k]...)
		}
	}
}
