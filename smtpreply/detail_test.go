package smtpreply

import "testing"

func TestParseDetail(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		kind      Kind
		suspended bool
		host, ip  string
		command   string
		code      int
		enhanced  string
		summary   string
		answered  bool
	}{
		{
			name: "Postfix smtp_trouble.c: server reply to RCPT TO",
			in:   "host open.example.nl[10.49.140.10] said: 450 4.2.0 <whatever-user@lists.example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/lists.example.org.html (in reply to RCPT TO command)",
			kind: Said, host: "open.example.nl", ip: "10.49.140.10", command: "RCPT TO", code: 450, enhanced: "4.2.0", answered: true,
			summary: "450 4.2.0 <whatever-user@lists.example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/lists.example.org.html",
		},
		{
			name: "reply to end of DATA",
			in:   "host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred. (in reply to end of DATA command)",
			kind: Said, host: "mx01.mail.icloud.com", ip: "17.57.154.6", command: "end of DATA", code: 421, enhanced: "4.7.0", answered: true,
			summary: "421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred.",
		},
		{
			name: "a host without its address, as pasted from a ticket",
			in:   "host mx.comcast.net said: 421 4.7.0 too many connections (in reply to MAIL FROM command)",
			kind: Said, host: "mx.comcast.net", command: "MAIL FROM", code: 421, enhanced: "4.7.0", answered: true,
			summary: "421 4.7.0 too many connections",
		},
		{
			name: "anonymised: a session that timed out, the server without its address",
			in:   "conversation with mail.example.com timed out while sending end of data -- message may be sent more than once",
			kind: TimedOut, host: "mail.example.com", command: "sending end of data -- message may be sent more than once",
			summary: "conversation timed out while sending end of data -- message may be sent more than once",
		},
		{
			name: "anonymised: a lost session, the server without its address",
			in:   "lost connection with mail.example.org while sending MAIL FROM",
			kind: LostConnection, host: "mail.example.org", command: "sending MAIL FROM", summary: "lost connection while sending MAIL FROM",
		},
		{
			name: "anonymised: a failed connection, the server without its address",
			in:   "connect to example.com: Connection refused",
			kind: ConnectFailed, host: "example.com", summary: "Connection refused",
		},
		{
			name: "words of the local MTA that begin with host",
			in:   "host not found",
			kind: Local, summary: "host not found",
		},
		{
			name: "refused at the greeting",
			in:   "host mg2.egov.bg[213.91.191.86] refused to talk to me: 450 4.3.2 try again later",
			kind: Refused, host: "mg2.egov.bg", ip: "213.91.191.86", command: "initial server greeting", code: 450, enhanced: "4.3.2", answered: true,
			summary: "450 4.3.2 try again later",
		},
		{
			name: "connection timed out",
			in:   "connect to intern.nl[194.109.6.98]:25: Connection timed out",
			kind: ConnectFailed, host: "intern.nl", ip: "194.109.6.98", summary: "Connection timed out",
		},
		{
			name: "IPv6 connection failure",
			in:   "connect to aspmx.l.google.com[2a00:1450:400b:c02::1a]:25: Network is unreachable",
			kind: ConnectFailed, host: "aspmx.l.google.com", ip: "2a00:1450:400b:c02::1a", summary: "Network is unreachable",
		},
		{
			name: "lost connection",
			in:   "lost connection with mx3.hotmail.com[65.55.37.72] while receiving the initial server greeting",
			kind: LostConnection, host: "mx3.hotmail.com", ip: "65.55.37.72", command: "receiving the initial server greeting", summary: "lost connection while receiving the initial server greeting",
		},
		{
			name: "conversation timed out",
			in:   "conversation with mx00.gmx.com[74.208.5.4] timed out while receiving the initial server greeting",
			kind: TimedOut, host: "mx00.gmx.com", ip: "74.208.5.4", command: "receiving the initial server greeting", summary: "conversation timed out while receiving the initial server greeting",
		},
		{
			name: "suspended: a local deferral quoting the earlier failure",
			in:   "delivery temporarily suspended: lost connection with mta7.am0.yahoodns.net[98.136.216.22] while sending RCPT TO",
			kind: LostConnection, suspended: true, host: "mta7.am0.yahoodns.net", ip: "98.136.216.22", command: "sending RCPT TO", summary: "lost connection while sending RCPT TO",
		},
		{
			name: "suspended with the server's reply",
			in:   "delivery temporarily suspended: host mx01.mail.icloud.com[17.57.154.6] refused to talk to me: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup",
			kind: Refused, suspended: true, host: "mx01.mail.icloud.com", ip: "17.57.154.6", command: "initial server greeting", code: 421, enhanced: "4.7.0", answered: true,
			summary: "421 4.7.0 Deferred - see Proofpoint DNSBL lookup",
		},
		{
			name: "Postfix 2.x: a refusal at the greeting, after connect to",
			in:   "delivery temporarily suspended: connect to mfsmax.example.com[192.0.2.232]: server refused to talk to me: 421 Service not available, closing transmission channel",
			kind: Refused, suspended: true, host: "mfsmax.example.com", ip: "192.0.2.232", command: "initial server greeting", code: 421, answered: true,
			summary: "421 Service not available, closing transmission channel",
		},
		{
			name: "DNS failure",
			in:   "Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found, try again",
			kind: NameService, summary: "Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found, try again",
		},
		{
			name: "TLS required",
			in:   "TLS is required, but was not offered by host mx.example.com[192.0.2.1]",
			kind: TLS, host: "mx.example.com", ip: "192.0.2.1", summary: "TLS is required, but was not offered by host mx.example.com[192.0.2.1]",
		},
		{
			name: "a reply about TLS is a reply",
			in:   "450 4.4.317 STARTTLS is required to send mail",
			kind: Plain, code: 450, enhanced: "4.4.317", answered: true, summary: "450 4.4.317 STARTTLS is required to send mail",
		},
		{
			name: "plain reply of a sent line",
			in:   "250 2.0.0 Ok: queued as 153053D",
			kind: Plain, code: 250, enhanced: "2.0.0", answered: true, summary: "250 2.0.0 Ok: queued as 153053D",
		},
		{
			name: "local agent text",
			in:   "delivered to maildir",
			kind: Local, summary: "delivered to maildir",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ParseDetail(tt.in)
			if d.Kind != tt.kind || d.Suspended != tt.suspended || d.Host != tt.host || d.IP != tt.ip ||
				d.Command != tt.command || d.Reply.Code != tt.code || d.Reply.Enhanced != tt.enhanced {
				t.Errorf("ParseDetail(%q) = kind %v suspended %v host %q ip %q command %q code %d enhanced %q\nwant kind %v suspended %v host %q ip %q command %q code %d enhanced %q",
					tt.in, d.Kind, d.Suspended, d.Host, d.IP, d.Command, d.Reply.Code, d.Reply.Enhanced,
					tt.kind, tt.suspended, tt.host, tt.ip, tt.command, tt.code, tt.enhanced)
			}
			if got := d.Summary(); got != tt.summary {
				t.Errorf("Summary() = %q, want %q", got, tt.summary)
			}
			if got := d.Answered(); got != tt.answered {
				t.Errorf("Answered() = %v, want %v", got, tt.answered)
			}
			if d.Text != tt.in {
				t.Errorf("Text = %q, want the input", d.Text)
			}
		})
	}
}

func BenchmarkParseDetail(b *testing.B) {
	in := "host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred. see https://ipcheck.proofpoint.com/?ip=203.0.113.25 (in reply to MAIL FROM command)"
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		ParseDetail(in)
	}
}

func BenchmarkParseDetailAccepted(b *testing.B) {
	in := "250 2.0.0 OK  1795651206 a275444si991274qkb.12 - gsmtp"
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		ParseDetail(in)
	}
}
