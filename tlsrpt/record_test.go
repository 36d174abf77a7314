package tlsrpt

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/internal/fieldlist"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		txt  string
		want Record
	}{
		// RFC 8460 §3.1, the examples.
		{"v=TLSRPTv1;rua=mailto:reports@example.com", Record{RUA: []URI{
			{Raw: "mailto:reports@example.com", Scheme: "mailto", Address: "reports@example.com", Domain: "example.com"}}}},
		{"v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt", Record{RUA: []URI{
			{Raw: "https://reporting.example.com/v1/tlsrpt", Scheme: "https", Domain: "reporting.example.com"}}}},
		// Several URIs in one rua=, "," with white space around it (§3).
		{"v=TLSRPTv1; rua=mailto:a@Example.COM , https://Report.example.net:8443/p?q=1;", Record{RUA: []URI{
			{Raw: "mailto:a@Example.COM", Scheme: "mailto", Address: "a@Example.COM", Domain: "example.com"},
			{Raw: "https://Report.example.net:8443/p?q=1", Scheme: "https", Domain: "report.example.net"}}}},
		// Percent-encoding in a mailto (§3: "!" and "," must be encoded).
		{"v=TLSRPTv1; rua=mailto:tls%21rpt@example.com", Record{RUA: []URI{
			{Raw: "mailto:tls%21rpt@example.com", Scheme: "mailto", Address: "tls!rpt@example.com", Domain: "example.com"}}}},
		// Unknown fields are ignored (§3).
		{"v=TLSRPTv1; rua=mailto:a@example.com; ext_1=v", Record{
			RUA:        []URI{{Raw: "mailto:a@example.com", Scheme: "mailto", Address: "a@example.com", Domain: "example.com"}},
			Extensions: []Extension{{"ext_1", "v"}}}},
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
		nRUA     int // usable destinations left
	}{
		// rua= must appear exactly once (§3, note 1).
		{"v=TLSRPTv1", "rua", true, 0},
		{"v=TLSRPTv1;", "rua", true, 0},
		{"v=TLSRPTv1; x=y", "rua", true, 0},
		{"v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", "rua", true, 1},
		// Only mailto: and https: (§3).
		{"v=TLSRPTv1; rua=http://report.example.com/", "rua", true, 0},
		{"v=TLSRPTv1; rua=ftp://report.example.com/, mailto:a@example.com", "rua", true, 1},
		{"v=TLSRPTv1; rua=a@example.com", "rua", true, 0},
		{"v=TLSRPTv1; rua=https:///path", "rua", true, 0},
		// "!" must be encoded (§3); there is no DMARC size suffix.
		{"v=TLSRPTv1; rua=mailto:a@example.com!10m", "rua", true, 0},
		{"v=TLSRPTv1; rua=mailto:not an address", "rua", true, 0},
		{"v=TLSRPTv1; rua=mailto:Bob <a@example.com>", "rua", true, 0},
		{"v=TLSRPTv1; rua=mailto:a%zz@example.com", "rua", true, 0},
		{"v=TLSRPTv1; rua=mailto:a@example.com,", "rua", true, 1},
		// Records that do not begin with "v=TLSRPTv1;" are discarded (§3).
		{" v=TLSRPTv1; rua=mailto:a@example.com", "v", true, 1},
		// tlsrpt-ext-value excludes space, ";" and "=" (§3).
		{"v=TLSRPTv1; rua=mailto:a@example.com; x=a b", "x", true, 1},
		{"v=TLSRPTv1; rua=mailto:a@example.com;; x=1", "", true, 1},
		{"v=TLSRPTv1; rua = mailto:a@example.com", "", true, 0},
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
		if !found || len(r.RUA) != tt.nRUA {
			t.Errorf("Parse(%q): rua %+v, problems %+v; want %d destinations and a problem for %q (error %v)",
				tt.txt, r.RUA, r.Problems, tt.nRUA, tt.tag, tt.isErr)
		}
	}
}

func TestParseNotTLSRPT(t *testing.T) {
	// §3: the version comes first and is case-sensitive (%s"v=TLSRPTv1").
	for _, txt := range []string{"", "rua=mailto:a@example.com; v=TLSRPTv1", "v=TLSRPTv2; rua=mailto:a@example.com",
		"v=tlsrptv1; rua=mailto:a@example.com", "v=TLSRPTv1 rua=mailto:a@example.com", "v=STSv1; id=1"} {
		if r, err := Parse(txt); !errors.Is(err, ErrNotTLSRPT) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrNotTLSRPT", txt, r, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/x",
		"v=TLSRPTv1;rua=mailto:a%40b@example.com!1;;",
		"v=TLSRPTv1; rua=https://[::1]:0/,mailto:?",
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
		if !strings.HasPrefix(fieldlist.TrimWSP(txt), version) {
			t.Fatalf("Parse(%q) accepted a record not beginning with v=TLSRPTv1", txt)
		}
		for _, u := range r.RUA {
			if u.Scheme != "mailto" && u.Scheme != "https" || u.Domain == "" || strings.Contains(u.Raw, "!") {
				t.Fatalf("Parse(%q): unusable destination %+v kept", txt, u)
			}
		}
	})
}
