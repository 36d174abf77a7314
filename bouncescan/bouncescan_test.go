package bouncescan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/provider"
)

func scanner(t *testing.T, workers int) *Scanner {
	t.Helper()
	cat, err := provider.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Scanner{Classifier: c, Workers: workers}
}

// TestScanOrder: with any number of workers the records come in input
// order, each with its file, and the same for the same input.
func TestScanOrder(t *testing.T) {
	dir := "../testdata/sisimai/eml"
	one, err := scanner(t, 1).Scan(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	many, err := scanner(t, 8).Scan(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 310 files, one of them an mbox of two.
	if one.Messages != 311 || len(one.Records) < 320 || len(one.Records) != len(many.Records) {
		t.Fatalf("%d messages, %d and %d records", one.Messages, len(one.Records), len(many.Records))
	}
	for i := range one.Records {
		if one.Records[i].File != many.Records[i].File || one.Records[i].Recipient != many.Records[i].Recipient {
			t.Fatalf("record %d: %s %s vs %s %s", i, one.Records[i].File, one.Records[i].Recipient, many.Records[i].File, many.Records[i].Recipient)
		}
	}
	if first := one.Records[0]; !strings.HasSuffix(first.File, "arf-01.eml") || first.Reason != "feedback" {
		t.Errorf("first record %+v", first)
	}
}

// TestNewClassifier: a classifier built while the scan reads gives the
// same records as one given; one that cannot be built stops the scan
// with its error.
func TestNewClassifier(t *testing.T) {
	dir := "../testdata/sisimai/eml"
	given := scanner(t, 2)
	want, err := given.Scan(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	built := &Scanner{Workers: 2, NewClassifier: func() (Classifier, error) { return given.Classifier, nil }}
	got, err := built.Scan(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != len(want.Records) {
		t.Fatalf("%d records, want %d", len(got.Records), len(want.Records))
	}
	for i := range got.Records {
		if g, w := got.Records[i], want.Records[i]; g.File != w.File || g.Recipient != w.Recipient || g.Reason != w.Reason || g.Rule != w.Rule {
			t.Fatalf("record %d: %+v, want %+v", i, g, w)
		}
	}
	bad := errors.New("rules: x.toml: line 1: expected '='")
	failing := &Scanner{Workers: 2, NewClassifier: func() (Classifier, error) { return nil, bad }}
	if _, err := failing.Scan(context.Background(), []string{dir}, nil); !errors.Is(err, bad) {
		t.Errorf("a classifier that fails to build: err %v, want %v", err, bad)
	}
}

// TestScanBadInputs: an ordinary message, a report with nobody in it, a
// file that cannot be read, and a 50 MB attachment are each counted; the
// good report beside them is still read.
func TestScanBadInputs(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("../testdata/sisimai/eml/lhost-postfix-01.eml")
	big := "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; jane@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--b\nContent-Type: application/octet-stream\n\n" + strings.Repeat("A", 50<<20) + "\n--b--\n"
	for name, data := range map[string]string{
		"good.eml":    string(good),
		"ordinary":    "From: jane@example.com\nSubject: lunch?\n\nat noon\n",
		"nobody.eml":  "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n\nsomething failed, nobody named\n",
		"big.eml":     big,
		"badmime.eml": "From: MAILER-DAEMON@example.org\nSubject: failure notice\nContent-Type: multipart/report; boundary=\"never\"\n\n<kim@example.net>:\n550 5.1.1 no such user\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	unreadable := filepath.Join(dir, "locked.eml")
	os.WriteFile(unreadable, []byte("x"), 0o000)
	res, err := scanner(t, 2).Scan(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string][]Record{}
	for _, r := range res.Records {
		byFile[filepath.Base(r.File)] = append(byFile[filepath.Base(r.File)], r)
	}
	if len(byFile["good.eml"]) == 0 || len(byFile["badmime.eml"]) != 1 || byFile["badmime.eml"][0].Recipient != "kim@example.net" {
		t.Errorf("records %+v", byFile)
	}
	if b := byFile["big.eml"]; len(b) != 1 || b[0].Reason != "userunknown" {
		t.Errorf("the report with a 50 MB attachment: %+v", b)
	}
	wantNot := 1
	if os.Geteuid() == 0 {
		wantNot = 2 // root reads the locked file: one more ordinary message
	}
	if len(res.NotReports) != wantNot || len(res.NoRecipient) != 1 {
		t.Errorf("not reports %v, no recipient %v", res.NotReports, res.NoRecipient)
	}
	if os.Geteuid() != 0 && len(res.Unreadable) != 1 {
		t.Errorf("unreadable %v", res.Unreadable)
	}
}

// TestScanStdin reads an mbox from standard input.
func TestScanStdin(t *testing.T) {
	a, _ := os.ReadFile("../testdata/sisimai/eml/lhost-exim-01.eml")
	b, _ := os.ReadFile("../testdata/sisimai/eml/lhost-qmail-01.eml")
	mbox := "From MAILER-DAEMON Thu Apr 29 23:34:45 2021\n" + string(a) + "\nFrom MAILER-DAEMON Thu Apr 29 23:34:46 2021\n" + string(b)
	res, err := scanner(t, 2).Scan(context.Background(), []string{"-"}, strings.NewReader(mbox))
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 2 || len(res.Records) != 2 || res.Records[1].File != "-#2" || res.Records[1].Reason != "userunknown" {
		t.Errorf("%d messages, records %+v", res.Messages, res.Records)
	}
}

// TestScanOnce: a file reached twice, through a folder named twice, a
// folder inside one also named, the file itself also named, a link or a
// hard link, is read once.
func TestScanOnce(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "Maildir", "cur")
	os.MkdirAll(sub, 0o755)
	data, _ := os.ReadFile("../testdata/sisimai/eml/lhost-postfix-01.eml")
	msg := filepath.Join(sub, "1:2,S")
	if err := os.WriteFile(msg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(msg, filepath.Join(dir, "link.eml"))
	os.Link(msg, filepath.Join(dir, "hard.eml"))
	res, err := scanner(t, 2).Scan(context.Background(), []string{dir, dir, sub, msg, filepath.Join(dir, "link.eml")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 1 || len(res.Records) != 1 {
		var files []string
		for _, r := range res.Records {
			files = append(files, r.File)
		}
		t.Errorf("%d messages, %d records (%v), want 1 of each", res.Messages, len(res.Records), files)
	}
}

// TestScanUnreadable: an input that cannot be read is listed by its name
// with what is wrong, the name said once.
func TestScanUnreadable(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.eml")
	os.Symlink("/nonexistent", filepath.Join(dir, "dead.eml"))
	res, err := scanner(t, 2).Scan(context.Background(), []string{missing, dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Skipped{{missing, "no such file or directory"}, {filepath.Join(dir, "dead.eml"), "no such file or directory"}}
	if !slices.Equal(res.Unreadable, want) {
		t.Errorf("unreadable %q, want %q", res.Unreadable, want)
	}
}
