// Package exim reads Exim's main log (the "Log files" chapter of the Exim
// specification): a line per event of a message, "DATE TIME [ZONE]
// [[PID]] MSGID FLAG ADDRESS FIELDS". Flags: "<=" arrival, "=>"
// delivery, "->" another address of the same delivery, "**" failure,
// "==" deferral, ">>" a cutthrough delivery (logged before the arrival);
// "Completed" ends a message. Message ids are the 16
// characters of Exim up to 4.96 and the 23 of 4.97 and later.
//
// A deferral that did not try ("retry time not reached", a domain held
// by queue_smtp_domains) is Exim's own, not a receiver's. A delivery with no H= is a local one (a pipe, a file,
// a mailbox), not an attempt; its recipient is the address in <...> after
// the pipe, file or local part. A "**" failure with no H= of a local
// transport (a pipe, a file, appendfile over quota: any transport but an
// SMTP one) is a final bounce with no attempt, for the same address, and
// a "==" deferral of one is a local deferral.
// "retry timeout exceeded" is a queue timeout, and so is a failure "after
// a long failure period" of every host. "removed by USER" (exim -Mrm)
// deletes the recipients still without an outcome. A
// bounce message Exim makes (null sender, "R=" naming the message it
// reports on) is a notification.
package exim

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
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
	Other   int64 // other Exim lines (queue runs, connections)
	Bad     int64 // lines that are not Exim's
	Samples []string
	First   time.Time
	Last    time.Time
	// Zoneless counts the lines whose stamps named no zone, read in the
	// Location given to Read (Exim logs local time unless told
	// log_timezone).
	Zoneless int64
}

// line is the start of a message line: stamp, optional zone and pid, id.
var line = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ([+-]\d{4}))?(?: \[\d+\])? (?:(` + msgID + `) )?(.*)$`)

// msgID matches both id forms: 1tsXyZ-000Abc-9Q and 1tsXyZ-00000000Abc-9Qxx.
const msgID = `[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}`

// Detect reports whether head is an Exim main log: a line of its head has
// Exim's stamp and a message id (or is a queue run or the daemon's
// start). The first line alone does not tell: after rotation it is often
// one that names no message (a rejection, a connection).
func Detect(head []byte) bool {
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
		head = head[:i] // not a line cut by the end of the head
	}
	for n := 0; len(head) > 0 && n < 64; n++ {
		var text []byte
		text, head, _ = bytes.Cut(head, []byte("\n"))
		m := line.FindSubmatch(text)
		if m != nil && (len(m[3]) > 0 || bytes.Contains(text, []byte("Start queue run")) || bytes.Contains(text, []byte("exim "))) {
			return true
		}
	}
	return false
}

// Read reads a main log into the tracker. loc is the zone of stamps that
// carry none (Exim writes local time unless log_timezone is set).
func Read(ctx context.Context, r io.Reader, name string, loc *time.Location, t *lifecycle.Tracker) (Stats, error) {
	var st Stats
	if loc == nil {
		loc = time.UTC
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	roll := &syslogstamp.Rollover{Location: loc}
	for sc.Scan() {
		st.Lines++
		if st.Lines%4096 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		st.line(sc.Text(), name, roll, t)
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("%s: line %d: %w", name, st.Lines+1, err)
	}
	return st, nil
}

// line reads one line; roll settles its stamp, when it names no zone, in
// the hour repeated when clocks go back (Exim logs local time).
func (st *Stats) line(text, name string, roll *syslogstamp.Rollover, t *lifecycle.Tracker) {
	m := line.FindStringSubmatch(text)
	if m == nil {
		if strings.TrimSpace(text) != "" {
			st.Bad++
			if len(st.Samples) < 5 {
				st.Samples = append(st.Samples, fmt.Sprintf("%s: line %d: not an Exim log line: %.80q", name, st.Lines, text))
			}
		}
		return
	}
	at, err := stamp(m[1], m[2], roll.Location)
	if err != nil {
		st.Bad++
		return
	}
	if m[2] == "" {
		st.Zoneless++
		at = roll.Settle(at)
	}
	id, rest := m[3], m[4]
	if id == "" {
		st.Other++
		return
	}
	flag, body, _ := strings.Cut(rest, " ")
	base := lifecycle.Record{Time: at, Source: "exim", Host: "exim", Key: id}
	switch flag {
	case "<=":
		st.arrival(&base, body, t)
	case "=>", "->", ">>", "*>":
		st.delivery(&base, body, mailtriage.Delivered, t)
	case "**":
		st.delivery(&base, body, mailtriage.Bounced, t)
	case "==":
		st.delivery(&base, body, mailtriage.Deferred, t)
	default:
		if !strings.HasPrefix(rest, "removed by ") {
			st.Other++ // Completed, frozen, H=... connection lines
			return
		}
		// An administrator removed the message (exim -Mrm): its
		// recipients with no outcome are deleted.
		base.Status = mailtriage.Deleted
		t.End(&base)
	}
	st.Used++
	if st.First.IsZero() || at.Before(st.First) {
		st.First = at
	}
	if at.After(st.Last) {
		st.Last = at
	}
}

// FirstStamp returns the time of the first line of head (the start of a
// main log) that carries Exim's stamp, its zone read as Read reads it: the
// order of rotated files is the order of their first lines.
func FirstStamp(head []byte, loc *time.Location) (time.Time, bool) {
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
		// Not a line cut by the end of the head: cut in its zone, it
		// would read as local time.
		head = head[:i]
	}
	for len(head) > 0 {
		var text []byte
		text, head, _ = bytes.Cut(head, []byte("\n"))
		if m := line.FindSubmatch(text); m != nil {
			if t, err := stamp(string(m[1]), string(m[2]), loc); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func stamp(s, zone string, loc *time.Location) (time.Time, error) {
	if zone != "" {
		t, err := time.Parse("2006-01-02 15:04:05 -0700", s+" "+zone)
		return t.UTC(), err
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	return t.UTC(), err
}

// arrival reads "<= sender H=... P=... S=... id=..." (the sender "<>" is
// the null sender; "R=id" names the message a bounce reports on).
func (st *Stats) arrival(r *lifecycle.Record, body string, t *lifecycle.Tracker) {
	sender, fields, _ := strings.Cut(body, " ")
	if sender == "<>" {
		sender, r.NullSender = "", true
	}
	r.Sender, r.Queued = sender, r.Time
	f := parseFields(fields)
	r.MessageID = strings.Trim(f["id"], "<>")
	t.Queued(r, sender == "" && f["R"] != "")
}

// delivery reads "ADDRESS [<orig>] R=router T=transport [defer (N)]
// [H=host [ip]] ...: text" for =>, **, == lines.
func (st *Stats) delivery(r *lifecycle.Record, body string, status mailtriage.Status, t *lifecycle.Tracker) {
	addr, fields, _ := strings.Cut(body, " ")
	pipeOrFile := strings.HasPrefix(addr, "|") || strings.HasPrefix(addr, "/")
	if addr == ":blackhole:" && status == mailtriage.Delivered {
		// "=> :blackhole: <addr> R=router": a redirection to nowhere,
		// logged as a delivery; nothing was sent.
		status = mailtriage.Discarded
	}
	if !strings.Contains(addr, "@") {
		// A pipe, a file or a local part: the address the message was
		// for follows in <...>.
		if a, rest, ok := original(fields); ok {
			addr, fields = a, rest
		}
	}
	var head, text string
	if a, ok := strings.CutSuffix(addr, ":"); ok {
		// "** bob@yahoo.com: retry timeout exceeded": no fields.
		addr, text = a, strings.TrimSpace(fields)
	} else {
		head, text = splitText(fields)
	}
	r.Recipient = strings.Trim(addr, "<>")
	r.Status = status
	f := parseFields(head)
	r.RemoteHost, r.RemoteIP = hostOf(f["H"])
	if (status == mailtriage.Delivered || status == mailtriage.Discarded) && f["H"] == "" {
		// No host: a local delivery (a pipe, appendfile, Dovecot on
		// this host), not an attempt.
		r.NoTry = true
	}
	local := f["H"] == "" && (pipeOrFile || localTransport(f["T"]))
	if status == mailtriage.Bounced && local {
		// A local transport that failed (a pipe, appendfile over
		// quota): Exim's own failure, a final bounce with no attempt.
		r.NoTry = true
	}
	if status == mailtriage.Deferred && local {
		// A local transport that deferred (a mailbox over quota): no
		// try at a receiver, a local deferral.
		r.Local = true
	}
	if i := f["I"]; i != "" {
		// "[203.0.113.25]:54321", the outgoing interface and port.
		if _, rest, ok := strings.Cut(i, "["); ok {
			i, _, _ = strings.Cut(rest, "]")
		}
		r.LocalIP = i
	}
	switch status {
	case mailtriage.Delivered:
		if c := f["C"]; c != "" {
			r.Detail = smtpreply.Detail{Kind: smtpreply.Said, Reply: smtpreply.Parse(c), Text: c, Host: r.RemoteHost, IP: r.RemoteIP}
		}
	default:
		r.Detail = detail(text, r.RemoteHost, r.RemoteIP)
		if r.RemoteHost == "" && r.RemoteIP == "" {
			// Older Exim releases named the host in the text.
			r.RemoteHost, r.RemoteIP = r.Detail.Host, r.Detail.IP
		}
		low := strings.ToLower(text)
		switch {
		case status == mailtriage.Bounced && (strings.Contains(low, "after a long failure period") || strings.Contains(low, "have been failing for a long time")):
			// The message outlived its retry rule while every host
			// failed (smtp.c fails it without a try): a queue timeout.
			r.Status = mailtriage.Expired
		case strings.Contains(low, "retry time not reached"), strings.Contains(low, "matches queue_smtp_domains"):
			// Exim did not try: no host was due, or the domain is
			// held for a later queue run (queue_smtp_domains, -odqs).
			r.Local = true
		case strings.Contains(low, "retry timeout exceeded"):
			r.Status = mailtriage.Expired
		}
	}
	t.Add(r)
}

// localTransport says whether a transport named by T= delivers on this
// host: any but an SMTP one (remote_smtp, dkim_remote_smtp, ...).
func localTransport(t string) bool {
	return t != "" && !strings.Contains(strings.ToLower(t), "smtp")
}

// original finds the "<address>" that Exim logs after a pipe, a file or
// a local part, before the fields: "|/usr/bin/x arg (a@b) <a@b> R=...".
// rest is what follows it.
func original(s string) (addr, rest string, ok bool) {
	end := len(s)
	if m := firstField.FindStringIndex(s); m != nil {
		end = m[0]
	}
	i := strings.LastIndexByte(s[:end], '<')
	if i < 0 {
		return "", s, false
	}
	j := strings.IndexByte(s[i:end], '>')
	if j < 0 || !strings.Contains(s[i:i+j], "@") {
		return "", s, false
	}
	return s[i+1 : i+j], s[i+j+1:], true
}

// firstField is where the fields of a delivery line begin.
var firstField = regexp.MustCompile(`(?:^| )[A-Z][A-Za-z]*=`)

// splitText separates the fields from the free text after ": " that
// ends a failure line; field values in quotes may hold ": ".
func splitText(s string) (fields, text string) {
	inQuote := false
	for i := 0; i < len(s)-1; i++ {
		switch {
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && s[i] == ':' && s[i+1] == ' ':
			return s[:i], strings.TrimSpace(s[i+2:])
		}
	}
	return s, ""
}

// parseFields reads "K=value" fields; H= takes "host [ip]" and a quoted
// value ends at its closing quote.
func parseFields(s string) map[string]string {
	f := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexByte(s, ' ')
		if eq < 0 || (sp >= 0 && sp < eq) {
			// A word without "=" ("defer (-45)", "<orig@addr>").
			if sp < 0 {
				break
			}
			s = s[sp+1:]
			continue
		}
		key, rest := s[:eq], s[eq+1:]
		var val string
		switch {
		case strings.HasPrefix(rest, `"`):
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				val, rest = rest[1:], ""
			} else {
				val, rest = rest[1:end+1], rest[end+2:]
			}
		default:
			val, rest, _ = strings.Cut(rest, " ")
			if key == "H" || key == "I" {
				// "host [ip]" or "host [ip]:port"
				if strings.HasPrefix(rest, "[") {
					ip, more, _ := strings.Cut(rest, " ")
					val, rest = val+" "+ip, more
				}
			}
		}
		f[key] = val
		s = rest
	}
	return f
}

// hostOf reads "mx01.mail.icloud.com [17.57.154.6]" (a "*" after the
// address marks a reused connection).
func hostOf(h string) (host, ip string) {
	host, rest, ok := strings.Cut(h, " [")
	if ok {
		ip, _, _ = strings.Cut(rest, "]")
	}
	return host, ip
}

// detail decodes a failure text: "SMTP error from remote mail server
// after RCPT TO:<x>: 550 5.1.1 ..." is a server's reply to a command;
// anything else is Exim's own text (a connection that failed, a timeout).
// Older Exim releases logged the server in the text rather than in H=:
// "after RCPT TO:<x>: host mx.example.com [192.0.2.1]: 550 ...".
func detail(text, host, ip string) smtpreply.Detail {
	d := smtpreply.Detail{Text: text, Host: host, IP: ip, Kind: smtpreply.Local}
	const prefix = "SMTP error from remote mail server after "
	if rest, ok := strings.CutPrefix(text, prefix); ok {
		cmd, reply := cutCommand(rest)
		d.Kind, d.Command, d.Reply = smtpreply.Said, cmd, smtpreply.Parse(reply)
		if host == "" && ip == "" {
			d.Host, d.IP = hostInText(rest[:len(rest)-len(reply)])
		}
		return d
	}
	low := strings.ToLower(text)
	switch {
	case strings.Contains(low, "connection refused"), strings.Contains(low, "connection timed out"), strings.Contains(low, "network is unreachable"):
		d.Kind = smtpreply.ConnectFailed
	case strings.Contains(low, "timeout"):
		d.Kind = smtpreply.TimedOut
	case strings.Contains(low, "all relevant mx records point to non-existent hosts"), strings.Contains(low, "unrouteable address"):
		d.Kind = smtpreply.NameService
	}
	if r := smtpreply.Parse(text); r.Code != 0 {
		d.Reply = r
	}
	return d
}

// hostInText finds the "host NAME [IP]" of an older Exim's failure text
// in what precedes the reply: "RCPT TO:<x>: host NAME [IP]: ".
func hostInText(s string) (host, ip string) {
	i := strings.LastIndex(s, ": host ")
	if i < 0 {
		return "", ""
	}
	h := strings.TrimSuffix(strings.TrimSpace(s[i+len(": host "):]), ":")
	if !strings.HasSuffix(h, "]") {
		return "", ""
	}
	host, ip = hostOf(" " + h) // "[IP]" alone: no name
	return strings.TrimSpace(host), ip
}

// cutCommand splits "RCPT TO:<x@y>: 550 ..." into the command and the
// reply: the reply starts at the first ": " followed by a reply code.
func cutCommand(s string) (cmd, reply string) {
	for i := 0; i+5 <= len(s); i++ {
		if s[i] == ':' && s[i+1] == ' ' && isDigit(s[i+2]) && isDigit(s[i+3]) && isDigit(s[i+4]) {
			c, _, _ := strings.Cut(s[:i], ":")
			return strings.TrimSpace(c), s[i+2:]
		}
	}
	return "", s
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
