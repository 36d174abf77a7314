// Package sendmail reads Sendmail's syslog lines (the Sendmail
// Installation and Operation Guide §2.1): a from= line per message
// (sender, msgid, nrcpts) and a to= line per delivery attempt (to=,
// delay=, xdelay=, mailer=, relay=, dsn=, stat=). stat=Sent is a
// delivery, stat=Deferred: a deferral, and so is any other stat with a
// 4.x.x dsn= (a transient error: "Operating system error");
// stat=discarded (a milter's or a ruleset's DISCARD) drops the recipient
// here; any other stat is a bounce. "NEWQID: DSN: TEXT" (or "postmaster notify", "sender
// notify", "return to sender" in place of DSN) logs the notification
// NEWQID that Sendmail sends about the message, and "Cannot send message
// for N days" as its TEXT ends the message with a queue timeout.
// Local deliveries (mailer=local, prog) are the recipient's outcome but
// not delivery attempts, nor is the submission program's hop to the daemon on a loopback address.
package sendmail

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// Stats says what a read saw.
type Stats struct {
	Lines   int64
	Used    int64 // lines about a message's delivery
	Other   int64 // other syslog lines, and Sendmail's other lines
	Bad     int64 // lines that are not syslog lines
	Samples []string
	First   time.Time
	Last    time.Time
	// Zoneless counts the used lines whose stamps had no zone, which the
	// clock's Location supplied; Yearless those of them that had no year
	// either (traditional syslog), and Year is the year they were given.
	Zoneless int64
	Yearless int64
	Year     int
}

// programs are Sendmail's syslog tags.
var programs = []string{"sm-mta", "sendmail", "sm-msp-queue", "sm-msp"}

// Detect reports whether head is a syslog of Sendmail's: a line of its
// tags with a from= or to= field.
func Detect(head []byte) bool {
	for _, line := range bytes.Split(head, []byte("\n")) {
		for _, p := range programs {
			if bytes.Contains(line, []byte(" "+p+"[")) && (bytes.Contains(line, []byte(": to=")) || bytes.Contains(line, []byte(": from="))) {
				return true
			}
		}
	}
	return false
}

// Read reads Sendmail's lines from a syslog into the tracker; the clock
// reads the stamps (traditional ones carry no year or zone, and the year
// passes to the next from December to January).
func Read(ctx context.Context, r io.Reader, name string, clock *syslogstamp.Clock, t *lifecycle.Tracker) (Stats, error) {
	var st Stats
	roll := syslogstamp.Rollover{Location: clock.Location}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		st.Lines++
		if st.Lines%4096 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		st.line(sc.Bytes(), name, clock, &roll, t)
	}
	if st.Yearless > 0 {
		st.Year = clock.Fixed().Year
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("%s: line %d: %w", name, st.Lines+1, err)
	}
	return st, nil
}

func (st *Stats) line(line []byte, name string, clock *syslogstamp.Clock, roll *syslogstamp.Rollover, t *lifecycle.Tracker) {
	at, zoneless, host, tag, text, ok := syslog(line, clock)
	if !ok {
		if len(bytes.TrimSpace(line)) > 0 {
			st.Bad++
			if len(st.Samples) < 5 {
				st.Samples = append(st.Samples, fmt.Sprintf("%s: line %d: not a syslog line: %.80q", name, st.Lines, line))
			}
		}
		return
	}
	traditional := syslogstamp.Traditional(line)
	switch {
	case traditional:
		at = roll.Fix(at)
	case zoneless:
		at = roll.Settle(at)
	}
	if !sendmailTag(tag) {
		st.Other++
		return
	}
	qid, body, ok := strings.Cut(text, ": ")
	if !ok || !queueID(qid) {
		st.Other++
		return
	}
	base := lifecycle.Record{Time: at, Source: "sendmail", Host: host, Key: qid}
	switch {
	case strings.HasPrefix(body, "from="):
		f := fields(body)
		base.Sender = strings.Trim(f["from"], "<>")
		base.NullSender = base.Sender == "" && f["from"] != ""
		base.MessageID = strings.Trim(f["msgid"], "<>")
		base.Queued = at
		t.Queued(&base, false)
	case strings.HasPrefix(body, "to="):
		if !st.delivery(&base, fields(body), t) {
			st.Other++
			return
		}
	default:
		newQID, dsn, ok := notification(body)
		if !ok {
			st.Other++
			return
		}
		// The bounce Sendmail made: a notification.
		t.Queued(&lifecycle.Record{Time: at, Source: "sendmail", Host: host, Key: newQID}, true)
		if strings.HasPrefix(dsn, "Cannot send message for") {
			base.Status = mailtriage.Expired
			base.Detail = smtpreply.Detail{Kind: smtpreply.Local, Text: dsn}
			t.End(&base)
		}
	}
	st.Used++
	if zoneless {
		st.Zoneless++
	}
	if traditional {
		st.Yearless++
	}
	if st.First.IsZero() || at.Before(st.First) {
		st.First = at
	}
	if at.After(st.Last) {
		st.Last = at
	}
}

// notifyLabels are the labels of the line that logs a notification
// Sendmail makes (returntosender() in savemail.c).
var notifyLabels = []string{": DSN: ", ": postmaster notify: ", ": sender notify: ", ": return to sender: "}

// notification reads "NEWQID: LABEL: TEXT", the notification NEWQID that
// Sendmail made about the message.
func notification(body string) (newQID, text string, ok bool) {
	for _, l := range notifyLabels {
		if newQID, text, ok = strings.Cut(body, l); ok && queueID(newQID) {
			return newQID, text, true
		}
	}
	return "", "", false
}

// syslog splits "STAMP HOST TAG[PID]: TEXT".
// Zoneless says the stamp named no zone: the clock's Location applied.
func syslog(line []byte, clock *syslogstamp.Clock) (at time.Time, zoneless bool, host, tag, text string, ok bool) {
	t, n, ok := clock.Parse(line)
	if !ok || n >= len(line) || line[n] != ' ' {
		return at, false, "", "", "", false
	}
	rest := string(line[n+1:])
	host, rest, ok = strings.Cut(rest, " ")
	if !ok {
		return at, false, "", "", "", false
	}
	tag, text, ok = strings.Cut(rest, ": ")
	if !ok {
		return at, false, "", "", "", false
	}
	if i := strings.IndexByte(tag, '['); i >= 0 {
		tag = tag[:i]
	}
	return t, clock.Zoneless(), host, tag, text, true
}

func sendmailTag(tag string) bool {
	for _, p := range programs {
		if tag == p {
			return true
		}
	}
	return false
}

// queueID reports whether s looks like a Sendmail queue id: 14 or more
// letters and digits ("m6JDSZoG011380").
func queueID(s string) bool {
	if len(s) < 8 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// fields reads "k=v, k=v, ..."; a to= value may list several addresses
// ("<a@x>,<b@y>"), and stat= runs to the end of the line.
func fields(body string) map[string]string {
	f := map[string]string{}
	for body != "" {
		key, rest, ok := strings.Cut(body, "=")
		if !ok {
			break
		}
		key = strings.TrimSpace(key)
		if key == "stat" {
			f[key] = rest
			break
		}
		// The value ends at ", " followed by a key=.
		end := len(rest)
		for i := 0; i+2 < len(rest); i++ {
			if rest[i] == ',' && rest[i+1] == ' ' && nextIsKey(rest[i+2:]) {
				end = i
				break
			}
		}
		f[key] = rest[:end]
		if end == len(rest) {
			break
		}
		body = rest[end+2:]
	}
	return f
}

func nextIsKey(s string) bool {
	for i := 0; i < len(s) && i < 16; i++ {
		c := s[i]
		switch {
		case c == '=':
			return i > 0
		case !('a' <= c && c <= 'z'):
			return false
		}
	}
	return false
}

// delivery reads a to= line, one record per recipient. A local mailer's
// delivery (local, prog, a file) is no attempt at a receiver: the
// recipient's outcome with no attempt, or a local deferral.
func (st *Stats) delivery(base *lifecycle.Record, f map[string]string, t *lifecycle.Tracker) bool {
	local := false
	switch f["mailer"] {
	case "local", "prog", "*file*", "*include*":
		local = true
	}
	stat := f["stat"]
	rec := *base
	rec.RemoteHost, rec.RemoteIP = relay(f["relay"])
	dsn := f["dsn"]
	switch {
	case strings.HasPrefix(stat, "Sent"):
		rec.Status = mailtriage.Delivered
		reply := strings.Trim(strings.TrimPrefix(stat, "Sent"), " ()")
		rec.Detail = said(reply, dsn, rec.RemoteHost, rec.RemoteIP)
	case strings.HasPrefix(stat, "Deferred"):
		rec.Status = mailtriage.Deferred
		text := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(stat, "Deferred"), ":"))
		rec.Detail = said(text, dsn, rec.RemoteHost, rec.RemoteIP)
		if text == "" || strings.EqualFold(text, "queued") {
			rec.Local = true
		}
	case strings.HasPrefix(stat, "queued"):
		rec.Status, rec.Local = mailtriage.Deferred, true
		rec.Detail = smtpreply.Detail{Kind: smtpreply.Local, Text: stat}
	case stat == "discarded":
		// A milter's or a ruleset's DISCARD: dropped here, no attempt,
		// the sender not told.
		rec.Status, rec.NoTry = mailtriage.Discarded, true
	case strings.HasPrefix(dsn, "4."):
		// A transient failure whose stat is not "Deferred" (EX_OSERR
		// "Operating system error", EX_IOERR "I/O error"): the message
		// stays queued, as its dsn= says.
		rec.Status = mailtriage.Deferred
		rec.Detail = said(stat, dsn, rec.RemoteHost, rec.RemoteIP)
	default:
		rec.Status = mailtriage.Bounced
		rec.Detail = said(stat, dsn, rec.RemoteHost, rec.RemoteIP)
	}
	// A hop to this host's own daemon (the submission program relaying
	// to [127.0.0.1]) is not an attempt: once accepted, the daemon's
	// queue carries the message on under its own id; until then the
	// deferral is this host's.
	loopback := loopback(rec.RemoteIP)
	if loopback && rec.Status == mailtriage.Deferred {
		rec.Local = true
	}
	if local {
		rec.Local = rec.Status == mailtriage.Deferred
		rec.NoTry = !rec.Local
	}
	// A list too long for one line is split over several, each but the
	// last ending in "[more]" (logdelivery() in deliver.c).
	for _, to := range strings.Split(f["to"], ",") {
		rec.Recipient = strings.Trim(strings.TrimSpace(to), "<>")
		if rec.Recipient != "" && rec.Recipient != "[more]" {
			r := rec
			if loopback && r.Status == mailtriage.Delivered {
				t.Handoff(&r)
				continue
			}
			t.Add(&r)
		}
	}
	return true
}

// loopback reports whether ip is a loopback address.
func loopback(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && a.IsLoopback()
}

// relay reads "mx00.1and1.co.uk. [212.227.15.169]".
func relay(s string) (host, ip string) {
	host, rest, ok := strings.Cut(s, " [")
	if ok {
		ip, _, _ = strings.Cut(rest, "]")
	}
	return strings.TrimSuffix(strings.TrimSpace(host), "."), ip
}

// said decodes a stat text: a reply when it starts with a code; the dsn=
// status fills the enhanced code a reply leaves out.
func said(text, dsn, host, ip string) smtpreply.Detail {
	d := smtpreply.Detail{Kind: smtpreply.Local, Text: text, Host: host, IP: ip}
	r := smtpreply.Parse(text)
	if r.Code != 0 {
		d.Kind = smtpreply.Said
	}
	low := strings.ToLower(text)
	switch {
	case strings.Contains(low, "connection refused"), strings.Contains(low, "connection timed out"):
		d.Kind = smtpreply.ConnectFailed
	case strings.Contains(low, "host unknown"), strings.Contains(low, "name server timeout"):
		d.Kind = smtpreply.NameService
	}
	if r.Enhanced == "" && dsn != "" {
		r.Enhanced = dsn
	}
	d.Reply = r
	return d
}
