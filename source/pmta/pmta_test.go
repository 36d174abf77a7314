package pmta

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

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
	st, err := Read(context.Background(), f, "acct.csv", tr)
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
	_, err := Read(context.Background(), strings.NewReader("type,orig\nd,x\n"), "x.csv", lifecycle.NewTracker(nil, nil, func(*mailtriage.Event) {}))
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
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz.csv", tr)
		tr.Finish(st.Last)
	})
}
