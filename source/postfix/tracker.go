// Package postfix rebuilds the life of every message in a Postfix log and
// turns it into mailtriage Events: one per delivery attempt, per local
// deferral, per recipient's final outcome and per message.
//
// A message is keyed by logging host and queue id, so the logs of several
// hosts can be read together. Its recipients are the to= addresses its
// delivery lines name, each with its orig_to= (the address before an alias
// or a canonical map rewrote it): cleanup queues the same address once per
// original recipient (its duplicate filter keeps distinct pairs, with
// enable_original_recipient=yes, the default), and each is delivered and
// logged as a recipient of its own. The copy a content filter queued has
// the recipients the filter's hop handed it, also before (or without) its
// own lines naming them. A recipient's outcome is its last status line:
// delivered (status=sent), bounced, expired (the queue manager's
// "status=expired" for the message while the recipient was still
// deferred) or pending (still deferred when the input ends). For an
// expired recipient the root cause is the last reply a remote server gave
// it, or, if none ever answered, the last failure text.
//
// What counts as an attempt follows the definitions of the analysis: a
// status line of an SMTP or LMTP client, whether or not a server answered;
// not a hop to a content filter on a loopback address (the message
// re-injected by the filter continues it, linked by Message-ID), not a
// local deferral ("delivery temporarily suspended", the error and retry
// agents), not a local delivery (local, virtual, pipe, or an LMTP or SMTP
// server on this host that queues nothing again, such as Dovecot's LMTP
// on a UNIX socket or 127.0.0.1:24). A recipient local(8) forwarded
// ("forwarded as NEWID", an alias or .forward naming other addresses) is
// not delivered: the new message's recipients carry it on, and the message
// is counted once. The MTA's own
// notifications (null sender, not received from outside) produce only a
// Message event with Notification set. A message cleanup or smtpd refused as
// a whole before it was queued (header or body checks, a milter, smtpd's
// DATA restrictions) was never sent and produces no event.
package postfix

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/postfixlog"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Lanes places a recipient domain in a lane; see package lane.
type Lanes interface {
	Lane(domain, relayHost string) string
}

// Classifier says what a delivery agent's report means; see package
// classify.
type Classifier interface {
	Classify(d smtpreply.Detail) mailtriage.Verdict
}

type message struct {
	hash uint64 // of host and queue id, with the tracker's seed (see keyHash)
	// The queue id, also in the struct itself: a lookup compares it
	// without reaching for another piece of memory (see sameKey).
	qidLen       uint8
	qidBytes     [maxInlineID]byte
	host, qid    string // host is interned (see Tracker.hosts)
	sender       string
	senderKnown  bool
	messageID    string
	idHash       uint64 // of messageID, its key in Tracker.byMsgID
	notification bool
	probe        bool   // an address verification probe: not a message sent
	external     bool   // arrived over SMTP from a non-loopback client
	reinjected   bool   // arrived over SMTP from a loopback client: a content filter
	arrived      bool   // its smtpd client= or pickup line was seen
	copied       bool   // a content filter's copy was linked to it by Message-ID
	forwarded    bool   // local(8) forwarded one of its recipients in a new message
	uncounted    bool   // goes on with a message counted as another (see linkForward, linkCopy)
	copyHash     uint64 // the key hash of the first copy a content filter queued of it
	queued       time.Time
	rcpts        []*recipient          // the first is &first
	first        recipient             // most messages have one recipient: no pointer to chase
	byAddr       map[string]*recipient // once a message has many recipients; see recipientKey
	handed       int                   // recipients handed and not yet named (see recipient.handed)
	nrcpt        int                   // the recipients qmgr counted in the queue file (nrcpt=)
	said         *said                 // a non-final MX's reply of the current attempt
}

type recipient struct {
	addr, domain, lane string
	orig               string // orig_to=, "" when not logged
	relayHost, relayIP string // the server of the last attempt
	attempts           int
	final              bool
	filtered           bool   // handed to a content filter: its copy carries on
	handed             bool   // a filter's hop gave it to this copy, whose lines have not named it yet
	cause              *cause // nil until the recipient had a failure
}

// cause keeps what a recipient's failures said, for the root cause of a
// later expiry. Most recipients never fail, so it is allocated on demand.
type cause struct {
	answered                 smtpreply.Detail // the last reply a remote server gave
	answeredVerdict          mailtriage.Verdict
	answeredHost, answeredIP string
	failed                   smtpreply.Detail // the last failure of any kind
	failedVerdict            mailtriage.Verdict
	hasAnswer, hasFail       bool
}

// Tracker follows messages through their log lines, in log order. It is not
// safe for concurrent use.
type Tracker struct {
	lanes    Lanes
	classify Classifier
	emit     func(*mailtriage.Event)
	// msgs holds the open messages by the hash of their key. The
	// parsing workers hash the keys of their lines, which takes that
	// work off the tracker's goroutine.
	msgs table
	open int
	last *message // the message of the last lookup
	seed maphash.Seed
	// byMsgID finds a message by the hash of its Message-ID (see
	// messageID): a map of strings that long cost a tenth of the
	// tracker's time in hashing, comparing and rebuilding.
	byMsgID  table
	hosts    map[string]string // see intern
	lastHost string
	ev       mailtriage.Event   // reused for every emitted event
	verdict  mailtriage.Verdict // see classifyEntry
	keyBuf   []byte             // builds keys for lookups that don't allocate
	// closed messages, recipients and causes, for reuse (see recycle)
	freeMsgs   freeList[message]
	freeRcpts  freeList[recipient]
	freeCauses freeList[cause]
	end        time.Time // see StopAt
}

// NewTracker returns a Tracker that emits events to emit. The event passed
// to emit is reused: copy what you keep.
func NewTracker(lanes Lanes, classify Classifier, emit func(*mailtriage.Event)) *Tracker {
	return &Tracker{
		lanes:    lanes,
		classify: classify,
		emit:     emit,
		seed:     maphash.MakeSeed(),
		hosts:    make(map[string]string),
	}
}

// StopAt leaves out what the lines at or after end say: an analysis of a
// window that ends there sees the queue as it was then, and Finish(end)
// makes the recipients still queued pending at the window's end. The zero
// time, the default, leaves nothing out.
func (t *Tracker) StopAt(end time.Time) { t.end = end }

// Open returns the number of messages in the queue as far as the log has
// shown: the state the Tracker holds.
func (t *Tracker) Open() int { return t.open }

// add processes one line.
func (t *Tracker) add(e *entry) {
	if !t.end.IsZero() && !e.time.Before(t.end) {
		return
	}
	switch e.kind {
	case postfixlog.Delivery:
		t.delivery(e)
	case postfixlog.HostSaid:
		t.hostSaid(e)
	case postfixlog.QueueActive:
		m := t.message(e)
		m.said = nil // a new delivery pass
		m.nrcpt = max(m.nrcpt, e.nrcpt)
		t.learnSender(m, e.sender)
	case postfixlog.Held:
		// Held until postsuper releases it, when the queue manager's
		// from= line names the sender; it may never be, and is pending
		// or deleted with its sender known.
		t.learnSender(t.message(e), e.sender)
	case postfixlog.Client, postfixlog.Pickup:
		m := t.arrival(e)
		if e.kind == postfixlog.Client && e.loopback {
			m.reinjected = true
		} else if e.kind == postfixlog.Client {
			m.external = true
		}
	case postfixlog.MessageID:
		t.messageID(t.message(e), e.id, e.idHash)
	case postfixlog.Notification:
		n := t.messageByKey(t.hash(e.host, e.id), e.host, e.id, e.time)
		n.notification = true
	case postfixlog.Expired:
		t.expired(e)
	case postfixlog.Refused:
		t.refused(e)
	case postfixlog.Removed:
		// The queue manager removes a message when it is done with it,
		// postsuper when an administrator deletes it; recipients still
		// open then were never delivered.
		if m := t.lookup(e.msg, e.host, e.qid); m != nil {
			t.close(m, e.time, mailtriage.Deleted)
		}
	}
}

// refused forgets a message that cleanup or smtpd refused as a whole
// before it was queued: it was never sent, and counting it would add a
// message with no recipients. One the queue manager has seen is left
// alone: the line concerns a message the log has lost track of.
func (t *Tracker) refused(e *entry) {
	m := t.lookup(e.msg, e.host, e.qid)
	if m == nil || m.nrcpt > 0 || len(m.rcpts) > 0 {
		return
	}
	t.remove(m)
	t.recycle(m)
}

// learnSender keeps the envelope sender of a message when the log had not
// named it yet.
func (t *Tracker) learnSender(m *message, sender []byte) {
	if m.senderKnown {
		return
	}
	m.sender, m.senderKnown = string(sender), true
	// The bounce daemon names its notifications (Notification); a null
	// sender that came neither from outside nor through a content filter
	// is one too, when the log started after.
	if m.sender == "" && !m.external && !m.reinjected {
		m.notification = true
	}
}

// message returns the message a line belongs to, creating it.
func (t *Tracker) message(e *entry) *message {
	return t.messageByKey(e.msg, e.host, e.qid, e.time)
}

// arrival returns the message a client= or pickup line starts. Postfix
// reuses short queue ids: if the id's last message had arrived too and its
// end is missing from the log, that message is closed (its open recipients
// pending) and a new one begins.
func (t *Tracker) arrival(e *entry) *message {
	m := t.message(e)
	if m.arrived {
		t.close(m, e.time, mailtriage.Pending)
		m = t.message(e)
	}
	m.arrived = true
	return m
}

// hash returns the hash of a message's key, as the workers compute it.
func (t *Tracker) hash(host, qid []byte) uint64 {
	return keyHash(t.seed, maphash.Bytes(t.seed, host), qid)
}

// keyHash is the hash of a message's key, of the logging host whose hash
// is hostHash and the queue id. Each part is hashed where it lies: a key
// built first, in a buffer, held up every hash of it while the processor
// gathered the bytes just written, a tenth of the workers' time per line.
func keyHash(seed maphash.Seed, hostHash uint64, qid []byte) uint64 {
	return maphash.Bytes(seed, qid) ^ hostHash
}

// lookup returns the open message of host and queue id, whose key hashes
// to h, or nil.
func (t *Tracker) lookup(h uint64, host, qid []byte) *message {
	// A message's lines come in runs (client=, message-id=, from=): most
	// lines are about the message of the line before.
	if m := t.last; m != nil && m.hash == h && m.sameKey(host, qid) {
		return m
	}
	m := t.msgs.match(h, host, qid)
	if m != nil {
		t.last = m
	}
	return m
}

// maxInlineID is the longest queue id a message keeps in itself: short ids
// have up to 12 characters, long ones (enable_long_queue_ids) about 17.
const maxInlineID = 20

// sameKey reports whether m is the message of host and queue id.
func (m *message) sameKey(host, qid []byte) bool {
	if m.qidLen > 0 {
		if string(m.qidBytes[:m.qidLen]) != string(qid) {
			return false
		}
	} else if m.qid != string(qid) {
		return false
	}
	return m.host == string(host)
}

// intern returns a logging host's name as a string, the same one for every
// message of the host: a log names a few hosts, and a lookup compares the
// name in a string the cache holds.
func (t *Tracker) intern(host []byte) string {
	if t.lastHost == string(host) {
		return t.lastHost
	}
	if s, ok := t.hosts[string(host)]; ok {
		t.lastHost = s
		return s
	}
	if len(t.hosts) >= 1<<10 {
		clear(t.hosts) // bounded, against a log of garbage
	}
	s := string(host)
	t.hosts[s] = s
	t.lastHost = s
	return s
}

// messageByKey returns the open message of host and queue id, whose key
// hashes to h, creating it.
func (t *Tracker) messageByKey(h uint64, host, qid []byte, at time.Time) *message {
	if m := t.lookup(h, host, qid); m != nil {
		return m
	}
	m := t.freeMsgs.get()
	m.hash, m.host, m.qid, m.queued = h, t.intern(host), string(qid), at
	if len(qid) <= maxInlineID {
		m.qidLen = uint8(copy(m.qidBytes[:], qid))
	}
	t.msgs.insert(h, m)
	t.open++
	t.last = m
	return m
}

// forget takes a closed message out of the open ones.
func (t *Tracker) forget(m *message) {
	t.open--
	if t.last == m {
		t.last = nil
	}
	t.msgs.remove(m.hash, m)
}

// messageID links a message re-injected by a content filter to the one
// that went into the filter: same Message-ID, the copy from a loopback
// client. The copy inherits the original's queue time and notification flag.
func (t *Tracker) messageID(m *message, id []byte, h uint64) {
	if len(id) == 0 || m.messageID != "" {
		return
	}
	m.messageID, m.idHash = string(id), h
	// Two Message-IDs with one 64-bit hash would take each other's place
	// in the index, and a copy might miss its original: the lookup checks
	// the id itself.
	if prev := t.byMsgID.first(m.idHash); prev != nil && prev != m && m.reinjected && prev.messageID == m.messageID {
		prev.copied = true
		m.queued = prev.queued
		m.notification = m.notification || prev.notification
		if !m.senderKnown && prev.senderKnown {
			m.sender, m.senderKnown = prev.sender, true
		}
	}
	t.byMsgID.put(m.idHash, m)
}

// recipient returns m's recipient of address addr and original recipient
// orig (orig_to=, empty when not logged), creating it.
func (t *Tracker) recipient(m *message, addr, orig []byte) *recipient {
	if m.byAddr != nil {
		t.keyBuf = recipientKey(t.keyBuf[:0], addr, orig)
		if r, ok := m.byAddr[string(t.keyBuf)]; ok {
			return r
		}
	} else if len(m.rcpts) > 0 {
		if m.first.is(addr, orig) {
			return &m.first
		}
		for _, r := range m.rcpts[1:] {
			if r.is(addr, orig) {
				return r
			}
		}
	}
	if m.handed > 0 {
		// A recipient a content filter's hop handed to this copy, named
		// by the copy without the hop's orig_to=: the filter re-injects
		// the address alone.
		for _, r := range m.rcpts {
			if r.handed && r.addr == string(addr) {
				if m.byAddr != nil {
					delete(m.byAddr, r.key())
				}
				r.orig = string(orig)
				if m.byAddr != nil {
					m.byAddr[r.key()] = r
				}
				return r
			}
		}
	}
	return t.addRecipient(m, addr, orig)
}

// addRecipient adds the recipient of address addr and original recipient
// orig to m.
func (t *Tracker) addRecipient(m *message, addr, orig []byte) *recipient {
	r := &m.first
	if len(m.rcpts) > 0 {
		r = t.freeRcpts.get()
	}
	// One allocation holds both.
	t.keyBuf = append(append(t.keyBuf[:0], addr...), orig...)
	s := string(t.keyBuf)
	r.addr, r.orig = s[:len(addr)], s[len(addr):]
	r.domain = domainOf(r.addr)
	m.rcpts = append(m.rcpts, r)
	switch {
	case m.byAddr != nil:
		m.byAddr[r.key()] = r
	case len(m.rcpts) > 8:
		// A list message: look recipients up by key from now on.
		m.byAddr = make(map[string]*recipient, len(m.rcpts))
		for _, r := range m.rcpts {
			m.byAddr[r.key()] = r
		}
	}
	return r
}

// is reports whether r is the recipient of address addr and original
// recipient orig.
func (r *recipient) is(addr, orig []byte) bool {
	return r.addr == string(addr) && r.orig == string(orig)
}

// key returns r's key in its message's byAddr: the address, and the
// original recipient after a NUL when there is one.
func (r *recipient) key() string {
	if r.orig == "" {
		return r.addr
	}
	return r.addr + "\x00" + r.orig
}

// recipientKey appends the key of address addr and original recipient orig
// (see recipient.key).
func recipientKey(b, addr, orig []byte) []byte {
	b = append(b, addr...)
	if len(orig) > 0 {
		b = append(append(b, 0), orig...)
	}
	return b
}

// linkCopy joins the copy a content filter queued (the hop's "queued as
// NEWID") to the message that went into the filter: the copy is the same
// message and inherits what is known of it. The copy's lines may come
// before the hop's, so the copy may exist already.
func (t *Tracker) linkCopy(orig *message, host, newID, addr, origTo []byte) {
	h := t.hash(host, newID)
	if orig.copied && t.lookup(h, host, newID) == nil {
		// The copy came, linked by Message-ID, and is done already: the
		// filter answers the hop only after it queued the copy, which a
		// fast delivery can end first. It was counted: a copy named
		// after it is a second one.
		if orig.copyHash == 0 {
			orig.copyHash = h
		}
		return
	}
	cp := t.messageByKey(h, host, newID, orig.queued)
	if cp.queued.After(orig.queued) {
		cp.queued = orig.queued
	}
	cp.notification = cp.notification || orig.notification
	cp.external = cp.external || orig.external
	if orig.senderKnown && (!cp.senderKnown || cp.sender == "") {
		cp.sender, cp.senderKnown = orig.sender, true
	}
	// A filter that splits the recipients queues a copy for each group
	// (amavis, for recipients of different policies): the first copy is
	// the message, the others count only their recipients. A copy of a
	// message counted as another (forwarded, or a second copy) is that
	// message too.
	switch {
	case orig.uncounted:
		cp.uncounted = true
	case orig.copyHash == 0:
		orig.copyHash = h
	case orig.copyHash != h:
		cp.uncounted = true
	}
	t.hand(cp, addr, origTo)
}

// linkForward joins the new message local(8) queued to forward a
// recipient of orig ("forwarded as NEWID") to orig. It is the same message
// going on to other addresses: its recipients count, with what is known of
// orig, and the message is counted once, as orig (which may also have
// delivered other recipients itself). The new message's lines may come
// before the forwarding line: cleanup and the queue manager log as soon as
// it is queued.
func (t *Tracker) linkForward(orig *message, host, newID []byte) {
	fw := t.messageByKey(t.hash(host, newID), host, newID, orig.queued)
	if fw.queued.After(orig.queued) {
		fw.queued = orig.queued
	}
	// A null sender read from its own queue manager line alone made it
	// look like a notification of this MTA's; orig says what it is.
	fw.notification = orig.notification
	fw.external = fw.external || orig.external
	if orig.senderKnown {
		fw.sender, fw.senderKnown = orig.sender, true
	}
	fw.uncounted = true
}

// hand gives the copy a content filter queued the recipient the hop handed
// it, so that the copy counts it also when the log ends (or the copy
// expires) before the copy's own lines name it.
func (t *Tracker) hand(cp *message, addr, orig []byte) {
	if cp.byAddr != nil {
		t.keyBuf = recipientKey(t.keyBuf[:0], addr, orig)
		if _, ok := cp.byAddr[string(t.keyBuf)]; ok {
			return
		}
	} else {
		for _, r := range cp.rcpts {
			if r.addr == string(addr) && (!r.handed || r.orig == string(orig)) {
				return // the copy named it already, or another hop handed it
			}
		}
	}
	r := t.addRecipient(cp, addr, orig)
	r.handed = true
	cp.handed++
}

// hostSaid keeps a non-final MX's reply: the recipients of the delivery
// line that follows (the final MX's) get it as a reply a server gave them,
// the root cause if the message later expires.
func (t *Tracker) hostSaid(e *entry) {
	m := t.message(e)
	t.classifyEntry(e)
	host, ip := relayOf(e)
	m.said = &said{detail: *e.detail, verdict: *e.verdict, host: host, ip: ip, at: e.time}
}

// classifyEntry classifies a report the workers left unclassified (they
// had no classifier), in the tracker's own verdict: the report may be a
// worker's cached one, shared by the lines that repeat it.
func (t *Tracker) classifyEntry(e *entry) {
	if !e.classified && t.classify != nil {
		t.verdict = t.classify.Classify(*e.detail)
		e.verdict = &t.verdict
	}
}

// said is a non-final MX's reply, waiting for its delivery line.
type said struct {
	detail   smtpreply.Detail
	verdict  mailtriage.Verdict
	host, ip string
	at       time.Time
}

// sameSession tells whether a non-final MX's reply belongs to the delivery
// line at t: Postfix writes both within one delivery attempt, which its
// timeouts bound to minutes.
func (s *said) sameSession(t time.Time) bool {
	return s != nil && !t.Before(s.at) && t.Sub(s.at) < 10*time.Minute
}

// domainOf returns the lower-case domain of an address.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	d := addr[i+1:]
	for j := 0; j < len(d); j++ {
		if c := d[j]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(d)
		}
	}
	return d
}

func (t *Tracker) delivery(e *entry) {
	m := t.message(e)
	if e.status == mailtriage.StatusNone {
		// status=deliverable or undeliverable: verify(8)'s probe.
		m.probe = true
		return
	}
	r := t.recipient(m, e.rcpt, e.origTo)
	if r.handed {
		r.handed = false
		m.handed--
	}
	if r.final || r.filtered {
		return
	}
	if e.detail != nil { // a filter's hop and local(8)'s forward come without
		t.classifyEntry(e)
	}
	if m.said.sameSession(e.time) {
		t.rememberReport(r, &m.said.detail, m.said.verdict, m.said.host, m.said.ip)
	}
	if e.delay > time.Second {
		// delay= counts from the arrival, which may be before the log
		// began. It is rounded, so it only corrects by whole seconds.
		if q := e.time.Add(-e.delay).Truncate(time.Second); q.Before(m.queued.Add(-time.Second)) {
			m.queued = q
		}
	}
	switch {
	case e.filterHop:
		// A hop to a content filter: the copy it queued carries on.
		r.filtered = true
		t.linkCopy(m, e.host, e.id, e.rcpt, e.origTo)
	case e.forward:
		// Not delivered yet: the new message local(8) queued for the
		// addresses an alias or a .forward names carries on.
		r.filtered = true
		m.forwarded = true
		t.linkForward(m, e.host, e.id)
	case e.loopback && e.status != mailtriage.Delivered:
		// A content filter (or local server) that is down or refuses: no
		// remote try.
		switch e.status {
		case mailtriage.Deferred:
			t.local(m, r, e)
		case mailtriage.Bounced, mailtriage.Expired:
			t.final(m, r, e.time, e.status, e.detail, *e.verdict)
		}
	case e.agent != remoteAgent || e.detail.Suspended || e.status == mailtriage.Expired:
		// Local delivery agents, the error and retry agents, and
		// suspended destinations: no remote try.
		switch e.status {
		case mailtriage.Deferred:
			t.local(m, r, e)
		case mailtriage.Delivered, mailtriage.Bounced, mailtriage.Expired, mailtriage.Discarded:
			t.remember(r, e)
			t.final(m, r, e.time, e.status, e.detail, *e.verdict)
		}
	default:
		t.attempt(m, r, e)
	}
}

// remember keeps what a failure report says for the root cause of a later
// expiry.
func (t *Tracker) remember(r *recipient, e *entry) {
	host, ip := relayOf(e)
	t.rememberReport(r, e.detail, *e.verdict, host, ip)
}

func (t *Tracker) rememberReport(r *recipient, d *smtpreply.Detail, v mailtriage.Verdict, host, ip string) {
	if d.Text == "" || d.Reply.Class() == 2 {
		return
	}
	if r.cause == nil {
		r.cause = t.freeCauses.get()
	}
	c := r.cause
	// A suspended destination's deferral quotes a reply given in another
	// session: not one this recipient got.
	if d.Answered() && !d.Suspended {
		c.answered, c.answeredVerdict, c.hasAnswer = *d, v, true
		c.answeredHost, c.answeredIP = host, ip
	}
	c.failed, c.failedVerdict, c.hasFail = *d, v, true
}

func (t *Tracker) attempt(m *message, r *recipient, e *entry) {
	r.attempts++
	host, ip := relayOf(e)
	r.relayHost, r.relayIP = host, ip
	if e.status != mailtriage.Delivered {
		t.remember(r, e)
	}
	if m.notification {
		if e.status != mailtriage.Deferred {
			r.final = true
		}
		return
	}
	r.lane = t.lane(r, relayName(e))
	ev := t.event(m, r, mailtriage.Attempt, e.status, e.time)
	ev.RemoteHost, ev.RemoteIP = host, ip
	ev.Detail, ev.Verdict = *e.detail, *e.verdict
	t.emit(ev)
	if e.status == mailtriage.Delivered || e.status == mailtriage.Bounced {
		t.final(m, r, e.time, e.status, e.detail, *e.verdict)
	}
}

// relayOf names the server of a report: the one the text names (the
// server that said it), else relay= when a connection was made.
func relayOf(e *entry) (host, ip string) {
	if e.detail.Host != "" {
		return e.detail.Host, e.detail.IP
	}
	if len(e.relayHost) > 0 {
		return string(e.relayHost), string(e.relayIP)
	}
	return "", ""
}

func (t *Tracker) lane(r *recipient, relayHost string) string {
	if t.lanes == nil {
		return ""
	}
	return t.lanes.Lane(r.domain, relayHost)
}

// relayName returns the host name of relay=, without a copy when the
// worker interned the same name into the report.
func relayName(e *entry) string {
	if e.detail != nil && e.detail.Host == string(e.relayHost) {
		return e.detail.Host
	}
	return string(e.relayHost)
}

func (t *Tracker) local(m *message, r *recipient, e *entry) {
	t.remember(r, e)
	if m.notification {
		return
	}
	if r.lane == "" {
		r.lane = t.lane(r, relayName(e))
	}
	ev := t.event(m, r, mailtriage.LocalDeferral, mailtriage.Deferred, e.time)
	ev.RemoteHost, ev.RemoteIP = e.detail.Host, e.detail.IP
	ev.Detail, ev.Verdict = *e.detail, *e.verdict
	t.emit(ev)
}

// final emits a recipient's outcome. For an expired, pending or deleted
// recipient the report is the root cause: the last reply a remote server
// gave it, or, if none answered, the last failure text. Otherwise it is the
// report of the line that ended it, d.
func (t *Tracker) final(m *message, r *recipient, at time.Time, status mailtriage.Status, d *smtpreply.Detail, v mailtriage.Verdict) {
	r.final = true
	if m.notification {
		return
	}
	if r.lane == "" {
		r.lane = t.lane(r, "")
	}
	e := t.event(m, r, mailtriage.Final, status, at)
	switch {
	case status != mailtriage.Expired && status != mailtriage.Pending && status != mailtriage.Deleted:
		e.Detail, e.Verdict = *d, v
		e.RemoteHost, e.RemoteIP = d.Host, d.IP
		if e.RemoteHost == "" {
			e.RemoteHost, e.RemoteIP = r.relayHost, r.relayIP
		}
	case r.cause != nil && r.cause.hasAnswer:
		e.Detail, e.Verdict = r.cause.answered, r.cause.answeredVerdict
		e.RemoteHost, e.RemoteIP = r.cause.answeredHost, r.cause.answeredIP
	case r.cause != nil && r.cause.hasFail:
		e.Detail, e.Verdict = r.cause.failed, r.cause.failedVerdict
		e.RemoteHost, e.RemoteIP = r.cause.failed.Host, r.cause.failed.IP
	default:
		noReport(e)
	}
	t.emit(e)
}

func (t *Tracker) event(m *message, r *recipient, kind mailtriage.Kind, status mailtriage.Status, at time.Time) *mailtriage.Event {
	e := t.messageEvent(m, kind, at)
	e.Status = status
	e.Recipient, e.Domain, e.Lane, e.Attempts = r.addr, r.domain, r.lane, r.attempts
	return e
}

// messageEvent fills the reused event with what every event of m carries,
// and blanks the rest but the report (Detail, Verdict, RemoteHost and
// RemoteIP): the caller sets it, or blanks it with noReport. Field by
// field, because most events take a report of their own, two thirds of
// the event, which a composite literal would zero first.
func (t *Tracker) messageEvent(m *message, kind mailtriage.Kind, at time.Time) *mailtriage.Event {
	e := &t.ev
	e.Kind, e.Status, e.Time, e.Source = kind, mailtriage.StatusNone, at, "postfix"
	e.Host, e.QueueID, e.MessageID, e.Sender, e.Queued = m.host, m.qid, m.messageID, m.sender, m.queued
	// A message seen without its qmgr from= line: the log began after it.
	e.SenderUnknown = !m.senderKnown
	e.Recipient, e.Domain, e.Lane, e.Attempts = "", "", "", 0
	e.LocalIP, e.LocalName = "", "" // Postfix logs no sending address
	e.Notification, e.Recipients, e.Unnamed = false, 0, 0
	return e
}

// noReport blanks the report of an event that has none.
func noReport(e *mailtriage.Event) {
	e.Detail, e.Verdict = smtpreply.Detail{}, mailtriage.Verdict{}
	e.RemoteHost, e.RemoteIP = "", ""
}

func (t *Tracker) expired(e *entry) {
	m := t.message(e)
	if !m.senderKnown {
		m.sender, m.senderKnown = string(e.sender), true
		if m.sender == "" && !m.external {
			m.notification = true
		}
	}
	for _, r := range m.rcpts {
		if !r.final && !r.filtered {
			t.final(m, r, e.time, mailtriage.Expired, nil, mailtriage.Verdict{})
		}
	}
}

// close ends a message: recipients still open get status (Deleted when an
// administrator removed the message, Pending when the input ended), then
// the message event is emitted unless every recipient went to a content
// filter, whose re-injected copy is the message that counts, the message
// goes on with one counted as another (local(8) forwarded that one's
// recipient in it, or it is a content filter's second copy of a message
// whose recipients it split), or the message was an address verification
// probe.
func (t *Tracker) close(m *message, at time.Time, status mailtriage.Status) {
	t.remove(m)
	counted := 0
	filtered := 0
	for _, r := range m.rcpts {
		if r.filtered {
			filtered++
			continue
		}
		if r.handed && status == mailtriage.Deleted {
			// The queue manager removed the copy, and its lines never
			// named this address a content filter handed it: they named
			// it otherwise (mapped again after the filter).
			continue
		}
		if !r.final {
			t.final(m, r, at, status, nil, mailtriage.Verdict{})
		}
		counted++
	}
	// A message whose recipients all went to a content filter is counted
	// as the copy the filter queued; one that forwarded a recipient is
	// counted here, and the new message it forwarded in is not.
	if (filtered == 0 || counted > 0 || m.forwarded) && !(m.probe && counted == 0) && !m.uncounted {
		e := t.messageEvent(m, mailtriage.Message, at)
		noReport(e)
		e.Notification, e.Recipients = m.notification, counted
		if status == mailtriage.Pending {
			e.Unnamed = unnamed(m)
		}
		t.emit(e)
	}
	t.recycle(m)
}

// remove takes a message that ended out of the open ones and the
// Message-ID index.
func (t *Tracker) remove(m *message) {
	t.forget(m)
	if m.messageID != "" && t.byMsgID.first(m.idHash) == m {
		t.byMsgID.remove(m.idHash, m)
	}
}

// unnamed returns how many of a message still queued at the end the log
// never named: qmgr counted them (nrcpt=), and no delivery agent has
// tried them yet, as when a slowed lane's transport takes one message at a
// time. Only a message whose arrival the log shows is counted: of an older
// one, nrcpt also counts recipients delivered before the log began.
func unnamed(m *message) int {
	if !m.arrived || m.notification || m.probe {
		return 0
	}
	return max(0, m.nrcpt-len(m.rcpts))
}

// freeList keeps closed messages, recipients or causes for reuse: the
// tracker opens and closes a message and its recipients every few lines
// of a log, and reusing them spares the collector most of its work.
type freeList[T any] []*T

// get returns a blank value, a reused one when there is one.
func (f *freeList[T]) get() *T {
	if n := len(*f); n > 0 {
		v := (*f)[n-1]
		*f = (*f)[:n-1]
		return v
	}
	return new(T)
}

// put keeps v, which must be blank, unless the list is full.
func (f *freeList[T]) put(v *T) {
	if len(*f) < maxFree {
		*f = append(*f, v)
	}
}

func (f freeList[T]) full() bool { return len(f) >= maxFree }

// recycle keeps a closed message, its recipients and their causes for
// reuse. Nothing refers to them any more: close took the message out of the
// maps, and events carry copies of what they say.
func (t *Tracker) recycle(m *message) {
	if t.freeMsgs.full() {
		return
	}
	for _, r := range m.rcpts {
		if c := r.cause; c != nil {
			*c = cause{}
			t.freeCauses.put(c)
		}
		if r != &m.first {
			*r = recipient{}
			t.freeRcpts.put(r)
		}
	}
	*m = message{rcpts: m.rcpts[:0]}
	clear(m.rcpts[:cap(m.rcpts)])
	t.freeMsgs.put(m)
}

// maxFree bounds each free list. An incident keeps thousands of deferred
// messages open, which close in bursts as they expire or get through: a
// list as deep as such a backlog (15,000 messages in the benchmark's) has
// the structs at hand when the next ones arrive. At 4,096 it dropped them
// for the collector and allocated a third of the benchmark's memory again.
const maxFree = 1 << 15

// Finish ends the input: every message still open is closed, its open
// recipients pending. Messages close in the order they were queued, so the
// events come out the same on every run.
func (t *Tracker) Finish(at time.Time) {
	open := make([]*message, 0, t.open)
	t.msgs.all(func(m *message) { open = append(open, m) })
	slices.SortFunc(open, func(x, y *message) int {
		return cmp.Or(x.queued.Compare(y.queued), cmp.Compare(x.host, y.host), cmp.Compare(x.qid, y.qid))
	})
	for _, m := range open {
		t.close(m, at, mailtriage.Pending)
	}
}

// isLoopback reports whether a relay= or client= address is on the local
// host (127.0.0.0/8, ::1): the hop to or from a content filter.
func isLoopback(ip []byte) bool {
	if len(ip) == 0 {
		return false
	}
	if bytes.HasPrefix(ip, []byte("127.")) || bytes.Equal(ip, []byte("::1")) {
		return true
	}
	if bytes.IndexByte(ip, ':') < 0 {
		return false
	}
	a, err := netip.ParseAddr(string(ip))
	return err == nil && a.IsLoopback()
}
