package mtasts

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       Policy
	}{
		{
			// RFC 8461 §3.2, the first example, with CRLF line ends.
			"rfc example crlf",
			"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
			Policy{Version: "STSv1", Mode: Enforce, MX: []string{"mail.example.com", "*.example.net", "backupmx.example.com"}, MaxAgeSeconds: 604800},
		},
		{
			// LF also ends lines (sts-policy-term = LF / CRLF), the last
			// line break is optional, and white space after ":" and at
			// the end of a line is allowed.
			"lf, no final break",
			"version: STSv1\nmode:enforce\t\nmax_age:  31557600 \nmx: MX1.Example.COM",
			Policy{Version: "STSv1", Mode: Enforce, MX: []string{"MX1.Example.COM"}, MaxAgeSeconds: 31557600},
		},
		{
			// Unknown keys are ignored (§3.2); mode none needs no mx.
			"extension, mode none",
			"version: STSv1\nmode: none\nmax_age: 86400\nfoo-bar: some value\n",
			Policy{Version: "STSv1", Mode: None, MaxAgeSeconds: 86400, Extensions: []Extension{{"foo-bar", "some value"}},
				Problems: []Problem{{Tag: "mode", Message: "mode none: senders treat the domain as having no MTA-STS policy (RFC 8461 §5)"}}},
		},
	} {
		p, err := ParsePolicy([]byte(tt.body))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(*p, tt.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tt.name, *p, tt.want)
		}
	}
}

func TestParsePolicyProblems(t *testing.T) {
	const head = "version: STSv1\n"
	const good = "mode: enforce\nmx: mx.example.com\nmax_age: 604800\n"
	for _, tt := range []struct {
		body, tag string
		isErr     bool
	}{
		// §3.2: max_age is at most 31557600; weeks or more are expected.
		{head + "mode: enforce\nmx: mx.example.com\nmax_age: 31557601\n", "max_age", true},
		{head + "mode: enforce\nmx: mx.example.com\nmax_age: 3600\n", "max_age", false},
		{head + "mode: enforce\nmx: mx.example.com\nmax_age: -1\n", "max_age", true},
		{head + "mode: enforce\nmx: mx.example.com\nmax_age: 12345678901\n", "max_age", true},
		{head + "mode: enforce\nmx: mx.example.com\n", "max_age", true},
		// mode is required, one of three case-sensitive values (§3.2).
		{head + "mx: mx.example.com\nmax_age: 604800\n", "mode", true},
		{head + "mode: Enforce\nmx: mx.example.com\nmax_age: 604800\n", "mode", true},
		{head + "mode: testing\nmx: mx.example.com\nmax_age: 604800\n", "mode", false},
		// Keys are case-sensitive (§3.2, %s"mode").
		{head + "Mode: enforce\n" + good, "Mode", true},
		// mx is needed unless the mode is none (§3.2).
		{head + "mode: testing\nmax_age: 604800\n", "mx", true},
		{head + "mode: enforce\nmx: mx_1.example.com\nmax_age: 604800\n", "mx", true},
		{head + "mode: enforce\nmx: *.*.example.com\nmax_age: 604800\n", "mx", true},
		{head + "mode: enforce\nmx: mx.example.com.\nmax_age: 604800\n", "mx", true},
		{head + good + "mx: MX.example.com\n", "mx", false},
		// Fields other than mx count once; the first is used (§3.2).
		{head + good + "mode: testing\n", "mode", false},
		// The grammar has no blank lines, lines without ":", or white
		// space before a key.
		{head + good + "\n", "", true},
		{head + "\n" + good, "", true},
		{head + good + "garbage\n", "", true},
		{head + " mode: enforce\nmx: mx.example.com\nmax_age: 604800\n", "mode", true},
		{head + good + "x:\n", "x", true},
	} {
		p, err := ParsePolicy([]byte(tt.body))
		if err != nil {
			t.Errorf("ParsePolicy(%q): %v", tt.body, err)
			continue
		}
		if !hasProblem(p.Problems, tt.tag, tt.isErr) {
			t.Errorf("ParsePolicy(%q): problems %+v, want one for %q (error %v)", tt.body, p.Problems, tt.tag, tt.isErr)
		}
	}
}

// TestParsePolicyBOM: a policy saved by an editor that puts a UTF-8 byte
// order mark first. The grammar of RFC 8461 §3.2 has none, so strict
// senders find no "version" key; the policy is read all the same, with an
// error that names the mark rather than a missing version line.
func TestParsePolicyBOM(t *testing.T) {
	for _, body := range []string{
		"\ufeffversion: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 604800\r\n",
		"\ufeffversion: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n",
	} {
		p, err := ParsePolicy([]byte(body))
		if err != nil {
			t.Errorf("ParsePolicy(%q): %v", body, err)
			continue
		}
		if p.Mode != Enforce || !p.Matches("mx.example.com") || p.MaxAgeSeconds != 604800 {
			t.Errorf("ParsePolicy(%q) = %+v", body, p)
		}
		if len(p.Problems) != 1 || !p.Problems[0].Error || !strings.Contains(p.Problems[0].Message, "byte order mark") {
			t.Errorf("ParsePolicy(%q): problems %+v, want one error about the byte order mark", body, p.Problems)
		}
	}
}

func TestParsePolicyDuplicateFirstCounts(t *testing.T) {
	p, err := ParsePolicy([]byte("version: STSv1\nmode: testing\nmode: enforce\nmax_age: 100000\nmax_age: 1\nmx: a.example\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != Testing || p.MaxAgeSeconds != 100000 {
		t.Errorf("got mode %s, max_age %d; want the first: testing, 100000", p.Mode, p.MaxAgeSeconds)
	}
}

func TestParsePolicyNotPolicy(t *testing.T) {
	for _, body := range []string{
		"",
		"<html><body>Not found</body></html>",
		"mode: enforce\nmx: mx.example.com\nmax_age: 604800\n",
		// version is STSv1 and case-sensitive (§3.2).
		"version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n",
		"version: stsv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n",
		"Version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n",
	} {
		if p, err := ParsePolicy([]byte(body)); !errors.Is(err, ErrNotPolicy) {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want ErrNotPolicy", body, p, err)
		}
	}
	// §3.3: senders should limit the size of the body.
	big := "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n" + strings.Repeat("x: y\n", MaxPolicySize/5)
	if _, err := ParsePolicy([]byte(big)); err == nil {
		t.Errorf("ParsePolicy of %d bytes succeeded", len(big))
	}
}

func TestParsePolicyProblemsBounded(t *testing.T) {
	p, err := ParsePolicy([]byte("version: STSv1\n" + strings.Repeat("junk\n", 10000)))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) > maxProblems+1 {
		t.Errorf("%d problems, want at most %d", len(p.Problems), maxProblems+1)
	}
}

func TestMatches(t *testing.T) {
	p := &Policy{MX: []string{"mail.example.com", "*.example.net", "Backup.Example.ORG"}}
	for _, tt := range []struct {
		host string
		want bool
	}{
		{"mail.example.com", true},
		// Trailing dots and case do not matter.
		{"mail.example.com.", true},
		{"MAIL.Example.Com", true},
		{"backup.example.org.", true},
		{"example.com", false},
		{"mail.example.com.evil", false},
		{"xmail.example.com", false},
		// §4.1: "*" matches exactly the leftmost label.
		{"mx1.example.net", true},
		{"MX1.EXAMPLE.NET.", true},
		{"example.net", false},
		{".example.net", false},
		{"a.mx1.example.net", false},
		{"*.example.net", false},
		{"", false},
		{".", false},
	} {
		if got := p.Matches(tt.host); got != tt.want {
			t.Errorf("Matches(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
	var nilPolicy *Policy
	if nilPolicy.Matches("mail.example.com") {
		t.Errorf("a nil policy matched")
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
		"version: STSv1\nmode: none\nmax_age: 0",
		"version: STSv1\n\n:\nmx: .\nmax_age: 99999999999\n",
	} {
		f.Add([]byte(s), "mx1.example.net.")
	}
	f.Fuzz(func(t *testing.T, body []byte, host string) {
		p, err := ParsePolicy(body)
		if (p == nil) == (err == nil) {
			t.Fatalf("ParsePolicy(%q) = %v, %v: want a policy or an error", body, p, err)
		}
		if err != nil {
			return
		}
		if p.Version != "STSv1" {
			t.Fatalf("ParsePolicy(%q): version %q", body, p.Version)
		}
		for _, mx := range p.MX {
			if !validDomain(strings.TrimPrefix(mx, "*.")) {
				t.Fatalf("ParsePolicy(%q): invalid mx %q kept", body, mx)
			}
		}
		if !p.Matches(host) {
			return
		}
		// A match means host equals a valid pattern or is one valid
		// label under one.
		for _, l := range strings.Split(normalHost(host), ".") {
			if !validLabel(l) {
				t.Fatalf("ParsePolicy(%q): host %q with label %q matched", body, host, l)
			}
		}
	})
}
