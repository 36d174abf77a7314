package postfix

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/samplelog"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// fixedLanes places domains by a map, so the tracker's tests need no
// lane tables.
type fixedLanes map[string]string

func (f fixedLanes) Lane(domain, relay string) string {
	if l, ok := f[domain]; ok {
		return l
	}
	return "other"
}

// record reads a log and returns its events in a readable form, one per
// line: kind status recipient lane detail.
func record(t *testing.T, log string, workers int) []string {
	t.Helper()
	var out []string
	lanes := fixedLanes{"icloud.com": "apple", "me.com": "apple", "mac.com": "apple", "gmail.com": "google",
		"yahoo.com": "yahoo", "outlook.com": "microsoft", "hotmail.com": "microsoft"}
	tr := NewTracker(lanes, nil, func(e *mailtriage.Event) {
		switch e.Kind {
		case mailtriage.Message:
			out = append(out, fmt.Sprintf("message %s/%s sender=%s notification=%v recipients=%d", e.Host, e.QueueID, e.Sender, e.Notification, e.Recipients))
		default:
			kind := map[mailtriage.Kind]string{mailtriage.Attempt: "attempt", mailtriage.LocalDeferral: "local", mailtriage.Final: "final"}[e.Kind]
			out = append(out, fmt.Sprintf("%s %s %s lane=%s attempts=%d remote=%s detail=%q", kind, e.Status, e.Recipient, e.Lane, e.Attempts, e.RemoteHost, e.Detail.Summary()))
		}
	})
	clock := &syslogstamp.Clock{Year: 2026}
	st, err := Read(context.Background(), strings.NewReader(log), clock, tr, Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	return out
}

func TestLifecycle(t *testing.T) {
	data, err := os.ReadFile("testdata/lifecycle.log")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// Deferred by Proofpoint in front of iCloud, then delivered: the
		// non-final MX's "said" line is evidence, not an attempt.
		`attempt deferred jane@icloud.com lane=apple attempts=1 remote=mx02.mail.icloud.com detail="421 4.7.0 Deferred - see Proofpoint DNSBL lookup"`,
		// A bounce: one attempt, the final outcome, and the bounce
		// daemon's notification, which counts only as a notification.
		`attempt bounced nobody@me.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="550 5.1.1 <nobody@me.com>: user does not exist"`,
		`final bounced nobody@me.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="550 5.1.1 <nobody@me.com>: user does not exist"`,
		`message mta1/5B77C1D0A2 sender=news@shop.example.net notification=false recipients=1`,
		`message mta1/5B77C1D0F1 sender= notification=true recipients=1`,
		// Expired: the root cause is the last reply a server gave, not
		// the later connection timeout nor the suspended local deferral.
		`attempt deferred old@mac.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="421 4.7.0 Deferred - see Proofpoint DNSBL lookup"`,
		`attempt deferred old@mac.com lane=apple attempts=2 remote=mx02.mail.icloud.com detail="Connection timed out"`,
		`local deferred old@mac.com lane=apple attempts=2 remote=mx01.mail.icloud.com detail="421 4.7.0 Deferred - see Proofpoint DNSBL lookup"`,
		// The content filter hop is no attempt; the re-injected copy is the
		// message that counts.
		`attempt delivered li@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764497000 a1si1qkb.12 - gsmtp"`,
		`final delivered li@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764497000 a1si1qkb.12 - gsmtp"`,
		`message mta1/7D0000BBBB sender=noreply@shop.example.net notification=false recipients=1`,
		// A local delivery is a final outcome, not an attempt.
		`final delivered root@mta1.example.net lane=other attempts=0 remote= detail="delivered to mailbox"`,
		`attempt deferred ops@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="421 4.7.0 [TSS04] Messages from 203.0.113.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"`,
		// The same queue id on another host is another message.
		`attempt delivered bob@outlook.com lane=microsoft attempts=1 remote=outlook-com.olc.protection.outlook.com detail="250 2.6.0 Queued mail for delivery"`,
		`final delivered bob@outlook.com lane=microsoft attempts=1 remote=outlook-com.olc.protection.outlook.com detail="250 2.6.0 Queued mail for delivery"`,
		`message mta2/4F1A22C0B3 sender= notification=false recipients=1`,
		// Deleted by an administrator with postsuper.
		`attempt deferred x@hotmail.com lane=microsoft attempts=1 remote=hotmail-com.olc.protection.outlook.com detail="451 4.7.650 The mail server [203.0.113.25] has been temporarily rate limited due to IP reputation. (S775)"`,
		`final deleted x@hotmail.com lane=microsoft attempts=1 remote=hotmail-com.olc.protection.outlook.com detail="451 4.7.650 The mail server [203.0.113.25] has been temporarily rate limited due to IP reputation. (S775)"`,
		`message mta1/AB0000EEEE sender=news@shop.example.net notification=false recipients=1`,
	}
	for _, workers := range []int{1, 3} {
		got := record(t, string(data), workers)
		// The first message's events come out when its lines do; the
		// file is not in time order (like a merge of hosts), and the
		// tracker follows line order.
		wantAll := append([]string{
			`attempt delivered jane@icloud.com lane=apple attempts=2 remote=mx01.mail.icloud.com detail="250 2.0.0 OK"`,
			`final delivered jane@icloud.com lane=apple attempts=2 remote=mx01.mail.icloud.com detail="250 2.0.0 OK"`,
			`message mta1/4F1A22C0B3 sender=news@shop.example.net notification=false recipients=1`,
		}, want...)
		wantAll[0], wantAll[1], wantAll[2], wantAll[3] = wantAll[3], wantAll[0], wantAll[1], wantAll[2]
		expiredAt := slices.Index(wantAll, `local deferred old@mac.com lane=apple attempts=2 remote=mx01.mail.icloud.com detail="421 4.7.0 Deferred - see Proofpoint DNSBL lookup"`)
		wantAll = slices.Insert(wantAll, expiredAt+1,
			`final expired old@mac.com lane=apple attempts=2 remote=mx01.mail.icloud.com detail="421 4.7.0 Deferred - see Proofpoint DNSBL lookup"`,
			`message mta1/6C0A91E2B4 sender=alerts@bank.example.org notification=false recipients=1`)
		// Still deferred when the log ends: pending, closed by Finish
		// (after the pickup message's own events).
		got, pending := splitPending(got)
		if len(pending) != 2 ||
			pending[0] != `final pending ops@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="421 4.7.0 [TSS04] Messages from 203.0.113.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"` ||
			pending[1] != `message mta1/8E0000CCCC sender=root@mta1.example.net notification=false recipients=2` {
			t.Errorf("workers=%d: pending events:\n%s", workers, strings.Join(pending, "\n"))
		}
		if !slices.Equal(got, wantAll) {
			t.Errorf("workers=%d: events differ\n got:\n%s\nwant:\n%s", workers, strings.Join(got, "\n"), strings.Join(wantAll, "\n"))
		}
	}
}

// splitPending takes out the events Finish emitted for the one message
// left open.
func splitPending(events []string) (rest, pending []string) {
	for _, e := range events {
		if strings.Contains(e, "final pending") || strings.Contains(e, "8E0000CCCC") {
			pending = append(pending, e)
			continue
		}
		rest = append(rest, e)
	}
	return rest, pending
}

func TestReadProblems(t *testing.T) {
	// An overlong line is skipped and counted; the lines around it count.
	long := strings.Repeat("x", 1<<20)
	log := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n" + long + "\n" +
		"garbage\n" +
		"2026-11-30T10:00:01+00:00 mta1 dovecot: imap-login: Login\n" +
		"2026-11-30T10:00:02+00:00 mta1 postfix/qmgr[1]: 5B77C1D0A2: removed"
	tr := NewTracker(nil, nil, func(*mailtriage.Event) {})
	st, err := Read(context.Background(), strings.NewReader(log), &syslogstamp.Clock{}, tr, Options{Workers: 2, MaxLine: 4096, Samples: 5})
	if err != nil {
		t.Fatal(err)
	}
	if st.Postfix != 2 || st.Overlong != 1 || st.FirstOverlong != 2 || st.Unparsed != 1 || st.Other != 1 {
		t.Errorf("stats %+v", st)
	}
	if len(st.Samples) != 1 || st.Samples[0].Text != "garbage" || st.Samples[0].Line != 3 {
		t.Errorf("samples %+v", st.Samples)
	}
	if want := time.Date(2026, 11, 30, 10, 0, 2, 0, time.UTC); !st.Last.Equal(want) {
		t.Errorf("last = %v", st.Last)
	}
}

func TestRolloverAcrossChunks(t *testing.T) {
	// Traditional stamps from December into January: the year carries
	// forward, whatever chunk a line lands in.
	var b strings.Builder
	for i := 0; i < 30000; i++ {
		fmt.Fprintf(&b, "Dec 31 23:%02d:%02d mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n", (i/60)%60, i%60)
	}
	for i := 0; i < 30000; i++ {
		fmt.Fprintf(&b, "Jan  1 00:%02d:%02d mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n", (i/60)%60, i%60)
	}
	tr := NewTracker(nil, nil, func(*mailtriage.Event) {})
	clock := &syslogstamp.Clock{Now: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), Modified: time.Date(2027, 1, 1, 1, 0, 0, 0, time.UTC)}
	st, err := Read(context.Background(), strings.NewReader(b.String()), clock, tr, Options{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if st.First.Year() != 2026 || st.Last.Year() != 2027 {
		t.Errorf("first %v last %v", st.First, st.Last)
	}
}

// TestRepeatedHour: Europe/Berlin repeats 02:00-03:00 on the last Sunday
// of October (CEST, then CET). A deferral in the first pass and the
// delivery in the second keep their order, an hour apart in UTC.
func TestRepeatedHour(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	log := "Oct 25 02:40:01 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n" +
		"Oct 25 02:40:02 mta1 postfix/smtp[2]: 4F1A22C0B3: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n" +
		"Oct 25 02:10:02 mta1 postfix/smtp[2]: 4F1A22C0B3: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1801, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n"
	var got []string
	tr := NewTracker(fixedLanes{}, nil, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Attempt {
			got = append(got, e.Status.String()+" "+e.Time.UTC().Format(time.RFC3339))
		}
	})
	clock := &syslogstamp.Clock{Year: 2026, Location: loc}
	st, err := Read(context.Background(), strings.NewReader(log), clock, tr, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := "deferred 2026-10-25T00:40:02Z, delivered 2026-10-25T01:10:02Z"
	if g := strings.Join(got, ", "); g != want {
		t.Errorf("got %s, want %s", g, want)
	}
	if first := st.First.UTC().Format(time.RFC3339); first != "2026-10-25T00:40:01Z" {
		t.Errorf("first %s", first)
	}
}

// FuzzRead feeds arbitrary logs through the reader and the tracker, as
// streams and in place: whatever the input, no panic, and every message
// the tracker opened is closed by Finish.
func FuzzRead(f *testing.F) {
	data, _ := os.ReadFile("testdata/lifecycle.log")
	f.Add(data)
	f.Add([]byte("Dec 31 23:59:59 h postfix/smtp[1]: ABCDEF: to=<a@b>, relay=none, status=deferred (x)\nJan  1 00:00:00 h postfix/qmgr[1]: ABCDEF: removed\n"))
	f.Add([]byte("\n\n\r\n2026-11-30T10:00:00Z h postfix/bounce[1]: ABCDEF: sender non-delivery notification: ABCDEF\n"))
	f.Fuzz(func(t *testing.T, log []byte) {
		for _, mapped := range []bool{false, true} {
			tr := NewTracker(fixedLanes{}, nil, func(*mailtriage.Event) {})
			opts := Options{Workers: 2, MaxLine: 512, Samples: 2}
			var err error
			if mapped {
				_, err = ReadBytes(context.Background(), log, nil, &syslogstamp.Clock{Year: 2026}, tr, opts)
			} else {
				_, err = Read(context.Background(), strings.NewReader(string(log)), &syslogstamp.Clock{Year: 2026}, tr, opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			tr.Finish(time.Time{})
			if tr.Open() != 0 {
				t.Fatalf("%d messages left open after Finish", tr.Open())
			}
		}
	})
}

func TestEdgeCases(t *testing.T) {
	data, err := os.ReadFile("testdata/edgecases.log")
	if err != nil {
		t.Fatal(err)
	}
	got := record(t, string(data), 2)
	want := []string{
		// LMTP to a local Dovecot on 127.0.0.1:24 is a local delivery,
		// not a content filter (nothing is queued again) nor an attempt.
		`final delivered me@corp.example lane=other attempts=0 remote=127.0.0.1 detail="250 2.0.0 <me@corp.example> kFuSNVsYzWgkAAAAaQ Saved"`,
		`message mx/A1000000AA sender=friend@ext.example.org notification=false recipients=1`,
		// The queue manager defers a recipient itself: a local deferral.
		`local deferred x@gmail.com lane=google attempts=0 remote= detail="mail transport unavailable"`,
		// The non-final MX's reply is the root cause, not the final MX's
		// connection timeout.
		`attempt deferred y@icloud.com lane=apple attempts=1 remote=mx02.mail.icloud.com detail="Connection timed out"`,
		`final expired y@icloud.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred."`,
		`message mx/C3000000CC sender=app@corp.example notification=false recipients=1`,
		// A null sender from a local client is not the MTA's notification.
		`attempt delivered z@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="250 ok dirdel"`,
		`final delivered z@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="250 ok dirdel"`,
		`message mx/D4000000DD sender= notification=false recipients=1`,
		// A queue id used again after its message's end went missing: the
		// old message closes (pending), the new one starts afresh.
		`attempt deferred w@outlook.com lane=microsoft attempts=1 remote=outlook-com.olc.protection.outlook.com detail="451 4.7.650 The mail server [203.0.113.25] has been temporarily rate limited due to IP reputation. (S775)"`,
		`final pending w@outlook.com lane=microsoft attempts=1 remote=outlook-com.olc.protection.outlook.com detail="451 4.7.650 The mail server [203.0.113.25] has been temporarily rate limited due to IP reputation. (S775)"`,
		`message mx/E5000000EE sender=old@ext.example.org notification=false recipients=1`,
		`attempt delivered v@outlook.com lane=microsoft attempts=1 remote=outlook-com.olc.protection.outlook.com detail="250 2.6.0 Queued mail for delivery"`,
		`final delivered v@outlook.com lane=microsoft attempts=1 remote=outlook-com.olc.protection.outlook.com detail="250 2.6.0 Queued mail for delivery"`,
		`message mx/E5000000EE sender=new@ext.example.org notification=false recipients=1`,
		// Still open at the end: the message deferred by the queue manager.
		`final pending x@gmail.com lane=google attempts=0 remote= detail="mail transport unavailable"`,
		`message mx/B2000000BB sender=app@corp.example notification=false recipients=1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestQueuedTimeFromDelay: a message queued before the log began is
// dated by delay=, not by its first line.
func TestQueuedTimeFromDelay(t *testing.T) {
	log := "2026-11-30T10:04:01+00:00 mx postfix/smtp[4]: E5000000EE: to=<w@outlook.com>, relay=x[192.0.2.1]:25, delay=7200, delays=7199/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)\n"
	var queued time.Time
	tr := NewTracker(fixedLanes{}, nil, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Message {
			queued = e.Queued
		}
	})
	st, err := Read(context.Background(), strings.NewReader(log), &syslogstamp.Clock{}, tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	if want := time.Date(2026, 11, 30, 8, 4, 1, 0, time.UTC); !queued.Equal(want) {
		t.Errorf("queued %v, want %v", queued, want)
	}
}

// TestHashCollision: messages whose keys share a hash are chained, found
// by their own key, and closed one by one.
func TestHashCollision(t *testing.T) {
	var closed []string
	tr := NewTracker(nil, nil, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Message {
			closed = append(closed, e.QueueID)
		}
	})
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	host := []byte("mta1")
	// Long ids too, including ones longer than a message keeps in itself
	// that differ only past that room.
	long := strings.Repeat("4Lq3Rz6Bv7z9sKp", 2)
	ids := []string{"4F1A22C0B3", "5A0B11D2C4", "6C3D44E5F6", "4Lq3Rz6Bv7z9sKp", long + "A", long + "B"}
	var msgs []*message
	for i, id := range ids {
		msgs = append(msgs, tr.messageByKey(42, host, []byte(id), at.Add(time.Duration(i)*time.Second)))
	}
	for i, id := range ids {
		if m := tr.lookup(42, host, []byte(id)); m != msgs[i] {
			t.Fatalf("lookup %s: got %p, want %p", id, m, msgs[i])
		}
		if m := tr.messageByKey(42, host, []byte(id), at); m != msgs[i] {
			t.Fatalf("messageByKey %s made a second message", id)
		}
	}
	if m := tr.lookup(42, []byte("mta2"), []byte(ids[0])); m != nil {
		t.Error("another host's message with the same queue id was found")
	}
	tr.close(msgs[1], at, mailtriage.Pending) // the middle of the chain
	if tr.lookup(42, host, []byte(ids[1])) != nil || tr.lookup(42, host, []byte(ids[0])) != msgs[0] || tr.lookup(42, host, []byte(ids[2])) != msgs[2] {
		t.Fatal("closing one message of a chain lost or kept the wrong ones")
	}
	if tr.Open() != 5 {
		t.Errorf("Open() = %d, want 5", tr.Open())
	}
	tr.Finish(at)
	if want := []string{ids[1], ids[0], ids[2], ids[3], ids[4], ids[5]}; !slices.Equal(closed, want) {
		t.Errorf("closed %v, want %v", closed, want)
	}
	if tr.Open() != 0 || tr.msgs.n != 0 {
		t.Errorf("after Finish: Open() = %d, %d in the table", tr.Open(), tr.msgs.n)
	}
}

// TestChurn: after many messages came and went, every open message is
// still found, by queue id and by Message-ID, and no closed one is.
func TestChurn(t *testing.T) {
	tr := NewTracker(nil, nil, func(*mailtriage.Event) {})
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	host := []byte("mta1")
	var open []*message
	var closed []string
	for i := range 30000 {
		qid := []byte(fmt.Sprintf("%010X", i))
		m := tr.messageByKey(tr.hash(host, qid), host, qid, at)
		id := []byte(fmt.Sprintf("<%d@example.com>", i))
		tr.messageID(m, id, maphash.Bytes(tr.seed, id))
		if i%10 == 0 {
			open = append(open, m)
		} else {
			closed = append(closed, string(qid))
			tr.close(m, at, mailtriage.Pending)
		}
	}
	for _, m := range open {
		if got := tr.lookup(m.hash, []byte(m.host), []byte(m.qid)); got != m {
			t.Fatalf("%s lost", m.qid)
		}
		if tr.byMsgID.first(maphash.String(tr.seed, m.messageID)) != m {
			t.Fatalf("%s lost by Message-ID", m.messageID)
		}
	}
	for _, qid := range closed {
		if tr.lookup(tr.hash(host, []byte(qid)), host, []byte(qid)) != nil {
			t.Fatalf("closed %s found", qid)
		}
	}
	if tr.Open() != len(open) || tr.msgs.n != len(open) || tr.byMsgID.n != len(open) {
		t.Errorf("open %d, %d in the table, %d Message-IDs, want %d", tr.Open(), tr.msgs.n, tr.byMsgID.n, len(open))
	}
}

// TestRecycle: a message opened after another closed starts blank, even
// when it reuses the closed one's memory.
func TestRecycle(t *testing.T) {
	tr := NewTracker(nil, nil, func(*mailtriage.Event) {})
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	host, qid := []byte("mta1"), []byte("4F1A22C0B3")
	m := tr.messageByKey(tr.hash(host, qid), host, qid, at)
	m.sender, m.senderKnown, m.notification, m.messageID = "jane@example.com", true, true, "<1@example.com>"
	r := tr.recipient(m, []byte("kim@example.org"), []byte("kim@old.example.org"))
	r.attempts, r.final = 3, true
	// A second recipient, kept apart from the first (which lives in the
	// message itself), and a failure each.
	r1 := tr.recipient(m, []byte("lou@example.org"), []byte("lou@old.example.org"))
	if r1 == r || tr.recipient(m, []byte("kim@example.org"), []byte("kim@old.example.org")) != r || tr.recipient(m, []byte("lou@example.org"), []byte("lou@old.example.org")) != r1 {
		t.Fatal("recipients of one message mixed up")
	}
	failure := &smtpreply.Detail{Text: "421 4.7.0 try later", Reply: smtpreply.Reply{Code: 421, Enhanced: "4.7.0", Text: "try later"}}
	tr.rememberReport(r, failure, mailtriage.Verdict{Rule: "x"}, "mx", "192.0.2.1")
	tr.rememberReport(r1, failure, mailtriage.Verdict{Rule: "x"}, "mx", "192.0.2.1")
	tr.close(m, at, mailtriage.Pending)

	qid2 := []byte("5A0B11D2C4")
	m2 := tr.messageByKey(tr.hash(host, qid2), host, qid2, at.Add(time.Minute))
	if m2.sender != "" || m2.senderKnown || m2.notification || m2.messageID != "" || len(m2.rcpts) != 0 || m2.qid != string(qid2) || !m2.queued.Equal(at.Add(time.Minute)) {
		t.Errorf("new message carries the closed one's state: %+v", m2)
	}
	r2 := tr.recipient(m2, []byte("lee@example.net"), nil)
	if r2.attempts != 0 || r2.final || r2.cause != nil || r2.addr != "lee@example.net" || r2.domain != "example.net" || r2.orig != "" {
		t.Errorf("new recipient carries the closed one's state: %+v", r2)
	}
	r3 := tr.recipient(m2, []byte("max@example.net"), nil)
	if r3.attempts != 0 || r3.final || r3.cause != nil || r3.addr != "max@example.net" || r3.orig != "" {
		t.Errorf("new recipient carries the closed one's state: %+v", r3)
	}
	tr.rememberReport(r3, &smtpreply.Detail{Text: "550 5.1.1 no such user"}, mailtriage.Verdict{}, "", "")
	if c := r3.cause; c == nil || c.hasAnswer || c.answeredHost != "" || c.failed.Text != "550 5.1.1 no such user" {
		t.Errorf("a reused cause carries the closed one's state: %+v", c)
	}
}

// TestReleaseAfterTracked: ReadBytes tells release only of data the
// tracker is done with. The release here overwrites what it is told of,
// so a premature call would change the events.
func TestReleaseAfterTracked(t *testing.T) {
	cfg := samplelog.Default()
	cfg.Days = 2
	cfg.Scale = 2
	var log bytes.Buffer
	if err := samplelog.Generate(&log, cfg); err != nil {
		t.Fatal(err)
	}
	if log.Len() < 4*chunkSize {
		t.Fatalf("the log has %d bytes, too few chunks to test", log.Len())
	}
	run := func(data []byte, release func(int)) []string {
		var events []string
		tr := NewTracker(fixedLanes{}, nil, func(e *mailtriage.Event) {
			events = append(events, fmt.Sprintf("%+v", *e))
		})
		if _, err := ReadBytes(context.Background(), data, release, &syslogstamp.Clock{}, tr, Options{Workers: 2}); err != nil {
			t.Fatal(err)
		}
		tr.Finish(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		return events
	}
	want := run(bytes.Clone(log.Bytes()), nil)
	data := bytes.Clone(log.Bytes())
	released := 0
	got := run(data, func(n int) {
		if n < released || n > len(data) {
			t.Errorf("release(%d) after release(%d), of %d bytes", n, released, len(data))
			return
		}
		for i := released; i < n; i++ {
			data[i] = 'X'
		}
		released = n
	})
	if released == 0 {
		t.Error("release was never called")
	}
	if !slices.Equal(got, want) {
		t.Errorf("the events changed when released data was overwritten: %d events, want %d", len(got), len(want))
	}
}

// TestSenderUnknown: a message whose qmgr from= line came before the log
// began has an unknown sender, which is not the null sender of from=<>.
func TestSenderUnknown(t *testing.T) {
	log := `2026-11-30T10:00:01+00:00 mx postfix/smtp[4]: A1000000AA: to=<a@gmail.com>, relay=x[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)
2026-11-30T10:00:02+00:00 mx postfix/qmgr[3]: A1000000AA: removed
2026-11-30T10:00:03+00:00 mx postfix/smtpd[5]: B2000000BB: client=relay.example[192.0.2.7]
2026-11-30T10:00:03+00:00 mx postfix/qmgr[3]: B2000000BB: from=<>, size=900, nrcpt=1 (queue active)
2026-11-30T10:00:04+00:00 mx postfix/smtp[4]: B2000000BB: to=<b@gmail.com>, relay=x[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)
2026-11-30T10:00:05+00:00 mx postfix/qmgr[3]: B2000000BB: removed
`
	unknown := map[string]bool{}
	tr := NewTracker(fixedLanes{}, nil, func(e *mailtriage.Event) {
		if e.Sender != "" {
			t.Errorf("%s: sender %q", e.QueueID, e.Sender)
		}
		if prev, ok := unknown[e.QueueID]; ok && prev != e.SenderUnknown {
			t.Errorf("%s: events disagree on the sender", e.QueueID)
		}
		unknown[e.QueueID] = e.SenderUnknown
	})
	st, err := Read(context.Background(), strings.NewReader(log), &syslogstamp.Clock{}, tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	if !unknown["A1000000AA"] || unknown["B2000000BB"] {
		t.Errorf("sender unknown by queue id: %v, want A1000000AA only", unknown)
	}
}

// TestLocalStatus: a failure the local MTA decided itself carries the
// enhanced status Postfix logged in dsn= (global/log_adhoc.c), which its
// words do not; a malformed dsn= is left out.
func TestLocalStatus(t *testing.T) {
	log := `2026-11-30T10:00:00+00:00 mx postfix/qmgr[3]: EB0B8770: from=<a@shop.example>, size=900, nrcpt=2 (queue active)
2026-11-30T10:00:01+00:00 mx postfix/error[4]: EB0B8770: to=<to@example.com>, relay=none, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (User unknown in virtual alias table)
2026-11-30T10:00:01+00:00 mx postfix/error[4]: EB0B8770: to=<to@example.org>, relay=none, delay=1, delays=0/0/0/1, dsn=X.Y.Z, status=bounced (User unknown in virtual alias table)
2026-11-30T10:00:02+00:00 mx postfix/qmgr[3]: EB0B8770: removed
`
	dsn := map[string]string{}
	tr := NewTracker(fixedLanes{}, nil, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Final {
			dsn[e.Recipient] = e.Detail.DSN
		}
	})
	st, err := Read(context.Background(), strings.NewReader(log), &syslogstamp.Clock{}, tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	if want := map[string]string{"to@example.com": "5.1.1", "to@example.org": ""}; fmt.Sprint(dsn) != fmt.Sprint(want) {
		t.Errorf("dsn by recipient %v, want %v", dsn, want)
	}
}

// TestOrigTo: Postfix queues an address once per original recipient
// (cleanup's duplicate filter keeps distinct pairs of recipient and
// original recipient, enable_original_recipient=yes), and delivers and logs
// each: jane@icloud.com, written to directly and through an alias, is two
// recipients of the message, each with its own attempts. A line said again
// of the same pair after its end is no news.
func TestOrigTo(t *testing.T) {
	const relay = "relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0.5/0.5, "
	log := "2026-11-29T12:46:10+00:00 mta1 postfix/qmgr[1]: 2432520D41: from=<noreply@shop.example.net>, size=2445, nrcpt=2 (queue active)\n" +
		"2026-11-29T12:46:12+00:00 mta1 postfix/smtp[2]: 2432520D41: to=<jane@icloud.com>, orig_to=<customer-99366@shop.example.net>, " + relay +
		"dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command))\n" +
		"2026-11-29T12:46:12+00:00 mta1 postfix/smtp[2]: 2432520D41: to=<jane@icloud.com>, " + relay + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 917559892)\n" +
		"2026-11-29T12:46:12+00:00 mta1 postfix/smtp[2]: 2432520D41: to=<jane@icloud.com>, " + relay + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 917559892)\n" +
		"2026-11-29T12:52:00+00:00 mta1 postfix/qmgr[1]: 2432520D41: from=<noreply@shop.example.net>, size=2445, nrcpt=2 (queue active)\n" +
		"2026-11-29T12:52:01+00:00 mta1 postfix/smtp[2]: 2432520D41: to=<jane@icloud.com>, orig_to=<customer-99366@shop.example.net>, " + relay + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 324193382)\n" +
		"2026-11-29T12:52:01+00:00 mta1 postfix/qmgr[1]: 2432520D41: removed\n"
	got := record(t, log, 1)
	want := []string{
		`attempt deferred jane@icloud.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="421 4.7.0 Deferred - see Proofpoint DNSBL lookup"`,
		`attempt delivered jane@icloud.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="250 2.0.0 Ok: queued as 917559892"`,
		`final delivered jane@icloud.com lane=apple attempts=1 remote=mx01.mail.icloud.com detail="250 2.0.0 Ok: queued as 917559892"`,
		`attempt delivered jane@icloud.com lane=apple attempts=2 remote=mx01.mail.icloud.com detail="250 2.0.0 Ok: queued as 324193382"`,
		`final delivered jane@icloud.com lane=apple attempts=2 remote=mx01.mail.icloud.com detail="250 2.0.0 Ok: queued as 324193382"`,
		`message mta1/2432520D41 sender=noreply@shop.example.net notification=false recipients=2`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRecipientKeys: a list message's recipients, looked up by map, are
// told apart by their original recipient as the first few are.
func TestRecipientKeys(t *testing.T) {
	tr := NewTracker(nil, nil, func(*mailtriage.Event) {})
	host, qid := []byte("mta1"), []byte("4F1A22C0B3")
	m := tr.messageByKey(tr.hash(host, qid), host, qid, time.Now())
	byKey := map[string]*recipient{}
	for i := range 12 {
		addr, orig := []byte(fmt.Sprintf("u%d@example.org", i/2)), []byte(nil)
		if i%2 == 1 {
			orig = []byte(fmt.Sprintf("alias%d@example.org", i))
		}
		byKey[string(addr)+" "+string(orig)] = tr.recipient(m, addr, orig)
	}
	if len(m.rcpts) != 12 || m.byAddr == nil {
		t.Fatalf("%d recipients, map %v", len(m.rcpts), m.byAddr != nil)
	}
	for k, r := range byKey {
		addr, orig, _ := strings.Cut(k, " ")
		if got := tr.recipient(m, []byte(addr), []byte(orig)); got != r || got.orig != orig {
			t.Errorf("%s: another recipient (%s %s)", k, got.addr, got.orig)
		}
	}
	if len(m.rcpts) != 12 {
		t.Errorf("lookups added recipients: %d", len(m.rcpts))
	}
}

// TestHandedToCopy: the recipients a content filter's hop hands to the
// copy it queued are the copy's, also before the copy's own lines name
// them: a log that ends in between leaves them pending, not uncounted. The
// copy's lines may name a recipient without the hop's orig_to= (the filter
// re-injects the address alone, as in pixelpark/postfix-logsums'
// tests/mail.log), and it is the same recipient.
func TestHandedToCopy(t *testing.T) {
	const hop = ", relay=127.0.0.1[127.0.0.1]:10024, delay=1.5, delays=1/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as "
	// The log ends after the hop: the copy's recipient is pending.
	ended := "2026-11-28T13:59:59+00:00 mta1 postfix/smtpd[1]: D0B5DA57D1: client=app1.shop.example.net[198.51.100.10]\n" +
		"2026-11-28T13:59:59+00:00 mta1 postfix/cleanup[2]: D0B5DA57D1: message-id=<1@shop.example.net>\n" +
		"2026-11-28T13:59:59+00:00 mta1 postfix/qmgr[3]: D0B5DA57D1: from=<noreply@shop.example.net>, size=32667, nrcpt=1 (queue active)\n" +
		"2026-11-28T14:00:01+00:00 mta1 postfix/10025/smtpd[4]: D15411D182: client=localhost[127.0.0.1]\n" +
		"2026-11-28T14:00:01+00:00 mta1 postfix/cleanup[2]: D15411D182: message-id=<1@shop.example.net>\n" +
		"2026-11-28T14:00:01+00:00 mta1 postfix/qmgr[3]: D15411D182: from=<noreply@shop.example.net>, size=33567, nrcpt=1 (queue active)\n" +
		"2026-11-28T14:00:01+00:00 mta1 postfix/amavis/smtp[5]: D0B5DA57D1: to=<paul@gmail.com>, orig_to=<customer-93991@shop.example.net>" + hop + "D15411D182)\n" +
		"2026-11-28T14:00:01+00:00 mta1 postfix/qmgr[3]: D0B5DA57D1: removed\n"
	got := record(t, ended, 1)
	want := []string{
		`final pending paul@gmail.com lane=google attempts=0 remote= detail=""`,
		`message mta1/D15411D182 sender=noreply@shop.example.net notification=false recipients=1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("log ends after the hop: events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The copy names the recipient without orig_to=: the same recipient.
	delivered := ended + "2026-11-28T14:00:02+00:00 mta1 postfix/smtp[6]: D15411D182: to=<paul@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.102.26]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 OK)\n" +
		"2026-11-28T14:00:02+00:00 mta1 postfix/qmgr[3]: D15411D182: removed\n"
	got = record(t, delivered, 1)
	want = []string{
		`attempt delivered paul@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`final delivered paul@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`message mta1/D15411D182 sender=noreply@shop.example.net notification=false recipients=1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the copy delivers: events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The copy names another address (mapped again after the filter) and
	// the queue manager removes it: the handed address was that one, not
	// a recipient deleted.
	mapped := ended + "2026-11-28T14:00:02+00:00 mta1 postfix/smtp[6]: D15411D182: to=<paul.smith@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.102.26]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 OK)\n" +
		"2026-11-28T14:00:02+00:00 mta1 postfix/qmgr[3]: D15411D182: removed\n"
	got = record(t, mapped, 1)
	want = []string{
		`attempt delivered paul.smith@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`final delivered paul.smith@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`message mta1/D15411D182 sender=noreply@shop.example.net notification=false recipients=1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the copy maps the address: events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestYearBehindPRI: a traditional stamp behind the priority a collector
// kept ("<22>Nov 30 10:00:01 ...", RFC 5424 section 6.2.1; postfixlog
// reads such lines) has its year inferred as one without it, and the
// stats name that year, as the report's zone note and the JSON "year" do.
func TestYearBehindPRI(t *testing.T) {
	clock := func() *syslogstamp.Clock {
		return &syslogstamp.Clock{Now: time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), Modified: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	}
	for _, prefix := range []string{"", "<22>"} {
		log := prefix + "Nov 30 10:00:01 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
		tr := NewTracker(nil, nil, func(*mailtriage.Event) {})
		st, err := Read(context.Background(), strings.NewReader(log), clock(), tr, Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if st.Yearless != 1 || st.Year != 2026 || st.First.Year() != 2026 {
			t.Errorf("%q: yearless %d, year %d, first %v; want 1, 2026, 2026", prefix, st.Yearless, st.Year, st.First)
		}
	}
}

// TestRefusedBeforeQueued: a message cleanup or a milter refuses as a
// whole, after smtpd gave it a queue id, never reaches the queue manager
// and is not a message sent; a reject at RCPT refuses one recipient and
// the message goes on.
func TestRefusedBeforeQueued(t *testing.T) {
	log := `2026-12-01T13:01:00.000000+00:00 mx1 postfix/smtpd[1031]: 8192A3B4C5: client=mail-wr1-f54.google.com[209.85.221.54]
2026-12-01T13:01:00.500000+00:00 mx1 postfix/smtpd[1031]: 8192A3B4C5: reject: RCPT from mail-wr1-f54.google.com[209.85.221.54]: 550 5.1.1 <nosuch@example.net>: Recipient address rejected: User unknown in virtual mailbox table; from=<pat@gmail.com> to=<nosuch@example.net> proto=ESMTP helo=<mail-wr1-f54.google.com>
2026-12-01T13:01:01.000000+00:00 mx1 postfix/cleanup[1002]: 8192A3B4C5: message-id=<CAF=ghi@mail.gmail.com>
2026-12-01T13:01:01.100000+00:00 mx1 postfix/cleanup[1002]: 8192A3B4C5: milter-reject: END-OF-MESSAGE from mail-wr1-f54.google.com[209.85.221.54]: 5.7.1 Rejected by spam filter; from=<pat@gmail.com> to=<tina@example.net> proto=ESMTP helo=<mail-wr1-f54.google.com>
2026-12-01T13:02:00.000000+00:00 mx1 postfix/smtpd[1031]: 92A3B4C5D6: client=app1.example.net[198.51.100.10]
2026-12-01T13:02:00.010000+00:00 mx1 postfix/cleanup[1002]: 92A3B4C5D6: reject: header Subject: FREE MONEY from app1.example.net[198.51.100.10]; from=<news@example.net> to=<uma@gmail.com> proto=ESMTP helo=<app1.example.net>: 5.7.1 message content rejected
2026-12-01T13:03:00.000000+00:00 mx1 postfix/smtpd[1031]: A3B4C5D6E7: client=app1.example.net[198.51.100.10]
2026-12-01T13:03:00.005000+00:00 mx1 postfix/smtpd[1031]: A3B4C5D6E7: reject: RCPT from app1.example.net[198.51.100.10]: 554 5.7.1 <x@blocked.example>: Recipient address rejected: Access denied; from=<news@example.net> to=<x@blocked.example> proto=ESMTP helo=<app1.example.net>
2026-12-01T13:03:00.010000+00:00 mx1 postfix/cleanup[1002]: A3B4C5D6E7: message-id=<g4@example.net>
2026-12-01T13:03:00.020000+00:00 mx1 postfix/qmgr[1003]: A3B4C5D6E7: from=<news@example.net>, size=3000, nrcpt=1 (queue active)
2026-12-01T13:03:01.000000+00:00 mx1 postfix/smtp[1004]: A3B4C5D6E7: to=<vic@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.102.26]:25, delay=1, delays=0.02/0.01/0.5/0.47, dsn=2.0.0, status=sent (250 2.0.0 OK  1764594181 f6si9qkb.1 - gsmtp)
2026-12-01T13:03:01.010000+00:00 mx1 postfix/qmgr[1003]: A3B4C5D6E7: removed
`
	got := record(t, log, 2)
	want := []string{
		`attempt delivered vic@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764594181 f6si9qkb.1 - gsmtp"`,
		`final delivered vic@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764594181 f6si9qkb.1 - gsmtp"`,
		`message mx1/A3B4C5D6E7 sender=news@example.net notification=false recipients=1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLocalForward: local(8) forwards a recipient whose alias or .forward
// names other addresses in a new message ("forwarded as NEWID",
// local/forward.c). The recipient is not delivered by that: the new
// message's recipients carry it on, and the message is counted once,
// whether it also delivered another recipient itself or not. A bounce
// from outside (null sender) forwarded so is not a notification of this
// MTA's, although the new message's queue manager line, logged before the
// forwarding line, shows only the null sender.
func TestLocalForward(t *testing.T) {
	log := `2026-12-01T12:00:00.000000+00:00 mx1 postfix/pickup[1010]: 3C4D5E6F70: uid=0 from=<root>
2026-12-01T12:00:00.010000+00:00 mx1 postfix/cleanup[1002]: 3C4D5E6F70: message-id=<20261201120000.3C4D5E6F70@mx1.example.net>
2026-12-01T12:00:00.020000+00:00 mx1 postfix/qmgr[1003]: 3C4D5E6F70: from=<root@mx1.example.net>, size=600, nrcpt=2 (queue active)
2026-12-01T12:00:00.100000+00:00 mx1 postfix/local[1012]: 3C4D5E6F70: to=<admin@mx1.example.net>, orig_to=<root>, relay=local, delay=0.09, delays=0.02/0.01/0/0.06, dsn=2.0.0, status=sent (delivered to mailbox)
2026-12-01T12:00:00.110000+00:00 mx1 postfix/cleanup[1002]: 4D5E6F7081: message-id=<20261201120000.3C4D5E6F70@mx1.example.net>
2026-12-01T12:00:00.120000+00:00 mx1 postfix/qmgr[1003]: 4D5E6F7081: from=<root@mx1.example.net>, size=780, nrcpt=1 (queue active)
2026-12-01T12:00:00.130000+00:00 mx1 postfix/local[1012]: 3C4D5E6F70: to=<ops@mx1.example.net>, orig_to=<postmaster>, relay=local, delay=0.11, delays=0.02/0.01/0/0.08, dsn=2.0.0, status=sent (forwarded as 4D5E6F7081)
2026-12-01T12:00:00.140000+00:00 mx1 postfix/qmgr[1003]: 3C4D5E6F70: removed
2026-12-01T12:00:01.000000+00:00 mx1 postfix/smtp[1004]: 4D5E6F7081: to=<oncall@gmail.com>, orig_to=<postmaster>, relay=gmail-smtp-in.l.google.com[142.250.102.26]:25, delay=1, delays=0.01/0.01/0.5/0.48, dsn=2.0.0, status=sent (250 2.0.0 OK  1764590401 d4si7qkb.1 - gsmtp)
2026-12-01T12:00:01.010000+00:00 mx1 postfix/qmgr[1003]: 4D5E6F7081: removed
2026-12-01T12:05:00.000000+00:00 mx1 postfix/smtpd[1020]: 5E6F708192: client=mail-wr1-f54.google.com[209.85.221.54]
2026-12-01T12:05:00.010000+00:00 mx1 postfix/cleanup[1002]: 5E6F708192: message-id=<CAF=abc@mail.gmail.com>
2026-12-01T12:05:00.020000+00:00 mx1 postfix/qmgr[1003]: 5E6F708192: from=<>, size=8000, nrcpt=1 (queue active)
2026-12-01T12:05:00.030000+00:00 mx1 postfix/cleanup[1002]: 6F708192A3: message-id=<CAF=abc@mail.gmail.com>
2026-12-01T12:05:00.040000+00:00 mx1 postfix/qmgr[1003]: 6F708192A3: from=<>, size=8200, nrcpt=2 (queue active)
2026-12-01T12:05:00.050000+00:00 mx1 postfix/local[1012]: 5E6F708192: to=<bob@mx1.example.net>, relay=local, delay=0.05, delays=0.02/0.01/0/0.02, dsn=2.0.0, status=sent (forwarded as 6F708192A3)
2026-12-01T12:05:00.060000+00:00 mx1 postfix/qmgr[1003]: 5E6F708192: removed
2026-12-01T12:05:01.000000+00:00 mx1 postfix/smtp[1004]: 6F708192A3: to=<bob@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.102.26]:25, delay=1, delays=0.01/0.01/0.5/0.48, dsn=2.0.0, status=sent (250 2.0.0 OK  1764590701 e5si8qkb.1 - gsmtp)
2026-12-01T12:05:02.000000+00:00 mx1 postfix/smtp[1005]: 6F708192A3: to=<bob@yahoo.com>, relay=mta5.am0.yahoodns.net[67.195.204.72]:25, delay=2, delays=0.01/0.01/1.5/0.48, dsn=5.1.1, status=bounced (host mta5.am0.yahoodns.net[67.195.204.72] said: 554 delivery error: dd This user doesn't have a yahoo.com account (bob@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com (in reply to end of DATA command))
2026-12-01T12:05:02.010000+00:00 mx1 postfix/qmgr[1003]: 6F708192A3: removed
`
	got := record(t, log, 2)
	want := []string{
		`final delivered admin@mx1.example.net lane=other attempts=0 remote= detail="delivered to mailbox"`,
		`message mx1/3C4D5E6F70 sender=root@mx1.example.net notification=false recipients=1`,
		`attempt delivered oncall@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764590401 d4si7qkb.1 - gsmtp"`,
		`final delivered oncall@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764590401 d4si7qkb.1 - gsmtp"`,
		`message mx1/5E6F708192 sender= notification=false recipients=0`,
		`attempt delivered bob@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764590701 e5si8qkb.1 - gsmtp"`,
		`final delivered bob@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK 1764590701 e5si8qkb.1 - gsmtp"`,
		`attempt bounced bob@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="554 delivery error: dd This user doesn't have a yahoo.com account (bob@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com"`,
		`final bounced bob@yahoo.com lane=yahoo attempts=1 remote=mta5.am0.yahoodns.net detail="554 delivery error: dd This user doesn't have a yahoo.com account (bob@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A message that a content filter split into two copies, E7F8091A2B and
// F8091A2B3C, queued before the hop lines that name them; splitHop and
// splitGmail end the hop and delivery lines of the tests that use it.
const (
	splitQueued = "2026-12-01T15:00:00.000000+00:00 mx1 postfix/smtpd[1001]: D6E7F8091A: client=app1.example.net[198.51.100.10]\n" +
		"2026-12-01T15:00:00.010000+00:00 mx1 postfix/cleanup[1002]: D6E7F8091A: message-id=<i1@example.net>\n" +
		"2026-12-01T15:00:00.020000+00:00 mx1 postfix/qmgr[1003]: D6E7F8091A: from=<news@example.net>, size=3000, nrcpt=2 (queue active)\n" +
		"2026-12-01T15:00:01.000000+00:00 mx1 postfix/10025/smtpd[3001]: E7F8091A2B: client=localhost[127.0.0.1]\n" +
		"2026-12-01T15:00:01.010000+00:00 mx1 postfix/cleanup[1002]: E7F8091A2B: message-id=<i1@example.net>\n" +
		"2026-12-01T15:00:01.020000+00:00 mx1 postfix/qmgr[1003]: E7F8091A2B: from=<news@example.net>, size=3900, nrcpt=1 (queue active)\n" +
		"2026-12-01T15:00:01.030000+00:00 mx1 postfix/10025/smtpd[3001]: F8091A2B3C: client=localhost[127.0.0.1]\n" +
		"2026-12-01T15:00:01.040000+00:00 mx1 postfix/cleanup[1002]: F8091A2B3C: message-id=<i1@example.net>\n" +
		"2026-12-01T15:00:01.050000+00:00 mx1 postfix/qmgr[1003]: F8091A2B3C: from=<news@example.net>, size=3950, nrcpt=1 (queue active)\n"
	splitHop   = ", relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0.02/0.01/0.01/0.96, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as "
	splitGmail = ", relay=gmail-smtp-in.l.google.com[142.250.102.26]:25, delay=2, delays=1/0.01/0.5/0.49, dsn=2.0.0, status=sent (250 2.0.0 OK)\n"
)

// TestFilterSplitsRecipients: a content filter that splits a message's
// recipients into groups (amavis does, for recipients of different
// policies) queues one copy per group, each named by the hop lines of its
// recipients. The message is counted once; each copy's recipients count.
// So too when the first copy is delivered and removed before the hop line
// that names it (the filter answers the hop only after it queued the
// copy): the second copy is still not the message.
func TestFilterSplitsRecipients(t *testing.T) {
	const (
		hopWes = "2026-12-01T15:00:01.060000+00:00 mx1 postfix/smtp[3002]: D6E7F8091A: to=<wes@gmail.com>" + splitHop + "E7F8091A2B)\n"
		hopXia = "2026-12-01T15:00:01.060000+00:00 mx1 postfix/smtp[3002]: D6E7F8091A: to=<xia@gmail.com>" + splitHop + "F8091A2B3C)\n" +
			"2026-12-01T15:00:01.070000+00:00 mx1 postfix/qmgr[1003]: D6E7F8091A: removed\n"
		xia = "2026-12-01T15:00:02.100000+00:00 mx1 postfix/smtp[1004]: F8091A2B3C: to=<xia@gmail.com>" + splitGmail +
			"2026-12-01T15:00:02.110000+00:00 mx1 postfix/qmgr[1003]: F8091A2B3C: removed\n"
	)
	want := []string{
		`attempt delivered wes@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`final delivered wes@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`message mx1/E7F8091A2B sender=news@example.net notification=false recipients=1`,
		`attempt delivered xia@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`final delivered xia@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
	}
	for _, tc := range []struct{ name, log string }{
		{"hop lines first", splitQueued + hopWes + hopXia +
			"2026-12-01T15:00:02.000000+00:00 mx1 postfix/smtp[1004]: E7F8091A2B: to=<wes@gmail.com>" + splitGmail +
			"2026-12-01T15:00:02.010000+00:00 mx1 postfix/qmgr[1003]: E7F8091A2B: removed\n" + xia},
		{"first copy done before its hop line", splitQueued +
			"2026-12-01T15:00:01.055000+00:00 mx1 postfix/smtp[1004]: E7F8091A2B: to=<wes@gmail.com>" + splitGmail +
			"2026-12-01T15:00:01.056000+00:00 mx1 postfix/qmgr[1003]: E7F8091A2B: removed\n" + hopWes + hopXia + xia},
	} {
		if got := record(t, tc.log, 2); !slices.Equal(got, want) {
			t.Errorf("%s: events differ\n got:\n%s\nwant:\n%s", tc.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestLocalForwardFiltered: the new message local(8) forwarded a recipient
// in goes through the content filter, as every message cleanup queues
// does. The filter's copy of it is the same message still: counted once,
// as the one that was forwarded.
func TestLocalForwardFiltered(t *testing.T) {
	log := `2026-12-01T12:00:00.000000+00:00 mx1 postfix/smtpd[1020]: 5E6F708192: client=mail-wr1-f54.google.com[209.85.221.54]
2026-12-01T12:00:00.010000+00:00 mx1 postfix/cleanup[1002]: 5E6F708192: message-id=<CAF=abc@mail.gmail.com>
2026-12-01T12:00:00.020000+00:00 mx1 postfix/qmgr[1003]: 5E6F708192: from=<pat@gmail.com>, size=8000, nrcpt=1 (queue active)
2026-12-01T12:00:00.030000+00:00 mx1 postfix/cleanup[1002]: 6F708192A3: message-id=<CAF=abc@mail.gmail.com>
2026-12-01T12:00:00.040000+00:00 mx1 postfix/qmgr[1003]: 6F708192A3: from=<pat@gmail.com>, size=8200, nrcpt=1 (queue active)
2026-12-01T12:00:00.050000+00:00 mx1 postfix/local[1012]: 5E6F708192: to=<bob@mx1.example.net>, relay=local, delay=0.05, delays=0.02/0.01/0/0.02, dsn=2.0.0, status=sent (forwarded as 6F708192A3)
2026-12-01T12:00:00.060000+00:00 mx1 postfix/qmgr[1003]: 5E6F708192: removed
2026-12-01T12:00:01.000000+00:00 mx1 postfix/10025/smtpd[3001]: 708192A3B4: client=localhost[127.0.0.1]
2026-12-01T12:00:01.010000+00:00 mx1 postfix/cleanup[1002]: 708192A3B4: message-id=<CAF=abc@mail.gmail.com>
2026-12-01T12:00:01.020000+00:00 mx1 postfix/qmgr[1003]: 708192A3B4: from=<pat@gmail.com>, size=9000, nrcpt=1 (queue active)
2026-12-01T12:00:01.030000+00:00 mx1 postfix/smtp[3002]: 6F708192A3: to=<bob@gmail.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0.02/0.01/0.01/0.96, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 708192A3B4)
2026-12-01T12:00:01.040000+00:00 mx1 postfix/qmgr[1003]: 6F708192A3: removed
2026-12-01T12:00:02.000000+00:00 mx1 postfix/smtp[1004]: 708192A3B4: to=<bob@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.102.26]:25, delay=2, delays=1/0.01/0.5/0.49, dsn=2.0.0, status=sent (250 2.0.0 OK)
2026-12-01T12:00:02.010000+00:00 mx1 postfix/qmgr[1003]: 708192A3B4: removed
`
	got := record(t, log, 2)
	want := []string{
		`message mx1/5E6F708192 sender=pat@gmail.com notification=false recipients=0`,
		`attempt delivered bob@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
		`final delivered bob@gmail.com lane=google attempts=1 remote=gmail-smtp-in.l.google.com detail="250 2.0.0 OK"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("events differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHeldSender: a message a HOLD action put in the hold queue, still
// there at the end of the log, is of the sender its hold line names: the
// queue manager, which names senders, never saw it.
func TestHeldSender(t *testing.T) {
	log := "2026-12-01T13:02:00.000000+00:00 mx1 postfix/smtpd[1031]: 92A3B4C5D6: client=app1.example.net[198.51.100.10]\n" +
		"2026-12-01T13:02:00.010000+00:00 mx1 postfix/cleanup[1002]: 92A3B4C5D6: message-id=<h1@example.net>\n" +
		"2026-12-01T13:02:00.020000+00:00 mx1 postfix/cleanup[1002]: 92A3B4C5D6: hold: header Subject: invoice from app1.example.net[198.51.100.10]; from=<billing@example.net> to=<uma@gmail.com> proto=ESMTP helo=<app1.example.net>: review\n"
	var msgs []mailtriage.Event
	tr := NewTracker(nil, nil, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Message {
			msgs = append(msgs, *e)
		}
	})
	st, err := Read(context.Background(), strings.NewReader(log), &syslogstamp.Clock{}, tr, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	if len(msgs) != 1 || msgs[0].Sender != "billing@example.net" || msgs[0].SenderUnknown || msgs[0].Notification {
		t.Errorf("messages %+v, want one of billing@example.net", msgs)
	}
}

// TestEventSetsEveryField: the tracker fills its reused event field by
// field, so it must set every field of every event; the events read the
// same when whoever got the one before scribbled over all of its fields.
func TestEventSetsEveryField(t *testing.T) {
	cfg := samplelog.Default()
	cfg.Days = 1
	var sample bytes.Buffer
	if err := samplelog.Generate(&sample, cfg); err != nil {
		t.Fatal(err)
	}
	lifecycle, err := os.ReadFile("testdata/lifecycle.log")
	if err != nil {
		t.Fatal(err)
	}
	for name, log := range map[string][]byte{"sample": sample.Bytes(), "lifecycle": lifecycle} {
		run := func(scribble bool) []string {
			var out []string
			tr := NewTracker(fixedLanes{"icloud.com": "apple"}, nil, func(e *mailtriage.Event) {
				out = append(out, fmt.Sprintf("%+v", *e))
				if scribble {
					scribbleOver(t, reflect.ValueOf(e).Elem())
				}
			})
			st, err := Read(context.Background(), bytes.NewReader(log), &syslogstamp.Clock{Year: 2026}, tr, Options{})
			if err != nil {
				t.Fatal(err)
			}
			tr.Finish(st.Last)
			return out
		}
		clean, scribbled := run(false), run(true)
		if len(clean) < 10 || len(clean) != len(scribbled) {
			t.Fatalf("%s: %d and %d events", name, len(clean), len(scribbled))
		}
		for i := range clean {
			if clean[i] != scribbled[i] {
				t.Fatalf("%s: event %d keeps a stale field:\nfresh  %s\nreused %s", name, i, clean[i], scribbled[i])
			}
		}
	}
}

// scribbleOver sets every field of v to something no event holds.
func scribbleOver(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("stale")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 99)
	case reflect.Uint8:
		v.SetUint(v.Uint() + 99)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(99, 0)))
			return
		}
		for i := range v.NumField() {
			scribbleOver(t, v.Field(i))
		}
	default:
		t.Fatalf("no stale value for a %s", v.Type())
	}
}
