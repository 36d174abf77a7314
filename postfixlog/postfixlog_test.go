package postfixlog

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/syslogstamp"
	"go.yaml.in/yaml/v3"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name                                      string
		line                                      string
		time                                      string
		host, syslog, program, qid                string
		kind                                      Kind
		rcpt, relayHost, relayIP, status, dsn, tl string
		reason                                    string
		connUse                                   int
	}{
		{
			name: "RFC 3339 stamp (rsyslog, Debian 12), long queue id, amavis service, orig_to",
			line: "2023-03-14T00:08:35.948047+01:00 helga postfix/amavis/smtp[302609]: 4PbC4x469Jz3tBr: to=<user01.test@uhu-banane.net>, orig_to=<frank@brehm-berlin.de>, relay=127.0.0.1[127.0.0.1]:10024, delay=2.4, delays=0.29/0.02/0.01/2.1, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3)",
			time: "2023-03-13T23:08:35.948047Z", host: "helga", syslog: "postfix/amavis", program: "smtp", qid: "4PbC4x469Jz3tBr",
			kind: Delivery, rcpt: "user01.test@uhu-banane.net", relayHost: "127.0.0.1", relayIP: "127.0.0.1", status: "sent", dsn: "2.0.0",
			reason: "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3",
		},
		{
			name: "traditional stamp, instance syslog name, conn_use, Postfix 3.11 tls=",
			line: "Mar 10 15:10:41 mta1 postfix-out/smtp[50117]: 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, conn_use=3, delay=4110, delays=4108/0.02/0.8/1.1, tls=may, dsn=2.0.0, status=sent (250 2.0.0 OK)",
			time: "2026-03-10T15:10:41Z", host: "mta1", syslog: "postfix-out", program: "smtp", qid: "4F1A22C0B3",
			kind: Delivery, rcpt: "jane@icloud.com", relayHost: "mx01.mail.icloud.com", relayIP: "17.57.154.6", status: "sent", dsn: "2.0.0", tl: "may",
			reason: "250 2.0.0 OK", connUse: 3,
		},
		{
			name: "space-padded day, submission service",
			line: "Nov  1 09:00:00 mx postfix/submission/smtpd[1234]: 5B77C1D0A2: client=app.example.net[198.51.100.7], sasl_method=PLAIN, sasl_username=app",
			time: "2026-11-01T09:00:00Z", host: "mx", syslog: "postfix/submission", program: "smtpd", qid: "5B77C1D0A2", kind: Client,
		},
		{
			name: "qmgr expiry",
			line: "2026-11-30T10:00:00Z mta1 postfix/qmgr[1201]: 6C0A91E2B4: from=<alerts@bank.example.org>, status=expired, returned to sender",
			time: "2026-11-30T10:00:00Z", host: "mta1", syslog: "postfix", program: "qmgr", qid: "6C0A91E2B4", kind: Expired, status: "expired",
		},
		{
			name: "the queue manager defers a recipient itself",
			line: "2026-11-30T10:00:00Z mta1 postfix/qmgr[1201]: 6C0A91E2B4: to=<j@icloud.com>, relay=none, delay=0.2, delays=0.2/0/0/0, dsn=4.3.0, status=deferred (mail transport unavailable)",
			time: "2026-11-30T10:00:00Z", host: "mta1", syslog: "postfix", program: "qmgr", qid: "6C0A91E2B4", kind: Delivery,
			rcpt: "j@icloud.com", relayHost: "none", status: "deferred", dsn: "4.3.0", reason: "mail transport unavailable",
		},
		{
			name: "cleanup's header_checks reject the whole message before it is queued",
			line: "2026-12-01T13:02:00.010000+00:00 mx1 postfix/cleanup[1002]: 92A3B4C5D6: reject: header Subject: FREE MONEY from app1.example.net[198.51.100.10]; from=<news@example.net> to=<uma@gmail.com> proto=ESMTP helo=<app1.example.net>: 5.7.1 message content rejected",
			time: "2026-12-01T13:02:00.01Z", host: "mx1", syslog: "postfix", program: "cleanup", qid: "92A3B4C5D6", kind: Refused,
		},
		{
			name: "a milter rejects the whole message at its end",
			line: "2026-12-01T13:01:01.100000+00:00 mx1 postfix/cleanup[1002]: 8192A3B4C5: milter-reject: END-OF-MESSAGE from mail-wr1-f54.google.com[209.85.221.54]: 5.7.1 Rejected by spam filter; from=<pat@gmail.com> to=<tina@example.net> proto=ESMTP helo=<mail-wr1-f54.google.com>",
			time: "2026-12-01T13:01:01.1Z", host: "mx1", syslog: "postfix", program: "cleanup", qid: "8192A3B4C5", kind: Refused,
		},
		{
			name: "header_checks discard the whole message",
			line: "2026-12-01T13:02:00Z mx1 postfix/cleanup[1002]: 92A3B4C5D6: discard: header Subject: test from app1.example.net[198.51.100.10]; from=<news@example.net> to=<uma@gmail.com> proto=ESMTP helo=<app1.example.net>: dropped",
			time: "2026-12-01T13:02:00Z", host: "mx1", syslog: "postfix", program: "cleanup", qid: "92A3B4C5D6", kind: Refused,
		},
		{
			name: "smtpd's DATA restrictions reject the whole message",
			line: "2026-12-01T13:02:00Z mx1 postfix/smtpd[1031]: 92A3B4C5D6: reject: DATA from unknown[203.0.113.50]: 554 5.5.1 Error: no valid recipients; from=<a@bad.example> to=<b@example.net> proto=ESMTP helo=<bad.example>",
			time: "2026-12-01T13:02:00Z", host: "mx1", syslog: "postfix", program: "smtpd", qid: "92A3B4C5D6", kind: Refused,
		},
		{
			name: "a reject at RCPT refuses one recipient, not the message",
			line: "2026-12-01T13:01:00.500000+00:00 mx1 postfix/smtpd[1031]: 8192A3B4C5: reject: RCPT from mail-wr1-f54.google.com[209.85.221.54]: 550 5.1.1 <nosuch@example.net>: Recipient address rejected: User unknown in virtual mailbox table; from=<pat@gmail.com> to=<nosuch@example.net> proto=ESMTP helo=<mail-wr1-f54.google.com>",
			time: "2026-12-01T13:01:00.5Z", host: "mx1", syslog: "postfix", program: "smtpd", qid: "8192A3B4C5", kind: Other,
		},
		{
			name: "no pid",
			line: "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr: 6C0A91E2B4: removed",
			time: "2026-11-30T10:00:00Z", host: "mta1", syslog: "postfix", program: "qmgr", qid: "6C0A91E2B4", kind: Removed,
		},
		{
			// Solaris and illumos syslogd tags each message with its
			// message id; the line is logwatch's postfix script sample
			// (scripts/services/postfix, "Aug 17 15:16:12 mailhost ...").
			name: "Solaris syslog message id after the tag",
			line: "Aug 17 15:16:12 mailhost postfix/cleanup[14194]: [ID 197553 mail.info] EC2B339E5: message-id=<2616.EC2B339E5@example.com>",
			time: "2026-08-17T15:16:12Z", host: "mailhost", syslog: "postfix", program: "cleanup", qid: "EC2B339E5", kind: MessageID,
		},
		{
			name: "Solaris syslog message id before a delivery line",
			line: "Aug 17 15:16:13 mailhost postfix/smtp[14195]: [ID 197553 mail.info] EC2B339E5: to=<c@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 unknown (in reply to RCPT TO command))",
			time: "2026-08-17T15:16:13Z", host: "mailhost", syslog: "postfix", program: "smtp", qid: "EC2B339E5", kind: Delivery,
			rcpt: "c@example.com", relayHost: "mx.example.com", relayIP: "192.0.2.1", status: "bounced", dsn: "5.1.1",
			reason: "host mx.example.com[192.0.2.1] said: 550 5.1.1 unknown (in reply to RCPT TO command)",
		},
		{
			// FreeBSD syslogd -v writes the facility and level before the
			// host (logwatch: "Jul  1 20:08:06 <mail.info> mailhost ...").
			name: "FreeBSD syslogd -v facility and level before the host",
			line: "Jul  1 20:08:06 <mail.info> mailhost postfix/smtpd[4379]: 5B77C1D0A2: client=unknown[10.0.0.1]",
			time: "2026-07-01T20:08:06Z", host: "mailhost", syslog: "postfix", program: "smtpd", qid: "5B77C1D0A2", kind: Client,
		},
		{
			// journalctl -o short-unix: seconds and microseconds since
			// the epoch (systemd src/shared/logs-show.c, "%10llu.%06llu").
			name: "journalctl -o short-unix",
			line: "1795540801.123456 mx postfix/smtp[4]: AB12CD34EF: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)",
			time: "2026-11-24T17:20:01.123456Z", host: "mx", syslog: "postfix", program: "smtp", qid: "AB12CD34EF", kind: Delivery,
			rcpt: "j@icloud.com", relayHost: "mx01.mail.icloud.com", relayIP: "17.57.154.6", status: "sent", dsn: "2.0.0", reason: "250 2.0.0 OK",
		},
		{
			// RFC 5424 section 6: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME
			// PROCID MSGID STRUCTURED-DATA MSG, as syslog-ng's
			// flags(syslog-protocol) and rsyslog's
			// RSYSLOG_SyslogProtocol23Format write it.
			name: "RFC 5424, no structured data",
			line: "<22>1 2026-11-30T10:00:01.123456+01:00 mta1 postfix/smtp 48211 - - 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1.9, delays=0.04/0.01/0.9/0.95, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command))",
			time: "2026-11-30T09:00:01.123456Z", host: "mta1", syslog: "postfix", program: "smtp", qid: "4F1A22C0B3", kind: Delivery,
			rcpt: "jane@icloud.com", relayHost: "mx01.mail.icloud.com", relayIP: "17.57.154.6", status: "deferred", dsn: "4.7.0",
			reason: "host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command)",
		},
		{
			// RFC 5424 section 6.3.5: two elements, an escaped ']' in a
			// value, and the BOM a UTF-8 MSG may start with (6.4).
			name: "RFC 5424, structured data and BOM",
			line: "<22>1 2026-11-30T10:00:02Z mta1 postfix-out/submission/smtpd 812 - [meta sequenceId=\"7\"][origin x=\"a\\]b\"] \xef\xbb\xbf6C0A91E2B4: client=app1.example.net[10.0.0.5]",
			time: "2026-11-30T10:00:02Z", host: "mta1", syslog: "postfix-out/submission", program: "smtpd", qid: "6C0A91E2B4", kind: Client,
		},
		{
			// A collector that writes what came over the network keeps
			// the priority before a traditional line.
			name: "traditional line behind its priority",
			line: "<22>Nov 30 10:00:03 mta1 postfix/qmgr[1201]: 6C0A91E2B4: removed",
			time: "2026-11-30T10:00:03Z", host: "mta1", syslog: "postfix", program: "qmgr", qid: "6C0A91E2B4", kind: Removed,
		},
		{
			name: "warning has no queue id",
			line: "2026-11-30T10:00:00Z mta1 postfix/smtp[99]: warning: problem talking to service private/scache: Connection timed out",
			time: "2026-11-30T10:00:00Z", host: "mta1", syslog: "postfix", program: "smtp", kind: Other,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &syslogstamp.Clock{Year: 2026}
			var rec Record
			if err := Parse(c, []byte(tt.line), &rec); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want, _ := time.Parse(time.RFC3339Nano, tt.time)
			if !rec.Time.Equal(want) {
				t.Errorf("time = %v, want %v", rec.Time, want)
			}
			check := func(field, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			check("host", string(rec.Host), tt.host)
			check("syslog", string(rec.Syslog), tt.syslog)
			check("program", string(rec.Program), tt.program)
			check("queue id", string(rec.QueueID), tt.qid)
			check("recipient", string(rec.Recipient), tt.rcpt)
			check("relay host", string(rec.RelayHost), tt.relayHost)
			check("relay ip", string(rec.RelayIP), tt.relayIP)
			check("status", string(rec.Status), tt.status)
			check("dsn", string(rec.DSN), tt.dsn)
			check("tls", string(rec.TLS), tt.tl)
			check("reason", string(rec.Reason), tt.reason)
			if rec.Kind != tt.kind {
				t.Errorf("kind = %v, want %v", rec.Kind, tt.kind)
			}
			if rec.ConnUse != tt.connUse {
				t.Errorf("conn_use = %d, want %d", rec.ConnUse, tt.connUse)
			}
		})
	}
}

// TestQueueID: short ids are upper-case hexadecimal; long ids
// (enable_long_queue_ids) are ten or more characters of time in a safe
// alphabet without vowels, a 'z', and the inode (global/mail_queue.h).
func TestQueueID(t *testing.T) {
	for _, tt := range []struct {
		text, id string
	}{
		{"4F1A22C0B3: removed", "4F1A22C0B3"},
		{"ABCDE: removed", "ABCDE"},
		{"NOQUEUE: reject: RCPT from x", "NOQUEUE"},
		{"4PbC4x469Jz3tBr: removed", "4PbC4x469Jz3tBr"},
		// no capital letter, or no lower-case one but the separator: the
		// alphabet makes both possible
		{"4pbc4x469jz3tbr: removed", "4pbc4x469jz3tbr"},
		{"4PBC4X469JzBTR: removed", "4PBC4X469JzBTR"},
		{"4PbC4x469J3tBr: removed", ""},    // no separator
		{"4PbCz469J3tBr: removed", ""},     // separator inside the time
		{"4PbC4x469J3tBrz: removed", ""},   // no inode after it
		{"Deleted: 3 messages", ""},        // postsuper
		{"statistics: max connection", ""}, // anvil
		{"4PbC4x469Jz3tBo: removed", ""},   // a vowel
		{"connect from x[192.0.2.1]", ""},
	} {
		id, _, ok := queueID([]byte(tt.text))
		if string(id) != tt.id || ok != (tt.id != "") {
			t.Errorf("queueID(%q) = %q, %v; want %q", tt.text, id, ok, tt.id)
		}
	}
}

func TestParseRejects(t *testing.T) {
	c := &syslogstamp.Clock{Year: 2026}
	var rec Record
	for _, tt := range []struct {
		line string
		want error
	}{
		{"", ErrNotSyslog},
		{"garbage without a stamp", ErrNotSyslog},
		{"2026-11-30T10:00:00Z host", ErrNotSyslog},
		{"2026-11-30T10:00:00Z mta1 dovecot: imap-login: Login: user=<a>", ErrNotPostfix},
		{"Jul 19 13:28:35 vs184010 sm-mta[11380]: m6JDSZoG011380: from=<monit@blindgaenger.net>, size=553", ErrNotPostfix},
		{"2026-11-30T10:00:00Z mta1 amavis/foo[1]: bar", ErrNotPostfix},
		{"<22>1 - mta1 postfix/qmgr 1 - - 6C0A91E2B4: removed", ErrNotSyslog}, // no time: RFC 5424's NILVALUE
		{"<22>1 2026-11-30T10:00:00Z mta1 postfix/qmgr 1 - [unterminated 6C0A91E2B4: removed", ErrNotSyslog},
		{"<22>1 2026-11-30T10:00:00Z mta1 dovecot 1 - - imap-login: Login", ErrNotPostfix},
		{"<2222>Nov 30 10:00:03 mta1 postfix/qmgr[1]: 6C0A91E2B4: removed", ErrNotSyslog},
		{"<mail.info> mta1 postfix/qmgr[1]: 6C0A91E2B4: removed", ErrNotSyslog},
	} {
		if err := Parse(c, []byte(tt.line), &rec); err != tt.want {
			t.Errorf("Parse(%q) = %v, want %v", tt.line, err, tt.want)
		}
	}
}

// TestCorpus runs the message parts of whyscream/postfix-grok-patterns'
// test cases (testdata/grok-patterns, BSD-3-Clause) and compares
// the fields both parsers extract.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/grok-patterns/*.yaml")
	if len(files) == 0 {
		t.Fatal("corpus testdata/grok-patterns is missing")
	}
	programOf := map[string]string{
		"SMTP": "smtp", "LMTP": "lmtp", "LOCAL": "local", "PIPE": "pipe", "VIRTUAL": "virtual", "ERROR": "error",
		"QMGR": "qmgr", "CLEANUP": "cleanup", "SMTPD": "smtpd", "BOUNCE": "bounce", "PICKUP": "pickup",
		"POSTSUPER": "postsuper", "DISCARD": "discard",
	}
	pat := regexp.MustCompile(`%\{POSTFIX_([A-Z_]+)\}`)
	checked := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Pattern string            `yaml:"pattern"`
			Data    string            `yaml:"data"`
			Results map[string]string `yaml:"results"`
		}
		if err := yaml.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m := pat.FindStringSubmatch(c.Pattern)
		program, ok := programOf[m[1]]
		if !ok {
			continue
		}
		name := filepath.Base(f)
		var rec Record
		ParseText([]byte(program), []byte(c.Data), &rec)
		r := c.Results
		want := func(field, got, key string) {
			t.Helper()
			if v, ok := r[key]; ok && got != v {
				t.Errorf("%s: %s = %q, corpus %s = %q", name, field, got, key, v)
			}
		}
		if _, ok := r["postfix_queueid"]; !ok && len(rec.QueueID) > 0 && !strings.HasPrefix(c.Data, string(rec.QueueID)+": ") {
			t.Errorf("%s: found queue id %q where the corpus has none", name, rec.QueueID)
		}
		want("queue id", string(rec.QueueID), "postfix_queueid")
		want("status", string(rec.Status), "postfix_status")
		for _, k := range []string{"postfix_smtp_response", "postfix_error_response", "postfix_local_response", "postfix_pipe_response"} {
			if rec.Kind == Delivery {
				want("reason", string(rec.Reason), k)
			}
		}
		want("message-id", string(rec.MsgID), "postfix_message-id")
		want("notification id", string(rec.NewID), "postfix_bounce_queueid")
		if kv, ok := r["postfix_keyvalue_data"]; ok && rec.Kind == Delivery {
			if i := strings.Index(kv, "to=<"); i >= 0 {
				to := kv[i+4:]
				to = to[:strings.IndexByte(to, '>')]
				if string(rec.Recipient) != to {
					t.Errorf("%s: recipient = %q, corpus %q", name, rec.Recipient, to)
				}
			}
			if strings.Contains(kv, "relay=") && len(rec.Relay) == 0 {
				t.Errorf("%s: no relay parsed from %q", name, kv)
			}
		}
		checked++
	}
	t.Logf("%d corpus cases checked", checked)
	if checked < 40 {
		t.Errorf("only %d corpus cases checked", checked)
	}
}

// TestZoneless: which stamps leave the zone to the Clock (RFC 3339
// section 5.6 makes the offset mandatory; rsyslog and others omit it).
func TestZoneless(t *testing.T) {
	c := &syslogstamp.Clock{Year: 2026}
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"Nov 30 10:00:01 mx", true},
		{"2026-11-30T10:00:01 mx", true},
		{"2026-11-30T10:00:01.123456 mx", true},
		{"2026-11-30 10:00:01 mx", true},
		{"2026-11-30T10:00:01Z mx", false},
		{"2026-11-30T10:00:01.5+01:00 mx", false},
		{"2026-11-30T10:00:01-0500 mx", false},
		{"2026-11-30T10:00:02 mx", true}, // the same minute as the line before, without its zone
		{"1795540801.123456 mx", false},
	} {
		_, _, ok := c.Parse([]byte(tc.line))
		if !ok {
			t.Fatalf("%s: not a stamp", tc.line)
		}
		if got := c.Zoneless(); got != tc.want {
			t.Errorf("%s: Zoneless = %v, want %v", tc.line, got, tc.want)
		}
		var rec Record
		if Parse(c, []byte(tc.line+" postfix/qmgr[1]: 4F1A22C0B3: removed"), &rec); rec.Zoneless != tc.want {
			t.Errorf("%s: Record.Zoneless = %v, want %v", tc.line, rec.Zoneless, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2023-03-14T00:08:35.948047+01:00 helga postfix/amavis/smtp[302609]: 4PbC4x469Jz3tBr: to=<a@b>, relay=x[1.2.3.4]:25, delay=2.4, delays=0.29/0.02/0.01/2.1, dsn=2.0.0, status=sent (250 ok)",
		"Mar 10 14:02:11 mta1 postfix/qmgr[1201]: 4F1A22C0B3: from=<news@shop.example.net>, size=48213, nrcpt=1 (queue active)",
		"Mar 10 14:02:11 mta1 postfix/bounce[1]: 4F1A22C0B3: sender non-delivery notification: 5B77C1D0F1",
		"Mar 10 14:02:11 mta1 postfix/smtpd[1]: 4F1A22C0B3: client=x[1.2.3.4]",
		"Mar 10 14:02:11 mta1 postfix/cleanup[1]: 4F1A22C0B3: message-id=<a@b>",
		"Mar 10 14:02:11 mta1 postfix/smtp[1]: 4F1A22C0B3: to=<\"a, b\"@c>, status=",
		"Mar 10 14:02:11 h postfix/smtp[1]: ABCDE:", "9999-99-99T99:99:99", "Jan 99 99:99:99 x",
		"<22>1 2026-11-30T10:00:02Z mta1 postfix/smtpd 812 - [a b=\"\\]\"][c] 6C0A91E2B4: client=x[1.2.3.4]",
		"<22>Nov 30 10:00:03 mta1 postfix/qmgr[1201]: 6C0A91E2B4: removed", "<1>1 ", "<>",
		"1795540801.123456 mx postfix/smtp[4]: AB12CD34EF: to=<a@b>, status=sent (ok)", "99999999999.9 x", "[ 1234.567890] mx",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var rec Record
		c := &syslogstamp.Clock{Year: 2026}
		_ = Parse(c, []byte(s), &rec)
		_ = syslogstamp.Monotonic([]byte(s))
	})
}

func BenchmarkParse(b *testing.B) {
	lines := [][]byte{
		[]byte("2026-11-30T10:00:12.418+00:00 mta1 postfix/smtp[48211]: 4F1A22C0B3: to=<jane@icloud.com>, relay=mx02.mail.icloud.com[17.57.155.9]:25, delay=1.9, delays=0.04/0.01/0.9/0.95, dsn=4.7.0, status=deferred (host mx02.mail.icloud.com[17.57.155.9] said: 421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred. (in reply to MAIL FROM command))"),
		[]byte("2026-11-30T10:00:12.420+00:00 mta1 postfix/qmgr[1201]: 4F1A22C0B3: from=<news@shop.example.net>, size=48213, nrcpt=1 (queue active)"),
		[]byte("Nov 30 10:00:13 mta1 postfix/smtpd[4321]: connect from app1.example.net[10.0.0.5]"),
	}
	total := 0
	for _, l := range lines {
		total += len(l) + 1
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	c := &syslogstamp.Clock{Year: 2026}
	var rec Record
	for b.Loop() {
		for _, l := range lines {
			_ = Parse(c, l, &rec)
		}
	}
}

// TestHeld: a HOLD action's line (cleanup's header and body checks,
// smtpd's access restrictions) names the envelope sender after the text
// that triggered it; the last "; from=<" is the field, whatever a held
// header said.
func TestHeld(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		kind       Kind
		sender     string
	}{
		{"cleanup header_checks", "2026-12-01T13:02:00Z mx1 postfix/cleanup[1002]: 92A3B4C5D6: hold: header Subject: invoice from app1.example.net[198.51.100.10]; from=<billing@example.net> to=<uma@gmail.com> proto=ESMTP helo=<app1.example.net>: review", Held, "billing@example.net"},
		{"a header that spells a from= field", "2026-12-01T13:02:00Z mx1 postfix/cleanup[1002]: 92A3B4C5D6: hold: header Subject: x; from=<forged@evil.example> from app1.example.net[198.51.100.10]; from=<news@example.net> to=<uma@gmail.com> proto=ESMTP helo=<app1.example.net>", Held, "news@example.net"},
		{"smtpd HOLD at RCPT, null sender", "2026-12-01T13:02:00Z mx1 postfix/smtpd[1031]: 92A3B4C5D6: hold: RCPT from unknown[203.0.113.50]: <b@example.net>: Recipient address triggers HOLD action; from=<> to=<b@example.net> proto=ESMTP helo=<bad.example>", Held, ""},
		{"no from= field: not read as held", "2026-12-01T13:02:00Z mx1 postfix/cleanup[1002]: 92A3B4C5D6: hold: header Subject: x from local", Other, ""},
	} {
		var rec Record
		if err := Parse(&syslogstamp.Clock{}, []byte(tc.line), &rec); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if rec.Kind != tc.kind || string(rec.Sender) != tc.sender {
			t.Errorf("%s: kind %v sender %q, want %v %q", tc.name, rec.Kind, rec.Sender, tc.kind, tc.sender)
		}
	}
}

// TestAtoiBounded: a number too long for an int reads as a large positive
// one, never one that wrapped around, on 32-bit platforms too.
func TestAtoiBounded(t *testing.T) {
	for _, s := range []string{"2147483647", "2147483648", "4294967296", "99999999999999999999999999"} {
		if n := atoi([]byte(s)); n <= 0 {
			t.Errorf("atoi(%s) = %d", s, n)
		}
	}
	if n := atoi([]byte("25287")); n != 25287 {
		t.Errorf("atoi(25287) = %d", n)
	}
}
