package main

import (
	"encoding/json"
	"strings"
	"testing"

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
