package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
)

// incidents finds, per lane, the spans of hours whose deferral rate rose
// well above the lane's own baseline: the median of its hourly rates.
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
		var cur *Incident
		var replies map[responseKey]int
		lastHour := int64(0)
		flush := func() {
			if cur == nil {
				return
			}
			cur.DeferralRate = Counts{Attempts: cur.Attempts, Deferrals: cur.Deferrals}.Rate()
			cur.Reply = a.dominant(replies)
			out = append(out, *cur)
			cur = nil
		}
		for _, k := range keys {
			h := a.hours[k]
			rate := h.Rate()
			hot := h.Attempts >= a.opts.MinAttempts && rate >= a.opts.MinRate && rate >= a.opts.Factor*base
			if !hot {
				continue
			}
			// One quiet hour inside an incident does not end it.
			if cur != nil && k.hour-lastHour > 2*3600 {
				flush()
			}
			if cur == nil {
				cur = &Incident{Lane: lane, Start: time.Unix(k.hour, 0).UTC(), Baseline: base}
				replies = map[responseKey]int{}
			}
			cur.End = time.Unix(k.hour+3600, 0).UTC()
			cur.Attempts += h.Attempts
			cur.Deferrals += h.Deferrals
			cur.PeakRate = max(cur.PeakRate, rate)
			for rk, n := range h.replies {
				replies[rk] += n
			}
			lastHour = k.hour
		}
		flush()
	}
	slices.SortFunc(out, func(x, y Incident) int {
		return cmp.Or(cmp.Compare(y.Deferrals, x.Deferrals), x.Start.Compare(y.Start), cmp.Compare(x.Lane, y.Lane))
	})
	return out
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

// dominant returns the most frequent reply among replies, described by the
// whole-run response it belongs to, with its count in the span.
func (a *Analyzer) dominant(replies map[responseKey]int) Response {
	var best responseKey
	bestN := -1
	for k, n := range replies {
		if n > bestN || n == bestN && k.rule < best.rule {
			best, bestN = k, n
		}
	}
	if bestN < 0 {
		return Response{}
	}
	r := responseList(map[responseKey]*responseAcc{best: a.responses[best]})[0]
	r.Count = bestN
	return r
}

// findings turns the numbers into what to do first, most important first.
// The seed article's table is the guide: a 421 means slow the lane; a 554
// timeout means read the last real failure; an IP listing means check the
// blocklists; a domain problem means validate DMARC; volume means reduce
// concurrency.
func findings(r *Result, opts Options) []mailtriage.Finding {
	var out []mailtriage.Finding
	for _, inc := range r.Incidents {
		out = append(out, incidentFinding(inc))
	}
	out = append(out, sustainedFindings(r, opts)...)
	if f, ok := expiredFinding(r); ok {
		out = append(out, f)
	}
	out = append(out, categoryFindings(r)...)
	if f, ok := unclassifiedFinding(r); ok {
		out = append(out, f)
	}
	if r.Summary.UnparsedLines > 0 {
		out = append(out, mailtriage.Finding{
			Code: "input.unparsed-lines", Severity: mailtriage.SeverityInfo, Category: "input",
			Message:  fmt.Sprintf("%d lines could not be read as log lines and were skipped.", r.Summary.UnparsedLines),
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
	sev := rateSeverity(inc.DeferralRate)
	who := describeWho(inc.Reply.Provider, inc.Reply.Filter)
	msg := fmt.Sprintf("%s lane: %.1f%% of %d attempts deferred from %s to %s (peak %.1f%% in an hour; the lane's usual rate is %.1f%%). Dominant reply: %s%s.",
		inc.Lane, 100*inc.DeferralRate, inc.Attempts, stamp(inc.Start), stamp(inc.End), 100*inc.PeakRate, 100*inc.Baseline,
		inc.Reply.Example, who)
	fix := inc.Reply.Action
	if inc.Reply.Class == mailtriage.Temporary {
		fix = strings.TrimSpace(fix + " Throttle only this lane, not the others: mailtriage plan gives the MTA configuration.")
	}
	owner := inc.Reply.Owner
	if owner == "" {
		owner = mailtriage.OwnerESP
	}
	return mailtriage.Finding{
		Code: "incident.lane-deferrals", Severity: sev, Category: nonEmpty(inc.Reply.Category, "throttling"),
		Message: msg, Fix: fix, Owner: owner,
		Evidence: []string{
			fmt.Sprintf("lane=%s start=%s end=%s attempts=%d deferrals=%d", inc.Lane, inc.Start.Format(time.RFC3339), inc.End.Format(time.RFC3339), inc.Attempts, inc.Deferrals),
			fmt.Sprintf("reply (%d times, rule %s): %s", inc.Reply.Count, inc.Reply.Rule, inc.Reply.Example),
		},
	}
}

// sustainedFindings name the lanes whose deferral rate is high all along,
// so no hour stands out against the lane's own median: the incident is
// older than the log, or the destination is broken.
func sustainedFindings(r *Result, opts Options) []mailtriage.Finding {
	inIncident := map[string]bool{}
	for _, inc := range r.Incidents {
		inIncident[inc.Lane] = true
	}
	var out []mailtriage.Finding
	for _, l := range r.Lanes {
		if inIncident[l.Lane] || l.Attempts < opts.MinAttempts || l.DeferralRate < 0.2 {
			continue
		}
		var top *Response
		for i := range r.Responses {
			if slices.Contains(r.Responses[i].Lanes, l.Lane) && r.Responses[i].Class == mailtriage.Temporary {
				top = &r.Responses[i]
				break
			}
		}
		f := mailtriage.Finding{
			Code: "incident.lane-deferrals-sustained", Severity: mailtriage.SeverityError, Category: "throttling",
			Message: fmt.Sprintf("%s lane: %.1f%% of %d attempts deferred across the whole log, with no quiet baseline to compare to.",
				l.Lane, 100*l.DeferralRate, l.Attempts),
			Fix:      "Look at the dominant reply below; if it is throttling, slow only this lane (mailtriage plan).",
			Owner:    mailtriage.OwnerESP,
			Evidence: []string{fmt.Sprintf("lane=%s attempts=%d deferrals=%d domains=%s", l.Lane, l.Attempts, l.Deferrals, strings.Join(l.Domains, ","))},
		}
		if top != nil {
			f.Category = nonEmpty(top.Category, f.Category)
			f.Message += fmt.Sprintf(" Most frequent reply there: %s%s.", top.Example, describeWho(top.Provider, top.Filter))
			f.Fix = top.Action
			f.Owner = top.Owner
			f.Evidence = append(f.Evidence, fmt.Sprintf("reply (%d times overall, rule %s): %s", top.Count, top.Rule, top.Example))
		}
		out = append(out, f)
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
		ev = append(ev, fmt.Sprintf("%d recipients, last reply: %s (%s)", g.Count, nonEmpty(g.LastReply.Text, "none recorded"), nonEmpty(g.LastReply.Rule, "no rule")))
	}
	top := r.Expired[0].LastReply
	msg := fmt.Sprintf("%d recipients timed out in the queue (expired). Most last heard: %s%s.", r.Summary.Expired,
		nonEmpty(top.Text, "no reply"), describeWho(top.Provider, top.Filter))
	fix := "A queue timeout is the sending MTA giving up, not the receiver's verdict: fix the last real failure."
	if top.Class == mailtriage.Temporary {
		fix += " Here that is a temporary deferral: slow the lane it came from and send to engaged recipients first; the timeout is not a block."
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
	{"volume", "incident.volume-limits", "replies say too many connections or too fast",
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
			Message:  fmt.Sprintf("%d attempts: %s (lanes: %s).", a.count, adv.what, strings.Join(lanes, ", ")),
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
		Message:  fmt.Sprintf("%d failed attempts got replies no rule knows.", n),
		Fix:      "Read them; add a rule file with --rules DIR so the next run classifies them.",
		Owner:    mailtriage.OwnerSender,
		Evidence: ev,
	}, true
}

func describeWho(provider, filter string) string {
	switch {
	case provider != "" && filter != "" && provider != filter:
		return fmt.Sprintf(" — %s behind %s", provider, filter)
	case provider != "":
		return " — " + provider
	case filter != "":
		return " — " + filter
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
