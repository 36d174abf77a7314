package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEvidence(t *testing.T) {
	actions := filepath.Join(t.TempDir(), "actions.txt")
	os.WriteFile(actions, []byte("- paused the news@ campaign to Apple domains\n\nremoved 1,200 inactive recipients\n"), 0o644)
	code, md, errs := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--check", "example.com", "--zone", exampleZone, "--offline",
		"--ip", "198.51.100.21", "--selector", "s1", "--actions", actions)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"# Delivery evidence", "## First deferral", "421 4.7.0 Deferred - see Proofpoint DNSBL lookup", "Sending IP addresses: 198.51.100.21",
		"DKIM selectors: s1", "score 89/100", "## Replies and failures, exactly as received", "## Sample messages that timed out", "paused the news@ campaign", "withheld"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "paul4983@smallshop.example") {
		t.Error("a recipient address quoted by a reply is in the pack")
	}
	out := filepath.Join(t.TempDir(), "evidence.html")
	if code, _, errs := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--format", "html", "--out", out); code != exitOK {
		t.Fatalf("html: exit %d %s", code, errs)
	}
	page, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(page), "<!DOCTYPE html>") || !strings.Contains(string(page), "<svg") {
		t.Errorf("html page without chart")
	}
	code, js, _ := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--format", "json", "--include-recipients")
	var p map[string]any
	if code != exitOK || json.Unmarshal([]byte(js), &p) != nil || !strings.Contains(p["recipients"].(string), "includes recipient") {
		t.Errorf("json: exit %d", code)
	}
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"evidence", "--analysis", sampleAnalysis, "--format", "pdf"}, exitUsage, "--format"},
		{[]string{"evidence", "--analysis", sampleAnalysis, "--ip", "10.0.0.1"}, exitUsage, "not a public address"},
		{[]string{"evidence", "--analysis", sampleAnalysis, "--check", "198.51.100.21"}, exitUsage, "--check"},
		{[]string{"evidence", "--analysis", sampleAnalysis, "--actions", "none.txt"}, exitError, "none.txt"},
	} {
		code, _, errs := mt(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

// TestEvidenceChecksLoggedIPs: --check looks up the sending addresses the
// pack names, those the logs and the receivers' replies carry too
// (Apple's HCM1 reply names 203.0.113.25), not only --ip: a pack that
// lists an address and says "no listing" must have asked about it.
func TestEvidenceChecksLoggedIPs(t *testing.T) {
	lists := filepath.Join(t.TempDir(), "lists.zone")
	os.WriteFile(lists, []byte(`$ORIGIN .
$TTL 300
zen.spamhaus.org. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
2.0.0.127.zen.spamhaus.org. IN A 127.0.0.2
25.113.0.203.zen.spamhaus.org. IN A 127.0.0.3
`), 0o644)
	code, js, errs := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--check", "example.com", "--zone", exampleZone, "--zone", lists,
		"--offline", "--lists", "zen.spamhaus.org", "--ip", "198.51.100.21", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var p struct {
		IPs      []string `json:"sending_ips"`
		Listings []struct {
			Target string `json:"target"`
		} `json:"blocklist_listings"`
	}
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, l := range p.Listings {
		listed = listed || l.Target == "203.0.113.25"
	}
	if !slices.Contains(p.IPs, "203.0.113.25") || !listed {
		t.Errorf("sending IPs %v, listings %+v: want 203.0.113.25 in both (CSS, 127.0.0.3)", p.IPs, p.Listings)
	}
}

// TestEvidenceUnansweredLists: offline, no list can be asked; the pack
// must say the blocklist status could not be told (issue 4: "could not
// tell" is never "clean"), not "no listing".
func TestEvidenceUnansweredLists(t *testing.T) {
	code, md, errs := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--check", "example.com", "--zone", exampleZone, "--offline", "--ip", "198.51.100.21")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(md, "could not tell") || !strings.Contains(md, "Spamhaus ZEN") {
		t.Errorf("the pack does not say which lists could not tell:\n%s", md[strings.Index(md, "## Authentication"):])
	}
	if strings.Contains(md, "no listing") || !strings.Contains(md, "no list answered") {
		t.Errorf("no list answered, but the pack reads as if some did:\n%s", md[strings.Index(md, "## Authentication"):])
	}
	_, page, _ := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--check", "example.com", "--zone", exampleZone, "--offline", "--ip", "198.51.100.21", "--format", "html")
	if !strings.Contains(page, "no list answered") {
		t.Errorf("the HTML pack does not say that no list answered")
	}
}

// TestEvidenceCheckDNSDown: --check with a DNS server that does not
// answer still writes the pack, but says on standard error that no check
// could be made and which server did not answer, and exits 1: a pack that
// reads "DKIM: no key found" must not pass for a checked one.
func TestEvidenceCheckDNSDown(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now: every query is refused at once
	code, out, errs := mt(t, "", "evidence", "--check", "example.com", "--resolver", addr, "--format", "json", sample)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(errs, "no check could be made") || !strings.Contains(errs, addr) {
		t.Errorf("standard error does not say the check failed and where: %q", errs)
	}
	if !json.Valid([]byte(out)) || !strings.Contains(out, `"authentication"`) {
		t.Errorf("the pack was not written: %.300s", out)
	}
}

// TestEvidenceUnreadableInput: an unreadable log stops the pack with an
// error about the pack, not about a plan (evidence shares plan's input).
func TestEvidenceUnreadableInput(t *testing.T) {
	plan := filepath.Join(t.TempDir(), "plan.json")
	_, out, _ := mt(t, "", "plan", "--format", "json", sample)
	if err := os.WriteFile(plan, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"evidence"}, {"plan", "check", "--plan", plan}} {
		code, _, errs := mt(t, "", append(args, filepath.Join(t.TempDir(), "nosuch.log"))...)
		if code != exitError {
			t.Errorf("%s: exit %d, want %d", args[0], code, exitError)
		}
		if !strings.Contains(errs, "no such file") || strings.Contains(errs, "no plan is made") {
			t.Errorf("%q: standard error %q", args, errs)
		}
	}
}

// TestEvidenceRepliesNameWhoAnswered: the pack names who answered a reply
// the same way in every section and format, "apple behind proofpoint" as
// its first-deferral table and analyze say, not "apple" in one table and
// "apple proofpoint" in another; and a reply without an enhanced status
// code reads "451", as in analyze.
func TestEvidenceRepliesNameWhoAnswered(t *testing.T) {
	code, md, errs := mt(t, "", "evidence", "--analysis", sampleAnalysis)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, replies, _ := strings.Cut(md, "## Replies and failures, exactly as received")
	row := func(reply string) string {
		for _, l := range strings.Split(replies, "\n") {
			if strings.Contains(l, reply) {
				return l
			}
		}
		t.Fatalf("no reply row with %q in:\n%s", reply, replies)
		return ""
	}
	if r := row("`421 4.7.0 Deferred - see Proofpoint DNSBL lookup`"); !strings.Contains(r, "| apple behind proofpoint |") {
		t.Errorf("markdown: the Proofpoint reply's row does not say who answered as the pack's other sections do:\n%s", r)
	}
	if r := row("`451 Internal resource"); !strings.Contains(r, "| 451 |") {
		t.Errorf("markdown: a reply without an enhanced code:\n%s", r)
	}
	out := filepath.Join(t.TempDir(), "evidence.html")
	if code, _, errs := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--format", "html", "--out", out); code != exitOK {
		t.Fatalf("html: exit %d %s", code, errs)
	}
	page, _ := os.ReadFile(out)
	_, htmlReplies, _ := strings.Cut(string(page), "Replies and failures, exactly as received")
	if !strings.Contains(htmlReplies, "<td>apple behind proofpoint</td><td><code>421 4.7.0 Deferred - see Proofpoint DNSBL lookup</code>") {
		t.Errorf("html: the Proofpoint reply's row does not say who answered as the pack's other sections do")
	}
	if !strings.Contains(htmlReplies, "<td>451</td>") {
		t.Errorf("html: a reply without an enhanced code is not written 451")
	}
}

// TestEvidenceSendingAddressesIdentity: with --check, the pack gives each
// sending address's reverse DNS and SPF result, in every format: what a
// postmaster desk looks up first.
func TestEvidenceSendingAddressesIdentity(t *testing.T) {
	args := []string{"evidence", "--analysis", sampleAnalysis, "--check", "example.com", "--zone", exampleZone, "--offline", "--ip", "198.51.100.21"}
	_, md, _ := mt(t, "", args...)
	if !strings.Contains(md, "| 198.51.100.21 | mail01.example.com (forward-confirmed) | pass (ip4:198.51.100.16/28) |") {
		t.Errorf("markdown lacks 198.51.100.21's reverse DNS and SPF:\n%s", md[strings.Index(md, "## Authentication"):])
	}
	if !strings.Contains(md, "| 203.0.113.25 | not known: the lookup failed") {
		t.Errorf("markdown does not say 203.0.113.25's reverse DNS could not be looked up")
	}
	_, page, _ := mt(t, "", append(args, "--format", "html")...)
	if !strings.Contains(page, "<tr><td>198.51.100.21</td><td>mail01.example.com (forward-confirmed)</td><td>pass (ip4:198.51.100.16/28)</td></tr>") {
		t.Errorf("html lacks 198.51.100.21's reverse DNS and SPF")
	}
	_, js, _ := mt(t, "", append(args, "--format", "json")...)
	if !strings.Contains(js, `"rdns": "mail01.example.com (forward-confirmed)"`) {
		t.Errorf("json lacks 198.51.100.21's reverse DNS")
	}
}

// TestEvidenceSampleRows: each sample row says its lane and its recipient
// (withheld, or the address with --include-recipients) in its own row,
// in Markdown as in HTML: a recipient list apart from the rows cannot be
// matched to a queue id for a lookup.
func TestEvidenceSampleRows(t *testing.T) {
	_, md, _ := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--include-recipients")
	if !strings.Contains(md, "| queue id | Message-ID | lane | recipient | queued | expired | attempts | last reply |") ||
		!strings.Contains(md, "| mta2/905F98A4C9 | `20261127090622.905F98A4C9@shop.example.net` | apple | jane.ines@me.com |") {
		t.Errorf("markdown sample rows without lane and recipient:\n%s", md[strings.Index(md, "## Sample"):])
	}
	_, md, _ = mt(t, "", "evidence", "--analysis", sampleAnalysis)
	if !strings.Contains(md, "| mta2/905F98A4C9 | `20261127090622.905F98A4C9@shop.example.net` | apple | (withheld) |") {
		t.Errorf("markdown sample rows do not say the recipient is withheld:\n%s", md[strings.Index(md, "## Sample"):])
	}
	_, page, _ := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--format", "html", "--include-recipients")
	if !strings.Contains(page, "<tr><td>mta2/905F98A4C9</td><td><code>20261127090622.905F98A4C9@shop.example.net</code></td><td>apple</td><td>jane.ines@me.com</td>") {
		t.Errorf("html sample rows without lane")
	}
}

// TestEvidenceReceivingHosts: the pack names the receiving hosts that
// answered an incident's lane, in Markdown and HTML.
func TestEvidenceReceivingHosts(t *testing.T) {
	_, md, _ := mt(t, "", "evidence", "--analysis", sampleAnalysis)
	if !strings.Contains(md, "## Receiving hosts") || !strings.Contains(md, "| apple | mx02.mail.icloud.com | 17.57.155.9 | 1,823 | 60.3% |") {
		t.Errorf("markdown lacks the receiving hosts:\n%s", md)
	}
	_, page, _ := mt(t, "", "evidence", "--analysis", sampleAnalysis, "--format", "html")
	if !strings.Contains(page, "<tr><td>apple</td><td>mx02.mail.icloud.com</td><td>17.57.155.9</td><td>1,823</td><td>60.3%</td></tr>") {
		t.Errorf("html lacks the receiving hosts")
	}
}
