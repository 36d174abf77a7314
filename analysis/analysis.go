// Package analysis aggregates delivery Events into an incident report: what
// happened per lane and per hour, who answered, what each reply means,
// which messages timed out in the queue and why, and what to do first.
//
// The definitions the report's numbers follow:
//   - an attempt is an Event of kind Attempt: one remote delivery try for
//     one recipient, whether or not a server answered; deferrals and
//     bounces count attempts by their status, and the deferral rate is
//     deferrals / attempts;
//   - a local deferral (no new remote try) is neither an attempt nor a
//     deferral;
//   - recipient outcomes (delivered, bounced, expired, pending, deleted,
//     discarded) count each message × recipient once, from Final events;
//     pending_unnamed counts apart the recipients of messages still queued
//     that no line named (Message events' Unnamed: the MTA counted them,
//     nobody tried them);
//   - the MTA's own notifications are counted as notifications only;
//   - an incident is a run of a lane's elevated hours (see Options): hours
//     too quiet to judge do not break it, and neither does a silence of up
//     to three hours without attempts, the retry backoff of a destination
//     Postfix suspended; a longer silence ends it, so an elevated Monday
//     10:00 and an elevated Tuesday 10:00 are two incidents.
package analysis

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
	"golang.org/x/net/publicsuffix"
)

// Options tune an analysis.
type Options struct {
	// Since and Until keep events in [Since, Until); zero means open. The
	// closing events at Until, of what was still queued then, count too
	// (see Closing).
	Since, Until time.Time
	// StreamBy groups messages into streams: "sender" (the envelope
	// sender, the default) or "domain" (its domain).
	StreamBy string
	// Incident thresholds. A lane-hour is elevated when it has at least
	// ten attempts (fewer say little; MinAttempts, if that is lower) and a
	// deferral rate at least Factor times the lane's median hourly rate
	// and at least MinRate. An incident is a run of elevated hours (hours
	// too quiet to judge don't break it, nor do up to three hours without
	// attempts; more do) in which at least one hour had MinAttempts
	// attempts.
	MinAttempts int
	Factor      float64
	MinRate     float64
}

// DefaultOptions are the thresholds the issue tracker agreed on: 50
// attempts, 3× the baseline, 5 %.
func DefaultOptions() Options {
	return Options{StreamBy: "sender", MinAttempts: 50, Factor: 3, MinRate: 0.05}
}

// Analyzer consumes events. It is not safe for concurrent use.
type Analyzer struct {
	opts      Options
	summary   Summary
	lanes     map[string]*laneAcc
	hours     map[laneHour]*hourAcc
	responses map[responseKey]*responseAcc
	expired   map[responseKey]*responseAcc
	// pendingReplies are the last replies of the recipients still queued.
	pendingReplies map[responseKey]*responseAcc
	providers      map[string]*providerAcc
	streams        map[string]*streamAcc
	// lastSender's stream is lastStream (see stream).
	lastSender  string
	lastUnknown bool
	lastStream  *streamAcc
	relays      map[string]*relayAcc
	hosts       map[string]*hostAcc
	domains     map[string]*domainAcc
	// The recipients that timed out in the queue, and those still queued
	// at the end, for the evidence; at most maxListed of each.
	expiredRcpts, pendingRcpts []RecipientOutcome
	hardBounces                []string
	closing                    bool // see Closing
}

// maxListed bounds the lists of expired and pending recipients.
const maxListed = 1000

// New returns an Analyzer.
func New(opts Options) *Analyzer {
	def := DefaultOptions()
	if opts.StreamBy == "" {
		opts.StreamBy = def.StreamBy
	}
	if opts.MinAttempts == 0 {
		opts.MinAttempts = def.MinAttempts
	}
	if opts.Factor == 0 {
		opts.Factor = def.Factor
	}
	if opts.MinRate == 0 {
		opts.MinRate = def.MinRate
	}
	return &Analyzer{
		opts:           opts,
		lanes:          map[string]*laneAcc{},
		hours:          map[laneHour]*hourAcc{},
		responses:      map[responseKey]*responseAcc{},
		expired:        map[responseKey]*responseAcc{},
		providers:      map[string]*providerAcc{},
		pendingReplies: map[responseKey]*responseAcc{},
		streams:        map[string]*streamAcc{},
		relays:         map[string]*relayAcc{},
		hosts:          map[string]*hostAcc{},
		domains:        map[string]*domainAcc{},
	}
}

// Counts are attempt counts by status.
type Counts struct {
	Attempts  int `json:"attempts"`
	Delivered int `json:"delivered"`
	Deferrals int `json:"deferrals"`
	Bounces   int `json:"bounces"`
}

func (c *Counts) add(s mailtriage.Status) {
	c.Attempts++
	switch s {
	case mailtriage.Delivered:
		c.Delivered++
	case mailtriage.Deferred:
		c.Deferrals++
	case mailtriage.Bounced:
		c.Bounces++
	}
}

// Rate returns deferrals / attempts, 0 when there were no attempts.
func (c Counts) Rate() float64 {
	if c.Attempts == 0 {
		return 0
	}
	return float64(c.Deferrals) / float64(c.Attempts)
}

type laneAcc struct {
	Counts
	recipients, expired, pending, bounced, local, complaints int
	domains                                                  map[string]int
	backlog                                                  backlog
}

// backlog is what a lane's pending recipients waited on: the longest
// wait, and their last replies (see Analyzer.backlogFindings).
type backlog struct {
	oldest  time.Time // the earliest time one of them was queued
	at      time.Time // when they were last seen still queued
	replies map[responseKey]int
}

type laneHour struct {
	lane string
	hour int64 // unix seconds of the start of the hour, UTC
}

type hourAcc struct {
	Counts
	replies map[responseKey]replyTally // deferrals by reply
}

// replyTally counts the deferrals of one lane-hour that got one kind of
// reply, so that an incident's dominant reply describes the incident's
// hours and lane, not the whole log.
type replyTally struct {
	n           int
	first, last time.Time
	example     string // the first one's text
}

// add counts e, one more deferral with this reply.
func (t *replyTally) add(e *mailtriage.Event) {
	at := e.Time
	if t.n == 0 {
		t.first, t.last, t.example = at, at, clip(e.Detail.Summary())
	} else if at.Before(t.first) {
		t.first = at
	} else if at.After(t.last) {
		t.last = at
	}
	t.n++
}

// merge adds another tally of the same reply.
func (t *replyTally) merge(o replyTally) {
	if o.n == 0 {
		return
	}
	if t.n == 0 || o.first.Before(t.first) {
		t.first, t.example = o.first, o.example
	}
	if o.last.After(t.last) {
		t.last = o.last
	}
	t.n += o.n
}

type responseKey struct {
	code             int
	enhanced, rule   string
	provider, filter string
}

type responseAcc struct {
	key         responseKey
	count       int
	verdict     mailtriage.Verdict
	reply       smtpreply.Reply
	example     string
	lanes       map[string]int
	first, last time.Time
}

// providerAcc counts the attempts a provider answered, and the filters its
// replies named. A filter shows itself only in what it rejects, so it is a
// property of the provider's traffic, not a separate server.
type providerAcc struct {
	Counts
	filters map[string]int
}

// hostAcc counts one sending host, in all and per lane, and the names
// the source gave it.
type hostAcc struct {
	Counts
	lanes map[string]*Counts
	names map[string]int
	// unlogged: the host is the source's name for a host its log never
	// names.
	unlogged bool
}

// domainAcc counts one recipient domain, to find domains that never accept.
type domainAcc struct {
	Counts
	lane    string
	site    string // the registered domain of the first server that answered for it
	replies map[responseKey]int
	// Its recipients' outcomes, from Final events.
	recipients, pending, expired int
	// The first and last failed attempt.
	firstFail, lastFail time.Time
}

type streamAcc struct {
	Counts
	messages, recipients, expired, bounced, complaints int
	lanes                                              map[string]int
}

type relayAcc struct {
	Counts
	ip, provider, filter, lane string
}

func (a *Analyzer) inWindow(t time.Time) bool {
	if !a.opts.Since.IsZero() && t.Before(a.opts.Since) {
		return false
	}
	if !a.opts.Until.IsZero() && !t.Before(a.opts.Until) {
		// The window's end is the moment of what was still open then.
		return a.closing && t.Equal(a.opts.Until)
	}
	return true
}

// Closing says the events from now on close what the inputs left open:
// messages and recipients still queued when the inputs ended, or when the
// window did (Until), whose events come at Until and count in the window.
func (a *Analyzer) Closing() { a.closing = true }

// Add takes one event. It copies what it keeps.
func (a *Analyzer) Add(e *mailtriage.Event) {
	if !a.inWindow(e.Time) {
		return
	}
	switch e.Kind {
	case mailtriage.Attempt:
		a.attempt(e)
	case mailtriage.LocalDeferral:
		a.summary.LocalDeferrals++
		a.lane(e.Lane).local++
	case mailtriage.Final:
		a.final(e)
	case mailtriage.Message:
		if e.Notification {
			a.summary.Notifications++
			return
		}
		a.summary.Messages++
		a.summary.PendingUnnamed += e.Unnamed
		a.stream(e).messages++
	case mailtriage.Complaint:
		a.summary.Complaints++
		a.stream(e).complaints++
		a.lane(e.Lane).complaints++
	}
}

func (a *Analyzer) lane(name string) *laneAcc {
	if name == "" {
		name = "other"
	}
	l, ok := a.lanes[name]
	if !ok {
		l = &laneAcc{domains: map[string]int{}}
		a.lanes[name] = l
	}
	return l
}

// stream returns the stream of an event's envelope sender.
func (a *Analyzer) stream(e *mailtriage.Event) *streamAcc {
	// A message's events come together and carry the same sender:
	// remember the last one's stream.
	if a.lastStream != nil && e.Sender == a.lastSender && e.SenderUnknown == a.lastUnknown {
		return a.lastStream
	}
	key := UnloggedSender
	if !e.SenderUnknown {
		key = streamKey(e.Sender, a.opts.StreamBy)
	}
	s, ok := a.streams[key]
	if !ok {
		s = &streamAcc{lanes: map[string]int{}}
		a.streams[key] = s
	}
	a.lastSender, a.lastUnknown, a.lastStream = e.Sender, e.SenderUnknown, s
	return s
}

// UnloggedSender names the stream of messages whose envelope sender the
// log never named, apart from the null sender's, "<>".
const UnloggedSender = "(sender not logged)"

// streamKey names a stream: the envelope sender, or its domain.
func streamKey(sender, by string) string {
	if sender == "" {
		return "<>"
	}
	if by == "domain" {
		if i := strings.LastIndexByte(sender, '@'); i >= 0 {
			return lower(sender[i+1:])
		}
	}
	return lower(FoldSender(sender))
}

// FoldSender takes the per-message tags out of an envelope sender, so
// that one stream reads as one: VERP (bounces+1234-jane=example.com@,
// bounce-1234-jane=example.com@), BATV (prvs=0123abcd=news@) and SRS
// (SRS0=HHH=TT=example.com=jane@). Plain addresses pass untouched. Reports
// that must not name recipients show senders so, as stream names do.
func FoldSender(s string) string {
	at := strings.LastIndexByte(s, '@')
	// Two byte searches, not IndexAny, which builds its set on every call.
	if at < 0 || strings.IndexByte(s[:at], '+') < 0 && strings.IndexByte(s[:at], '=') < 0 {
		return s
	}
	local, domain := s[:at], s[at:]
	prefix := strings.ToLower(local[:min(5, len(local))])
	switch {
	case prefix == "prvs=" || prefix == "btv1=":
		// BATV: the tag, then the original local part.
		if i := strings.IndexByte(local[5:], '='); i >= 0 {
			return local[5+i+1:] + domain
		}
	case prefix == "srs0=" || prefix == "srs1=":
		return local[:4] + "=*" + domain
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		return local[:i] + "+*" + domain
	}
	if i := strings.IndexByte(local, '-'); i > 0 && strings.IndexByte(local, '=') > i {
		return local[:i] + "-*" + domain
	}
	return s
}

func (a *Analyzer) attempt(e *mailtriage.Event) {
	a.summary.Attempts++
	if e.Status == mailtriage.Deferred {
		a.summary.Deferrals++
	}
	l := a.lane(e.Lane)
	l.add(e.Status)
	hk := laneHour{lane: laneName(e.Lane), hour: e.Time.Unix() - e.Time.Unix()%3600}
	h, ok := a.hours[hk]
	if !ok {
		h = &hourAcc{replies: map[responseKey]replyTally{}}
		a.hours[hk] = h
	}
	h.add(e.Status)
	st := a.stream(e)
	st.add(e.Status)
	st.lanes[laneName(e.Lane)]++

	pc, ok := a.providers[e.Verdict.Provider]
	if !ok {
		pc = &providerAcc{filters: map[string]int{}}
		a.providers[e.Verdict.Provider] = pc
	}
	pc.add(e.Status)
	if f := e.Verdict.Filter; f != "" && f != e.Verdict.Provider {
		pc.filters[f]++
	}

	// The sending host: the source address or pool when the source names
	// it (PowerMTA, KumoMTA), so reports break down by sending IP; else
	// the logging host.
	sendingHost := cmp.Or(e.LocalIP, e.Host)
	hc, ok := a.hosts[sendingHost]
	if !ok {
		hc = &hostAcc{lanes: map[string]*Counts{}}
		a.hosts[sendingHost] = hc
	}
	hc.add(e.Status)
	if e.LocalIP == "" && e.Host != "" && e.Host == e.Source {
		hc.unlogged = true
	}
	if e.LocalName != "" && e.LocalIP != "" {
		if hc.names == nil {
			hc.names = map[string]int{}
		}
		hc.names[e.LocalName]++
	}
	hl, ok := hc.lanes[laneName(e.Lane)]
	if !ok {
		hl = &Counts{}
		hc.lanes[laneName(e.Lane)] = hl
	}
	hl.add(e.Status)

	dc := a.domain(e)
	dc.add(e.Status)

	if e.RemoteHost != "" {
		host := lower(e.RemoteHost)
		r, ok := a.relays[host]
		if !ok {
			r = &relayAcc{ip: e.RemoteIP, provider: e.Verdict.Provider, filter: e.Verdict.Filter, lane: laneName(e.Lane)}
			a.relays[host] = r
		}
		r.add(e.Status)
		if dc.site == "" {
			dc.site = siteOf(host)
		}
	}

	if e.Status == mailtriage.Deferred || e.Status == mailtriage.Bounced {
		key := keyOf(&e.Detail, &e.Verdict)
		a.response(a.responses, key, e)
		if e.Status == mailtriage.Deferred {
			// An hour's replies name its deferrals: an incident's
			// dominant reply is what deferred the lane, not the bounces
			// of the same hours.
			t := h.replies[key]
			t.add(e)
			h.replies[key] = t
		}
		dc.replies[key]++
		if dc.firstFail.IsZero() || e.Time.Before(dc.firstFail) {
			dc.firstFail = e.Time
		}
		if e.Time.After(dc.lastFail) {
			dc.lastFail = e.Time
		}
	}
}

// domain returns a recipient domain's counts.
func (a *Analyzer) domain(e *mailtriage.Event) *domainAcc {
	dc, ok := a.domains[e.Domain]
	if !ok {
		dc = &domainAcc{lane: laneName(e.Lane), replies: map[responseKey]int{}}
		a.domains[e.Domain] = dc
	}
	return dc
}

// lower is strings.ToLower without the allocation for the usual case of a
// host name already in lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func laneName(l string) string {
	if l == "" {
		return "other"
	}
	return l
}

func keyOf(d *smtpreply.Detail, v *mailtriage.Verdict) responseKey {
	return responseKey{code: d.Reply.Code, enhanced: d.Reply.Enhanced, rule: v.Rule, provider: v.Provider, filter: v.Filter}
}

func (a *Analyzer) response(m map[responseKey]*responseAcc, key responseKey, e *mailtriage.Event) {
	r, ok := m[key]
	if !ok {
		r = &responseAcc{key: key, verdict: e.Verdict, reply: e.Detail.Reply, example: clip(e.Detail.Summary()), lanes: map[string]int{}, first: e.Time}
		if !e.Detail.Answered() {
			r.reply = smtpreply.Reply{Text: r.example}
		}
		m[key] = r
	}
	r.count++
	r.lanes[laneName(e.Lane)]++
	if e.Time.Before(r.first) {
		r.first = e.Time
	}
	if e.Time.After(r.last) {
		r.last = e.Time
	}
}

// queued notes a recipient still queued at the end in its lane's backlog.
func (a *Analyzer) queued(l *laneAcc, e *mailtriage.Event) {
	b := &l.backlog
	if !e.Queued.IsZero() && (b.oldest.IsZero() || e.Queued.Before(b.oldest)) {
		b.oldest = e.Queued
	}
	if e.Time.After(b.at) {
		b.at = e.Time
	}
	if e.Detail.Text == "" {
		return
	}
	key := keyOf(&e.Detail, &e.Verdict)
	if b.replies == nil {
		b.replies = map[responseKey]int{}
	}
	b.replies[key]++
	a.response(a.pendingReplies, key, e)
}

func (a *Analyzer) final(e *mailtriage.Event) {
	a.summary.Recipients++
	l := a.lane(e.Lane)
	l.recipients++
	l.domains[e.Domain]++
	s := a.stream(e)
	s.recipients++
	dc := a.domain(e)
	dc.recipients++
	switch e.Status {
	case mailtriage.Delivered:
		a.summary.Delivered++
	case mailtriage.Bounced:
		a.summary.Bounced++
		l.bounced++
		s.bounced++
		if hardReasons[e.Verdict.Reason] && len(a.hardBounces) < maxHardBounces {
			a.hardBounces = append(a.hardBounces, e.Recipient)
		}
	case mailtriage.Expired:
		a.summary.Expired++
		l.expired++
		s.expired++
		dc.expired++
		a.response(a.expired, keyOf(&e.Detail, &e.Verdict), e)
		a.expiredRcpts = listRecipient(a.expiredRcpts, e)
	case mailtriage.Pending:
		a.summary.Pending++
		l.pending++
		dc.pending++
		a.pendingRcpts = listRecipient(a.pendingRcpts, e)
		a.queued(l, e)
	case mailtriage.Deleted:
		a.summary.Deleted++
	case mailtriage.Discarded:
		a.summary.Discarded++
	}
}

// hardReasons are the bounce reasons (Sisimai's names) that say the
// address will never take mail: such recipients are to be suppressed.
var hardReasons = map[string]bool{"userunknown": true, "hostunknown": true, "hasmoved": true, "notaccept": true, "suspend": true}

// maxHardBounces bounds the hard-bounced addresses kept for suppression.
const maxHardBounces = 100_000

// listRecipient adds a recipient's outcome to a bounded list.
func listRecipient(list []RecipientOutcome, e *mailtriage.Event) []RecipientOutcome {
	if len(list) >= maxListed {
		return list
	}
	return append(list, RecipientOutcome{
		Time: e.Time.UTC(), Source: e.Source, Host: e.Host, QueueID: e.QueueID, MessageID: e.MessageID, Sender: e.Sender,
		Recipient: e.Recipient, Lane: laneName(e.Lane), Attempts: e.Attempts, Queued: e.Queued.UTC(),
		LastReply: clip(e.Detail.Summary()), Rule: e.Verdict.Rule,
	})
}

// maxExample bounds the reply texts a report quotes: a damaged log can hold
// replies of any length, and a reader needs the first few hundred bytes.
const maxExample = 400

// clip shortens s to maxExample bytes between words, so that an address
// is quoted whole or not at all: a cut "<jonathan.applese…" would be a
// local part that --redact cannot recognise. A text without a break in
// its first maxExample bytes is cut at a rune boundary.
func clip(s string) string {
	if len(s) <= maxExample {
		return s
	}
	cut := maxExample
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if c := s[cut]; c != ' ' && c != '\t' {
		// The cut falls inside a word: drop the word.
		if i := strings.LastIndexAny(s[:cut], " \t"); i > 0 {
			cut = i + 1
		} else if i := strings.LastIndexAny(s[:cut], "<>()[],;:\""); i >= 0 {
			cut = i + 1
		}
	}
	return s[:cut] + "…"
}

// AddUnparsed counts lines no reader could read.
func (a *Analyzer) AddUnparsed(n int64) { a.summary.UnparsedLines += n }

// Result builds the report from what was added.
func (a *Analyzer) Result() *Result {
	r := &Result{Summary: a.summary}
	r.Summary.DeferralRate = Counts{Attempts: a.summary.Attempts, Deferrals: a.summary.Deferrals}.Rate()
	r.Lanes = a.laneStats()
	r.Hourly = a.hourly()
	r.Responses = responseList(a.responses)
	r.Expired = expiredList(a.expired)
	r.Providers = a.providerStats()
	r.Streams = a.streamStats()
	r.Relays = a.relayStats()
	r.Hosts = a.hostStats()
	r.ExpiredRecipients, r.PendingRecipients = a.expiredRcpts, a.pendingRcpts
	r.HardBounces = slices.Clone(a.hardBounces)
	if r.HardBounces == nil {
		r.HardBounces = []string{}
	}
	if r.ExpiredRecipients == nil {
		r.ExpiredRecipients = []RecipientOutcome{}
	}
	if r.PendingRecipients == nil {
		r.PendingRecipients = []RecipientOutcome{}
	}
	r.Incidents = a.incidents()
	r.Domains = a.failingDomains()
	r.Findings = a.findings(r)
	return r
}

func (a *Analyzer) laneStats() []LaneStats {
	out := make([]LaneStats, 0, len(a.lanes))
	for name, l := range a.lanes {
		out = append(out, LaneStats{
			Lane: name, Attempts: l.Attempts, Delivered: l.Delivered, Deferrals: l.Deferrals, Bounces: l.Bounces,
			DeferralRate: l.Rate(), Recipients: l.recipients, Expired: l.expired, Pending: l.pending,
			LocalDeferrals: l.local, Complaints: l.complaints, Domains: topKeys(l.domains, 8), Sites: a.sites(l.domains),
		})
	}
	slices.SortFunc(out, func(x, y LaneStats) int {
		return cmp.Or(cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(y.Recipients, x.Recipients), cmp.Compare(x.Lane, y.Lane))
	})
	return out
}

func (a *Analyzer) hourly() []HourStats {
	out := make([]HourStats, 0, len(a.hours))
	for k, h := range a.hours {
		if h.Attempts == 0 {
			continue
		}
		out = append(out, HourStats{
			Lane: k.lane, Hour: time.Unix(k.hour, 0).UTC(), Attempts: h.Attempts, Delivered: h.Delivered,
			Deferrals: h.Deferrals, Bounces: h.Bounces, DeferralRate: h.Rate(),
		})
	}
	slices.SortFunc(out, func(x, y HourStats) int {
		return cmp.Or(x.Hour.Compare(y.Hour), cmp.Compare(x.Lane, y.Lane))
	})
	return out
}

// describe turns an accumulated reply group into its report row, with count n.
func (r *responseAcc) describe(n int) Response {
	return Response{
		Count: n, Code: r.reply.Code, Enhanced: r.reply.Enhanced, Class: r.verdict.Class,
		Reason: r.verdict.Reason, Category: r.verdict.Category, Provider: r.verdict.Provider, Filter: r.verdict.Filter,
		Rule: r.verdict.Rule, Action: r.verdict.Action, Owner: r.verdict.Owner, Ref: r.verdict.Ref,
		Example: r.example, Lanes: topKeys(r.lanes, 0), First: r.first.UTC(), Last: r.last.UTC(),
	}
}

// topReply returns the most frequent reply of a tally (ties by rule, then
// text, so the choice is the same on every run) and its count.
func topReply(replies map[responseKey]int) (responseKey, int) {
	var best responseKey
	bestN := 0
	for k, n := range replies {
		if n > bestN || n == bestN && keyLess(k, best) {
			best, bestN = k, n
		}
	}
	return best, bestN
}

func keyLess(x, y responseKey) bool {
	return cmp.Or(cmp.Compare(x.rule, y.rule), cmp.Compare(x.code, y.code), cmp.Compare(x.enhanced, y.enhanced),
		cmp.Compare(x.provider, y.provider), cmp.Compare(x.filter, y.filter)) < 0
}

func responseList(m map[responseKey]*responseAcc) []Response {
	return describeAll(m, func(r *responseAcc) Response { return r.describe(r.count) })
}

// describeAll turns reply groups into report rows, most frequent first;
// ties are broken by the groups' keys, so the order is the same on every
// run.
func describeAll[T any](m map[responseKey]*responseAcc, row func(*responseAcc) T) []T {
	accs := make([]*responseAcc, 0, len(m))
	for _, r := range m {
		accs = append(accs, r)
	}
	slices.SortFunc(accs, func(x, y *responseAcc) int {
		if c := cmp.Compare(y.count, x.count); c != 0 {
			return c
		}
		if keyLess(x.key, y.key) {
			return -1
		}
		if keyLess(y.key, x.key) {
			return 1
		}
		return 0
	})
	out := make([]T, 0, len(accs))
	for _, r := range accs {
		out = append(out, row(r))
	}
	return out
}

func expiredList(m map[responseKey]*responseAcc) []ExpiredGroup {
	return describeAll(m, func(r *responseAcc) ExpiredGroup {
		return ExpiredGroup{
			Count: r.count,
			LastReply: LastReply{
				Code: r.reply.Code, Enhanced: r.reply.Enhanced, Text: r.example, Class: r.verdict.Class,
				Reason: r.verdict.Reason, Category: r.verdict.Category, Provider: r.verdict.Provider, Filter: r.verdict.Filter,
				Rule: r.verdict.Rule, Action: r.verdict.Action,
			},
			Lanes: topKeys(r.lanes, 0),
		}
	})
}

func (a *Analyzer) providerStats() []ProviderStats {
	out := make([]ProviderStats, 0, len(a.providers))
	for name, c := range a.providers {
		filters := topKeys(c.filters, 0)
		filter := ""
		if len(filters) > 0 {
			filter = filters[0]
		}
		out = append(out, ProviderStats{Provider: name, Filter: filter, Filters: filters, Counts: c.Counts, DeferralRate: c.Rate()})
	}
	slices.SortFunc(out, func(x, y ProviderStats) int {
		return cmp.Or(cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(x.Provider, y.Provider))
	})
	return out
}

func (a *Analyzer) hostStats() []HostStats {
	out := make([]HostStats, 0, len(a.hosts))
	for name, c := range a.hosts {
		hs := HostStats{Host: name, Name: strings.Join(topKeys(c.names, 0), ", "), NotLogged: c.unlogged, Counts: c.Counts, DeferralRate: c.Rate(), Lanes: []HostLane{}}
		for lane, lc := range c.lanes {
			hs.Lanes = append(hs.Lanes, HostLane{Lane: lane, Counts: *lc, DeferralRate: lc.Rate()})
		}
		slices.SortFunc(hs.Lanes, func(x, y HostLane) int {
			return cmp.Or(cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(x.Lane, y.Lane))
		})
		out = append(out, hs)
	}
	slices.SortFunc(out, func(x, y HostStats) int {
		return cmp.Or(cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(x.Host, y.Host))
	})
	return out
}

// failingDomains lists the recipient domains that took no message at all
// in at least minDomainAttempts attempts: a dead MX, a typo domain, a
// destination that refuses everything. They hide in the lane "other".
func (a *Analyzer) failingDomains() []DomainStats {
	var out []DomainStats
	for name, d := range a.domains {
		if d.Delivered > 0 || d.Attempts < minDomainAttempts {
			continue
		}
		ds := DomainStats{Domain: name, Lane: d.lane, Counts: d.Counts, Recipients: d.recipients, Pending: d.pending, Expired: d.expired,
			FirstFailure: d.firstFail.UTC(), LastFailure: d.lastFail.UTC()}
		if best, n := topReply(d.replies); n > 0 {
			ds.Reply = a.responses[best].describe(n)
		}
		out = append(out, ds)
	}
	slices.SortFunc(out, func(x, y DomainStats) int {
		return cmp.Or(cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(x.Domain, y.Domain))
	})
	if out == nil {
		out = []DomainStats{}
	}
	return out
}

// maxLaneSites bounds a lane's domain list: the lane "other" can hold a
// domain per business recipient.
const maxLaneSites = 5000

// sites lists a lane's domains, most recipients first, each with the site
// its mail went to.
func (a *Analyzer) sites(domains map[string]int) []DomainSite {
	keys := topKeys(domains, maxLaneSites)
	out := make([]DomainSite, len(keys))
	for i, d := range keys {
		out[i] = DomainSite{Domain: d, Recipients: domains[d]}
		if dc := a.domains[d]; dc != nil {
			out[i].Site = dc.site
		}
	}
	return out
}

// siteOf names the receiving infrastructure behind a relay host: its
// registered domain (mx01.mail.icloud.com is icloud.com, AOL's
// mx-aol.mail.gm0.yahoodns.net is yahoodns.net, Yahoo's).
func siteOf(host string) string {
	s, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimSuffix(host, "."))
	if err != nil {
		return host
	}
	return s
}

// minDomainAttempts is how many failed attempts make a domain worth naming.
const minDomainAttempts = 10

func (a *Analyzer) streamStats() []StreamStats {
	out := make([]StreamStats, 0, len(a.streams))
	for k, s := range a.streams {
		out = append(out, StreamStats{
			Stream: k, Messages: s.messages, Recipients: s.recipients, Counts: s.Counts, Expired: s.expired,
			Bounced: s.bounced, Complaints: s.complaints, DeferralRate: s.Rate(), Lanes: topKeys(s.lanes, 0),
		})
	}
	slices.SortFunc(out, func(x, y StreamStats) int {
		return cmp.Or(cmp.Compare(y.Recipients, x.Recipients), cmp.Compare(y.Messages, x.Messages), cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(x.Stream, y.Stream))
	})
	return out
}

// maxRelays bounds the relay table: a log can name thousands of business
// MX hosts, and the ones that matter carry the most attempts.
const maxRelays = 100

func (a *Analyzer) relayStats() []RelayStats {
	out := make([]RelayStats, 0, len(a.relays))
	for host, r := range a.relays {
		out = append(out, RelayStats{Relay: host, IP: r.ip, Provider: r.provider, Filter: r.filter, Lane: r.lane, Counts: r.Counts, DeferralRate: r.Rate()})
	}
	slices.SortFunc(out, func(x, y RelayStats) int {
		return cmp.Or(cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(x.Relay, y.Relay))
	})
	if len(out) > maxRelays {
		out = out[:maxRelays]
	}
	return out
}

// topKeys returns the keys of m by descending count (ties by name), at
// most n of them (all when n is 0).
func topKeys(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int { return cmp.Or(cmp.Compare(m[y], m[x]), cmp.Compare(x, y)) })
	if n > 0 && len(keys) > n {
		keys = keys[:n]
	}
	return keys
}
