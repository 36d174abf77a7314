package postfix

import (
	"bytes"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/postfixlog"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// A worker keeps, of each line the tracker needs, a compact record: spans
// of the chunk's buffer instead of slices, the delivery status and agent
// already decided, the report and verdict in arrays of the chunk. It is a
// tenth of a postfixlog.Record, holds no pointers for the garbage collector
// to chase, and the tracker reads it back as an entry.

// span is a piece of a chunk's buffer.
type span struct{ off, n uint32 }

// spanOf locates field, a slice of base's memory, in base. Slicing keeps
// the end of the memory, so the capacities tell the offset.
func spanOf(base, field []byte) span {
	if len(field) == 0 {
		return span{}
	}
	return span{off: uint32(cap(base) - cap(field)), n: uint32(len(field))}
}

// agent is the kind of delivery agent that wrote a delivery line.
type agent uint8

const (
	remoteAgent agent = iota + 1 // smtp, lmtp: an attempt at a remote server
	localAgent                   // local, virtual, pipe, discard: a local delivery
	errorAgent                   // error, retry: no try at all
)

// line is the compact record of one line the tracker needs.
type line struct {
	time        int64 // Unix nanoseconds
	kind        postfixlog.Kind
	status      mailtriage.Status
	agent       agent
	traditional bool // the stamp had no year; the rollover may move it
	loopback    bool // relay= or client= is on this host: a content filter
	classified  bool // verdict holds the worker's classification
	host, qid   span
	sender      span // from= (QueueActive, Expired)
	rcpt        span
	relayHost   span // empty for relay=none
	relayIP     span
	id          span  // message-id= (MessageID), the notification's queue id (Notification)
	detail      int32 // index of the report in the chunk's details, -1 if none
}

// keep turns a parsed record into the chunk's compact line, decoding and
// classifying a delivery line's report. It reports false for lines the
// tracker has no use for.
func (c *chunk) keep(rec *postfixlog.Record, cl Classifier) bool {
	if rec.Kind == postfixlog.Other || len(rec.QueueID) == 0 || string(rec.QueueID) == "NOQUEUE" {
		return false
	}
	l := line{
		time: rec.Time.UnixNano(), kind: rec.Kind, traditional: rec.Traditional, detail: -1,
		host: spanOf(c.buf, rec.Host), qid: spanOf(c.buf, rec.QueueID),
	}
	switch rec.Kind {
	case postfixlog.Delivery:
		if l.status = statusOf(rec.Status); l.status == mailtriage.StatusNone {
			// undeliverable, deliverable, undeliverable-but-not-cached:
			// address verification probes, not deliveries.
			return false
		}
		l.agent = agentOf(rec.Program)
		l.rcpt = spanOf(c.buf, rec.Recipient)
		if !bytes.Equal(rec.RelayHost, []byte("none")) {
			l.relayHost, l.relayIP = spanOf(c.buf, rec.RelayHost), spanOf(c.buf, rec.RelayIP)
		}
		l.loopback = l.agent == remoteAgent && isLoopback(rec.RelayIP)
		l.detail = int32(len(c.details))
		d := decode(rec)
		c.details = append(c.details, d)
		var v mailtriage.Verdict
		if cl != nil {
			v, l.classified = cl.Classify(d), true
		}
		c.verdicts = append(c.verdicts, v)
	case postfixlog.QueueActive, postfixlog.Expired:
		l.sender = spanOf(c.buf, rec.Sender)
	case postfixlog.Client:
		l.loopback = isLoopback(rec.ClientIP)
	case postfixlog.MessageID:
		l.id = spanOf(c.buf, rec.MsgID)
	case postfixlog.Notification:
		l.id = spanOf(c.buf, rec.NewID)
	}
	c.lines = append(c.lines, l)
	return true
}

func agentOf(program []byte) agent {
	switch string(program) {
	case "smtp", "lmtp":
		return remoteAgent
	case "error", "retry":
		return errorAgent
	}
	return localAgent
}

// decode parses a delivery line's reason. A bare reply (the answer to a
// successful delivery) names no server, so the relay= host is the one that
// answered.
func decode(rec *postfixlog.Record) smtpreply.Detail {
	d := smtpreply.ParseDetail(string(rec.Reason))
	if d.Host == "" && len(rec.RelayHost) > 0 && !bytes.Equal(rec.RelayHost, []byte("none")) && len(rec.RelayIP) > 0 {
		d.Host, d.IP = string(rec.RelayHost), string(rec.RelayIP)
	}
	return d
}

func statusOf(s []byte) mailtriage.Status {
	switch string(s) {
	case "sent":
		return mailtriage.Delivered
	case "deferred":
		return mailtriage.Deferred
	case "bounced":
		return mailtriage.Bounced
	case "expired":
		return mailtriage.Expired
	}
	return mailtriage.StatusNone
}

// entry is a line as the tracker reads it: its spans resolved to bytes of
// the chunk, valid while the chunk is being tracked.
type entry struct {
	time     time.Time
	kind     postfixlog.Kind
	status   mailtriage.Status
	agent    agent
	loopback bool
	// classified says verdict holds the worker's classification.
	classified bool
	host, qid  []byte
	sender     []byte
	rcpt       []byte
	relayHost  []byte
	relayIP    []byte
	id         []byte
	detail     *smtpreply.Detail   // delivery lines
	verdict    *mailtriage.Verdict // delivery lines
}

// entry resolves line i of the chunk.
func (c *chunk) entry(i int, e *entry) {
	l := &c.lines[i]
	b := func(s span) []byte { return c.buf[s.off : s.off+s.n] }
	*e = entry{
		time: time.Unix(0, l.time).UTC(), kind: l.kind, status: l.status, agent: l.agent, loopback: l.loopback, classified: l.classified,
		host: b(l.host), qid: b(l.qid), sender: b(l.sender), rcpt: b(l.rcpt),
		relayHost: b(l.relayHost), relayIP: b(l.relayIP), id: b(l.id),
	}
	if l.detail >= 0 {
		e.detail, e.verdict = &c.details[l.detail], &c.verdicts[l.detail]
	}
}
