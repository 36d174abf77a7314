package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver/dnstest"
)

// The shared corpus of parsedmarc's samples (Apache-2.0; see its README).
const dmarcCorpus = "../../testdata/dmarc-reports"

var dmarcCorpusDirs = []string{dmarcCorpus + "/aggregate", dmarcCorpus + "/failure", dmarcCorpus + "/smtp-tls"}

type summaryJSON struct {
	Reports int64 `json:"reports"`
	Sources []struct {
		IP              string `json:"ip"`
		RDNS            string `json:"rdns"`
		Service         string `json:"service"`
		Messages        int64  `json:"messages"`
		SPFAlignedPass  int64  `json:"spf_aligned_pass"`
		DKIMAlignedPass int64  `json:"dkim_aligned_pass"`
		DMARCPass       int64  `json:"dmarc_pass"`
		Category        string `json:"category"`
		Unverified      bool   `json:"unverified"`
	} `json:"sources"`
	TLS []struct {
		Domain      string `json:"domain"`
		PolicyType  string `json:"policy_type"`
		Reports     int64  `json:"reports"`
		Successes   int64  `json:"successes"`
		Failures    int64  `json:"failures"`
		TopFailures []struct {
			ResultType string `json:"result_type"`
			Sessions   int64  `json:"sessions"`
		} `json:"top_failures"`
	} `json:"tls"`
	Days []struct {
		Day       string `json:"day"`
		Reports   int64  `json:"reports"`
		Messages  int64  `json:"messages"`
		DMARCPass int64  `json:"dmarc_pass"`
	} `json:"days"`
}

func summary(t *testing.T, args ...string) summaryJSON {
	t.Helper()
	code, out, errs := mt(t, "", append([]string{"dmarc", "summary", "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("summary %v: exit %d: %s", args, code, errs)
	}
	var s summaryJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary JSON: %v\n%s", err, out)
	}
	return s
}

// TestDMARCImportSummary imports the corpus, again, and summarises it.
func TestDMARCImportSummary(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	code, out, errs := mt(t, "", append([]string{"dmarc", "import", "--no-rdns", "--db", db}, dmarcCorpusDirs...)...)
	if code != exitOK {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	// invalid_utf_8.xml is ikea.com's report again, with a broken byte.
	if !strings.HasPrefix(out, "imported 13 (9 aggregate, 2 failure, 2 TLS), 1 duplicate, 0 failed") {
		t.Errorf("import: %s", out)
	}
	code, out, errs = mt(t, "", append([]string{"dmarc", "import", "--no-rdns", "--db", db, "--format", "json"}, dmarcCorpusDirs...)...)
	if code != exitOK || strings.TrimSpace(out) != `{"imported":0,"aggregate":0,"failure":0,"tls":0,"duplicates":14,"failed":0}` {
		t.Errorf("re-import: exit %d %s %s", code, out, errs)
	}

	s := summary(t, "--db", db)
	if s.Reports != 9 || len(s.Sources) != 9 || len(s.Days) != 9 || len(s.TLS) != 2 {
		t.Fatalf("summary: %d reports, %d sources, %d days, %d tls", s.Reports, len(s.Sources), len(s.Days), len(s.TLS))
	}
	// rfc9990-sample.xml: 123 messages from 192.0.2.123, DKIM aligned
	// pass and SPF fail, with no declared list: forwarding.
	src := s.Sources[0]
	if src.IP != "192.0.2.123" || src.Messages != 123 || src.DKIMAlignedPass != 123 || src.SPFAlignedPass != 0 || src.DMARCPass != 123 ||
		src.Category != "forwarded" || !src.Unverified || src.RDNS != "" || src.Service != "" {
		t.Errorf("first source %+v", src)
	}
	var total, pass int64
	for _, src := range s.Sources {
		total += src.Messages
		pass += src.DMARCPass
		if src.DMARCPass == 0 && (src.Category != "failing" || src.Unverified) {
			t.Errorf("a source without passing mail: %+v", src)
		}
	}
	if total != 133 || pass != 126 {
		t.Errorf("%d messages, %d passing; want 133, 126", total, pass)
	}
	tls := s.TLS[1]
	if tls.Domain != "company-y.example" || tls.PolicyType != "sts" || tls.Failures != 303 || len(tls.TopFailures) != 3 ||
		tls.TopFailures[0].ResultType != "starttls-not-supported" || tls.TopFailures[0].Sessions != 200 {
		t.Errorf("TLS %+v", tls)
	}

	// One domain, some days. veeam.com's report runs from 2018-06-27T21:00Z
	// to the 28th at 21:00Z: a day of UTC+3, the 28th.
	s = summary(t, "--db", db, "--domain", "Example.com", "--since", "2018-01-01", "--until", "2018-10-02")
	if s.Reports != 3 || len(s.Days) != 3 || s.Days[0].Day != "2018-06-28" || s.Days[2].Day != "2018-10-01" || len(s.TLS) != 0 {
		t.Errorf("example.com in 2018 until October 1st: %+v", s)
	}

	// A declared list: the forwarder is now declared, so its DKIM-only
	// mail is partial authorization, and nothing passing is unverified.
	known := filepath.Join(t.TempDir(), "known.txt")
	os.WriteFile(known, []byte("192.0.2.0/24\nip 72.150.241.94\nip 87.106.127.28\n"), 0o644)
	s = summary(t, "--db", db, "--known", known)
	for _, src := range s.Sources {
		if src.Unverified {
			t.Errorf("declared, still unverified: %+v", src)
		}
	}
	if s.Sources[0].Category != "partially_authorized" {
		t.Errorf("declared DKIM-only source: %+v", s.Sources[0])
	}
	// Without 87.106.127.28 one passing source is undeclared: exit 3.
	os.WriteFile(known, []byte("192.0.2.0/24\nip 72.150.241.94\n"), 0o644)
	if code, _, _ := mt(t, "", "dmarc", "summary", "--db", db, "--known", known); code != exitProblems {
		t.Errorf("an unverified source with --known: exit %d, want %d", code, exitProblems)
	}

	// Text and HTML.
	code, out, errs = mt(t, "", "dmarc", "summary", "--db", db)
	if code != exitOK || !strings.Contains(out, "9 reports, 133 messages, 94.7% passed DMARC; 2 failure reports") || !strings.Contains(out, "company-y.example") {
		t.Errorf("text: exit %d %s %s", code, out, errs)
	}
	page := filepath.Join(t.TempDir(), "dmarc.html")
	code, out, errs = mt(t, "", "dmarc", "summary", "--db", db, "--format", "html", "--out", page)
	b, _ := os.ReadFile(page)
	if code != exitOK || out != "" || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "192.0.2.123") {
		t.Errorf("html: exit %d %s %.200s", code, errs, b)
	}
}

// TestDMARCImportBadInputs: a file that is not a report, a report whose
// period is reversed, a record with a count of -1: each named on standard
// error with its reason, the good report still imported, exit 1.
func TestDMARCImportBadInputs(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(dmarcCorpus + "/aggregate/rfc9990-sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	reversed := strings.Replace(string(good), "<begin>302832000</begin>", "<begin>302999999</begin>", 1)
	negative := strings.Replace(strings.Replace(string(good), "<count>123</count>", "<count>-1</count>", 1), "<report_id>", "<report_id>neg-", 1)
	files := map[string]string{
		"a-good.xml":     string(good),
		"b-notxml.xml":   "this is not XML at all\n",
		"c-reversed.xml": reversed,
		"d-negative.xml": negative,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "m.db")
	code, out, errs := mt(t, "", "dmarc", "import", "--no-rdns", "--db", db, dir, filepath.Join(dir, "missing.xml"))
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.HasPrefix(out, "imported 1 (1 aggregate, 0 failure, 0 TLS), 0 duplicate, 4 failed") {
		t.Errorf("counts: %s", out)
	}
	for _, name := range []string{"b-notxml.xml", "c-reversed.xml", "d-negative.xml", "missing.xml"} {
		if !strings.Contains(errs, name+": ") {
			t.Errorf("stderr does not name %s:\n%s", name, errs)
		}
	}
	t.Logf("stderr:\n%s", errs)
	if s := summary(t, "--db", db); s.Reports != 1 || s.Sources[0].Messages != 123 {
		t.Errorf("after the bad inputs: %+v", s)
	}
}

func TestDMARCImportStdin(t *testing.T) {
	body, err := os.ReadFile(dmarcCorpus + "/aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "m.db")
	code, out, errs := mt(t, string(body), "dmarc", "import", "--no-rdns", "--db", db, "-")
	if code != exitOK || !strings.HasPrefix(out, "imported 1 (1 aggregate") {
		t.Errorf("stdin: exit %d %s %s", code, out, errs)
	}
	// MAILTRIAGE_DB names the database when --db does not.
	t.Setenv("MAILTRIAGE_DB", db)
	if s := summary(t); s.Reports != 1 {
		t.Errorf("summary through MAILTRIAGE_DB: %+v", s)
	}
}

// dmarcZone gives rfc9990-sample.xml's source a name under sendgrid.net
// that points back to it.
const dmarcZone = `
$ORIGIN 2.0.192.in-addr.arpa.
@ 300 IN SOA ns.example.com. hm.example.com. 1 1 1 1 1
123 300 IN PTR o1.ptr4242.sendgrid.net.
$ORIGIN sendgrid.net.
@ 300 IN SOA ns hm 1 1 1 1 1
o1.ptr4242 300 IN A 192.0.2.123
`

// TestDMARCImportRDNS: names looked up at import through --resolver,
// grouped into the service, declared by service name.
func TestDMARCImportRDNS(t *testing.T) {
	s := dnstest.Start(t, dmarcZone)
	db := filepath.Join(t.TempDir(), "m.db")
	code, out, errs := mt(t, "", "dmarc", "import", "--db", db, "--resolver", s.Addr, "--dns-timeout", "500ms", dmarcCorpus+"/aggregate/rfc9990-sample.xml")
	if code != exitOK {
		t.Fatalf("import: exit %d %s %s", code, out, errs)
	}
	if udp, tcp := s.Queries(); udp+tcp != 3 {
		t.Errorf("%d queries, want 3 (PTR, then A and AAAA)", udp+tcp)
	}
	known := filepath.Join(t.TempDir(), "known.txt")
	os.WriteFile(known, []byte("service SendGrid\n"), 0o644)
	sum := summary(t, "--db", db, "--known", known)
	src := sum.Sources[0]
	if src.RDNS != "o1.ptr4242.sendgrid.net" || src.Service != "SendGrid" || src.Category != "partially_authorized" || src.Unverified {
		t.Errorf("source %+v", src)
	}
	code, out, _ = mt(t, "", "dmarc", "summary", "--db", db)
	if code != exitOK || !strings.Contains(out, "SendGrid") {
		t.Errorf("text: %s", out)
	}
	// The whole corpus through the same server, sixteen reports at a
	// time: the names the zone does not hold are refused, and the import
	// goes on without them.
	code, out, errs = mt(t, "", append([]string{"dmarc", "import", "--db", db, "--resolver", s.Addr, "--dns-timeout", "500ms"}, dmarcCorpusDirs...)...)
	if code != exitOK || !strings.HasPrefix(out, "imported 12 (8 aggregate, 2 failure, 2 TLS), 2 duplicate, 0 failed") {
		t.Errorf("corpus with rDNS: exit %d %s %s", code, out, errs)
	}
	if sum := summary(t, "--db", db); sum.Reports != 9 || sum.Sources[0].Service != "SendGrid" {
		t.Errorf("after the corpus: %d reports, first source %+v", sum.Reports, sum.Sources[0])
	}
}

func TestDMARCUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	if code, _, errs := mt(t, "", "dmarc", "summary", "--db", db); code != exitError || !strings.Contains(errs, "no database at") {
		t.Errorf("summary of a missing database: exit %d %s", code, errs)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("summary created the database it was asked to read")
	}
	if code, _, _ := mt(t, "", "dmarc", "import", "--no-rdns", "--db", db, dmarcCorpus+"/aggregate/rfc9990-sample.xml"); code != exitOK {
		t.Fatal("import failed")
	}
	bad := filepath.Join(t.TempDir(), "known.txt")
	os.WriteFile(bad, []byte("ip 192.0.2.1\nservice Nobody Mail\n"), 0o644)
	for _, args := range [][]string{
		{"dmarc", "bogus"},
		{"dmarc", "import"},
		{"dmarc", "import", "--format", "xml", "x"},
		{"dmarc", "import", "--offline", "x"}, // the shared DNS flags that mean nothing here
		{"dmarc", "import", "--zone", "z", "x"},
		{"dmarc", "summary", "--db", db, "--format", "xml"},
		{"dmarc", "summary", "--db", db, "--since", "yesterday"},
		{"dmarc", "summary", "--db", db, "--since", "2026-03-02", "--until", "2026-03-01"},
		{"dmarc", "summary", "--db", db, "--known", bad},
		{"dmarc", "summary", "--db", db, "--known", bad + ".missing"},
		{"dmarc", "summary", "--db", db, "extra"},
	} {
		code, _, errs := mt(t, "", args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, errs)
		}
		if strings.Contains(strings.Join(args, " "), "known.txt") && !strings.HasSuffix(args[len(args)-1], ".missing") && !strings.Contains(errs, "known.txt:2:") {
			t.Errorf("the known-file error does not name the line: %s", errs)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"30d":                  time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC),
		"12h":                  time.Date(2026, 3, 31, 3, 0, 0, 0, time.UTC),
		"2026-03-01":           time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"2026-03-01T08:00:00Z": time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-3d", "3w"} {
		if _, err := parseWhen(in, now); err == nil {
			t.Errorf("parseWhen(%q) succeeded", in)
		}
	}
}

// TestImportProgress: the import counts its inputs on a terminal with the
// shared progress line, and clears it at the end.
func TestImportProgress(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, start: time.Now().Add(-time.Second)}
	p.count("importing, inputs read", 12)
	p.done()
	if out := b.String(); !strings.Contains(out, "importing, inputs read: 12") || !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("progress: %q", out)
	}
}

// TestImportEscapesNames: a zip member named with escape sequences is
// named on standard error with them escaped, never sent to the terminal.
func TestImportEscapesNames(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, err := zw.Create("\x1b]0;owned\x07\x1b[2Jreport.xml")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("not a report"))
	zw.Close()
	path := filepath.Join(t.TempDir(), "escname.zip")
	if err := os.WriteFile(path, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := mt(t, "", "dmarc", "import", "--no-rdns", "--db", filepath.Join(t.TempDir(), "m.db"), path)
	if code != exitError || strings.ContainsAny(errs+out, "\x1b\x07") || !strings.Contains(errs, `\x1b]0;owned\x07\x1b[2Jreport.xml`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestImportStandardInputNamed: an input that came on standard input, or
// a member of an archive that did, is named "standard input" on stderr,
// as analyze names it.
func TestImportStandardInputNamed(t *testing.T) {
	code, _, errs := mt(t, "garbage", "dmarc", "import", "--no-rdns", "--db", filepath.Join(t.TempDir(), "m.db"), "-")
	if code != exitError || !strings.Contains(errs, "mailtriage: standard input: ") || strings.Contains(errs, "mailtriage: -: ") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	for in, want := range map[string]string{"-": "standard input", "-!a.xml": "standard input!a.xml", "reports/-.xml": "reports/-.xml", "-x.xml": "-x.xml"} {
		if got := inputName(in); got != want {
			t.Errorf("inputName(%q) = %q, want %q", in, got, want)
		}
	}
}
