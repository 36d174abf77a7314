package analysis

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// incidents finds, per lane, the spans of hours whose deferral rate rose
// well above the lane's own baseline, the median of its hourly rates. An
// hour is elevated when it has enough attempts to judge (judged) and
// its rate is at least MinRate and Factor times the baseline; a span is a
// run of elevated hours, across hours too quiet to judge and silences of
// at most maxSilentHours hours without attempts, that holds at least one
// hour with MinAttempts attempts. Its figures are the sums of every hour
// from its start to its end, so they match the hourly table.
func (a *Analyzer) incidents() []Incident {
	byLane := map[string][]laneHour{}
	for k, h := range a.hours {
		if h.Attempts > 0 {
			byLane[k.lane] = append(byLane[k.lane], k)
		}
	}
	var out []Incident
	for lane, keys := range byLane {
		slices.SortFunc(keys, func(x, y laneHour) int { return cmp.Compare(x.hour, y.hour) })
		base := a.baseline(keys)
		judged := a.judged()
		elevated := func(h *hourAcc) bool {
			return h.Attempts >= judged && h.Rate() >= a.opts.MinRate && h.Rate() >= a.opts.Factor*base
		}
		for i := 0; i < len(keys); {
			if !elevated(a.hours[keys[i]]) {
				i++
				continue
			}
			// Extend the run over elevated hours and hours too quiet to
			// judge; it ends at the last elevated hour, or at a silence
			// too long to be one incident.
			j, last := i, i
			for j+1 < len(keys) {
				h := a.hours[keys[j+1]]
				if h.Attempts >= judged && !elevated(h) || silent(keys[j], keys[j+1]) > maxSilentHours {
					break
				}
				j++
				if elevated(h) {
					last = j
				}
			}
			if inc, ok := a.span(lane, base, keys[i:last+1]); ok {
				out = append(out, inc)
			}
			i = last + 1
		}
	}
	slices.SortFunc(out, func(x, y Incident) int {
		return cmp.Or(cmp.Compare(y.Deferrals, x.Deferrals), x.Start.Compare(y.Start), cmp.Compare(x.Lane, y.Lane))
	})
	return out
}

// maxSilentHours is the longest silence, in whole hours without attempts
// in the lane, that a run of elevated hours bridges. While a destination
// defers, Postfix suspends it ("delivery temporarily suspended", no
// attempt) and retries each deferred message after a backoff that grows
// up to maximal_backoff_time (4000 s by default, and sites raise it), so
// an hour or two without attempts is normal inside one incident; three
// allow for a backoff of up to about three hours. A longer silence means
// no mail for the lane was waiting (a paused campaign, a quiet night),
// and elevated hours after it are a new incident.
const maxSilentHours = 3

// silent is the number of whole hours without attempts between two of a
// lane's hours with attempts, x before y.
func silent(x, y laneHour) int64 { return (y.hour-x.hour)/3600 - 1 }

// minJudged is how many attempts an hour needs for its rate to count.
const minJudged = 10

// judged is how many attempts an hour needs for its rate to count:
// minJudged, or fewer when MinAttempts asks for fewer, so that an hour
// busy enough to call an incident is always judged.
func (a *Analyzer) judged() int { return min(minJudged, a.opts.MinAttempts) }

// span sums a run of hours into an incident, if one of them had at least
// MinAttempts attempts.
func (a *Analyzer) span(lane string, base float64, keys []laneHour) (Incident, bool) {
	inc := Incident{Lane: lane, Baseline: base, Start: time.Unix(keys[0].hour, 0).UTC(),
		End: time.Unix(keys[len(keys)-1].hour+3600, 0).UTC()}
	replies := map[responseKey]replyTally{}
	busy := false
	for _, k := range keys {
		h := a.hours[k]
		inc.Attempts += h.Attempts
		inc.Deferrals += h.Deferrals
		if h.Attempts >= a.judged() {
			inc.PeakRate = max(inc.PeakRate, h.Rate())
		}
		busy = busy || h.Attempts >= a.opts.MinAttempts
		for rk, t := range h.replies {
			sum := replies[rk]
			sum.merge(t)
			replies[rk] = sum
		}
	}
	if !busy {
		return Incident{}, false
	}
	inc.DeferralRate = Counts{Attempts: inc.Attempts, Deferrals: inc.Deferrals}.Rate()
	counts := make(map[responseKey]int, len(replies))
	for rk, t := range replies {
		counts[rk] = t.n
	}
	if best, n := topReply(counts); n > 0 {
		// The reply's verdict is the group's; its figures are the
		// incident's: its deferrals in this lane in these hours.
		t := replies[best]
		inc.Reply = a.responses[best].describe(n)
		inc.Reply.Lanes = []string{lane}
		inc.Reply.First, inc.Reply.Last = t.first.UTC(), t.last.UTC()
		inc.Reply.Example = t.example
	}
	return inc, true
}

// baseline is the median hourly deferral rate of a lane over the hours in
// which it had attempts.
func (a *Analyzer) baseline(keys []laneHour) float64 {
	rates := make([]float64, 0, len(keys))
	for _, k := range keys {
		rates = append(rates, a.hours[k].Rate())
	}
	slices.Sort(rates)
	n := len(rates)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return rates[n/2]
	}
	return (rates[n/2-1] + rates[n/2]) / 2
}

// findings turns the numbers into what to do first, most important first.
// The seed article's table is the guide: a 421 means slow the lane; a 554
// timeout means read the last real failure; an IP listing means check the
// blocklists; a domain problem means validate DMARC; volume means reduce
// concurrency.
func (a *Analyzer) findings(r *Result) []mailtriage.Finding {
	var out []mailtriage.Finding
	if f, ok := a.nothingFinding(r); ok {
		return []mailtriage.Finding{f}
	}
	// The lane findings, each with the lane and its dominant reply, so
	// that a failing domain of the lane with the same reply joins its
	// lane's finding instead of restating it.
	var causes []laneCause
	for _, inc := range r.Incidents {
		// "other" is every domain without a lane: not one infrastructure
		// to throttle. Its problems show as failing domains and replies.
		if inc.Lane != "other" {
			out = append(out, incidentFinding(inc))
			causes = append(causes, laneCause{lane: inc.Lane, reply: inc.Reply, at: len(out) - 1})
		}
	}
	for _, lf := range a.sustainedFindings(r) {
		out = append(out, lf.f)
		causes = append(causes, laneCause{lane: lf.lane, reply: lf.reply, at: len(out) - 1})
	}
	out = append(out, hostFindings(r, a.opts)...)
	if f, ok := expiredFinding(r); ok {
		out = append(out, f)
	}
	out = append(out, a.backlogFindings(r)...)
	out = append(out, domainFindings(r, func(d DomainStats, f mailtriage.Finding) bool {
		for _, c := range causes {
			if c.lane == d.Lane && sameReply(c.reply, d.Reply) {
				foldDomain(&out[c.at], d, f)
				return true
			}
		}
		return false
	})...)
	out = append(out, categoryFindings(r)...)
	if f, ok := unclassifiedFinding(r); ok {
		out = append(out, f)
	}
	if f, ok := complaintFinding(r); ok {
		out = append(out, f)
	}
	if r.Summary.UnparsedLines > 0 {
		out = append(out, mailtriage.Finding{
			Code: "input.unparsed-lines", Severity: mailtriage.SeverityInfo, Category: "input",
			Message:  fmt.Sprintf("%s could not be read as log lines and were skipped.", count(int(r.Summary.UnparsedLines), "line")),
			Fix:      "Run with --verbose to see some of them; check that every input is a mail log.",
			Owner:    mailtriage.OwnerESP,
			Evidence: []string{},
		})
	}
	slices.SortStableFunc(out, func(x, y mailtriage.Finding) int {
		return cmp.Compare(severityRank(x.Severity), severityRank(y.Severity))
	})
	return out
}

// laneCause is a lane finding's lane and dominant reply, and where the
// finding is in the list.
type laneCause struct {
	lane  string
	reply Response
	at    int
}

// sameReply says whether two reply groups are the same kind of reply.
func sameReply(x, y Response) bool {
	return x.Rule != "" && x.Rule == y.Rule && x.Code == y.Code && x.Enhanced == y.Enhanced
}

// foldDomain adds a failing domain of a lane to the lane's finding, whose
// dominant reply and advice are the domain's: one finding says it once,
// with the domain's figures and the graver of the two severities.
func foldDomain(lf *mailtriage.Finding, d DomainStats, df mailtriage.Finding) {
	lf.Message += fmt.Sprintf(" %s accepted none of its %s%s.", d.Domain, count(d.Attempts, "attempt"), stuckRecipients(d))
	lf.Evidence = append(lf.Evidence, df.Evidence...)
	if severityRank(df.Severity) < severityRank(lf.Severity) {
		lf.Severity = df.Severity
	}
}

// complaintFinding names the streams recipients complained about (feedback
// reports, ESP complaint events): complaints weigh on a sender's
// reputation more than any bounce, and Gmail and Yahoo hold bulk senders
// under 0.3% of delivered mail.
func complaintFinding(r *Result) (mailtriage.Finding, bool) {
	if r.Summary.Complaints == 0 {
		return mailtriage.Finding{}, false
	}
	ev := []string{}
	for _, s := range r.Streams {
		if s.Complaints > 0 && len(ev) < 5 {
			ev = append(ev, fmt.Sprintf("stream=%s complaints=%d messages=%d", s.Stream, s.Complaints, s.Messages))
		}
	}
	return mailtriage.Finding{
		Code: "reputation.complaints", Severity: mailtriage.SeverityWarning, Category: "reputation",
		Message: fmt.Sprintf("%s: recipients reported mail as spam or abuse (feedback reports).", count(r.Summary.Complaints, "complaint")),
		Fix:     "Stop mailing every address that complained (suppress them), and look at what the complaining streams send and to whom: Gmail and Yahoo expect complaints under 0.3% of delivered mail, and better under 0.1%.",
		Owner:   mailtriage.OwnerSender, Evidence: ev,
	}, true
}

// nothingFinding says so when there was nothing to analyse, so an empty
// report is not read as a clean one.
func (a *Analyzer) nothingFinding(r *Result) (mailtriage.Finding, bool) {
	s := r.Summary
	if s.Attempts > 0 || s.Recipients > 0 || s.Messages > 0 || s.Notifications > 0 || s.LocalDeferrals > 0 || s.Complaints > 0 {
		return mailtriage.Finding{}, false
	}
	where := "in the inputs"
	if since, until := a.opts.Since, a.opts.Until; !since.IsZero() || !until.IsZero() {
		where = fmt.Sprintf("in the window from %s to %s", windowEnd(since, "the start"), windowEnd(until, "the end"))
	}
	return mailtriage.Finding{
		Code: "input.nothing-analysed", Severity: mailtriage.SeverityError, Category: "input",
		Message:  "Nothing to analyse: no message or delivery attempt " + where + ".",
		Fix:      "Check that the inputs are delivery logs (Postfix, Exim, Sendmail, PowerMTA, KumoMTA), ESP event exports, a Postfix queue snapshot or bounce messages, and that the --since/--until window covers them.",
		Owner:    mailtriage.OwnerESP,
		Evidence: []string{},
	}, true
}

func severityRank(s mailtriage.Severity) int {
	switch s {
	case mailtriage.SeverityError:
		return 0
	case mailtriage.SeverityWarning:
		return 1
	case mailtriage.SeverityInfo:
		return 3
	}
	return 2
}

// rateSeverity grades a deferral rate: a fifth of attempts deferred is an
// error, a tenth a warning, less is worth knowing.
func rateSeverity(rate float64) mailtriage.Severity {
	switch {
	case rate >= 0.2:
		return mailtriage.SeverityError
	case rate >= 0.1:
		return mailtriage.SeverityWarning
	}
	return mailtriage.SeverityInfo
}

func incidentFinding(inc Incident) mailtriage.Finding {
	msg := fmt.Sprintf("%s lane: %.1f%% of %s deferred from %s to %s (peak %.1f%% in an hour; the lane's usual rate is %.1f%%). Dominant reply: %s%s.",
		inc.Lane, 100*inc.DeferralRate, count(inc.Attempts, "attempt"), stamp(inc.Start), stamp(inc.End), 100*inc.PeakRate, 100*inc.Baseline,
		inc.Reply.Example, describeWho(inc.Reply.Provider, inc.Reply.Filter))
	fix := inc.Reply.Action
	sev := rateSeverity(inc.DeferralRate)
	if slows(inc.Reply.Category) {
		fix = strings.TrimSpace(fix + " " + throttleAdvice)
	}
	if inc.Reply.Category == "greylisting" {
		sev = mailtriage.SeverityInfo // it clears by itself
	}
	return mailtriage.Finding{
		Code: "incident.lane-deferrals", Severity: sev, Category: nonEmpty(inc.Reply.Category, "throttling"),
		Message: msg, Fix: fix, Owner: ownerOr(inc.Reply.Owner, mailtriage.OwnerESP),
		Evidence: []string{
			fmt.Sprintf("lane=%s start=%s end=%s attempts=%d deferrals=%d", inc.Lane, inc.Start.Format(time.RFC3339), inc.End.Format(time.RFC3339), inc.Attempts, inc.Deferrals),
			fmt.Sprintf("reply (%d times, rule %s): %s", inc.Reply.Count, inc.Reply.Rule, inc.Reply.Example),
		},
	}
}

// throttleAdvice is how to slow one lane with the MTA at hand.
const throttleAdvice = "How: give the lane's domains a transport of their own with low concurrency and a rate delay (Postfix), or lower the lane's queue limits (PowerMTA, KumoMTA); leave the other lanes alone."

// slows reports whether a reply category calls for slowing the lane.
func slows(category string) bool {
	return category == "throttling" || category == "volume" || category == "reputation"
}

func ownerOr(o, def mailtriage.Owner) mailtriage.Owner {
	if o == "" {
		return def
	}
	return o
}

// sustainedFindings name the lanes whose deferral rate is high with no
// incident to show for it: the deferrals run through the whole period, so
// no hour stands out against the lane's own median, or no hour had the
// attempts to call one.
func (a *Analyzer) sustainedFindings(r *Result) []laneFinding {
	inIncident := map[string]bool{}
	for _, inc := range r.Incidents {
		inIncident[inc.Lane] = true
	}
	var out []laneFinding
	for _, l := range r.Lanes {
		if l.Lane == "other" || inIncident[l.Lane] || l.Attempts < a.opts.MinAttempts || l.DeferralRate < 0.2 {
			continue
		}
		why := "no hour stood out against the lane's own median"
		if !a.busyHour(l.Lane) {
			why = fmt.Sprintf("no hour had the %d attempts it takes to call an incident", a.opts.MinAttempts)
		}
		f := mailtriage.Finding{
			Code: "incident.lane-deferrals-sustained", Severity: rateSeverity(l.DeferralRate), Category: "throttling",
			Message: fmt.Sprintf("%s lane: %.1f%% of %s deferred over the period analysed; %s.",
				l.Lane, 100*l.DeferralRate, count(l.Attempts, "attempt"), why),
			Fix:      throttleAdvice,
			Owner:    mailtriage.OwnerESP,
			Evidence: []string{fmt.Sprintf("lane=%s attempts=%d deferrals=%d domains=%s", l.Lane, l.Attempts, l.Deferrals, strings.Join(l.Domains, ","))},
		}
		var top Response
		if best, n := topReply(a.laneReplies(l.Lane)); n > 0 {
			top = a.responses[best].describe(n)
			f.Category = nonEmpty(top.Category, f.Category)
			f.Message += fmt.Sprintf(" Dominant reply: %s%s.", top.Example, describeWho(top.Provider, top.Filter))
			f.Fix = top.Action
			if slows(top.Category) {
				f.Fix = strings.TrimSpace(top.Action + " " + throttleAdvice)
			}
			if top.Category == "greylisting" {
				f.Severity = mailtriage.SeverityInfo // it clears by itself
			}
			f.Owner = ownerOr(top.Owner, f.Owner)
			f.Evidence = append(f.Evidence, fmt.Sprintf("reply (%d times, rule %s): %s", n, top.Rule, top.Example))
		}
		out = append(out, laneFinding{f: f, lane: l.Lane, reply: top})
	}
	return out
}

// laneFinding is a finding about a lane, with its dominant reply.
type laneFinding struct {
	f     mailtriage.Finding
	lane  string
	reply Response
}

// busyHour reports whether a lane had an hour with MinAttempts attempts.
func (a *Analyzer) busyHour(lane string) bool {
	for k, h := range a.hours {
		if k.lane == lane && h.Attempts >= a.opts.MinAttempts {
			return true
		}
	}
	return false
}

// laneReplies tallies a lane's deferrals by reply.
func (a *Analyzer) laneReplies(lane string) map[responseKey]int {
	out := map[responseKey]int{}
	for k, h := range a.hours {
		if k.lane != lane {
			continue
		}
		for rk, t := range h.replies {
			out[rk] += t.n
		}
	}
	return out
}

// hostFindings compare the sending hosts within a lane: when receivers
// defer one host's mail far more than another's, the difference is that
// host's IP reputation, not the content or the recipients they share.
func hostFindings(r *Result, opts Options) []mailtriage.Finding {
	type side struct {
		host, label string
		c           HostLane
	}
	byLane := map[string][]side{}
	for _, h := range r.Hosts {
		if h.NotLogged {
			// "exim" stands for whichever hosts wrote the log: no one
			// host's reputation to compare.
			continue
		}
		for _, hl := range h.Lanes {
			if hl.Attempts >= opts.MinAttempts && hl.Lane != "other" {
				byLane[hl.Lane] = append(byLane[hl.Lane], side{h.Host, h.Label(), hl})
			}
		}
	}
	var out []mailtriage.Finding
	for _, l := range r.Lanes { // lane order: most attempts first
		sides := byLane[l.Lane]
		if len(sides) < 2 {
			continue
		}
		slices.SortFunc(sides, func(x, y side) int {
			return cmp.Or(cmp.Compare(y.c.DeferralRate, x.c.DeferralRate), cmp.Compare(x.host, y.host))
		})
		hi, lo := sides[0], sides[len(sides)-1]
		if hi.c.DeferralRate < 2*lo.c.DeferralRate || hi.c.DeferralRate-lo.c.DeferralRate < 0.1 {
			continue
		}
		fix := fmt.Sprintf("Look at %s's sending IP: check it against the blocklists, and at what that host sends (which streams, which recipients); move important mail to the host that gets through while it recovers.", hi.host)
		if ip, err := netip.ParseAddr(hi.host); err == nil {
			// The host is the sending address itself.
			fix = fmt.Sprintf("Check %s against the blocklists (mailtriage blocklist %s), and look at what is sent from it (which streams, which recipients); move important mail to the address that gets through while it recovers.", hi.label, ip)
		}
		out = append(out, mailtriage.Finding{
			Code: "incident.host-reputation", Severity: mailtriage.SeverityWarning, Category: "reputation",
			Message: fmt.Sprintf("%s lane: host %s had %.1f%% of %s deferred, host %s %.1f%% of %s: receivers judge the hosts differently, by their IPs' reputation or by what each sends.",
				l.Lane, hi.label, 100*hi.c.DeferralRate, count(hi.c.Attempts, "attempt"), lo.label, 100*lo.c.DeferralRate, count(lo.c.Attempts, "attempt")),
			Fix:   fix,
			Owner: mailtriage.OwnerESP,
			Evidence: []string{
				fmt.Sprintf("host=%s lane=%s attempts=%d deferrals=%d", hi.host, l.Lane, hi.c.Attempts, hi.c.Deferrals),
				fmt.Sprintf("host=%s lane=%s attempts=%d deferrals=%d", lo.host, l.Lane, lo.c.Attempts, lo.c.Deferrals),
			},
		})
	}
	return out
}

func expiredFinding(r *Result) (mailtriage.Finding, bool) {
	if r.Summary.Expired == 0 {
		return mailtriage.Finding{}, false
	}
	ev := []string{}
	for i, g := range r.Expired {
		if i == 5 {
			break
		}
		ev = append(ev, fmt.Sprintf("%s, last reply: %s (%s)", count(g.Count, "recipient"), nonEmpty(g.LastReply.Text, "none recorded"), nonEmpty(g.LastReply.Rule, "no rule")))
	}
	top := r.Expired[0].LastReply
	msg := fmt.Sprintf("%s timed out in the queue (expired). Most last heard: %s%s.", count(r.Summary.Expired, "recipient"),
		nonEmpty(top.Text, "no reply"), describeWho(top.Provider, top.Filter))
	fix := "A queue timeout is the sending MTA giving up, not the receiver's verdict; fix the last real failure."
	if top.Class == mailtriage.Temporary {
		fix = "A queue timeout is the sending MTA giving up, not a block: the last real failure was a temporary deferral."
	}
	if top.Action != "" {
		fix += " " + top.Action
	}
	sev := mailtriage.SeverityWarning
	if r.Summary.Recipients > 0 && float64(r.Summary.Expired)/float64(r.Summary.Recipients) >= 0.05 {
		sev = mailtriage.SeverityError
	}
	return mailtriage.Finding{
		Code: "incident.queue-timeouts", Severity: sev, Category: "timeout",
		Message: msg, Fix: fix, Owner: mailtriage.OwnerESP, Evidence: ev,
	}, true
}

// minBacklog is the fewest recipients still queued at the end that make a
// lane's backlog worth a finding; backlogDay is the wait past which a
// backlog is an error: mail a day late has failed its readers already.
const (
	minBacklog = 10
	backlogDay = 24 * time.Hour
)

// backlogFindings name the lanes whose mail is still queued when the
// input ends (or in a queue snapshot, all of it): how much, since when,
// and the last reason it waits on. A queue timeout comes only after the
// queue lifetime (five days by default); a backlog tells of it days
// before.
func (a *Analyzer) backlogFindings(r *Result) []mailtriage.Finding {
	var out []mailtriage.Finding
	for _, ls := range r.Lanes {
		l := a.lanes[ls.Lane]
		if l == nil || l.pending < minBacklog {
			continue
		}
		b := l.backlog
		var waited time.Duration // unknown when no queue time was logged
		if !b.oldest.IsZero() {
			waited = b.at.Sub(b.oldest)
		}
		msg := fmt.Sprintf("%s lane: %s still queued at the end", ls.Lane, count(l.pending, "recipient"))
		if waited > 0 {
			msg += fmt.Sprintf(", the oldest queued since %s (%s before)", stamp(b.oldest), wait(waited))
		}
		msg += "."
		fix := "Find why the mail waits (postqueue -j shows each recipient's last reason) before the queue lifetime turns it into bounces."
		if key, n := topReply(b.replies); n > 0 {
			top := a.pendingReplies[key].describe(n)
			msg += fmt.Sprintf(" Most last heard: %s%s.", top.Example, describeWho(top.Provider, top.Filter))
			if top.Action != "" {
				fix = top.Action
			}
		}
		sev := mailtriage.SeverityWarning
		if waited >= backlogDay {
			sev = mailtriage.SeverityError
		}
		out = append(out, mailtriage.Finding{
			Code: "queue.backlog", Severity: sev, Category: "timeout", Message: msg, Fix: fix, Owner: mailtriage.OwnerESP,
			Evidence: []string{fmt.Sprintf("lane=%s pending=%d oldest_queued=%s at=%s domains=%s", ls.Lane, l.pending,
				b.oldest.UTC().Format(time.RFC3339), b.at.UTC().Format(time.RFC3339), strings.Join(ls.Domains, ","))},
		})
	}
	return out
}

// wait writes a wait in the units a person uses: "23 h 15 min", "3 days".
func wait(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours())/24)
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d min", int(d.Minutes()))
}

// domainFindings name the recipient domains that accepted nothing, at
// most five; those that folded (if not nil) takes into a lane's finding
// are not among them.
func domainFindings(r *Result, folded func(DomainStats, mailtriage.Finding) bool) []mailtriage.Finding {
	var out []mailtriage.Finding
	for _, d := range r.Domains {
		if len(out) == 5 {
			break
		}
		fix, owner := d.Reply.Action, ownerOr(d.Reply.Owner, mailtriage.OwnerSender)
		switch d.Reply.Category {
		case "network":
			fix = "The domain's mail servers do not answer. If they stay silent, the addresses are dead: suppress them, and stop retrying them for days."
			owner = mailtriage.OwnerSender
		case "dns":
			fix = "The domain does not take mail or does not exist (a typo?): suppress its addresses."
			owner = mailtriage.OwnerSender
		case "address":
			// The domain's server answered: it is the addresses that are wrong.
			fix = "The domain's mail server answers, but says these recipients do not exist: suppress the addresses, and check how they entered the list (an old import, a former customer's staff)."
			owner = mailtriage.OwnerSender
		}
		sev := mailtriage.SeverityWarning
		if unreachable(d) {
			// A destination that took nothing for an hour or more while
			// its recipients' mail waited or was given up is a problem,
			// whichever lane it is in.
			sev = mailtriage.SeverityError
			if d.Reply.Category == "network" {
				fix = "The domain's mail servers do not answer. Check first that it is not your side: connect from the sending host to port 25 of the domain's MX; if it answers others but not you, their firewall drops your IP: tell their postmaster by other means. If they stay silent for days, the addresses are dead: suppress them."
				owner = mailtriage.OwnerESP
			}
		}
		f := mailtriage.Finding{
			Code: "incident.domain-failing", Severity: sev, Category: nonEmpty(d.Reply.Category, "other"),
			Message: fmt.Sprintf("%s (lane %s): none of %s accepted%s%s; most often: %s.", d.Domain, d.Lane, count(d.Attempts, "attempt"),
				failingSpan(d), stuckRecipients(d), nonEmpty(d.Reply.Example, "no reply")),
			Fix: fix, Owner: owner,
			Evidence: []string{fmt.Sprintf("domain=%s attempts=%d deferrals=%d bounces=%d recipients=%d pending=%d expired=%d first_failure=%s last_failure=%s rule=%s",
				d.Domain, d.Attempts, d.Deferrals, d.Bounces, d.Recipients, d.Pending, d.Expired, d.FirstFailure.Format(time.RFC3339), d.LastFailure.Format(time.RFC3339), d.Reply.Rule)},
		}
		if folded == nil || !folded(d, f) {
			out = append(out, f)
		}
	}
	return out
}

// minStuckRecipients is how many of a failing domain's recipients must
// be still queued or expired for the domain to be an error finding.
const minStuckRecipients = 10

// unreachable says whether a failing domain is a problem, not only worth
// knowing: it failed for an hour or more, and at least minStuckRecipients
// of its recipients are still queued at the end or timed out. A few
// recipients of a dead domain, or a failure of minutes, stay a warning.
func unreachable(d DomainStats) bool {
	return d.Pending+d.Expired >= minStuckRecipients && d.LastFailure.Sub(d.FirstFailure) >= time.Hour
}

// failingSpan says over what time a domain failed: " from 2026-11-26
// 08:01Z to 2026-11-26 11:20Z".
func failingSpan(d DomainStats) string {
	if d.FirstFailure.IsZero() {
		return ""
	}
	return fmt.Sprintf(" from %s to %s", stamp(d.FirstFailure), stamp(d.LastFailure))
}

// stuckRecipients says what became of a failing domain's recipients'
// mail, when some is still queued or expired: " (80 recipients pending)",
// " (12 recipients expired, 2 pending)"; "" when none is.
func stuckRecipients(d DomainStats) string {
	switch {
	case d.Pending+d.Expired == 0:
		return ""
	case d.Expired == 0:
		return " (" + count(d.Pending, "recipient") + " pending)"
	case d.Pending == 0:
		return " (" + count(d.Expired, "recipient") + " expired)"
	}
	return " (" + count(d.Expired, "recipient") + " expired, " + numfmt.Thousands(int64(d.Pending)) + " pending)"
}

func windowEnd(t time.Time, open string) string {
	if t.IsZero() {
		return open
	}
	return stamp(t)
}

// count writes "1 attempt", "3 attempts", with thousands separators.
func count(n int, noun string) string { return numfmt.Count(int64(n), noun) }

// categoryAdvice is the first action per verdict category, after the seed
// article's table.
var categoryAdvice = []struct {
	category, code, what, fix string
	owner                     mailtriage.Owner
}{
	{"blocklist", "incident.blocklisted", "replies cite a blocklist",
		"Check the sending IPs and domains against the blocklists the replies name, and compare them with the IPs that carried the failed mail (mailtriage blocklist IP...). Fix the cause before asking for delisting.", mailtriage.OwnerESP},
	{"reputation", "incident.reputation-blocks", "replies reject the sender's reputation",
		"Read the full bounces: find which IPs and domains are rejected, stop sending to unengaged recipients, and use the provider's delisting or support channel the reply names.", mailtriage.OwnerESP},
	{"block", "incident.policy-blocks", "replies are permanent policy blocks",
		"Read the full bounce of several of them: they say whether the IP, the domain, the content or authentication is the problem.", mailtriage.OwnerSender},
	{"authentication", "incident.authentication", "replies reject mail for SPF, DKIM or DMARC",
		"Validate the sending domain: SPF passes for the sending IPs, DKIM signs with a published key, and DMARC aligns with the visible From (mailtriage check DOMAIN).", mailtriage.OwnerSender},
	{"volume", "incident.volume-limits", "replies, or sessions cut before the greeting, say too many connections or too fast",
		"Reduce concurrency and messages per connection to the lanes concerned.", mailtriage.OwnerESP},
	{"content", "incident.content-rejections", "replies reject the content",
		"Compare rejected and accepted messages: links, URL shorteners, attachments; check the domains in the content against blocklists.", mailtriage.OwnerSender},
	{"address", "incident.invalid-recipients", "replies say the recipient does not exist",
		"Suppress these addresses and check how they entered the list; a high rate hurts reputation.", mailtriage.OwnerSender},
	{"configuration", "incident.sender-configuration", "replies point at the sending setup (PTR, HELO, sender domain, relay)",
		"Fix the sending host: a PTR whose name resolves back to the IP, a HELO name that resolves, a bounce domain with DNS records.", mailtriage.OwnerESP},
	{"tls", "incident.tls", "deliveries failed over TLS",
		"Check the TLS settings for these destinations (MTA-STS, DANE, certificates).", mailtriage.OwnerESP},
}

func categoryFindings(r *Result) []mailtriage.Finding {
	type agg struct {
		count    int
		examples []string
		lanes    map[string]bool
	}
	by := map[string]*agg{}
	for _, resp := range r.Responses {
		a, ok := by[resp.Category]
		if !ok {
			a = &agg{lanes: map[string]bool{}}
			by[resp.Category] = a
		}
		a.count += resp.Count
		if len(a.examples) < 3 {
			a.examples = append(a.examples, fmt.Sprintf("%d× %s (%s%s)", resp.Count, resp.Example, resp.Rule, describeWho(resp.Provider, resp.Filter)))
		}
		for _, l := range resp.Lanes {
			a.lanes[l] = true
		}
	}
	var out []mailtriage.Finding
	for _, adv := range categoryAdvice {
		a, ok := by[adv.category]
		if !ok || a.count == 0 {
			continue
		}
		sev := mailtriage.SeverityWarning
		if adv.category == "address" || adv.category == "content" {
			sev = mailtriage.SeverityInfo
		}
		lanes := make([]string, 0, len(a.lanes))
		for l := range a.lanes {
			lanes = append(lanes, l)
		}
		slices.Sort(lanes)
		out = append(out, mailtriage.Finding{
			Code: adv.code, Severity: sev, Category: adv.category,
			Message:  fmt.Sprintf("%s: %s (lanes: %s).", count(a.count, "attempt"), adv.what, strings.Join(lanes, ", ")),
			Fix:      adv.fix,
			Owner:    adv.owner,
			Evidence: a.examples,
		})
	}
	return out
}

func unclassifiedFinding(r *Result) (mailtriage.Finding, bool) {
	n := 0
	var ev []string
	for _, resp := range r.Responses {
		if resp.Rule == "unclassified" {
			n += resp.Count
			if len(ev) < 5 {
				ev = append(ev, fmt.Sprintf("%d× %s", resp.Count, resp.Example))
			}
		}
	}
	if n == 0 {
		return mailtriage.Finding{}, false
	}
	return mailtriage.Finding{
		Code: "incident.unclassified-replies", Severity: mailtriage.SeverityInfo, Category: "other",
		Message:  fmt.Sprintf("%s got replies no rule knows.", count(n, "failed attempt")),
		Fix:      "Read them; add a rule file with --rules DIR so the next run classifies them.",
		Owner:    mailtriage.OwnerSender,
		Evidence: ev,
	}, true
}

// describeWho appends who answered to a sentence: " — apple behind proofpoint".
func describeWho(provider, filter string) string {
	if w := mailtriage.Who(provider, filter); w != "" {
		return " — " + w
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
