package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/check"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
)

const exampleZone = "../../examples/example.com.zone"

// exampleArgs is the README's check example.
var exampleArgs = []string{"check", "example.com", "--zone", exampleZone, "--offline", "--ip", "198.51.100.21", "--helo", "mail01.example.com", "--selector", "s1"}

var elapsed = regexp.MustCompile(`"elapsed_ns": \d+`)

func TestCheckExampleGolden(t *testing.T) {
	code, out, errs := mt(t, "", append(exampleArgs, "--format", "json")...)
	if code != exitOK && code != exitProblems {
		t.Fatalf("exit %d: %s", code, errs)
	}
	out = elapsed.ReplaceAllString(out, `"elapsed_ns": 0`)
	golden := filepath.Join("testdata", "check-example.json")
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
		t.Errorf("check --format json differs from %s (run go test ./cmd/mailtriage -update and review the diff)", golden)
	}
	// The JSON field names the issue fixes.
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"domain", "score", "grade", "coverage", "categories", "findings", "spf", "dmarc", "dkim"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in the JSON", k)
		}
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.DMARC == nil || rep.DMARC.Policy != "none" || rep.DMARC.PolicyDomain != "example.com" || len(rep.DKIM) != 1 || rep.DKIM[0].KeyBits != 2048 {
		t.Errorf("dmarc %+v dkim %+v", rep.DMARC, rep.DKIM)
	}
}

func TestCheckText(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	_, out, _ := mt(t, "", exampleArgs...)
	for _, want := range []string{"mailtriage check: example.com", "SCORE BY CATEGORY", "dmarc.policy-none", "fix:", "RECORDS", "mail01.example.com, forward-confirmed"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes with NO_COLOR set")
	}
	_, html, _ := mt(t, "", append(exampleArgs, "--format", "html")...)
	if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(html, "<svg") || !strings.Contains(html, "dmarc.policy-none") {
		t.Errorf("html report:\n%.500s", html)
	}
}

func TestCheckBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"check", "198.51.100.21", "--zone", exampleZone, "--offline"}, exitUsage, "is an IP address"},
		{[]string{"check", "--zone", exampleZone, "--offline"}, exitUsage, "one DOMAIN"},
		{[]string{"check", "a..b", "--zone", exampleZone, "--offline"}, exitUsage, "not a domain"},
		{[]string{"check", strings.Repeat("a", 64) + ".com", "--zone", exampleZone, "--offline"}, exitUsage, "not a domain"},
		{[]string{"check", "example.com", "--ip", "mail01.example.com", "--zone", exampleZone, "--offline"}, exitUsage, "not an IP address"},
		{[]string{"check", "example.com", "--offline"}, exitUsage, "--offline needs --zone"},
		{[]string{"check", "example.com", "--zone", exampleZone, "--offline", "--ip", "10.1.2.3"}, exitUsage, "not a public address"},
		{[]string{"check", "example.com", "--zone", exampleZone, "--offline", "--selector", "s1._domainkey.example.com"}, exitUsage, "selector alone"},
		{[]string{"check", "example.com", "--zone", exampleZone, "--offline", "--selector", "a b"}, exitUsage, "not a selector"},
		{[]string{"check", "example.com", "--zone", exampleZone, "--offline", "--helo", "a..b"}, exitUsage, "--helo"},
		{[]string{"check", "example.com..", "--zone", exampleZone, "--offline"}, exitUsage, "not a domain"},
		{[]string{"check", "example.com", "--zone", exampleZone, "--offline", "--smtp-probe"}, exitUsage, "does not go with --offline"},
		{[]string{"check", "example.com", "--zone", "nonexistent.zone"}, exitError, "nonexistent.zone"},
		{[]string{"check", "example.com", "--format", "xml", "--zone", exampleZone}, exitUsage, "--format"},
	} {
		code, _, errs := mt(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

// TestCheckIDN: an IDN is checked in its A-label form and shown both ways.
func TestCheckIDN(t *testing.T) {
	_, out, errs := mt(t, "", "check", "Bücher.Example.COM.", "--zone", exampleZone, "--offline", "--format", "json")
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	if rep.Domain != "xn--bcher-kva.example.com" || rep.Unicode != "bücher.example.com" {
		t.Errorf("domain %q unicode %q", rep.Domain, rep.Unicode)
	}
}

// TestCheckSilentDNS: a server that never answers makes every check
// unknown, bounded by the timeout, and the command says it could check
// nothing.
func TestCheckSilentDNS(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	tcp, err := net.Listen("tcp", pc.LocalAddr().String())
	if err == nil {
		defer tcp.Close() // accepts, never answers
	}
	start := time.Now()
	code, out, errs := mt(t, "", "check", "example.com", "--resolver", pc.LocalAddr().String(), "--dns-timeout", "100ms", "--format", "json")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v with a 100ms DNS timeout", took)
	}
	if code != exitError || !strings.Contains(errs, "no check could be made") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Coverage.Made != 0 || rep.Grade != "-" || len(rep.Findings) == 0 {
		t.Errorf("coverage %+v grade %s", rep.Coverage, rep.Grade)
	}
	for _, f := range rep.Findings {
		if f.Severity != "unknown" && f.Severity != "info" {
			t.Errorf("a failed lookup reported as %s: %s", f.Severity, f.Code)
		}
	}
}

func TestSPF(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	base := []string{"spf", "example.com", "--zone", exampleZone, "--offline"}
	code, out, errs := mt(t, "", append(base, "--ip", "203.0.113.200")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"2 DNS lookups, 0 void", "└─ include:_spf.esp.example.net", "v=spf1 ip4:203.0.113.128/25 -all", "= pass at include:_spf.esp.example.net"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	// An address outside every range: softfail at the top level's ~all.
	code, out, _ = mt(t, "", append(base, "--ip", "192.0.2.1", "--format", "json")...)
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != exitProblems || rep["result"] != "softfail" || rep["lookups"] != 2.0 || rep["void_lookups"] != 0.0 {
		t.Errorf("exit %d, %v", code, rep)
	}
	tree, _ := rep["tree"].(map[string]any)
	if children, _ := tree["children"].([]any); len(children) != 1 {
		t.Errorf("tree %v", tree)
	}
	for _, k := range []string{"domain", "record", "lookups", "void_lookups", "tree", "result"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("no %q in the JSON", k)
		}
	}
	// RFC 2181 §11: underscores are allowed, so an include can be looked at.
	if code, out, errs := mt(t, "", "spf", "_spf.esp.example.net", "--zone", exampleZone, "--offline"); code != exitOK || !strings.Contains(out, "_spf2.esp.example.net") {
		t.Errorf("spf _spf.esp.example.net: exit %d %s %s", code, out, errs)
	}
	if code, _, errs := mt(t, "", append(base, "--helo", "x.example.com")...); code != exitUsage || !strings.Contains(errs, "need --ip") {
		t.Errorf("--helo without --ip: exit %d %s", code, errs)
	}
}

// TestSPFFlatten: a record over the lookup limit comes back as one within
// it, with what it copies.
func TestSPFFlatten(t *testing.T) {
	zone := "../../check/testdata/findings/spf.lookup-limit.zone"
	code, out, errs := mt(t, "", "spf", "example.test", "--zone", zone, "--offline", "--flatten", "--format", "json")
	if code != exitProblems {
		t.Fatalf("exit %d (the record is over the limit): %s", code, errs)
	}
	var rep struct {
		Lookups   int `json:"lookups"`
		Flattened struct {
			Records []struct {
				Text    string   `json:"text"`
				Strings []string `json:"strings"`
			} `json:"records"`
			Before  int `json:"lookups_before"`
			After   int `json:"lookups_after"`
			Sources []struct {
				Name string `json:"name"`
			} `json:"sources"`
		} `json:"flattened"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	f := rep.Flattened
	if rep.Lookups != 11 || f.Before != 11 || f.After != 0 || len(f.Records) != 1 || len(f.Sources) != 22 { // A and AAAA of each host
		t.Fatalf("%+v", rep)
	}
	if !strings.HasPrefix(f.Records[0].Text, "v=spf1 ip4:198.51.100.100") || !strings.HasSuffix(f.Records[0].Text, "-all") {
		t.Errorf("flattened record %q", f.Records[0].Text)
	}
	t.Setenv("NO_COLOR", "1")
	_, text, _ := mt(t, "", "spf", "example.test", "--zone", zone, "--offline", "--flatten")
	if !strings.Contains(text, "FLATTENED: 0 DNS lookups instead of 11") || !strings.Contains(text, "copied from:") {
		t.Errorf("text:\n%s", text)
	}
}

func TestBlocklist(t *testing.T) {
	zone := filepath.Join("testdata", "blocklists.zone")
	code, out, errs := mt(t, "", "blocklist", "--zone", zone, "--offline", "--format", "json", "198.51.100.21", "198.51.100.22", "198.51.100.23", "mail.example.com")
	if code != exitProblems {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Targets []struct {
			Checked  string `json:"checked"`
			Listings []struct {
				Target    string   `json:"target"`
				Zone      string   `json:"zone"`
				Status    string   `json:"status"`
				Codes     []string `json:"codes"`
				Meaning   string   `json:"meaning"`
				DelistURL string   `json:"delist_url"`
			} `json:"listings"`
		} `json:"targets"`
		Zones []struct {
			Zone, Status string
		} `json:"zones"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tr := range rep.Targets {
		for _, l := range tr.Listings {
			got[tr.Checked+" "+l.Zone] = l.Status
			if l.Target == "" || l.Zone == "" || l.DelistURL == "" {
				t.Errorf("incomplete listing %+v", l)
			}
		}
	}
	for k, want := range map[string]string{
		"198.51.100.21 zen.spamhaus.org": "listed",
		"198.51.100.22 zen.spamhaus.org": "listed",
		"198.51.100.23 zen.spamhaus.org": "clean",
		"198.51.100.21 bl.spamcop.net":   "clean",
		"198.51.100.21 psbl.surriel.com": "unavailable", // no test entry in the zone
		"example.com dbl.spamhaus.org":   "listed",      // mail.example.com at its registered domain
		"example.com multi.uribl.com":    "refused",
		"198.51.100.21 multi.uribl.com":  "", // a domain list is not asked about addresses
	} {
		if got[k] != want {
			t.Errorf("%s: %q, want %q", k, got[k], want)
		}
	}
	t.Setenv("NO_COLOR", "1")
	_, text, _ := mt(t, "", "blocklist", "--zone", zone, "--offline", "198.51.100.21")
	for _, want := range []string{"LISTED  Spamhaus ZEN", "SBL: a known spam source", "delist: https://check.spamhaus.org/", "reason: https://check.spamhaus.org/sbl/query/SBL000001", "LISTS THAT COULD NOT BE TRUSTED", "not proof of good reputation"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	// A public resolver is named as such (the root zone answers every
	// name, so nothing is asked of it).
	_, out, _ = mt(t, "", "blocklist", "--zone", zone, "--resolver", "8.8.8.8:53", "--format", "json", "198.51.100.23")
	if !strings.Contains(out, "Google Public DNS, a public resolver") {
		t.Errorf("no public-resolver warning:\n%.600s", out)
	}
}

func TestBlocklistBadInput(t *testing.T) {
	zone := filepath.Join("testdata", "blocklists.zone")
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"blocklist", "--zone", zone, "--offline", "198.51.100.21:25"}, exitUsage, "with a port"},
		{[]string{"blocklist", "--zone", zone, "--offline", "198.51.100.0/24"}, exitUsage, "CIDR"},
		{[]string{"blocklist", "--zone", zone, "--offline", "192.168.1.10"}, exitUsage, "private"},
		{[]string{"blocklist", "--zone", zone, "--offline"}, exitUsage, "at least one TARGET"},
		{[]string{"blocklist", "--zone", zone, "--offline", "--dnsbl-zones", "nonexistent.toml", "198.51.100.21"}, exitError, "nonexistent.toml"},
		{[]string{"blocklist", "--zone", zone, "--offline", "--lists", "zen.spamhaus.org,nolist.example", "198.51.100.21"}, exitUsage, "unknown list nolist.example"},
	} {
		code, _, errs := mt(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

// TestAnalyzeBlocklists: the sample's hosts with their addresses, one of
// them listed: the listing sits beside the mail that host carried.
func TestAnalyzeBlocklists(t *testing.T) {
	zone := filepath.Join("testdata", "blocklists.zone")
	t.Setenv("NO_COLOR", "1")
	code, out, errs := mt(t, "", "analyze", "--blocklists", "--ip", "mta1=198.51.100.21", "--ip", "mta2=198.51.100.23",
		"--zone", zone, "--offline", "--format", "json", sample)
	if code != exitProblems {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r analysis.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Blocklists) != 2 || len(r.Blocklists[0].Listed) != 1 || r.Blocklists[0].Carried == nil || r.Blocklists[0].Carried.Attempts == 0 || len(r.Blocklists[1].Listed) != 0 {
		t.Fatalf("blocklists %+v", r.Blocklists)
	}
	found := false
	for _, f := range r.Findings {
		if f.Code == "incident.listed-sender" && strings.Contains(f.Message, "198.51.100.21 (mta1) is listed on Spamhaus ZEN and carried") {
			found = true
		}
	}
	if !found {
		t.Errorf("no listed-sender finding: %+v", r.Findings)
	}
	_, text, _ := mt(t, "", "analyze", "--blocklists", "--ip", "mta1=198.51.100.21", "--zone", zone, "--offline", sample)
	if !strings.Contains(text, "SENDING ADDRESSES ON BLOCKLISTS") || !strings.Contains(text, "Spamhaus ZEN") {
		t.Errorf("text lacks the blocklist section")
	}
	if code, _, errs := mt(t, "", "analyze", "--ip", "198.51.100.21", sample); code != exitUsage || !strings.Contains(errs, "--ip needs --blocklists") {
		t.Errorf("--ip alone: exit %d %s", code, errs)
	}
	if code, _, errs := mt(t, "", "analyze", "--blocklists", sample); code != exitUsage || !strings.Contains(errs, "sending addresses") {
		t.Errorf("--blocklists alone: exit %d %s", code, errs)
	}
}

// TestCheckThroughResolver: the same check over real DNS, against an
// in-process server serving the example zone, as against any server a
// user points --resolver at.
func TestCheckThroughResolver(t *testing.T) {
	zone, err := os.ReadFile(exampleZone)
	if err != nil {
		t.Fatal(err)
	}
	s := dnstest.Start(t, string(zone))
	code, out, errs := mt(t, "", "check", "example.com", "--resolver", s.Addr, "--ip", "198.51.100.21", "--helo", "mail01.example.com", "--selector", "s1", "--no-blocklists", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Score != 89 || rep.SPF.Lookups != 2 || rep.DKIM[0].KeyBits != 2048 || len(rep.IPs) != 1 || len(rep.IPs[0].Confirmed) != 1 {
		t.Errorf("score %d spf %+v dkim %+v ips %+v", rep.Score, rep.SPF, rep.DKIM, rep.IPs)
	}
	if udp, _ := s.Queries(); udp < 20 {
		t.Errorf("%d queries reached the server", udp)
	}
}

// TestCheckNotCheckedPointsSomewhere: a category the check could not
// score sends the reader to the COULD NOT CHECK section only when there
// is one; a domain that does not exist has none (its other findings would
// only restate it), and says why instead.
func TestCheckNotCheckedPointsSomewhere(t *testing.T) {
	for _, domain := range []string{"nosuch.example.com", "example.com"} {
		code, out, errs := mt(t, "", "check", domain, "--zone", exampleZone, "--offline", "--selector", "s1")
		if code != exitOK && code != exitProblems {
			t.Fatalf("%s: exit %d: %s", domain, code, errs)
		}
		if strings.Contains(out, "see COULD NOT CHECK") && !strings.Contains(out, "\nCOULD NOT CHECK (") {
			t.Errorf("%s: a category says 'see COULD NOT CHECK', but there is no such section:\n%s", domain, out)
		}
		if domain == "nosuch.example.com" && !strings.Contains(out, "not checked: the domain does not exist") {
			t.Errorf("%s: the categories not checked do not say why:\n%s", domain, out)
		}
	}
}

// TestAnalyzeBlocklistsDNSDown: --blocklists through a DNS server that
// does not answer writes the report, but says on standard error that the
// addresses could not be looked up and which server did not answer, and
// exits 1; the address's row says no list could tell, not "none of the
// scored lists", which would pass for a clean result.
func TestAnalyzeBlocklistsDNSDown(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now: every query is refused at once
	code, out, errs := mt(t, "", "analyze", "--blocklists", "--ip", "mta1=198.51.100.21", "--resolver", addr, sample)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(errs, "no list answered") || !strings.Contains(errs, addr) {
		t.Errorf("standard error does not say the lookups failed and where: %q", errs)
	}
	if !strings.Contains(out, "SENDING ADDRESSES ON BLOCKLISTS") {
		t.Errorf("the report was not written")
	}
	if strings.Contains(out, "none of the scored lists") || !strings.Contains(out, "could not tell") {
		t.Errorf("the address's row reads as clean though no list answered:\n%s", out)
	}
}

// TestSPFFlattenNoRecord: --flatten of a domain the DNS says has no SPF
// record still prints the diagnosis, with its error finding, and exits 3
// as spf without --flatten does; exit 1 is for a DNS that could not be
// asked.
func TestSPFFlattenNoRecord(t *testing.T) {
	code, out, errs := mt(t, "", "spf", "nosuch.example.com", "--zone", exampleZone, "--offline", "--flatten")
	if code != exitProblems {
		t.Errorf("exit %d, want %d (stderr %q)", code, exitProblems, errs)
	}
	if !strings.Contains(out, "spf-domain-missing") {
		t.Errorf("the diagnosis was not printed:\n%s", out)
	}
	if !strings.Contains(errs, "nothing to flatten") {
		t.Errorf("standard error does not say why nothing was flattened: %q", errs)
	}
}

// blindZone is a resolver that answers NXDOMAIN for every name, top-level
// domains too, as a sandbox's or a captive portal's does.
const blindZone = "../../check/testdata/findings/domain.resolver-blind.zone"

// TestBlindResolver: spf and verify, like check, recognise a resolver
// that denies even the top-level domain: they say so and exit 1, instead
// of reporting that the domain, its SPF record and its keys do not exist.
func TestBlindResolver(t *testing.T) {
	for _, args := range [][]string{
		{"spf", "gone.example.test"},
		{"spf", "gone.example.test", "--ip", "192.0.2.1", "--format", "json"},
		{"verify", verifyMessage},
		{"verify", verifyMessage, "--format", "json"},
	} {
		code, out, errs := mt(t, "", append(args, "--zone", blindZone, "--offline")...)
		if code != exitError || !strings.Contains(errs, "even test does not exist: it does not reach the public DNS") || !strings.Contains(errs, "--resolver") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
		if strings.Contains(out, "does not exist") || strings.Contains(out, "no key at") {
			t.Errorf("%v: the report reads the blind resolver's answers:\n%s", args, out)
		}
	}
	// A top-level domain that does not exist while com does: the domain
	// does not exist, and the resolver is right.
	zone := filepath.Join(t.TempDir(), "typo.zone")
	if err := os.WriteFile(zone, []byte(". 300 IN SOA ns.test. h.test. 1 7200 3600 1209600 300\ncom. 300 IN SOA ns.com. h.com. 1 7200 3600 1209600 300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := mt(t, "", "spf", "example.cmo", "--zone", zone, "--offline"); code != exitProblems || !strings.Contains(out, "spf-domain-missing") {
		t.Errorf("example.cmo: exit %d\n%s%s", code, out, errs)
	}
}
