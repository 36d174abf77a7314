// Package postfixlog parses the lines Postfix writes to syslog or to its own
// maillog_file (MAILLOG_README, Postfix 3.4 and later):
//
//	<stamp> <host> <syslog_name>/<program>[<pid>]: [<queue id>: ]<text>
//
// The stamp, read by package syslogstamp, is traditional ("Nov 30
// 10:00:01", RFC 3164), RFC 3339, or seconds since the epoch
// ("1795540801.123456", journalctl -o short-unix). The
// syslog name may carry an instance and a service ("postfix-out/smtp",
// "postfix/submission/smtpd", "postfix/amavis/smtp"). Queue ids are short
// (hexadecimal) or long (enable_long_queue_ids). What some syslog daemons
// add is skipped: FreeBSD's "<mail.info>" before the host (syslogd -v),
// Solaris' "[ID 197553 mail.info]" after the tag, a "<22>" priority before
// the stamp. Lines in the syslog protocol's own form (RFC 5424, as syslog-ng
// and rsyslog can write them) are read too:
//
//	<PRI>1 <stamp> <host> <syslog_name>/<program> <pid> <msgid> <structured data> <text>
//
// Each program's text is
// decoded into a Record: the per-recipient delivery lines of the delivery
// agents (global/log_adhoc.c: to=, orig_to=, relay=, conn_use=, delay=,
// delays=, tls=, dsn=, status=), the queue manager's from=, expired and
// removed lines, cleanup's message-id=, smtpd's client=, pickup's from=,
// the bounce daemon's notifications, and cleanup's and smtpd's refusals of
// a whole message.
//
// The package is a library: it knows nothing of what the lines mean for a
// deliverability report. Parsing does not allocate; the byte slices of a
// Record alias the line, like bufio.Scanner.Bytes, so copy what you keep.
package postfixlog

import (
	"bytes"
	"errors"
	"math"
	"time"

	"github.com/mailtriage/mailtriage/syslogstamp"
)

// Kind says what a Postfix line records.
type Kind uint8

const (
	// Other is a Postfix line this package does not decode further
	// (warnings, connect and disconnect, TLS notes, statistics).
	Other Kind = iota
	// Delivery is a delivery agent's per-recipient status line.
	Delivery
	// QueueActive is qmgr's "from=<s>, size=N, nrcpt=N (queue active)",
	// logged each time the message enters the active queue.
	QueueActive
	// Expired is qmgr's "from=<s>, status=expired, returned to sender"
	// (also "status=force-expired" after postsuper -e, Postfix 3.5).
	Expired
	// Removed is "removed": the end of the message, from qmgr, or from
	// postsuper when an administrator deleted it.
	Removed
	// MessageID is cleanup's "message-id=<id>".
	MessageID
	// Client is smtpd's "client=name[ip]": the message arrived over SMTP.
	Client
	// Pickup is pickup's "uid=N from=<s>": a local submission.
	Pickup
	// Notification is the bounce daemon's "sender non-delivery
	// notification: NEWID" (also delay, delivery status and postmaster
	// notifications); NewID is the notification's queue id.
	Notification
	// HostSaid is a delivery agent's "host X[ip] said: ..." line without a
	// recipient: the reply of a non-final MX before the next one is tried.
	HostSaid
	// Refused is a reject or discard of the whole message before it was
	// queued: cleanup's header and body checks ("reject: header ..."), a
	// milter's verdict at the end of the message ("milter-reject:
	// END-OF-MESSAGE from ..."), smtpd's DATA and end-of-data restrictions.
	// The queue file is removed and the queue manager never sees it. A
	// refusal at RCPT concerns one recipient and is not one.
	Refused
	// Held is cleanup's or smtpd's "hold: ...; from=<s> to=<r> ...": a
	// HOLD action put the message in the hold queue, where the queue
	// manager does not see it until postsuper -H releases it. Sender is
	// its envelope sender, which no other line names until then.
	Held
)

// Record is one decoded Postfix line. Byte slices alias the parsed line.
type Record struct {
	Time time.Time
	// Traditional is set when the stamp had no year or zone: the Clock
	// supplied them, and a December to January rollover needs Rollover.
	Traditional bool
	// Zoneless is set when the stamp named no zone (a traditional stamp,
	// or RFC 3339 without an offset): the Clock's Location applied.
	Zoneless bool
	Host     []byte // the logging host
	Syslog   []byte // the syslog name before the program: "postfix", "postfix-out/submission"
	Program  []byte // "smtp", "qmgr", "cleanup", ...
	QueueID  []byte // empty when the line has none
	Text     []byte // everything after "<queue id>: " (or after the tag)

	Kind Kind

	// Delivery, QueueActive and Expired lines.
	Sender    []byte // from=<...>, without the brackets; empty for the null sender
	Recipient []byte // to=<...>
	OrigTo    []byte // orig_to=<...>
	Relay     []byte // relay= as written: "mx[ip]:25", "none", "local", "dovecot"
	RelayHost []byte // the name part of relay=
	RelayIP   []byte // the address part of relay= ("private/dovecot-lmtp" for a socket)
	ConnUse   int    // conn_use=N, 0 when absent (first use)
	Delay     float64
	Delays    []byte // delays=a/b/c/d
	TLS       []byte // tls= (Postfix 3.11)
	DSN       []byte // dsn=X.Y.Z
	Status    []byte // sent, deferred, bounced, expired, undeliverable, ...
	Reason    []byte // the text in parentheses after the status

	Size  int64 // QueueActive: size=
	NRcpt int   // QueueActive: nrcpt=

	MsgID []byte // MessageID: the id without brackets

	ClientHost []byte // Client: the connecting client
	ClientIP   []byte

	NotifyKind []byte // Notification: "sender non-delivery", "sender delay", ...
	NewID      []byte // Notification: the notification's queue id
}

// ErrNotSyslog means the line has no timestamp, host and program tag.
var ErrNotSyslog = errors.New("postfixlog: not a syslog line")

// ErrNotPostfix means the line is a syslog line of another program.
var ErrNotPostfix = errors.New("postfixlog: not a postfix line")

// Parse decodes one line (without its newline) into rec, reusing rec's
// storage. Clock turns the stamp into a time and keeps the per-file year.
func Parse(c *syslogstamp.Clock, line []byte, rec *Record) error {
	*rec = Record{}
	t, n, ok := c.Parse(line)
	if !ok {
		if len(line) > 0 && line[0] == '<' {
			return parseWithPRI(c, line, rec)
		}
		return ErrNotSyslog
	}
	rec.setTime(c, t, line[:n])
	return parseTagged(line[n:], rec)
}

// setTime records a line's time and how its stamp, which c has just
// read, gave it.
func (rec *Record) setTime(c *syslogstamp.Clock, t time.Time, stamp []byte) {
	rec.Time = t
	rec.Traditional = syslogstamp.Traditional(stamp)
	rec.Zoneless = c.Zoneless()
}

// parseWithPRI reads a line that keeps the priority syslog sent it with
// (RFC 5424 section 6.2.1, "<22>"): a traditional line behind it, as a
// collector that writes what the network brought keeps it, or an RFC 5424
// line ("<22>1 2026-11-30T10:00:01.123Z host postfix/smtp 1234 - - text"),
// as syslog-ng and rsyslog write with their syslog-protocol formats.
func parseWithPRI(c *syslogstamp.Clock, line []byte, rec *Record) error {
	rest, ok := syslogstamp.CutPRI(line)
	if !ok {
		return ErrNotSyslog
	}
	if bytes.HasPrefix(rest, []byte("1 ")) {
		return parse5424(c, rest[2:], rec)
	}
	t, n, ok := c.Parse(rest)
	if !ok {
		return ErrNotSyslog
	}
	rec.setTime(c, t, rest[:n])
	return parseTagged(rest[n:], rec)
}

// parse5424 reads what follows an RFC 5424 header's version (section 6):
// TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]. Postfix's
// syslog name and program are the APP-NAME ("postfix/smtp"), its pid the
// PROCID; the MSG is the text it logged.
func parse5424(c *syslogstamp.Clock, rest []byte, rec *Record) error {
	t, n, ok := c.Parse(rest)
	if !ok || n >= len(rest) || rest[n] != ' ' {
		return ErrNotSyslog // "-", the NILVALUE, is no time either
	}
	rec.setTime(c, t, rest[:n])
	var header [4][]byte // HOSTNAME APP-NAME PROCID MSGID
	fields := rest[n+1:]
	for i := range header {
		sp := bytes.IndexByte(fields, ' ')
		if sp <= 0 {
			return ErrNotSyslog
		}
		header[i], fields = fields[:sp], fields[sp+1:]
	}
	host, app := header[0], header[1]
	msg, ok := skipStructuredData(fields)
	if !ok {
		return ErrNotSyslog
	}
	msg = bytes.TrimPrefix(msg, []byte("\xef\xbb\xbf")) // the BOM of a UTF-8 MSG
	rec.Host = host
	if !rec.setTag(app) {
		return ErrNotPostfix
	}
	ParseText(rec.Program, msg, rec)
	return nil
}

// skipStructuredData returns the MSG after STRUCTURED-DATA: "-", or
// elements "[id param=\"value\"]" one after the other, in whose values
// '"', '\\' and ']' are escaped with a backslash (RFC 5424 section 6.3.3).
func skipStructuredData(s []byte) ([]byte, bool) {
	switch {
	case len(s) == 0:
		return nil, false
	case s[0] == '-':
		s = s[1:]
	default:
		for len(s) > 0 && s[0] == '[' {
			i := 1
			for i < len(s) && s[i] != ']' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return nil, false
			}
			s = s[i+1:]
		}
	}
	switch {
	case len(s) == 0:
		return s, true // no MSG
	case s[0] != ' ':
		return nil, false
	}
	return s[1:], true
}

// parseTagged reads what follows the stamp: " host tag[pid]: text".
func parseTagged(rest []byte, rec *Record) error {
	if len(rest) == 0 || rest[0] != ' ' {
		return ErrNotSyslog
	}
	rest = rest[1:]
	if len(rest) > 0 && rest[0] == '<' {
		// FreeBSD syslogd -v: "<mail.info> " before the host.
		rest = skipDecoration(rest, '>')
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return ErrNotSyslog
	}
	rec.Host = rest[:sp]
	rest = rest[sp+1:]
	colon := indexPair(rest, ':')
	if colon <= 0 {
		if len(rest) > 0 && rest[len(rest)-1] == ':' {
			colon = len(rest) - 1
		} else {
			return ErrNotSyslog
		}
	}
	tag := rest[:colon]
	if colon+2 <= len(rest) {
		rest = rest[colon+2:]
	} else {
		rest = nil
	}
	if i := bytes.IndexByte(tag, '['); i >= 0 {
		tag = tag[:i]
	}
	if !rec.setTag(tag) {
		return ErrNotPostfix
	}
	if len(rest) > 0 && rest[0] == '[' && bytes.HasPrefix(rest, []byte("[ID ")) {
		// Solaris and illumos syslogd: "[ID 197553 mail.info] " after
		// the tag, a hash of the message format.
		rest = skipDecoration(rest, ']')
	}
	ParseText(rec.Program, rest, rec)
	return nil
}

// setTag splits a tag without its pid, "postfix/smtp" or
// "postfix-out/submission/smtpd", into rec's Syslog and Program at the
// last '/', and reports whether it is Postfix's: the program is one
// Postfix has. Postfix's multi-instance syslog names hold '/' too, so no
// other split would do.
func (rec *Record) setTag(tag []byte) bool {
	slash := bytes.LastIndexByte(tag, '/')
	if slash <= 0 || bytes.IndexByte(tag, ' ') >= 0 {
		return false
	}
	rec.Syslog, rec.Program = tag[:slash], tag[slash+1:]
	return knownProgram(rec.Program)
}

// skipDecoration drops what a syslog daemon adds to the line, from its
// first byte to the closing byte and the space after it ("<mail.info> ",
// "[ID 197553 mail.info] "). Text without them is left as it is.
func skipDecoration(s []byte, closing byte) []byte {
	end := bytes.IndexByte(s, closing)
	if end < 0 || end+1 >= len(s) || s[end+1] != ' ' {
		return s
	}
	return s[end+2:]
}

// knownProgram reports whether p is one of Postfix's daemons and commands
// as they appear in log tags. A switch, because it runs for every line.
func knownProgram(p []byte) bool {
	switch string(p) {
	case "smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard",
		"qmgr", "oqmgr", "cleanup", "smtpd", "pickup", "bounce", "defer", "trace",
		"postscreen", "dnsblog", "anvil", "scache", "tlsmgr", "tlsproxy", "master",
		"postsuper", "postdrop", "postqueue", "sendmail", "postmap", "postalias",
		"postfix-script", "postfix", "trivial-rewrite", "proxymap", "verify", "showq",
		"flush", "spawn", "qmqpd", "postlog", "postlogd", "script", "postconf":
		return true
	}
	return false
}

// ParseText decodes the text of a line logged by program (the part after
// the "program[pid]: " tag) into rec: the queue id and the program's record.
// It is Parse without the syslog prefix, for lines that come from elsewhere.
func ParseText(program, text []byte, rec *Record) {
	if len(rec.Program) == 0 {
		rec.Program = program
	}
	if id, rest, ok := queueID(text); ok {
		rec.QueueID = id
		text = rest
	} else if rest, ok := bytes.CutPrefix(text, []byte("warning: ")); ok {
		// "warning: QUEUEID: ..." concerns one message; it records
		// nothing this package decodes.
		if id, rest, ok := queueID(rest); ok {
			rec.QueueID = id
			rec.Text = rest
		}
		return
	}
	rec.Text = text
	if len(rec.QueueID) == 0 {
		return
	}
	switch string(program) {
	case "smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard":
		switch {
		case bytes.HasPrefix(text, []byte("to=")):
			parseDelivery(text, rec)
		case bytes.HasPrefix(text, []byte("host ")):
			rec.Kind = HostSaid
			rec.Reason = text
		}
	case "qmgr", "oqmgr":
		switch {
		case bytes.Equal(text, []byte("removed")):
			rec.Kind = Removed
		case bytes.HasPrefix(text, []byte("from=")):
			parseQmgrFrom(text, rec)
		case bytes.HasPrefix(text, []byte("to=")):
			// qmgr_defer_recipient: the queue manager defers a recipient
			// itself ("mail transport unavailable", a suspended destination).
			parseDelivery(text, rec)
		}
	case "postsuper":
		if bytes.HasPrefix(text, []byte("removed")) {
			rec.Kind = Removed
		}
	case "cleanup":
		if v, ok := field(text, "message-id="); ok {
			rec.Kind = MessageID
			rec.MsgID = trimAngles(v)
		} else if refusesMessage(text) {
			rec.Kind = Refused
		} else if s, ok := heldSender(text); ok {
			rec.Kind, rec.Sender = Held, s
		}
	case "smtpd":
		if v, ok := field(text, "client="); ok {
			rec.Kind = Client
			rec.ClientHost, rec.ClientIP = splitHostIP(v)
		} else if refusesMessage(text) {
			rec.Kind = Refused
		} else if s, ok := heldSender(text); ok {
			rec.Kind, rec.Sender = Held, s
		}
	case "pickup":
		if v, ok := fieldAnywhere(text, "from="); ok {
			rec.Kind = Pickup
			rec.Sender = trimAngles(v)
		}
	case "bounce":
		if i := bytes.Index(text, []byte(" notification: ")); i > 0 {
			rec.Kind = Notification
			rec.NotifyKind = text[:i]
			rec.NewID = bytes.TrimSpace(text[i+len(" notification: "):])
		}
	}
}

// refusesMessage reports whether text rejects or discards a whole message
// (see Refused): the action (cleanup_act_log in cleanup/cleanup_message.c,
// cleanup/cleanup_milter.c, smtpd/smtpd.c), then the stage it was taken at.
func refusesMessage(text []byte) bool {
	text = bytes.TrimPrefix(text, []byte("milter-"))
	rest, ok := bytes.CutPrefix(text, []byte("reject: "))
	if !ok {
		if rest, ok = bytes.CutPrefix(text, []byte("discard: ")); !ok {
			return false
		}
	}
	for _, stage := range []string{"header ", "body ", "END-OF-MESSAGE ", "DATA ", "BDAT "} {
		if bytes.HasPrefix(rest, []byte(stage)) {
			return true
		}
	}
	return false
}

// heldSender reads the envelope sender of a HOLD action's line (see
// Held). The sender follows the text of what triggered the action
// (cleanup_act_log in cleanup/cleanup_message.c, smtpd's log_whatsup):
// the last "; from=<" is the field, whatever a header held.
func heldSender(text []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(text, []byte("hold: "))
	if !ok {
		return nil, false
	}
	i := bytes.LastIndex(rest, []byte("; from=<"))
	if i < 0 {
		return nil, false
	}
	v := rest[i+len("; from="):]
	end := bytes.IndexByte(v, '>')
	if end < 0 {
		return nil, false
	}
	return v[1:end], true
}

// queueID reads "<id>: " at the start of text. Short ids are upper-case
// hexadecimal; long ids (enable_long_queue_ids) are written in a "safe"
// alphabet of digits and consonants (global/mail_queue.h): the time in ten
// characters or more, a 'z', and the inode number, which has no 'z'.
func queueID(text []byte) (id, rest []byte, ok bool) {
	if bytes.HasPrefix(text, []byte("NOQUEUE: ")) {
		// smtpd and cleanup rejects before a queue file exists.
		return text[:7], text[9:], true
	}
	// One pass collects the classes of the characters (a table lookup
	// each, since this runs for every line), and the id ends at the first
	// character outside them.
	var seen uint8
	i := 0
	for i < len(text) && i < 32 {
		k := idChar[text[i]]
		if k == 0 {
			break
		}
		seen |= k
		i++
	}
	if i+1 >= len(text) || text[i] != ':' || text[i+1] != ' ' {
		if !(i+1 == len(text) && i < len(text) && text[i] == ':') {
			return nil, text, false
		}
	}
	short := seen&^(idDigit|idHex|idVowel) == 0 && i >= 5
	long := seen&idVowel == 0 && longID(text[:i])
	if !short && !long {
		return nil, text, false
	}
	rest = text[i+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return text[:i], rest, true
}

// longID reports whether id, in the characters of a queue id and without
// vowels, has the shape of a long one: its last 'z' (the time-inode
// separator) after at least ten characters of time, with the inode after it.
func longID(id []byte) bool {
	z := bytes.LastIndexByte(id, 'z')
	return z >= 10 && z < len(id)-1
}

// Character classes of queue ids: short ids are upper-case hexadecimal,
// long ones mix digits and letters but no vowels.
const (
	idDigit uint8 = 1 << iota
	idHex         // A-F
	idUpper       // G-Z
	idLower       // a-z
	idVowel       // AEIOU and aeiou, never in a long id
)

var idChar = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = idDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = idUpper
		if c <= 'F' {
			t[c] = idHex
		}
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = idLower
	}
	for _, c := range "AEIOUaeiou" {
		t[c] |= idVowel
	}
	return t
}()

// parseDelivery decodes a delivery agent's status line (global/log_adhoc.c):
//
//	to=<r>, orig_to=<o>, relay=h[ip]:port, conn_use=N, delay=D, delays=a/b/c/d, tls=F, dsn=X.Y.Z, status=S (reason)
func parseDelivery(text []byte, rec *Record) {
	rec.Kind = Delivery
	rest := text
	for len(rest) > 0 {
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 {
			return
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		if string(key) == "status" {
			sp := bytes.IndexByte(rest, ' ')
			if sp < 0 {
				rec.Status = rest
				return
			}
			rec.Status = rest[:sp]
			reason := bytes.TrimSpace(rest[sp+1:])
			if len(reason) >= 2 && reason[0] == '(' && reason[len(reason)-1] == ')' {
				reason = reason[1 : len(reason)-1]
			}
			rec.Reason = reason
			return
		}
		var val []byte
		val, rest = value(rest)
		switch string(key) {
		case "to":
			rec.Recipient = trimAngles(val)
		case "orig_to":
			rec.OrigTo = trimAngles(val)
		case "relay":
			rec.Relay = val
			rec.RelayHost, rec.RelayIP = splitHostIP(val)
		case "conn_use":
			rec.ConnUse = atoi(val)
		case "delay":
			rec.Delay = atof(val)
		case "delays":
			rec.Delays = val
		case "tls":
			rec.TLS = val
		case "dsn":
			rec.DSN = val
		}
	}
}

// parseQmgrFrom decodes "from=<s>, size=N, nrcpt=N (queue active)" and
// "from=<s>, status=expired, returned to sender".
func parseQmgrFrom(text []byte, rec *Record) {
	val, rest := value(text[len("from="):])
	rec.Sender = trimAngles(val)
	switch {
	case bytes.HasPrefix(rest, []byte("status=")):
		st, _ := value(rest[len("status="):])
		rec.Status = st
		if bytes.HasSuffix(st, []byte("expired")) {
			rec.Kind = Expired
		}
	case bytes.HasPrefix(rest, []byte("size=")):
		rec.Kind = QueueActive
		v, r := value(rest[len("size="):])
		rec.Size = int64(atoi(v))
		if bytes.HasPrefix(r, []byte("nrcpt=")) {
			v, _ = value(r[len("nrcpt="):])
			if sp := bytes.IndexByte(v, ' '); sp >= 0 {
				v = v[:sp]
			}
			rec.NRcpt = atoi(v)
		}
	}
}

// value reads one field value up to ", " and returns the rest after it. An
// address in angle brackets is read to its closing bracket, so a quoted
// local part may hold ", ".
func value(s []byte) (val, rest []byte) {
	if len(s) > 0 && s[0] == '<' {
		if end := bytes.IndexByte(s, '>'); end >= 0 {
			val = s[:end+1]
			rest = s[end+1:]
			rest = bytes.TrimPrefix(rest, []byte(","))
			rest = bytes.TrimPrefix(rest, []byte(" "))
			return val, rest
		}
	}
	if i := indexPair(s, ','); i >= 0 {
		return s[:i], s[i+2:]
	}
	return bytes.TrimSuffix(s, []byte(",")), nil
}

// indexPair returns the index of the first c followed by a space in s, or
// -1: bytes.Index of a two-byte separator, cheaper where the separator
// comes within a few words, as a field's end or a tag's does.
func indexPair(s []byte, c byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(s[i:], c)
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(s) && s[i] == ' ' {
			return i - 1
		}
	}
}

// field returns the value of "key=" at the start of text.
func field(text []byte, key string) ([]byte, bool) {
	if !bytes.HasPrefix(text, []byte(key)) {
		return nil, false
	}
	v, _ := value(text[len(key):])
	return v, true
}

// fieldAnywhere returns the value of "key=" anywhere in text.
func fieldAnywhere(text []byte, key string) ([]byte, bool) {
	i := bytes.Index(text, []byte(key))
	if i < 0 || (i > 0 && text[i-1] != ' ') {
		return nil, false
	}
	v, _ := value(text[i+len(key):])
	if sp := bytes.IndexByte(v, ' '); sp >= 0 && v[0] != '<' {
		v = v[:sp]
	}
	return v, true
}

func trimAngles(v []byte) []byte {
	if len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>' {
		return v[1 : len(v)-1]
	}
	return v
}

// splitHostIP splits "name[ip]:port" (or "name[ip]") into name and ip. A
// value without brackets ("none", "local") is all name.
func splitHostIP(v []byte) (host, ip []byte) {
	open := bytes.IndexByte(v, '[')
	if open < 0 {
		return v, nil
	}
	end := bytes.IndexByte(v[open:], ']')
	if end < 0 {
		return v, nil
	}
	return v[:open], v[open+1 : open+end]
}

// maxAtoi bounds what atoi reads: past it, the next digit could
// overflow an int of 32 bits.
const maxAtoi = min(1<<40, (math.MaxInt-9)/10)

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		if n > maxAtoi {
			break
		}
	}
	return n
}

func atof(b []byte) float64 {
	var whole, frac float64
	scale := 1.0
	seenDot := false
	for _, c := range b {
		switch {
		case c == '.' && !seenDot:
			seenDot = true
		case c >= '0' && c <= '9':
			if seenDot {
				scale /= 10
				frac += float64(c-'0') * scale
			} else {
				whole = whole*10 + float64(c-'0')
			}
		default:
			return whole + frac
		}
	}
	return whole + frac
}
