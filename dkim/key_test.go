package dkim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/resolver"
)

// rsaKey returns a base64 key of the given size, as SubjectPublicKeyInfo
// or, when pkcs1, as a bare RSAPublicKey.
func rsaKey(t testing.TB, bits int, pkcs1 bool) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	var der []byte
	if pkcs1 {
		der = x509.MarshalPKCS1PublicKey(&k.PublicKey)
	} else if der, err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func TestParse(t *testing.T) {
	k1024, k2048, kpkcs1 := rsaKey(t, 1024, false), rsaKey(t, 2048, false), rsaKey(t, 2048, true)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	ed := base64.StdEncoding.EncodeToString(pub)
	for _, tt := range []struct {
		name, txt string
		typ       string
		bits      int
		revoked   bool
		testing   bool
		sha1      bool
		problem   string // a substring of some Problem, or ""
	}{
		// RFC 6376 §3.6.1: k= defaults to rsa, v= is optional.
		{"rsa 2048", "v=DKIM1; k=rsa; p=" + k2048, "rsa", 2048, false, false, false, ""},
		{"rsa 1024 no k", "p=" + k1024, "rsa", 1024, false, false, false, ""},
		// TXT strings are joined and may carry folding whitespace.
		{"folded", "v=DKIM1; p=" + k2048[:100] + " \t " + k2048[100:], "rsa", 2048, false, false, false, ""},
		// RFC 8463 §4.2: ed25519 keys are the 32 raw bytes.
		{"ed25519", "v=DKIM1; k=ed25519; p=" + ed, "ed25519", 256, false, false, false, ""},
		{"ed25519 short", "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub[:16]), "ed25519", 0, false, false, false, "32 bytes"},
		// RFC 6376 §3.6.1: an empty p= means the key was revoked.
		{"revoked", "v=DKIM1; p=", "rsa", 0, true, false, false, ""},
		{"testing", "v=DKIM1; t=y; p=" + k1024, "rsa", 1024, false, true, false, ""},
		// RFC 8301 §3.1: rsa-sha1 must not be used.
		{"sha1 only", "v=DKIM1; h=sha1; p=" + k2048, "rsa", 2048, false, false, true, ""},
		{"sha1 and 256", "v=DKIM1; h=sha1:sha256; p=" + k2048, "rsa", 2048, false, false, false, ""},
		{"pkcs1", "v=DKIM1; p=" + kpkcs1, "rsa", 2048, false, false, false, "PKCS #1"},
		{"bad base64", "v=DKIM1; p=@@@", "rsa", 0, false, false, false, "base64"},
		{"not rsa", "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString([]byte("garbage")), "rsa", 0, false, false, false, "not an RSA"},
		{"unknown type", "v=DKIM1; k=dsa; p=" + k1024, "dsa", 0, false, false, false, "unknown key type"},
		{"stray text", "v=DKIM1; junk; p=" + k1024, "rsa", 1024, false, false, false, "tag=value"},
		// RFC 6376 §3.2: values are case-sensitive; the key is read, and
		// k= as written is kept for the caller to judge.
		{"k=RSA", "v=DKIM1; k=RSA; p=" + k2048, "rsa", 2048, false, false, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.txt)
			if err != nil {
				t.Fatal(err)
			}
			if k.Type != tt.typ || k.Bits != tt.bits || k.Revoked != tt.revoked || k.Testing != tt.testing || k.SHA1Only() != tt.sha1 {
				t.Errorf("got %+v", k)
			}
			got := strings.Join(k.Problems, "; ")
			if tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
				t.Errorf("problems %q, want %q", got, tt.problem)
			}
		})
	}
	for txt, want := range map[string]string{"v=DKIM1; k=RSA; p=" + k2048: "RSA", "v=DKIM1; k=rsa; p=" + k2048: "rsa", "p=" + k2048: ""} {
		k, err := Parse(txt)
		if err != nil {
			t.Fatal(err)
		}
		if k.TypeWritten != want {
			t.Errorf("k= as written %q, want %q", k.TypeWritten, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, txt := range []string{
		"v=spf1 -all",                   // no p=: not a key record
		"v=DKIM2; p=abc",                // RFC 6376 §3.6.1: v= must be DKIM1
		"v=DKIM1; p=abc; p=def",         // RFC 6376 §3.2: duplicate tag
		"google-site-verification=abcd", // someone else's TXT
	} {
		if k, err := Parse(txt); err == nil {
			t.Errorf("%q: no error, got %+v", txt, k)
		}
	}
}

func TestLookup(t *testing.T) {
	k2048 := rsaKey(t, 2048, false)
	zone := fmt.Sprintf(`
$ORIGIN example.com.
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
s2048._domainkey   IN TXT "v=DKIM1; k=rsa; " "p=%s"
old._domainkey     IN TXT "v=DKIM1; p="
twice._domainkey   IN TXT "v=DKIM1; p=%[1]s"
twice._domainkey   IN TXT "v=DKIM1; p="
other._domainkey   IN TXT "some verification token"
selector1._domainkey IN CNAME selector1-example-com._domainkey.example.onmicrosoft.test.
`, k2048)
	// The delegated key lives in the email service's own zone.
	service := fmt.Sprintf(`
$ORIGIN example.onmicrosoft.test.
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
selector1-example-com._domainkey IN TXT "v=DKIM1; k=rsa; p=%s"
`, k2048)
	z := resolver.NewZone(nil)
	for i, text := range []string{zone, service} {
		if err := z.Load(strings.NewReader(text), "", fmt.Sprint("zone", i)); err != nil {
			t.Fatal(err)
		}
	}
	got := Lookup(context.Background(), z, "Example.COM.", []string{"s2048", "old", "twice", "other", "selector1", "missing"})
	byName := map[string]Selector{}
	for _, s := range got {
		byName[s.Selector] = s
	}
	if s := byName["s2048"]; !s.Found() || s.Key == nil || s.Key.Bits != 2048 || s.Name != "s2048._domainkey.example.com" {
		t.Errorf("s2048: %+v", s)
	}
	if s := byName["old"]; s.Key == nil || !s.Key.Revoked {
		t.Errorf("old: %+v", s)
	}
	if s := byName["twice"]; s.ParseErr == nil || !strings.Contains(s.ParseErr.Error(), "2 key records") {
		t.Errorf("twice: %+v", s)
	}
	if s := byName["other"]; s.Found() || s.Status != resolver.OK {
		t.Errorf("other: a TXT without p= is not a key: %+v", s)
	}
	if s := byName["selector1"]; s.Key == nil || s.Key.Bits != 2048 || len(s.CNAMEs) != 1 || !strings.Contains(s.CNAMEs[0], "onmicrosoft") {
		t.Errorf("selector1: the CNAME delegation should be followed and kept: %+v", s)
	}
	if s := byName["missing"]; s.Found() || s.Status != resolver.NXDomain {
		t.Errorf("missing: %+v", s)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("v=DKIM1; k=rsa; p=" + rsaKey(f, 1024, false))
	f.Add("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
	f.Add("v=DKIM1; p=")
	f.Add("v=DKIM1; h=sha1:sha256; t=y:s; s=email; n=note; p=AAAA")
	f.Add(";;==;p")
	f.Fuzz(func(t *testing.T, txt string) {
		k, err := Parse(txt)
		if err != nil {
			return
		}
		if k.Revoked && k.Bits != 0 {
			t.Errorf("revoked key with %d bits", k.Bits)
		}
		_ = k.SHA1Only()
	})
}

// TestKeyStrength: RFC 8301 §3.2's sizes; other key types, and keys of no
// known size (revoked, unreadable), are not judged.
func TestKeyStrength(t *testing.T) {
	for _, tt := range []struct {
		keyType string
		bits    int
		want    Strength
	}{
		{"rsa", 512, StrengthTooShort},
		{"rsa", 1023, StrengthTooShort},
		{"rsa", 1024, StrengthWeak},
		{"rsa", 2047, StrengthWeak},
		{"rsa", 2048, StrengthOK},
		{"rsa", 4096, StrengthOK},
		{"rsa", 0, StrengthOK},
		{"ed25519", 256, StrengthOK},
	} {
		if got := KeyStrength(tt.keyType, tt.bits); got != tt.want {
			t.Errorf("KeyStrength(%s, %d) = %d, want %d", tt.keyType, tt.bits, got, tt.want)
		}
	}
}
