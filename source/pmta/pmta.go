// Package pmta reads PowerMTA accounting files: CSV (RFC 4180) with a
// header row naming the columns, which PowerMTA lets each installation
// choose, so every column is found by its header name; a header row
// further on (files joined with cat) names the columns of the rows after
// it. Record types: d
// (delivered), b (bounced), t (a transient failure of one recipient: a
// deferral), tq (a transient failure of a queue: no recipient), rb and rs
// (out-of-band bounces and status reports PowerMTA received; an rb row
// bounces the recipient of the message last tried for its sender and
// recipient, with no attempt), r
// (received), f (feedback loop). The source address and virtual MTA of
// each attempt become event fields, so reports break down by sending IP.
//
// PowerMTA writes no queue id: a message is known by its Message-ID or
// envelope id when logged, else by its sender and the time it was queued;
// in a file with none of these, each recipient's rows up to its final
// one (d or b) are a message of their own.
package pmta

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// Stats says what a read saw.
type Stats struct {
	Records  int64 // data rows
	Used     int64 // rows that became events
	Skipped  int64 // rows of types that carry no delivery (r, f, tq, rs), rb rows of messages not shown
	Bad      int64 // rows that could not be read
	Samples  []string
	First    time.Time
	Last     time.Time
	NoDefers bool // no t rows: the file cannot show deferrals
	// Zoneless counts the used rows whose timeLogged named no zone, read
	// in the Location given to Read.
	Zoneless int64
	// ByQueueTime says rows named their message only by sender and
	// queue time (no header_Message-Id or envId field): one sender's
	// messages queued in the same second are counted as one.
	ByQueueTime bool
}

// ErrNotAccounting is wrapped when the header is not PowerMTA's.
var ErrNotAccounting = errors.New("not a PowerMTA accounting file")

// Detect reports whether head (the start of a file) is a PowerMTA
// accounting CSV: a header row starting with "type" and naming rcpt.
func Detect(head []byte) bool {
	line, _, _ := strings.Cut(string(head), "\n")
	line = strings.TrimPrefix(strings.TrimSpace(line), "\ufeff")
	return strings.HasPrefix(line, "type,") && strings.Contains(line, ",rcpt") && strings.Contains(line, "timeLogged")
}

// FirstStamp returns the timeLogged of the first row of head (the start
// of an accounting file) that has one: the order of rotated files is the
// order of their first rows. Stamps without a zone are in loc.
func FirstStamp(head []byte, loc *time.Location) (time.Time, bool) {
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
		head = head[:i+1] // not a row cut by the end of the head
	}
	cr := csv.NewReader(bytes.NewReader(head))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return time.Time{}, false
	}
	cols, err := locate(header)
	if err != nil {
		return time.Time{}, false
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return time.Time{}, false
		}
		if err != nil {
			continue
		}
		if t, err := parseTime(field(row, cols.logged), loc); err == nil {
			return t, true
		}
	}
}

// columns are the indexes of the columns read; -1 when absent.
type columns struct {
	typ, logged, queued, orig, rcpt, action, status, diag, mta, cat, srcIP, dstIP, vmta, msgID, envID int
}

func locate(header []string) (columns, error) {
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	get := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	c := columns{
		typ: get("type"), logged: get("timeLogged"), queued: get("timeQueued"), orig: get("orig"), rcpt: get("rcpt"),
		action: get("dsnAction"), status: get("dsnStatus"), diag: get("dsnDiag"), mta: get("dsnMta"), cat: get("bounceCat"),
		srcIP: get("dlvSourceIp"), dstIP: get("dlvDestinationIp"), vmta: get("vmta"), msgID: get("header_Message-Id"), envID: get("envId"),
	}
	var missing []string
	for name, i := range map[string]int{"type": c.typ, "timeLogged": c.logged, "rcpt": c.rcpt} {
		if i < 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("%w: the header has no %s column", ErrNotAccounting, strings.Join(missing, ", "))
	}
	return c, nil
}

// Read reads one accounting file into the tracker. name names it in the
// samples of rows that could not be read; loc is the zone of stamps that
// name none.
func Read(ctx context.Context, r io.Reader, name string, loc *time.Location, t *lifecycle.Tracker) (Stats, error) {
	var st Stats
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return st, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	cols, err := locate(header)
	if err != nil {
		return st, fmt.Errorf("%s: %w", name, err)
	}
	roll := &syslogstamp.Rollover{Location: loc}
	sawT := false
	// The message each sender and recipient was last tried in, for the
	// rb rows that come back later without timeQueued.
	last := map[[2]string]string{}
	// For files whose fields name no message (no timeQueued, Message-Id
	// or envId): how many messages each sender and recipient had ended.
	ended := map[[2]string]int{}
	for {
		if st.Records%4096 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err == nil && len(row) > 0 && strings.TrimPrefix(strings.TrimSpace(row[0]), "\ufeff") == "type" {
			// The header of another file, joined on ("cat acct-*.csv"):
			// its columns name the rows after it.
			next, err := locate(row)
			if err != nil {
				line, _ := cr.FieldPos(0)
				st.bad(fmt.Sprintf("%s: line %d: %v", name, line, err))
				continue
			}
			cols = next
			continue
		}
		st.Records++
		if err != nil {
			st.bad(fmt.Sprintf("%s: %v", name, err))
			if !errors.As(err, new(*csv.ParseError)) {
				return st, fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		rec, typ, err := cols.record(row, loc)
		if err != nil {
			line, _ := cr.FieldPos(0)
			st.bad(fmt.Sprintf("%s: line %d: %v", name, line, err))
			continue
		}
		localTime := zoneless(field(row, cols.logged))
		if rec != nil && localTime {
			// The hour repeated when clocks go back is settled by the
			// order of the rows.
			rec.Time = roll.Settle(rec.Time)
		}
		if typ == "t" {
			sawT = true
		}
		if rec != nil {
			who := [2]string{rec.Sender, rec.Recipient}
			unnamed := rec.Queued.IsZero() && rec.MessageID == "" && field(row, cols.envID) == ""
			switch {
			case typ != "rb" && unnamed:
				// Nothing names the message: it is the recipient's
				// until a final row ends it, so a later message to
				// the same recipient is not merged into it.
				rec.Key = fmt.Sprintf("%s to %s #%d", rec.Sender, rec.Recipient, ended[who]+1)
				if rec.Status != mailtriage.Deferred {
					ended[who]++
				}
				last[who] = rec.Key
			case typ != "rb":
				last[who] = rec.Key
				st.ByQueueTime = st.ByQueueTime || rec.MessageID == "" && field(row, cols.envID) == ""
			case unnamed:
				// An out-of-band bounce names its message only by
				// sender and recipient.
				if key, ok := last[who]; ok {
					rec.Key = key
				} else {
					rec = nil // a message this input does not show
				}
			}
		}
		if rec == nil {
			st.Skipped++
			continue
		}
		st.Used++
		st.seen(rec.Time)
		if localTime {
			st.Zoneless++
		}
		t.Add(rec)
	}
	st.NoDefers = st.Used > 0 && !sawT
	return st, nil
}

func (st *Stats) bad(sample string) {
	st.Bad++
	if len(st.Samples) < 5 {
		st.Samples = append(st.Samples, sample)
	}
}

func (st *Stats) seen(t time.Time) {
	if st.First.IsZero() || t.Before(st.First) {
		st.First = t
	}
	if t.After(st.Last) {
		st.Last = t
	}
}

const zonelessLayout = "2006-01-02 15:04:05"

// zoneless reports whether s is a stamp without a zone.
func zoneless(s string) bool {
	return len(s) == len(zonelessLayout) && s[4] == '-'
}

func field(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// record turns a row into a Record; nil for a row that is not a delivery.
func (c columns) record(row []string, loc *time.Location) (*lifecycle.Record, string, error) {
	typ := field(row, c.typ)
	rec := &lifecycle.Record{Source: "powermta", Host: "powermta"}
	switch typ {
	case "d":
		rec.Status = mailtriage.Delivered
	case "b":
		rec.Status = mailtriage.Bounced
	case "rb":
		// A bounce that came back after the message was handed on:
		// the recipient's outcome, not an attempt.
		rec.Status, rec.NoTry = mailtriage.Bounced, true
	case "t":
		rec.Status = mailtriage.Deferred
	case "r", "f", "tq", "rs":
		return nil, typ, nil
	default:
		return nil, typ, fmt.Errorf("unknown record type %q", typ)
	}
	var err error
	if rec.Time, err = parseTime(field(row, c.logged), loc); err != nil {
		return nil, typ, fmt.Errorf("timeLogged: %w", err)
	}
	rec.Queued, _ = parseTime(field(row, c.queued), loc)
	rec.Sender, rec.Recipient = field(row, c.orig), field(row, c.rcpt)
	// The orig column holds the envelope sender, empty for the null one.
	rec.NullSender = rec.Sender == "" && c.orig >= 0
	if rec.Recipient == "" {
		return nil, typ, errors.New("no rcpt")
	}
	rec.MessageID = strings.Trim(field(row, c.msgID), "<>")
	rec.Key = messageKey(rec, field(row, c.envID))
	// PowerMTA writes no queue id: the envId is the one id it logs for
	// people to look up; the Message-ID shows as such.
	rec.OwnKey, rec.ShownID = true, field(row, c.envID)
	rec.RemoteHost, rec.RemoteIP = splitMTA(field(row, c.mta))
	if ip := field(row, c.dstIP); ip != "" {
		rec.RemoteIP = ip
	}
	rec.LocalIP = field(row, c.srcIP)
	if rec.LocalIP == "" {
		rec.LocalIP = field(row, c.vmta)
	} else {
		rec.LocalName = field(row, c.vmta) // the address's name, beside it
	}
	rec.Detail = detail(field(row, c.diag), field(row, c.status), rec.RemoteHost, rec.RemoteIP)
	if rec.Status == mailtriage.Bounced && expired(field(row, c.cat), field(row, c.status)) {
		rec.Status = mailtriage.Expired
	}
	return rec, typ, nil
}

// expired says whether a bounce is PowerMTA's queue timeout: the
// category message-expired (not delivered before bounce-after) or the
// status 4.4.7 (delivery time expired). What a receiver's reply says (a
// certificate or an account that expired) does not make it one.
func expired(cat, status string) bool {
	code, _, _ := strings.Cut(status, " ")
	return cat == "message-expired" || code == "4.4.7"
}

// messageKey names the message: its Message-ID or envelope id when
// logged, else sender and queue time.
func messageKey(rec *lifecycle.Record, envID string) string {
	switch {
	case rec.MessageID != "":
		return rec.MessageID
	case envID != "":
		return envID
	}
	return rec.Sender + "@" + strconv.FormatInt(rec.Queued.Unix(), 10)
}

// splitMTA reads dsnMta, "mx01.mail.icloud.com (17.57.154.6)".
func splitMTA(s string) (host, ip string) {
	host, rest, ok := strings.Cut(s, " (")
	if ok {
		ip = strings.TrimSuffix(rest, ")")
	}
	return strings.TrimSuffix(host, "."), ip
}

// detail decodes dsnDiag ("smtp;421 4.7.0 ..."); a diagnostic without a
// reply is PowerMTA's own text (a connection that failed, say).
func detail(diag, status, host, ip string) smtpreply.Detail {
	kind, text, ok := strings.Cut(diag, ";")
	if !ok {
		text, kind = diag, ""
	}
	text = strings.TrimSpace(text)
	d := smtpreply.Detail{Text: text, Host: host, IP: ip}
	switch {
	case strings.EqualFold(kind, "smtp") && text != "":
		d.Kind, d.Reply = smtpreply.Said, smtpreply.Parse(text)
	case text == "" && status != "":
		// Only the DSN status, "4.7.0 (delivery not authorized)".
		d.Kind, d.Reply = smtpreply.Local, smtpreply.Parse(status)
		d.Text = status
	default:
		d = smtpreply.ParseDetail(text)
		d.Host, d.IP = host, ip
	}
	return d
}

// parseTime reads the stamps PowerMTA writes: "2025-03-10 14:02:12+0000"
// (the modern default), the same without a zone (then in loc), or Unix
// seconds (older ones).
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	for _, layout := range []string{"2006-01-02 15:04:05-0700", "2006-01-02 15:04:05Z07:00", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if zoneless(s) {
		t, err := time.ParseInLocation(zonelessLayout, s, loc)
		return t.UTC(), err
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}
