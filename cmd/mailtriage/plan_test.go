package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
