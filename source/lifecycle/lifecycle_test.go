package lifecycle

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
)

type laneByDomain struct{}

func (laneByDomain) Lane(domain, relay string) string {
	if strings.HasSuffix(relay, "icloud.com") || domain == "icloud.com" {
		return "apple"
	}
	return "other"
}

type byCode struct{}

func (byCode) Classify(d smtpreply.Detail) mailtriage.Verdict {
	return mailtriage.Verdict{Rule: fmt.Sprint(d.Reply.Code)}
}

func TestTracker(t *testing.T) {
	var got []string
	tr := NewTracker(laneByDomain{}, byCode{}, func(e *mailtriage.Event) {
		got = append(got, fmt.Sprintf("%s %s %s %s %d %s %s", kindName(e.Kind), e.Status, e.Recipient, e.Lane, e.Attempts, e.Verdict.Rule, e.RemoteHost))
	})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	reply := func(s string) smtpreply.Detail {
		return smtpreply.Detail{Kind: smtpreply.Said, Reply: smtpreply.Parse(s), Text: s}
	}
	rec := func(min int, rcpt string, st mailtriage.Status, d smtpreply.Detail, host string) *Record {
		return &Record{Time: at.Add(time.Duration(min) * time.Minute), Source: "test", Host: "mta1", Key: "Q1", Sender: "news@shop.example",
			Recipient: rcpt, Status: st, Detail: d, RemoteHost: host}
	}
	tr.Add(rec(0, "jane@icloud.com", mailtriage.Deferred, reply("421 4.7.0 Deferred - see Proofpoint DNSBL lookup"), "mx01.mail.icloud.com"))
	tr.Add(&Record{Time: at.Add(5 * time.Minute), Host: "mta1", Key: "Q1", Recipient: "jane@icloud.com", Status: mailtriage.Deferred, Local: true,
		Detail: smtpreply.Detail{Kind: smtpreply.Local, Text: "KumoMTA internal: suspended"}})
	tr.Add(rec(10, "jane@icloud.com", mailtriage.Deferred, smtpreply.Detail{Kind: smtpreply.ConnectFailed, Text: "connection timed out"}, "mx02.mail.icloud.com"))
	tr.Add(rec(20, "jane@icloud.com", mailtriage.Expired, smtpreply.Detail{}, ""))
	tr.Add(rec(21, "jane@icloud.com", mailtriage.Delivered, reply("250 ok"), "mx01.mail.icloud.com")) // after the end: ignored
	tr.Add(rec(1, "bob@example.net", mailtriage.Deferred, reply("451 try later"), "mx.example.net"))
	tr.Add(rec(30, "bob@example.net", mailtriage.Delivered, reply("250 2.0.0 OK"), "mx.example.net"))
	tr.Add(rec(2, "ann@example.net", mailtriage.Bounced, reply("550 5.1.1 no such user"), "mx.example.net"))
	tr.Add(rec(3, "sue@icloud.com", mailtriage.Deferred, reply("421 4.7.0 later"), "mx01.mail.icloud.com"))
	tr.Finish(at.Add(time.Hour))
	want := []string{
		"attempt deferred jane@icloud.com apple 1 421 mx01.mail.icloud.com",
		"local deferred jane@icloud.com apple 1 0 ",
		"attempt deferred jane@icloud.com apple 2 0 mx02.mail.icloud.com",
		// The root cause of the expiry: the last reply a server gave, not
		// the connection timeout after it.
		"final expired jane@icloud.com apple 2 421 mx01.mail.icloud.com",
		"attempt deferred bob@example.net other 1 451 mx.example.net",
		"attempt delivered bob@example.net other 2 250 mx.example.net",
		"final delivered bob@example.net other 2 250 mx.example.net",
		"attempt bounced ann@example.net other 1 550 mx.example.net",
		"final bounced ann@example.net other 1 550 mx.example.net",
		"attempt deferred sue@icloud.com apple 1 421 mx01.mail.icloud.com",
		"final pending sue@icloud.com apple 1 421 mx01.mail.icloud.com",
		"message    0  ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStopAt: records at or after the end of the window are left out, so
// a recipient still queued then is pending at the end, with the reply it
// had heard by then.
func TestStopAt(t *testing.T) {
	var got []string
	tr := NewTracker(laneByDomain{}, byCode{}, func(e *mailtriage.Event) {
		got = append(got, fmt.Sprintf("%s %s %s %d %s %s", kindName(e.Kind), e.Status, e.Recipient, e.Attempts, e.Verdict.Rule, e.Time.Format("15:04")))
	})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	end := at.Add(time.Hour)
	tr.StopAt(end)
	rec := func(min int, rcpt, key string, st mailtriage.Status, reply string) *Record {
		return &Record{Time: at.Add(time.Duration(min) * time.Minute), Source: "test", Host: "mta1", Key: key, Sender: "news@shop.example",
			Recipient: rcpt, Status: st, Detail: smtpreply.Detail{Kind: smtpreply.Said, Reply: smtpreply.Parse(reply), Text: reply}}
	}
	tr.Queued(rec(0, "", "Q1", 0, ""), false)
	tr.Add(rec(0, "jane@icloud.com", "Q1", mailtriage.Deferred, "421 4.7.0 later"))
	tr.Add(rec(60, "jane@icloud.com", "Q1", mailtriage.Deferred, "451 4.7.1 busy")) // at the end: left out
	tr.Add(rec(90, "jane@icloud.com", "Q1", mailtriage.Delivered, "250 2.0.0 ok"))
	tr.End(&Record{Time: at.Add(95 * time.Minute), Host: "mta1", Key: "Q1", Status: mailtriage.Expired})
	tr.Queued(rec(70, "", "Q2", 0, ""), false) // queued after the end
	tr.Add(rec(70, "bob@example.net", "Q2", mailtriage.Delivered, "250 2.0.0 ok"))
	tr.Finish(end)
	want := []string{
		"attempt deferred jane@icloud.com 1 421 10:00",
		"final pending jane@icloud.com 1 421 11:00",
		"message   0  11:00", // still queued at the end: it ends there
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func kindName(k mailtriage.Kind) string {
	return map[mailtriage.Kind]string{mailtriage.Attempt: "attempt", mailtriage.LocalDeferral: "local", mailtriage.Final: "final", mailtriage.Message: "message"}[k]
}

// TestSenderUnknown: a sender no record names is unknown, which the null
// sender a source logged as such is not.
func TestSenderUnknown(t *testing.T) {
	unknown := map[string]bool{}
	tr := NewTracker(laneByDomain{}, byCode{}, func(e *mailtriage.Event) { unknown[e.QueueID] = e.SenderUnknown })
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, r := range []*Record{
		{Key: "named", Sender: "news@shop.example"},
		{Key: "null", NullSender: true},
		{Key: "unlogged"},
	} {
		r.Time, r.Host, r.Recipient, r.Status = at, "mta1", "jane@example.net", mailtriage.Delivered
		r.Detail = smtpreply.Detail{Reply: smtpreply.Parse("250 ok")}
		tr.Add(r)
	}
	tr.Complaint(&Record{Time: at, Host: "esp", Key: "complaint", Recipient: "jane@example.net"})
	tr.Finish(at)
	want := map[string]bool{"named": false, "null": false, "unlogged": true, "complaint": true}
	if fmt.Sprint(unknown) != fmt.Sprint(want) {
		t.Errorf("sender unknown by message: %v, want %v", unknown, want)
	}
}
