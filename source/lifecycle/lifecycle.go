// Package lifecycle follows recipients through the delivery records of
// any MTA or ESP that reports each attempt and outcome per recipient
// (PowerMTA accounting, KumoMTA logs, Exim, Sendmail, ESP events), and
// turns them into the Events every report reads: an Attempt per remote
// try, a LocalDeferral per deferral the MTA made on its own, a Final per
// recipient, and a Message per message, as the Postfix reader does.
//
// For a recipient that expired, the Final's report is the root cause: the
// last reply a remote server gave it, or, if none answered, the last
// failure text.
package lifecycle

import (
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Record is one report of a source about one recipient.
type Record struct {
	Time   time.Time
	Source string // the format: "powermta", "kumomta", ...
	// Host is the MTA node, Key the message's id there (queue or spool
	// id); together they name the message. A source whose log names no
	// node puts its own name as Host ("exim", "powermta").
	Host, Key string
	// OwnKey says Key is not an id the source logged for people to look
	// up (PowerMTA's Message-ID, shown as such, or the reader's own key
	// of sender and queue time): events then carry ShownID as their
	// QueueID, "" when the source logged no other id (PowerMTA's envId).
	OwnKey    bool
	ShownID   string
	MessageID string
	// Sender is the envelope sender, "" when the record does not name
	// one; NullSender marks the null sender (<>), which the source
	// logged as such.
	Sender     string
	NullSender bool
	Recipient  string
	// Status: Delivered, Deferred, Bounced, Expired, Deleted or Discarded.
	Status mailtriage.Status
	// Local marks a deferral the MTA made without a remote try (a
	// throttle, a suspension, "retry time not reached").
	Local bool
	// NoTry marks a delivery or bounce that came without a try at a
	// receiver (a local delivery: a pipe, a mailbox; an ESP's
	// suppression): the recipient gets its outcome, and no attempt.
	NoTry bool
	// Detail is the report: the reply and the server, when there was one.
	Detail     smtpreply.Detail
	RemoteHost string
	RemoteIP   string
	// LocalIP is the sending address or pool (PowerMTA's dlvSourceIp,
	// KumoMTA's source_address or egress source); LocalName the source's
	// name for the address, when it logs both (KumoMTA's egress source).
	LocalIP, LocalName string
	Queued             time.Time
	// Attempts is the source's own count of attempts, when it keeps one
	// (KumoMTA's num_attempts); 0 counts the records.
	Attempts int
	// Complaint marks a recipient's complaint (a feedback report, an ESP's
	// complaint event) rather than a delivery record: see Complaint.
	Complaint bool
	// Verdict, when set, is the source's own judgement of the report (a
	// bounce message read in its context), used instead of classifying
	// Detail alone.
	Verdict *mailtriage.Verdict
	// Snapshot marks what a queue listing shows of a recipient still
	// queued (postqueue -j): Detail is the reason of its last deferral,
	// made at a time the listing does not say, not an attempt at Time.
	// It is kept as the recipient's last reason and places it in its
	// lane, and no event comes of it: Finish makes the recipient pending.
	Snapshot bool
}

// Classifier says what a report means; see package classify.
type Classifier interface {
	Classify(d smtpreply.Detail) mailtriage.Verdict
}

// Lanes places a recipient domain in a lane; see package lane.
type Lanes interface {
	Lane(domain, relayHost string) string
}

// Tracker turns records into events. It is not safe for concurrent use.
type Tracker struct {
	lanes    Lanes
	classify Classifier
	emit     func(*mailtriage.Event)
	messages map[msgKey]*message
	order    []msgKey
	ev       mailtriage.Event
	seen     map[string]struct{} // event ids, for Once
	end      time.Time           // see StopAt
}

type msgKey struct{ host, key string }

type message struct {
	host, key    string
	shownID      string // the id events carry as QueueID (see Record.OwnKey)
	source       string
	notification bool
	handedOff    bool // a recipient went to another queue of the MTA: see Handoff
	messageID    string
	sender       string
	senderKnown  bool // a record named the sender, or the null sender
	queued       time.Time
	recipients   map[string]*recipient
	rcptOrder    []string
	last         time.Time
}

type recipient struct {
	addr, domain, lane string
	attempts, counted  int
	final              bool
	localIP, localName string
	// The root cause of an expiry: the last remote reply, else the last
	// failure.
	answered, failed *cause
	lastHost, lastIP string
}

type cause struct {
	detail   smtpreply.Detail
	verdict  mailtriage.Verdict
	host, ip string
}

// NewTracker returns a tracker that hands each event to emit. The event
// is reused: emit must copy what it keeps.
func NewTracker(lanes Lanes, classify Classifier, emit func(*mailtriage.Event)) *Tracker {
	return &Tracker{lanes: lanes, classify: classify, emit: emit, messages: map[msgKey]*message{}}
}

// StopAt leaves out the records at or after end: an analysis of a window
// that ends there sees the queue as it was then, and Finish(end) makes the
// recipients still queued pending at the window's end. The zero time, the
// default, leaves nothing out.
func (t *Tracker) StopAt(end time.Time) { t.end = end }

// pastEnd reports whether r comes at or after the end StopAt set.
func (t *Tracker) pastEnd(r *Record) bool {
	return !t.end.IsZero() && !r.Time.Before(t.end)
}

// Queued records a message's arrival: its sender and Message-ID, and
// whether it is a notification the MTA made (a bounce: null sender, made
// locally), whose deliveries are not the sender's mail and are left out
// of the attempts, as the Postfix reader leaves them.
func (t *Tracker) Queued(r *Record, notification bool) {
	if t.pastEnd(r) {
		return
	}
	m := t.message(r)
	m.notification = m.notification || notification
}

// Add takes one record.
func (t *Tracker) Add(r *Record) {
	if r.Recipient == "" || t.pastEnd(r) {
		return
	}
	m := t.message(r)
	if m.notification {
		m.recipient(r.Recipient)
		return
	}
	rc := m.recipient(r.Recipient)
	if rc.final {
		return // a late record for a recipient already settled
	}
	if r.LocalIP != "" {
		rc.localIP, rc.localName = r.LocalIP, r.LocalName
	}
	v := t.verdict(r.Detail)
	if r.Verdict != nil {
		v = *r.Verdict
	}
	switch {
	case r.Snapshot:
		if r.Detail.Text != "" || r.Detail.Reply.Code != 0 {
			rc.remember(r, v)
		}
		if r.RemoteHost != "" {
			rc.lane = t.lane(rc, r.RemoteHost)
		}
	case r.Status == mailtriage.Deferred && r.Local:
		rc.remember(r, v)
		t.event(m, rc, r, mailtriage.LocalDeferral, mailtriage.Deferred, v)
	case r.NoTry && (r.Status == mailtriage.Delivered || r.Status == mailtriage.Bounced || r.Status == mailtriage.Discarded):
		if r.Status == mailtriage.Bounced {
			rc.remember(r, v)
		}
		rc.final = true
		t.event(m, rc, r, mailtriage.Final, r.Status, v)
	case r.Status == mailtriage.Delivered, r.Status == mailtriage.Deferred, r.Status == mailtriage.Bounced:
		rc.counted++
		rc.attempts = max(rc.counted, r.Attempts)
		if r.Status != mailtriage.Delivered {
			rc.remember(r, v)
		}
		rc.lane = t.lane(rc, r.RemoteHost)
		t.event(m, rc, r, mailtriage.Attempt, r.Status, v)
		if r.Status != mailtriage.Deferred {
			rc.final = true
			t.event(m, rc, r, mailtriage.Final, r.Status, v)
		}
	case r.Status == mailtriage.Expired, r.Status == mailtriage.Deleted:
		if r.Attempts > rc.attempts {
			rc.attempts = r.Attempts
		}
		if r.Status == mailtriage.Expired && rc.answered == nil && rc.failed == nil && r.Detail.Text != "" {
			rc.remember(r, v)
		}
		rc.final = true
		t.final(m, rc, r.Time, r.Status)
	}
}

// Handoff records that r's recipient was handed, as it was, to another
// queue of the same MTA (Sendmail's submission program relaying to its
// own daemon on a loopback address), which follows it under its own id:
// the hop is not an attempt, and the recipient is forgotten here. A
// message left with no recipient by hand-offs is not counted: it is the
// same message as the one that carries on.
func (t *Tracker) Handoff(r *Record) {
	if t.pastEnd(r) {
		return
	}
	m := t.message(r)
	if rc := m.recipients[r.Recipient]; rc != nil && rc.final {
		return
	}
	delete(m.recipients, r.Recipient)
	if i := slices.Index(m.rcptOrder, r.Recipient); i >= 0 {
		m.rcptOrder = slices.Delete(m.rcptOrder, i, i+1)
	}
	m.handedOff = true
}

// Once reports whether an event id is seen for the first time by this
// tracker: webhooks are delivered at least once, and exports overlap, so
// a source whose events carry ids reads each only once, across inputs.
func (t *Tracker) Once(id string) bool {
	if t.seen == nil {
		t.seen = map[string]struct{}{}
	}
	if _, ok := t.seen[id]; ok {
		return false
	}
	t.seen[id] = struct{}{}
	return true
}

// Complaint emits a recipient's complaint about a message. It is not part
// of the message's delivery: the recipient gets no outcome from it.
func (t *Tracker) Complaint(r *Record) {
	if r.Recipient == "" {
		return
	}
	e := &t.ev
	domain := domainOf(r.Recipient)
	*e = mailtriage.Event{
		Kind: mailtriage.Complaint, Time: r.Time, Source: r.Source, Host: r.Host, QueueID: shownID(r), MessageID: r.MessageID,
		Sender: r.Sender, SenderUnknown: r.Sender == "" && !r.NullSender,
		Recipient: r.Recipient, Domain: domain, LocalIP: r.LocalIP, LocalName: r.LocalName, Detail: r.Detail,
	}
	if t.lanes != nil {
		e.Lane = t.lanes.Lane(domain, "")
	}
	if r.Verdict != nil {
		e.Verdict = *r.Verdict
	}
	t.emit(e)
}

// shownID is the id a record's events carry as QueueID.
func shownID(r *Record) string {
	if r.OwnKey {
		return r.ShownID
	}
	return r.Key
}

func (t *Tracker) message(r *Record) *message {
	k := msgKey{r.Host, r.Key}
	m := t.messages[k]
	if m == nil {
		m = &message{host: r.Host, key: r.Key, shownID: shownID(r), source: r.Source, recipients: map[string]*recipient{}}
		t.messages[k] = m
		t.order = append(t.order, k)
	}
	if r.OwnKey && m.shownID == "" {
		m.shownID = r.ShownID
	}
	if r.MessageID != "" {
		m.messageID = r.MessageID
	}
	if r.Sender != "" || r.NullSender {
		m.sender, m.senderKnown = r.Sender, true
	}
	if !r.Queued.IsZero() && (m.queued.IsZero() || r.Queued.Before(m.queued)) {
		m.queued = r.Queued
	}
	if r.Time.After(m.last) {
		m.last = r.Time
	}
	return m
}

func (m *message) recipient(addr string) *recipient {
	rc := m.recipients[addr]
	if rc == nil {
		rc = &recipient{addr: addr, domain: domainOf(addr)}
		m.recipients[addr] = rc
		m.rcptOrder = append(m.rcptOrder, addr)
	}
	return rc
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// remember keeps the report as a possible root cause.
func (rc *recipient) remember(r *Record, v mailtriage.Verdict) {
	c := &cause{detail: r.Detail, verdict: v, host: r.RemoteHost, ip: r.RemoteIP}
	if r.Detail.Answered() && !r.Local {
		rc.answered = c
	}
	rc.failed = c
	rc.lastHost, rc.lastIP = r.RemoteHost, r.RemoteIP
}

func (t *Tracker) verdict(d smtpreply.Detail) mailtriage.Verdict {
	if t.classify == nil || d.Text == "" && d.Reply.Code == 0 {
		return mailtriage.Verdict{}
	}
	return t.classify.Classify(d)
}

func (t *Tracker) lane(rc *recipient, relay string) string {
	if t.lanes == nil {
		return ""
	}
	if rc.lane != "" && relay == "" {
		return rc.lane
	}
	return t.lanes.Lane(rc.domain, relay)
}

// event emits an Attempt, LocalDeferral or Final of r's report.
func (t *Tracker) event(m *message, rc *recipient, r *Record, kind mailtriage.Kind, status mailtriage.Status, v mailtriage.Verdict) {
	if rc.lane == "" {
		rc.lane = t.lane(rc, r.RemoteHost)
	}
	e := t.base(m, rc, kind, status, r.Time)
	e.Detail, e.Verdict = r.Detail, v
	e.RemoteHost, e.RemoteIP = r.RemoteHost, r.RemoteIP
	t.emit(e)
}

// final emits the Final of an expired, deleted or pending recipient, with
// its root cause.
func (t *Tracker) final(m *message, rc *recipient, at time.Time, status mailtriage.Status) {
	if rc.lane == "" {
		rc.lane = t.lane(rc, "")
	}
	e := t.base(m, rc, mailtriage.Final, status, at)
	switch c := rc.answered; {
	case c != nil:
		e.Detail, e.Verdict, e.RemoteHost, e.RemoteIP = c.detail, c.verdict, c.host, c.ip
	case rc.failed != nil:
		c = rc.failed
		e.Detail, e.Verdict, e.RemoteHost, e.RemoteIP = c.detail, c.verdict, c.host, c.ip
	}
	t.emit(e)
}

func (t *Tracker) base(m *message, rc *recipient, kind mailtriage.Kind, status mailtriage.Status, at time.Time) *mailtriage.Event {
	e := &t.ev
	*e = mailtriage.Event{
		Kind: kind, Status: status, Time: at, Source: m.source,
		Host: m.host, QueueID: m.shownID, MessageID: m.messageID, Sender: m.sender, SenderUnknown: !m.senderKnown, Queued: m.queued,
		Recipient: rc.addr, Domain: rc.domain, Lane: rc.lane, LocalIP: rc.localIP, LocalName: rc.localName, Attempts: rc.attempts,
	}
	return e
}

// End settles every recipient of r's message that has no outcome yet with
// r.Status (Expired for a queue timeout the source reports per message,
// as Sendmail's "Cannot send message for 5 days"), each with its root
// cause.
func (t *Tracker) End(r *Record) {
	if t.pastEnd(r) {
		return
	}
	m := t.message(r)
	if m.notification {
		return
	}
	for _, addr := range m.rcptOrder {
		if rc := m.recipients[addr]; !rc.final {
			if rc.answered == nil && rc.failed == nil && r.Detail.Text != "" {
				rc.remember(r, t.verdict(r.Detail))
			}
			rc.final = true
			t.final(m, rc, r.Time, r.Status)
		}
	}
}

// Finish ends the input at the given time: recipients with no outcome are
// pending, and every message gets its Message event, in the order the
// messages were first seen.
func (t *Tracker) Finish(at time.Time) {
	for _, k := range t.order {
		m := t.messages[k]
		// A message ends with its last record, or, with recipients still
		// queued, at the end of the input, as the Postfix reader closes
		// its open messages: a window counts it where it counts them.
		end := m.last
		for _, addr := range m.rcptOrder {
			if rc := m.recipients[addr]; !rc.final && !m.notification {
				rc.final = true
				t.final(m, rc, at, mailtriage.Pending)
				end = at
			}
		}
		if m.handedOff && len(m.recipients) == 0 {
			continue
		}
		e := &t.ev
		*e = mailtriage.Event{Kind: mailtriage.Message, Time: end, Source: m.source, Host: k.host, QueueID: m.shownID,
			MessageID: m.messageID, Sender: m.sender, SenderUnknown: !m.senderKnown, Queued: m.queued, Recipients: len(m.recipients), Notification: m.notification}
		t.emit(e)
	}
	t.messages, t.order = map[msgKey]*message{}, nil
}
