package evidence

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/check"
	"github.com/mailtriage/mailtriage/internal/addrtext"
	"github.com/mailtriage/mailtriage/internal/sampleresult"
)

func sample(t *testing.T) *analysis.Result { return sampleresult.Load(t) }

func TestBuild(t *testing.T) {
	p := Build(sample(t), Options{IPs: []string{"198.51.100.21"}, Selectors: []string{"s1"}, Actions: []string{"paused news@"}, Now: time.Unix(0, 0)})
	if len(p.Summary) == 0 || !strings.Contains(p.Summary[0], "apple behind proofpoint") {
		t.Errorf("summary %q", p.Summary)
	}
	// The first deferrals are a timeline: Apple's own HCM1 came sixteen
	// minutes before Proofpoint's deferrals, which dominate the incident.
	if len(p.FirstDeferrals) < 2 || !strings.Contains(p.FirstDeferrals[0].Reply, "[HCM1]") || p.FirstDeferrals[1].Reply != "421 4.7.0 Deferred - see Proofpoint DNSBL lookup" ||
		!slices.IsSortedFunc(p.FirstDeferrals, func(a, b FirstDeferral) int { return a.Time.Compare(b.Time) }) {
		t.Errorf("first deferrals %+v", p.FirstDeferrals)
	}
	if p.From.IsZero() || !p.To.After(p.From) || len(p.SendingHosts) != 2 || p.SendingIPs[0] != "198.51.100.21" {
		t.Errorf("window %v %v hosts %v ips %v", p.From, p.To, p.SendingHosts, p.SendingIPs)
	}
	if len(p.SendingDomains) != 2 || len(p.Responses) == 0 || len(p.Samples) == 0 || len(p.Samples) > maxSamples {
		t.Errorf("domains %v responses %d samples %d", p.SendingDomains, len(p.Responses), len(p.Samples))
	}
	for i := 1; i < len(p.FirstDeferrals); i++ {
		if p.FirstDeferrals[i] == p.FirstDeferrals[i-1] {
			t.Error("a first deferral twice")
		}
	}
}

// TestFirstDeferralsAreTheReplyGroups: a first deferral is the first time
// a lane got a reply, with that reply's text, once however many incidents
// the reply dominated: an incident's dominant reply quotes the incident's
// own example (the sample's two Gmail incidents quote different trace
// ids, and Apple's HCM1 incident on Nov 29 another sending IP than the
// first HCM1 reply of Nov 27).
func TestFirstDeferralsAreTheReplyGroups(t *testing.T) {
	r := sample(t)
	p := Build(r, Options{Now: time.Unix(0, 0)})
	seen := map[string]bool{}
	for _, d := range p.FirstDeferrals {
		key := d.Lane + " " + d.Time.String()
		if seen[key] {
			t.Errorf("lane %s's first deferral at %s twice: %+v", d.Lane, d.Time, p.FirstDeferrals)
		}
		seen[key] = true
		found := false
		for _, resp := range r.Responses {
			if resp.First.Equal(d.Time) && resp.Example == d.Reply && slices.Contains(resp.Lanes, d.Lane) {
				found = true
			}
		}
		if !found {
			t.Errorf("first deferral %+v is no reply group's first time and text", d)
		}
	}
	if len(p.FirstDeferrals) != 4 {
		t.Errorf("%d first deferrals, want 4 (Proofpoint and HCM1 on apple, TSS04 on yahoo, 4.7.28 on google): %+v", len(p.FirstDeferrals), p.FirstDeferrals)
	}
}

// TestNoRecipients: without --include-recipients no recipient address is
// anywhere in the pack, replies that quote one included; the senders'
// own addresses stay.
// TestSamplesAndIPs: the samples start with the worst incident's lane,
// and the sending address a receiver named in its reply is in the pack.
func TestSamplesAndIPs(t *testing.T) {
	r := sample(t)
	p := Build(r, Options{Now: time.Unix(0, 0)})
	if len(p.Samples) == 0 || p.Samples[0].Lane != p.Incidents[0].Lane {
		t.Errorf("first sample %+v, worst incident lane %s", p.Samples, p.Incidents[0].Lane)
	}
	if !slices.Contains(p.SendingIPs, "203.0.113.25") {
		t.Errorf("sending IPs %v lack 203.0.113.25, named in Apple's HCM1 reply", p.SendingIPs)
	}
}

func TestNoRecipients(t *testing.T) {
	r := sample(t)
	// Addresses RFC 6531 and RFC 5322 atext allow, which a narrow pattern
	// would let through.
	r.Responses[0].Example = "550 5.1.1 <o&brien@example.com>: unknown; also josé@exemplo.com.br"
	p := Build(r, Options{Now: time.Unix(0, 0)})
	data, _ := json.Marshal(p)
	for _, a := range []string{"o&brien", "brien@example.com", "josé"} {
		if strings.Contains(string(data), a) {
			t.Errorf("%s is in the pack", a)
		}
	}
	for _, e := range r.ExpiredRecipients {
		if strings.Contains(string(data), e.Recipient) {
			t.Fatalf("%s is in the pack", e.Recipient)
		}
	}
	// The addresses the replies quote are recipients: none may be left.
	for _, resp := range r.Responses {
		for _, a := range addrtext.New().All(resp.Example) {
			if strings.Contains(string(data), a) {
				t.Errorf("%s, quoted in a reply, is in the pack", a)
			}
		}
	}
	if !strings.Contains(string(data), "news@news.shop.example.net") || !strings.Contains(string(data), "withheld") {
		t.Error("the senders or the privacy note are missing")
	}
	with := Build(r, Options{IncludeRecipients: true, Now: time.Unix(0, 0)})
	if with.Samples[0].Recipient == "(withheld)" || !strings.Contains(with.Recipients, "includes recipient addresses") {
		t.Errorf("with recipients: %+v", with.Samples[0])
	}
}

// TestNoRecipientsInVERPSenders: a VERP envelope sender carries the
// recipient in its local part (bounces+jane=example.org@...), so a pack
// without recipients shows it folded, as the streams do; the recipients'
// addresses, in either form, stay out.
func TestNoRecipientsInVERPSenders(t *testing.T) {
	for _, tt := range []struct {
		sender, recipient, leak, want string
	}{
		{"bounces+jane=example.org@mail.shop.example.net", "jane@example.org", "jane=example.org", "bounces+*@mail.shop.example.net"},
		{"bounce-1234-o.brien=example.com@mail.shop.example.net", "o.brien@example.com", "o.brien=example.com", "bounce-*@mail.shop.example.net"},
		{"SRS0=HHH=TT=example.com=jane@fwd.example.net", "x@example.org", "=jane@", "SRS0=*@fwd.example.net"},
	} {
		r := sample(t)
		for i := range r.ExpiredRecipients {
			r.ExpiredRecipients[i].Sender, r.ExpiredRecipients[i].Recipient = tt.sender, tt.recipient
		}
		p := Build(r, Options{Now: time.Unix(0, 0)})
		data, _ := json.Marshal(p)
		if strings.Contains(string(data), tt.leak) {
			t.Errorf("%s: %q is in the pack", tt.sender, tt.leak)
		}
		if len(p.Samples) == 0 || p.Samples[0].Sender != tt.want {
			t.Errorf("%s: sample sender %q, want %s", tt.sender, p.Samples[0].Sender, tt.want)
		}
		with := Build(r, Options{IncludeRecipients: true, Now: time.Unix(0, 0)})
		if with.Samples[0].Sender != tt.sender {
			t.Errorf("with recipients: sender %q, want %q as logged", with.Samples[0].Sender, tt.sender)
		}
	}
}

// TestSendingAddressesFromTheLog: a source that logs the sending address
// (KumoMTA's source_address, PowerMTA's dlvSourceIp) has its hosts
// counted by address: the pack lists them as sending IPs, and each host
// with the source's name for it.
func TestSendingAddressesFromTheLog(t *testing.T) {
	r := &analysis.Result{Hosts: []analysis.HostStats{{Host: "203.0.113.25", Name: "bulk-ip"}, {Host: "203.0.113.26", Name: "txn-ip"}, {Host: "mta1"}}}
	p := Build(r, Options{})
	if !slices.Equal(p.SendingIPs, []string{"203.0.113.25", "203.0.113.26"}) {
		t.Errorf("sending IPs %v", p.SendingIPs)
	}
	if !slices.Equal(p.SendingHosts, []string{"203.0.113.25 (bulk-ip)", "203.0.113.26 (txn-ip)", "mta1"}) {
		t.Errorf("sending hosts %v", p.SendingHosts)
	}
}

// TestSamplesShowLoggedIDs: a sample's queue id is what the source
// logged: Postfix's host and queue id, Exim's message id without the
// "exim" that stands for the host its log never names, and for
// PowerMTA, which logs no queue id, nothing (its Message-ID has its own
// column). A host the log never named is not a sending host.
func TestSamplesShowLoggedIDs(t *testing.T) {
	at := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	r := &analysis.Result{
		Hosts: []analysis.HostStats{{Host: "mta1"}, {Host: "exim", NotLogged: true}, {Host: "powermta", NotLogged: true}},
		ExpiredRecipients: []analysis.RecipientOutcome{
			{Time: at, Source: "postfix", Host: "mta1", QueueID: "4F1A2B3C", Recipient: "a@icloud.com", Lane: "apple"},
			{Time: at, Source: "exim", Host: "exim", QueueID: "1tsXyZ-000Abc-9Q", Recipient: "b@icloud.com", Lane: "apple"},
			{Time: at, Source: "powermta", Host: "powermta", MessageID: "m1@shop.example", Recipient: "c@icloud.com", Lane: "apple"},
			{Time: at, Source: "powermta", Host: "powermta", Recipient: "d@icloud.com", Lane: "apple"},
			{Time: at, Source: "powermta", Host: "powermta", Recipient: "e@icloud.com", Lane: "apple"},
		},
	}
	p := Build(r, Options{})
	var got []string
	for _, s := range p.Samples {
		got = append(got, s.Host+"/"+s.QueueID+"/"+s.MessageID)
	}
	want := []string{"mta1/4F1A2B3C/", "/1tsXyZ-000Abc-9Q/", "//m1@shop.example", "//", "//"}
	if !slices.Equal(got, want) {
		t.Errorf("samples (host/queue id/Message-ID)\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(p.SendingHosts, []string{"mta1"}) {
		t.Errorf("sending hosts %v", p.SendingHosts)
	}
}

func TestSampleID(t *testing.T) {
	for _, tt := range []struct {
		s    Sample
		want string
	}{
		{Sample{Host: "mta1", QueueID: "4F1A2B3C"}, "mta1/4F1A2B3C"},
		{Sample{QueueID: "1tsXyZ-000Abc-9Q"}, "1tsXyZ-000Abc-9Q"},
		{Sample{MessageID: "m1@shop.example"}, "-"},
	} {
		if got := tt.s.ID(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestWindowHoldsTheTimeouts: the pack's window is the period analyze
// reports, its inputs' first to last stamp; a queue timeout logged days
// after the lane's last attempt (PowerMTA's b row at 4.4.7) is inside it,
// not after a window cut at the last hour with attempts.
func TestWindowHoldsTheTimeouts(t *testing.T) {
	first := time.Date(2025, 3, 10, 14, 2, 11, 0, time.UTC)
	expired := time.Date(2025, 3, 14, 14, 6, 2, 0, time.UTC)
	r := &analysis.Result{
		Inputs: []analysis.Input{{Name: "acct.csv", First: first, Last: expired}},
		Hourly: []analysis.HourStats{{Hour: first.Truncate(time.Hour), Lane: "yahoo", Attempts: 2}},
		ExpiredRecipients: []analysis.RecipientOutcome{
			{Time: expired, Source: "powermta", Host: "powermta", Recipient: "slow@yahoo.com", Lane: "yahoo"},
		},
	}
	p := Build(r, Options{})
	if !p.From.Equal(first) || !p.To.Equal(expired) {
		t.Errorf("window %v to %v, want %v to %v (the inputs' span)", p.From, p.To, first, expired)
	}
	for _, s := range p.Samples {
		if s.Expired.After(p.To) {
			t.Errorf("sample expired %v after the window's end %v", s.Expired, p.To)
		}
	}
}

// TestResponsesLeftOut: the pack lists the most frequent failures, with
// a server's reply or without (a connection timed out), and counts the
// rest, so a reader knows the list is cut.
func TestResponsesLeftOut(t *testing.T) {
	r := sample(t)
	failed := 0
	for _, resp := range r.Responses {
		if resp.Class != mailtriage.Success {
			failed++
		}
	}
	p := Build(r, Options{Now: time.Unix(0, 0)})
	if failed <= maxResponses || len(p.Responses) != maxResponses || p.ResponsesLeftOut != failed-maxResponses {
		t.Errorf("%d failed replies: %d listed, %d left out", failed, len(p.Responses), p.ResponsesLeftOut)
	}
}

// TestJSONListsNeverNull: a pack with nothing in a list (no incident, no
// --selector, no DKIM key found) writes the list as [], not null, so a
// ticketing system or script reading it needs no special case.
func TestJSONListsNeverNull(t *testing.T) {
	for name, r := range map[string]*analysis.Result{"empty": {}, "sample": sample(t)} {
		p := Build(r, Options{Now: time.Unix(0, 0)})
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "null") {
			t.Errorf("%s: a null in the pack: %s", name, data)
		}
	}
	p := Build(&analysis.Result{}, Options{Check: &check.Report{Domain: "example.com"}})
	data, _ := json.Marshal(p)
	if strings.Contains(string(data), "null") {
		t.Errorf("with a check that found nothing: a null in the pack: %s", data)
	}
}

// TestCheckedIPsIdentity: a --check looks up each sending address's
// reverse DNS and SPF result; the pack carries them, the first thing a
// postmaster desk asks of an address, and says plainly when a lookup
// failed rather than leaving the address out.
func TestCheckedIPsIdentity(t *testing.T) {
	c := &check.Report{Domain: "example.com",
		IPs: []check.IPSummary{
			{IP: netip.MustParseAddr("198.51.100.21"), PTR: []string{"mail01.example.com"}, Confirmed: []string{"mail01.example.com"}, Status: "ok"},
			{IP: netip.MustParseAddr("198.51.100.22"), PTR: []string{"x.example.net"}, Status: "ok"},
			{IP: netip.MustParseAddr("203.0.113.25"), Status: "nxdomain"},
			{IP: netip.MustParseAddr("203.0.113.26"), Status: "refused"},
		},
		SPF: &check.SPFSummary{Record: "v=spf1 -all", State: "ok", Results: []check.SPFResult{
			{IP: netip.MustParseAddr("198.51.100.21"), Result: "pass", Term: "ip4:198.51.100.16/28"},
			{IP: netip.MustParseAddr("203.0.113.25"), Result: "softfail", Term: "~all"},
		}},
	}
	p := Build(&analysis.Result{}, Options{Check: c})
	var got []string
	for _, ip := range p.Auth.IPs {
		got = append(got, ip.IP+" | "+ip.RDNS+" | "+ip.SPF)
	}
	want := []string{
		"198.51.100.21 | mail01.example.com (forward-confirmed) | pass (ip4:198.51.100.16/28)",
		"198.51.100.22 | x.example.net (does not resolve back to the address) | ",
		"203.0.113.25 | no PTR record (nxdomain) | softfail (~all)",
		"203.0.113.26 | not known: the lookup failed (refused) | ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("checked addresses\n got %q\nwant %q", got, want)
	}
}

// TestReceivingHosts: the pack names the receivers' hosts that answered
// the lanes with an incident (the MX names and addresses an operator
// looks up in their own logs), with what each took; not those of lanes
// without one.
func TestReceivingHosts(t *testing.T) {
	p := Build(sample(t), Options{Now: time.Unix(0, 0)})
	lanes := map[string]bool{}
	for _, inc := range p.Incidents {
		lanes[inc.Lane] = true
	}
	var apple []string
	for _, h := range p.ReceivingHosts {
		if !lanes[h.Lane] {
			t.Errorf("receiving host %+v of a lane without an incident", h)
		}
		if h.Lane == "apple" {
			apple = append(apple, h.Host+" "+h.IP)
		}
	}
	if !slices.Contains(apple, "mx01.mail.icloud.com 17.57.154.6") || !slices.Contains(apple, "mx02.mail.icloud.com 17.57.155.9") {
		t.Errorf("apple's receiving hosts %q", apple)
	}
}
