package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/cohort"
	"github.com/mailtriage/mailtriage/internal/sampleresult"
	"github.com/mailtriage/mailtriage/throttle"
)

// sample is the analysis of the shipped sample log (the CLI's golden
// file): Apple deferred behind Proofpoint, Yahoo TSS04, mild Gmail.
func sample(t *testing.T) *analysis.Result { return sampleresult.Load(t) }

func TestNew(t *testing.T) {
	p := New(sample(t), Options{})
	if len(p.Lanes) != 2 || p.Lanes[0].Lane != "apple" || p.Lanes[1].Lane != "yahoo" {
		t.Fatalf("lanes %+v", p.Lanes)
	}
	if len(p.Watch) != 1 || !strings.HasPrefix(p.Watch[0], "google:") {
		t.Errorf("watch %v", p.Watch)
	}
	a := p.Lanes[0]
	if !strings.Contains(a.Why, "apple behind proofpoint") || !strings.Contains(a.Why, "421 4.7.0") || a.Deferrals[0] != "421 4.7.0 Deferred - see Proofpoint DNSBL lookup" {
		t.Errorf("why %q deferrals %q", a.Why, a.Deferrals)
	}
	if a.UsualPerHour < 1 || a.Threshold < 0.05 || a.Throttle.PerHour != a.Schedule[0].PerHour || a.Throttle.Connections != 2 {
		t.Errorf("usual %d threshold %v throttle %+v", a.UsualPerHour, a.Threshold, a.Throttle)
	}
	// The schedule climbs back to the usual volume, each step bigger.
	for i := 1; i < len(a.Schedule); i++ {
		if a.Schedule[i].PerHour < a.Schedule[i-1].PerHour || a.Schedule[i].Rule == "" {
			t.Errorf("day %d: %+v", i+1, a.Schedule[i])
		}
	}
	if last := a.Schedule[len(a.Schedule)-1]; last.Share != 100 || last.PerHour != a.UsualPerHour {
		t.Errorf("last day %+v, usual %d", last, a.UsualPerHour)
	}
	// Both streams reach the apple lane: keep the transactional one apart.
	kinds := map[string]string{}
	for _, s := range p.Streams {
		kinds[s.Stream] = s.Kind
		if s.Kind == "transactional" && s.Advice == "" {
			t.Errorf("no advice for %s", s.Stream)
		}
	}
	if kinds["news@news.shop.example.net"] != "bulk" || kinds["noreply@shop.example.net"] != "transactional" {
		t.Errorf("streams %v", kinds)
	}
	// The lanes make a configuration Postfix's generator accepts.
	var lanes []throttle.Lane
	for _, l := range p.Lanes {
		lanes = append(lanes, l.Throttle)
	}
	if _, err := throttle.Postfix(lanes...); err != nil {
		t.Error(err)
	}
}

// TestUsualCarriesADay: a lane that sends in bursts (a campaign of 70 an
// hour, twice a day, and a trickle) gets a usual volume that carries its
// usual day at the last step, not its busy-hour percentile alone, which
// would leave the queue growing; incident hours count for neither.
func TestUsualCarriesADay(t *testing.T) {
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	r := &analysis.Result{Incidents: []analysis.Incident{{Lane: "apple", Start: day.Add(24 * time.Hour), End: day.Add(30 * time.Hour)}}}
	for h := 0; h < 30; h++ {
		n := 3
		switch {
		case h == 9 || h == 15:
			n = 70
		case h >= 24:
			n = 500 // the incident: retries, not the usual mail
		}
		r.Hourly = append(r.Hourly, analysis.HourStats{Lane: "apple", Hour: day.Add(time.Duration(h) * time.Hour), Attempts: n})
	}
	perHour, _ := usual(r, "apple")
	// The usual day: 22 hours of 3 and two of 70, 206 attempts, 8.6 an
	// hour; the busy-hour percentile alone says 3.
	if perHour != 9 {
		t.Errorf("usual %d an hour, want 9 (206 attempts over 24 hours)", perHour)
	}
	// A quieter day after it does not lower what the busiest one needs.
	for h := 30; h < 48; h++ {
		r.Hourly = append(r.Hourly, analysis.HourStats{Lane: "apple", Hour: day.Add(time.Duration(h) * time.Hour), Attempts: 1})
	}
	if perHour, _ = usual(r, "apple"); perHour != 9 {
		t.Errorf("with a quiet day: usual %d an hour, want 9", perHour)
	}
}

// TestSlowedByAnyIncidentOverTheRate: a lane whose incident with the most
// deferrals was mild (8%), and which had another at 40%, is slowed, on the
// 40% one (README: an incident whose deferral rate reached 15%).
func TestSlowedByAnyIncidentOverTheRate(t *testing.T) {
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	r := &analysis.Result{
		Lanes: []analysis.LaneStats{{Lane: "apple", Attempts: 2000, Deferrals: 200, Domains: []string{"icloud.com"}}},
		Incidents: []analysis.Incident{
			{Lane: "apple", Start: at, End: at.Add(10 * time.Hour), Attempts: 1500, Deferrals: 120, DeferralRate: 0.08},
			{Lane: "apple", Start: at.Add(20 * time.Hour), End: at.Add(22 * time.Hour), Attempts: 200, Deferrals: 80, DeferralRate: 0.4},
		},
	}
	p := New(r, Options{})
	if len(p.Lanes) != 1 || p.Lanes[0].Incident.DeferralRate != 0.4 {
		t.Errorf("lanes %+v, watch %v", p.Lanes, p.Watch)
	}
}

func TestNothingToThrottle(t *testing.T) {
	r := sample(t)
	r.Incidents = nil
	p := New(r, Options{})
	if len(p.Lanes) != 0 || !strings.Contains(p.Nothing, "nothing to throttle") {
		t.Errorf("%+v", p)
	}
}

func TestStreamKind(t *testing.T) {
	for s, want := range map[string]string{
		"news@news.shop.example.net": "bulk", "noreply@shop.example.net": "transactional", "no-reply@x.example": "transactional",
		"billing@x.example": "transactional", "offers@mkt.example": "bulk", "jane@example.com": "unknown", "x@newsletter.example": "bulk",
	} {
		if got := streamKind(s); got != want {
			t.Errorf("%s: %s, want %s", s, got, want)
		}
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{"apple": "apple", "T-Online": "t_online", "1and1": "l1and1", "": "l"} {
		if got := safeName(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}

func TestConfig(t *testing.T) {
	p := New(sample(t), Options{})
	for _, mta := range MTAs {
		files, err := p.Config(mta)
		if err != nil || len(files) == 0 {
			t.Errorf("%s: %v", mta, err)
		}
		all := ""
		for _, f := range files {
			all += f.Content
		}
		if !strings.Contains(all, "icloud.com") || !strings.Contains(all, "Proofpoint DNSBL lookup") && mta != "postfix" {
			t.Errorf("%s config lacks the lane", mta)
		}
	}
	if _, err := p.Config("sendmail"); err == nil {
		t.Error("unknown MTA accepted")
	}
}

func TestAddCohorts(t *testing.T) {
	p := New(sample(t), Options{})
	p.AddCohorts(&cohort.Summary{
		Order:   cohort.Names([]int{30, 90, 180}),
		Cohorts: map[string]map[string]int{"apple": {"engaged-30d": 10, "engaged-90d": 20, "inactive": 5}},
	})
	a := p.Lanes[0]
	if len(a.Cohorts) != 5 || a.Cohorts[0].Recipients != 10 || !a.Cohorts[0].Send || a.Cohorts[3].Name != "inactive" || a.Cohorts[3].Send {
		t.Errorf("cohorts %+v", a.Cohorts)
	}
	want := [][]string{{"engaged-30d"}, {"engaged-30d"}, {"engaged-30d", "engaged-90d"}, {"engaged-30d", "engaged-90d"},
		{"engaged-30d", "engaged-90d", "engaged-180d"}, {"engaged-30d", "engaged-90d", "engaged-180d"}, {"engaged-30d", "engaged-90d", "engaged-180d"}}
	for d, w := range want {
		if strings.Join(a.Schedule[d].Cohorts, " ") != strings.Join(w, " ") {
			t.Errorf("day %d: %v, want %v", d+1, a.Schedule[d].Cohorts, w)
		}
	}
}

func TestBulkSource(t *testing.T) {
	p := New(sample(t), Options{BulkSource: "bulk-vmta"})
	if p.Lanes[0].Throttle.Source != "bulk-vmta" {
		t.Errorf("source %q", p.Lanes[0].Throttle.Source)
	}
	files, err := p.Config("powermta")
	if err != nil || !strings.Contains(files[0].Content, "<virtual-mta bulk-vmta>") {
		t.Errorf("%v", err)
	}
	for _, s := range p.Streams {
		// KumoMTA's automation is not the source's alone: the advice says so.
		if s.Kind == "transactional" && (!strings.Contains(s.Advice, "bulk-vmta") || !strings.Contains(s.Advice, "automation rules are not scoped")) {
			t.Errorf("advice %q", s.Advice)
		}
	}
}

// TestLearnedDomainsOwnDestination: a business domain that joined the lane
// by its MX (contoso.com on Exchange Online) shares the lane's site
// (outlook.com) with the consumer domains, but not their MX hosts:
// Outlook.com's consumer MX does not take a Microsoft 365 tenant's mail.
// Each domain stays its own destination; the lane table's own domains
// are routed too.
func TestLearnedDomainsOwnDestination(t *testing.T) {
	r := sample(t)
	for i := range r.Lanes {
		if r.Lanes[i].Lane == "apple" {
			r.Lanes[i].Sites = []analysis.DomainSite{
				{Domain: "hotmail.com", Site: "outlook.com"},     // hotmail-com.olc.protection.outlook.com
				{Domain: "outlook.com", Site: "outlook.com"},     // outlook-com.olc.protection.outlook.com
				{Domain: "contoso.example", Site: "outlook.com"}, // contoso-example.mail.protection.outlook.com
			}
		}
	}
	known := func(lane string) []string {
		if lane == "apple" {
			return []string{"hotmail.com", "outlook.com", "msn.com"}
		}
		return nil
	}
	p := New(r, Options{Known: known})
	a := p.Lanes[0].Throttle
	if a.Nexthop != "" {
		t.Errorf("nexthop %q: a domain learned by its MX is routed to another domain's MX", a.Nexthop)
	}
	for _, d := range []string{"hotmail.com", "outlook.com", "contoso.example", "msn.com"} {
		if !slices.Contains(a.Domains, d) {
			t.Errorf("%s not routed: %v", d, a.Domains)
		}
	}
	if a.Destinations != 3 || !strings.Contains(strings.Join(p.Lanes[0].Notes, " "), "contoso.example") {
		t.Errorf("destinations %d, notes %q", a.Destinations, p.Lanes[0].Notes)
	}
	// The lane table's wildcards ("hotmail.*") name their domains too.
	named := func(d string) string {
		if d == "hotmail.com" || d == "outlook.com" {
			return "apple"
		}
		return "other"
	}
	if p := New(r, Options{Known: func(string) []string { return nil }, Named: named}); p.Lanes[0].Throttle.Nexthop != "" {
		t.Errorf("Named: contoso.example shares a nexthop: %+v", p.Lanes[0].Throttle)
	}
	r2 := sample(t)
	r2.Lanes[0].Sites = r.Lanes[0].Sites[:2]
	if p := New(r2, Options{Known: func(string) []string { return nil }, Named: named}); p.Lanes[0].Throttle.Nexthop != "hotmail.com" {
		t.Errorf("Named: hotmail.com and outlook.com do not share: %+v", p.Lanes[0].Throttle)
	}
	// Without the learned domain the lane table's domains share one.
	r.Lanes[0].Sites = r.Lanes[0].Sites[:2]
	if p := New(r, Options{Known: known}); p.Lanes[0].Throttle.Nexthop != "hotmail.com" {
		t.Errorf("hotmail.com and outlook.com on one site do not share: %+v", p.Lanes[0].Throttle)
	}
}

// TestPowerMTARoutesKnownDomains: a domain the lane table names but the
// logs never showed (privaterelay.appleid.com) is left out of a shared
// nexthop, which the logs have not confirmed for it. PowerMTA has no
// nexthop: it queues each domain apart, so the domain is routed, as its
// own queue, and the note gives PowerMTA's reason, not Postfix's.
func TestPowerMTARoutesKnownDomains(t *testing.T) {
	known := func(lane string) []string {
		if lane == "apple" {
			return []string{"icloud.com", "me.com", "mac.com", "privaterelay.appleid.com"}
		}
		return nil
	}
	p := New(sample(t), Options{Known: known})
	a := p.Lanes[0]
	if slices.Contains(a.Throttle.Domains, "privaterelay.appleid.com") || !strings.Contains(strings.Join(a.Notes, " "), "not routed: privaterelay.appleid.com") {
		t.Fatalf("postfix: domains %v, notes %q", a.Throttle.Domains, a.Notes)
	}
	p = New(sample(t), Options{Known: known, MTA: "powermta"})
	a = p.Lanes[0]
	notes := strings.Join(a.Notes, " ")
	if !slices.Contains(a.Throttle.Domains, "privaterelay.appleid.com") || !slices.Contains(a.Domains, "privaterelay.appleid.com") {
		t.Errorf("powermta: privaterelay.appleid.com not routed: %v", a.Throttle.Domains)
	}
	if strings.Contains(notes, "not routed") || strings.Contains(notes, "MX") || !strings.Contains(notes, "own queue") {
		t.Errorf("powermta: notes %q", a.Notes)
	}
	files, err := p.Config("powermta")
	if err != nil || !strings.Contains(files[0].Content, "privaterelay.appleid.com") {
		t.Errorf("powermta config leaves it out (%v):\n%s", err, files[0].Content)
	}
	// The split stays among the domains with mail.
	if a.Throttle.Destinations != 3 {
		t.Errorf("destinations %d", a.Throttle.Destinations)
	}
}

// TestWatchWorstIncident: a watched lane is listed once, by its worst
// incident by peak hour, with its others. Google's two incidents on the
// sample tie on deferrals (10 each); the first (09:00-10:00, 6.4%) was
// listed, and the second, with the worse peak (14:00-16:00, 9.1%), not.
func TestWatchWorstIncident(t *testing.T) {
	p := New(sample(t), Options{})
	if len(p.Watch) != 1 {
		t.Fatalf("watch %q", p.Watch)
	}
	w := p.Watch[0]
	first := strings.Index(w, "from 2026-11-28 14:00Z to 16:00Z")
	if !strings.HasPrefix(w, "google: ") || first < 0 || !strings.Contains(w, "9.1%") || !strings.Contains(w, "peak") {
		t.Errorf("watch %q: want Google's 14:00-16:00 incident (peak 9.1%%) first", w)
	}
	if other := strings.Index(w, "09:00Z to 10:00Z"); other < first {
		t.Errorf("watch %q: the other incident is not listed after the worst", w)
	}
}

// TestSpanIsAnalyzes: the plan's "analysis from ... to ..." is the period
// analyze reports for the same logs (its inputs' first to last stamp),
// not the hours that had attempts, which stop before a late queue
// timeout.
func TestSpanIsAnalyzes(t *testing.T) {
	r := sample(t)
	p := New(r, Options{})
	from, to := r.Span()
	if !p.From.Equal(from) || !p.To.Equal(to) || p.To.Minute() != 44 {
		t.Errorf("plan from %v to %v, analysis %v to %v", p.From, p.To, from, to)
	}
}

// TestChooseMTA: the plan configures the one MTA it can whose logs were
// read, Postfix when they name none, and otherwise says why it writes no
// configuration; two it can configure are the user's to choose between.
func TestChooseMTA(t *testing.T) {
	for _, tt := range []struct {
		sending []string
		mta     string
		note    string // in the note
		several bool
	}{
		{nil, "postfix", "", false},
		{[]string{"powermta"}, "powermta", "", false},
		{[]string{"esp", "kumomta"}, "kumomta", "", false},
		{[]string{"exim"}, "", "max_parallel", false},
		{[]string{"sendmail"}, "", "sendmail's", false},
		{[]string{"esp"}, "", "the ESP sets the sending rate", false},
		{[]string{"postfix", "powermta"}, "", "", true},
	} {
		mta, note, err := ChooseMTA(tt.sending)
		if mta != tt.mta || !strings.Contains(note, tt.note) || (tt.note == "") != (note == "") || errors.Is(err, ErrSeveralMTAs) != tt.several {
			t.Errorf("ChooseMTA(%v) = %q, %q, %v", tt.sending, mta, note, err)
		}
	}
}
