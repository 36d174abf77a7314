package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mailtriage/mailtriage/analysis"
)

var update = flag.Bool("update", false, "rewrite golden files")

const sample = "../../examples/incident-postfix.log.gz"

// mt runs the command in-process and returns its exit code and output.
func mt(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAnalyzeSampleGolden(t *testing.T) {
	code, out, errs := mt(t, "", "analyze", "--format", "json", sample)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d (the sample has an incident); stderr: %s", code, exitProblems, errs)
	}
	golden := filepath.Join("testdata", "sample.json")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("analyze --format json differs from %s (run go test ./cmd/mailtriage -update and review the diff)", golden)
	}
	var r analysis.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// The story the sample tells: Apple's lane deferred behind Proofpoint,
	// queue timeouts whose root cause is that 421.
	if len(r.Incidents) == 0 || r.Incidents[0].Lane != "apple" || r.Incidents[0].Reply.Filter != "proofpoint" {
		t.Errorf("first incident: %+v", r.Incidents)
	}
	if len(r.Expired) == 0 || r.Expired[0].LastReply.Code != 421 || r.Expired[0].LastReply.Rule != "proofpoint-pdr-deferral" {
		t.Errorf("expired: %+v", r.Expired)
	}
	s := r.Summary
	if s.Messages == 0 || s.Notifications == 0 || s.Expired == 0 || s.Bounced == 0 || s.Pending == 0 || s.LocalDeferrals == 0 || s.UnparsedLines == 0 {
		t.Errorf("summary lacks something the sample has: %+v", s)
	}
	if s.Delivered+s.Bounced+s.Expired+s.Pending+s.Deleted != s.Recipients {
		t.Errorf("recipient outcomes %+v do not add up", s)
	}
}

func TestAnalyzeTextAndFormats(t *testing.T) {
	code, out, _ := mt(t, "", "analyze", sample)
	if code != exitProblems || !strings.Contains(out, "WHAT TO DO FIRST") || !strings.Contains(out, "apple lane") {
		t.Errorf("text report (exit %d):\n%s", code, out)
	}
	code, out, _ = mt(t, "", "analyze", "--format", "markdown", sample)
	if code != exitProblems || !strings.HasPrefix(out, "# ") {
		t.Errorf("markdown (exit %d): %.200s", code, out)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "r.html")
	code, out, _ = mt(t, "", "analyze", "--format", "html", "--out", file, sample)
	html, err := os.ReadFile(file)
	if code != exitProblems || out != "" || err != nil || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("html (exit %d, err %v, stdout %q)", code, err, out)
	}
}

func TestAnalyzeRedact(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // where the redaction key is kept
	_, plain, _ := mt(t, "", "analyze", "--format", "json", sample)
	_, red, _ := mt(t, "", "analyze", "--format", "json", "--redact", sample)
	if !strings.Contains(plain, "@me.com") && !strings.Contains(plain, "@icloud.com") {
		t.Fatal("the sample report names no recipient; the test proves nothing")
	}
	// Recipient addresses in reply texts: anything@... but the hashed form.
	addr := regexp.MustCompile(`[a-z0-9._-]*@(icloud|me|mac|gmail|yahoo|smallshop)\.(com|example)`)
	hashed := regexp.MustCompile(`r-[0-9a-f]{12}@`)
	for _, m := range addr.FindAllString(red, -1) {
		if !hashed.MatchString(m) {
			t.Errorf("--redact left %q", m)
		}
	}
}

// TestAnalyzeRedactStable: the same recipient gets the same token in
// every run and every format, so a JSON file and an HTML page sent to an
// ESP on different days can be read together; the key that makes the
// tokens stays private, in the user's configuration directory.
func TestAnalyzeRedactStable(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	// The greylisting reply every format quotes: 450 4.2.0 <...@smallshop.example>.
	token := regexp.MustCompile(`450 4\.2\.0 \S*?(r-[0-9a-f]{12})@smallshop\.example`)
	var seen []string
	for _, format := range []string{"json", "markdown", "text", "json"} {
		_, out, errs := mt(t, "", "analyze", "--format", format, "--redact", sample)
		m := token.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("--format %s --redact: no token in the greylisting reply (stderr %s)", format, errs)
		}
		seen = append(seen, m[1])
	}
	for _, tok := range seen[1:] {
		if tok != seen[0] {
			t.Errorf("the token of one recipient differs between runs and formats: %q", seen)
			break
		}
	}
	fi, err := os.Stat(filepath.Join(cfg, "mailtriage", "redact.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("redaction key file: %v, %v; want a file only its owner reads", fi, err)
	}
}

func TestAnalyzeStdinAndWindow(t *testing.T) {
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	log.ReadFrom(z)
	code, out, errs := mt(t, log.String(), "analyze", "--format", "json", "--since", "2026-11-27", "--until", "2026-11-28")
	if code != exitProblems {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r analysis.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Hourly {
		if h.Hour.Day() != 27 {
			t.Errorf("hour %v outside the window", h.Hour)
		}
	}
}

func TestAnalyzeBadInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.log", []byte("2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n"+
		"2026-11-30T10:00:01+00:00 mta1 postfix/smtp[2]: 4F1A22C0B3: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)\n"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"), 5000))
	zw.Close()
	cases := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.log"), "nope.log: no such file"},
		{"directory", dir, "is a directory"},
		{"empty", write("empty.log", nil), "empty.log: empty"},
		{"binary", write("garbage.bin", bytes.Repeat([]byte{0, 1, 2, 0xff, 0xfe}, 1000)), "garbage.bin: binary data"},
		{"truncated gzip", write("cut.log.gz", gz.Bytes()[:gz.Len()/2]), "cut.log.gz: truncated gzip stream"},
		{"1 MB line", write("long.log", []byte("2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"+strings.Repeat("x", 1<<20)+"\n")), "long.log: 1 line longer than 64 KiB skipped, the first at line 2"},
		{"json", write("events.json", []byte(`{"hello":"world"}`+"\n")), "looks like JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := mt(t, "", "analyze", "--format", "json", c.path, good)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q does not say %q", errs, c.want)
			}
			// Counts as the report writes them, with thousands.
			if c.name == "truncated gzip" && !regexp.MustCompile(`the \d,\d{3} Postfix lines read were analysed`).MatchString(errs) {
				t.Errorf("stderr %q does not count the lines read with thousands", errs)
			}
			// The good input is still analysed.
			var r analysis.Result
			if err := json.Unmarshal([]byte(out), &r); err != nil || r.Summary.Delivered != 1 {
				t.Errorf("good input not analysed: err %v, summary %+v", err, r.Summary)
			}
		})
	}
}

func TestAnalyzeInputMistakes(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	os.WriteFile(log, []byte("2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: from=<a@b.example>, size=1, nrcpt=1 (queue active)\n"+
		"2026-11-30T10:00:01+00:00 mta1 postfix/smtp[2]: 4F1A22C0B3: to=<j@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)\n"), 0o644)
	// The same file twice (overlapping globs) is read once.
	code, out, errs := mt(t, "", "analyze", "--format", "json", log, log, filepath.Join(dir, ".", "mail.log"))
	var r analysis.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK || r.Summary.Messages != 1 || len(r.Inputs) != 1 {
		t.Errorf("same file thrice: exit %d, messages %d, inputs %d, stderr %s", code, r.Summary.Messages, len(r.Inputs), errs)
	}
	if !strings.Contains(errs, "given twice") {
		t.Errorf("no warning about the repeated input: %q", errs)
	}
	// An empty window says so instead of reporting a clean slate.
	code, out, _ = mt(t, "", "analyze", "--since", "2027-01-01", log)
	if code != exitProblems || !strings.Contains(out, "Nothing to analyse") {
		t.Errorf("empty window: exit %d\n%s", code, out)
	}
	// A typo in a lane file is an error, not silence.
	lanes := filepath.Join(dir, "lanes.toml")
	os.WriteFile(lanes, []byte("[[lane]]\nname = \"vip\"\ndomain = [\"icloud.com\"]\n"), 0o644)
	if code, _, errs := mt(t, "", "analyze", "--lanes", lanes, log); code != exitUsage || !strings.Contains(errs, "unknown key lane.domain") {
		t.Errorf("lane typo: exit %d, stderr %q", code, errs)
	}
	// So is a provider name the catalog does not know: it would match no
	// relay host.
	os.WriteFile(lanes, []byte("[[lane]]\nname = \"vip\"\nproviders = [\"gogle\"]\n"), 0o644)
	if code, _, errs := mt(t, "", "analyze", "--lanes", lanes, log); code != exitUsage || !strings.Contains(errs, `provider "gogle" is not one mailtriage knows`) {
		t.Errorf("unknown provider in a lane file: exit %d, stderr %q", code, errs)
	}
	// A report that can't be written fails before the analysis.
	if code, _, errs := mt(t, "", "analyze", "--out", filepath.Join(dir, "no", "such", "dir", "r.txt"), log); code != exitError || !strings.Contains(errs, "cannot write there") || strings.Contains(errs, ".r.txt.") {
		t.Errorf("bad --out: exit %d, stderr %q", code, errs)
	}
	// An --out that is one of the inputs would replace the log with the
	// report: refused, the log untouched.
	before, _ := os.ReadFile(log)
	if code, _, errs := mt(t, "", "analyze", "--out", filepath.Join(dir, ".", "mail.log"), log); code != exitUsage || !strings.Contains(errs, "is one of the inputs") {
		t.Errorf("--out an input: exit %d, stderr %q", code, errs)
	}
	if after, _ := os.ReadFile(log); !bytes.Equal(before, after) {
		t.Errorf("--out an input replaced it")
	}
	// So does a folder given as --out, and says to name a file in it.
	if code, _, errs := mt(t, "", "analyze", "--out", dir, filepath.Join(dir, "missing.log")); code != exitError || !strings.Contains(errs, "is a directory; name a file in it") || strings.Contains(errs, "missing.log") {
		t.Errorf("--out a folder: exit %d, stderr %q", code, errs)
	}
}

// failingWriter is an output that can't be written: a full disk, a
// closed pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestReportNotWritten: when the report can't be written, the inputs that
// could not be read are still named on standard error.
func TestReportNotWritten(t *testing.T) {
	var errb bytes.Buffer
	code := run(context.Background(), []string{"analyze", filepath.Join(t.TempDir(), "missing.log"), "-"},
		strings.NewReader("2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\n"), failingWriter{}, &errb)
	if code != exitError || !strings.Contains(errb.String(), "missing.log: no such file") || !strings.Contains(errb.String(), "writing the report to standard output: no space left on device") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

func TestVerboseShowsUnreadableLines(t *testing.T) {
	log := "2026-11-30T10:00:00+00:00 mta1 postfix/qmgr[1]: 4F1A22C0B3: removed\nthis is no log line\n"
	code, _, errs := mt(t, log, "analyze", "--verbose", "--format", "json")
	if code != exitProblems && code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "unreadable line") || !strings.Contains(errs, "line=2") || !strings.Contains(errs, "this is no log line") {
		t.Errorf("--verbose does not show the unreadable line:\n%s", errs)
	}
	if _, _, errs := mt(t, log, "analyze", "--format", "json"); strings.Contains(errs, "this is no log line") {
		t.Errorf("unreadable lines shown without --verbose:\n%s", errs)
	}
}

func TestClassify(t *testing.T) {
	code, out, _ := mt(t, "", "classify", "--host", "mx01.mail.icloud.com", "421 4.7.0 Deferred - see Proofpoint DNSBL lookup")
	if code != exitOK || !strings.Contains(out, "apple behind proofpoint") || !strings.Contains(out, "temporary") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = mt(t, "", "classify", "554 5.4.7 [internal] message timeout (exceeded max time, last transfail: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup)")
	if code != exitOK || !strings.Contains(out, "expired") || !strings.Contains(out, "cause") || !strings.Contains(out, "proofpoint-pdr-deferral") {
		t.Errorf("timeout (exit %d):\n%s", code, out)
	}
	code, out, _ = mt(t, "550 5.1.1 <x@gmail.com>: user unknown\n\n421 4.7.28 unusual rate - gsmtp\n", "classify", "--format", "json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 2 {
		t.Fatalf("exit %d, %d lines:\n%s", code, len(lines), out)
	}
	var c classification
	if err := json.Unmarshal([]byte(lines[0]), &c); err != nil || c.Verdict.Reason != "userunknown" || c.Reply.Code != 550 {
		t.Errorf("json: %v %+v", err, c)
	}
	// The seed article's queue timeout, folded over three lines as it
	// shows it, is one reply; the reply after it is another.
	folded := "554 5.4.7 [internal] message timeout\n(exceeded max time, last transfail:\n421 4.7.0 Deferred - see Proofpoint DNSBL lookup)\n550 5.1.1 user unknown\n"
	code, out, _ = mt(t, folded, "classify", "--format", "json")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 2 || !strings.Contains(lines[0], `"cause":`) || !strings.Contains(lines[1], "userunknown") {
		t.Errorf("folded reply: exit %d:\n%s", code, out)
	}
	// Text that is no reply at all is classified, and said to be none.
	code, out, errs := mt(t, "", "classify", "hello world", "421 4.7.0 Try again later")
	if code != exitError || !strings.Contains(errs, `1 input is not an SMTP reply (no reply code) and no rule recognises the text: "hello world"`) || !strings.Contains(out, "Try again later") {
		t.Errorf("not a reply: exit %d, stderr %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"analyze", "--format", "pdf", sample},
		{"analyze", "--nope"},
		{"analyze", "--tz", "Mars/Olympus", sample},
		{"analyze", "--since", "yesterday", sample},
		{"analyze", "--since", "2026-12-01", "--until", "2026-11-01", sample},
		{"analyze", "--min-attempts", "-5", sample},
		{"analyze", "--factor", "0", sample},
		{"analyze", "--year", "99999", sample},
		{"classify", ""},
		{"nosuchcommand"},
		{"classify", "--format", "xml", "x"},
	} {
		if code, _, errs := mt(t, "", args...); code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	code, out, _ := mt(t, "", "analyze", "--help")
	if code != exitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d", code)
	}
}

// TestEveryCommandSaysItsExitStatus: each command that does work says in
// its --help what its exit statuses mean; the root's general rule (3: it
// found problems) is not what every command does.
func TestEveryCommandSaysItsExitStatus(t *testing.T) {
	root := newRoot(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			walk(s)
		}
		name := c.Name()
		// dmarc alone shows its help; its commands say theirs.
		if c == root || slices.Contains([]string{"help", "version", "completion", "dmarc"}, name) || c.Parent().Name() == "completion" {
			return
		}
		if !strings.Contains(c.Long, "Exit status:") {
			t.Errorf("%s --help does not say its exit status", c.CommandPath())
		}
	}
	walk(root)
}
