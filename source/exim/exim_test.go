package exim

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/source/lifecycle/lifecycletest"
)

type codes struct{}

func (codes) Classify(d smtpreply.Detail) mailtriage.Verdict {
	return mailtriage.Verdict{Rule: fmt.Sprintf("%d/%s/%s", d.Reply.Code, d.Kind, d.Command)}
}

// The log mixes lines of the Exim specification and test suite (the
// marvin line, test/log/0098) with lines composed in their format for an
// Apple incident, as the project's research notes give them.
func TestRead(t *testing.T) {
	f, err := os.Open("testdata/mainlog")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Message {
			got = append(got, fmt.Sprintf("message %s %s notification=%v", e.QueueID, e.Sender, e.Notification))
			return
		}
		got = append(got, fmt.Sprintf("%v %s %s %d %s %s %s", e.Kind, e.Status, e.Recipient, e.Attempts, e.Verdict.Rule, e.RemoteHost, e.LocalIP))
	})
	st, err := Read(context.Background(), f, "mainlog", time.UTC, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	want := []string{
		"1 deferred jane@icloud.com 1 421/said/MAIL FROM mx01.mail.icloud.com ",
		"1 bounced nobody@me.com 1 550/said/RCPT TO mx01.mail.icloud.com 203.0.113.25",
		"3 bounced nobody@me.com 1 550/said/RCPT TO mx01.mail.icloud.com 203.0.113.25",
		// "retry time not reached": Exim did not try.
		"2 deferred jane@icloud.com 1 0/local/  ",
		"1 delivered jane@icloud.com 2 250/said/ mx02.mail.icloud.com ",
		"3 delivered jane@icloud.com 2 250/said/ mx02.mail.icloud.com ",
		"1 deferred bob@yahoo.com 1 421/said/RCPT TO mta5.am0.yahoodns.net ",
		"1 deferred carl@example.org 1 0/connect/  ",
		// A queue timeout, with Yahoo's TSS04 as its root cause.
		"3 expired bob@yahoo.com 1 421/said/RCPT TO mta5.am0.yahoodns.net ",
		"1 deferred marvin@endrest.example 1 0/connect/  ",
		"message 1tsXyZ-000Abc-9Q news@shop.example.net notification=false",
		// Exim's bounce to the sender is a notification, not an attempt.
		"message 1tsXzA-000Bcd-7R  notification=true",
		"3 pending carl@example.org 1 0/connect/  ",
		"message 1tsYaa-0000000Cde-8Sxy alerts@shop.example.net notification=false",
		"3 pending marvin@endrest.example 1 0/connect/  ",
		"message 16aiQz-0002Q5-00  notification=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Lines != 16 || st.Bad != 1 || st.Other != 3 {
		t.Errorf("stats %+v", st)
	}
	// 09:00:01 +0100 is 08:00:01 UTC.
	if st.Last != time.Date(2025, 3, 15, 8, 0, 1, 0, time.UTC) {
		t.Errorf("last %v", st.Last)
	}
}

func TestDetect(t *testing.T) {
	data, _ := os.ReadFile("testdata/mainlog")
	if !Detect(data) || Detect([]byte("Mar 10 14:02:12 mta1 postfix/smtp[1]: 4F1: to=<a@b>\n")) {
		t.Error("detect")
	}
}

func FuzzRead(f *testing.F) {
	data, _ := os.ReadFile("testdata/mainlog")
	f.Add(string(data))
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz", time.UTC, tr)
		FirstStamp([]byte(s), time.UTC)
		tr.Finish(st.Last)
	})
}

// A main log is told from its content whatever its first line is: after
// rotation it often starts with a line that names no message (the
// specification's "Log files" chapter: rejections, connections, TLS
// errors).
func TestDetectPastFirstLine(t *testing.T) {
	for _, tt := range []struct {
		head string
		want bool
	}{
		{"2025-03-10 14:00:00 H=(spammer) [198.51.100.7] F=<x@y.example> rejected RCPT <a@shop.example.net>: relay not permitted\n" +
			"2025-03-10 14:02:11 1tsXyZ-000Abc-9Q <= news@shop.example.net H=app1.internal [10.0.0.5] P=esmtp S=48213\n", true},
		{"2025-03-10 14:00:00 SMTP connection from [10.0.0.5]:41234 (TCP/IP connection count = 1)\n" +
			"2025-03-10 14:00:01 [4242] 2Xb8mQ-0000Ab-C1 => jane@icloud.com R=dnslookup T=remote_smtp H=mx02.mail.icloud.com [17.57.155.9] C=\"250 OK\"\n", true},
		{"2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n", false},
		{"2025-03-10 14:00:00 some other program\n2025-03-10 14:00:01 and another\n", false},
	} {
		if got := Detect([]byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%.60q) = %v", tt.head, got)
		}
	}
}

// eximEvents reads a main log and returns its events as strings.
func eximEvents(t *testing.T, log string) []string {
	t.Helper()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Message {
			got = append(got, fmt.Sprintf("message %s %s recipients=%d", e.QueueID, e.Sender, e.Recipients))
			return
		}
		got = append(got, fmt.Sprintf("%v %s %s %d %s %s", e.Kind, e.Status, e.Recipient, e.Attempts, e.Verdict.Rule, e.RemoteHost))
	})
	st, err := Read(context.Background(), strings.NewReader(log), "mainlog", time.UTC, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	return got
}

// ">>" is a cutthrough delivery (the "Log files" chapter: the message is
// passed on to the next host while it is being received, so the delivery
// is logged before the arrival). It is a delivery like "=>". The lines
// are from Exim's test suite (Exim/exim test/log/5400), with the test
// harness's 127.0.0.1 replaced by a receiver's name and address.
func TestCutthrough(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  string
		want []string
	}{
		{"one recipient", `1999-03-02 09:44:33 10HmaX-0005vi-00 >> userx@domain.com R=all T=smtp H=mx.domain.com [192.0.2.25] C="250 OK"
1999-03-02 09:44:33 10HmaX-0005vi-00 <= CALLER@myhost.test.ex U=CALLER P=local-esmtp S=sss for userx@domain.com
1999-03-02 09:44:33 10HmaX-0005vi-00 Completed
`, []string{
			"1 delivered userx@domain.com 1 250/said/ mx.domain.com",
			"3 delivered userx@domain.com 1 250/said/ mx.domain.com",
			"message 10HmaX-0005vi-00 CALLER@myhost.test.ex recipients=1",
		}},
		{"two recipients", `1999-03-02 09:44:33 10HmbE-0005vi-00 >> usery@domain2.com R=all T=smtp H=mx.domain2.com [192.0.2.26] C="250 OK"
1999-03-02 09:44:33 10HmbE-0005vi-00 >> userx@domain1.com R=all T=smtp H=mx.domain1.com [192.0.2.27] C="250 OK"
1999-03-02 09:44:33 10HmbE-0005vi-00 <= CALLER@myhost.test.ex U=CALLER P=local-esmtp S=sss for userx@domain1.com usery@domain2.com
1999-03-02 09:44:33 10HmbE-0005vi-00 Completed
`, []string{
			"1 delivered usery@domain2.com 1 250/said/ mx.domain2.com",
			"3 delivered usery@domain2.com 1 250/said/ mx.domain2.com",
			"1 delivered userx@domain1.com 1 250/said/ mx.domain1.com",
			"3 delivered userx@domain1.com 1 250/said/ mx.domain1.com",
			"message 10HmbE-0005vi-00 CALLER@myhost.test.ex recipients=2",
		}},
	} {
		checkEvents(t, tt.name, tt.log, tt.want)
	}
}

// A "=>" line without H= is a local delivery (a pipe, a file or mailbox
// by appendfile, Dovecot's delivery on this host): the recipient is
// delivered, with no attempt. For a pipe, a file or a bare local part,
// Exim logs the address the message was for in <...> after it, and that
// is the recipient. The lines are real: Debian's mail_spool from a public
// question about mailx (test.com), Dovecot's delivery from public grok
// pattern tests (localdomain.com), cPanel's autoresponder pipe from a
// public parser's tests of a live server's lines (armos.eu), and a pipe
// with F= and P= from a public excerpt of an Alaveteli server's log
// (ukcod.org.uk).
func TestLocalDelivery(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  string
		want []string
	}{
		{"appendfile", `2013-05-11 10:35:36 1Ub4LA-0001cY-Od <= test_user@test.com U=test_user P=local S=449
2013-05-11 10:35:36 1Ub4LA-0001cY-Od => test_user <test_user@test.com> R=local_user T=mail_spool
2013-05-11 10:35:36 1Ub4LA-0001cY-Od Completed
`, []string{
			"3 delivered test_user@test.com 0  ",
			"message 1Ub4LA-0001cY-Od test_user@test.com recipients=1",
		}},
		{"dovecot", `2017-06-24 15:41:05 1dOqvZ-0002HB-Ob => localuser <localuser@localdomain.com> R=virtual_user T=dovecot_virtual_delivery C="250 2.0.0 <localuser@localdomain.com> AVo8MlHATlm4HgAAhX93jg Saved"
`, []string{
			"3 delivered localuser@localdomain.com 0 250/said/ ",
			"message 1dOqvZ-0002HB-Ob  recipients=1",
		}},
		{"autorespond pipe", `2026-08-11 01:35:09 1wtYaK-0000000GRSy-2tQh => sales+spam |/usr/local/cpanel/bin/autorespond sales@armos.eu /home2/armoseu/.autorespond (sales@armos.eu) <sales@armos.eu> R=virtual_aliases_nostar T=cagefs_virtual_address_pipe
`, []string{
			"3 delivered sales@armos.eu 0  ",
			"message 1wtYaK-0000000GRSy-2tQh  recipients=1",
		}},
		{"pipe with F=", `2016-02-03 06:59:17 [16212] 1aQrOx-0004DT-PC => |/home/alaveteli/run-with-rbenv-path /var/www/alaveteli/alaveteli/script/mailin <foi@unknown.ukcod.org.uk> F=<medications-cheapest5@broadband.hu> P=<medications-cheapest5@broadband.hu> R=userforward_unsuffixed T=address_pipe S=31362 QT=22s DT=21s
`, []string{
			"3 delivered foi@unknown.ukcod.org.uk 0  ",
			"message 1aQrOx-0004DT-PC  recipients=1",
		}},
		// A redirection to :blackhole: is logged as a delivery; nothing
		// was sent.
		{"blackhole", `2012-02-13 14:39:22 1RwtJa-000AFB-07 => :blackhole: <tpxmuwr@somehost.ru> R=blackhole_router
`, []string{
			"3 discarded tpxmuwr@somehost.ru 0  ",
			"message 1RwtJa-000AFB-07  recipients=1",
		}},
		// A remote delivery of a redirected address stays the address
		// tried, not the original in <...>.
		{"remote, redirected", `2026-08-11 00:30:18 1wtMbN-00000004FD2-1H7i => fishingnetcruise@gmail.com (info@fishingnet.gr) <info@fishingnet.gr> R=dkim_lookuphost T=dkim_remote_forwarded_smtp H=alt3.gmail-smtp-in.l.google.com [192.178.211.26] C="250 2.0.0 OK"
`, []string{
			"1 delivered fishingnetcruise@gmail.com 1 250/said/ alt3.gmail-smtp-in.l.google.com",
			"3 delivered fishingnetcruise@gmail.com 1 250/said/ alt3.gmail-smtp-in.l.google.com",
			"message 1wtMbN-00000004FD2-1H7i  recipients=1",
		}},
	} {
		checkEvents(t, tt.name, tt.log, tt.want)
	}
}

// A "**" failure of a local transport (no H=: a pipe that failed, a file,
// appendfile over quota) is Exim's own failure: a final bounce with no
// attempt, for the address in <...>. A remote "**" (with H=) stays an
// attempt. The pipe line is from Exim's test suite (Exim/exim
// test/log/0508: a pipe with return_output, "return message generated");
// the quota line is that suite's appendfile quota failure (test/log/0095)
// as a "**" line, and the remote one is the testdata's.
func TestLocalFailure(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  string
		want []string
	}{
		{"pipe", `1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** |/bin/echo "Some pipe output" <userx@myhost.test.ex> R=r1 T=t2: return message generated
`, []string{
			"3 bounced userx@myhost.test.ex 0 0/local/ ",
			"message 10HmaX-000000005vi-0000  recipients=1",
		}},
		{"appendfile over quota", `1999-03-02 09:44:33 10HmbF-000000005vi-0000 ** usery@myhost.test.ex R=usery T=appendfile2: mailbox is full (MTA-imposed quota exceeded while writing to TESTSUITE/test-mail/usery)
`, []string{
			"3 bounced usery@myhost.test.ex 0 0/local/ ",
			"message 10HmbF-000000005vi-0000  recipients=1",
		}},
		{"remote", `2025-03-10 14:02:12 1tsXyZ-000Abc-9Q ** nobody@me.com R=dnslookup T=remote_smtp H=mx01.mail.icloud.com [17.57.154.6] I=[203.0.113.25]:54321: SMTP error from remote mail server after RCPT TO:<nobody@me.com>: 550 5.1.1 <nobody@me.com>: user does not exist
`, []string{
			"1 bounced nobody@me.com 1 550/said/RCPT TO mx01.mail.icloud.com",
			"3 bounced nobody@me.com 1 550/said/RCPT TO mx01.mail.icloud.com",
			"message 1tsXyZ-000Abc-9Q  recipients=1",
		}},
	} {
		checkEvents(t, tt.name, tt.log, tt.want)
	}
}

// TestLocalTransportDeferral: a "==" deferral of a local transport (no H=:
// appendfile over quota, a pipe that asked to try later) is Exim's own,
// not a receiver's: a local deferral, not an attempt. The quota line is
// from Exim's test suite (Exim/exim test/log/0095). A deferral with no
// host that a remote transport or a router logs (a DNS lookup that did not
// complete) stays an attempt: a try that reached no server.
func TestLocalTransportDeferral(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  string
		want []string
	}{
		{"appendfile over quota", `1999-03-02 09:44:33 10HmaY-000000005vi-0000 == userx@test.ex R=r1 T=appendfile2 defer (-22): mailbox is full (MTA-imposed quota exceeded while writing to TESTSUITE/test-mail/userx)
`, []string{
			"2 deferred userx@test.ex 0 0/local/ ",
			"3 pending userx@test.ex 0 0/local/ ",
			"message 10HmaY-000000005vi-0000  recipients=1",
		}},
		{"no host, remote transport", `2025-03-10 14:02:12 1tsXyZ-000Abc-9R == bob@nohost.example R=dnslookup T=remote_smtp defer (-1): host lookup did not complete
`, []string{
			"1 deferred bob@nohost.example 1 0/local/ ",
			"3 pending bob@nohost.example 1 0/local/ ",
			"message 1tsXyZ-000Abc-9R  recipients=1",
		}},
	} {
		checkEvents(t, tt.name, tt.log, tt.want)
	}
}

// checkEvents compares the events a log gives with want.
func checkEvents(t *testing.T, name, log string, want []string) {
	t.Helper()
	if got := eximEvents(t, log); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: got\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNullSender: Exim writes the null sender as "<>" on the arrival line;
// a message whose arrival came before the log has no sender the log named.
func TestNullSender(t *testing.T) {
	log := `2026-12-01 10:00:00 1tsNul-000Abc-1A <= <> H=mx.example.org [192.0.2.9] P=esmtp S=900 id=x@example.org
2026-12-01 10:00:01 1tsNul-000Abc-1A => jane@example.net R=dnslookup T=remote_smtp H=mx.example.net [192.0.2.10] C="250 ok"
2026-12-01 10:00:02 1tsNul-000Abc-1A Completed
2026-12-01 10:00:03 1tsUnk-000Abc-2B => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net [192.0.2.10] C="250 ok"
2026-12-01 10:00:04 1tsUnk-000Abc-2B Completed
`
	unknown := map[string]bool{}
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) { unknown[e.QueueID] = e.SenderUnknown })
	st, err := Read(context.Background(), strings.NewReader(log), "mainlog", time.UTC, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	if want := map[string]bool{"1tsNul-000Abc-1A": false, "1tsUnk-000Abc-2B": true}; fmt.Sprint(unknown) != fmt.Sprint(want) {
		t.Errorf("sender unknown by message: %v, want %v", unknown, want)
	}
}

// TestHostInText: older Exim releases logged the host a failure came
// from inside the text, "after RCPT TO:<x>: host NAME [IP]: 450 ...", not
// as H=. The host is the remote host all the same. The lines are real:
// a public Exim log excerpt of February 2012 (GMX, Yahoo), and a public
// parser's test of a live server's line of June 2016 (Mimecast).
func TestHostInText(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  string
		want []string
	}{
		{"deferral", `2012-02-13 14:39:22 1RookS-000Pg8-VO == udbbwscdnbegrmloghuf@london.com R=dnslookup T=remote_smtp defer (-44): SMTP error from remote mail server after RCPT TO:<udbbwscdnbegrmloghuf@london.com>: host mx0.gmx.com [74.208.5.90]: 450 4.3.2 Too many mails (mail bomb), try again in 1 hour(s) 25 minute(s) and see ( http://portal.gmx.net/serverrules ) {mx-us011}
`, []string{
			"1 deferred udbbwscdnbegrmloghuf@london.com 1 450/said/RCPT TO mx0.gmx.com",
			"3 pending udbbwscdnbegrmloghuf@london.com 1 450/said/RCPT TO mx0.gmx.com",
			"message 1RookS-000Pg8-VO  recipients=1",
		}},
		{"bounce after data", `2012-02-13 14:39:23 1RwtEg-0002zL-Mh ** thauocarief@yahoo.com R=dnslookup T=remote_smtp: SMTP error from remote mail server after end of data: host mta7.am0.yahoodns.net [66.94.237.64]: 554 delivery error: dd Sorry your message to thauocarief@yahoo.com cannot be delivered. This account has been disabled or discontinued [#102]. - mta1229.mail.mud.yahoo.com
`, []string{
			"1 bounced thauocarief@yahoo.com 1 554/said/end of data mta7.am0.yahoodns.net",
			"3 bounced thauocarief@yahoo.com 1 554/said/end of data mta7.am0.yahoodns.net",
			"message 1RwtEg-0002zL-Mh  recipients=1",
		}},
		{"with pid", `2016-06-03 11:03:18 [13879] 1b8lwj-0003bo-6W == authority@example.com R=dnslookup T=remote_smtp defer (-44): SMTP error from remote mail server after RCPT TO:<authority@example.com>: host eu-smtp-inbound-1.mimecast.com [195.130.217.211]: 451 Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451
`, []string{
			"1 deferred authority@example.com 1 451/said/RCPT TO eu-smtp-inbound-1.mimecast.com",
			"3 pending authority@example.com 1 451/said/RCPT TO eu-smtp-inbound-1.mimecast.com",
			"message 1b8lwj-0003bo-6W  recipients=1",
		}},
	} {
		checkEvents(t, tt.name, tt.log, tt.want)
	}
}

// TestNotTried: deferrals Exim makes without trying any host are local
// deferrals, not attempts: "retry time not reached", and a domain held by
// queue_smtp_domains or -odqs (smtp.c sets that text and moves on to the
// next host without connecting). The queue_smtp_domains line is real, from
// a public Exim log excerpt of February 2012.
func TestNotTried(t *testing.T) {
	checkEvents(t, "queue_smtp_domains", `2012-02-13 14:59:15 1Rwtcp-0000Ac-BW == pmtzjnyta@brightconsult.ru R=dnslookup T=remote_smtp defer (-1): domain matches queue_smtp_domains, or -odqs set
`, []string{
		"2 deferred pmtzjnyta@brightconsult.ru 0 0/local/ ",
		"3 pending pmtzjnyta@brightconsult.ru 0 0/local/ ",
		"message 1Rwtcp-0000Ac-BW  recipients=1",
	})
}

// TestLongFailureExpiry: when a message outlives its retry rule while all
// its hosts are failing, Exim's smtp transport fails the address with
// "retry time not reached for any host after a long failure period" (or,
// without delay_after_cutoff, "all hosts have been failing for a long
// time and were last tried after this message arrived"): smtp.c sets
// these texts with FAIL and tries no host. That is a queue timeout, with
// the last real failure as its cause, not a bounce attempt. The lines
// are composed in the format of the real ones above, with the texts of
// Exim's smtp.c.
func TestLongFailureExpiry(t *testing.T) {
	for _, text := range []string{
		"retry time not reached for any host after a long failure period",
		"all hosts have been failing for a long time and were last tried after this message arrived",
	} {
		checkEvents(t, text, `2026-11-27 10:00:00 1wtAbc-0000000AbC-1x == jane@icloud.com R=dnslookup T=remote_smtp defer (-44) H=mx01.mail.icloud.com [17.57.154.6]: SMTP error from remote mail server after RCPT TO:<jane@icloud.com>: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup
2026-12-01 10:00:00 1wtAbc-0000000AbC-1x ** jane@icloud.com R=dnslookup T=remote_smtp: `+text+`
`, []string{
			"1 deferred jane@icloud.com 1 421/said/RCPT TO mx01.mail.icloud.com",
			"3 expired jane@icloud.com 1 421/said/RCPT TO mx01.mail.icloud.com",
			"message 1wtAbc-0000000AbC-1x  recipients=1",
		})
	}
}

// TestRemoved: a message an administrator removes from the queue (exim
// -Mrm) is logged "removed by USER": its recipients with no outcome are
// deleted, not left pending. The lines are from Exim's test suite
// (Exim/exim test/log/0098), the harness's 127.0.0.1 replaced by a
// receiver's name and address.
func TestRemoved(t *testing.T) {
	checkEvents(t, "removed", `1999-03-02 09:44:33 10HmbM-0005vi-00 <= CALLER@test.ex U=CALLER P=local S=sss T="testing a remote defer"
1999-03-02 09:44:33 10HmbM-0005vi-00 == rrrr@remote.defer R=remote_quota T=smtp defer (-44) H=mx.remote.defer [192.0.2.25]: SMTP error from remote mail server after RCPT TO:<rrrr@remote.defer>: 451 Over-quota
1999-03-02 09:44:33 10HmbM-0005vi-00 removed by CALLER
1999-03-02 09:44:33 10HmbM-0005vi-00 Completed
`, []string{
		"1 deferred rrrr@remote.defer 1 451/said/RCPT TO mx.remote.defer",
		"3 deleted rrrr@remote.defer 1 451/said/RCPT TO mx.remote.defer",
		"message 10HmbM-0005vi-00 CALLER@test.ex recipients=1",
	})
}

// TestFirstStamp: the first stamped line of a head orders rotated files,
// read as Read reads it: with its zone, else in the given location; lines
// that name no message count, and a line cut by the end of the head, whose
// zone may be cut, does not.
func TestFirstStamp(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name, head string
		want       string // "" for none
	}{
		{"zone", "2026-11-30 10:00:00 +0000 1tsXyZ-000Abc-9Q Completed\n", "2026-11-30T10:00:00Z"},
		{"local time", "2026-11-30 10:00:00 1tsXyZ-000Abc-9Q Completed\n", "2026-11-30T09:00:00Z"},
		{"no message", "not exim\n2026-11-30 10:00:00 +0000 Start queue run: pid=1234\n", "2026-11-30T10:00:00Z"},
		{"cut in its zone", "not exim\n2026-11-30 10:00:00 +00", ""},
		{"one line, whole", "2026-11-30 10:00:00 +0000 Start queue run: pid=1234", "2026-11-30T10:00:00Z"},
	} {
		got, ok := FirstStamp([]byte(tc.head), berlin)
		if s := got.Format(time.RFC3339); ok != (tc.want != "") || ok && s != tc.want {
			t.Errorf("%s: %s %v, want %q", tc.name, s, ok, tc.want)
		}
	}
}
