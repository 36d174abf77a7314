package analysis

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
)

var t0 = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func deferral(at time.Time, lane, rule string) *mailtriage.Event {
	return &mailtriage.Event{
		Kind: mailtriage.Attempt, Status: mailtriage.Deferred, Time: at, Lane: lane, Sender: "news@shop.example",
		RemoteHost: "mx01.mail.icloud.com", Recipient: "j@icloud.com", Domain: "icloud.com",
		Detail:  smtpreply.Detail{Kind: smtpreply.Said, Reply: smtpreply.Parse("421 4.7.0 Deferred - see Proofpoint DNSBL lookup"), Text: "421 4.7.0 Deferred - see Proofpoint DNSBL lookup"},
		Verdict: mailtriage.Verdict{Class: mailtriage.Temporary, Reason: "badreputation", Category: "throttling", Provider: "apple", Filter: "proofpoint", Rule: rule, Owner: mailtriage.OwnerESP, Action: "slow the lane"},
	}
}

func delivered(at time.Time, lane string) *mailtriage.Event {
	return &mailtriage.Event{
		Kind: mailtriage.Attempt, Status: mailtriage.Delivered, Time: at, Lane: lane, Sender: "news@shop.example",
		RemoteHost: "mx01.mail.icloud.com", Detail: smtpreply.Detail{Reply: smtpreply.Parse("250 2.0.0 OK")},
		Verdict: mailtriage.Verdict{Class: mailtriage.Success, Rule: "success", Provider: "apple"},
	}
}

func TestCountsFollowTheDefinitions(t *testing.T) {
	a := New(DefaultOptions())
	a.Add(deferral(t0, "apple", "proofpoint-pdr-deferral"))
	a.Add(delivered(t0.Add(time.Hour), "apple"))
	a.Add(&mailtriage.Event{Kind: mailtriage.LocalDeferral, Status: mailtriage.Deferred, Time: t0, Lane: "apple"})
	a.Add(&mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Delivered, Time: t0.Add(time.Hour), Lane: "apple", Sender: "news@shop.example"})
	a.Add(&mailtriage.Event{Kind: mailtriage.Message, Time: t0.Add(time.Hour), Sender: "news@shop.example", Recipients: 1})
	a.Add(&mailtriage.Event{Kind: mailtriage.Message, Time: t0.Add(time.Hour), Notification: true, Recipients: 1})
	r := a.Result()
	s := r.Summary
	// A local deferral is neither an attempt nor a deferral; a
	// notification counts only as a notification.
	if s.Attempts != 2 || s.Deferrals != 1 || s.LocalDeferrals != 1 || s.Messages != 1 || s.Notifications != 1 ||
		s.Recipients != 1 || s.Delivered != 1 || s.DeferralRate != 0.5 {
		t.Errorf("summary %+v", s)
	}
	if len(r.Lanes) != 1 || r.Lanes[0].Attempts != 2 || r.Lanes[0].Delivered != 1 || r.Lanes[0].DeferralRate != 0.5 {
		t.Errorf("lanes %+v", r.Lanes)
	}
	if len(r.Hourly) != 2 || !r.Hourly[0].Hour.Equal(t0) || r.Hourly[0].Deferrals != 1 || r.Hourly[1].Delivered != 1 {
		t.Errorf("hourly %+v", r.Hourly)
	}
	if len(r.Responses) != 1 || r.Responses[0].Count != 1 || r.Responses[0].Code != 421 || r.Responses[0].Filter != "proofpoint" {
		t.Errorf("responses %+v", r.Responses)
	}
	if len(r.Streams) != 1 || r.Streams[0].Messages != 1 || r.Streams[0].Attempts != 2 {
		t.Errorf("streams %+v", r.Streams)
	}
}

func TestWindow(t *testing.T) {
	opts := DefaultOptions()
	opts.Since, opts.Until = t0.Add(time.Hour), t0.Add(2*time.Hour)
	a := New(opts)
	a.Add(deferral(t0, "apple", "r"))                     // before
	a.Add(deferral(t0.Add(90*time.Minute), "apple", "r")) // inside
	a.Add(deferral(t0.Add(2*time.Hour), "apple", "r"))    // at Until: outside
	if s := a.Result().Summary; s.Attempts != 1 {
		t.Errorf("attempts in window %d, want 1", s.Attempts)
	}
}

// TestIncident: a lane quiet for a day, then deferred for three hours;
// the incident covers those hours and names the dominant reply.
func TestIncident(t *testing.T) {
	a := New(DefaultOptions())
	for h := 0; h < 24; h++ {
		at := t0.Add(time.Duration(h) * time.Hour)
		for i := 0; i < 60; i++ {
			a.Add(delivered(at, "apple"))
			a.Add(delivered(at, "google"))
		}
		a.Add(deferral(at, "apple", "apple-bs02-temporary")) // a baseline of 1 in 61
		if h >= 10 && h < 13 {
			for i := 0; i < 40; i++ {
				a.Add(deferral(at, "apple", "proofpoint-pdr-deferral"))
			}
		}
		if h == 16 {
			// 3 of 63: under the 5 % floor, not an incident.
			for i := 0; i < 3; i++ {
				a.Add(deferral(at, "google", "x"))
			}
		}
	}
	r := a.Result()
	if len(r.Incidents) != 1 {
		t.Fatalf("incidents %+v", r.Incidents)
	}
	inc := r.Incidents[0]
	if inc.Lane != "apple" || !inc.Start.Equal(t0.Add(10*time.Hour)) || !inc.End.Equal(t0.Add(13*time.Hour)) ||
		inc.Reply.Rule != "proofpoint-pdr-deferral" || inc.Reply.Count != 120 || inc.Attempts != 3*101 {
		t.Errorf("incident %+v", inc)
	}
	if inc.Baseline <= 0 || inc.Baseline > 0.02 {
		t.Errorf("baseline %v", inc.Baseline)
	}
	if len(r.Findings) == 0 || r.Findings[0].Code != "incident.lane-deferrals" || r.Findings[0].Severity != mailtriage.SeverityError {
		t.Errorf("findings %+v", r.Findings)
	}
}

// TestSustained: a lane deferred all along has no quiet baseline; it is
// still reported.
func TestSustained(t *testing.T) {
	a := New(DefaultOptions())
	for h := 0; h < 10; h++ {
		at := t0.Add(time.Duration(h) * time.Hour)
		for i := 0; i < 20; i++ {
			a.Add(deferral(at, "apple", "proofpoint-pdr-deferral"))
			a.Add(delivered(at, "apple"))
		}
	}
	r := a.Result()
	if len(r.Incidents) != 0 {
		t.Errorf("incidents %+v", r.Incidents)
	}
	found := false
	for _, f := range r.Findings {
		if f.Code == "incident.lane-deferrals-sustained" && f.Severity == mailtriage.SeverityError {
			found = true
		}
	}
	if !found {
		t.Errorf("no sustained finding in %+v", r.Findings)
	}
}

func TestExpiredGroupsByRootCause(t *testing.T) {
	a := New(DefaultOptions())
	for i := 0; i < 3; i++ {
		e := deferral(t0, "apple", "proofpoint-pdr-deferral")
		e.Kind, e.Status = mailtriage.Final, mailtriage.Expired
		a.Add(e)
	}
	timeout := &mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Expired, Time: t0, Lane: "other",
		Detail:  smtpreply.Detail{Kind: smtpreply.ConnectFailed, Reply: smtpreply.Reply{Text: "Connection timed out"}, Text: "connect to x[1.2.3.4]:25: Connection timed out"},
		Verdict: mailtriage.Verdict{Class: mailtriage.Temporary, Rule: "connect-timed-out"}}
	a.Add(timeout)
	r := a.Result()
	if r.Summary.Expired != 4 || len(r.Expired) != 2 || r.Expired[0].Count != 3 || r.Expired[0].LastReply.Code != 421 ||
		r.Expired[1].LastReply.Text != "Connection timed out" || r.Expired[1].LastReply.Code != 0 {
		t.Errorf("expired %+v", r.Expired)
	}
}

func TestStreamByDomain(t *testing.T) {
	opts := DefaultOptions()
	opts.StreamBy = "domain"
	a := New(opts)
	for _, s := range []string{"news@Shop.Example", "billing@shop.example", ""} {
		a.Add(&mailtriage.Event{Kind: mailtriage.Message, Time: t0, Sender: s, Recipients: 1})
	}
	r := a.Result()
	if len(r.Streams) != 2 || r.Streams[0].Stream != "shop.example" || r.Streams[0].Messages != 2 || r.Streams[1].Stream != "<>" {
		t.Errorf("streams %+v", r.Streams)
	}
}

// TestSenderNotLogged: messages whose sender the log never named are a
// stream of their own, apart from the null sender's.
func TestSenderNotLogged(t *testing.T) {
	a := New(DefaultOptions())
	a.Add(&mailtriage.Event{Kind: mailtriage.Message, Time: t0, Recipients: 1})
	a.Add(&mailtriage.Event{Kind: mailtriage.Message, Time: t0, SenderUnknown: true, Recipients: 1})
	a.Add(&mailtriage.Event{Kind: mailtriage.Message, Time: t0, SenderUnknown: true, Recipients: 1})
	r := a.Result()
	if len(r.Streams) != 2 || r.Streams[0].Stream != UnloggedSender || r.Streams[0].Messages != 2 ||
		r.Streams[1].Stream != "<>" || r.Streams[1].Messages != 1 {
		t.Errorf("streams %+v", r.Streams)
	}
}

// TestHostReputation: two sending hosts in one lane, one deferred far more
// than the other, are named.
func TestHostReputation(t *testing.T) {
	a := New(DefaultOptions())
	for i := 0; i < 100; i++ {
		good := delivered(t0, "apple")
		good.Host = "mta1"
		a.Add(good)
		bad := deferral(t0, "apple", "proofpoint-pdr-deferral")
		if i%2 == 0 {
			bad = delivered(t0, "apple")
		}
		bad.Host = "mta2"
		a.Add(bad)
	}
	r := a.Result()
	f := findingOf(r, "incident.host-reputation")
	if f == nil || !strings.Contains(f.Message, "host mta2 had 50.0%") || !strings.Contains(f.Message, "host mta1 0.0%") {
		t.Errorf("finding %+v", f)
	}
	if len(r.Hosts) != 2 || r.Hosts[0].Lanes[0].Lane != "apple" {
		t.Errorf("hosts %+v", r.Hosts)
	}
}

func TestFoldSender(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"news@shop.example", "news@shop.example"},
		// VERP: the recipient is encoded after the tag.
		{"bounces+1234-ab12-jane=example.com@em.shop.example", "bounces+*@em.shop.example"},
		{"bounce-1234-jane=example.com@shop.example", "bounce-*@shop.example"},
		// BATV (draft-levine-smtp-batv): prvs=tag=local.
		{"prvs=0123abcd4=news@shop.example", "news@shop.example"},
		// SRS (the Sender Rewriting Scheme): a forwarder's rewrite.
		{"SRS0=HHH=TT=example.com=jane@forwarder.example", "SRS0=*@forwarder.example"},
		{"no-reply@shop.example", "no-reply@shop.example"},
		{"a=b@shop.example", "a=b@shop.example"},
		{"", ""},
	} {
		if got := FoldSender(tt.in); got != tt.want {
			t.Errorf("FoldSender(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestIncidentSmallMinAttempts: --min-attempts below ten still finds the
// incident it asks for; hours with that many attempts are judged.
func TestIncidentSmallMinAttempts(t *testing.T) {
	for _, tt := range []struct {
		minAttempts int
		want        int
	}{
		{50, 0}, // the default: 8 attempts an hour are too few
		{5, 1},  // asked for: an hour of 8 attempts counts
	} {
		opts := DefaultOptions()
		opts.MinAttempts = tt.minAttempts
		a := New(opts)
		for h := 0; h < 12; h++ {
			at := t0.Add(time.Duration(h) * time.Hour)
			for i := 0; i < 8; i++ {
				if h == 6 && i < 6 {
					a.Add(deferral(at, "apple", "proofpoint-pdr-deferral"))
				} else {
					a.Add(delivered(at, "apple"))
				}
			}
		}
		r := a.Result()
		if len(r.Incidents) != tt.want {
			t.Errorf("MinAttempts %d: %d incidents, want %d: %+v", tt.minAttempts, len(r.Incidents), tt.want, r.Incidents)
			continue
		}
		if tt.want == 1 && (!r.Incidents[0].Start.Equal(t0.Add(6*time.Hour)) || r.Incidents[0].PeakRate != 0.75) {
			t.Errorf("MinAttempts %d: incident %+v", tt.minAttempts, r.Incidents[0])
		}
	}
}

// TestIncidentDominantReplyIsADeferral: an incident is about deferrals;
// the bounces of the same hours (an old list's unknown users) are not
// its dominant reply, however many there are.
func TestIncidentDominantReplyIsADeferral(t *testing.T) {
	a := New(DefaultOptions())
	bounce := func(at time.Time) *mailtriage.Event {
		e := deferral(at, "apple", "user-unknown")
		e.Status = mailtriage.Bounced
		e.Detail.Reply = smtpreply.Parse("550 5.1.1 unknown user")
		e.Verdict = mailtriage.Verdict{Class: mailtriage.Permanent, Reason: "userunknown", Category: "address", Provider: "apple", Rule: "user-unknown", Action: "suppress"}
		return e
	}
	for h := 0; h < 24; h++ {
		at := t0.Add(time.Duration(h) * time.Hour)
		for i := 0; i < 60; i++ {
			a.Add(delivered(at, "apple"))
		}
		if h == 10 {
			for i := 0; i < 15; i++ {
				a.Add(deferral(at, "apple", "proofpoint-pdr-deferral"))
			}
			for i := 0; i < 25; i++ {
				a.Add(bounce(at))
			}
		}
	}
	r := a.Result()
	if len(r.Incidents) != 1 || r.Incidents[0].Reply.Rule != "proofpoint-pdr-deferral" || r.Incidents[0].Reply.Count != 15 {
		t.Fatalf("incidents %+v", r.Incidents)
	}
}

// TestClipKeepsAddressesWhole: a long reply is cut between words, so a
// recipient address is quoted whole (and --redact can hash it) or not at
// all, never as a bare local part.
func TestClipKeepsAddressesWhole(t *testing.T) {
	pad := strings.Repeat("x", 371)
	for _, tt := range []struct{ in, want string }{
		{"550 5.1.1 <jane@icloud.com>: unknown", "550 5.1.1 <jane@icloud.com>: unknown"},
		{"550 5.1.1 " + pad + " <jonathan.appleseed@icloud.com>: Recipient address rejected", "550 5.1.1 " + pad + " …"},
		{"550 5.1.1 " + pad + " (jonathan.appleseed@icloud.com)", "550 5.1.1 " + pad + " …"},
		// One word longer than the limit: cut at a rune boundary.
		{strings.Repeat("é", 300), strings.Repeat("é", 200) + "…"},
	} {
		got := clip(tt.in)
		if got != tt.want {
			t.Errorf("clip(%.40q…) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "jonathan") {
			t.Errorf("clip(%.40q…) keeps a bare local part: %q", tt.in, got)
		}
	}
}

// TestIncidentSilentGaps: a run of elevated hours ends at a silence of
// more than maxSilentHours hours without attempts in the lane, so an
// elevated Monday 10:00 and an elevated Tuesday 10:00 are two incidents,
// not one of 25 hours; a shorter silence, such as Postfix's backoff
// between retries of a suspended destination, does not break a run.
func TestIncidentSilentGaps(t *testing.T) {
	for _, tt := range []struct {
		name     string
		second   int // the hour of the second elevated hour, after one at 10:00
		want     int
		firstEnd int // the end hour of the first incident
	}{
		{"next day", 24 + 10, 2, 11},
		{"four silent hours", 15, 2, 11},
		{"three silent hours", 14, 1, 15},
		{"two silent hours", 13, 1, 14},
	} {
		a := New(DefaultOptions())
		hour := func(h int, deferrals int) {
			at := t0.Add(time.Duration(h) * time.Hour)
			for i := 0; i < 60; i++ {
				a.Add(delivered(at, "apple"))
			}
			a.Add(deferral(at, "apple", "apple-bs02-temporary"))
			for i := 0; i < deferrals; i++ {
				a.Add(deferral(at, "apple", "proofpoint-pdr-deferral"))
			}
		}
		for h := 0; h < 10; h++ {
			hour(h, 0)
		}
		hour(10, 40)
		hour(tt.second, 40)
		for h := tt.second + 1; h < tt.second+11; h++ {
			hour(h, 0)
		}
		r := a.Result()
		if len(r.Incidents) != tt.want {
			t.Errorf("%s: %d incidents, want %d: %+v", tt.name, len(r.Incidents), tt.want, r.Incidents)
			continue
		}
		inc := r.Incidents[0] // equal deferrals: the earlier first
		if !inc.Start.Equal(t0.Add(10*time.Hour)) || !inc.End.Equal(t0.Add(time.Duration(tt.firstEnd)*time.Hour)) {
			t.Errorf("%s: first incident %s to %s, want %s to %s", tt.name, inc.Start, inc.End,
				t0.Add(10*time.Hour), t0.Add(time.Duration(tt.firstEnd)*time.Hour))
		}
	}
}

// TestIncidentDominantReplyDescribesTheIncident: the same reply (same
// code, enhanced code and rule) deferring another lane, and this lane
// before and after the incident, stays out of every field of the
// incident's dominant reply: its count, first and last times, lanes and
// example are the incident's own.
func TestIncidentDominantReplyDescribesTheIncident(t *testing.T) {
	a := New(DefaultOptions())
	hcm1 := func(at time.Time, lane, ip string) *mailtriage.Event {
		e := deferral(at, lane, "apple-hcm1-deferred")
		text := "421 4.7.0 [HCM1] Your mail from " + ip + " was deferred."
		e.Detail = smtpreply.Detail{Kind: smtpreply.Said, Reply: smtpreply.Parse(text), Text: text}
		return e
	}
	for h := 0; h < 24; h++ {
		at := t0.Add(time.Duration(h) * time.Hour)
		for i := 0; i < 60; i++ {
			a.Add(delivered(at, "apple"))
			a.Add(delivered(at, "google"))
		}
		switch {
		case h == 2 || h == 20:
			// Outside the incident: one deferral now and then.
			a.Add(hcm1(at.Add(5*time.Minute), "apple", "203.0.113.25"))
		case h >= 10 && h < 12:
			for i := 0; i < 30; i++ {
				a.Add(hcm1(at.Add(time.Duration(10+i)*time.Minute), "apple", "203.0.113.26"))
			}
		}
		// Another lane with the same reply all day, too little to matter.
		a.Add(hcm1(at.Add(time.Minute), "google", "203.0.113.27"))
	}
	r := a.Result()
	var inc *Incident
	for i := range r.Incidents {
		if r.Incidents[i].Lane == "apple" {
			inc = &r.Incidents[i]
		}
	}
	if inc == nil {
		t.Fatalf("no apple incident: %+v", r.Incidents)
	}
	rep := inc.Reply
	wantFirst, wantLast := t0.Add(10*time.Hour+10*time.Minute), t0.Add(11*time.Hour+39*time.Minute)
	if rep.Rule != "apple-hcm1-deferred" || rep.Count != 60 {
		t.Errorf("reply %s × %d, want apple-hcm1-deferred × 60", rep.Rule, rep.Count)
	}
	if !rep.First.Equal(wantFirst) || !rep.Last.Equal(wantLast) {
		t.Errorf("reply first %s last %s, want %s and %s", rep.First, rep.Last, wantFirst, wantLast)
	}
	if len(rep.Lanes) != 1 || rep.Lanes[0] != "apple" {
		t.Errorf("reply lanes %v, want [apple]", rep.Lanes)
	}
	if !strings.Contains(rep.Example, "203.0.113.26") {
		t.Errorf("reply example %q is not one of the incident's", rep.Example)
	}
}

// TestDomainFindingUnknownRecipients: a domain whose server answers but
// refuses every recipient as unknown exists and takes mail; the advice
// says the addresses are wrong, not that the domain is.
func TestDomainFindingUnknownRecipients(t *testing.T) {
	r := &Result{Domains: []DomainStats{{Domain: "deadcorp.example", Lane: "other", Counts: Counts{Attempts: 60, Bounces: 60},
		Reply: Response{Category: "address", Reason: "userunknown", Rule: "user-unknown",
			Example: "550 5.1.1 <jane@deadcorp.example>: Recipient address rejected: User unknown"}}}}
	fs := domainFindings(r, nil)
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1", len(fs))
	}
	if fix := fs[0].Fix; strings.Contains(fix, "does not exist (a typo?)") || !strings.Contains(fix, "recipients do not exist") {
		t.Errorf("fix for unknown recipients: %q", fix)
	}
}

// TestNothingAnalysedNamesEveryFormat: an empty analysis asks whether the
// inputs are ones mailtriage reads, not only Postfix logs (an Exim log
// that held nothing in the window is still the right input).
func TestNothingAnalysedNamesEveryFormat(t *testing.T) {
	fs := New(DefaultOptions()).Result().Findings
	if len(fs) != 1 || fs[0].Code != "input.nothing-analysed" {
		t.Fatalf("findings %+v", fs)
	}
	if strings.Contains(fs[0].Fix, "Postfix mail logs") || !strings.Contains(fs[0].Fix, "Exim") {
		t.Errorf("fix %q", fs[0].Fix)
	}
}

// timeout is an attempt at a business domain's MX that never answered.
func timeout(at time.Time, rcpt string) *mailtriage.Event {
	_, domain, _ := strings.Cut(rcpt, "@")
	return &mailtriage.Event{
		Kind: mailtriage.Attempt, Status: mailtriage.Deferred, Time: at, Lane: "other", Sender: "news@shop.example",
		Recipient: rcpt, Domain: domain,
		Detail:  smtpreply.Detail{Kind: smtpreply.ConnectFailed, Text: "connect to mx.acme.example[203.0.113.5]:25: Connection timed out"},
		Verdict: mailtriage.Verdict{Class: mailtriage.Temporary, Reason: "networkerror", Category: "network", Rule: "connect-timed-out", Owner: mailtriage.OwnerESP},
	}
}

// TestUnreachableDomainIsAnError: a business domain whose MX times out
// for hours, its recipients still queued at the end, is a problem (exit
// 3), though its lane "other" gets no lane finding; a domain that failed
// a few recipients for minutes stays a warning.
func TestUnreachableDomainIsAnError(t *testing.T) {
	a := New(DefaultOptions())
	for i := 0; i < 80; i++ {
		rcpt := fmt.Sprintf("user%d@acme.example", i)
		for k := 0; k < 3; k++ {
			a.Add(timeout(t0.Add(time.Duration(i)*time.Minute+time.Duration(k)*70*time.Minute), rcpt))
		}
		a.Add(&mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Pending, Time: t0.Add(4 * time.Hour), Lane: "other",
			Sender: "news@shop.example", Recipient: rcpt, Domain: "acme.example"})
	}
	// A short failure: 12 recipients in ten minutes, pending.
	for i := 0; i < 12; i++ {
		rcpt := fmt.Sprintf("user%d@brief.example", i)
		a.Add(timeout(t0.Add(time.Duration(i)*time.Minute), rcpt))
		a.Add(&mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Pending, Time: t0.Add(4 * time.Hour), Lane: "other",
			Sender: "news@shop.example", Recipient: rcpt, Domain: "brief.example"})
	}
	r := a.Result()
	var acme, brief *mailtriage.Finding
	for i, f := range r.Findings {
		if f.Code == "incident.domain-failing" && strings.HasPrefix(f.Message, "acme.example ") {
			acme = &r.Findings[i]
		}
		if f.Code == "incident.domain-failing" && strings.HasPrefix(f.Message, "brief.example ") {
			brief = &r.Findings[i]
		}
	}
	if acme == nil || brief == nil {
		t.Fatalf("findings %+v", r.Findings)
	}
	if acme.Severity != mailtriage.SeverityError || !strings.Contains(acme.Message, "80 recipients pending") {
		t.Errorf("unreachable for hours: %s %q", acme.Severity, acme.Message)
	}
	if brief.Severity != mailtriage.SeverityWarning {
		t.Errorf("failing for ten minutes: %s %q", brief.Severity, brief.Message)
	}
	if len(r.Domains) != 2 || r.Domains[0].Pending != 80 || r.Domains[0].Recipients != 80 {
		t.Errorf("failing domains %+v", r.Domains)
	}
}

// TestLaneDomainFoldsIntoLaneFinding: Gmail deferring every attempt with
// 421 4.7.28 is one finding, the lane's, which names gmail.com's figures;
// not a second one about gmail.com with the same reply and advice. A
// domain of the lane failing with another reply keeps its own finding.
func TestLaneDomainFoldsIntoLaneFinding(t *testing.T) {
	const text = "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your SPF domain"
	gmail := func(at time.Time, rcpt string) *mailtriage.Event {
		_, domain, _ := strings.Cut(rcpt, "@")
		return &mailtriage.Event{
			Kind: mailtriage.Attempt, Status: mailtriage.Deferred, Time: at, Lane: "google", Sender: "news@shop.example",
			RemoteHost: "gmail-smtp-in.l.google.com", Recipient: rcpt, Domain: domain,
			Detail:  smtpreply.Detail{Kind: smtpreply.Said, Reply: smtpreply.Parse(text), Text: text},
			Verdict: mailtriage.Verdict{Class: mailtriage.Temporary, Reason: "speeding", Category: "throttling", Provider: "google", Rule: "gmail-4.7.28", Owner: mailtriage.OwnerESP, Action: "Slow the Gmail lane."},
		}
	}
	a := New(DefaultOptions())
	for i := 0; i < 120; i++ {
		rcpt := fmt.Sprintf("user%d@gmail.com", i)
		for k := 0; k < 2; k++ {
			a.Add(gmail(t0.Add(time.Duration(2*i)*time.Minute+time.Duration(k)*30*time.Minute), rcpt))
		}
		a.Add(&mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Pending, Time: t0.Add(5 * time.Hour), Lane: "google",
			Sender: "news@shop.example", Recipient: rcpt, Domain: "gmail.com"})
	}
	for i := 0; i < 12; i++ {
		e := timeout(t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("u%d@workspace.example", i))
		e.Lane = "google"
		a.Add(e)
	}
	r := a.Result()
	var lane, gmailDomain, workspace int
	for _, f := range r.Findings {
		switch {
		case strings.HasPrefix(f.Code, "incident.lane-deferrals"):
			lane++
			if !strings.Contains(f.Message, "gmail.com accepted none of its 240 attempts (120 recipients pending)") || f.Severity != mailtriage.SeverityError {
				t.Errorf("lane finding %s %q", f.Severity, f.Message)
			}
		case f.Code == "incident.domain-failing" && strings.HasPrefix(f.Message, "gmail.com "):
			gmailDomain++
		case f.Code == "incident.domain-failing" && strings.HasPrefix(f.Message, "workspace.example "):
			workspace++
		}
	}
	if lane != 1 || gmailDomain != 0 || workspace != 1 {
		t.Errorf("lane findings %d, gmail.com findings %d, workspace.example findings %d; want 1, 0, 1:\n%+v", lane, gmailDomain, workspace, r.Findings)
	}
}

// TestHostReputationNamesTheAddress: a source that logs the sending
// address and its name (KumoMTA's source_address and egress source) has
// its hosts counted by address, the name beside it, and the advice
// checks the address, not "bulk-ip's sending IP".
func TestHostReputationNamesTheAddress(t *testing.T) {
	a := New(DefaultOptions())
	for i := 0; i < 100; i++ {
		good := delivered(t0, "apple")
		good.Host, good.LocalIP, good.LocalName = "kumo1", "203.0.113.26", "txn-ip"
		a.Add(good)
		bad := deferral(t0, "apple", "proofpoint-pdr-deferral")
		bad.Host, bad.LocalIP, bad.LocalName = "kumo1", "203.0.113.25", "bulk-ip"
		a.Add(bad)
	}
	r := a.Result()
	f := findingOf(r, "incident.host-reputation")
	if f == nil || !strings.Contains(f.Message, "host 203.0.113.25 (bulk-ip) had 100.0%") || !strings.Contains(f.Message, "host 203.0.113.26 (txn-ip) 0.0%") {
		t.Fatalf("finding %+v", f)
	}
	if !strings.Contains(f.Fix, "Check 203.0.113.25 (bulk-ip) against the blocklists (mailtriage blocklist 203.0.113.25)") || strings.Contains(f.Fix, "'s sending IP") {
		t.Errorf("fix %q", f.Fix)
	}
	if len(r.Hosts) != 2 || r.Hosts[0].Host != "203.0.113.25" && r.Hosts[0].Host != "203.0.113.26" || r.Hosts[0].Name == "" {
		t.Errorf("hosts %+v", r.Hosts)
	}
}

// TestUnloggedHostIsNoHost: Exim names no sending host on most lines,
// and the source's name stands in for it. Those attempts are not one
// host's, so they are not compared with a host the log did name, and the
// label says the host was not logged.
func TestUnloggedHostIsNoHost(t *testing.T) {
	a := New(DefaultOptions())
	for i := 0; i < 100; i++ {
		bad := deferral(t0, "apple", "proofpoint-pdr-deferral")
		bad.Source, bad.Host = "exim", "exim"
		a.Add(bad)
		good := delivered(t0, "apple")
		good.Source, good.Host, good.LocalIP = "exim", "exim", "203.0.113.25"
		a.Add(good)
	}
	r := a.Result()
	if f := findingOf(r, "incident.host-reputation"); f != nil {
		t.Errorf("a finding on a host the log never named: %+v", f)
	}
	var labels []string
	for _, h := range r.Hosts {
		labels = append(labels, h.Label())
	}
	slices.Sort(labels)
	if want := []string{"(host not logged: exim)", "203.0.113.25"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
}

// TestBacklog: a lane with many recipients still queued at the end is a
// finding that says since when and what they last heard; an error once
// the oldest has waited a day, a warning before; a few queued are none.
func TestBacklog(t *testing.T) {
	end := t0.Add(30 * time.Hour)
	reply := smtpreply.ParseDetail("host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command)")
	run := func(n int, queued time.Time) []mailtriage.Finding {
		a := New(DefaultOptions())
		for i := 0; i < n; i++ {
			a.Add(&mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Pending, Time: end, Queued: queued.Add(time.Duration(i) * time.Minute),
				Lane: "apple", Domain: "icloud.com", Recipient: fmt.Sprintf("r%d@icloud.com", i), Detail: reply,
				Verdict: mailtriage.Verdict{Rule: "proofpoint-pdr-deferral", Class: mailtriage.Temporary, Action: "Slow the lane."}})
		}
		var out []mailtriage.Finding
		for _, f := range a.Result().Findings {
			if f.Code == "queue.backlog" {
				out = append(out, f)
			}
		}
		return out
	}
	if f := run(12, t0); len(f) != 1 || f[0].Severity != mailtriage.SeverityError ||
		!strings.Contains(f[0].Message, "apple lane: 12 recipients still queued at the end, the oldest queued since") ||
		!strings.Contains(f[0].Message, "(30 h 00 min before)") || !strings.Contains(f[0].Message, "Deferred - see Proofpoint DNSBL lookup") || f[0].Fix != "Slow the lane." {
		t.Errorf("a day-old backlog: %+v", f)
	}
	if f := run(12, end.Add(-2*time.Hour)); len(f) != 1 || f[0].Severity != mailtriage.SeverityWarning {
		t.Errorf("a two-hour backlog: %+v", f)
	}
	if f := run(3, t0); len(f) != 0 {
		t.Errorf("three queued: %+v", f)
	}
}

// findingOf returns r's last finding of code, or nil.
func findingOf(r *Result, code string) *mailtriage.Finding {
	var f *mailtriage.Finding
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			f = &r.Findings[i]
		}
	}
	return f
}

// TestDiscardedIsNotDelivered: a recipient dropped on the sending host
// (mailtriage.Discarded) counts as a recipient and as discarded, not as
// delivered, though the MTA logged it sent.
func TestDiscardedIsNotDelivered(t *testing.T) {
	a := New(DefaultOptions())
	a.Add(&mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Discarded, Time: t0, Lane: "google", Domain: "gmail.com", Recipient: "her@gmail.com"})
	a.Add(&mailtriage.Event{Kind: mailtriage.Final, Status: mailtriage.Delivered, Time: t0, Lane: "google", Domain: "gmail.com", Recipient: "him@gmail.com"})
	if s := a.Result().Summary; s.Recipients != 2 || s.Delivered != 1 || s.Discarded != 1 {
		t.Errorf("summary %+v, want 2 recipients, 1 delivered, 1 discarded", s)
	}
}
