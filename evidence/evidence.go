// Package evidence assembles the evidence pack a sender hands to their
// ESP or to a filter's operator (Proofpoint, say) when mail is deferred:
// the time window and its zone, the sending addresses and hosts, the
// sending and envelope-sender domains, the first deferral the filter
// gave, the exact replies with their counts, sample messages with their
// retries and final timeout, the authentication and blocklist status, and
// the clean-up done so far. It holds no recipient address unless asked
// to, and says which.
package evidence

import (
	"cmp"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/check"
	"github.com/mailtriage/mailtriage/dnsbl"
	"github.com/mailtriage/mailtriage/internal/addrtext"
	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// Options say what goes into a pack beyond the analysis.
type Options struct {
	// IncludeRecipients puts recipient addresses in the samples.
	IncludeRecipients bool
	// IPs are the sending addresses, when the logs do not carry them.
	IPs []string
	// Selectors are the DKIM selectors the mail is signed with.
	Selectors []string
	// Check is a domain check made for the pack, if any.
	Check *check.Report
	// Actions are the clean-up actions taken so far, one a line.
	Actions []string
	// Now stamps the pack.
	Now time.Time
}

// Pack is the evidence.
type Pack struct {
	Generated time.Time `json:"generated"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	TimeZone  string    `json:"time_zone"`
	// Summary is a sentence per incident.
	Summary []string `json:"summary"`
	// Incidents are those of the analysis, worst first.
	Incidents []analysis.Incident `json:"incidents"`
	// FirstDeferrals are, per incident, the first time its reply was seen,
	// earliest first.
	FirstDeferrals []FirstDeferral `json:"first_deferrals"`
	SendingIPs     []string        `json:"sending_ips"`
	SendingHosts   []string        `json:"sending_hosts"`
	// EnvelopeSenders are the streams: envelope senders and their volume;
	// SendingDomains their domains.
	EnvelopeSenders []Sender `json:"envelope_senders"`
	SendingDomains  []string `json:"sending_domains"`
	Selectors       []string `json:"dkim_selectors"`
	// ReceivingHosts are the receivers' hosts that answered the lanes with
	// an incident, the lanes' order, busiest first.
	ReceivingHosts []Receiver          `json:"receiving_hosts"`
	Responses      []analysis.Response `json:"responses"`
	// ResponsesLeftOut counts the failed replies past the pack's list.
	ResponsesLeftOut int       `json:"responses_left_out"`
	Samples          []Sample  `json:"sample_messages"`
	Auth             *Auth     `json:"authentication,omitempty"`
	Listings         []Listing `json:"blocklist_listings,omitempty"`
	// CouldNotTell are the lists that could not be asked (refused,
	// unavailable, lookups failed), with why: never read as clean.
	CouldNotTell []string `json:"blocklists_could_not_tell,omitempty"`
	// ListsAnswered counts the lists that gave a trustworthy answer: with
	// none, "no listing" would read as a clean result.
	ListsAnswered int      `json:"-"`
	Actions       []string `json:"actions"`
	// Recipients says whether recipient addresses are in the pack.
	Recipients string `json:"recipients"`
	// Hourly is the analysis's hourly table, for the chart.
	Hourly []analysis.HourStats `json:"-"`
	// Result is the analysis, for the HTML chart.
	Result *analysis.Result `json:"-"`
}

// FirstDeferral is when an incident's reply was first seen.
type FirstDeferral struct {
	Lane  string    `json:"lane"`
	Time  time.Time `json:"time"`
	Reply string    `json:"reply"`
	Who   string    `json:"from"`
}

// Receiver is one receiving host (the MX the sender connected to) and
// what it answered.
type Receiver struct {
	Lane         string  `json:"lane"`
	Host         string  `json:"host"`
	IP           string  `json:"ip"`
	Attempts     int     `json:"attempts"`
	Deferrals    int     `json:"deferrals"`
	DeferralRate float64 `json:"deferral_rate"`
}

// Sender is one envelope sender's volume.
type Sender struct {
	Sender       string  `json:"sender"`
	Messages     int     `json:"messages"`
	Attempts     int     `json:"attempts"`
	DeferralRate float64 `json:"deferral_rate"`
}

// Sample is one message that timed out, with its retries. QueueID and
// Host are what the source logged ("" when it logged none: PowerMTA
// writes no queue id but an envId, Exim no host name).
type Sample struct {
	QueueID   string    `json:"queue_id"`
	MessageID string    `json:"message_id,omitempty"`
	Host      string    `json:"host"`
	Sender    string    `json:"sender"`
	Recipient string    `json:"recipient"` // "(withheld)" unless included
	Lane      string    `json:"lane"`
	Queued    time.Time `json:"queued,omitzero"`
	Expired   time.Time `json:"expired"`
	Attempts  int       `json:"attempts"`
	LastReply string    `json:"last_reply"`
}

// ID is the sample's queue id as a report shows it: "mta1/4F1A2B3C",
// the id alone when the log names no host, "-" when it logged none.
func (s Sample) ID() string {
	switch {
	case s.QueueID == "":
		return "-"
	case s.Host == "":
		return s.QueueID
	}
	return s.Host + "/" + s.QueueID
}

// Auth is the authentication status from a domain check.
type Auth struct {
	Domain   string   `json:"domain"`
	Score    int      `json:"score"`
	Grade    string   `json:"grade"`
	SPF      string   `json:"spf"`
	DMARC    string   `json:"dmarc"`
	DKIM     []string `json:"dkim"`
	Problems []string `json:"problems"` // error and warning findings, code: message
	// IPs are the sending addresses the check looked up: their reverse
	// DNS and SPF result.
	IPs []CheckedIP `json:"ips"`
}

// CheckedIP is one sending address as the check found it.
type CheckedIP struct {
	IP     string   `json:"ip"`
	PTR    []string `json:"ptr"`
	FCrDNS []string `json:"fcrdns"` // the PTR names that resolve back to the address
	// RDNS reads the reverse DNS: "mail01.example.com (forward-confirmed)",
	// "no PTR record (nxdomain)", "not known: the lookup failed (refused)".
	RDNS string `json:"rdns"`
	// SPF is the domain's SPF result for the address ("pass
	// (ip4:198.51.100.16/28)"), "" when it was not evaluated.
	SPF string `json:"spf"`
}

// Listing is a blocklist listing of a sending address, MX or domain.
type Listing struct {
	Target string `json:"target"`
	List   string `json:"list"`
	Status string `json:"status"`
	Detail string `json:"meaning"`
}

// maxSamples and maxResponses keep the pack short enough to read.
const (
	maxSamples   = 10
	maxResponses = 15
)

// Build assembles the pack.
func Build(r *analysis.Result, o Options) *Pack {
	p := &Pack{Generated: o.Now.UTC(), TimeZone: r.TimeZone, Selectors: o.Selectors, Actions: o.Actions, Result: r, Hourly: r.Hourly}
	p.From, p.To = r.Span()
	p.Incidents = slices.Clone(r.Incidents)
	sort.SliceStable(p.Incidents, func(i, j int) bool { return p.Incidents[i].Deferrals > p.Incidents[j].Deferrals })
	for _, inc := range p.Incidents {
		p.Summary = append(p.Summary, summary(inc))
		at, text := firstSeen(r, inc)
		fd := FirstDeferral{Lane: inc.Lane, Time: at, Reply: text, Who: who(inc.Reply)}
		if !slices.ContainsFunc(p.FirstDeferrals, func(d FirstDeferral) bool { return d.Lane == fd.Lane && d.Reply == fd.Reply }) {
			p.FirstDeferrals = append(p.FirstDeferrals, fd)
		}
	}
	// A timeline: which reply came first tells the operator what began it
	// (Apple's HCM1 sixteen minutes before Proofpoint's deferrals).
	sort.SliceStable(p.FirstDeferrals, func(i, j int) bool { return p.FirstDeferrals[i].Time.Before(p.FirstDeferrals[j].Time) })
	p.SendingIPs = SendingIPs(r, o.IPs)
	for _, h := range r.Hosts {
		// A host the log never named ("exim") is no one's to look up.
		if !h.NotLogged {
			p.SendingHosts = append(p.SendingHosts, h.Label())
		}
	}
	p.EnvelopeSenders, p.SendingDomains = senders(r)
	p.ReceivingHosts = receivers(r, p.Incidents)
	p.Responses, p.ResponsesLeftOut = responses(r)
	p.Samples = samples(r, o.IncludeRecipients)
	p.Recipients = "Recipient addresses are withheld (privacy); run with --include-recipients to add them."
	if o.IncludeRecipients {
		p.Recipients = "This pack includes recipient addresses: share it only where that is allowed."
	}
	if o.Check != nil {
		p.Auth, p.Listings, p.CouldNotTell = fromCheck(o.Check)
		if o.Check.Blocklists != nil {
			p.ListsAnswered = len(o.Check.Blocklists.Zones) - len(p.CouldNotTell)
		}
	}
	if !o.IncludeRecipients {
		p.withhold()
	}
	p.emptyNotNull()
	return p
}

// emptyNotNull makes the pack's lists [] in JSON when they hold nothing,
// not null: a script reading the pack needs no special case.
func (p *Pack) emptyNotNull() {
	for _, l := range []*[]string{&p.Summary, &p.SendingIPs, &p.SendingHosts, &p.SendingDomains, &p.Selectors, &p.Actions} {
		*l = nonNil(*l)
	}
	p.Incidents = nonNil(p.Incidents)
	p.FirstDeferrals = nonNil(p.FirstDeferrals)
	p.EnvelopeSenders = nonNil(p.EnvelopeSenders)
	p.ReceivingHosts = nonNil(p.ReceivingHosts)
	p.Responses = nonNil(p.Responses)
	p.Samples = nonNil(p.Samples)
	if p.Auth != nil {
		p.Auth.DKIM = nonNil(p.Auth.DKIM)
	}
}

// withhold replaces the recipient addresses that replies quote; the
// senders' own addresses stay.
func (p *Pack) withhold() {
	own := map[string]bool{}
	for _, s := range p.EnvelopeSenders {
		own[strings.ToLower(s.Sender)] = true
	}
	addrs := addrtext.New()
	hide := func(s string) string {
		return addrs.Replace(s, func(a string) string {
			if own[strings.ToLower(a)] {
				return a
			}
			return "(recipient)"
		})
	}
	for i := range p.Summary {
		p.Summary[i] = hide(p.Summary[i])
	}
	for i := range p.FirstDeferrals {
		p.FirstDeferrals[i].Reply = hide(p.FirstDeferrals[i].Reply)
	}
	for i := range p.Incidents {
		p.Incidents[i].Reply.Example = hide(p.Incidents[i].Reply.Example)
	}
	for i := range p.Responses {
		p.Responses[i].Example = hide(p.Responses[i].Example)
	}
	for i := range p.Samples {
		p.Samples[i].LastReply = hide(p.Samples[i].LastReply)
	}
}

// who names who answered a reply as every report does ("apple behind
// proofpoint").
func who(resp analysis.Response) string { return mailtriage.Who(resp.Provider, resp.Filter) }

func summary(inc analysis.Incident) string {
	return inc.Lane + ": " + pct(inc.DeferralRate) + " of " + numfmt.Thousands(int64(inc.Attempts)) + " delivery attempts deferred from " +
		inc.Start.UTC().Format("2006-01-02 15:04Z") + " to " + inc.End.UTC().Format("2006-01-02 15:04Z") +
		" (usually " + pct(inc.Baseline) + "), mostly \"" + inc.Reply.Example + "\" from " + nonEmpty(who(inc.Reply), "the receiving servers")
}

// firstSeen is when the incident's reply was first seen, and its text
// then: the response group's first time and example, which may precede
// the incident (the incident's own reply quotes its first in the
// incident).
func firstSeen(r *analysis.Result, inc analysis.Incident) (time.Time, string) {
	for _, resp := range r.Responses {
		if resp.Rule == inc.Reply.Rule && resp.Code == inc.Reply.Code && resp.Enhanced == inc.Reply.Enhanced && slices.Contains(resp.Lanes, inc.Lane) && !resp.First.IsZero() {
			return resp.First, resp.Example
		}
	}
	return inc.Reply.First, inc.Reply.Example
}

// echoedIP finds the client address receivers echo in their replies:
// "Your mail from 203.0.113.25 was deferred", "from [192.0.2.1]".
var echoedIP = regexp.MustCompile(`(?i)\bfrom \[?(\d{1,3}(?:\.\d{1,3}){3})\b`)

// repliedIPs are the sending addresses the receivers named in their
// failure replies: the evidence a postmaster will look up.
func repliedIPs(r *analysis.Result) []string {
	var out []string
	for _, resp := range r.Responses {
		for _, m := range echoedIP.FindAllStringSubmatch(resp.Example, -1) {
			ip, err := netip.ParseAddr(m[1])
			if err == nil && ip.IsGlobalUnicast() && !ip.IsPrivate() {
				out = append(out, ip.String())
			}
		}
	}
	return out
}

// SendingIPs are the pack's sending addresses: those given, those the
// analysis looked up, those the log named (sending hosts that are
// addresses: KumoMTA's source_address, PowerMTA's dlvSourceIp), and those
// the receivers named in their replies, sorted and each once. A --check
// of the pack asks about all of them.
func SendingIPs(r *analysis.Result, given []string) []string {
	ips := append(slices.Clone(given), listingIPs(r)...)
	for _, h := range r.Hosts {
		// A private address (behind NAT) is not what receivers see.
		if ip, err := netip.ParseAddr(h.Host); err == nil && ip.IsGlobalUnicast() && !ip.IsPrivate() {
			ips = append(ips, ip.String())
		}
	}
	ips = append(ips, repliedIPs(r)...)
	slices.Sort(ips)
	return slices.Compact(ips)
}

func listingIPs(r *analysis.Result) []string {
	var out []string
	for _, l := range r.Blocklists {
		out = append(out, l.IP)
	}
	return out
}

// receivers are the receiving hosts of the incidents' lanes, worst
// incident's lane first, each lane's busiest host first.
func receivers(r *analysis.Result, incs []analysis.Incident) []Receiver {
	var out []Receiver
	var lanes []string
	for _, inc := range incs {
		if !slices.Contains(lanes, inc.Lane) {
			lanes = append(lanes, inc.Lane)
		}
	}
	for _, lane := range lanes {
		var hosts []Receiver
		for _, rl := range r.Relays {
			if rl.Lane == lane {
				hosts = append(hosts, Receiver{Lane: lane, Host: rl.Relay, IP: rl.IP, Attempts: rl.Attempts, Deferrals: rl.Deferrals, DeferralRate: rl.DeferralRate})
			}
		}
		slices.SortStableFunc(hosts, func(a, b Receiver) int { return cmp.Compare(b.Attempts, a.Attempts) })
		out = append(out, hosts...)
	}
	return out
}

func senders(r *analysis.Result) ([]Sender, []string) {
	var out []Sender
	var domains []string
	for _, s := range r.Streams {
		out = append(out, Sender{Sender: s.Stream, Messages: s.Messages, Attempts: s.Attempts, DeferralRate: s.DeferralRate})
		if _, d, ok := strings.Cut(s.Stream, "@"); ok && !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	slices.Sort(domains)
	return out, domains
}

// responses are the attempts' failures, most frequent first: the
// receivers' replies as they wrote them, and the failures no server
// answered (a connection that timed out, a session cut at the greeting),
// which a receiver's throttling shows as too; and how many more there
// were than the pack lists.
func responses(r *analysis.Result) ([]analysis.Response, int) {
	var out []analysis.Response
	for _, resp := range r.Responses {
		if resp.Class != mailtriage.Success {
			out = append(out, resp)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	if len(out) > maxResponses {
		return out[:maxResponses], len(out) - maxResponses
	}
	return out, 0
}

// samples are messages that timed out, one per queue id, from the
// incident lanes first (the worst incident's first), each lane's in
// time order.
func samples(r *analysis.Result, include bool) []Sample {
	incs := slices.Clone(r.Incidents)
	slices.SortStableFunc(incs, func(a, b analysis.Incident) int { return cmp.Compare(b.Deferrals, a.Deferrals) })
	rank := map[string]int{}
	for i, inc := range incs {
		if _, ok := rank[inc.Lane]; !ok {
			rank[inc.Lane] = i
		}
	}
	rankOf := func(lane string) int {
		if n, ok := rank[lane]; ok {
			return n
		}
		return len(r.Incidents)
	}
	expired := slices.Clone(r.ExpiredRecipients)
	slices.SortStableFunc(expired, func(a, b analysis.RecipientOutcome) int { return cmp.Compare(rankOf(a.Lane), rankOf(b.Lane)) })
	seen := map[string]bool{}
	var out []Sample
	for _, e := range expired {
		if len(out) == maxSamples {
			break
		}
		// One sample per message, known by its queue id or Message-ID;
		// a recipient whose message the source named by neither is one
		// of its own.
		if id := cmp.Or(e.QueueID, e.MessageID); id != "" {
			if seen[e.Host+"/"+id] {
				continue
			}
			seen[e.Host+"/"+id] = true
		}
		// The host only when the log named it: Exim's and PowerMTA's
		// logs name none, and the source's name stands in for it.
		host := e.Host
		if host == e.Source {
			host = ""
		}
		// A VERP or SRS sender carries the recipient: shown folded, as the
		// streams show it, unless recipients are included.
		rcpt, sender := "(withheld)", analysis.FoldSender(e.Sender)
		if include {
			rcpt, sender = e.Recipient, e.Sender
		}
		out = append(out, Sample{QueueID: e.QueueID, MessageID: e.MessageID, Host: host, Sender: sender, Recipient: rcpt, Lane: e.Lane,
			Queued: e.Queued, Expired: e.Time, Attempts: e.Attempts, LastReply: e.LastReply})
	}
	return out
}

// rdns reads an address's reverse DNS as the check found it.
func rdns(ip check.IPSummary) string {
	switch ip.Status {
	case "ok":
	case "nxdomain", "nodata":
		return "no PTR record (" + ip.Status + ")"
	default:
		return "not known: the lookup failed (" + ip.Status + ")"
	}
	var names []string
	for _, name := range ip.PTR {
		switch {
		case slices.Contains(ip.Confirmed, name):
			name += " (forward-confirmed)"
		default:
			name += " (does not resolve back to the address)"
		}
		names = append(names, name)
	}
	s := strings.Join(names, ", ")
	if ip.Generic {
		s += "; looks generic (an access or cloud provider's name)"
	}
	return s
}

func fromCheck(c *check.Report) (*Auth, []Listing, []string) {
	a := &Auth{Domain: c.Domain, Score: c.Score, Grade: c.Grade, Problems: []string{}, IPs: []CheckedIP{}}
	spfOf := map[netip.Addr]string{}
	if c.SPF != nil {
		a.SPF = nonEmpty(c.SPF.Record, "none ("+c.SPF.State+")")
		for _, r := range c.SPF.Results {
			spfOf[r.IP] = r.Result + parens(cmp.Or(r.Term, r.Error))
		}
	}
	for _, ip := range c.IPs {
		a.IPs = append(a.IPs, CheckedIP{IP: ip.IP.String(), PTR: nonNil(ip.PTR), FCrDNS: nonNil(ip.Confirmed), RDNS: rdns(ip), SPF: spfOf[ip.IP]})
	}
	if c.DMARC != nil {
		a.DMARC = nonEmpty(c.DMARC.Record, "none ("+c.DMARC.Status+")")
	}
	for _, k := range c.DKIM {
		a.DKIM = append(a.DKIM, k.Selector+": "+k.KeyType+" "+itoa(k.KeyBits)+" bits")
	}
	for _, f := range c.Findings {
		if f.Severity == "error" || f.Severity == "warning" {
			a.Problems = append(a.Problems, f.Code+": "+f.Message)
		}
	}
	var ls []Listing
	var unknown []string
	if c.Blocklists != nil {
		for _, z := range c.Blocklists.Zones {
			if z.Status != dnsbl.StatusClean {
				unknown = append(unknown, z.List+" ("+string(z.Status)+")")
			}
		}
		for _, l := range c.Blocklists.Listings {
			if l.Status == dnsbl.StatusListed {
				ls = append(ls, Listing{Target: l.Target, List: l.List, Status: string(l.Status), Detail: l.Meaning})
			}
		}
	}
	return a, ls, unknown
}
