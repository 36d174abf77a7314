package samplelog

import "time"

// Truth is what the simulation did, counted by the definitions of the
// analysis (see package analysis): what an analysis of the log it wrote
// must find.
//
//   - Messages are those queued from outside (the application server, the
//     marketing server); the copy the content filter re-injects is the same
//     message, and its hop to the filter is not an attempt.
//   - Notifications are the bounce daemon's, one per "sender non-delivery
//     notification" line; their own deliveries are not attempts.
//   - An attempt is a delivery line of the smtp client for a recipient,
//     whether or not a server answered (a DNS failure, a connection that
//     timed out); a non-final MX's "host ... said" line is part of the
//     attempt that follows it.
//   - A local deferral is a recipient deferred by the error agent while its
//     destination was suspended: no remote try.
//   - Every recipient ends once: delivered, bounced, expired (its message
//     timed out while it was still queued) or pending (queued when the log
//     ends).
//
// Lanes are those of domains.go; hours are those of the delivery lines'
// stamps, in UTC.
type Truth struct {
	Messages, Notifications int
	Tally                   // the whole log
	Lanes                   map[string]*Tally
	Hours                   map[LaneHour]*Attempts
}

// Tally counts what happened to a set of recipients.
type Tally struct {
	Attempts       Attempts
	LocalDeferrals int
	Outcomes       Outcomes
}

// Attempts counts delivery attempts by their status.
type Attempts struct {
	Total, Delivered, Deferred, Bounced int
}

// Outcomes counts recipients by how they ended.
type Outcomes struct {
	Recipients, Delivered, Bounced, Expired, Pending int
}

// LaneHour is one lane in one hour; Hour is its first second, UTC.
type LaneHour struct {
	Lane string
	Hour time.Time
}

func (t *Truth) lane(name string) *Tally {
	l, ok := t.Lanes[name]
	if !ok {
		l = &Tally{}
		t.Lanes[name] = l
	}
	return l
}

// queued counts a message queued from outside and its recipients.
func (t *Truth) queued(m *message) {
	t.Messages++
	for _, r := range m.rcpts {
		if m.twin(r) == r {
			t.Outcomes.Recipients++
			t.lane(r.dom.lane).Outcomes.Recipients++
		}
	}
}

// attempt counts a delivery attempt for r at the time of its line, whose
// status is Postfix's: sent, deferred or bounced.
func (t *Truth) attempt(at int64, m *message, r *rcpt, status string) {
	if m.ended(r) {
		return
	}
	lane := r.dom.lane
	hour := time.Unix(at/1e6-at/1e6%3600, 0).UTC()
	h, ok := t.Hours[LaneHour{lane, hour}]
	if !ok {
		h = &Attempts{}
		t.Hours[LaneHour{lane, hour}] = h
	}
	for _, a := range []*Attempts{&t.Attempts, &t.lane(lane).Attempts, h} {
		a.add(status)
	}
}

func (a *Attempts) add(status string) {
	a.Total++
	switch status {
	case "sent":
		a.Delivered++
	case "deferred":
		a.Deferred++
	case "bounced":
		a.Bounced++
	}
}

// ended counts r, which a delivery attempt ended: sent or bounced.
func (t *Truth) ended(m *message, r *rcpt, status string) {
	if m.ended(r) {
		return
	}
	for _, o := range []*Outcomes{&t.Outcomes, &t.lane(r.dom.lane).Outcomes} {
		switch status {
		case "sent":
			o.Delivered++
		case "bounced":
			o.Bounced++
		}
	}
}

// expired counts r if it was still queued when its message timed out.
func (t *Truth) expired(m *message, r *rcpt) {
	if m.ended(r) {
		return
	}
	t.Outcomes.Expired++
	t.lane(r.dom.lane).Outcomes.Expired++
}

// localDeferral counts r deferred while its destination was suspended.
func (t *Truth) localDeferral(m *message, r *rcpt) {
	if m.ended(r) {
		return
	}
	t.LocalDeferrals++
	t.lane(r.dom.lane).LocalDeferrals++
}

// The simulation may give a message the same recipient twice (the same
// address and orig_to), which Postfix never queues: cleanup's duplicate
// filter keeps one of each (recipient, original recipient) pair
// (cleanup_out_recipient.c; enable_original_recipient). The log then says
// twice what happened to one recipient, and the truth counts it once: the
// recipient is the first of its twins, and ends when any of them does;
// what the log says of it after that is not news.

// twin returns the first recipient of m with r's address and orig_to.
func (m *message) twin(r *rcpt) *rcpt {
	for _, o := range m.rcpts {
		if o.addr == r.addr && o.orig == r.orig {
			return o
		}
	}
	return r
}

// ended reports whether r, or a twin of r, has ended.
func (m *message) ended(r *rcpt) bool {
	for _, o := range m.rcpts {
		if o.final && o.addr == r.addr && o.orig == r.orig {
			return true
		}
	}
	return false
}

// finish counts the recipients that never ended as pending.
func (t *Truth) finish() {
	t.Outcomes.pend()
	for _, l := range t.Lanes {
		l.Outcomes.pend()
	}
}

func (o *Outcomes) pend() {
	o.Pending = o.Recipients - o.Delivered - o.Bounced - o.Expired
}
