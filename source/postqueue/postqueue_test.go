package postqueue

import (
	"bytes"
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
	return mailtriage.Verdict{Rule: fmt.Sprintf("%d/%s/%s", d.Reply.Code, d.Reply.Enhanced, d.Kind)}
}

// now is when the test listing was made.
var now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func kindName(k mailtriage.Kind) string {
	return map[mailtriage.Kind]string{mailtriage.Attempt: "attempt", mailtriage.LocalDeferral: "local", mailtriage.Final: "final", mailtriage.Message: "message"}[k]
}

// events reads s and returns the tracker's events, one a line.
func events(t *testing.T, s string) ([]string, Stats) {
	t.Helper()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Message {
			got = append(got, fmt.Sprintf("message %s <%s> %d queued=%s notification=%v", e.QueueID, e.Sender, e.Recipients, e.Queued.Format(time.RFC3339), e.Notification))
			return
		}
		got = append(got, fmt.Sprintf("%s %s %s %d %s %s [%s] at=%s", kindName(e.Kind), e.Status, e.Recipient, e.Attempts, e.Verdict.Rule, e.RemoteHost, e.Detail.Summary(), e.Time.Format("15:04")))
	})
	st, err := Read(context.Background(), strings.NewReader(s), "queue.json", now, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	return got, st
}

// The listing is composed in the documented format (testdata/README.md).
func TestRead(t *testing.T) {
	data, err := os.ReadFile("testdata/queue.json")
	if err != nil {
		t.Fatal(err)
	}
	got, st := events(t, string(data))
	want := []string{
		// A snapshot holds no attempts: each recipient is pending, with
		// the reason of its last deferral, and nothing else is counted.
		// Suspended: Postfix did not try, but the reason is the receiver's.
		"final pending jane@icloud.com 0 421/4.7.0/said mx01.mail.icloud.com [421 4.7.0 Deferred - see Proofpoint DNSBL lookup] at=10:00",
		"final pending joe@me.com 0 421/4.7.0/said mx01.mail.icloud.com [421 4.7.0 Deferred - see Proofpoint DNSBL lookup] at=10:00",
		"message 4dKyJ30ZGzz9sWS <news@shop.example.net> 2 queued=2026-12-01T08:00:00Z notification=false",
		"final pending ann@yahoo.com 0 421/4.7.0/said mta7.am0.yahoodns.net [421 4.7.0 [TSS04] Messages from 203.0.113.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes] at=10:00",
		"message 4dKyK81mQcz9sWT <news@shop.example.net> 1 queued=2026-12-01T08:05:00Z notification=false",
		"final pending ops@example.com 0 0//connect mail.example.com [Connection timed out] at=10:00",
		"message 4dKyKq5Yb0z9sWV <alerts@shop.example.net> 1 queued=2026-12-01T08:12:00Z notification=false",
		// In the active queue with no reason yet: pending, no report.
		"final pending bob@gmail.com 0   [] at=10:00",
		"final pending sue@icloud.com 0 421/4.7.0/said mx02.mail.icloud.com [421 4.7.0 Deferred - see Proofpoint DNSBL lookup] at=10:00",
		"message 4dKzXw0sQbz9sWX <receipts@shop.example.net> 2 queued=2026-12-01T09:58:30Z notification=false",
		// Held: Postfix's own, whatever the receiver said before.
		"final pending lee@outlook.com 0 0//local  [message is on hold] at=10:00",
		"final pending kim@icloud.com 0 0//local  [message is on hold (last deferral: host mx01.mail.icloud.com[17.57.155.23] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to RCPT TO command))] at=10:00",
		"message 4dKyFZ6cFkz9sWR <promo@shop.example.net> 2 queued=2026-11-30T17:20:00Z notification=false",
		// The bounce's recipient is not the sender's mail: no events.
		"message 4dKyHy0Tg5z9sWQ <> 1 queued=2026-12-01T07:30:00Z notification=true",
		"final pending pat@example.org 0 0//local  [mail transport unavailable] at=10:00",
		"message 4dKyLb2Dhkz9sWY <news@shop.example.net> 1 queued=2026-12-01T08:13:20Z notification=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Lines != 9 || st.Used != 7 || st.Bad != 3 || st.Recipients != 10 || st.Deferred != 6 || st.Local != 3 || st.ForcedExpire != 1 {
		t.Errorf("stats %+v", st)
	}
	if q := st.QueueSummary(); q != "1 active, 5 deferred, 1 hold" {
		t.Errorf("queues %q", q)
	}
	if !st.First.Equal(time.Date(2026, 11, 30, 17, 20, 0, 0, time.UTC)) || !st.Last.Equal(now) {
		t.Errorf("first %v last %v", st.First, st.Last)
	}
	wantSamples := []string{
		"queue.json: line 7: queue file 4dKyLb2Dhkz9sWY: recipient 2 has no address",
		"queue.json: line 8: no queue_id",
		"queue.json: line 9: not a postqueue -j object",
	}
	if len(st.Samples) != len(wantSamples) {
		t.Fatalf("samples %q", st.Samples)
	}
	for i, w := range wantSamples {
		if !strings.HasPrefix(st.Samples[i], w) {
			t.Errorf("sample %d: %q, want %q...", i, st.Samples[i], w)
		}
	}
}

func TestDetect(t *testing.T) {
	data, _ := os.ReadFile("testdata/queue.json")
	for _, c := range []struct {
		head string
		want bool
	}{
		{string(data), true},
		{"\n\n  " + string(data), true},
		{`{"queue_id": "4F1A22C0B3", "queue_name": "deferred"}`, true},
		{`{"queue_name": "deferred"}`, false},
		{`{"queue_name": 1, "queue_id": "4F1A22C0B3"}`, false},
		{`{"type":"Delivery","id":"x","queue_name":"a"}`, false},
		{`[{"queue_name": "deferred", "queue_id": "4F1A22C0B3"}]`, false},
		{"-Queue is empty\n", false},
		{"Mar 10 14:02:12 mta1 postfix/smtp[1]: 4F1: to=<a@b>, status=sent\n", false},
		{"type,timeLogged,rcpt\n", false},
		{"", false},
	} {
		if got := Detect([]byte(c.head)); got != c.want {
			t.Errorf("Detect(%.60q) = %v", c.head, got)
		}
	}
}

// TestText: mailq's text listing, told apart from postqueue -j's.
func TestText(t *testing.T) {
	data, _ := os.ReadFile("testdata/queue.json")
	for _, c := range []struct {
		head string
		want bool
	}{
		{"-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n4F1A22C0B3*   48213 Tue Mar 10 14:02:11  news@shop.example.net\n", true},
		{"\nMail queue is empty\n", true},
		{"-Queue is empty\n", true},
		{string(data), false},
		{"Mar 10 14:02:12 mta1 postfix/smtp[1]: 4F1: to=<a@b>, status=sent\n", false},
		{"", false},
	} {
		if got := Text([]byte(c.head)); got != c.want {
			t.Errorf("Text(%.60q) = %v", c.head, got)
		}
	}
}

// bigMessage is a queue file with n recipients, all deferred by iCloud.
func bigMessage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"queue_name": "deferred", "queue_id": "4dKyJ30ZGzz9sWZ", "arrival_time": 1796112000, "message_size": 48213, "forced_expire": false, "sender": "news@shop.example.net", "recipients": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"address": "user%d@icloud.com", "delay_reason": "delivery temporarily suspended: host mx01.mail.icloud.com[17.57.155.23] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to RCPT TO command)"}`, i)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// TestBigMessage: one message with 10,000 recipients is one line of
// megabytes; it is read whole, and detected from a head that cuts it.
func TestBigMessage(t *testing.T) {
	line := bigMessage(10000)
	if !Detect(line[:4096]) {
		t.Error("a head cutting a long line is not detected")
	}
	data := append(line, `{"queue_name": "active", "queue_id": "4dKzXw0sQbz9sWX", "arrival_time": 1796119110, "sender": "a@shop.example.net", "recipients": [{"address": "bob@gmail.com"}]}`...)
	var pending, attempts int
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(e *mailtriage.Event) {
		switch {
		case e.Kind != mailtriage.Final && e.Kind != mailtriage.Message:
			attempts++
		case e.Kind == mailtriage.Final && e.Status == mailtriage.Pending:
			pending++
		}
	})
	st, err := Read(context.Background(), bytes.NewReader(data), "big.json", now, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	if st.Lines != 2 || st.Used != 2 || st.Bad != 0 || st.Recipients != 10001 || attempts != 0 || pending != 10001 {
		t.Errorf("stats %+v, %d attempts, %d pending", st, attempts, pending)
	}
}

// TestOverlong: a line past the limit is counted bad and skipped, and
// the next is read.
func TestOverlong(t *testing.T) {
	defer func(n int) { maxLine = n }(maxLine)
	maxLine = 64 << 10
	data := append(bigMessage(2000), `{"queue_name": "active", "queue_id": "4dKzXw0sQbz9sWX", "sender": "a@shop.example.net", "recipients": [{"address": "bob@gmail.com"}]}`+"\n"...)
	got, st := events(t, string(data))
	if st.Lines != 2 || st.Used != 1 || st.Bad != 1 || len(got) != 2 || !strings.Contains(st.Samples[0], "line 1: longer than") {
		t.Errorf("stats %+v, events %q", st, got)
	}
}

// TestRepeated: postqueue(1) may list a message twice when it moves
// between queues; its deferrals count once.
func TestRepeated(t *testing.T) {
	m := `{"queue_name": "%s", "queue_id": "4dKyK81mQcz9sWT", "arrival_time": 1796112300, "sender": "news@shop.example.net", "recipients": [{"address": "ann@yahoo.com", "delay_reason": "host mta7.am0.yahoodns.net[67.195.204.72] said: 421 4.7.0 [TSS04] Messages from 203.0.113.25 temporarily deferred (in reply to MAIL FROM command)"}]}` + "\n"
	got, st := events(t, fmt.Sprintf(m, "active")+fmt.Sprintf(m, "deferred"))
	if st.Repeated != 1 || st.Queues["active"] != 1 || st.Queues["deferred"] != 0 || len(got) != 2 || got[0] != "final pending ann@yahoo.com 0 421/4.7.0/said mta7.am0.yahoodns.net [421 4.7.0 [TSS04] Messages from 203.0.113.25 temporarily deferred] at=10:00" {
		t.Errorf("stats %+v, events\n%s", st, strings.Join(got, "\n"))
	}
}

// TestLocalReasons: what Postfix defers on its own, and what a receiver
// deferred.
func TestLocalReasons(t *testing.T) {
	for _, c := range []struct {
		queue, why string
		local      bool
	}{
		{"deferred", "mail transport unavailable", true},
		{"deferred", "unknown mail transport error", true},
		{"deferred", "delivery temporarily suspended: unknown mail transport error", true},
		{"deferred", "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused", true},
		{"deferred", "delivery temporarily suspended: connect to mx01.mail.icloud.com[17.57.155.23]:25: Connection timed out", false},
		{"deferred", "Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found, try again", false},
		{"deferred", "lost connection with mx.example.com[192.0.2.1] while receiving the initial server greeting", false},
		{"hold", "", true},
		{"corrupt", "", true},
	} {
		d, local, ok := reason(c.queue, c.why)
		if !ok || local != c.local || d.Text == "" {
			t.Errorf("%s %q: local %v ok %v %+v", c.queue, c.why, local, ok, d)
		}
	}
	if _, _, ok := reason("active", ""); ok {
		t.Error("an active recipient without a reason has an outcome")
	}
}

// TestEmpty: an empty queue lists nothing.
func TestEmpty(t *testing.T) {
	got, st := events(t, "")
	if len(got) != 0 || st.Lines != 0 || st.Used != 0 || !st.First.Equal(now) {
		t.Errorf("stats %+v, events %q", st, got)
	}
}

func FuzzRead(f *testing.F) {
	data, _ := os.ReadFile("testdata/queue.json")
	f.Add(string(data))
	f.Add(`{"queue_name": "hold", "queue_id": "x", "arrival_time": 1e300, "recipients": [{"address": "a@b", "delay_reason": "host [ said: 4"}]}`)
	f.Add(`{"queue_name": "x", "queue_id": "x", "arrival_time": "-1", "recipients": null}` + "\nnull\n")
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, codes{}, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz", now, tr)
		tr.Finish(st.Last)
		Detect([]byte(s))
		if st.Bad > 0 && len(st.Samples) == 0 {
			t.Error("bad without a sample")
		}
	})
}
