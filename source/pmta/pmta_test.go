package pmta

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
	return mailtriage.Verdict{Rule: fmt.Sprint(d.Reply.Code)}
}

// The file is composed from PowerMTA's documented record layout (the
// User's Guide's accounting fields), as the project's research notes give
// it: no public accounting file with deferrals exists.
func TestRead(t *testing.T) {
	f, err := os.Open("testdata/acct.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
		if e.Kind != mailtriage.Message {
			got = append(got, fmt.Sprintf("%v %s %s %s %s %s", e.Kind, e.Status, e.Recipient, e.Verdict.Rule, e.RemoteHost, e.LocalIP))
		}
	})
	st, err := Read(context.Background(), f, "acct.csv", time.UTC, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	want := []string{
		"1 deferred jane@icloud.com 421 mx01.mail.icloud.com 203.0.113.25",
		"1 delivered jane@icloud.com 250 mx01.mail.icloud.com 203.0.113.25",
		"3 delivered jane@icloud.com 250 mx01.mail.icloud.com 203.0.113.25",
		"1 bounced nobody@me.com 550 mx01.mail.icloud.com 203.0.113.26",
		"3 bounced nobody@me.com 550 mx01.mail.icloud.com 203.0.113.26",
		"1 deferred slow@yahoo.com 421 mta5.am0.yahoodns.net 203.0.113.26",
		// A bounce of category message-expired is a queue timeout, with
		// the last reply as its root cause.
		"3 expired slow@yahoo.com 421 mta5.am0.yahoodns.net 203.0.113.26",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Records != 10 || st.Used != 5 || st.Skipped != 2 || st.Bad != 3 || st.NoDefers {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(strings.Join(st.Samples, "\n"), `unknown record type "x"`) || !strings.Contains(strings.Join(st.Samples, "\n"), "timeLogged") {
		t.Errorf("samples %q", st.Samples)
	}
}

func TestDetectAndHeader(t *testing.T) {
	if !Detect([]byte("type,timeLogged,timeQueued,orig,rcpt,dsnAction\n")) || Detect([]byte("Mar 10 14:02:12 mta1 postfix/smtp[1]: x\n")) {
		t.Error("detect")
	}
	_, err := Read(context.Background(), strings.NewReader("type,orig\nd,x\n"), "x.csv", time.UTC, lifecycle.NewTracker(nil, nil, func(*mailtriage.Event) {}))
	if err == nil || !strings.Contains(err.Error(), "no ") {
		t.Errorf("header without timeLogged and rcpt: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	data, _ := os.ReadFile("testdata/acct.csv")
	f.Add(string(data))
	f.Add("type,timeLogged,rcpt\nt,1700000000,a@b\n")
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz.csv", time.UTC, tr)
		FirstStamp([]byte(s), time.UTC)
		tr.Finish(st.Last)
	})
}

// header is the column set of the research notes (a public PowerMTA
// forwarder's test header).
const header = "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool\n"

// pmtaEvents reads an accounting file and returns its events as strings.
func pmtaEvents(t *testing.T, csv string) ([]string, Stats) {
	t.Helper()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Message {
			got = append(got, fmt.Sprintf("message recipients=%d", e.Recipients))
			return
		}
		got = append(got, fmt.Sprintf("%v %s %s %d %s", e.Kind, e.Status, e.Recipient, e.Attempts, e.Verdict.Rule))
	})
	st, err := Read(context.Background(), strings.NewReader(csv), "acct.csv", time.UTC, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	return got, st
}

// A b row is a queue timeout when PowerMTA says so: bounceCat
// message-expired ("not delivered before the bounce-after", the User's
// Guide's bounce categories) or the status 4.4.7 (delivery time
// expired). A receiver's reply that mentions something expired (a
// certificate, a password, a domain) is a bounce. The rows are composed
// in the documented layout; the replies are ones receivers send.
func TestExpiredBy(t *testing.T) {
	for _, tt := range []struct {
		name, row, want string
	}{
		{"certificate expired", `b,2025-03-10 14:05:02+0000,2025-03-10 14:05:01+0000,bounces@mail.example.net,ann@example.org,,failed,5.7.1 (delivery not authorized),"smtp;550 5.7.1 certificate expired",mx.example.org (192.0.2.7),policy-related,smtp,app1.example.net (10.0.0.5),smtp,203.0.113.26,192.0.2.7,,9120,vmta-a2,spring-sale,,example.org/vmta-a2,pool-a`,
			"3 bounced ann@example.org 1 550"},
		{"account expired", `b,2025-03-10 14:05:02+0000,2025-03-10 14:05:01+0000,bounces@mail.example.net,bob@example.org,,failed,5.2.1 (mailbox disabled),"smtp;550 5.2.1 The email account that you tried to reach is disabled. Account expired",mx.example.org (192.0.2.7),inactive-mailbox,smtp,app1.example.net (10.0.0.5),smtp,203.0.113.26,192.0.2.7,,9120,vmta-a2,spring-sale,,example.org/vmta-a2,pool-a`,
			"3 bounced bob@example.org 1 550"},
		{"message-expired", `b,2025-03-14 14:06:02+0000,2025-03-10 14:06:01+0000,bounces@mail.example.net,slow@yahoo.com,,failed,4.4.7 (delivery time expired),"smtp;421 4.7.0 [TSS04] Messages from 203.0.113.26 temporarily deferred",mta5.am0.yahoodns.net (67.195.204.72),message-expired,smtp,app1.example.net (10.0.0.5),smtp,203.0.113.26,67.195.204.72,,9120,vmta-a2,spring-sale,,yahoo.com/vmta-a2,pool-a`,
			"3 expired slow@yahoo.com 0 421"},
		{"4.4.7 without a category", `b,2025-03-14 14:06:02+0000,2025-03-10 14:06:01+0000,bounces@mail.example.net,slow@yahoo.com,,failed,4.4.7 (delivery time expired),"smtp;421 4.7.0 [TSS04] Messages from 203.0.113.26 temporarily deferred",mta5.am0.yahoodns.net (67.195.204.72),,smtp,app1.example.net (10.0.0.5),smtp,203.0.113.26,67.195.204.72,,9120,vmta-a2,spring-sale,,yahoo.com/vmta-a2,pool-a`,
			"3 expired slow@yahoo.com 0 421"},
	} {
		got, _ := pmtaEvents(t, header+tt.row+"\n")
		var finals []string
		for _, g := range got {
			if strings.HasPrefix(g, "3 ") {
				finals = append(finals, g)
			}
		}
		if strings.Join(finals, "\n") != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, finals, tt.want)
		}
	}
}

// Files joined with "cat acct-*.csv" carry each file's header row; a
// later file may log other columns (the column set is configurable). A
// header row is not a bad row, and the rows after it are read by its
// columns. The rows are composed in the documented layout.
func TestHeaderAgain(t *testing.T) {
	csv := header +
		`d,2025-03-10 15:10:41+0000,2025-03-10 14:02:11+0000,bounces@mail.example.net,jane@icloud.com,,relayed,2.0.0 (success),"smtp;250 2.0.0 OK",mx01.mail.icloud.com (17.57.154.6),,smtp,app1.example.net (10.0.0.5),smtp,203.0.113.25,17.57.154.6,,48213,vmta-a1,spring-sale,,icloud.com/vmta-a1,pool-a` + "\n" +
		"type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,dlvSourceIp,vmta\n" +
		`b,2025-03-11 09:00:00+0000,2025-03-11 08:59:59+0000,bounces@mail.example.net,nobody@me.com,failed,5.1.1 (bad destination mailbox address),"smtp;550 5.1.1 <nobody@me.com>: user does not exist",mx01.mail.icloud.com (17.57.154.6),bad-mailbox,203.0.113.26,vmta-a2` + "\n"
	got, st := pmtaEvents(t, csv)
	want := []string{
		"1 delivered jane@icloud.com 1 250",
		"3 delivered jane@icloud.com 1 250",
		"1 bounced nobody@me.com 1 550",
		"3 bounced nobody@me.com 1 550",
		"message recipients=1",
		"message recipients=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Bad != 0 || st.Used != 2 || st.Records != 2 {
		t.Errorf("stats %+v", st)
	}
}

// An rb row is a bounce that came back after PowerMTA handed the message
// on (out of band): not an attempt, and not a new message. PowerMTA logs
// it without timeQueued, so it belongs to the message PowerMTA last
// tried for that sender and recipient; an rb row for a message this file
// does not show is skipped. The rows are composed in the documented
// layout.
func TestRemoteBounce(t *testing.T) {
	csv := header +
		`t,2025-03-10 14:02:12+0000,2025-03-10 14:02:11+0000,bounces@mail.example.net,jane@icloud.com,,delayed,4.7.0 (delivery not authorized),"smtp;421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred.",mx01.mail.icloud.com (17.57.154.6),policy-related,smtp,app1.example.net (10.0.0.5),smtp,203.0.113.25,17.57.154.6,,48213,vmta-a1,spring-sale,,icloud.com/vmta-a1,pool-a` + "\n" +
		`rb,2025-03-10 16:00:00+0000,,bounces@mail.example.net,jane@icloud.com,,failed,5.1.1 (bad destination mailbox address),"smtp;550 5.1.1 <jane@icloud.com>: user does not exist",mx01.mail.icloud.com (17.57.154.6),bad-mailbox,,,,,,,,,,,,` + "\n" +
		`rb,2025-03-10 16:00:01+0000,,bounces@mail.example.net,stranger@example.org,,failed,5.1.1 (bad destination mailbox address),"smtp;550 5.1.1 user unknown",mx.example.org (192.0.2.7),bad-mailbox,,,,,,,,,,,,` + "\n"
	got, st := pmtaEvents(t, csv)
	want := []string{
		"1 deferred jane@icloud.com 1 421",
		"3 bounced jane@icloud.com 1 550",
		"message recipients=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Used != 2 || st.Skipped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestNoQueueTime: a file whose fields name no message (no timeQueued,
// header_Message-Id or envId) cannot tell which rows belong to one
// message, but it must not merge two messages to the same recipient:
// each final row (d, b) ends the recipient's message, and a later row for
// the same sender and recipient is another message. The first rows are
// the PowerMTA User's Guide's own example of an accounting file (§11.2.9,
// "records d, b" with its record-fields); the last is a second message to
// user1, a day later.
func TestNoQueueTime(t *testing.T) {
	csv := "type,timeLogged,orig,rcpt,dlvSourceIp,bounceCat\r\n" +
		"d,1178807903,orig@port25.com,user1@domain.com,10.0.0.1,\r\n" +
		"d,1178807905,orig@port25.com,user2@domain.com,10.0.0.1,\r\n" +
		"b,1178807915,orig@port25.com,user3@domain.com,,policy-related\r\n" +
		"b,1178807915,orig@port25.com,user4@domain.com,,policy-related\r\n" +
		"t,1178894300,orig@port25.com,user1@domain.com,10.0.0.1,\r\n" +
		"d,1178894303,orig@port25.com,user1@domain.com,10.0.0.1,\r\n"
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
		if e.Kind != mailtriage.Message {
			got = append(got, fmt.Sprintf("%v %s %s %d", e.Kind, e.Status, e.Recipient, e.Attempts))
		}
	})
	st, err := Read(context.Background(), strings.NewReader(csv), "acct.csv", time.UTC, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	want := []string{
		"1 delivered user1@domain.com 1",
		"3 delivered user1@domain.com 1",
		"1 delivered user2@domain.com 1",
		"3 delivered user2@domain.com 1",
		"1 bounced user3@domain.com 1",
		"3 bounced user3@domain.com 1",
		"1 bounced user4@domain.com 1",
		"3 bounced user4@domain.com 1",
		"1 deferred user1@domain.com 1",
		"1 delivered user1@domain.com 2",
		"3 delivered user1@domain.com 2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestByQueueTime: rows that name their message only by sender and queue
// time say so, for the report to warn that one sender's messages queued in
// the same second merge; a header_Message-Id field names them.
func TestByQueueTime(t *testing.T) {
	for _, tc := range []struct {
		csv  string
		want bool
	}{
		{"type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus\nd,2026-11-25 10:00:01+0000,2026-11-25 10:00:00+0000,news@shop.example,jane@gmail.com,relayed,2.0.0 (success)\n", true},
		{"type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,header_Message-Id\nd,2026-11-25 10:00:01+0000,2026-11-25 10:00:00+0000,news@shop.example,jane@gmail.com,relayed,2.0.0 (success),<a@shop.example>\n", false},
	} {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(*mailtriage.Event) {})
		st, err := Read(context.Background(), strings.NewReader(tc.csv), "acct.csv", time.UTC, tr)
		if err != nil || st.Used != 1 || st.ByQueueTime != tc.want {
			t.Errorf("used %d, by queue time %v, want %v (err %v)", st.Used, st.ByQueueTime, tc.want, err)
		}
	}
}

// TestShownID: the id events carry is one PowerMTA logged for a report
// to show: the envId; none when only the Message-ID (shown as such) or
// nothing names the message, whose key is then the reader's own
// (sender and queue time), not an id anyone can look up.
func TestShownID(t *testing.T) {
	const head = "type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,envId,header_Message-Id\n"
	for _, tt := range []struct{ envID, msgID, want string }{
		{"env-1", "", "env-1"},
		{"env-1", "<m1@shop.example>", "env-1"},
		{"", "<m1@shop.example>", ""},
		{"", "", ""},
	} {
		row := fmt.Sprintf("d,2026-11-26 08:00:01+0000,2026-11-26 08:00:00+0000,news@shop.example,jane@icloud.com,relayed,2.0.0,smtp;250 ok,mx01.mail.icloud.com (17.57.154.6),%s,%s\n", tt.envID, tt.msgID)
		got := "(no event)"
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
			if e.Kind == mailtriage.Attempt {
				got = e.QueueID
			}
		})
		if _, err := Read(context.Background(), strings.NewReader(head+row), "acct.csv", time.UTC, tr); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("envId %q Message-ID %q: queue id %q, want %q", tt.envID, tt.msgID, got, tt.want)
		}
	}
}
