package kumo

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

// The records are KumoMTA's documented log record (log_record.md): one
// line from the KumoMTA repository's tsa-torture.js, the others composed
// from the documented fields, as the project's research notes give them.
func TestRead(t *testing.T) {
	f, err := os.Open("testdata/log.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
		if e.Kind != mailtriage.Message {
			got = append(got, fmt.Sprintf("%v %s %s %d %s %s %s", e.Kind, e.Status, e.Recipient, e.Attempts, e.Verdict.Rule, e.RemoteHost, e.LocalIP))
		}
	})
	st, err := Read(context.Background(), f, "log.jsonl", tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	want := []string{
		"1 deferred jane@icloud.com 1 421/4.7.0 mx01.mail.icloud.com ip-a1",
		// KumoMTA's own suspension: a local deferral, not the receiver's.
		"2 deferred jane@icloud.com 1 0/  ip-a1",
		"1 delivered jane@icloud.com 2 250/2.0.0 mx02.mail.icloud.com ip-a1",
		"3 delivered jane@icloud.com 2 250/2.0.0 mx02.mail.icloud.com ip-a1",
		"1 deferred user@yahoo.com 1 421/4.7.0  ",
		// Expired after 23 attempts; the root cause is Yahoo's TSS04.
		"3 expired user@yahoo.com 23 421/4.7.0  ",
		"1 bounced nobody@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
		"3 bounced nobody@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
		"1 bounced gone@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
		"3 bounced gone@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Lines != 11 || st.Used != 6 || st.Skipped != 2 || st.Bad != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestDetect(t *testing.T) {
	data, _ := os.ReadFile("testdata/log.jsonl")
	if !Detect(data) || Detect([]byte(`{"type":"delivered","sg_event_id":"x"}`)) || Detect([]byte("type,timeLogged,rcpt\n")) {
		t.Error("detect")
	}
}

func FuzzRead(f *testing.F) {
	data, _ := os.ReadFile("testdata/log.jsonl")
	f.Add(string(data))
	f.Add(`{"type":"Bounce","id":"x","recipient":[],"timestamp":"1"}`)
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz", tr)
		tr.Finish(st.Last)
	})
}
