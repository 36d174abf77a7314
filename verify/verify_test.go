package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	mathrand "math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

// keys are the signing keys of the tests, made anew for each run.
type keys struct {
	rsa2048, rsa1024, other *rsa.PrivateKey
	ed                      ed25519.PrivateKey
}

func newKeys(t testing.TB) *keys {
	t.Helper()
	k := &keys{}
	var err error
	if k.rsa2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		t.Fatal(err)
	}
	if k.other, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		t.Fatal(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	return k
}

// keyRecord is the TXT record that publishes signer's public key
// (RFC 6376 §3.6.1), in zone-file form: strings of at most 255 bytes.
func keyRecord(t testing.TB, signer crypto.Signer) string {
	t.Helper()
	var txt string
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		txt = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		txt = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	}
	return zoneTXT(txt)
}

func zoneTXT(txt string) string {
	var parts []string
	for len(txt) > 255 {
		parts = append(parts, `"`+txt[:255]+`"`)
		txt = txt[255:]
	}
	return strings.Join(append(parts, `"`+txt+`"`), " ")
}

// testZone publishes the keys, SPF and DMARC records of the tests under
// the reserved TLD test (RFC 2606).
func testZone(t testing.TB, k *keys) string {
	return `
test. 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
example.test. A 192.0.2.10
example.test. MX 10 mx.example.test.
example.test. TXT "v=spf1 ip4:192.0.2.0/28 ~all"
bounce.example.test. MX 10 mx.example.test.
bounce.example.test. TXT "v=spf1 ip4:198.51.100.0/24 -all"
news.example.test. A 192.0.2.11
_dmarc.example.test. TXT "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:dmarc@example.test"
s1._domainkey.example.test. TXT ` + keyRecord(t, k.rsa2048) + `
ed._domainkey.example.test. TXT ` + keyRecord(t, k.ed) + `
small._domainkey.example.test. TXT ` + keyRecord(t, k.rsa1024) + `
short._domainkey.example.test. TXT "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK1PWVHRDVVKw6VQL5JX+QWp/4WR3sGGE8fzo80j08cS88gP7CWo/I3Eh71VqFNWqgww6ctS7jSApL7avztxiPECAwEAAQ=="
bad._domainkey.example.test. TXT "v=DKIM1; k=rsa; p=MIGf*not~base64!"
revoked._domainkey.example.test. TXT "v=DKIM1; k=rsa; p="
flaky._domainkey.example.test. TXT ` + keyRecord(t, k.rsa1024) + `
multi._domainkey.example.test. TXT ` + keyRecord(t, k.rsa1024) + `
multi._domainkey.example.test. TXT "v=DKIM1; p="
svc._domainkey.example.test. TXT ` + strings.Replace(keyRecord(t, k.rsa1024), "k=rsa;", "k=rsa; s=other;", 1) + `
h512._domainkey.example.test. TXT ` + strings.Replace(keyRecord(t, k.rsa1024), "k=rsa;", "k=rsa; h=sha512;", 1) + `
ts._domainkey.example.test. TXT ` + strings.Replace(keyRecord(t, k.rsa2048), "k=rsa;", "k=rsa; t=s;", 1) + `
tys._domainkey.example.test. TXT ` + strings.Replace(keyRecord(t, k.rsa2048), "k=rsa;", "k=rsa; t=y:s;", 1) + `
upper._domainkey.example.test. TXT ` + strings.Replace(keyRecord(t, k.rsa2048), "k=rsa;", "k=RSA;", 1) + `
strict.test. A 192.0.2.12
strict.test. TXT "v=spf1 ip4:192.0.2.0/28 -all"
bounce.strict.test. TXT "v=spf1 ip4:198.51.100.0/24 -all"
_dmarc.strict.test. TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s"
s1._domainkey.strict.test. TXT ` + keyRecord(t, k.rsa1024) + `
testing.test. A 192.0.2.13
testing.test. TXT "v=spf1 -all"
_dmarc.testing.test. TXT "v=DMARC1; p=reject; t=y"
monitor.test. A 192.0.2.14
_dmarc.monitor.test. TXT "v=DMARC1; p=none"
nodmarc.test. A 192.0.2.15
nodmarc.test. TXT "v=spf1 ip4:192.0.2.0/28 -all"
esp.test. A 203.0.113.1
esp.test. TXT "v=spf1 ip4:203.0.113.0/24 -all"
k1._domainkey.esp.test. TXT ` + keyRecord(t, k.other) + `
`
}

// env is a DNS server with the test zone, and a resolver asking it.
type env struct {
	k   *keys
	srv *dnstest.Server
	r   resolver.Resolver
}

func newEnv(t *testing.T) *env {
	t.Helper()
	k := newKeys(t)
	srv := dnstest.Start(t, testZone(t, k))
	srv.Fail("flaky._domainkey.example.test", dns.RcodeServerFailure)
	c, err := resolver.NewClient(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 500*time.Millisecond, 0
	return &env{k: k, srv: srv, r: c}
}

// core is a message as its author's MTA signs it.
func core(from, body string) string {
	return "From: Alice <" + from + ">\r\n" +
		"To: Bob <bob@receiver.test>\r\n" +
		"Subject: The quarterly figures\r\n" +
		"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n" +
		"Message-ID: <20261201100000.1@example.test>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" + body
}

const body = "Hello Bob,\r\n\r\nthe figures are attached.  \r\n\r\n-- \r\nAlice\r\n"

// sign signs msg with go-msgauth and returns it with the signature on
// top.
func sign(t testing.TB, msg string, o msgdkim.SignOptions) string {
	t.Helper()
	if o.HeaderKeys == nil {
		o.HeaderKeys = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}
	}
	if o.HeaderCanonicalization == "" {
		o.HeaderCanonicalization, o.BodyCanonicalization = msgdkim.CanonicalizationRelaxed, msgdkim.CanonicalizationRelaxed
	}
	var out bytes.Buffer
	if err := msgdkim.Sign(&out, strings.NewReader(msg), &o); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// received prepends the trace fields a receiving MTA adds.
func received(msg, ip string) string {
	return "Return-Path: <bounce@example.test>\r\n" +
		"Received: from mail.example.test (mail.example.test [" + ip + "])\r\n" +
		"\tby mx.receiver.test (Postfix) with ESMTPS id 4Nx2\r\n" +
		"\tfor <bob@receiver.test>; Tue, 01 Dec 2026 10:00:01 +0000 (UTC)\r\n" +
		"Received: from localhost (localhost [127.0.0.1])\r\n" +
		"\tby mail.example.test (Postfix) with ESMTP id 9; Tue, 01 Dec 2026 10:00:00 +0000\r\n" +
		msg
}

func (e *env) verify(t *testing.T, msg string, o Options) *Report {
	t.Helper()
	o.Resolver = e.r
	rep, err := Message(context.Background(), []byte(msg), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestDKIM(t *testing.T) {
	e := newEnv(t)
	k := e.k
	good := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.rsa2048})
	for _, tt := range []struct {
		name       string
		msg        string
		result     string
		reason     string // in Reason
		workaround bool
	}{
		{"good rsa", good, DKIMPass, "", false},
		{"ed25519 (RFC 8463)", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "ed", Signer: k.ed}), DKIMPass, "", false},
		{"simple/simple", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.rsa2048,
			HeaderCanonicalization: msgdkim.CanonicalizationSimple, BodyCanonicalization: msgdkim.CanonicalizationSimple}), DKIMPass, "", false},
		// RFC 6376 §3.7: the body hash covers the body.
		{"body modified", strings.Replace(good, "attached", "attached, see below", 1), DKIMFail, "body hash does not match", false},
		// §3.7: the header hash covers the signed fields.
		{"header modified", strings.Replace(good, "The quarterly figures", "The quarterly figures (corrected)", 1), DKIMFail, "signature does not verify", false},
		// §6.1.2: no key record is PERMFAIL.
		{"key missing", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "missing", Signer: k.rsa1024}), DKIMPermError, "no key at missing._domainkey.example.test (nxdomain)", false},
		{"key not base64", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "bad", Signer: k.rsa1024}), DKIMPermError, "p= is not valid base64", false},
		// §3.6.1: an empty p= is a revoked key.
		{"key revoked", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "revoked", Signer: k.rsa1024}), DKIMPermError, "revoked", false},
		// A failed key lookup is TEMPFAIL, not "no key".
		{"key lookup fails", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "flaky", Signer: k.rsa1024}), DKIMTempError, "could not be looked up", false},
		{"wrong key", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "small", Signer: k.other}), DKIMFail, "signature does not verify", false},
		// go-msgauth bug 1: i= compared with d= case-sensitively.
		{"i= in another case", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.rsa2048, Identifier: "Alice@Mail.EXAMPLE.Test"}), DKIMPass, "", true},
		// go-msgauth bug 2: i= not decoded from dkim-quoted-printable (§2.11).
		{"i= quoted-printable", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "ed", Signer: k.ed, Identifier: "alice=40example.test"}), DKIMPass, "", true},
		{"i= quoted-printable, body modified", strings.Replace(sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.rsa2048, Identifier: "alice=40example.test"}), "Bob,", "Robert,", 1), DKIMFail, "body hash", true},
		// §6.1.1: i= outside d= is PERMFAIL.
		{"i= outside d=", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.rsa2048, Identifier: "alice@example.org"}), DKIMPermError, "neither d=example.test nor a subdomain", false},
		// §3.6.2.2: several TXT records leave the key undefined.
		{"several key records", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "multi", Signer: k.rsa1024}), DKIMPermError, "several TXT records", false},
		// §3.6.1 s=: a key for another service.
		{"key for another service", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "svc", Signer: k.rsa1024}), DKIMPermError, "s=other, not email", false},
		// §3.6.1 h=: the hash algorithms the key allows.
		{"hash not allowed", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "h512", Signer: k.rsa1024}), DKIMPermError, "allows h=sha512, not sha256", false},
		// §3.6.1 t=s: the i= domain must be d= itself, not a subdomain.
		{"t=s, i= in a subdomain", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "ts", Signer: k.rsa2048, Identifier: "alice@mail.example.test"}), DKIMPermError, "t=s", true},
		{"t=y:s, i= in a subdomain", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "tys", Signer: k.rsa2048, Identifier: "alice@mail.example.test"}), DKIMPermError, "t=s", true},
		{"t=s, i= in d=", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "ts", Signer: k.rsa2048, Identifier: "alice@example.test"}), DKIMPass, "", false},
		{"t=s, no i=", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "ts", Signer: k.rsa2048}), DKIMPass, "", false},
		// t=s with i= the go-msgauth workaround reads: the fallback checks it.
		{"t=s, i= quoted-printable in a subdomain", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "ts", Signer: k.rsa2048, Identifier: "alice=40mail.example.test"}), DKIMPermError, "t=s", true},
		// §3.5 a=: the key type is the signature's.
		{"key of another type", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.ed}), DKIMPermError, "a=ed25519-sha256, but the key at s1._domainkey.example.test is rsa", false},
		// §3.2: tag values are case-sensitive, so k=RSA is a key type
		// unknown (§3.6.1), as go-msgauth reads it too.
		{"k=RSA", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "upper", Signer: k.rsa2048}), DKIMPermError, "k=RSA, a key type unknown", false},
		// §3.5 x=, §6.1.1: an expired signature.
		{"expired", sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.rsa2048, Expiration: time.Now().Add(-time.Hour)}), DKIMPermError, "expired", false},
		// §3.5 l= added after signing: the body hash now covers 10 bytes,
		// which were not what was signed (TestDKIMBodyLength has l= signed).
		{"l= added", strings.Replace(good, "DKIM-Signature: ", "DKIM-Signature: l=10; ", 1), DKIMFail, "body hash does not match", false},
		// DKIM hashes bytes: a MIME structure that does not parse is no matter.
		{"broken MIME", sign(t, strings.Replace(core("alice@example.test", "--b1\r\nContent-Type: text/plain\r\n\r\nno closing boundary, no declared boundary\r\n--b2\r\n"), "text/plain; charset=utf-8", "multipart/mixed; boundary=\"unterminated", 1),
			msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: k.rsa2048}), DKIMPass, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := e.verify(t, received(tt.msg, "192.0.2.5"), Options{})
			if len(rep.DKIM) != 1 {
				t.Fatalf("%d results", len(rep.DKIM))
			}
			d := rep.DKIM[0]
			if d.Result != tt.result || !strings.Contains(d.Reason, tt.reason) || (d.Workaround != "") != tt.workaround {
				t.Errorf("result %s reason %q workaround %q detail %q\nwant %s %q workaround %v", d.Result, d.Reason, d.Workaround, d.Detail, tt.result, tt.reason, tt.workaround)
			}
			if d.Domain != "example.test" || d.Selector == "" || d.Algorithm == "" {
				t.Errorf("%+v", d)
			}
			// The reason is ours: go-msgauth's words stand in for it only
			// where the two verifiers disagree.
			if d.Reason != "" && d.Reason == d.Detail {
				t.Errorf("reason from go-msgauth's text: %q", d.Reason)
			}
		})
	}
}

func TestDKIMDetails(t *testing.T) {
	e := newEnv(t)
	msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048})
	d := e.verify(t, msg, Options{}).DKIM[0]
	if d.KeyType != "rsa" || d.KeyBits != 2048 || d.Algorithm != "rsa-sha256" || d.Canonicalization != "relaxed/relaxed" ||
		d.KeyName != "s1._domainkey.example.test" || d.Identity != "@example.test" || d.Signed == "" || len(d.SignedHeaders) != 7 {
		t.Errorf("%+v", d)
	}
	msg = sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "ed", Signer: e.k.ed})
	if d = e.verify(t, msg, Options{}).DKIM[0]; d.KeyType != "ed25519" || d.KeyBits != 256 || d.Algorithm != "ed25519-sha256" {
		t.Errorf("%+v", d)
	}
}

// TestDKIMKeyWeak: a signature made with a 1024-bit RSA key verifies
// (RFC 8301 §3.2: at least 1024 bits), but 2048 is what RFC 8301
// recommends and Gmail, Yahoo and M3AAWG ask for; check says so with
// dkim.key-weak, and verify with dkim-key-weak.
func TestDKIMKeyWeak(t *testing.T) {
	e := newEnv(t)
	weak := func(rep *Report) []Finding {
		var out []Finding
		for _, f := range rep.Findings {
			if f.Code == "dkim-key-weak" {
				out = append(out, f)
			}
		}
		return out
	}
	msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "small", Signer: e.k.rsa1024})
	rep := e.verify(t, msg, Options{})
	if d := rep.DKIM[0]; d.Result != DKIMPass || d.KeyBits != 1024 {
		t.Fatalf("%+v", d)
	}
	if f := weak(rep); len(f) != 1 || f[0].Severity != SeverityWarning ||
		!strings.Contains(f[0].Message, "small._domainkey.example.test is a 1024-bit RSA key") || !strings.Contains(f[0].Message, "2048") {
		t.Errorf("%+v", rep.Findings)
	}
	// A 512-bit key (Go makes none: its public half is published alone):
	// the signature is refused, and the finding is check's
	// dkim.key-too-short.
	msg = sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "short", Signer: e.k.rsa1024})
	rep = e.verify(t, msg, Options{})
	if d := rep.DKIM[0]; d.Result != DKIMPermError || d.KeyBits != 512 || !strings.Contains(d.Reason, "too short") {
		t.Fatalf("%+v", d)
	}
	short := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Code == "dkim-key-too-short" })
	if short < 0 || rep.Findings[short].Severity != SeverityError || !strings.Contains(rep.Findings[short].Message, "512-bit RSA key") || len(weak(rep)) != 0 {
		t.Errorf("%+v", rep.Findings)
	}
	for _, sel := range []string{"s1", "ed"} {
		var signer crypto.Signer = e.k.rsa2048
		if sel == "ed" {
			signer = e.k.ed
		}
		msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: sel, Signer: signer})
		if f := weak(e.verify(t, msg, Options{})); len(f) != 0 {
			t.Errorf("%s: %+v", sel, f)
		}
	}
}

func TestDKIMEmptyBody(t *testing.T) {
	e := newEnv(t)
	// go-msgauth bug 3: a header without the blank line after it. Sign
	// the message with an empty body, then drop the blank line.
	for _, canon := range []msgdkim.Canonicalization{msgdkim.CanonicalizationSimple, msgdkim.CanonicalizationRelaxed} {
		signed := sign(t, core("alice@example.test", ""), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048,
			HeaderCanonicalization: canon, BodyCanonicalization: canon})
		headerOnly := strings.TrimSuffix(signed, "\r\n")
		for name, msg := range map[string]string{"blank line": signed, "header only": headerOnly, "no final line end": strings.TrimSuffix(headerOnly, "\r\n")} {
			rep := e.verify(t, msg, Options{})
			if d := rep.DKIM[0]; d.Result != DKIMPass {
				t.Errorf("%s %s: %+v", canon, name, d)
			}
		}
	}
	if _, err := msgdkim.Verify(strings.NewReader("From: a@example.test\r\nDKIM-Signature: v=1\r\n")); err == nil {
		t.Log("go-msgauth now reads a header alone: the workaround may go")
	}
}

func TestDKIMTwoSignatures(t *testing.T) {
	e := newEnv(t)
	msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048})
	// The ESP signs with a key that is not the one it publishes.
	msg = sign(t, msg, msgdkim.SignOptions{Domain: "esp.test", Selector: "k1", Signer: e.k.rsa1024,
		HeaderKeys: []string{"From", "To", "Subject", "Date"}})
	rep := e.verify(t, received(msg, "192.0.2.5"), Options{})
	if len(rep.DKIM) != 2 || rep.DKIM[0].Domain != "esp.test" || rep.DKIM[0].Result != DKIMFail || rep.DKIM[1].Domain != "example.test" || rep.DKIM[1].Result != DKIMPass {
		t.Fatalf("%+v", rep.DKIM)
	}
	if rep.DMARC.Result != "pass" || !rep.DMARC.AlignedDKIM || !rep.Pass() {
		t.Errorf("dmarc %+v", rep.DMARC)
	}
}

// TestFallbackAgrees checks the verifier used for the i= workaround
// against go-msgauth on signatures both can read.
func TestFallbackAgrees(t *testing.T) {
	e := newEnv(t)
	canons := []msgdkim.Canonicalization{msgdkim.CanonicalizationSimple, msgdkim.CanonicalizationRelaxed}
	bodies := []string{body, "", "\r\n\r\n", "trailing  spaces \t \r\n\t leading tab\r\nno final line end", "x\r\n \r\n\r\n"}
	n := 0
	for _, hc := range canons {
		for _, bc := range canons {
			for _, b := range bodies {
				for _, sel := range []string{"s1", "ed"} {
					var signer crypto.Signer = e.k.rsa2048
					if sel == "ed" {
						signer = e.k.ed
					}
					signed := sign(t, core("alice@example.test", b), msgdkim.SignOptions{Domain: "example.test", Selector: sel, Signer: signer, HeaderCanonicalization: hc, BodyCanonicalization: bc})
					for _, msg := range []string{signed, strings.Replace(signed, "Alice", "Mallory", 1), signed + "appended\r\n"} {
						m, err := parseMessage([]byte(msg))
						if err != nil {
							t.Fatal(err)
						}
						keys := &keyLookups{ctx: context.Background(), r: e.r, answers: map[string]resolver.Answer{}}
						f := m.all("DKIM-Signature")[0]
						sig, err := ParseSignature(f.value)
						if err != nil {
							t.Fatal(err)
						}
						ours, reason, _ := verifyFallback(m, f, sig, keys)
						theirs := e.verify(t, msg, Options{}).DKIM[0]
						if ours != theirs.Result {
							t.Errorf("%s/%s body %q: fallback %s (%s), go-msgauth %s (%s)", hc, bc, b, ours, reason, theirs.Result, theirs.Detail)
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d messages compared", n)
}

func TestSPF(t *testing.T) {
	e := newEnv(t)
	msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048})
	for _, tt := range []struct {
		name            string
		o               Options
		result, domain  string
		ipSource, helo  string
		heloResult      string
		mailFromSource  string
		dmarcSPFAligned bool
	}{
		// RFC 7208 §2.6.3, §2.6.5, §2.6.4 through the zone's records.
		{"pass", Options{IP: ip("192.0.2.5")}, "pass", "example.test", "--ip", "mail.example.test", "none", "Return-Path", true},
		{"softfail", Options{IP: ip("192.0.2.200")}, "softfail", "example.test", "--ip", "", "", "Return-Path", false},
		{"fail", Options{IP: ip("203.0.113.9"), MailFrom: "bounce@bounce.example.test"}, "fail", "bounce.example.test", "--ip", "", "", "--mail-from", false},
		// Relaxed alignment (RFC 9989 §4.4.2): a MAIL FROM subdomain aligns.
		{"subdomain pass", Options{IP: ip("198.51.100.7"), MailFrom: "<bounce@bounce.example.test>", HELO: "esp.test"}, "pass", "bounce.example.test", "--ip", "esp.test", "fail", "--mail-from", true},
		// §2.4: the null reverse-path checks the HELO identity.
		{"null sender", Options{IP: ip("203.0.113.9"), MailFrom: "<>", HELO: "esp.test"}, "pass", "esp.test", "--ip", "esp.test", "", "--mail-from", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := e.verify(t, received(msg, "192.0.2.5"), tt.o)
			s := rep.SPF
			heloResult := ""
			if s.HELOResult != nil {
				heloResult = s.HELOResult.Result
			}
			if s.Result != tt.result || s.Domain != tt.domain || s.IPSource != tt.ipSource || s.HELO != tt.helo || heloResult != tt.heloResult ||
				s.MailFromSource != tt.mailFromSource || rep.DMARC.AlignedSPF != tt.dmarcSPFAligned {
				t.Errorf("%+v (helo %v), dmarc aligned spf %v", s, s.HELOResult, rep.DMARC.AlignedSPF)
			}
		})
	}
}

// TestReceivedChainIP: without --ip, SPF is checked for the address the
// receiving side recorded, and says where it found it.
func TestReceivedChainIP(t *testing.T) {
	e := newEnv(t)
	msg := received(sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048}), "192.0.2.5")
	arGmail := "Authentication-Results: mx.receiver.test;\r\n       dkim=pass header.i=@example.test header.s=s1 header.b=abc;\r\n       spf=pass (receiver.test: domain of bounce@example.test designates 192.0.2.6 as permitted sender) smtp.mailfrom=bounce@example.test;\r\n       dmarc=pass (p=REJECT sp=QUARANTINE dis=NONE) header.from=example.test\r\n"
	for _, tt := range []struct {
		name, fields, ip, source, helo string
	}{
		{"Received-SPF", "Received-SPF: pass (mx.receiver.test: 192.0.2.7 is authorized) client-ip=192.0.2.7; envelope-from=\"bounce@example.test\"; helo=out.example.test;\r\n" + arGmail,
			"192.0.2.7", "Received-SPF client-ip=", "out.example.test"},
		// RFC 7208 §9.1: each hop that checks SPF prepends its field. A
		// hop inside the receiving side (a local relay, fetchmail into a
		// local MTA) checks a loopback or private address: the field
		// of the hop that took the message from the Internet is below.
		{"Received-SPF of an internal hop above", "Received-SPF: none (mailhost.local: 127.0.0.1 is neither permitted nor denied) client-ip=127.0.0.1; helo=localhost;\r\n" +
			"Received-SPF: softfail (relay.local) client-ip=10.1.2.3; helo=relay.local;\r\n" +
			"Received-SPF: pass (mx.receiver.test: 192.0.2.7 is authorized) client-ip=192.0.2.7; envelope-from=\"bounce@example.test\"; helo=out.example.test;\r\n" + arGmail,
			"192.0.2.7", "Received-SPF client-ip= (field 3; the fields above record internal hops)", "out.example.test"},
		{"spf comment", arGmail, "192.0.2.6", "the spf result's comment in the Authentication-Results of mx.receiver.test", ""},
		{"iprev", "Authentication-Results: mx.receiver.test; iprev=pass policy.iprev=192.0.2.8; spf=pass smtp.mailfrom=example.test smtp.helo=mail.example.test\r\n",
			"192.0.2.8", "policy.iprev=192.0.2.8 in the Authentication-Results of mx.receiver.test", "mail.example.test"},
		{"microsoft", "Authentication-Results: spf=pass (sender IP is 2001:db8::25)\r\n smtp.mailfrom=example.test; dkim=pass (signature was verified)\r\n header.d=example.test;dmarc=pass action=none\r\n header.from=example.test;compauth=pass reason=100\r\n",
			"2001:db8::25", "the spf result's comment in the Authentication-Results of a receiver that gives no authserv-id", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := e.verify(t, tt.fields+msg, Options{})
			if rep.SPF.IP != tt.ip || rep.SPF.IPSource != tt.source || rep.SPF.NotEvaluated != "" || (tt.helo != "" && rep.SPF.HELO != tt.helo) {
				t.Errorf("%+v", rep.SPF)
			}
		})
	}
	// Nothing recorded: not evaluated, and the chain still listed.
	rep := e.verify(t, msg, Options{})
	if rep.SPF.Result != "" || !strings.Contains(rep.SPF.NotEvaluated, "--ip") || len(rep.Received) != 2 ||
		rep.Received[0].IP != ip("192.0.2.5") || !rep.Received[0].Public || rep.Received[1].Public {
		t.Errorf("spf %+v received %+v", rep.SPF, rep.Received)
	}
	if rep.SPF.HELO != "" || rep.SPF.MailFrom != "bounce@example.test" {
		t.Errorf("helo %q mail from %q", rep.SPF.HELO, rep.SPF.MailFrom)
	}
	// DMARC still passes on DKIM, and says SPF was not counted only when
	// that matters.
	if !rep.Pass() || strings.Contains(rep.DMARC.Reason, "not evaluated") {
		t.Errorf("dmarc %+v", rep.DMARC)
	}
}

// TestReceivedSPFOfEarlierHop: a mailing list checked SPF for the
// author's server and wrote a Received-SPF field; the receiving side,
// which took the message from the list, wrote none. RFC 7208 §9.1: each
// receiver prepends its own field, so a field below the Received field
// of another public hop is an earlier hop's (or the sender's, forged),
// and its client-ip is not the address the receiving side saw.
func TestReceivedSPFOfEarlierHop(t *testing.T) {
	e := newEnv(t)
	msg := "Authentication-Results: mx.receiver.test;\r\n" +
		"\tspf=pass smtp.mailfrom=list-bounces@bounce.example.test\r\n" +
		"Return-Path: <list-bounces@bounce.example.test>\r\n" +
		"Received: from lists.example.test (lists.example.test [198.51.100.20])\r\n" +
		"\tby mx.receiver.test (Postfix) with ESMTPS id 7Qa1; Tue, 01 Dec 2026 10:00:02 +0000\r\n" +
		"Received-SPF: pass (lists.example.test: 192.0.2.5 is authorized) client-ip=192.0.2.5; envelope-from=\"bounce@example.test\"; helo=mail.example.test;\r\n" +
		"Received: from mail.example.test (mail.example.test [192.0.2.5])\r\n" +
		"\tby lists.example.test (Postfix) with ESMTPS id 4Nx2; Tue, 01 Dec 2026 10:00:01 +0000\r\n" +
		sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048})
	rep := e.verify(t, msg, Options{})
	if rep.ReceivedSPF != nil || rep.SPF.IP != "" || rep.SPF.NotEvaluated == "" {
		t.Errorf("received-spf %+v, spf %+v", rep.ReceivedSPF, rep.SPF)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Code == "received-spf-other-hop" && strings.Contains(f.Message, "198.51.100.20") {
			found = true
		}
	}
	if !found {
		t.Errorf("no received-spf-other-hop finding in %+v", rep.Findings)
	}
	// The receiving side's own field, above it, is still the one used.
	rep = e.verify(t, "Received-SPF: pass (mx.receiver.test) client-ip=198.51.100.20; helo=lists.example.test;\r\n"+msg, Options{})
	if rep.SPF.IP != "198.51.100.20" || rep.SPF.Result != "pass" || rep.SPF.HELO != "lists.example.test" {
		t.Errorf("spf %+v", rep.SPF)
	}
}

func TestDMARC(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name, from, mailFrom string
		ip                   string
		signDomain, sel      string
		result, applies      string
		policy, disposition  string
		testing, nonExistent bool
	}{
		// RFC 9989 §4.10.1: no record, no DMARC.
		{"none", "a@nodmarc.test", "a@nodmarc.test", "192.0.2.5", "", "", "none", "", "", "", false, false},
		// §4.7 p=reject, nothing aligned passes.
		{"reject", "a@example.test", "a@esp.test", "203.0.113.5", "", "", "fail", "p", "reject", "reject", false, false},
		// §4.7 sp=quarantine for an existing subdomain.
		{"quarantine (sp)", "a@news.example.test", "a@esp.test", "203.0.113.5", "", "", "fail", "sp", "quarantine", "quarantine", false, false},
		// §4.7 np for a subdomain with no A, AAAA or MX.
		{"np", "a@ghost.example.test", "a@esp.test", "203.0.113.5", "", "", "fail", "np", "reject", "reject", false, true},
		// §4.7 t=y: the policy one level below p applies to failing mail.
		{"t=y", "a@testing.test", "a@testing.test", "192.0.2.5", "", "", "fail", "p", "reject", "quarantine", true, false},
		{"p=none", "a@monitor.test", "a@esp.test", "203.0.113.5", "", "", "fail", "p", "none", "none", false, false},
		// §4.4.1 strict: d= the organizational domain aligns, a subdomain
		// would not; §4.4.2 strict: MAIL FROM in a subdomain does not.
		{"strict dkim", "a@strict.test", "a@bounce.strict.test", "198.51.100.1", "strict.test", "s1", "pass", "p", "quarantine", "none", false, false},
		{"strict spf", "a@strict.test", "a@bounce.strict.test", "198.51.100.1", "", "", "fail", "p", "quarantine", "quarantine", false, false},
		// Relaxed: MAIL FROM in a subdomain aligns.
		{"relaxed spf", "a@example.test", "a@bounce.example.test", "198.51.100.1", "", "", "pass", "p", "reject", "none", false, false},
		// A pass for another organization's domain does not align.
		{"unaligned dkim", "a@example.test", "a@esp.test", "203.0.113.5", "esp.test", "k1", "fail", "p", "reject", "reject", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := core(tt.from, body)
			if tt.signDomain != "" {
				signer := e.k.rsa1024
				if tt.signDomain == "esp.test" {
					signer = e.k.other
				}
				msg = sign(t, msg, msgdkim.SignOptions{Domain: tt.signDomain, Selector: tt.sel, Signer: signer})
			}
			rep := e.verify(t, msg, Options{IP: ip(tt.ip), MailFrom: tt.mailFrom, HELO: "mail.example.test"})
			d := rep.DMARC
			if d.Result != tt.result || d.Applies != tt.applies || d.Policy != tt.policy || d.Disposition != tt.disposition || d.Testing != tt.testing || d.NonExistent != tt.nonExistent {
				t.Errorf("%+v\nspf %+v dkim %+v", d, rep.SPF, rep.DKIM)
			}
			if d.FromDomain != strings.SplitN(tt.from, "@", 2)[1] || d.Reason == "" {
				t.Errorf("%+v", d)
			}
		})
	}
}

func TestAuthResultsComparison(t *testing.T) {
	e := newEnv(t)
	signed := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048})
	sig, _ := ParseSignature(strings.SplitN(strings.SplitN(signed, ":", 2)[1], "\r\nFrom:", 2)[0])
	msg := received(signed, "192.0.2.200")
	// Ours: dkim pass, spf softfail (192.0.2.200), dmarc pass. The
	// receiving side's topmost field is another host's; the one of
	// mx.receiver.test, the top Received's "by", is the one compared.
	fields := "Authentication-Results: spam-filter.receiver.test; dkim=fail header.d=example.test\r\n" +
		"Authentication-Results: mx.receiver.test 1;\r\n" +
		"\tdkim=fail (bad signature; body hash mismatch) header.d=example.test header.s=s1 header.b=" + sig.B[:8] + ";\r\n" +
		"\tdkim=pass header.d=esp.test header.s=k1;\r\n" +
		"\tspf=pass (sender IP is 192.0.2.200) smtp.mailfrom=bounce@example.test;\r\n" +
		"\tdmarc=pass (p=reject dis=none) header.from=example.test\r\n"
	rep := e.verify(t, fields+msg, Options{})
	ar := rep.AuthResults
	if ar == nil || ar.AuthservID != "mx.receiver.test" || ar.Index != 1 || !strings.Contains(ar.Chosen, "top Received") || len(ar.Methods) != 4 {
		t.Fatalf("%+v", ar)
	}
	want := []Comparison{
		{Method: "dkim", Subject: "example.test s=s1", Ours: "pass", Theirs: "fail"},
		{Method: "dkim", Subject: "esp.test s=k1", Ours: "no such signature", Theirs: "pass"},
		{Method: "spf", Subject: "example.test", Ours: "softfail", Theirs: "pass"},
		{Method: "dmarc", Subject: "example.test", Ours: "pass", Theirs: "pass", Agree: true},
	}
	if len(rep.Comparison) != len(want) {
		t.Fatalf("%+v", rep.Comparison)
	}
	for i, w := range want {
		c := rep.Comparison[i]
		if c.Method != w.Method || c.Subject != w.Subject || c.Ours != w.Ours || c.Theirs != w.Theirs || c.Agree != w.Agree {
			t.Errorf("comparison %d: %+v, want %+v", i, c, w)
		}
	}
	disagree := 0
	for _, f := range rep.Findings {
		if f.Code == "authres-disagree" {
			disagree++
		}
	}
	if disagree != 3 {
		t.Errorf("%d disagreements in %+v", disagree, rep.Findings)
	}
	// No field names the receiving host: the topmost is used, and says so.
	rep = e.verify(t, strings.Replace(fields, "mx.receiver.test 1;", "other.test;", 1)+msg, Options{})
	if rep.AuthResults.Index != 0 || !strings.Contains(rep.AuthResults.Chosen, "the topmost") {
		t.Errorf("%+v", rep.AuthResults)
	}
}

// TestAuthResultsPastInternalHops: Gmail's top Received field is an
// internal hop, "by 2002:a05:...", and its Authentication-Results field
// names the host of the field below, mx.google.com, which took the
// message from the Internet. That field is the receiving side's (RFC 8601
// §5: the authserv-id names the receiving side's host), and is chosen as
// such, not as the topmost for want of a better reason.
func TestAuthResultsPastInternalHops(t *testing.T) {
	e := newEnv(t)
	msg := "Received: by 2002:a05:7300:7a8b:b0:1a2:3b4c:5d6e with SMTP id abc;\r\n" +
		"        Tue, 1 Dec 2026 02:00:02 -0800 (PST)\r\n" +
		"Return-Path: <bounce@example.test>\r\n" +
		"Received: from lists.example.test (lists.example.test. [198.51.100.20])\r\n" +
		"        by mx.receiver.test with ESMTPS id x1\r\n" +
		"        for <bob@receiver.test>; Tue, 01 Dec 2026 02:00:01 -0800 (PST)\r\n" +
		"Authentication-Results: mx.receiver.test; spf=pass smtp.mailfrom=bounce@example.test\r\n" +
		"Received: from mail.example.test (mail.example.test [192.0.2.5])\r\n" +
		"\tby lists.example.test (Postfix) with ESMTPS id 4Nx2; Tue, 01 Dec 2026 10:00:00 +0000\r\n" +
		"Authentication-Results: lists.example.test; spf=pass smtp.mailfrom=bounce@example.test\r\n" +
		core("alice@example.test", body)
	ar := e.verify(t, msg, Options{}).AuthResults
	if ar == nil || ar.AuthservID != "mx.receiver.test" || ar.Index != 0 || !strings.Contains(ar.Chosen, "Received field 2") {
		t.Errorf("%+v", ar)
	}
}

func TestFromFindings(t *testing.T) {
	e := newEnv(t)
	codes := func(rep *Report) string {
		var c []string
		for _, f := range rep.Findings {
			c = append(c, f.Code)
		}
		return strings.Join(c, " ")
	}
	msg := core("alice@example.test", body)
	for _, tt := range []struct {
		name, msg, code, domain string
	}{
		{"no From", received(strings.Replace(msg, "From: Alice <alice@example.test>\r\n", "", 1), "192.0.2.5"), "from-missing", ""},
		{"two From fields", "From: mallory@evil.test\r\n" + msg, "from-several-fields", "evil.test"},
		{"two domains", strings.Replace(msg, "<alice@example.test>", "<alice@example.test>, eve@evil.test", 1), "from-several-domains", "example.test"},
		{"unparsable", strings.Replace(msg, "Alice <alice@example.test>", "Alice alice@example.test <<>", 1), "from-syntax", "example.test"},
		{"encoded name", strings.Replace(msg, "Alice <", "=?koi8-r?B?4czJ08E=?= <", 1), "", "example.test"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := e.verify(t, tt.msg, Options{IP: ip("192.0.2.5")})
			if tt.code != "" && !strings.Contains(codes(rep), tt.code) || rep.From.Domain != tt.domain {
				t.Errorf("findings %s, from %+v", codes(rep), rep.From)
			}
			if tt.domain == "" && rep.DMARC.Result != "none" {
				t.Errorf("dmarc %+v", rep.DMARC)
			}
		})
	}
}

// TestNotAMessage: an input that is not an RFC 5322 message is an error
// that says why, not a verdict.
func TestNotAMessage(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(core("alice@example.test", body)))
	zw.Close()
	noise := make([]byte, 4096)
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	textNoNUL := bytes.Map(func(r rune) rune {
		if r == 0 {
			return 'x'
		}
		return r
	}, noise)
	for _, tt := range []struct {
		name, in, why string
	}{
		{"empty", "", "empty"},
		{"blank", "   \n", "empty"},
		{"body only", "\r\nbody only", "first line is blank"},
		{"no colon", "just some text without a colon\n", "first line is not a header field"},
		// RFC 5322 §3.6.8: a field name has no space.
		{"prose with a colon", "Dear team, note the following: the meeting moved.\n", "first line is not a header field"},
		// §3.6: a message has a From field; a text that happens to start
		// with a word and a colon has none, nor trace fields.
		{"notes with a colon", "Note: buy milk\nand eggs\n\nand bread\n", "no From, Received or DKIM-Signature"},
		{"gzip", gz.String(), "gzip-compressed: decompress it first"},
		{"random bytes", string(noise), "not a message"},
		{"random bytes without NUL", string(textNoNUL), "not a message"},
		{"NUL", "From: a@example.test\r\n\r\nbody\x00\r\n", "NUL byte at offset 28"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Message(context.Background(), []byte(tt.in), Options{Resolver: resolver.NewZone(nil)})
			if err == nil {
				t.Fatalf("read as a message: %+v", rep.DMARC)
			}
			if !errors.Is(err, ErrNotMessage) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q, want %q", err, tt.why)
			}
		})
	}
	// A header alone is a message, and so is one without From but with
	// the receiving side's trace.
	for _, in := range []string{"From: a@example.test\n", "Received: from a by b; Tue, 01 Dec 2026 10:00:01 +0000\r\nSubject: x\r\n\r\n", "X-Mailer : old syntax (RFC 5322 §4.5)\r\nFrom: a@example.test\r\n\r\n"} {
		if _, err := Message(context.Background(), []byte(in), Options{Resolver: resolver.NewZone(nil)}); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestLFLineEnds(t *testing.T) {
	e := newEnv(t)
	msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048})
	rep := e.verify(t, strings.ReplaceAll(msg, "\r\n", "\n"), Options{IP: ip("192.0.2.5")})
	if rep.DKIM[0].Result != DKIMPass || !rep.Pass() {
		t.Errorf("%+v", rep.DKIM)
	}
}

// TestByteOrderMark: editors on Windows save a message with a UTF-8 byte
// order mark before its first field. It is no part of the message that
// was signed (RFC 5322 §2.1: a message is US-ASCII lines), so it is
// dropped, and said so, rather than the message refused.
func TestByteOrderMark(t *testing.T) {
	e := newEnv(t)
	msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048})
	for name, in := range map[string]string{"CRLF": msg, "LF": strings.ReplaceAll(msg, "\r\n", "\n")} {
		rep := e.verify(t, "\ufeff"+in, Options{IP: ip("192.0.2.5")})
		if len(rep.DKIM) != 1 || rep.DKIM[0].Result != DKIMPass || !rep.Pass() || rep.From.Domain != "example.test" {
			t.Errorf("%s: %+v %+v", name, rep.From, rep.DKIM)
		}
		if !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Code == "byte-order-mark" }) {
			t.Errorf("%s: no byte-order-mark finding in %+v", name, rep.Findings)
		}
	}
}

func TestWriteText(t *testing.T) {
	e := newEnv(t)
	msg := received(sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048}), "192.0.2.5")
	rep := e.verify(t, "Received-SPF: pass client-ip=192.0.2.5; helo=mail.example.test\r\n"+msg, Options{})
	var b bytes.Buffer
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"VERDICT  DMARC pass", "policy p=reject at example.test", "pass  example.test  s=s1  rsa-sha256  rsa 2048-bit  relaxed/relaxed",
		"pass  example.test  for 192.0.2.5 (Received-SPF client-ip=)", "DKIM example.test pass: the domain aligns (relaxed)", "[192.0.2.5] <- SPF checked", "[127.0.0.1] (not public)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without asking")
	}
}

// FuzzMessage feeds any bytes to the whole verification, with a DNS that
// refuses every question: nothing may panic.
func FuzzMessage(f *testing.F) {
	f.Add([]byte(core("alice@example.test", body)))
	f.Add([]byte(received("DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=s1; h=from; bh=AA==; b=AA==\r\n"+core("a@example.test", ""), "192.0.2.1")))
	f.Add([]byte("From: a@b\nDKIM-Signature: v=1; i=x=40B\n"))
	f.Add([]byte("Authentication-Results: ;;;\r\nReceived-SPF: pass client-ip=::1\r\nFrom: <>\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Message(context.Background(), data, Options{Resolver: resolver.NewZone(nil)})
		if err == nil {
			var b bytes.Buffer
			if err := rep.WriteText(&b, false); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestUnsignedJSON(t *testing.T) {
	e := newEnv(t)
	rep := e.verify(t, "Return-Path: <>\r\n"+core("alice@example.test", body), Options{IP: ip("192.0.2.5"), HELO: "example.test"})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	// A bounce's null sender checks the HELO identity (RFC 7208 §2.4).
	if !bytes.Contains(b, []byte(`"dkim":[]`)) || rep.SPF.Domain != "example.test" || rep.SPF.Result != "pass" || rep.SPF.MailFromSource != "Return-Path" {
		t.Errorf("%s", b)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || f.Code == "dkim-none"
	}
	if !found {
		t.Errorf("findings %+v", rep.Findings)
	}
}

// TestMsgauthRefusesIdentity pins the go-msgauth misreading of i= that
// judge works around: msgauthRefusesIdentity must say, for each i=, what
// go-msgauth does. When an upgrade of go-msgauth changes this, the
// predicate (and the workaround) must follow.
func TestMsgauthRefusesIdentity(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		identifier string
		refused    bool
	}{
		{"", false},
		{"alice@example.test", false},
		{"alice@mail.example.test", false},
		// RFC 4343: domain names compare without regard to case.
		{"Alice@Mail.EXAMPLE.Test", true},
		// RFC 6376 §2.11: i= is dkim-quoted-printable.
		{"alice=40example.test", true},
	} {
		msg := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048, Identifier: tt.identifier})
		m, err := parseMessage([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := ParseSignature(m.all("DKIM-Signature")[0].value)
		if err != nil {
			t.Fatal(err)
		}
		keys := &keyLookups{ctx: context.Background(), r: e.r, answers: map[string]resolver.Answer{}}
		verifs, err := msgdkim.VerifyWithOptions(strings.NewReader(msg), &msgdkim.VerifyOptions{LookupTXT: keys.lookupTXT})
		if err != nil || len(verifs) != 1 {
			t.Fatal(err)
		}
		theirs := verifs[0].Err != nil && msgdkim.IsPermFail(verifs[0].Err) && verifs[0].Err.Error() == "dkim: domain mismatch"
		if theirs != tt.refused || sig.msgauthRefusesIdentity() != tt.refused {
			t.Errorf("i=%q: go-msgauth %v, predicate %v, want %v", tt.identifier, verifs[0].Err, sig.msgauthRefusesIdentity(), tt.refused)
		}
	}
}

// TestDMARCUndetermined: with no aligned DKIM pass and SPF not evaluated
// (no address known), DMARC is SPF's to decide: unknown, not fail, unless
// the SPF domain could not align even with a pass (RFC 9989 §4.4.2).
func TestDMARCUndetermined(t *testing.T) {
	e := newEnv(t)
	unsigned := received(core("alice@example.test", body), "192.0.2.5")
	rep := e.verify(t, unsigned, Options{})
	d := rep.DMARC
	if d.Result != DMARCUnknown || rep.Pass() || d.Disposition != "" || d.Policy != "reject" ||
		!strings.Contains(d.Reason, "hinges on SPF") || !strings.Contains(d.Reason, "--ip") {
		t.Errorf("%+v", d)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "VERDICT  DMARC unknown") || strings.Contains(out, "receivers are asked to") {
		t.Errorf("%s", out)
	}
	// The envelope sender is another organization's: no SPF result could
	// align, so the fail stands.
	rep = e.verify(t, strings.Replace(unsigned, "bounce@example.test", "bounce@esp.test", 1), Options{})
	if d := rep.DMARC; d.Result != "fail" || d.Disposition != "reject" || !strings.Contains(d.Reason, "esp.test does not align") {
		t.Errorf("%+v", d)
	}
	// With the address given, SPF decides.
	if rep = e.verify(t, unsigned, Options{IP: ip("203.0.113.9")}); rep.DMARC.Result != "fail" {
		t.Errorf("%+v", rep.DMARC)
	}
	if rep = e.verify(t, unsigned, Options{IP: ip("192.0.2.5")}); rep.DMARC.Result != "pass" {
		t.Errorf("%+v", rep.DMARC)
	}
	// Beside the receiving side's dmarc=pass, ours is undetermined, not a
	// disagreement.
	rep = e.verify(t, "Authentication-Results: mx.receiver.test; spf=pass smtp.mailfrom=bounce@example.test; dmarc=pass header.from=example.test\r\n"+unsigned, Options{})
	for _, f := range rep.Findings {
		if f.Code == "authres-disagree" && strings.HasPrefix(f.Message, "dmarc") {
			t.Errorf("%+v", f)
		}
	}
}

// TestHELOOtherHost: the HELO name the receiving side recorded belongs to
// the address it recorded; --ip naming another host does not take it.
func TestHELOOtherHost(t *testing.T) {
	e := newEnv(t)
	msg := "Received-SPF: pass client-ip=192.0.2.7; envelope-from=\"bounce@example.test\"; helo=out.example.test;\r\n" +
		received(sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "s1", Signer: e.k.rsa2048}), "192.0.2.5")
	hasFinding := func(rep *Report) bool {
		for _, f := range rep.Findings {
			if f.Code == "helo-other-host" {
				return strings.Contains(f.Message, "out.example.test") && strings.Contains(f.Message, "--helo")
			}
		}
		return false
	}
	for _, tt := range []struct {
		name       string
		o          Options
		helo, from string
		finding    bool
	}{
		{"recorded address", Options{}, "out.example.test", "Received-SPF helo=", false},
		{"--ip the recorded address", Options{IP: ip("192.0.2.7")}, "out.example.test", "Received-SPF helo=", false},
		// The Received field of 192.0.2.5 gives that host's own HELO.
		{"--ip in the Received chain", Options{IP: ip("192.0.2.5")}, "mail.example.test", "Received field 1", true},
		{"--ip elsewhere", Options{IP: ip("203.0.113.9")}, "", "", true},
		{"--helo", Options{IP: ip("203.0.113.9"), HELO: "esp.test"}, "esp.test", "--helo", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := e.verify(t, msg, tt.o)
			if rep.SPF.HELO != tt.helo || rep.SPF.HELOSource != tt.from || hasFinding(rep) != tt.finding {
				t.Errorf("helo %q (%s), finding %v; findings %+v", rep.SPF.HELO, rep.SPF.HELOSource, hasFinding(rep), rep.Findings)
			}
		})
	}
}

// TestWriteTextWithout: what the message lacks is said in words, not as
// empty values.
func TestWriteTextWithout(t *testing.T) {
	e := newEnv(t)
	text := func(rep *Report) string {
		var b bytes.Buffer
		if err := rep.WriteText(&b, false); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	// A revoked key has no size.
	revoked := sign(t, core("alice@example.test", body), msgdkim.SignOptions{Domain: "example.test", Selector: "revoked", Signer: e.k.rsa1024})
	out := text(e.verify(t, revoked, Options{IP: ip("192.0.2.5")}))
	if strings.Contains(out, "0-bit") || !strings.Contains(out, "s=revoked  rsa-sha256  rsa  relaxed/relaxed") {
		t.Errorf("%s", out)
	}
	// No From: no author domain, no dmarc row beside the receiving side's.
	noFrom := "Authentication-Results: mx.receiver.test; spf=pass smtp.mailfrom=bounce@example.test; dmarc=none\r\n" +
		received(strings.Replace(core("alice@example.test", body), "From: Alice <alice@example.test>\r\n", "", 1), "192.0.2.5")
	rep := e.verify(t, noFrom, Options{IP: ip("192.0.2.5")})
	out = text(rep)
	if !strings.Contains(rep.DMARC.Reason, "the message has no From field") || strings.Contains(out, `("")`) ||
		!strings.Contains(out, "From: none (the message has no From field)") || !strings.Contains(out, "none  no author domain") {
		t.Errorf("%s", out)
	}
	for _, c := range rep.Comparison {
		if c.Method == "dmarc" {
			t.Errorf("dmarc row without an author domain: %+v", c)
		}
	}
}

// signLength signs msg as go-msgauth cannot, with l= (RFC 6376 §3.5): the
// body hash covers the first l bytes of the canonicalized body (§3.4.5).
func signLength(t *testing.T, msg string, key *rsa.PrivateKey, l int) string {
	t.Helper()
	return signTags(t, msg, key, "l="+strconv.Itoa(l)+"; ", l)
}

// signTags signs msg with s1 of example.test, relaxed/relaxed, as
// go-msgauth cannot: with the tags of extra ("l=20; ", "z=...; ") before
// h=, and the body hash over the first l bytes of the canonicalized body,
// or all of it when l < 0.
func signTags(t *testing.T, msg string, key *rsa.PrivateKey, extra string, l int) string {
	t.Helper()
	header, bdy, _ := strings.Cut(msg, "\r\n\r\n")
	cb := canonicalBody([]byte(bdy), "relaxed")
	if l > len(cb) {
		t.Fatalf("l=%d is longer than the body (%d)", l, len(cb))
	}
	if l >= 0 {
		cb = cb[:l]
	}
	bh := sha256.Sum256(cb)
	sigField := "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=s1;\r\n" +
		"\t" + extra + "h=From:To:Subject:Date; bh=" + base64.StdEncoding.EncodeToString(bh[:]) + "; b="
	unsigned := sigField + "\r\n" + header + "\r\n\r\n" + bdy
	m, err := parseMessage([]byte(unsigned))
	if err != nil {
		t.Fatal(err)
	}
	f := m.all("DKIM-Signature")[0]
	sig, err := ParseSignature(f.value)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, headerHash(m, f, sig))
	if err != nil {
		t.Fatal(err)
	}
	return sigField + base64.StdEncoding.EncodeToString(b) + "\r\n" + header + "\r\n\r\n" + bdy
}

// TestDKIMBodyLength: a signature with l= is refused by policy only when
// it verifies (RFC 8601 §2.7.1: "policy" is a signature that verified but
// is not accepted); one whose signed part of the body or whose header was
// changed fails like any other (RFC 6376 §6.1.3), and l= longer than the
// body cannot verify either.
func TestDKIMBodyLength(t *testing.T) {
	e := newEnv(t)
	good := signLength(t, core("alice@example.test", body), e.k.rsa2048, 20)
	for _, tt := range []struct {
		name, msg, result, reason string
	}{
		{"verifies", good, DKIMPolicy, "l=20 signs only"},
		// Text after the signed length: what l= lets through, by policy.
		{"text appended", good + "Click here: http://attacker.test/\r\n", DKIMPolicy, "l=20 signs only"},
		// Within the signed length: the body hash does not match.
		{"signed part changed", strings.Replace(good, "Hello Bob", "Hello Eve", 1), DKIMFail, "body hash does not match"},
		{"header changed", strings.Replace(good, "The quarterly figures", "Your invoice", 1), DKIMFail, "signature does not verify"},
		// The body cut short of l=: not what was signed.
		{"body shorter than l=", strings.Replace(good, body, "Hello\r\n", 1), DKIMFail, "longer than the body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := e.verify(t, received(tt.msg, "192.0.2.5"), Options{}).DKIM[0]
			if d.Result != tt.result || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("result %s reason %q detail %q\nwant %s %q", d.Result, d.Reason, d.Detail, tt.result, tt.reason)
			}
		})
	}
}

// TestDKIMCopiedHeaders: RFC 6376 §3.5 z= copies header fields, in
// dkim-quoted-printable, so "Bob=20<bob@...>" holds "b=". §3.7 empties
// the value of the b= tag alone; go-msgauth v0.7 empties every "b=" it
// finds (the regular expression (b\s*=)[^;]+), z='s included, and so fails
// the signature: it is verified here instead.
func TestDKIMCopiedHeaders(t *testing.T) {
	e := newEnv(t)
	msg := core("alice@example.test", body)
	copied := signTags(t, msg, e.k.rsa2048, "z=From:Alice=20<alice@example.test>|To:Bob=20<bob@receiver.test>;\r\n\t", -1)
	for _, tt := range []struct {
		name, msg, result, reason string
		workaround                bool
	}{
		// The signer is right: without "b=" in z=, go-msgauth verifies it.
		{"z= without b=", signTags(t, msg, e.k.rsa2048, "z=From:Alice=20<alice@example.test>;\r\n\t", -1), DKIMPass, "", false},
		{"z= with b=", copied, DKIMPass, "", true},
		{"z= with b=, header modified", strings.Replace(copied, "The quarterly figures", "Your invoice", 1), DKIMFail, "signature does not verify", true},
		{"z= with b=, body modified", strings.Replace(copied, "Hello Bob", "Hello Eve", 1), DKIMFail, "body hash does not match", true},
		// The subject as copied: "Club=20news".
		{"z= with b= in a subject", signTags(t, strings.Replace(msg, "The quarterly figures", "Club news", 1), e.k.rsa2048, "z=Subject:Club=20news; ", -1), DKIMPass, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := e.verify(t, received(tt.msg, "192.0.2.5"), Options{}).DKIM[0]
			if d.Result != tt.result || !strings.Contains(d.Reason, tt.reason) || (d.Workaround != "") != tt.workaround {
				t.Errorf("result %s reason %q workaround %q detail %q\nwant %s %q workaround %v", d.Result, d.Reason, d.Workaround, d.Detail, tt.result, tt.reason, tt.workaround)
			}
		})
	}
	// The misreading worked around: when an upgrade of go-msgauth
	// verifies the signature, the workaround may go.
	keys := &keyLookups{ctx: context.Background(), r: e.r, answers: map[string]resolver.Answer{}}
	verifs, err := msgdkim.VerifyWithOptions(strings.NewReader(copied), &msgdkim.VerifyOptions{LookupTXT: keys.lookupTXT})
	if err != nil || len(verifs) != 1 {
		t.Fatal(err)
	}
	if verifs[0].Err == nil {
		t.Log("go-msgauth now verifies a signature with \"b=\" in z=: the workaround may go")
	}
}
