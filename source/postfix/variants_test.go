package postfix

import (
	"slices"
	"strings"
	"testing"
)

// TestPostfixVariants holds real Postfix wordings the tracker must read
// as Postfix means them. Each case is a log and the events it gives.
func TestPostfixVariants(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want []string
	}{
		{
			// soft_bounce=yes: global/bounce.c logs what would have
			// bounced with status=SOFTBOUNCE and keeps the recipient
			// queued (a 4.x.x dsn): a deferral, not a line to drop.
			name: "soft bounce",
			log: `2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 1A2B3C4D5E: from=<news@example.net>, size=900, nrcpt=1 (queue active)
2026-11-30T10:00:01+00:00 mta1 postfix/smtp[2]: 1A2B3C4D5E: to=<gone@yahoo.com>, relay=mta5.am0.yahoodns.net[67.195.204.72]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.0.0, status=SOFTBOUNCE (host mta5.am0.yahoodns.net[67.195.204.72] said: 554 delivery error: dd This user doesn't have a yahoo.com account (gone@yahoo.com) [0] - mta1047.mail.bf1.yahoo.com (in reply to end of DATA command))
`,
			want: []string{
				`attempt deferred gone@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="554 delivery error: dd This user doesn't have a yahoo.com account (gone@yahoo.com) [0] - mta1047.mail.bf1.yahoo.com"`,
				`final pending gone@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="554 delivery error: dd This user doesn't have a yahoo.com account (gone@yahoo.com) [0] - mta1047.mail.bf1.yahoo.com"`,
				`message mta1/1A2B3C4D5E sender=news@example.net notification=false recipients=1`,
			},
		},
		{
			// Address verification (verify(8)): the probe is a message
			// from double-bounce whose delivery agent reports
			// status=deliverable or undeliverable and delivers nothing
			// (global/bounce.c, verify_append). It is not a message sent.
			name: "address verification probes",
			log: `2026-11-30T10:00:01+00:00 mx1 postfix/qmgr[2]: 3C4D5E6F70: from=<double-bounce@mx1.example.net>, size=276, nrcpt=1 (queue active)
2026-11-30T10:00:02+00:00 mx1 postfix/smtp[3]: 3C4D5E6F70: to=<someone@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.26]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=undeliverable (host gmail-smtp-in.l.google.com[142.250.1.26] said: 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser a1si1qkb.12 - gsmtp (in reply to RCPT TO command))
2026-11-30T10:00:02+00:00 mx1 postfix/qmgr[2]: 3C4D5E6F70: removed
2026-11-30T10:00:03+00:00 mx1 postfix/qmgr[2]: 4D5E6F7081: from=<double-bounce@mx1.example.net>, size=276, nrcpt=1 (queue active)
2026-11-30T10:00:04+00:00 mx1 postfix/smtp[3]: 4D5E6F7081: to=<ok@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.26]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.1.5, status=deliverable (250 2.1.5 OK a1si1qkb.12 - gsmtp)
2026-11-30T10:00:04+00:00 mx1 postfix/qmgr[2]: 4D5E6F7081: removed
`,
			want: nil,
		},
		{
			// The discard(8) transport (transport_maps: "example.com
			// discard:silently") logs the recipient sent, with its next hop
			// as the reason: nothing was sent, and the sender is not told.
			name: "discard(8) transport",
			log: `2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 2B3C4D5E6F: from=<news@example.net>, size=900, nrcpt=1 (queue active)
2026-11-30T10:00:00+00:00 mta1 postfix/discard[2]: 2B3C4D5E6F: to=<john@blackhole.example>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=2.0.0, status=sent (silently)
2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 2B3C4D5E6F: removed
`,
			want: []string{
				`final discarded john@blackhole.example lane=other attempts=0 remote= detail="silently"`,
				`message mta1/2B3C4D5E6F sender=news@example.net notification=false recipients=1`,
			},
		},
		{
			// A content filter or a local LMTP server that is down: the
			// client logs relay=none (no session) and names the local
			// server in the reason (smtp_connect.c). No remote try.
			name: "local server refuses the connection",
			log: `2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 1A2B3C4D5E: from=<news@example.net>, size=900, nrcpt=2 (queue active)
2026-11-30T10:00:00+00:00 mta1 postfix/smtp[2]: 1A2B3C4D5E: to=<a@gmail.com>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:10024: Connection refused)
2026-11-30T10:00:00+00:00 mta1 postfix/lmtp[3]: 1A2B3C4D5E: to=<b@example.org>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.4.1, status=deferred (connect to mail.example.org[private/dovecot-lmtp]: No such file or directory)
`,
			want: []string{
				`local deferred a@gmail.com lane=google attempts=0 remote=127.0.0.1 detail="Connection refused"`,
				`local deferred b@example.org lane=other attempts=0 remote=mail.example.org detail="No such file or directory"`,
				`final pending a@gmail.com lane=google attempts=0 remote=127.0.0.1 detail="Connection refused"`,
				`final pending b@example.org lane=other attempts=0 remote=mail.example.org detail="No such file or directory"`,
				`message mta1/1A2B3C4D5E sender=news@example.net notification=false recipients=2`,
			},
		},
		{
			// LMTP to Dovecot over its UNIX socket or 127.0.0.1:24 puts the
			// message in a local mailbox, and a content filter that
			// discards ("250 2.7.0 Ok, discarded") queues nothing again,
			// and sends nothing: final outcomes (delivered, discarded),
			// not attempts at a remote server, and a failure is a local
			// deferral, whether the server is reached over a socket or a
			// loopback address.
			name: "local LMTP delivery",
			log: `2026-11-30T10:00:00+00:00 mx1 postfix/qmgr[1]: 4Lq3Rz6Bv7z9sKp: from=<app@example.org>, size=900, nrcpt=4 (queue active)
2026-11-30T10:00:01+00:00 mx1 postfix/lmtp[2]: 4Lq3Rz6Bv7z9sKp: to=<me@example.org>, relay=mail.example.org[private/dovecot-lmtp], delay=1.2, delays=0.1/0/0.1/1, dsn=2.0.0, status=sent (250 2.0.0 <me@example.org> 8LxGHp3aZGnDBQAA0J78UA Saved)
2026-11-30T10:00:01+00:00 mx1 postfix/lmtp[2]: 4Lq3Rz6Bv7z9sKp: to=<you@example.org>, relay=mail.example.org[private/dovecot-lmtp], delay=1.2, delays=0.1/0/0.1/1, dsn=4.2.0, status=deferred (host mail.example.org[private/dovecot-lmtp] said: 451 4.2.0 <you@example.org> Mailbox is locked (in reply to end of DATA command))
2026-11-30T10:00:02+00:00 mx1 postfix/lmtp[3]: 4Lq3Rz6Bv7z9sKp: to=<him@example.org>, relay=127.0.0.1[127.0.0.1]:24, delay=2, delays=0.1/0/0.1/1.8, dsn=2.0.0, status=sent (250 2.0.0 <him@example.org> kFuSNVsYzWgkAAAAaQ Saved)
2026-11-30T10:00:02+00:00 mx1 postfix/smtp[4]: 4Lq3Rz6Bv7z9sKp: to=<her@gmail.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=2, delays=0.1/0/0/1.9, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id=01234-05 - spam)
`,
			want: []string{
				`final delivered me@example.org lane=other attempts=0 remote=mail.example.org detail="250 2.0.0 <me@example.org> 8LxGHp3aZGnDBQAA0J78UA Saved"`,
				`local deferred you@example.org lane=other attempts=0 remote=mail.example.org detail="451 4.2.0 <you@example.org> Mailbox is locked"`,
				`final delivered him@example.org lane=other attempts=0 remote=127.0.0.1 detail="250 2.0.0 <him@example.org> kFuSNVsYzWgkAAAAaQ Saved"`,
				`final discarded her@gmail.com lane=google attempts=0 remote=127.0.0.1 detail="250 2.7.0 Ok, discarded, id=01234-05 - spam"`,
				`final pending you@example.org lane=other attempts=0 remote=mail.example.org detail="451 4.2.0 <you@example.org> Mailbox is locked"`,
				`message mx1/4Lq3Rz6Bv7z9sKp sender=app@example.org notification=false recipients=4`,
			},
		},
		{
			// "delivery temporarily suspended: ..." quotes why qmgr marked
			// the destination dead, a reply given in another message's
			// session: the root cause of the expiry is the last reply a
			// server gave this recipient.
			name: "suspended quote is not the recipient's reply",
			log: `2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 6F7E8D9C0B: from=<news@example.net>, size=900, nrcpt=1 (queue active)
2026-11-30T10:00:04+00:00 mta1 postfix/smtp[2]: 6F7E8D9C0B: to=<b@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=4, delays=2/0/1/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred. (in reply to MAIL FROM command))
2026-11-30T10:20:00+00:00 mta1 postfix/error[3]: 6F7E8D9C0B: to=<b@icloud.com>, relay=none, delay=1200, delays=1200/0/0/0, dsn=4.7.0, status=deferred (delivery temporarily suspended: host mx02.mail.icloud.com[17.57.155.9] refused to talk to me: 421 4.7.0 Try again later)
2026-11-30T12:00:00+00:00 mta1 postfix/qmgr[1]: 6F7E8D9C0B: from=<news@example.net>, status=expired, returned to sender
2026-11-30T12:00:00+00:00 mta1 postfix/qmgr[1]: 6F7E8D9C0B: removed
`,
			want: []string{
				`attempt deferred b@icloud.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred."`,
				`local deferred b@icloud.com lane=apple attempts=1 remote=mx02.mail.icloud.com detail="421 4.7.0 Try again later"`,
				`final expired b@icloud.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred."`,
				`message mta1/6F7E8D9C0B sender=news@example.net notification=false recipients=1`,
			},
		},
		{
			// amavis answers the hop only after the copy is queued on
			// 10025, and a fast delivery of the copy can end before the
			// hop line is written: the copy, done and removed, must not
			// come back as a second, empty message.
			name: "content filter copy done before the hop line",
			log: `2026-11-30T10:00:00+00:00 mta1 postfix/smtpd[1]: 1A2B3C4D5E: client=app.example.net[192.0.2.10]
2026-11-30T10:00:00+00:00 mta1 postfix/cleanup[2]: 1A2B3C4D5E: message-id=<m7@example.net>
2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[3]: 1A2B3C4D5E: from=<news@example.net>, size=2000, nrcpt=1 (queue active)
2026-11-30T10:00:02+00:00 mta1 postfix/10025/smtpd[4]: 6F7E8D9C0B: client=localhost[127.0.0.1]
2026-11-30T10:00:02+00:00 mta1 postfix/cleanup[2]: 6F7E8D9C0B: message-id=<m7@example.net>
2026-11-30T10:00:02+00:00 mta1 postfix/qmgr[3]: 6F7E8D9C0B: from=<news@example.net>, size=2500, nrcpt=1 (queue active)
2026-11-30T10:00:02+00:00 mta1 postfix/smtp[5]: 6F7E8D9C0B: to=<a@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.26]:25, delay=0.1, delays=0/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 OK 1764497000 a1si1qkb.12 - gsmtp)
2026-11-30T10:00:02+00:00 mta1 postfix/qmgr[3]: 6F7E8D9C0B: removed
2026-11-30T10:00:02+00:00 mta1 postfix/amavis/smtp[6]: 1A2B3C4D5E: to=<a@gmail.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=2.1, delays=0.1/0/0/2, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 6F7E8D9C0B)
2026-11-30T10:00:02+00:00 mta1 postfix/qmgr[3]: 1A2B3C4D5E: removed
`,
			want: []string{
				`attempt delivered a@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764497000 a1si1qkb.12 - gsmtp"`,
				`final delivered a@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764497000 a1si1qkb.12 - gsmtp"`,
				`message mta1/6F7E8D9C0B sender=news@example.net notification=false recipients=1`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				if got := record(t, tt.log, workers); !slices.Equal(got, tt.want) {
					t.Errorf("workers=%d: events differ\n got:\n%s\nwant:\n%s", workers, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}
