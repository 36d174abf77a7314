package verify

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const goodSig = " v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM;\r\n\ts=s1; t=1764583200; x=1764669600; i=Jane=40Mail.Example.com;\r\n\th=From:To:Subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=dGVzdHRl\r\n\t c3Q=;"

func TestParseSignature(t *testing.T) {
	s, err := ParseSignature(goodSig)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 6376 §3.5: d= is a domain (any case), i= is
	// dkim-quoted-printable (§2.11) in a subdomain of d=.
	if s.Domain != "example.com" || s.Selector != "s1" || s.Algorithm != "rsa-sha256" || s.KeyAlgorithm != "rsa" || s.HashAlgorithm != "sha256" ||
		s.Identity != "Jane@Mail.Example.com" || s.HeaderCanon != "relaxed" || s.BodyCanon != "simple" ||
		!slices.Equal(s.SignedHeaders, []string{"From", "To", "Subject"}) || s.BodyLength != -1 ||
		s.Timestamp.Unix() != 1764583200 || s.Expiration.Unix() != 1764669600 || s.B != "dGVzdHRlc3Q=" || len(s.BodyHash) != 32 {
		t.Errorf("%+v", s)
	}
	// b='s value, folding whitespace and all, is what §3.7 empties.
	if got := goodSig[s.bStart:s.bEnd]; got != "dGVzdHRl\r\n\t c3Q=" {
		t.Errorf("b= value %q", got)
	}
	// Defaults (§3.5): c=simple/simple; no i= is "@" + d=.
	s, err = ParseSignature("v=1; a=ed25519-sha256; d=example.com; s=k; h=from; bh=AA==; b=AA==")
	if err != nil || s.HeaderCanon != "simple" || s.BodyCanon != "simple" || s.Identity != "@example.com" {
		t.Errorf("%+v %v", s, err)
	}
	// c=relaxed alone is relaxed/simple.
	if s, _ = ParseSignature("v=1; a=rsa-sha256; c=relaxed; d=example.com; s=k; h=from; bh=AA==; b=AA=="); s.HeaderCanon != "relaxed" || s.BodyCanon != "simple" {
		t.Errorf("c=relaxed: %+v", s)
	}
}

// TestMsgauthBlanksOther: where go-msgauth's emptying of b= reaches
// into other tags.
func TestMsgauthBlanksOther(t *testing.T) {
	const rest = "v=1; a=rsa-sha256; d=example.com; s=k; h=from; bh=AA==; "
	for _, tt := range []struct {
		value string
		want  bool
	}{
		{goodSig, false},
		{rest + "b=AA==", false},
		{rest + "b = AA==", false},
		{rest + "b=\r\n\tAA==;", false},
		{"b=AA==; " + rest, false},
		{rest + "z=Subject:Club=20news; b=AA==", true},
		{rest + "z=To:Bob=20<bob@example.com>; b=AA==", true},
		{"b=AA==; " + rest + "z=Subject:Club=20news", true},
		{rest + "i=bob=40example.com; b=AA==", true},
	} {
		s, err := ParseSignature(tt.value)
		if err != nil {
			t.Fatalf("%q: %v", tt.value, err)
		}
		if got := s.msgauthBlanksOther(tt.value); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.value, got, tt.want)
		}
	}
}

func TestParseSignatureErrors(t *testing.T) {
	base := "v=1; a=rsa-sha256; d=example.com; s=s1; h=from:to; bh=AA==; b=AA=="
	for _, tt := range []struct{ sig, want string }{
		{strings.Replace(base, "v=1", "v=2", 1), "incompatible version"},                  // §6.1.1
		{strings.Replace(base, "s=s1; ", "", 1), "required tag s= missing"},               // §3.5
		{base + "; d=example.net", "appears twice"},                                       // §3.2
		{strings.Replace(base, "h=from:to", "h=to:subject", 1), "does not sign the From"}, // §5.4
		{base + "; i=@example.net", "neither d=example.com nor a subdomain"},              // §3.5, §6.1.1
		{base + "; i=a@notexample.com", "neither"},                                        // a suffix is not a subdomain
		{base + "; i=a=4", "quoted-printable"},                                            // §2.11
		{base + "; i=a=ZZ@example.com", "quoted-printable"},                               // §2.11
		{strings.Replace(base, "b=AA==", "b=!!", 1), "not base64"},                        // §3.5
		{base + "; l=-1", "not a length"},
		{base + "; t=yesterday", "not a time"},
		{strings.Replace(base, "a=rsa-sha256", "a=rsa", 1), "not key-hash"},
		{base + "; c=fancy/simple", "not simple or relaxed"},
		{base + "; novalue", "not a tag=value"},
		{base + "; 1x=2", "not a tag name"},
		{"v=1;; a=rsa-sha256", "empty tag"},
		{base + "; z=caf\xc3\xa9", "outside printable ASCII"},
	} {
		_, err := ParseSignature(tt.sig)
		if err == nil || !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.sig, err, tt.want)
		}
	}
	// Accepted: i= in a subdomain of d=, in another case; a final
	// semicolon; an i= without @ is only a problem.
	for _, ok := range []string{base + "; i=x@SUB.Example.COM", base + ";", base + "; i=example.com"} {
		if _, err := ParseSignature(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if s, _ := ParseSignature(base + "; i=example.com"); len(s.Problems) == 0 {
		t.Error("i= without @ not noted")
	}
}

func FuzzParseSignature(f *testing.F) {
	f.Add(goodSig)
	f.Add("v=1; a=rsa-sha256; d=example.com; s=s1; h=from; bh=AA==; b=AA==; i=a=40example.com")
	f.Add("v=1;; a")
	f.Add("b=;b=;")
	f.Add("i==4")
	f.Fuzz(func(t *testing.T, value string) {
		s, err := ParseSignature(value)
		if s == nil {
			t.Fatal("nil signature")
		}
		if err != nil && !errors.Is(err, ErrSignature) {
			t.Errorf("error %v does not wrap ErrSignature", err)
		}
		if s.bStart >= 0 && (s.bStart > s.bEnd || s.bEnd > len(value)) {
			t.Errorf("b= at %d:%d of %d bytes", s.bStart, s.bEnd, len(value))
		}
		if err == nil && (s.Domain == "" || s.Selector == "" || !strings.Contains(strings.ToLower(s.Identity), s.Domain)) {
			t.Errorf("accepted without d=, s= or a matching i=: %+v", s)
		}
	})
}
