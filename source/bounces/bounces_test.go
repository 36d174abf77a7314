package bounces

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/source/lifecycle/lifecycletest"
)

func classifier(t testing.TB) *classify.Classifier {
	cat, err := provider.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mbox(t testing.TB, files ...string) string {
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile("../../testdata/sisimai/eml/" + f)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("From MAILER-DAEMON Thu Apr 29 23:34:45 2021\n")
		for _, line := range strings.SplitAfter(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
			if strings.HasPrefix(line, "From ") {
				b.WriteString(">")
			}
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestRead: an mbox of a DSN (a bounce), a delay notice (a deferral,
// pending at the end), a feedback report (a complaint), an auto-reply
// (no delivery record) and an ordinary message (counted, not read).
func TestRead(t *testing.T) {
	in := mbox(t, "lhost-postfix-01.eml", "rfc3464-07.eml", "arf-01.eml", "rfc3834-01.eml") +
		"From jane Thu Apr 29 23:34:45 2021\nFrom: jane@example.com\nSubject: lunch\n\nnoon?\n"
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, nil, func(e *mailtriage.Event) {
		if e.Kind != mailtriage.Message {
			got = append(got, fmt.Sprintf("%d %s %s %s", e.Kind, e.Status, e.Recipient, e.Verdict.Reason))
		}
	})
	st, err := Read(context.Background(), strings.NewReader(in), "bounces.mbox", time.Unix(0, 0), classifier(t), tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	want := []string{
		"1 bounced r@p351355.pool.example.ne.jp mailererror",
		"3 bounced r@p351355.pool.example.ne.jp mailererror",
		"1 deferred kijitora@example.net expired",
		"5  redacted@example.net feedback",
		"3 pending kijitora@example.net expired",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Messages != 5 || st.Complaints != 1 || st.AutoReplies != 1 || st.NotReports != 1 || len(st.Samples) != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDetect(t *testing.T) {
	for _, tt := range []struct {
		head string
		want bool
	}{
		{"Return-Path: <>\nReceived: from x\n", true},
		{"From MAILER-DAEMON Thu Apr 29 23:34:45 2021\nReceived: from x\n", true},
		{"Received: from x by y\n", true},
		{"x-store-info:D6taffyBScEUZsL+ZXbbDvsjG9szfvD7\nAuthentication-Results: hotmail.example.com; spf=none\n", true}, // Outlook.com: no space
		{"Nov 28 10:00:01 mta1 postfix/smtp[123]: 4F1A22C0B3: to=<jane@icloud.com>\n", false},
		{"2026-11-28 10:00:01 1rX0aB-000Abc-2D => jane@example.com\n", false},
		{`{"eventType":"Bounce"}`, false},
	} {
		if got := Detect([]byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%q) = %v", tt.head, got)
		}
	}
}

// FuzzRead: any bytes, as an mbox or a message, read without a panic.
func FuzzRead(f *testing.F) {
	f.Add(mbox(f, "lhost-exim-01.eml"))
	f.Add("From x\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n")
	c := classifier(f)
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, nil, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz", time.Unix(0, 0), c, tr)
		tr.Finish(st.Last)
	})
}
