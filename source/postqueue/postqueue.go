// Package postqueue reads the live Postfix queue as postqueue(1) lists it
// with -j (Postfix 3.1 and later): JSON, one object per queue file and
// line, with queue_name (maildrop, incoming, active, deferred, hold,
// corrupt), queue_id, arrival_time (Unix seconds), message_size,
// forced_expire (Postfix 3.5 and later), sender, and recipients, each an
// address with the reason of its last deferral (delay_reason) when there
// was one.
//
// The listing is a snapshot, not a log: it holds no attempts, no
// deliveries and no times but the arrivals. A delay reason is the reason
// of a recipient's last deferral, made at a time the listing does not
// say, so it is no attempt and no deferral: it is kept as the recipient's
// last reason (a receiver's, or Postfix's own for a recipient on hold or
// in a corrupt queue file), and the caller's Tracker.Finish makes every
// recipient pending with it: what is stuck now, per lane, and why.
package postqueue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
)

// Source names the format in records and events; Host stands for the
// Postfix instance, which the listing does not name.
const (
	Source = "postqueue"
	Host   = "postqueue"
)

// Stats says what a read saw.
type Stats struct {
	Lines int64
	Used  int64 // queue files (lines) read
	// Bad counts the lines that are not a queue file's object and the
	// recipients without an address.
	Bad     int64
	Samples []string
	// Queues counts the queue files per queue_name.
	Queues     map[string]int
	Recipients int64
	// Deferred counts the recipients whose delay reason a remote server
	// or the way to it gave; Local those Postfix deferred on its own
	// (including hold and corrupt); the rest are waiting with no reason
	// yet (maildrop, incoming, active).
	Deferred int64
	Local    int64
	// ForcedExpire counts the messages postsuper -e or -f marked to be
	// returned at their next delivery attempt.
	ForcedExpire int64
	// Repeated counts the queue files listed twice: postqueue(1) warns a
	// message may show up again when it moves between queues while it
	// lists them.
	Repeated int64
	// First is the oldest arrival; Last is the snapshot's time.
	First time.Time
	Last  time.Time
}

// queueOrder is the order Postfix's queues are named in postqueue(1).
var queueOrder = []string{"maildrop", "incoming", "active", "deferred", "hold", "corrupt"}

// QueueSummary says how many queue files each queue held, in Postfix's
// order of the queues: "2 active, 5 deferred, 1 hold".
func (st Stats) QueueSummary() string {
	names := make([]string, 0, len(st.Queues))
	for q := range st.Queues {
		names = append(names, q)
	}
	slices.SortFunc(names, func(a, b string) int {
		ia, ib := slices.Index(queueOrder, a), slices.Index(queueOrder, b)
		if ia < 0 {
			ia = len(queueOrder)
		}
		if ib < 0 {
			ib = len(queueOrder)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, q := range names {
		parts[i] = fmt.Sprintf("%d %s", st.Queues[q], q)
	}
	return strings.Join(parts, ", ")
}

// Detect reports whether head is postqueue -j output: its first non-empty
// line is a JSON object with queue_name and queue_id. Postfix writes those
// two members first, so they are found even when the head cuts a long line
// (a message with thousands of recipients) short.
func Detect(head []byte) bool {
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return queueFile(line)
		}
	}
	return false
}

// Text reports whether head is the text listing of mailq (postqueue -p)
// rather than postqueue -j's JSON: its first non-empty line is showq's
// header ("-Queue ID-  --Size-- ...") or its word for an empty queue
// ("Mail queue is empty", "-Queue is empty" before Postfix 2.9).
func Text(head []byte) bool {
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return bytes.HasPrefix(line, []byte("-Queue ID-")) || bytes.Equal(line, []byte("Mail queue is empty")) ||
				bytes.Equal(line, []byte("-Queue is empty"))
		}
	}
	return false
}

// queueFile reads members of a JSON object until it has seen a string
// queue_name and queue_id.
func queueFile(line []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	var name, id bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
		var s string
		switch key {
		case "queue_name":
			name = json.Unmarshal(v, &s) == nil && s != ""
		case "queue_id":
			id = json.Unmarshal(v, &s) == nil && s != ""
		}
		if name && id {
			return true
		}
	}
	return false
}

// maxLine bounds one queue file's line. postqueue writes a message with
// all its recipients on one line: 10,000 recipients with their reasons
// are a few MB. A longer line is a damaged file and is skipped without
// being held in memory. A variable for the tests.
var maxLine = 64 << 20

// queueFileJSON is the part of a queue file's object read.
type queueFileJSON struct {
	QueueName    string          `json:"queue_name"`
	QueueID      string          `json:"queue_id"`
	ArrivalTime  json.Number     `json:"arrival_time"`
	ForcedExpire bool            `json:"forced_expire"`
	Sender       string          `json:"sender"`
	Recipients   []recipientJSON `json:"recipients"`
}

type recipientJSON struct {
	Address     string `json:"address"`
	DelayReason string `json:"delay_reason"`
}

// reader reads one listing.
type reader struct {
	st   Stats
	name string
	now  time.Time
	t    *lifecycle.Tracker
	// seen are the queue ids read, and recorded the recipients given a
	// reason, so a message listed twice keeps its first listing's.
	seen     map[string]bool
	recorded map[[2]string]bool
}

// Read reads postqueue -j output into the tracker. now is when the
// listing was made (the file's modification time, or the time of reading
// for standard input): the listing carries no time of its own. A zero now
// is the time of reading.
func Read(ctx context.Context, r io.Reader, name string, now time.Time, t *lifecycle.Tracker) (Stats, error) {
	if now.IsZero() {
		now = time.Now()
	}
	rd := &reader{st: Stats{Queues: map[string]int{}, Last: now.UTC()}, name: name, now: now.UTC(), t: t,
		seen: map[string]bool{}, recorded: map[[2]string]bool{}}
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for {
		line, long, err := readLine(br, buf)
		buf = line[:0]
		if len(line) > 0 || long {
			rd.st.Lines++
			if rd.st.Lines%1024 == 0 && ctx.Err() != nil {
				return rd.st, ctx.Err()
			}
			if long {
				rd.bad("longer than %d MiB, skipped (postqueue writes one message a line; is the file damaged?)", maxLine>>20)
			} else {
				rd.line(line)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return rd.st, fmt.Errorf("%s: line %d: %w", name, rd.st.Lines+1, err)
		}
	}
	if rd.st.First.IsZero() {
		rd.st.First = rd.st.Last
	}
	return rd.st, nil
}

// readLine reads one line into buf, without its end; long says it was
// longer than maxLine and was dropped.
func readLine(br *bufio.Reader, buf []byte) (line []byte, long bool, err error) {
	buf = buf[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(buf)+len(chunk) > maxLine {
				long, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return buf, long, err
	}
}

func (rd *reader) bad(format string, args ...any) {
	rd.st.Bad++
	if len(rd.st.Samples) < 5 {
		rd.st.Samples = append(rd.st.Samples, fmt.Sprintf("%s: line %d: ", rd.name, rd.st.Lines)+fmt.Sprintf(format, args...))
	}
}

// line reads one queue file's object.
func (rd *reader) line(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var q queueFileJSON
	if err := json.Unmarshal(line, &q); err != nil {
		rd.bad("not a postqueue -j object: %v: %.80q", err, line)
		return
	}
	switch {
	case q.QueueID == "":
		rd.bad("no queue_id: %.80q", line)
		return
	case q.QueueName == "":
		rd.bad("queue file %s: no queue_name", q.QueueID)
		return
	}
	arrival, err := unixTime(q.ArrivalTime)
	if err != nil {
		rd.bad("queue file %s: %v", q.QueueID, err)
		return
	}
	rd.st.Used++
	if rd.seen[q.QueueID] {
		rd.st.Repeated++
	} else {
		rd.seen[q.QueueID] = true
		rd.st.Queues[q.QueueName]++
		if q.ForcedExpire {
			rd.st.ForcedExpire++
		}
	}
	if !arrival.IsZero() && (rd.st.First.IsZero() || arrival.Before(rd.st.First)) {
		rd.st.First = arrival
	}
	// Not before the arrival, even when the clock that made the
	// snapshot's time was behind Postfix's.
	at := rd.now
	if arrival.After(at) {
		at = arrival
	}
	base := lifecycle.Record{Time: at, Source: Source, Host: Host, Key: q.QueueID, Sender: q.Sender, Queued: arrival}
	notification := bounce(q.Sender)
	if notification {
		base.Sender = ""
	}
	rd.t.Queued(&base, notification)
	for i, rc := range q.Recipients {
		if rc.Address == "" {
			rd.bad("queue file %s: recipient %d has no address", q.QueueID, i+1)
			continue
		}
		rd.st.Recipients++
		d, local, ok := reason(q.QueueName, rc.DelayReason)
		if !ok {
			// Not tried yet, or being tried now: no outcome. A record
			// without a status only makes the recipient known, and the
			// Finish makes it pending.
			rd.t.Add(&lifecycle.Record{Time: at, Source: Source, Host: Host, Key: q.QueueID, Recipient: rc.Address})
			continue
		}
		key := [2]string{q.QueueID, rc.Address}
		if rd.recorded[key] {
			continue
		}
		rd.recorded[key] = true
		rec := base
		rec.Recipient, rec.Detail, rec.Local, rec.Snapshot = rc.Address, d, local, true
		if local {
			rd.st.Local++
		} else {
			rd.st.Deferred++
			rec.RemoteHost, rec.RemoteIP = d.Host, d.IP
		}
		rd.t.Add(&rec)
	}
}

// bounce reports whether sender is the null sender: showq writes it as
// empty_address_recipient, "MAILER-DAEMON" unless configured otherwise.
func bounce(sender string) bool {
	return sender == "" || strings.EqualFold(sender, "MAILER-DAEMON")
}

// reason decodes a recipient's delay reason in its queue: the report of a
// deferral, whether Postfix made it on its own (local), and ok when there
// is one.
func reason(queue, why string) (d smtpreply.Detail, local, ok bool) {
	switch queue {
	case "hold", "corrupt":
		// Not deferred by a receiver: an administrator (postsuper -h, a
		// HOLD action) put it on hold, or Postfix could not read the file.
		// The last deferral, if any, is kept in the text and names the
		// server.
		text := "message is on hold"
		if queue == "corrupt" {
			text = "queue file is corrupt"
		}
		d = smtpreply.Detail{Kind: smtpreply.Local, Text: text}
		if why = strings.TrimSpace(why); why != "" {
			p := smtpreply.ParseDetail(why)
			d.Text += " (last deferral: " + why + ")"
			d.Host, d.IP = p.Host, p.IP
		}
		return d, true, true
	}
	if strings.TrimSpace(why) == "" {
		return d, false, false
	}
	d = smtpreply.ParseDetail(why)
	// Postfix's own words ("mail transport unavailable", "unknown mail
	// transport error") and a content filter on this host that is down are
	// no receiver's deferral. "delivery temporarily suspended: host X
	// said: ..." is: in the queue it is what most recipients of a deferring
	// destination carry, and it quotes the receiver, so it counts with the
	// receiver's own deferrals.
	local = d.Kind == smtpreply.Local || loopback(d.IP)
	return d, local, true
}

func loopback(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && a.Unmap().IsLoopback()
}

// unixTime reads arrival_time: Unix seconds; absent is unknown.
func unixTime(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	if sec, err := strconv.ParseInt(string(n), 10, 64); err == nil && sec > 0 && sec < maxUnix {
		return time.Unix(sec, 0).UTC(), nil
	}
	if f, err := n.Float64(); err == nil && f > 0 && f < maxUnix && !math.IsInf(f, 0) {
		sec := math.Floor(f)
		return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("arrival_time %.40s is not a time", n)
}

// maxUnix is the year 10000: a later arrival is a damaged file.
const maxUnix = 253402300800
