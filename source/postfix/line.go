package postfix

import (
	"bytes"
	"hash/maphash"
	"math"
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
//
// That holds for every field postfixlog returns, which are reslices of the
// line; the check below keeps a field from elsewhere (a copy, a literal)
// from turning into a span of the wrong bytes.
func spanOf(base, field []byte) span {
	if len(field) == 0 {
		return span{}
	}
	off := cap(base) - cap(field)
	if off < 0 || off+len(field) > len(base) || &base[off] != &field[0] {
		panic("postfix: a record field outside the chunk")
	}
	return span{off: uint32(off), n: uint32(len(field))}
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
	traditional bool    // the stamp had no year; the rollover may move it
	settle      bool    // the stamp had a year but no zone: the repeated hour may move it
	loopback    bool    // relay= or client= is on this host
	filterHop   bool    // a loopback delivery the receiver queued again: a content filter
	forward     bool    // local(8) forwarded the recipient in a new message: "forwarded as NEWID"
	classified  bool    // verdict holds the worker's classification
	delay       float32 // delay=: seconds since the message arrived
	detail      int32   // index of the report in the chunk's reports, -1 if none
	nrcpt       int32   // nrcpt= (QueueActive): the recipients in the queue file
	msg         uint64  // the hash of the message's key (Tracker.hash)
	idHash      uint64  // the hash of the Message-ID (MessageID)
	host, qid   span
	sender      span // from= (QueueActive, Expired)
	rcpt        span
	origTo      span // orig_to=, when the recipient was rewritten
	relayHost   span // empty for relay=none
	relayIP     span
	// id is message-id= (MessageID), the new queue id of a notification
	// (Notification), of the copy a content filter queued (filterHop) or
	// of the message local(8) forwarded the recipient in (forward).
	id span
}

// keep turns a parsed record into the chunk's compact line, decoding and
// classifying a delivery line's report. It reports false for lines the
// tracker has no use for.
func (c *chunk) keep(rec *postfixlog.Record, w *worker) bool {
	if rec.Kind == postfixlog.Other || len(rec.QueueID) == 0 || string(rec.QueueID) == "NOQUEUE" {
		return false
	}
	// Built in place: a line is a hundred bytes, and most lines are kept.
	c.lines = append(c.lines, line{
		time: rec.Time.UnixNano(), kind: rec.Kind, traditional: rec.Traditional, settle: rec.Zoneless && !rec.Traditional, detail: -1,
		host: spanOf(c.buf, rec.Host), qid: spanOf(c.buf, rec.QueueID),
	})
	l := &c.lines[len(c.lines)-1]
	l.msg = keyHash(w.seed, w.hostHash(rec.Host), rec.QueueID)
	switch rec.Kind {
	case postfixlog.Delivery:
		if l.status = statusOf(rec.Status); l.status == mailtriage.StatusNone {
			// undeliverable, deliverable, undeliverable-but-not-cached:
			// an address verification probe, not a delivery. The line
			// goes on, without its recipient, to mark its message one.
			return true
		}
		l.agent = agentOf(rec.Program)
		l.rcpt, l.origTo = spanOf(c.buf, rec.Recipient), spanOf(c.buf, rec.OrigTo)
		if !bytes.Equal(rec.RelayHost, []byte("none")) {
			l.relayHost, l.relayIP = spanOf(c.buf, rec.RelayHost), spanOf(c.buf, rec.RelayIP)
		}
		l.loopback = l.agent == remoteAgent && onThisHost(rec.RelayIP)
		l.delay = float32(rec.Delay)
		if l.agent == localAgent && l.status == mailtriage.Delivered {
			// An alias or a .forward that names other addresses: local(8)
			// queues a new message for them (local/forward.c), which
			// carries the delivery on.
			if id := forwardedAs(rec.Reason); len(id) > 0 {
				l.forward, l.id = true, spanOf(c.buf, id)
			}
		}
		if l.loopback && l.status == mailtriage.Delivered {
			// amavis and its kind answer "250 2.0.0 from MTA(...): 250 2.0.0
			// Ok: queued as NEWID": the message goes on as NEWID. A local
			// LMTP server (Dovecot on 127.0.0.1:24) says no such thing.
			if id := queuedAs(rec.Reason); len(id) > 0 {
				l.filterHop, l.id = true, spanOf(c.buf, id)
			} else {
				// Delivered on this host (Dovecot's LMTP, a filter that
				// discarded): a local delivery, no remote try.
				l.agent = localAgent
			}
		}
		if l.filterHop || l.forward {
			// The copy the filter queued, or the message local(8)
			// forwarded in, carries the delivery on; the tracker reads
			// nothing of this line's report nor of its status, and a
			// filter's hop is one line in four of a log that has one.
			return true
		}
		if discarded(rec) {
			l.status, l.loopback = mailtriage.Discarded, false
		}
		c.report(l, rec, w)
		if l.agent == remoteAgent && l.relayHost.n == 0 && onThisHost([]byte(c.reports[l.detail].detail.IP)) {
			// relay=none: no session. "connect to 127.0.0.1[127.0.0.1]:10024:
			// Connection refused" is a content filter or local server that
			// is down, no try at a remote server.
			l.loopback = true
		}
	case postfixlog.HostSaid:
		// A non-final MX's reply: evidence for the root cause of a
		// later expiry, not an attempt.
		c.report(l, rec, w)
	case postfixlog.Held:
		l.sender = spanOf(c.buf, rec.Sender)
	case postfixlog.QueueActive, postfixlog.Expired:
		l.sender = spanOf(c.buf, rec.Sender)
		l.nrcpt = int32(min(rec.NRcpt, math.MaxInt32))
	case postfixlog.Client:
		l.loopback = isLoopback(rec.ClientIP)
	case postfixlog.MessageID:
		l.id = spanOf(c.buf, rec.MsgID)
		l.idHash = maphash.Bytes(w.seed, rec.MsgID)
	case postfixlog.Notification:
		l.id = spanOf(c.buf, rec.NewID)
	}
	return true
}

// report decodes and classifies a line's report for the chunk: a repeat
// is the worker's cached one, shared, and no copy is made of it.
func (c *chunk) report(l *line, rec *postfixlog.Record, w *worker) {
	l.detail = int32(len(c.reports))
	r := w.cached(rec)
	if r == nil {
		c.decodes = append(c.decodes, decoded{})
		r = &c.decodes[len(c.decodes)-1]
		w.decodeInto(r, rec)
	}
	l.classified = r.classified
	c.reports = append(c.reports, r)
}

// worker is what one parsing goroutine keeps: its classifier and the
// reports it decoded lately. A log repeats the same failure text for every
// recipient a destination turns away (a suspended destination's "delivery
// temporarily suspended: ...", Proofpoint's "421 4.7.0 Deferred ..."), so
// a repeat costs a map lookup instead of a parse and a classification.
type worker struct {
	seed    maphash.Seed // the tracker's, to hash message keys
	cl      Classifier
	reports map[string]*decoded // by relay host and reason; never written once in
	strings map[string]string   // see intern
	relays  map[string]*relay   // by relay= as logged; see relay
	// The hash of the logging host of the line before: a log names
	// a host or two.
	lastHost     []byte
	lastHostHash uint64
	// byRelay: cl judges a server's acceptances by the server alone (see
	// hostJudge), and the worker may judge them per relay=. Another
	// classifier judges each: it may read the whole reply.
	byRelay bool
	key     []byte
}

// hostJudge is a Classifier that says whether it judges a server's bare
// 2xx replies by the server alone, as a classify.Cache does.
type hostJudge interface {
	AcceptancesByHost() bool
}

// relay is what a worker keeps of a server that relay= names: its name and
// address as strings, and the verdict on its acceptances. Most delivery
// lines are acceptances, each with its own queue id in the text, so none
// repeats; but a classify.Cache judges a server's bare 2xx replies by the
// server alone, and so can the worker, without building the cache's key
// (see worker.byRelay).
type relay struct {
	host, ip string
	accepted mailtriage.Verdict
	judged   bool // accepted holds the verdict
}

type decoded struct {
	detail     smtpreply.Detail
	verdict    mailtriage.Verdict
	classified bool
}

func newWorker(cl Classifier, seed maphash.Seed) *worker {
	j, ok := cl.(hostJudge)
	byRelay := ok && j.AcceptancesByHost()
	return &worker{seed: seed, cl: cl, reports: make(map[string]*decoded), strings: make(map[string]string), relays: make(map[string]*relay), byRelay: byRelay}
}

// hostHash returns the hash of a logging host's name.
func (w *worker) hostHash(host []byte) uint64 {
	if !bytes.Equal(host, w.lastHost) || w.lastHost == nil {
		w.lastHost = append(w.lastHost[:0], host...)
		w.lastHostHash = maphash.Bytes(w.seed, host)
	}
	return w.lastHostHash
}

// cached returns the report of rec, decoded and classified once for all
// its repeats, or nil for one decodeInto must decode: an acceptance
// ("250 2.0.0 Ok: queued as ...") carries ids and never repeats, and is not
// worth remembering.
func (w *worker) cached(rec *postfixlog.Record) *decoded {
	if len(rec.Reason) == 0 || rec.Reason[0] == '2' {
		return nil
	}
	w.key = append(append(append(append(append(w.key[:0], rec.RelayHost...), 0), rec.DSN...), 0), rec.Reason...)
	if r, ok := w.reports[string(w.key)]; ok {
		return r
	}
	r := new(decoded)
	w.decodeInto(r, rec)
	if len(w.reports) >= 1<<14 {
		clear(w.reports)
	}
	w.reports[string(w.key)] = r
	return r
}

// decodeInto decodes and classifies rec's report into r.
func (w *worker) decodeInto(r *decoded, rec *postfixlog.Record) {
	rl := w.decode(rec, &r.detail)
	if w.cl == nil {
		return
	}
	r.classified = true
	d := &r.detail
	// The cache's key of a 2xx reply from a known host: the host, the
	// kind, no DSN, not suspended. A bare reply is the acceptance.
	if !w.byRelay || rl == nil || d.Kind != smtpreply.Plain || !d.Answered() || d.Reply.Class() != 2 || d.Suspended || d.DSN != "" {
		r.verdict = w.cl.Classify(*d)
		return
	}
	if !rl.judged {
		rl.accepted, rl.judged = w.cl.Classify(*d), true
	}
	r.verdict = rl.accepted
}

// queuedAs finds the queue id in a reply's "queued as ID" (the last one,
// as a content filter quotes the reply of the MTA it handed over to).
func queuedAs(reason []byte) []byte {
	// Forward, one quote after another: a forward search finds the rare
	// 'q' by vector code, where LastIndex hashes every byte backwards.
	i := bytes.Index(reason, []byte("queued as "))
	if i < 0 {
		return nil
	}
	for {
		rest := reason[i+len("queued as "):]
		j := bytes.Index(rest, []byte("queued as "))
		if j < 0 {
			return leadingID(rest)
		}
		i += len("queued as ") + j
	}
}

// discarded reports whether a line Postfix logs as sent dropped its
// recipient on this host: the discard(8) transport ("status=sent
// (REASON)", the reason its next hop), or a content filter's discard
// (amavis: "250 2.7.0 Ok, discarded, id=... - INFECTED: ..."). Nothing
// was sent, and the sender is not told.
func discarded(rec *postfixlog.Record) bool {
	if !bytes.Equal(rec.Status, []byte("sent")) {
		return false
	}
	if bytes.Equal(rec.Program, []byte("discard")) {
		return true
	}
	return onThisHost(rec.RelayIP) && bytes.Contains(rec.Reason, []byte(" Ok, discarded"))
}

// forwardedAs finds the queue id in local(8)'s "forwarded as ID".
func forwardedAs(reason []byte) []byte {
	rest, ok := bytes.CutPrefix(reason, []byte("forwarded as "))
	if !ok {
		return nil
	}
	return leadingID(rest)
}

// leadingID returns the queue id at the start of b: its letters and digits.
func leadingID(b []byte) []byte {
	end := 0
	for end < len(b) && (b[end] >= '0' && b[end] <= '9' || b[end] >= 'A' && b[end] <= 'Z' || b[end] >= 'a' && b[end] <= 'z') {
		end++
	}
	return b[:end]
}

func agentOf(program []byte) agent {
	switch string(program) {
	case "smtp", "lmtp":
		return remoteAgent
	case "error", "retry", "qmgr", "oqmgr":
		return errorAgent
	}
	return localAgent
}

// decode parses a delivery line's reason into d. A bare reply (the answer
// to a successful delivery) names no server, so the relay= host is the one
// that answered: decode returns it then, else nil.
func (w *worker) decode(rec *postfixlog.Record, d *smtpreply.Detail) *relay {
	*d = smtpreply.ParseDetail(string(rec.Reason))
	var rl *relay
	if d.Host == "" && len(rec.RelayHost) > 0 && !bytes.Equal(rec.RelayHost, []byte("none")) && len(rec.RelayIP) > 0 {
		rl = w.relay(rec)
		d.Host, d.IP = rl.host, rl.ip
	}
	// Postfix's status for the attempt matters where no server said a
	// code; a reply carries its own (and most lines are acceptances).
	if !d.Answered() && len(rec.DSN) > 0 && smtpreply.IsEnhanced(string(rec.DSN)) {
		d.DSN = w.intern(rec.DSN)
	}
	return rl
}

// relay returns what the worker keeps of rec's relay=.
func (w *worker) relay(rec *postfixlog.Record) *relay {
	if rl, ok := w.relays[string(rec.Relay)]; ok {
		return rl
	}
	if len(w.relays) >= 1<<12 {
		clear(w.relays) // bounded: the relays in use come back at once
	}
	rl := &relay{host: w.intern(rec.RelayHost), ip: w.intern(rec.RelayIP)}
	w.relays[string(rec.Relay)] = rl
	return rl
}

// intern returns b as a string, the same one for the same bytes: a log
// names a few hundred relays over and over, and a lookup is cheaper than
// a copy the collector must follow.
func (w *worker) intern(b []byte) string {
	if s, ok := w.strings[string(b)]; ok {
		return s
	}
	if len(w.strings) >= 1<<12 {
		clear(w.strings) // bounded: the relays in use come back at once
	}
	s := string(b)
	w.strings[s] = s
	return s
}

func statusOf(s []byte) mailtriage.Status {
	switch string(s) {
	case "sent":
		return mailtriage.Delivered
	case "deferred", "SOFTBOUNCE":
		// soft_bounce=yes logs what would have bounced as SOFTBOUNCE
		// and keeps the recipient queued (global/bounce.c).
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
	time      time.Time
	kind      postfixlog.Kind
	status    mailtriage.Status
	agent     agent
	loopback  bool
	filterHop bool
	forward   bool
	nrcpt     int           // nrcpt= (QueueActive)
	delay     time.Duration // delay=
	// classified says verdict holds the worker's classification.
	classified bool
	msg        uint64 // the hash of the message's key
	idHash     uint64 // the hash of id, of a MessageID line
	host, qid  []byte
	sender     []byte
	rcpt       []byte
	origTo     []byte
	relayHost  []byte
	relayIP    []byte
	id         []byte
	// detail and verdict: of delivery and host-said lines, nil for a
	// filter's hop, local(8)'s forward and a verify(8) probe (see keep).
	detail  *smtpreply.Detail
	verdict *mailtriage.Verdict
}

// entry resolves line i of the chunk.
func (c *chunk) entry(i int, e *entry) {
	l := &c.lines[i]
	b := func(s span) []byte { return c.buf[s.off : s.off+s.n] }
	// Field by field: every one is set, and a composite literal would
	// zero the entry first.
	e.time, e.kind, e.msg, e.idHash, e.status, e.agent = time.Unix(0, l.time).UTC(), l.kind, l.msg, l.idHash, l.status, l.agent
	e.nrcpt = int(l.nrcpt)
	e.loopback, e.filterHop, e.forward, e.classified = l.loopback, l.filterHop, l.forward, l.classified
	e.delay = time.Duration(float64(l.delay) * float64(time.Second))
	e.host, e.qid, e.sender, e.rcpt, e.origTo = b(l.host), b(l.qid), b(l.sender), b(l.rcpt), b(l.origTo)
	e.relayHost, e.relayIP, e.id = b(l.relayHost), b(l.relayIP), b(l.id)
	e.detail, e.verdict = nil, nil
	if l.detail >= 0 {
		r := c.reports[l.detail]
		e.detail, e.verdict = &r.detail, &r.verdict
	}
}

// onThisHost reports whether a server's address is on this host: a
// loopback address, or a UNIX-domain socket such as LMTP's
// "private/dovecot-lmtp".
func onThisHost(ip []byte) bool {
	return isLoopback(ip) || bytes.IndexByte(ip, '/') >= 0
}
