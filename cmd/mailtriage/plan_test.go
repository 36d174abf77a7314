package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/report"
)

const sampleAnalysis = "testdata/sample.json"

func TestPlan(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	code, out, errs := mt(t, "", "plan", sample)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"2 lanes to slow (apple, yahoo)", "LANE APPLE (icloud.com, me.com, mac.com)", "421 4.7.0 Deferred - see Proofpoint DNSBL lookup",
		"WATCH, DO NOT THROTTLE YET", "transactional  noreply@shop.example.net", "CONFIGURATION FOR POSTFIX", "lane_apple_destination_rate_delay"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	// The same plan from the saved analysis, as JSON.
	code, out, errs = mt(t, "", "plan", "--analysis", sampleAnalysis, "--mta", "kumomta", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep report.PlanReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Lanes) != 2 || rep.MTA != "kumomta" || len(rep.Files) != 2 || len(rep.Lanes[0].Schedule) != 7 {
		t.Errorf("%+v", rep)
	}
	_, md, _ := mt(t, "", "plan", "--analysis", sampleAnalysis, "--format", "markdown", "--mta", "powermta")
	if !strings.HasPrefix(md, "# Recovery plan") || !strings.Contains(md, "| day | phase |") || !strings.Contains(md, "smtp-pattern-list apple-deferrals") {
		t.Errorf("markdown:\n%.600s", md)
	}
}

func TestPlanOutDir(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := mt(t, "", "plan", "--analysis", sampleAnalysis, "--out-dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, name := range []string{"postfix/mailtriage_transport", "postfix/master.cf.mailtriage", "postfix/main.cf.mailtriage", "postfix/INSTALL"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v", name, err)
		}
		if !strings.Contains(out, filepath.Join(dir, name)) {
			t.Errorf("the output does not say where %s went", name)
		}
	}
	if !strings.Contains(out, "append to /etc/postfix/master.cf") {
		t.Errorf("the output does not say where the files go:\n%s", out)
	}
}

func TestPlanNothingAndBadInput(t *testing.T) {
	data, err := os.ReadFile(sampleAnalysis)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	m["incidents"] = []any{}
	quiet, _ := json.Marshal(m)
	path := filepath.Join(t.TempDir(), "quiet.json")
	os.WriteFile(path, quiet, 0o644)
	code, out, _ := mt(t, "", "plan", "--analysis", path)
	if code != exitOK || !strings.Contains(out, "nothing to throttle") {
		t.Errorf("no incidents: exit %d\n%s", code, out)
	}
	notJSON := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(notJSON, []byte("Nov 30 mail.log line"), 0o644)
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"plan", "--analysis", sampleAnalysis, "--mta", "sendmail"}, exitUsage, "--mta"},
		{[]string{"plan", "--analysis", sampleAnalysis, "--threshold", "2"}, exitUsage, "--threshold"},
		{[]string{"plan", "--analysis", "nonexistent.json"}, exitError, "nonexistent.json"},
		{[]string{"plan", "--analysis", notJSON}, exitError, "not an analysis"},
		{[]string{"plan", "--analysis", sampleAnalysis, sample}, exitUsage, "not both"},
		{[]string{"plan", "nonexistent.log"}, exitError, "nonexistent.log"},
	} {
		code, _, errs := mt(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

func TestPlanRecipients(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	os.WriteFile(list, []byte(`email,last_open,last_click
a@icloud.com,,2026-11-25
b@icloud.com,2026-11-28,
a@icloud.com,,2026-11-20
gone@icloud.com,,2026-11-29
d@yahoo.com,2026-11-20,
x@gmail.com,,2026-11-29
bad@icloud.com,,29/11/2026
liam7197@icloud.com,,2026-11-29
`), 0o644)
	suppress := filepath.Join(dir, "suppress.txt")
	// A spreadsheet's export: a byte order mark before the first address.
	os.WriteFile(suppress, []byte("\ufeffGONE@icloud.com\n# hard bounces\n"), 0o644)
	out := filepath.Join(dir, "out")
	// An earlier run's cohort file this run does not write must go; other
	// files stay.
	stale, mine := filepath.Join(out, "cohorts", "apple", "04-engaged-365d.csv"), filepath.Join(out, "cohorts", "apple", "notes.txt")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("email\nold@icloud.com\n"), 0o644)
	os.WriteFile(mine, []byte("mine"), 0o644)
	code, stdout, errs := mt(t, "", "plan", "--analysis", sampleAnalysis, "--recipients", list, "--suppress", suppress, "--as-of", "2026-12-01", "--out-dir", out, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "1 duplicate address (") || !strings.Contains(errs, "1 date could not be read") {
		t.Errorf("stderr: %s", errs)
	}
	// The unreadable date is told once, in the count's line; the log
	// lists each only with --verbose.
	if n := strings.Count(errs, `"29/11/2026"`); n != 1 {
		t.Errorf("the unreadable date is told %d times on stderr: %s", n, errs)
	}
	var rep report.PlanReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, c := range rep.Lanes[0].Cohorts {
		counts[c.Name] = c.Recipients
	}
	// a: clicked; b: an Apple open alone (not counted); gone: suppressed;
	// bad: no date that reads; liam7197: a hard bounce in the logs.
	if counts["engaged-30d"] != 1 || counts["inactive"] != 2 || counts["suppressed"] != 2 {
		t.Errorf("apple cohorts %v", counts)
	}
	data, err := os.ReadFile(filepath.Join(out, "cohorts", "apple", "01-engaged-30d.csv"))
	if err != nil || string(data) != "email,last_engaged\na@icloud.com,2026-11-25\n" {
		t.Errorf("cohort file %q %v", data, err)
	}
	if len(rep.CohortFiles) != 4 {
		t.Errorf("cohort files %v", rep.CohortFiles)
	}
	// Who is never mailed during the recovery is no numbered file: a
	// sender who takes 01, 02, ... of the folder does not take them.
	for _, name := range []string{"do-not-mail-inactive.csv", "do-not-mail-suppressed.csv"} {
		if _, err := os.Stat(filepath.Join(out, "cohorts", "apple", name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale cohort file is still there")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Error("a file of the user's was removed")
	}
	// No temporary files are left behind.
	filepath.Walk(out, func(p string, _ os.FileInfo, _ error) error {
		if strings.HasPrefix(filepath.Base(p), ".") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--recipients", suppress}, exitUsage, "address column"},
		{[]string{"--recipients", list, "--col-click", "clicked"}, exitUsage, `"clicked"`},
		{[]string{"--recipients", filepath.Join(dir, "none.csv")}, exitError, "none.csv"},
		{[]string{"--suppress", suppress}, exitUsage, "--suppress needs --recipients"},
		{[]string{"--recipients", list, "--windows", "90,30"}, exitUsage, "--windows"},
		{[]string{"--recipients", list, "--as-of", "01/12/2026"}, exitUsage, "--as-of"},
	} {
		code, _, errs := mt(t, "", append([]string{"plan", "--analysis", sampleAnalysis}, tt.args...)...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

func TestPlanCheck(t *testing.T) {
	planFile := filepath.Join(t.TempDir(), "plan.json")
	code, out, errs := mt(t, "", "plan", "--analysis", sampleAnalysis, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	os.WriteFile(planFile, []byte(out), 0o644)
	// The sample's own days: Apple deferred on the 27th and 28th.
	code, out, errs = mt(t, "", "plan", "check", "--plan", planFile, "--start", "2026-11-27", "--analysis", sampleAnalysis, "--format", "json")
	if code != exitOK && code != exitProblems {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Lanes []struct {
			Lane string
			Days []struct {
				Decision string
				Step     int
			}
			Today string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	apple := got.Lanes[0]
	if apple.Lane != "apple" || len(apple.Days) != 3 || apple.Days[0].Decision != "roll back" || apple.Days[2].Decision != "hold" || !strings.Contains(apple.Today, "day 1") {
		t.Errorf("apple %+v", apple)
	}
	t.Setenv("NO_COLOR", "1")
	_, text, _ := mt(t, "", "plan", "check", "--plan", planFile, "--start", "2026-11-27", sample)
	if !strings.Contains(text, "LANE APPLE") || !strings.Contains(text, "now: be on day 1") {
		t.Errorf("text:\n%s", text)
	}
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"plan", "check", sample}, exitUsage, "--plan"},
		{[]string{"plan", "check", "--plan", sampleAnalysis, sample}, exitError, "not a plan"},
		{[]string{"plan", "check", "--plan", planFile, "--start", "27.11.2026", sample}, exitUsage, "--start"},
	} {
		code, _, errs := mt(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

// corpLog writes a Postfix log of days of mail to corp.example.org, a
// domain only a --lanes file puts in a lane, perHour messages an hour, the
// share deferred per day, sent by the given smtp program.
func corpLog(t *testing.T, prog string, start time.Time, perHour int, deferred ...float64) string {
	t.Helper()
	var b strings.Builder
	id := 0x10000
	for d, share := range deferred {
		for h := 0; h < 24; h++ {
			for i := 0; i < perHour; i++ {
				id++
				ts := start.Add(time.Duration(d*24+h)*time.Hour + time.Duration(i)*time.Minute).Format("2006-01-02T15:04:05.000000+00:00")
				fmt.Fprintf(&b, "%s mta1 postfix/qmgr[55]: %X: from=<news@news.shop.example.net>, size=1000, nrcpt=1 (queue active)\n", ts, id)
				if float64(i) < share*float64(perHour) {
					fmt.Fprintf(&b, "%s mta1 %s[48]: %X: to=<u%d@corp.example.org>, relay=mx01.mx.partner.example[192.0.2.5]:25, delay=0.4, delays=0/0/0.2/0.1, dsn=4.7.0, status=deferred (host mx01.mx.partner.example[192.0.2.5] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to RCPT TO command))\n", ts, prog, id, id)
				} else {
					fmt.Fprintf(&b, "%s mta1 %s[48]: %X: to=<u%d@corp.example.org>, relay=mx01.mx.partner.example[192.0.2.5]:25, delay=0.4, delays=0/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n", ts, prog, id, id)
					fmt.Fprintf(&b, "%s mta1 postfix/qmgr[55]: %X: removed\n", ts, id)
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "mail.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlanCheckLanesFile: a plan made with --lanes is followed with the
// same lanes: the new logs' mail to the lane's domains counts in the lane
// (here the day is 50% deferred: roll back, exit 3), and without the file
// plan check says where that mail went rather than "no mail to the lane".
func TestPlanCheckLanesFile(t *testing.T) {
	dir := t.TempDir()
	lanes := filepath.Join(dir, "lanes.toml")
	os.WriteFile(lanes, []byte("[[lane]]\nname = \"corp\"\ndomains = [\"corp.example.org\"]\n"), 0o644)
	before := corpLog(t, "postfix/smtp", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), 60, 0, 0, 0.5)
	code, out, errs := mt(t, "", "plan", "--lanes", lanes, "--format", "json", before)
	if code != exitOK || !strings.Contains(out, `"lane": "corp"`) {
		t.Fatalf("plan: exit %d: %s\n%.400s", code, errs, out)
	}
	planFile := filepath.Join(dir, "plan.json")
	os.WriteFile(planFile, []byte(out), 0o644)
	after := corpLog(t, "postfix/lane_corp/smtp", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 6, 0.5)
	t.Setenv("NO_COLOR", "1")
	code, out, errs = mt(t, "", "plan", "check", "--plan", planFile, "--lanes", lanes, "--start", "2026-12-01", after)
	if code != exitProblems || !strings.Contains(out, "roll back") {
		t.Errorf("with --lanes: exit %d, want %d (roll back): %s\n%s", code, exitProblems, errs, out)
	}
	_, out, _ = mt(t, "", "plan", "check", "--plan", planFile, "--start", "2026-12-01", after)
	if !strings.Contains(out, "corp.example.org") || !strings.Contains(out, "--lanes") {
		t.Errorf("without --lanes, the output does not say the lane's mail went to another lane:\n%s", out)
	}
}

// TestPlanHelpExamplesRedirect: the shell opens a redirection before the
// command runs, so an example that writes "> dir/FILE" must make dir first
// (--out-dir dir makes it too late).
func TestPlanHelpExamplesRedirect(t *testing.T) {
	cmd := newPlan(&env{})
	redirect := regexp.MustCompile(`>\s*([^\s>]+)/[^\s/]+`)
	for _, c := range append(cmd.Commands(), cmd) {
		for _, line := range strings.Split(c.Example, "\n") {
			for _, m := range redirect.FindAllStringSubmatchIndex(line, -1) {
				dir := line[m[2]:m[3]]
				if !strings.Contains(line[:m[0]], "mkdir -p "+dir) {
					t.Errorf("%s: %q writes into %s/ before anything makes it", c.Name(), strings.TrimSpace(line), dir)
				}
			}
		}
	}
}

// TestPlanCheckTextWidth: the why and now lines of plan check wrap at the
// width the other reports use (100 columns when not a terminal), not at 40.
func TestPlanCheckTextWidth(t *testing.T) {
	plan := filepath.Join(t.TempDir(), "plan.json")
	_, out, _ := mt(t, "", "plan", "--format", "json", sample)
	if err := os.WriteFile(plan, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	_, text, errs := mt(t, "", "plan", "check", "--plan", plan, "--start", "2026-11-28", sample)
	found := false
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  why: ") {
			found = true
			if continued := i+1 < len(lines) && strings.HasPrefix(lines[i+1], "       "); continued && len(l) < 60 {
				t.Errorf("the why line is cut at %d columns: %q", len(l), l)
			}
		}
	}
	if !found {
		t.Fatalf("no why line (stderr %q):\n%s", errs, text)
	}
}

// TestIncidentFiguresAgree: the figures of an incident read the same in
// analyze, plan and evidence. analyze said "77.6% of 2,692 attempts"
// while plan said "78% of 2692 attempts" and evidence "77.6% of 2692",
// and plan's watch list rounded google's 6.4% to 6%: a reader comparing
// the three could not tell whether they spoke of one incident.
func TestIncidentFiguresAgree(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	code, an, errs := mt(t, "", "analyze", sample)
	if code != exitProblems {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	for _, fig := range []string{"77.6% of 2,692 attempts", "31.6% of 114 attempts"} {
		if !strings.Contains(an, fig) {
			t.Fatalf("analyze no longer says %q: fix this test", fig)
		}
	}
	_, pl, _ := mt(t, "", "plan", "--analysis", sampleAnalysis)
	for _, want := range []string{"77.6% of 2,692 attempts", "31.6% of 114 attempts", "google: 6.9% deferred", "also 6.4% from", "4,115 messages"} {
		if !strings.Contains(pl, want) {
			t.Errorf("plan lacks %q, as analyze writes it", want)
		}
	}
	_, md, _ := mt(t, "", "plan", "--analysis", sampleAnalysis, "--format", "markdown")
	if !strings.Contains(md, "77.6% of 2,692 attempts") || !strings.Contains(md, "| 4,115 |") {
		t.Errorf("plan --format markdown lacks the figures as analyze writes them")
	}
	_, ev, _ := mt(t, "", "evidence", "--analysis", sampleAnalysis)
	for _, want := range []string{"77.6% of 2,692 delivery attempts", "| 4,115 | 6,488 |", "| 1,511 |"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q, as analyze writes it", want)
		}
	}
}

// TestPlanDayOneAsTheMTADoesIt: the day-one line says what the generated
// configuration does. For Postfix a rate delay delivers one message at a
// time per destination, whatever the concurrency limit, and the main.cf
// comments say so; the plan said "2 connections, 5 messages per
// connection" above them. PowerMTA's queue does take those limits.
func TestPlanDayOneAsTheMTADoesIt(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	_, out, _ := mt(t, "", "plan", "--analysis", sampleAnalysis)
	if !strings.Contains(out, "day one:   1 message an hour: Postfix delivers one at a time, one every 3600s") || strings.Contains(out, "5 messages per connection") {
		t.Errorf("plan --mta postfix, day one:\n%s", grepLines(out, "day one"))
	}
	_, md, _ := mt(t, "", "plan", "--analysis", sampleAnalysis, "--format", "markdown")
	if !strings.Contains(md, "**Day one:** 1 message an hour: Postfix delivers one at a time, one every 3600s") {
		t.Errorf("plan --format markdown, day one:\n%s", grepLines(md, "Day one"))
	}
	_, out, _ = mt(t, "", "plan", "--analysis", sampleAnalysis, "--mta", "powermta")
	if !strings.Contains(out, "day one:   2 connections, 5 messages per connection, 1 message an hour") {
		t.Errorf("plan --mta powermta, day one:\n%s", grepLines(out, "day one"))
	}
	// PowerMTA queues each domain on its own, and the configuration
	// below says the limits apply to each: the routing line said "one set
	// of limits", which is Postfix's shared nexthop.
	if !strings.Contains(out, "routing:   each domain its own queue") || strings.Contains(out, "one set of limits") ||
		!strings.Contains(out, "The limits apply to each of the lane's domains (each is its own queue)") {
		t.Errorf("plan --mta powermta, routing:\n%s", grepLines(out, "routing"))
	}
	// Each queue's share, so that the three queues together keep the
	// lane's 1 an hour (1/h each made 3 an hour).
	if !strings.Contains(out, "1 message every 3 hours each") || !strings.Contains(out, "max-msg-rate 1/3h") {
		t.Errorf("plan --mta powermta, each queue's rate:\n%s", grepLines(out, "msg-rate"))
	}
	_, out, _ = mt(t, "", "plan", "--analysis", sampleAnalysis, "--mta", "kumomta")
	if !strings.Contains(out, "routing:   all domains to icloud.com's MX (they share it), one set of limits") {
		t.Errorf("plan --mta kumomta, routing:\n%s", grepLines(out, "routing"))
	}
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPlanMTAFromInputs: without --mta the configuration is for the MTA
// whose logs were read, and logs of an MTA the plan writes no
// configuration for (Exim, Sendmail, an ESP) get none, with the reason,
// rather than a Postfix configuration nobody asked for.
func TestPlanMTAFromInputs(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	data, err := os.ReadFile(sampleAnalysis)
	if err != nil {
		t.Fatal(err)
	}
	withFormats := func(formats ...string) string {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var inputs []any
		for i, f := range formats {
			inputs = append(inputs, map[string]any{"name": fmt.Sprintf("log%d", i), "format": f})
		}
		m["inputs"] = inputs
		out, _ := json.Marshal(m)
		path := filepath.Join(t.TempDir(), "analysis.json")
		os.WriteFile(path, out, 0o644)
		return path
	}
	for _, tt := range []struct {
		formats []string
		mta     string // the MTA configured; "" for none
		want    string // in the text
	}{
		{[]string{"powermta"}, "powermta", "CONFIGURATION FOR POWERMTA"},
		{[]string{"kumomta"}, "kumomta", "CONFIGURATION FOR KUMOMTA"},
		{[]string{"postfix", "postqueue"}, "postfix", "CONFIGURATION FOR POSTFIX"},
		{[]string{"exim"}, "", "max_parallel"},
		{[]string{"sendmail"}, "", "--mta"},
		{[]string{"esp"}, "", "ESP"},
	} {
		path := withFormats(tt.formats...)
		code, out, errs := mt(t, "", "plan", "--analysis", path)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tt.formats, code, errs)
		}
		if !strings.Contains(out, tt.want) {
			t.Errorf("%v: the plan lacks %q:\n%s", tt.formats, tt.want, out)
		}
		if tt.mta != "postfix" && strings.Contains(out, "main.cf") {
			t.Errorf("%v: Postfix configuration for logs of another MTA:\n%s", tt.formats, out)
		}
		_, js, _ := mt(t, "", "plan", "--analysis", path, "--format", "json")
		var rep report.PlanReport
		if err := json.Unmarshal([]byte(js), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.MTA != tt.mta || (tt.mta == "") != (len(rep.Files) == 0) {
			t.Errorf("%v: mta %q with %d files, want %q", tt.formats, rep.MTA, len(rep.Files), tt.mta)
		}
	}
	// --mta still decides.
	if _, out, _ := mt(t, "", "plan", "--analysis", withFormats("exim"), "--mta", "kumomta"); !strings.Contains(out, "CONFIGURATION FOR KUMOMTA") {
		t.Errorf("--mta kumomta on Exim logs:\n%s", out)
	}
	// Logs of two MTAs the plan configures: which one is the user's to say.
	code, _, errs := mt(t, "", "plan", "--analysis", withFormats("postfix", "powermta"))
	if code != exitUsage || !strings.Contains(errs, "--mta") {
		t.Errorf("postfix and powermta logs: exit %d %q", code, errs)
	}
}

// TestPlanStreamOfOneMessage: a stream of one message is "1 message".
func TestPlanStreamOfOneMessage(t *testing.T) {
	_, out, _ := mt(t, "", "plan", "../../source/exim/testdata/mainlog")
	if !strings.Contains(out, ": 1 message, ") || strings.Contains(out, "1 messages") {
		t.Errorf("want \"1 message\":\n%s", out)
	}
}

// TestPlanOldCohortsSaid: a plan without --recipients into an --out-dir
// that holds an earlier plan's cohort files leaves them, and says they
// are not this plan's.
func TestPlanOldCohortsSaid(t *testing.T) {
	out := t.TempDir()
	old := filepath.Join(out, "cohorts", "apple", "01-engaged-30d.csv")
	os.MkdirAll(filepath.Dir(old), 0o755)
	os.WriteFile(old, []byte("email,last_engaged\nold@icloud.com,2026-11-01\n"), 0o644)
	code, _, errs := mt(t, "", "plan", "--analysis", sampleAnalysis, "--out-dir", out)
	if code != exitOK || !strings.Contains(errs, "1 cohort file from an earlier plan ("+old) || !strings.Contains(errs, "no --recipients") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("the earlier cohort file is gone: %v", err)
	}
	// Without old cohort files, nothing is said of them.
	code, _, errs = mt(t, "", "plan", "--analysis", sampleAnalysis, "--out-dir", t.TempDir())
	if code != exitOK || strings.Contains(errs, "cohort") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
