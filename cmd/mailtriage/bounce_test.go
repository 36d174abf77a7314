package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const bounceCorpus = "../../testdata/sisimai/eml"

// TestBounceJSON: one object per recipient with the fields scripts need,
// the skipped messages on standard error, exit 0.
func TestBounceJSON(t *testing.T) {
	code, out, errs := mt(t, "", "bounce", "--format", "json", bounceCorpus)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) < 320 {
		t.Fatalf("%d records", len(recs))
	}
	for _, key := range []string{"file", "recipient", "status", "code", "reason", "class", "provider", "diagnostic"} {
		if _, ok := recs[0][key]; !ok {
			t.Errorf("no %q in %v", key, recs[0])
		}
	}
	found := false
	for _, r := range recs {
		if strings.HasSuffix(r["file"].(string), "lhost-postfix-01.eml") {
			found = r["reason"] == "mailererror" && r["class"] == "permanent" && r["status"] == "5.1.1"
		}
	}
	if !found {
		t.Error("lhost-postfix-01.eml (procmail failed, status 5.1.1) is not a permanent mailererror")
	}
	if !strings.Contains(errs, "lhost-fml-03.eml") || !strings.Contains(errs, "not a bounce") {
		t.Errorf("stderr does not name the message that is not a bounce: %s", errs)
	}
}

// TestBounceText: the reason chart and a row per recipient; stdin with '-'.
func TestBounceText(t *testing.T) {
	data, err := os.ReadFile(bounceCorpus + "/lhost-exim-01.eml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := mt(t, string(data), "bounce", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"1 message, 1 recipient", "REASONS", "RECIPIENTS", "kijitora@example.ed.jp", "550 5.7.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	// With no recipient, the report is its first line: no empty tables.
	_, out, _ = mt(t, "From: jane@example.com\nSubject: hi\n\nhello\n", "bounce", "-")
	if out != "mailtriage bounce: 1 message, 0 recipients (1 message gave none: see standard error)\n" {
		t.Errorf("no recipient: %q", out)
	}
}

// TestBounceErrors: a missing file, nothing but ordinary mail, a bad
// --format.
func TestBounceErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/note.eml", []byte("From: jane@example.com\nSubject: hi\n\nhello\n"), 0o644)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bounce", dir + "/missing"}, exitError, "no such file"},
		{[]string{"bounce", dir}, exitError, "no bounce report found in 1 message"},
		{[]string{"bounce", "--format", "xml", dir}, exitUsage, "--format"},
		{[]string{"bounce"}, exitUsage, "- for standard input"},
	} {
		code, _, errs := mt(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
	// A user rule that takes a built-in rule's id is a usage error.
	rules := t.TempDir()
	os.WriteFile(rules+"/mine.toml", []byte("[[rule]]\nid=\"cox-ip-blocked\"\ntext=[\"greylisted\"]\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"recipient\"\naction=\"x\"\nexamples=[\"450 greylisted\"]"), 0o644)
	if code, out, errs := mt(t, "", "bounce", "--rules", rules, "../../testdata/sisimai/eml/arf-01.eml"); code != exitUsage || out != "" || !strings.Contains(errs, "--rules: rule id cox-ip-blocked of mine.toml is a built-in rule's") {
		t.Errorf("--rules taking a built-in id: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// A missing input among others is named, and the others are read.
	code, out, errs := mt(t, "", "bounce", "--format", "json", "../../testdata/sisimai/eml/lhost-exim-01.eml", dir+"/missing", "../../testdata/sisimai/eml/arf-01.eml")
	if code != exitError || !strings.Contains(errs, dir+"/missing") || strings.Count(out, `"file"`) != 2 {
		t.Errorf("a missing input among two bounces: exit %d, stderr %q, %d records", code, errs, strings.Count(out, `"file"`))
	}
	if _, out, _ := mt(t, "", "bounce", "../../testdata/sisimai/eml/arf-01.eml", dir+"/missing"); !strings.Contains(out, "1 message, 1 recipient (1 input could not be read: see standard error)") {
		t.Errorf("the text report's first line: %q", strings.SplitN(out, "\n", 2)[0])
	}
}

// TestBounceNoArgs: bounce with nothing to read says what it takes, as the
// other commands do, not cobra's "requires at least 1 arg(s)".
func TestBounceNoArgs(t *testing.T) {
	code, _, errs := mt(t, "", "bounce")
	if code != exitUsage || !strings.Contains(errs, "- for standard input") || strings.Contains(errs, "arg(s)") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
