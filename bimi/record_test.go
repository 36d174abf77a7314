package bimi

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	logo = "https://example.com/bimi/logo.svg"
	vmc  = "https://example.com/bimi/vmc.pem"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		txt  string
		want Record
	}{
		{"v=BIMI1; l=" + logo + "; a=" + vmc + ";", Record{Location: logo, Evidence: vmc, AvatarPreference: "brand"}},
		// White space around "=" and the URI is allowed (§4.3).
		{"v = BIMI1 ;l = " + logo + " ;a= " + vmc, Record{Location: logo, Evidence: vmc, AvatarPreference: "brand"}},
		// §4.3.2: SVGZ is allowed too.
		{"v=BIMI1; l=https://example.com/logo.SVGZ?v=2; a=" + vmc, Record{Location: "https://example.com/logo.SVGZ?v=2", Evidence: vmc, AvatarPreference: "brand"}},
		// §4.3.1: "v=BIMI1; l=; a=;" declines to publish.
		{"v=BIMI1; l=; a=;", Record{Declined: true, AvatarPreference: "brand"}},
		// §4.3: "If the a= tag is not present, it is assumed to have an empty value."
		{"v=BIMI1; l=", Record{Declined: true, AvatarPreference: "brand"}},
		// §4.3.1, lps=true with a declination; §4.3 avp.
		{"v=BIMI1; l=; a=; lps=true; avp=personal", Record{Declined: true, LocalPartSelectors: true, AvatarPreference: "personal"}},
		// Unknown tags are ignored (§4.3).
		{"v=BIMI1; l=" + logo + "; a=" + vmc + "; s=x; future=1", Record{Location: logo, Evidence: vmc, AvatarPreference: "brand"}},
	} {
		r, err := Parse(tt.txt)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.txt, err)
			continue
		}
		if !reflect.DeepEqual(*r, tt.want) {
			t.Errorf("Parse(%q):\ngot  %+v\nwant %+v", tt.txt, *r, tt.want)
		}
	}
}

func TestParseProblems(t *testing.T) {
	for _, tt := range []struct {
		txt, tag string
		isErr    bool
	}{
		// l= is required (§4.3).
		{"v=BIMI1; a=" + vmc, "l", true},
		{"v=BIMI1;", "l", true},
		// l= must be a single https URI of an SVG file on a domain (§4.3, §4.3.2).
		{"v=BIMI1; l=http://example.com/logo.svg; a=" + vmc, "l", true},
		{"v=BIMI1; l=https://example.com/logo.png; a=" + vmc, "l", true},
		{"v=BIMI1; l=https://example.com/logo.svg,https://example.com/b.svg; a=" + vmc, "l", true},
		{"v=BIMI1; l=https://192.0.2.1/logo.svg; a=" + vmc, "l", true},
		{"v=BIMI1; l=https://localhost/logo.svg; a=" + vmc, "l", true},
		{"v=BIMI1; l=https://exa mple.com/logo.svg; a=" + vmc, "l", true},
		// a= must be https (§4.3); a certificate is a PEM file.
		{"v=BIMI1; l=" + logo + "; a=http://example.com/vmc.pem", "a", true},
		{"v=BIMI1; l=" + logo + "; a=https://example.com/vmc.crt", "a", false},
		// A logo without a certificate: most providers will not show it.
		{"v=BIMI1; l=" + logo, "a", false},
		{"v=BIMI1; l=" + logo + "; a=", "a", false},
		// An empty l= with a certificate is not a declination (§4.3.1).
		{"v=BIMI1; l=; a=" + vmc, "l", false},
		// §4.3: lps is true or false; other avp values may fail the record.
		{"v=BIMI1; l=; lps=yes", "lps", false},
		{"v=BIMI1; l=; avp=Brand", "avp", true},
		// DKIM tag lists (RFC 6376 §3.2): no duplicates, only tag=value.
		{"v=BIMI1; l=" + logo + "; l=https://example.com/b.svg; a=" + vmc, "l", true},
		{"v=BIMI1; l=" + logo + "; junk; a=" + vmc, "", true},
	} {
		r, err := Parse(tt.txt)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.txt, err)
			continue
		}
		found := false
		for _, p := range r.Problems {
			found = found || p.Tag == tt.tag && p.Error == tt.isErr
		}
		if !found {
			t.Errorf("Parse(%q): problems %+v, want one for %q (error %v)", tt.txt, r.Problems, tt.tag, tt.isErr)
		}
	}
}

func TestParseFirstCounts(t *testing.T) {
	r, err := Parse("v=BIMI1; l=" + logo + "; l=https://example.com/b.svg; a=" + vmc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Location != logo {
		t.Errorf("l= %q, want the first, %q", r.Location, logo)
	}
}

func TestParseNotBIMI(t *testing.T) {
	// §4.3: v=BIMI1 must be first and match precisely.
	for _, txt := range []string{"", "l=" + logo + "; v=BIMI1", "junk; v=BIMI1; l=", "v=BIMI2; l=", "v=bimi1; l=", "V=BIMI1; l=", "v=BIMI1 l=", "v=DMARC1; p=none"} {
		if r, err := Parse(txt); !errors.Is(err, ErrNotBIMI) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrNotBIMI", txt, r, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"v=BIMI1; l=" + logo + "; a=" + vmc + ";",
		"v=BIMI1; l=; a=; lps=true; avp=personal",
		"v=BIMI1;l=https://[::1]/x.svg;a=https://%zz;l=;junk",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, txt string) {
		r, err := Parse(txt)
		if (r == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want a record or an error", txt, r, err)
		}
		if err != nil {
			return
		}
		if !strings.HasPrefix(strings.TrimSpace(txt), "v") {
			t.Fatalf("Parse(%q) accepted a record not beginning with v=", txt)
		}
		if r.Declined && (r.Location != "" || r.Evidence != "") {
			t.Fatalf("Parse(%q): declined with l=%q a=%q", txt, r.Location, r.Evidence)
		}
		if r.AvatarPreference != "brand" && r.AvatarPreference != "personal" {
			t.Fatalf("Parse(%q): avp %q", txt, r.AvatarPreference)
		}
	})
}
