package esp

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/source/lifecycle/lifecycletest"
)

// The payloads are the ESPs' documented examples as django-anymail's
// webhook tests reproduce them (BSD-3), and events composed in their
// documented form for the incident; see the project's research notes.
func TestRead(t *testing.T) {
	for _, tt := range []struct {
		file     string
		provider string
		want     []string
		limit    string
	}{
		{"ses.jsonl", "ses", []string{
			"1 deferred jane@icloud.com 421/4.7.0",
			"1 delivered bob@yahoo.com 250/",
			"3 delivered bob@yahoo.com 250/",
			// A Transient bounce: SES stopped retrying.
			"1 deferred jane@icloud.com 421/4.7.0",
			"3 expired jane@icloud.com 421/4.7.0",
			// A complaint: not a delivery outcome.
			"5  sofia@yahoo.com ",
		}, "delay episodes"},
		{"sendgrid.json", "sendgrid", []string{
			"1 deferred recipient@example.com 0/",
			"1 delivered recipient@example.com 250/2.0.0",
			"3 delivered recipient@example.com 250/2.0.0",
			"1 bounced nobody@example.com 550/5.1.1",
			"3 bounced nobody@example.com 550/5.1.1",
			"5  sofia@yahoo.com ",
		}, "SendGrid"},
		{"mailgun.jsonl", "mailgun", []string{
			// Mailgun's deferral: failed, severity temporary.
			"1 deferred undeliverable@nomx.example.com 498/",
			"1 bounced gone@example.org 550/5.1.1",
			"3 bounced gone@example.org 550/5.1.1",
			"3 pending undeliverable@nomx.example.com 498/",
		}, "temporary"},
		{"postmark.json", "postmark", []string{
			"1 bounced bounce@example.com 550/5.1.1",
			"3 bounced bounce@example.com 550/5.1.1",
			"1 deferred full@example.com 452/4.2.2",
			"3 expired full@example.com 452/4.2.2",
			"1 delivered ok@example.com 250/2.0.0",
			"3 delivered ok@example.com 250/2.0.0",
		}, "no deferral"},
		{"sparkpost.json", "sparkpost", []string{
			"1 deferred recipient@nomx.example.com 454/4.4.4",
			"1 bounced gone@example.net 550/5.1.1",
			"3 bounced gone@example.net 550/5.1.1",
			"3 pending recipient@nomx.example.com 454/4.4.4",
		}, ""},
	} {
		t.Run(tt.provider, func(t *testing.T) {
			f, err := os.Open("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []string
			tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
				if e.Kind != mailtriage.Message {
					got = append(got, fmt.Sprintf("%v %s %s %s", e.Kind, e.Status, e.Recipient, e.Verdict.Rule))
				}
			})
			st, err := Read(context.Background(), f, tt.file, tr)
			if err != nil {
				t.Fatal(err)
			}
			tr.Finish(st.Last)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if st.Provider[tt.provider] == 0 || st.Bad != 0 || st.Skipped == 0 && tt.provider != "sparkpost" && tt.provider != "postmark" {
				t.Errorf("stats %+v", st)
			}
			if tt.limit != "" && !strings.Contains(strings.Join(st.Limits, " "), tt.limit) {
				t.Errorf("limits %q", st.Limits)
			}
			data, _ := os.ReadFile("testdata/" + tt.file)
			if !Detect(data) {
				t.Error("not detected")
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(*mailtriage.Event) {})
	st, _ := Read(context.Background(), strings.NewReader(`{"event":"x"} 42 {"eventType":"Bounce","mail":{},"bounce":{"timestamp":"never"}}`), "bad.json", tr)
	if st.Bad != 3 || len(st.Samples) != 3 {
		t.Errorf("%+v", st)
	}
	if _, err := Read(context.Background(), strings.NewReader(`[{"RecordType": "Bounce", `), "cut.json", tr); err == nil {
		t.Error("cut JSON read without error")
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"ses.jsonl", "sendgrid.json", "mailgun.jsonl", "postmark.json", "sparkpost.json"} {
		data, _ := os.ReadFile("testdata/" + name)
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz", tr)
		tr.Finish(st.Last)
	})
}
