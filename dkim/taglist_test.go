package dkim

import (
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
)

func TestParseTagList(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		tags       string // name=value|name=value...
		err        string // a substring of the error, or ""
	}{
		// RFC 6376 §3.2: whitespace around names and values is not part
		// of them; the final semicolon is optional.
		{"plain", "v=1; a=rsa-sha256", "v=1|a=rsa-sha256", ""},
		{"final semicolon", "v=1;a=b;", "v=1|a=b", ""},
		{"folded", "v = 1 ;\r\n\tb=ab\r\n cd ; ", "v=1|b=ab\r\n cd", ""},
		{"empty value", "p=", "p=", ""},
		{"empty", "", "", ""},
		// §3.2: a tag-spec is name=value; other parts are skipped and
		// named, the rest read.
		{"stray text", "v=DKIM1; junk; p=x", "v=DKIM1|p=x", `"junk" is not a tag=value pair`},
		{"bad name", "v=1; 1x=2; p=x", "v=1|p=x", `"1x" is not a tag name`},
		{"empty tag", "v=1;; p=x", "v=1|p=x", "an empty tag before"},
		{"not ASCII", "v=1; n=é; p=x", "v=1|p=x", "outside printable ASCII"},
		// §3.2: a tag named twice makes the list invalid.
		{"duplicate", "p=a; p=b", "p=a", "a tag appears twice: p="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tags, err := ParseTagList(tt.text)
			var got []string
			for _, tag := range tags {
				got = append(got, tag.Name+"="+tag.Value)
				if v := strings.TrimSpace(tt.text[tag.Start:tag.End]); v != tag.Value {
					t.Errorf("%s: Start, End give %q", tag.Name, v)
				}
			}
			if strings.Join(got, "|") != tt.tags {
				t.Errorf("tags %q, want %q", strings.Join(got, "|"), tt.tags)
			}
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
			if errors.Is(err, ErrDuplicateTag) != (tt.name == "duplicate") {
				t.Errorf("ErrDuplicateTag: %v", err)
			}
		})
	}
}

// TestParsePublic: the key Parse read is the one a verifier uses.
func TestParsePublic(t *testing.T) {
	k, err := Parse("v=DKIM1; p=" + rsaKey(t, 1024, false))
	if err != nil {
		t.Fatal(err)
	}
	if rk, ok := k.Public.(*rsa.PublicKey); !ok || rk.N.BitLen() != k.Bits {
		t.Errorf("%T %+v", k.Public, k)
	}
	k, err = Parse("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
	if err != nil {
		t.Fatal(err)
	}
	if ek, ok := k.Public.(ed25519.PublicKey); !ok || len(ek) != ed25519.PublicKeySize {
		t.Errorf("%T %+v", k.Public, k)
	}
	for _, txt := range []string{"v=DKIM1; p=", "v=DKIM1; p=@@@", "v=DKIM1; k=dsa; p=AAAA"} {
		if k, err := Parse(txt); err != nil || k.Public != nil {
			t.Errorf("%q: %v, key %T", txt, err, k.Public)
		}
	}
}

func FuzzParseTagList(f *testing.F) {
	f.Add("v=1; a=rsa-sha256; d=example.com; s=s1;\r\n\th=from:to; bh=AA==; b=AA==")
	f.Add("v=DKIM1; junk; p=x;; p=y")
	f.Add(";;==;p")
	f.Fuzz(func(t *testing.T, text string) {
		tags, _ := ParseTagList(text)
		seen := map[string]bool{}
		for _, tag := range tags {
			if seen[tag.Name] || !tagName(tag.Name) {
				t.Errorf("tag %q", tag.Name)
			}
			seen[tag.Name] = true
			if tag.Start < 0 || tag.End > len(text) || tag.Start > tag.End || strings.TrimSpace(text[tag.Start:tag.End]) != tag.Value {
				t.Errorf("%s: value %q at %d:%d", tag.Name, tag.Value, tag.Start, tag.End)
			}
		}
	})
}
