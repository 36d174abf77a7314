package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	msgdkim "github.com/emersion/go-msgauth/dkim"
)

const (
	verifyMessage = "testdata/verify/signed.eml"
	verifyZone    = "testdata/verify/example.test.zone"
)

var verifyArgs = []string{"verify", verifyMessage, "--zone", verifyZone, "--offline"}

// writeVerifyFixture makes the fixture anew (go test -update): a key, its
// zone, and a message signed with it as the receiving side stored it.
func writeVerifyFixture(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	txt := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	zone := `; The DNS of the verify fixture (mailtriage verify --zone ... --offline).
test.                      3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
example.test.              3600 IN A   192.0.2.10
example.test.              3600 IN MX  10 mx.example.test.
example.test.              3600 IN TXT "v=spf1 ip4:192.0.2.0/28 -all"
_dmarc.example.test.       3600 IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.test"
s1._domainkey.example.test. 3600 IN TXT "` + txt[:200] + `" "` + txt[200:] + `"
`
	msg := "From: Alice Example <alice@example.test>\r\n" +
		"To: Bob <bob@receiver.test>\r\n" +
		"Subject: Quarterly figures\r\n" +
		"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n" +
		"Message-ID: <20261201100000.4242@example.test>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Hello Bob,\r\n\r\nthe figures are in the shared folder.\r\n\r\n-- \r\nAlice\r\n"
	var signed bytes.Buffer
	err = msgdkim.Sign(&signed, strings.NewReader(msg), &msgdkim.SignOptions{
		Domain: "example.test", Selector: "s1", Signer: key,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed, BodyCanonicalization: msgdkim.CanonicalizationRelaxed,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"},
	})
	if err != nil {
		t.Fatal(err)
	}
	trace := "Return-Path: <bounce@example.test>\r\n" +
		"Authentication-Results: mx.receiver.test;\r\n" +
		"\tdkim=pass header.d=example.test header.s=s1;\r\n" +
		"\tspf=pass smtp.mailfrom=bounce@example.test;\r\n" +
		"\tdmarc=pass (p=reject dis=none) header.from=example.test\r\n" +
		"Received-SPF: pass (mx.receiver.test: 192.0.2.5 is authorized) client-ip=192.0.2.5;\r\n" +
		"\tenvelope-from=\"bounce@example.test\"; helo=mail.example.test; receiver=mx.receiver.test;\r\n" +
		"Received: from mail.example.test (mail.example.test [192.0.2.5])\r\n" +
		"\tby mx.receiver.test (Postfix) with ESMTPS id 4Nx2Kq0Zl3z9t\r\n" +
		"\tfor <bob@receiver.test>; Tue, 01 Dec 2026 10:00:01 +0000 (UTC)\r\n" +
		"Received: from localhost (localhost [127.0.0.1])\r\n" +
		"\tby mail.example.test (Postfix) with ESMTP id 9; Tue, 01 Dec 2026 10:00:00 +0000\r\n"
	if err := os.MkdirAll(filepath.Dir(verifyMessage), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(verifyZone, []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(verifyMessage, []byte(trace+signed.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyJSON(t *testing.T) {
	if *update {
		writeVerifyFixture(t)
	}
	code, out, errs := mt(t, "", append(verifyArgs, "--format", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	// The field names the issue fixes.
	var m struct {
		DKIM []struct {
			Domain, Selector, Result string
			KeyBits                  int `json:"key_bits"`
		} `json:"dkim"`
		SPF struct {
			Result, Domain, IP string
			IPSource           string `json:"ip_source"`
		} `json:"spf"`
		DMARC struct {
			Result      string `json:"result"`
			Policy      string `json:"policy"`
			FromDomain  string `json:"from_domain"`
			AlignedSPF  *bool  `json:"aligned_spf"`
			AlignedDKIM *bool  `json:"aligned_dkim"`
		} `json:"dmarc"`
		Received   []map[string]any `json:"received"`
		Comparison []struct{ Agree bool }
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.DKIM) != 1 || m.DKIM[0].Domain != "example.test" || m.DKIM[0].Selector != "s1" || m.DKIM[0].Result != "pass" || m.DKIM[0].KeyBits != 2048 {
		t.Errorf("dkim %+v", m.DKIM)
	}
	if m.SPF.Result != "pass" || m.SPF.Domain != "example.test" || m.SPF.IP != "192.0.2.5" || m.SPF.IPSource != "Received-SPF client-ip=" {
		t.Errorf("spf %+v", m.SPF)
	}
	d := m.DMARC
	if d.Result != "pass" || d.Policy != "reject" || d.FromDomain != "example.test" || d.AlignedSPF == nil || !*d.AlignedSPF || d.AlignedDKIM == nil || !*d.AlignedDKIM {
		t.Errorf("dmarc %+v", d)
	}
	if len(m.Received) != 2 || len(m.Comparison) != 3 {
		t.Errorf("received %v comparison %+v", m.Received, m.Comparison)
	}
	for _, c := range m.Comparison {
		if !c.Agree {
			t.Errorf("the fixture's Authentication-Results disagree: %+v", m.Comparison)
		}
	}
}

func TestVerifyTextAndExit(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	code, out, _ := mt(t, "", verifyArgs...)
	for _, want := range []string{"VERDICT  DMARC pass", "s=s1", "AUTHENTICATION-RESULTS", "RECEIVED CHAIN"} {
		if !strings.Contains(out, want) {
			t.Errorf("exit %d, no %q in\n%s", code, want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes with NO_COLOR set")
	}
	msg, err := os.ReadFile(verifyMessage)
	if err != nil {
		t.Fatal(err)
	}
	// From standard input, with the body changed: DKIM fails, SPF still
	// passes and aligns, so DMARC passes.
	tampered := strings.Replace(string(msg), "shared folder", "attachment", 1)
	code, out, _ = mt(t, tampered, "verify", "-", "--zone", verifyZone, "--offline", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"result": "fail"`) {
		t.Errorf("tampered body: exit %d\n%s", code, out)
	}
	// With an address outside the SPF record as well, DMARC fails: exit 3.
	code, out, _ = mt(t, tampered, "verify", "-", "--zone", verifyZone, "--offline", "--ip", "203.0.113.9")
	if code != exitProblems || !strings.Contains(out, "DMARC fail") || !strings.Contains(out, "DIFFERS") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// Without the Received-SPF field, nothing says which address sent
	// it: SPF is not evaluated, and with DKIM failing DMARC is unknown,
	// not fail (exit 3 all the same).
	noAddress := tampered[:strings.Index(tampered, "Received-SPF:")] + tampered[strings.Index(tampered, "Received: from mail"):]
	code, out, _ = mt(t, noAddress, "verify", "-", "--zone", verifyZone, "--offline")
	if code != exitProblems || !strings.Contains(out, "VERDICT  DMARC unknown") || !strings.Contains(out, "--ip") || strings.Contains(out, "asked to") {
		t.Errorf("no address: exit %d\n%s", code, out)
	}
	// An mbox on standard input: its first message.
	code, _, errs := mt(t, "From bounce@example.test Tue Dec  1 10:00:01 2026\n"+strings.ReplaceAll(string(msg), "\r\n", "\n")+"\nFrom x Tue Dec  1 10:00:02 2026\nFrom: x@example.test\n\nx\n",
		append([]string{"verify", "-"}, verifyArgs[2:]...)...)
	if code != exitOK || !strings.Contains(errs, "only the first") {
		t.Errorf("mbox: exit %d: %s", code, errs)
	}
}

func TestVerifyBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		in   string
		code int
		msg  string
	}{
		{[]string{"verify"}, "", exitUsage, "one MESSAGE"},
		{[]string{"verify", "a.eml", "b.eml"}, "", exitUsage, "got 2"},
		{append(verifyArgs, "--format", "xml"), "", exitUsage, "--format"},
		{append(verifyArgs, "--ip", "mail.example.test"), "", exitUsage, "not an IP address"},
		{[]string{"verify", verifyMessage, "--offline"}, "", exitUsage, "--offline needs --zone"},
		{[]string{"verify", "testdata/verify/nonexistent.eml", "--zone", verifyZone, "--offline"}, "", exitError, "no such file"},
		{[]string{"verify", "-", "--zone", verifyZone, "--offline"}, "", exitError, "empty"},
		{[]string{"verify", "-", "--zone", verifyZone, "--offline"}, "this is not a message\n", exitError, "not a message"},
	} {
		code, _, errs := mt(t, tt.in, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

// TestVerifyNotAMessage: files that are not messages exit 1 with the
// reason, as the help promises, not with a verdict.
func TestVerifyNotAMessage(t *testing.T) {
	msg, err := os.ReadFile(verifyMessage)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(msg)
	zw.Close()
	dir := t.TempDir()
	for _, tt := range []struct {
		file, data, msg string
	}{
		{"signed.eml.gz", gz.String(), "signed.eml.gz: not a message: gzip-compressed: decompress it first"},
		{"notes.txt", "TODO: check the DNS\nthen the logs\n", "not a message: no From, Received or DKIM-Signature field"},
		{"empty.eml", "", "empty"},
	} {
		path := filepath.Join(dir, tt.file)
		if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := mt(t, "", "verify", path, "--zone", verifyZone, "--offline")
		if code != exitError || !strings.Contains(errs, tt.msg) || out != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want %d and %q", tt.file, code, errs, out, exitError, tt.msg)
		}
	}
}
