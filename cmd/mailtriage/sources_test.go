package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
)

// TestAnalyzeOtherSources: PowerMTA accounting and KumoMTA records, told
// apart by their content and read into one analysis with the sample's
// Postfix log.
func TestAnalyzeOtherSources(t *testing.T) {
	code, out, errs := mt(t, "", "analyze", "--format", "json", "../../source/pmta/testdata/acct.csv", "../../source/kumo/testdata/log.jsonl", "../../source/exim/testdata/mainlog", "../../source/sendmail/testdata/maillog", "../../source/esp/testdata/ses.jsonl", "../../source/esp/testdata/sendgrid.json", sample)
	if code != exitProblems {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r analysis.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	formats := map[string]string{}
	for _, in := range r.Inputs {
		formats[in.Name[strings.LastIndexByte(in.Name, '/')+1:]] = in.Format
	}
	if formats["acct.csv"] != "powermta" || formats["log.jsonl"] != "kumomta" || formats["mainlog"] != "exim" || formats["maillog"] != "sendmail" || formats["ses.jsonl"] != "esp" || formats["sendgrid.json"] != "esp" || formats["incident-postfix.log.gz"] != "postfix" {
		t.Errorf("formats %v", formats)
	}
	// The sending IPs of PowerMTA and the egress sources of KumoMTA are
	// sending hosts beside the Postfix hosts.
	hosts := map[string]bool{}
	for _, h := range r.Hosts {
		hosts[h.Host] = true
	}
	for _, h := range []string{"203.0.113.25", "203.0.113.26", "ip-a1", "mta1", "mta2"} {
		if !hosts[h] {
			t.Errorf("no sending host %s in %v", h, hosts)
		}
	}
	for _, in := range r.Inputs {
		if strings.HasSuffix(in.Name, "ses.jsonl") && (len(in.Limits) == 0 || !strings.Contains(in.Limits[0], "delay episodes")) {
			t.Errorf("the SES input does not say what it cannot show: %+v", in)
		}
		// Every input's size is what was read of it, decompressed.
		if st, err := os.Stat(in.Name); err == nil && !strings.HasSuffix(in.Name, ".gz") && in.Bytes != st.Size() {
			t.Errorf("%s: %d bytes, the file has %d", in.Name, in.Bytes, st.Size())
		}
	}
	if !strings.Contains(errs, "records could not be read") {
		t.Errorf("the bad records are not said: %s", errs)
	}
	// --source forces a format; a Postfix log read as PowerMTA fails
	// clearly.
	code, _, errs = mt(t, "", "analyze", "--source", "powermta", sample)
	if code != exitError || !strings.Contains(errs, "not a PowerMTA accounting file") {
		t.Errorf("--source powermta on a Postfix log: exit %d %s", code, errs)
	}
	if code, _, errs := mt(t, "", "analyze", "--source", "exchange", sample); code != exitUsage || !strings.Contains(errs, "--source") {
		t.Errorf("unknown --source: exit %d %s", code, errs)
	}
}

// TestAnalyzePostqueue: the live Postfix queue (postqueue -j), from a
// file, forced with --source, and piped in: every recipient still queued
// is pending, in its lane, with its last deferral reason.
func TestAnalyzePostqueue(t *testing.T) {
	const listing = "../../source/postqueue/testdata/queue.json"
	data, err := os.ReadFile(listing)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what, stdin string
		args        []string
	}{
		{"detected", "", []string{listing}},
		{"--source postqueue", "", []string{"--source", "postqueue", listing}},
		{"postqueue -j | mailtriage analyze -", string(data), []string{"-"}},
	} {
		code, out, errs := mt(t, c.stdin, append([]string{"analyze", "--format", "json"}, c.args...)...)
		if code != exitOK {
			t.Errorf("%s: exit %d: %s", c.what, code, errs)
			continue
		}
		var r analysis.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Inputs) != 1 || r.Inputs[0].Format != "postqueue" || len(r.Inputs[0].Limits) == 0 || !strings.Contains(r.Inputs[0].Limits[0], "a snapshot of the Postfix queue") {
			t.Errorf("%s: inputs %+v", c.what, r.Inputs)
		}
		pending := map[string]analysis.RecipientOutcome{}
		for _, p := range r.PendingRecipients {
			pending[p.Recipient] = p
		}
		if len(pending) != 9 || r.Summary.Pending != 9 {
			t.Errorf("%s: %d pending recipients, summary %+v", c.what, len(pending), r.Summary)
		}
		for rcpt, want := range map[string][3]string{
			"jane@icloud.com": {"apple", "421 4.7.0 Deferred - see Proofpoint DNSBL lookup", "proofpoint-pdr-deferral"},
			"ann@yahoo.com":   {"yahoo", "421 4.7.0 [TSS04] Messages from 203.0.113.25", "yahoo-tss04-deferred"},
			"ops@example.com": {"other", "Connection timed out", "connect-timed-out"},
			"lee@outlook.com": {"microsoft", "message is on hold", ""},
		} {
			p := pending[rcpt]
			if p.Lane != want[0] || !strings.HasPrefix(p.LastReply, want[1]) || want[2] != "" && p.Rule != want[2] || p.Queued.IsZero() {
				t.Errorf("%s: pending %s: %+v, want %q", c.what, rcpt, p, want)
			}
		}
	}
	// The text report says what a snapshot cannot show.
	code, out, errs := mt(t, string(data), "analyze", "-")
	if code != exitOK || !strings.Contains(out, "a snapshot of the Postfix queue") || !strings.Contains(out, "postqueue records") {
		t.Errorf("text: exit %d %s %s", code, errs, out)
	}
	// The snapshot's instant is the span, not its oldest arrival onwards.
	if head, _, _ := strings.Cut(out, "\n"); !strings.Contains(head, "9 lines, at ") {
		t.Errorf("text: span %q", head)
	}
}

// TestAnalyzeBounces: returned messages, a message file and an mbox, are
// told from logs by their content and feed the analysis: bounces by
// reason, and the feedback report a complaint with its finding.
func TestAnalyzeBounces(t *testing.T) {
	dir := t.TempDir()
	var mbox strings.Builder
	for _, f := range []string{"lhost-postfix-01.eml", "arf-01.eml", "lhost-exim-05.eml"} {
		data, err := os.ReadFile(bounceCorpus + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		mbox.WriteString("From MAILER-DAEMON Thu Apr 29 23:34:45 2021\n" + string(data) + "\n")
	}
	os.WriteFile(dir+"/bounces.mbox", []byte(mbox.String()), 0o644)
	// A Maildir holding the same four bounces: a folder is a mailbox.
	maildir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.Mkdir(filepath.Join(maildir, sub), 0o755)
	}
	for i, f := range []string{"lhost-postfix-01.eml", "arf-01.eml", "lhost-exim-05.eml", "lhost-qmail-01.eml"} {
		data, _ := os.ReadFile(bounceCorpus + "/" + f)
		os.WriteFile(filepath.Join(maildir, "cur", fmt.Sprintf("%d.host:2,S", i)), data, 0o644)
	}
	for _, args := range [][]string{
		{"analyze", "--format", "json", dir + "/bounces.mbox", bounceCorpus + "/lhost-qmail-01.eml"},
		{"analyze", "--format", "json", "--source", "bounces", dir + "/bounces.mbox", bounceCorpus + "/lhost-qmail-01.eml"},
		{"analyze", "--format", "json", maildir},
	} {
		code, out, errs := mt(t, "", args...)
		if code != exitOK && code != exitProblems {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var r analysis.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Summary.Complaints != 1 || r.Summary.Bounced != 3 {
			t.Errorf("summary %+v", r.Summary)
		}
		for _, in := range r.Inputs {
			if in.Format != "bounces" {
				t.Errorf("input %s read as %s", in.Name, in.Format)
			}
			if in.Bytes == 0 {
				t.Errorf("input %s: no bytes read", in.Name)
			}
			if in.First.Location() != time.UTC || in.Last.Location() != time.UTC {
				t.Errorf("input %s: times %v to %v, want UTC", in.Name, in.First, in.Last)
			}
		}
		found := false
		for _, f := range r.Findings {
			found = found || f.Code == "reputation.complaints"
		}
		if !found {
			t.Error("no complaint finding")
		}
	}

	// The text report counts a folder of bounces in messages.
	if _, out, _ := mt(t, "", "analyze", maildir); !strings.Contains(out, ": 4 messages, 4 recipients reported, 0 ordinary messages or auto-replies, 0 naming nobody") {
		t.Errorf("INPUTS line of a folder of bounces:\n%s", out)
	}

	// A file of the folder that cannot be read (a link to nothing) is
	// named, the exit status says so, and the rest is analysed.
	os.Symlink("/nonexistent", filepath.Join(maildir, "cur", "9.host:2,S"))
	code, out, errs := mt(t, "", "analyze", "--format", "json", maildir)
	var r analysis.Result
	json.Unmarshal([]byte(out), &r)
	if code != exitError || !strings.Contains(errs, "9.host:2,S") || !strings.Contains(errs, "1 file could not be read") || r.Summary.Bounced != 3 {
		t.Errorf("a folder with an unreadable file: exit %d, stderr %q, summary %+v", code, errs, r.Summary)
	}
}
