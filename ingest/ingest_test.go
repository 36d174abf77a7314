package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/lane"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/samplelog"
	"github.com/mailtriage/mailtriage/source"
	"github.com/mailtriage/mailtriage/source/postfix"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

func config(t testing.TB) Config {
	t.Helper()
	cat, err := provider.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := classify.New(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	lanes, err := lane.New(nil, func(h string) string {
		if p := cat.ByHost(h); p != nil {
			return p.Name
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Classifier: cl, Lanes: lanes, Now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}
}

// TestFilesInTimeOrder: rotated files are read oldest first by their first
// stamp, not by name (mail.log.10 is not older than mail.log.2 because of
// its name).
func TestFilesInTimeOrder(t *testing.T) {
	dir := t.TempDir()
	older := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n" +
		"2026-11-30T10:00:01+00:00 mta1 postfix/smtp[2]: 4F1A22C0B3: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command))\n"
	newer := "2026-12-01T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, status=expired, returned to sender\n"
	os.WriteFile(filepath.Join(dir, "mail.log.2"), []byte(older), 0o644)
	os.WriteFile(filepath.Join(dir, "mail.log.10"), []byte(newer), 0o644)
	rep := Logs(context.Background(), []string{filepath.Join(dir, "mail.log.10"), filepath.Join(dir, "mail.log.2")}, nil, config(t))
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	r := rep.Result
	if r.Summary.Expired != 1 || len(r.Expired) != 1 || r.Expired[0].LastReply.Code != 421 {
		t.Errorf("the expiry in the newer file must see the deferral in the older one: %+v %+v", r.Summary, r.Expired)
	}
	if !strings.HasSuffix(r.Inputs[0].Name, "mail.log.2") {
		t.Errorf("inputs read in order %s, %s", r.Inputs[0].Name, r.Inputs[1].Name)
	}
}

func TestZstd(t *testing.T) {
	data, err := os.ReadFile("testdata/small.log.zst")
	if err != nil {
		t.Fatal(err)
	}
	rep := Logs(context.Background(), []string{"-"}, bytes.NewReader(data), config(t))
	if rep.Failed() || rep.Result.Summary.Attempts != 2 {
		t.Errorf("zstd on stdin: %v %+v", rep.Errors, rep.Result.Summary)
	}
}

// benchLog is the benchmarks' input: the sample at twice its volume.
func benchLog(b *testing.B) *bytes.Buffer {
	cfg := samplelog.Default()
	cfg.Scale = 2
	var log bytes.Buffer
	if err := samplelog.Generate(&log, cfg); err != nil {
		b.Fatal(err)
	}
	return &log
}

// BenchmarkPipeline measures the whole analysis (read, parse, classify,
// track, aggregate) on a generated log held in memory.
func BenchmarkPipeline(b *testing.B) {
	log := benchLog(b)
	c := config(b)
	b.SetBytes(int64(log.Len()))
	b.ReportAllocs()
	for b.Loop() {
		rep := Logs(context.Background(), []string{"-"}, bytes.NewReader(log.Bytes()), c)
		if rep.Failed() {
			b.Fatal(rep.Errors)
		}
	}
}

// TestMappedEqualsStreamed: a plain file parsed in place gives the same
// analysis as the same bytes read as a stream.
func TestMappedEqualsStreamed(t *testing.T) {
	cfg := samplelog.Default()
	cfg.Days = 2
	var log bytes.Buffer
	if err := samplelog.Generate(&log, cfg); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mail.log")
	os.WriteFile(path, log.Bytes(), 0o644)
	c := config(t)
	mapped := Logs(context.Background(), []string{path}, nil, c)
	streamed := Logs(context.Background(), []string{"-"}, bytes.NewReader(log.Bytes()), c)
	if mapped.Failed() || streamed.Failed() {
		t.Fatal(mapped.Errors, streamed.Errors)
	}
	mapped.Result.Inputs, streamed.Result.Inputs = nil, nil
	a, _ := json.Marshal(mapped.Result)
	b, _ := json.Marshal(streamed.Result)
	if !bytes.Equal(a, b) {
		t.Error("mapped and streamed analyses differ")
	}
}

// TestTruncatedWhileMapped: a file truncated under the parser is an
// error for that input, not a crash.
func TestTruncatedWhileMapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	line := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
	os.WriteFile(path, bytes.Repeat([]byte(line), 200000), 0o644)
	in, err := source.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := in.Map()
	if err != nil {
		t.Skipf("no mmap here: %v", err)
	}
	defer m.Close()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	tr := postfix.NewTracker(nil, nil, func(*mailtriage.Event) {})
	_, err = postfix.ReadBytes(context.Background(), m.Data, m.Release, &syslogstamp.Clock{}, tr, postfix.Options{Workers: 2})
	if !errors.Is(err, postfix.ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
}

// TestPostqueue: a postqueue -j listing is told from its content, read as
// a snapshot (every recipient still queued is pending, with its last
// deferral reason), and says so among its limits.
func TestPostqueue(t *testing.T) {
	const listing = "../source/postqueue/testdata/queue.json"
	rep := Logs(context.Background(), []string{listing}, nil, config(t))
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	r := rep.Result
	in := r.Inputs[0]
	if in.Format != PostQueue || in.Lines != 9 || in.MatchedLines != 7 || in.Unparsed != 3 {
		t.Errorf("input %+v", in)
	}
	if len(in.Limits) != 2 || !strings.Contains(in.Limits[0], "a snapshot of the Postfix queue") || !strings.Contains(in.Limits[0], "(1 active, 5 deferred, 1 hold;") ||
		!strings.Contains(in.Limits[1], "1 message is forced to expire") {
		t.Errorf("limits %q", in.Limits)
	}
	// The file's modification time is the snapshot's.
	fi, err := os.Stat(listing)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Last.Equal(fi.ModTime().UTC()) {
		t.Errorf("snapshot at %v, want the file's time %v", in.Last, fi.ModTime())
	}
	// A snapshot covers its instant, not the days since its oldest
	// message arrived: that arrival is named in its limits.
	if !in.First.Equal(in.Last) || !strings.Contains(in.Limits[0], "oldest arrival 2026-11-30 17:20 UTC") {
		t.Errorf("snapshot spans %v to %v, limits %q", in.First, in.Last, in.Limits)
	}
	if r.Summary.Pending != 9 || r.Summary.Notifications != 1 || r.Summary.Messages != 6 || r.Summary.Attempts != 0 || r.Summary.LocalDeferrals != 0 || len(r.Hourly) != 0 {
		t.Errorf("summary %+v", r.Summary)
	}
	pending := map[string]string{}
	for _, p := range r.PendingRecipients {
		pending[p.Recipient] = p.Lane + ": " + p.LastReply
	}
	for rcpt, want := range map[string]string{
		"jane@icloud.com": "apple: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup",
		"ann@yahoo.com":   "yahoo: 421 4.7.0 [TSS04] Messages from 203.0.113.25 temporarily deferred",
		"ops@example.com": "other: Connection timed out",
		"lee@outlook.com": "microsoft: message is on hold",
		"pat@example.org": "other: mail transport unavailable",
		"bob@gmail.com":   "google: ", // in the active queue, not deferred yet
	} {
		if got, ok := pending[rcpt]; !ok || !strings.HasPrefix(got, want) {
			t.Errorf("pending %s: %q, want %q...", rcpt, got, want)
		}
	}

	// Forced, from standard input.
	data, err := os.ReadFile(listing)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(t)
	cfg.Format = PostQueue
	rep = Logs(context.Background(), []string{"-"}, bytes.NewReader(data), cfg)
	if rep.Failed() || rep.Result.Summary.Pending != 9 || rep.Result.Inputs[0].Format != PostQueue {
		t.Errorf("postqueue on stdin: %v %+v", rep.Errors, rep.Result.Summary)
	}
	// An empty queue prints nothing: read as postqueue, that is an
	// answer.
	rep = Logs(context.Background(), []string{"-"}, strings.NewReader(""), cfg)
	if rep.Failed() || len(rep.Result.Inputs[0].Limits) != 1 || !strings.Contains(rep.Result.Inputs[0].Limits[0], "the queue was empty") {
		t.Errorf("empty queue: %v %+v", rep.Errors, rep.Result.Inputs)
	}
	// A Postfix log read as a queue listing fails clearly.
	log := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
	rep = Logs(context.Background(), []string{"-"}, strings.NewReader(log), cfg)
	if !rep.Failed() || !strings.Contains(rep.Errors[0].Error(), "no delivery records among 1 lines of postqueue") || len(rep.Result.Inputs[0].Limits) != 0 {
		t.Errorf("a Postfix log as postqueue: %v %+v", rep.Errors, rep.Result.Inputs)
	}
}

// TestPostqueueUntil: --until reports the logs cut there, of which a queue
// snapshot made at or after it is no part: its recipients are not pending
// in the window, and its limits say so rather than that they are.
func TestPostqueueUntil(t *testing.T) {
	data, err := os.ReadFile("../source/postqueue/testdata/queue.json")
	if err != nil {
		t.Fatal(err)
	}
	listing := filepath.Join(t.TempDir(), "queue.json")
	if err := os.WriteFile(listing, data, 0o644); err != nil {
		t.Fatal(err)
	}
	made := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(listing, made, made); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		until   time.Time
		pending int
		left    bool
	}{
		{made.Add(time.Hour), 9, false},
		{made, 0, true},
		{made.Add(-time.Hour), 0, true},
	} {
		cfg := config(t)
		cfg.Analysis.Until = tc.until
		rep := Logs(context.Background(), []string{listing}, nil, cfg)
		if rep.Failed() {
			t.Fatal(rep.Errors)
		}
		limits := rep.Result.Inputs[0].Limits
		left := len(limits) > 0 && strings.HasPrefix(limits[0], "made at or after --until")
		if p := rep.Result.Summary.Pending; p != tc.pending || left != tc.left {
			t.Errorf("until %v: %d pending, limits %q; want %d pending, said left out %v", tc.until, p, limits, tc.pending, tc.left)
		}
	}
}

// TestWindowShown: the window the report names is the one applied: an
// --until with a fraction of a second (RFC 3339 section 5.6's time-secfrac)
// keeps it, or "until 10:30:00Z" would stand for a window that also holds
// a delivery logged at 10:30:00.2.
func TestWindowShown(t *testing.T) {
	log := "2026-11-30T10:30:00.2+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
	cfg := config(t)
	cfg.Analysis.Since = time.Date(2026, 11, 30, 10, 0, 0, 250e6, time.UTC)
	cfg.Analysis.Until = time.Date(2026, 11, 30, 10, 30, 0, 500e6, time.UTC)
	rep := Logs(context.Background(), []string{"-"}, strings.NewReader(log), cfg)
	if r := rep.Result; r.Since != "2026-11-30T10:00:00.25Z" || r.Until != "2026-11-30T10:30:00.5Z" {
		t.Errorf("window since %s until %s; want 2026-11-30T10:00:00.25Z, 2026-11-30T10:30:00.5Z", r.Since, r.Until)
	}
}

// TestPostqueueWithLog: a snapshot given with the log of the same
// Postfix counts each queued message and recipient once. Where the log
// followed a message, its account wins (it knows the attempts); the
// snapshot adds what the log does not follow.
func TestPostqueueWithLog(t *testing.T) {
	const listing = "../source/postqueue/testdata/queue.json"
	dir := t.TempDir()
	log := "2026-12-01T08:00:00+00:00 mta1 postfix/qmgr[1201]: 4dKyJ30ZGzz9sWS: from=<news@shop.example.net>, size=48213, nrcpt=2 (queue active)\n" +
		"2026-12-01T08:00:02+00:00 mta1 postfix/smtp[4821]: 4dKyJ30ZGzz9sWS: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.155.23]:25, delay=2, delays=0.1/0/1/0.9, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.155.23] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to RCPT TO command))\n" +
		"2026-12-01T08:00:02+00:00 mta1 postfix/error[4822]: 4dKyJ30ZGzz9sWS: to=<joe@me.com>, relay=none, delay=2, delays=0.1/0/0/1.9, dsn=4.7.0, status=deferred (delivery temporarily suspended: host mx01.mail.icloud.com[17.57.155.23] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to RCPT TO command))\n"
	path := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := Logs(context.Background(), []string{path, listing}, nil, config(t))
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	r := rep.Result
	// The listing alone: 6 messages, 9 pending; the log adds one attempt.
	if r.Summary.Messages != 6 || r.Summary.Recipients != 9 || r.Summary.Pending != 9 || r.Summary.Attempts != 1 || r.Summary.LocalDeferrals != 1 {
		t.Errorf("summary %+v", r.Summary)
	}
	n := 0
	for _, p := range r.PendingRecipients {
		if p.Recipient == "jane@icloud.com" {
			n++
			if p.Attempts != 1 || p.Host != "mta1" {
				t.Errorf("jane: %+v, want the log's account", p)
			}
		}
	}
	if n != 1 {
		t.Errorf("jane pending %d times", n)
	}
}

// TestMailqText: the text listing of mailq (postqueue -p) is not the
// JSON one; the error says to list the queue with postqueue -j.
func TestMailqText(t *testing.T) {
	listing := "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
		"4dKyJ30ZGzz9sWS   48213 Tue Dec  1 08:00:00  news@shop.example.net\n" +
		"(host mx01.mail.icloud.com[17.57.155.23] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to RCPT TO command))\n" +
		"                                         jane@icloud.com\n\n" +
		"-- 48 Kbytes in 1 Request.\n"
	for _, c := range []struct{ what, format, input string }{
		{"detected", "", listing},
		{"--source postqueue", PostQueue, listing},
		{"empty queue", "", "Mail queue is empty\n"},
	} {
		cfg := config(t)
		cfg.Format = c.format
		rep := Logs(context.Background(), []string{"-"}, strings.NewReader(c.input), cfg)
		if !rep.Failed() || !strings.Contains(rep.Errors[0].Error(), "mailq") || !strings.Contains(rep.Errors[0].Error(), "postqueue -j") {
			t.Errorf("%s: %v", c.what, rep.Errors)
		}
	}
}

// TestSendmailZone: a Sendmail syslog's traditional stamps carry neither
// zone nor year; the input says how many were read in --tz and in which
// year, as a Postfix log's does, so the report can say so.
// TestOrderByFirstStampInZone: rotated Exim and PowerMTA files are read in
// the order of their first stamps, read with their zones as their readers
// read them: the older file, whose first line is later on the wall clock of
// another zone, comes first, so the deferral it holds is not dropped as a
// late record after the delivery.
func TestOrderByFirstStampInZone(t *testing.T) {
	for _, tc := range []struct {
		name, older, newer string
	}{
		{"exim",
			"2026-11-30 10:00:00 +0100 1tsXyZ-000Abc-9Q <= news@shop.example.net H=app1 [10.0.0.5] P=esmtp S=4821 id=a@shop.example.net\n" +
				"2026-11-30 10:00:01 +0100 1tsXyZ-000Abc-9Q == jane@icloud.com R=dnslookup T=remote_smtp defer (-45) H=mx01.mail.icloud.com [17.57.154.6]: SMTP error from remote mail server after MAIL FROM:<news@shop.example.net>: 421 4.7.0 [HCM1] try later\n",
			"2026-11-30 09:30:00 +0000 1tsXyZ-000Abc-9Q => jane@icloud.com R=dnslookup T=remote_smtp H=mx01.mail.icloud.com [17.57.154.6] C=\"250 2.0.0 Ok\"\n" +
				"2026-11-30 09:30:00 +0000 1tsXyZ-000Abc-9Q Completed\n"},
		{"powermta",
			"type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,header_Message-Id\n" +
				"t,2026-11-30 10:00:01+0100,2026-11-30 10:00:00+0100,news@shop.example.net,jane@icloud.com,delayed,4.7.0 (delayed),smtp;421 4.7.0 [HCM1] try later,mx01.mail.icloud.com (17.57.154.6),<a@shop.example.net>\n",
			"type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,header_Message-Id\n" +
				"d,2026-11-30 09:30:00+0000,2026-11-30 10:00:00+0100,news@shop.example.net,jane@icloud.com,relayed,2.0.0 (success),smtp;250 2.0.0 Ok,mx01.mail.icloud.com (17.57.154.6),<a@shop.example.net>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			older, newer := filepath.Join(dir, "log.1"), filepath.Join(dir, "log")
			os.WriteFile(older, []byte(tc.older), 0o644)
			os.WriteFile(newer, []byte(tc.newer), 0o644)
			rep := Logs(context.Background(), []string{newer, older}, nil, config(t))
			if rep.Failed() {
				t.Fatal(rep.Errors)
			}
			if s := rep.Result.Summary; s.Attempts != 2 || s.Deferrals != 1 || s.Delivered != 1 {
				t.Errorf("summary %+v, want 2 attempts: the deferral, then the delivery", s)
			}
			if in := rep.Result.Inputs; in[0].Name != older {
				t.Errorf("read %s first, want %s", in[0].Name, older)
			}
		})
	}
}

// TestPowerMTANoTRecords: the note that an accounting file has no t rows
// (its <acct-file> lacks "records d,b,t") is for a run where no file has
// them: the record types are set per <acct-file>, so a rotated file of a
// quiet hour, beside one of the same acct-file with t rows, simply had no
// deferral to write, and its configuration is not at fault.
func TestPowerMTANoTRecords(t *testing.T) {
	const header = "type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,header_Message-Id\n"
	withT := header + "t,2026-11-30 10:00:01+0000,2026-11-30 10:00:00+0000,news@shop.example.net,jane@icloud.com,delayed,4.7.0 (delayed),smtp;421 4.7.0 [HCM1] try later,mx01.mail.icloud.com (17.57.154.6),<a@shop.example.net>\n"
	withoutT := header + "d,2026-11-30 11:00:00+0000,2026-11-30 10:00:00+0000,news@shop.example.net,jane@icloud.com,relayed,2.0.0 (success),smtp;250 2.0.0 Ok,mx01.mail.icloud.com (17.57.154.6),<a@shop.example.net>\n"
	noted := func(in analysis.Input) bool {
		return slices.ContainsFunc(in.Limits, func(l string) bool { return strings.Contains(l, "no t records") })
	}
	dir := t.TempDir()
	older, newer := filepath.Join(dir, "acct.csv.1"), filepath.Join(dir, "acct.csv")
	os.WriteFile(older, []byte(withT), 0o644)
	os.WriteFile(newer, []byte(withoutT), 0o644)
	for _, tc := range []struct {
		names []string
		noted bool
	}{
		{[]string{newer}, true},
		{[]string{older, newer}, false},
	} {
		rep := Logs(context.Background(), tc.names, nil, config(t))
		if rep.Failed() {
			t.Fatal(rep.Errors)
		}
		for _, in := range rep.Result.Inputs {
			if in.Name == newer && noted(in) != tc.noted {
				t.Errorf("%d inputs: %s noted as having no t records: %v, want %v", len(tc.names), in.Name, noted(in), tc.noted)
			}
		}
	}
}

// TestSyslogProtocol: Postfix lines in RFC 5424 form (syslog-ng,
// rsyslog's syslog-protocol template) are analysed, and their files put in
// order by their first stamps, as traditional and RFC 3339 lines are.
func TestSyslogProtocol(t *testing.T) {
	dir := t.TempDir()
	older, newer := filepath.Join(dir, "mail.log.1"), filepath.Join(dir, "mail.log")
	os.WriteFile(older, []byte("<22>1 2026-11-30T10:00:00.5Z mta1 postfix/qmgr 1201 - - 4F1A22C0B3: from=<news@shop.example.net>, size=48213, nrcpt=1 (queue active)\n"+
		"<22>1 2026-11-30T10:00:01Z mta1 postfix/smtp 4821 - - 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command))\n"), 0o644)
	os.WriteFile(newer, []byte("<22>1 2026-11-30T11:00:01Z mta1 postfix/smtp 4822 - - 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=3601, delays=3600/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"+
		"<22>1 2026-11-30T11:00:01.5Z mta1 postfix/qmgr 1201 - - 4F1A22C0B3: removed\n"), 0o644)
	rep := Logs(context.Background(), []string{newer, older}, nil, config(t))
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	if s := rep.Result.Summary; s.Messages != 1 || s.Attempts != 2 || s.Deferrals != 1 || s.Delivered != 1 {
		t.Errorf("summary %+v", s)
	}
	if in := rep.Result.Inputs; in[0].Name != older || in[0].MatchedLines != 2 {
		t.Errorf("inputs %+v, want %s first with its 2 lines", in, older)
	}
}

// TestSinceCountsQueuedMessages: a message still queued at the end counts
// in a window that holds the end, with its pending recipients, whatever
// the format: the Postfix reader closes such messages at the end, and so
// does the reader of the other formats.
func TestSinceCountsQueuedMessages(t *testing.T) {
	for _, tc := range []struct{ format, log string }{
		{Postfix, "2026-11-30T10:00:00Z mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<news@shop.example.net>, size=1, nrcpt=1 (queue active)\n" +
			"2026-11-30T10:00:01Z mta1 postfix/smtp[2]: 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n" +
			"2026-11-30T14:00:00Z mta1 postfix/qmgr[1]: 5B77C1D0A2: from=<news@shop.example.net>, size=1, nrcpt=1 (queue active)\n"},
		{Exim, "2026-11-30 10:00:00 1tsXyZ-000Abc-9Q <= news@shop.example.net H=app1 [10.0.0.5] P=esmtp S=4821 id=a@shop.example.net\n" +
			"2026-11-30 10:00:01 1tsXyZ-000Abc-9Q == jane@icloud.com R=dnslookup T=remote_smtp defer (-45) H=mx01.mail.icloud.com [17.57.154.6]: SMTP error from remote mail server after MAIL FROM:<news@shop.example.net>: 421 4.7.0 try later\n" +
			"2026-11-30 14:00:00 1tsYaa-000Abc-9Q <= news@shop.example.net H=app1 [10.0.0.5] P=esmtp S=4821 id=b@shop.example.net\n"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			cfg := config(t)
			cfg.Analysis.Since = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			rep := Logs(context.Background(), []string{"-"}, strings.NewReader(tc.log), cfg)
			if rep.Failed() {
				t.Fatal(rep.Errors)
			}
			// The deferred message, queued at the end: its recipient is
			// pending, and it counts, as does the one queued at 14:00,
			// whose recipient no line named yet.
			if s := rep.Result.Summary; s.Pending != 1 || s.Recipients != 1 || s.Messages != 2 {
				t.Errorf("summary %+v, want the queued message and its pending recipient", s)
			}
		})
	}
}

// TestSyslogProtocolProgramCut: RFC 5424 lines whose APP-NAME lost the
// program after Postfix's name (rsyslog's default programname) are
// refused with the setting that keeps it, not read as other programs'.
func TestSyslogProtocolProgramCut(t *testing.T) {
	log := "<22>1 2026-11-30T10:00:00Z mta1 postfix 1201 - - 4F1A22C0B3: from=<news@shop.example.net>, size=1, nrcpt=1 (queue active)\n" +
		"<22>1 2026-11-30T10:00:01Z mta1 postfix 4821 - - 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	rep := Logs(context.Background(), []string{"-"}, strings.NewReader(log), config(t))
	if len(rep.Errors) != 1 {
		t.Fatalf("errors %v", rep.Errors)
	}
	for _, w := range []string{"standard input: ", "RFC 5424", "permitSlashInProgramName"} {
		if !strings.Contains(rep.Errors[0].Error(), w) {
			t.Errorf("%q does not say %q", rep.Errors[0], w)
		}
	}
}

// TestRepeatedHourZoneless: stamps that carry a year but no zone, read in
// --tz, are settled in the hour repeated when clocks go back (Europe/Berlin,
// 25 October 2026, 03:00 CEST becomes 02:00 CET) as traditional ones are:
// a line of the second pass follows the first pass, it does not land on it.
func TestRepeatedHourZoneless(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	walls := []string{"02:30:00", "02:59:00", "02:10:00", "02:40:00", "03:05:00"} // the third and fourth: second pass
	postfix := "2026-10-25T02:00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<news@shop.example.net>, size=1, nrcpt=1 (queue active)\n"
	exim := "2026-10-25 02:00:00 1tsXyZ-000Abc-9Q <= news@shop.example.net H=app1 [10.0.0.5] P=esmtp S=4821 id=a@shop.example.net\n"
	pmta := "type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,header_Message-Id\n"
	for _, w := range walls {
		postfix += "2026-10-25T" + w + " mta1 postfix/smtp[2]: 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n"
		exim += "2026-10-25 " + w + " 1tsXyZ-000Abc-9Q == jane@icloud.com R=dnslookup T=remote_smtp defer (-45) H=mx01.mail.icloud.com [17.57.154.6]: SMTP error from remote mail server after MAIL FROM:<news@shop.example.net>: 421 4.7.0 try later\n"
		pmta += "t,2026-10-25 " + w + ",2026-10-25 02:00:00,news@shop.example.net,jane@icloud.com,delayed,4.7.0 (delayed),smtp;421 4.7.0 try later,mx01.mail.icloud.com (17.57.154.6),<a@shop.example.net>\n"
	}
	for _, tc := range []struct{ format, log string }{{Postfix, postfix}, {Exim, exim}, {PowerMTA, pmta}} {
		t.Run(tc.format, func(t *testing.T) {
			cfg := config(t)
			cfg.Location = loc
			rep := Logs(context.Background(), []string{"-"}, strings.NewReader(tc.log), cfg)
			if rep.Failed() {
				t.Fatal(rep.Errors)
			}
			got := map[string]int{}
			for _, h := range rep.Result.Hourly {
				got[h.Hour.UTC().Format("15")] += h.Attempts
			}
			// 02:30 and 02:59 CEST are 00:30 and 00:59 UTC; 02:10 and
			// 02:40 CET are 01:10 and 01:40; 03:05 CET is 02:05.
			if want := map[string]int{"00": 2, "01": 2, "02": 1}; !maps.Equal(got, want) {
				t.Errorf("attempts by UTC hour %v, want %v", got, want)
			}
			if last := rep.Result.Inputs[0].Last.UTC().Format("15:04"); last != "02:05" {
				t.Errorf("last stamp %s, want 02:05", last)
			}
		})
	}
}

// TestPendingUnnamed: recipients qmgr counted (nrcpt=) that no delivery
// line named by the end, as behind a slowed lane's transport, are counted
// apart from the named pending ones; a message whose arrival the log does
// not show is left out, as its nrcpt also counts recipients delivered
// before the log began.
func TestPendingUnnamed(t *testing.T) {
	log := "2026-11-30T10:00:00Z mta1 postfix/smtpd[1]: 4F1A22C0B3: client=app1.example.net[10.0.0.5]\n" +
		"2026-11-30T10:00:01Z mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<news@shop.example.net>, size=1, nrcpt=3 (queue active)\n" +
		"2026-11-30T10:00:02Z mta1 postfix/smtp[2]: 4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n" +
		"2026-11-30T10:00:03Z mta1 postfix/pickup[1]: 5B77C1D0A2: uid=1000 from=<news>\n" +
		"2026-11-30T10:00:04Z mta1 postfix/qmgr[1]: 5B77C1D0A2: from=<news@shop.example.net>, size=1, nrcpt=2 (queue active)\n" +
		// Delivered in full: nothing left.
		"2026-11-30T10:00:05Z mta1 postfix/smtpd[1]: 7D1B02F3C5: client=app1.example.net[10.0.0.5]\n" +
		"2026-11-30T10:00:06Z mta1 postfix/qmgr[1]: 7D1B02F3C5: from=<news@shop.example.net>, size=1, nrcpt=1 (queue active)\n" +
		"2026-11-30T10:00:07Z mta1 postfix/smtp[2]: 7D1B02F3C5: to=<bob@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)\n" +
		"2026-11-30T10:00:08Z mta1 postfix/qmgr[1]: 7D1B02F3C5: removed\n" +
		// Arrived before the log began.
		"2026-11-30T10:00:09Z mta1 postfix/qmgr[1]: 6C0A91E2B4: from=<news@shop.example.net>, size=1, nrcpt=5 (queue active)\n"
	rep := Logs(context.Background(), []string{"-"}, strings.NewReader(log), config(t))
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	if s := rep.Result.Summary; s.Pending != 1 || s.PendingUnnamed != 4 || s.Recipients != 2 {
		t.Errorf("summary %+v, want 1 pending and 4 not yet named (2 of the first message, 2 of the second)", s)
	}
}

// TestPendingUnnamedWithSnapshot: a queue snapshot names the recipients
// the log only counted (nrcpt=); they are pending in their lanes, once,
// and no longer among those known only by their count.
func TestPendingUnnamedWithSnapshot(t *testing.T) {
	log := "2026-11-30T10:00:00Z mta1 postfix/smtpd[1]: 4dKyJ30ZGzz9sWS: client=app1.example.net[10.0.0.5]\n" +
		"2026-11-30T10:00:01Z mta1 postfix/qmgr[1]: 4dKyJ30ZGzz9sWS: from=<news@shop.example.net>, size=1, nrcpt=4 (queue active)\n" +
		"2026-11-30T10:00:02Z mta1 postfix/smtp[2]: 4dKyJ30ZGzz9sWS: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n" +
		// Not in the snapshot: the logs' account stands.
		"2026-11-30T10:00:03Z mta1 postfix/smtpd[1]: 5B77C1D0A2: client=app1.example.net[10.0.0.5]\n" +
		"2026-11-30T10:00:04Z mta1 postfix/qmgr[1]: 5B77C1D0A2: from=<news@shop.example.net>, size=1, nrcpt=3 (queue active)\n" +
		"2026-11-30T10:00:05Z mta1 postfix/smtp[2]: 5B77C1D0A2: to=<ann@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n"
	snapshot := `{"queue_name": "deferred", "queue_id": "4dKyJ30ZGzz9sWS", "arrival_time": 1796032800, "message_size": 1, "forced_expire": false, "sender": "news@shop.example.net", "recipients": [` +
		`{"address": "jane@icloud.com", "delay_reason": "host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command)"}, ` +
		`{"address": "joe@me.com", "delay_reason": "delivery temporarily suspended: host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command)"}]}` + "\n"
	rep := withSnapshotAfter(t, log, snapshot)
	// jane from the log, joe from the snapshot; the snapshot lists two
	// of the four recipients nrcpt= counted: the other two were done.
	// ann's message, which the snapshot does not list, keeps the two
	// recipients the log only counted.
	if s := rep.Result.Summary; s.Messages != 2 || s.Recipients != 3 || s.Pending != 3 || s.PendingUnnamed != 2 {
		t.Errorf("summary %+v, want 2 messages, 3 recipients pending, 2 known only by their count", s)
	}
}

// withSnapshotAfter analyses a log and a postqueue -j snapshot taken at
// 10:05 on 30 November 2026, after the log's last line.
func withSnapshotAfter(t *testing.T, log, snapshot string) *Report {
	t.Helper()
	dir := t.TempDir()
	logPath, queuePath := filepath.Join(dir, "mail.log"), filepath.Join(dir, "queue.json")
	for path, data := range map[string]string{logPath: log, queuePath: snapshot} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	when := time.Date(2026, 11, 30, 10, 5, 0, 0, time.UTC)
	if err := os.Chtimes(queuePath, when, when); err != nil {
		t.Fatal(err)
	}
	rep := Logs(context.Background(), []string{logPath, queuePath}, nil, config(t))
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	return rep
}

// TestPendingUnnamedSameQueueID: two messages still queued with
// recipients the logs only counted share a queue id (two MTAs, or a queue
// id reused after a message whose end the log lost). A queue snapshot
// among the inputs lists neither: both are counted, with their recipients
// known only by their count.
func TestPendingUnnamedSameQueueID(t *testing.T) {
	log := "2026-11-30T10:00:00Z mta1 postfix/smtpd[1]: 5B77C1D0A2: client=app1.example.net[10.0.0.5]\n" +
		"2026-11-30T10:00:01Z mta1 postfix/qmgr[1]: 5B77C1D0A2: from=<news@shop.example.net>, size=1, nrcpt=3 (queue active)\n" +
		"2026-11-30T10:00:02Z mta1 postfix/smtp[2]: 5B77C1D0A2: to=<ann@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n" +
		"2026-11-30T10:00:03Z mta2 postfix/smtpd[1]: 5B77C1D0A2: client=app1.example.net[10.0.0.5]\n" +
		"2026-11-30T10:00:04Z mta2 postfix/qmgr[1]: 5B77C1D0A2: from=<news@shop.example.net>, size=1, nrcpt=2 (queue active)\n" +
		"2026-11-30T10:00:05Z mta2 postfix/smtp[2]: 5B77C1D0A2: to=<bea@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command))\n"
	snapshot := `{"queue_name": "deferred", "queue_id": "4dKyJ30ZGzz9sWS", "arrival_time": 1796032800, "message_size": 1, "forced_expire": false, "sender": "news@shop.example.net", "recipients": [` +
		`{"address": "joe@me.com", "delay_reason": "delivery temporarily suspended: host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 try later (in reply to MAIL FROM command)"}]}` + "\n"
	rep := withSnapshotAfter(t, log, snapshot)
	if s := rep.Result.Summary; s.Messages != 3 || s.PendingUnnamed != 3 {
		t.Errorf("summary %+v, want 3 messages, 3 recipients known only by their count", s)
	}
}

// TestSendingMTAs: the MTAs whose logs the inputs are, once each, in order;
// journal exports and queue snapshots are Postfix's; returned messages and
// unread inputs name none.
func TestSendingMTAs(t *testing.T) {
	in := func(formats ...string) []analysis.Input {
		var out []analysis.Input
		for _, f := range formats {
			out = append(out, analysis.Input{Format: f})
		}
		return out
	}
	for _, tt := range []struct {
		inputs []analysis.Input
		want   []string
	}{
		{in(Postfix, JournalJSON, PostQueue), []string{"postfix"}},
		{in(Bounces, "", Exim, ESP, Exim), []string{"exim", "esp"}},
		{in(PowerMTA, Postfix), []string{"powermta", "postfix"}},
		{nil, nil},
	} {
		if got := SendingMTAs(tt.inputs); !slices.Equal(got, tt.want) {
			t.Errorf("SendingMTAs(%v) = %v, want %v", tt.inputs, got, tt.want)
		}
	}
}

// TestZonelessStamps: stamps that name no zone are read in --tz and
// counted, in every format that has them, so the report can say which zone
// it used (issue 2, part 5); only traditional stamps are given a year.
func TestZonelessStamps(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	for _, tc := range []struct {
		name, log string
		format    string
		zoneless  int64
		year      int
		first     string
	}{
		{"postfix RFC 3339 without offset", "2026-11-30T10:00:11.25 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n" +
			"2026-11-30T10:00:12 mta1 postfix/smtp[2]: 4F1A22C0B3: to=<x@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)\n",
			Postfix, 2, 0, "2026-11-30T09:00:11.25Z"},
		{"postfix RFC 3339 with offsets", "2026-11-30T10:00:11.25+01:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n" +
			"2026-11-30T09:00:12Z mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n",
			Postfix, 0, 0, "2026-11-30T09:00:11.25Z"},
		{"postfix traditional", "Nov 30 10:00:11 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n",
			Postfix, 1, 2026, "2026-11-30T09:00:11Z"},
		{"exim local time", "2026-11-30 10:00:11 1tsXyZ-000Abc-9Q <= news@shop.example.net H=app1 [10.0.0.5] P=esmtp S=4821 id=a@shop.example.net\n" +
			"2026-11-30 09:00:12 +0000 1tsXyZ-000Abc-9Q => jane@icloud.com R=dnslookup T=remote_smtp H=mx01.mail.icloud.com [17.57.154.6] C=\"250 2.0.0 Ok\"\n",
			Exim, 1, 0, "2026-11-30T09:00:11Z"},
		{"powermta without zone", "type,timeLogged,timeQueued,orig,rcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,header_Message-Id\n" +
			"d,2026-11-30 10:00:12,2026-11-30 10:00:11,news@shop.example.net,jane@icloud.com,relayed,2.0.0 (success),smtp;250 2.0.0 Ok,mx01.mail.icloud.com (17.57.154.6),<a@shop.example.net>\n",
			PowerMTA, 1, 0, "2026-11-30T09:00:12Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(t)
			cfg.Location = loc
			rep := Logs(context.Background(), []string{"-"}, strings.NewReader(tc.log), cfg)
			if rep.Failed() {
				t.Fatal(rep.Errors)
			}
			in := rep.Result.Inputs[0]
			if in.Format != tc.format || in.Zoneless != tc.zoneless || in.Year != tc.year {
				t.Errorf("format %s, zoneless %d, year %d; want %s, %d, %d", in.Format, in.Zoneless, in.Year, tc.format, tc.zoneless, tc.year)
			}
			if first := in.First.Format(time.RFC3339Nano); first != tc.first {
				t.Errorf("first %s, want %s", first, tc.first)
			}
		})
	}
}

func TestSendmailZone(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	log := "Nov 30 10:00:11 mta1 sm-mta[31337]: 52AE2B0X031337: from=<news@shop.example.net>, size=48213, class=0, nrcpts=1, msgid=<a@shop.example.net>, proto=ESMTP, daemon=MTA, relay=app1 [10.0.0.5]\n" +
		"Nov 30 10:00:12 mta1 sm-mta[31338]: 52AE2B0X031337: to=<jane@icloud.com>, delay=00:00:02, xdelay=00:00:01, mailer=esmtp, pri=138213, relay=mx01.mail.icloud.com. [17.57.154.6], dsn=2.0.0, stat=Sent (ok)\n"
	cfg := config(t)
	cfg.Location = loc
	rep := Logs(context.Background(), []string{"-"}, strings.NewReader(log), cfg)
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	in := rep.Result.Inputs[0]
	if in.Format != Sendmail || in.Zoneless != 2 || in.Year != 2026 || rep.Result.TimeZone != "Europe/Berlin" {
		t.Errorf("input %+v, zone %s", in, rep.Result.TimeZone)
	}
	if first := in.First.Format(time.RFC3339); first != "2026-11-30T09:00:11Z" {
		t.Errorf("first %s", first)
	}
}

// TestStdinTwice: "-" given twice is standard input once, as a file named
// twice is: the second must neither take part of the data nor be reported
// empty.
func TestStdinTwice(t *testing.T) {
	line := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
	log := bytes.Repeat([]byte(line), 50000) // more than a read buffer
	rep := Logs(context.Background(), []string{"-", "-"}, bytes.NewReader(log), config(t))
	if rep.Failed() || len(rep.Result.Inputs) != 1 || rep.Result.Inputs[0].Lines != 50000 {
		t.Errorf("- given twice: errors %v, inputs %+v", rep.Errors, rep.Result.Inputs)
	}
}

// TestNULsAreNotBinary: after a crash, syslog leaves runs of NUL bytes
// where the lost writes were (the shipped sample has some). A log with
// them near its start is still a text log; compressed or other binary
// data is not.
func TestNULsAreNotBinary(t *testing.T) {
	line := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
	crashed := line + "2026-11-2\x00\x00 mta1 postf\n" + string(make([]byte, 3000)) + "\n" + strings.Repeat(line, 10)
	path := filepath.Join(t.TempDir(), "mail.log")
	os.WriteFile(path, []byte(crashed), 0o644)
	rep := Logs(context.Background(), []string{path}, nil, config(t))
	if rep.Failed() || rep.Result.Inputs[0].MatchedLines != 11 {
		t.Errorf("log with NUL bytes: errors %v, inputs %+v", rep.Errors, rep.Result.Inputs)
	}
	random := make([]byte, 4096) // as compressed data looks
	rand.NewChaCha8([32]byte{1}).Read(random)
	sqlite := append([]byte("SQLite format 3\x00\x10\x00\x02\x02\x00@  \x00\x00\x00\x03"), make([]byte, 100)...)
	for _, data := range [][]byte{
		bytes.Repeat([]byte{0, 1, 2, 0xff, 0xfe}, 1000),
		random,
		bytes.Repeat(sqlite, 30),
	} {
		if !binary(data) {
			t.Errorf("% x... not binary", data[:16])
		}
	}
}

// TestInterrupted: an input whose reading an interrupt (^C) stopped is
// named, and the error says so in words, not "context canceled".
func TestInterrupted(t *testing.T) {
	line := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
	ctx, cancel := context.WithCancel(context.Background())
	stdin := &cancelling{r: strings.NewReader(strings.Repeat(line, 2000)), after: 100 << 10, cancel: cancel}
	rep := Logs(ctx, []string{"-"}, stdin, config(t))
	if len(rep.Errors) != 1 || !strings.HasPrefix(rep.Errors[0].Error(), "standard input: interrupted") || strings.Contains(rep.Errors[0].Error(), "context canceled") {
		t.Errorf("interrupted: %v", rep.Errors)
	}
	// The inputs not reached are listed as not read, not left out of the
	// report as if never given.
	path := filepath.Join(t.TempDir(), "mail.log.1")
	os.WriteFile(path, []byte(line), 0o644)
	rep = Logs(ctx, []string{"-", path}, strings.NewReader(strings.Repeat(line, 100)), config(t))
	var got []string
	for _, in := range rep.Result.Inputs {
		got = append(got, in.Error)
	}
	if len(got) != 2 || !strings.Contains(strings.Join(got, "\n"), ": not read: interrupted") {
		t.Errorf("inputs after the interrupt: %q", got)
	}
}

// TestInterruptedSilentPipe: ^C on a pipe that gave less than the head
// read ahead (the last lines "ssh mx tail -f /var/log/mail.log" prints,
// then a quiet server) reports the lines it gave, as it does for a pipe
// interrupted further on, instead of "not read: interrupted before it".
func TestInterruptedSilentPipe(t *testing.T) {
	line := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		pw.Write([]byte(strings.Repeat(line, 3)))
		time.Sleep(50 * time.Millisecond)
		cancel() // the writer stays silent
	}()
	done := make(chan *Report)
	go func() { done <- Logs(ctx, []string{"-"}, pr, config(t)) }()
	var rep *Report
	select {
	case rep = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the reading did not end when the context was cancelled")
	}
	in := rep.Result.Inputs[0]
	if in.MatchedLines != 3 || !strings.HasPrefix(in.Error, "standard input: interrupted; the 3 Postfix lines") {
		t.Errorf("input %+v; want its 3 lines read and the interrupt named", in)
	}
}

// cancelling is a reader that cancels a context once it has given more
// than after bytes: the user's ^C while an input is read, past the head
// that Open and Order read ahead.
type cancelling struct {
	r      io.Reader
	n      int
	after  int
	cancel func()
}

func (c *cancelling) Read(p []byte) (int, error) {
	if c.n > c.after {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), 4096)])
	c.n += n
	return n, err
}

// TestJournalctlShortForms: journalctl's -o short-unix output (seconds
// since the epoch) is a Postfix log with exact times; -o short-monotonic
// (seconds since boot) has no wall-clock time, and is refused with a
// message that names the input and says what to export instead.
func TestJournalctlShortForms(t *testing.T) {
	unix := "1795540800.000001 mx postfix/qmgr[1]: AB12CD34EF: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n" +
		"1795540801.123456 mx postfix/smtp[4]: AB12CD34EF: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command))\n"
	rep := Logs(context.Background(), []string{"-"}, strings.NewReader(unix), config(t))
	if rep.Failed() {
		t.Fatal(rep.Errors)
	}
	in := rep.Result.Inputs[0]
	want := time.Date(2026, 11, 24, 17, 20, 1, 123456000, time.UTC)
	if in.MatchedLines != 2 || in.Zoneless != 0 || !in.Last.Equal(want) || rep.Result.Summary.Attempts != 1 {
		t.Errorf("short-unix: %+v, summary %+v", in, rep.Result.Summary)
	}

	mono := "[ 1234.567890] mx postfix/qmgr[1]: AB12CD34EF: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n" +
		"[ 1235.000001] mx postfix/qmgr[1]: AB12CD34EF: removed\n"
	path := filepath.Join(t.TempDir(), "journal.txt")
	os.WriteFile(path, []byte(mono), 0o644)
	for _, forced := range []string{"", Postfix} {
		cfg := config(t)
		cfg.Format = forced
		rep = Logs(context.Background(), []string{path}, nil, cfg)
		if len(rep.Errors) != 1 {
			t.Fatalf("short-monotonic (--source %q): errors %v", forced, rep.Errors)
		}
		msg := rep.Errors[0].Error()
		for _, w := range []string{path, "short-monotonic", "no wall-clock time", "-o short-iso"} {
			if !strings.Contains(msg, w) {
				t.Errorf("short-monotonic (--source %q): %q does not say %q", forced, msg, w)
			}
		}
		if rep.Result.Summary.UnparsedLines != 0 {
			t.Errorf("short-monotonic lines counted as unparsed: %+v", rep.Result.Summary)
		}
	}
}

// TestJournalModesRefused: journalctl's output modes that analyze does not
// read (journalctl(1), --output) are named, with the mode to export
// instead, rather than reported as a file without Postfix lines.
func TestJournalModesRefused(t *testing.T) {
	for _, tc := range []struct{ mode, text string }{
		{"verbose", "Sat 2026-12-05 08:00:00.123456 UTC [s=8b3f0e;i=1a2b;b=9c8d;m=12345;t=5f1e;x=abcd]\n" +
			"    _TRANSPORT=syslog\n    SYSLOG_IDENTIFIER=postfix/qmgr\n    MESSAGE=4F1A22C0B3: removed\n"},
		{"short-full", "Sat 2026-12-05 08:00:00 CET mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n" +
			"Sat 2026-12-05 08:00:01 CET mta1 postfix/qmgr[1]: 4F1A22C0B4: removed\n"},
		{"export", "__CURSOR=s=8b3f0e;i=1a2b\n__REALTIME_TIMESTAMP=1795540801123456\n__MONOTONIC_TIMESTAMP=12345\n" +
			"SYSLOG_IDENTIFIER=postfix/qmgr\nMESSAGE=4F1A22C0B3: removed\n\n"},
		{"json-pretty", "{\n\t\"__CURSOR\" : \"s=8b3f0e;i=1a2b\",\n\t\"__REALTIME_TIMESTAMP\" : \"1795540801123456\",\n" +
			"\t\"MESSAGE\" : \"4F1A22C0B3: removed\"\n}\n"},
		// short-delta: short-monotonic's stamp with the time since the
		// entry before ("[ 5.123456 < 0.000120>]", systemd's output_short):
		// no wall-clock time either, and not JSON for its "[".
		{"short-delta", "[    5.123456 <    0.000000>] mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n" +
			"[    6.123456 <    1.000000>] mta1 postfix/qmgr[1]: 4F1A22C0B4: removed\n"},
		{"cat", "4F1A22C0B3: from=<news@shop.example.net>, size=48213, nrcpt=1 (queue active)\n" +
			"4F1A22C0B3: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n" +
			"4F1A22C0B3: removed\n"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			rep := Logs(context.Background(), []string{"-"}, strings.NewReader(tc.text), config(t))
			if len(rep.Errors) != 1 {
				t.Fatalf("errors %v", rep.Errors)
			}
			msg := rep.Errors[0].Error()
			for _, w := range []string{"standard input: ", "journalctl -o " + tc.mode + " output", "-o short-iso"} {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not say %q", msg, w)
				}
			}
		})
	}
}

// TestJournalJSON: a journalctl -o json export is told from its content
// and read as the Postfix lines its entries stand for; other programs'
// entries are other lines, and an entry cut short is counted unreadable,
// not fatal. --source journal-json forces it.
func TestJournalJSON(t *testing.T) {
	for _, forced := range []string{"", JournalJSON} {
		cfg := config(t)
		cfg.Format = forced
		rep := Logs(context.Background(), []string{"testdata/journal.json"}, nil, cfg)
		if rep.Failed() {
			t.Fatalf("--source %q: %v", forced, rep.Errors)
		}
		in := rep.Result.Inputs[0]
		if in.Format != JournalJSON || in.Lines != 6 || in.MatchedLines != 4 || in.OtherLines != 1 || in.Unparsed != 1 {
			t.Errorf("--source %q: input %+v", forced, in)
		}
		first := time.Date(2026, 11, 24, 17, 20, 0, 1000, time.UTC)
		if !in.First.Equal(first) || in.Zoneless != 0 {
			t.Errorf("--source %q: first %v, zoneless %d", forced, in.First, in.Zoneless)
		}
		if s := rep.Result.Summary; s.Attempts != 1 || s.Deferrals != 1 || s.UnparsedLines != 1 {
			t.Errorf("--source %q: summary %+v", forced, s)
		}
	}
}

// TestStandardInputNamedInErrors: an error of standard input ("-" on the
// command line) names it as people call it, in the error and in the
// report's inputs; a file keeps its name.
func TestStandardInputNamedInErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "mail.log")
	rep := Logs(context.Background(), []string{"-", missing}, strings.NewReader(""), config(t))
	if len(rep.Errors) != 2 {
		t.Fatalf("errors %v, want one for each input", rep.Errors)
	}
	for _, ie := range rep.Errors {
		switch got := ie.Error(); ie.Name {
		case "-":
			if got != "standard input: empty, nothing to analyse" {
				t.Errorf("standard input's error %q", got)
			}
		case missing:
			if !strings.HasPrefix(got, missing+": ") {
				t.Errorf("the file's error %q does not name it", got)
			}
		}
	}
	for _, in := range rep.Result.Inputs {
		if in.Name == "-" && in.Error != "standard input: empty, nothing to analyse" {
			t.Errorf("the report's input %+v", in)
		}
	}
}

// FuzzLogs: whatever comes on standard input, in any of the formats the
// inputs are told apart by, the analysis ends without a panic, with a
// result, and its counts add up: no recipient has two outcomes.
func FuzzLogs(f *testing.F) {
	for _, path := range []string{
		"../source/postfix/testdata/lifecycle.log",
		"../source/exim/testdata/mainlog",
		"../source/sendmail/testdata/maillog",
		"../source/pmta/testdata/acct.csv",
		"../source/kumo/testdata/log.jsonl",
		"../source/esp/testdata/ses.jsonl",
		"../source/postqueue/testdata/queue.json",
	} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), 4096)])
	}
	cfg := config(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := Logs(context.Background(), []string{"-"}, bytes.NewReader(data), cfg)
		if rep.Result == nil {
			t.Fatal("no result")
		}
		s := rep.Result.Summary
		if outcomes := s.Delivered + s.Bounced + s.Expired + s.Pending + s.Deleted + s.Discarded; outcomes != s.Recipients {
			t.Errorf("recipients %d, outcomes %d: %+v", s.Recipients, outcomes, s)
		}
		if s.Attempts < s.Deferrals || s.Messages < 0 || s.UnparsedLines < 0 {
			t.Errorf("summary %+v", s)
		}
	})
}

// BenchmarkAnalyzer measures the aggregation alone: the events of the
// sample at twice its volume, replayed into a fresh analyzer. It runs on
// the tracker's goroutine, which bounds the pipeline.
func BenchmarkAnalyzer(b *testing.B) {
	log := benchLog(b)
	c := config(b)
	var events []mailtriage.Event
	tr := postfix.NewTracker(c.Lanes, c.Classifier, func(e *mailtriage.Event) { events = append(events, *e) })
	st, err := postfix.Read(context.Background(), log, &syslogstamp.Clock{Year: 2026}, tr, postfix.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tr.Finish(st.Last)
	b.ReportAllocs()
	for b.Loop() {
		an := analysis.New(c.Analysis)
		for i := range events {
			an.Add(&events[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}
