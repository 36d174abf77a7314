package check

import (
	"bufio"
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite docs/checks.md")

// fixture is a zone file in testdata with its options in comments:
//
//	; check: domain=example.test ip=198.51.100.21 helo=mail01.example.test selector=s1
//	; fail: _dmarc.example.test servfail
//	; want: dmarc.unknown
//	; not: dmarc.missing
type fixture struct {
	opts      Options
	fail      map[string]int
	want, not []string
	zone      string
}

func readFixture(t *testing.T, path string) fixture {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fx := fixture{zone: string(data), fail: map[string]int{}}
	sc := bufio.NewScanner(strings.NewReader(fx.zone))
	for sc.Scan() {
		key, rest, ok := strings.Cut(strings.TrimPrefix(sc.Text(), ";"), ":")
		if !ok || !strings.HasPrefix(sc.Text(), ";") {
			continue
		}
		fields := strings.Fields(rest)
		switch strings.TrimSpace(key) {
		case "check":
			for _, f := range fields {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "domain":
					fx.opts.Domain = v
				case "ip":
					fx.opts.IPs = append(fx.opts.IPs, netip.MustParseAddr(v))
				case "helo":
					fx.opts.HELO = v
				case "selector":
					fx.opts.Selectors = strings.Split(v, ",")
				default:
					t.Fatalf("%s: unknown option %s", path, k)
				}
			}
		case "fail":
			rcode := map[string]int{"servfail": dns.RcodeServerFailure, "refused": dns.RcodeRefused, "timeout": -1}[fields[1]]
			fx.fail[fields[0]] = rcode
		case "want":
			fx.want = append(fx.want, fields...)
		case "not":
			fx.not = append(fx.not, fields...)
		}
	}
	return fx
}

// run checks a fixture against an in-process DNS server serving it.
func (fx fixture) run(t *testing.T) *Report {
	t.Helper()
	s := dnstest.Start(t, fx.zone)
	for name, rcode := range fx.fail {
		s.Fail(name, rcode)
	}
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 150*time.Millisecond, 0
	fx.opts.Resolver = c
	rep, err := Run(context.Background(), fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func codes(fs []mailtriage.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// TestFindings runs every fixture in testdata/findings: the file named
// after a code must produce it.
func TestFindings(t *testing.T) {
	files, _ := filepath.Glob("testdata/findings/*.zone")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range files {
		code := strings.TrimSuffix(filepath.Base(path), ".zone")
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			fx := readFixture(t, path)
			rep := fx.run(t)
			got := codes(rep.Findings)
			for _, w := range append([]string{code}, fx.want...) {
				if !slices.Contains(got, w) {
					t.Errorf("want %s, got %v", w, got)
				}
			}
			for _, n := range fx.not {
				if slices.Contains(got, n) {
					t.Errorf("did not want %s, got %v", n, got)
				}
			}
			for _, f := range rep.Findings {
				if f.Message == "" || f.Fix == "" && f.Severity != mailtriage.SeverityInfo || f.Category == "" || len(f.Evidence) == 0 {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

// TestEveryCodeHasAFixture: each code in the rubric is provoked by a
// fixture, so the table never documents a finding nothing produces.
func TestEveryCodeHasAFixture(t *testing.T) {
	for _, d := range codeDefs {
		if _, err := os.Stat(filepath.Join("testdata/findings", d.Code+".zone")); err != nil && !pending(d.Code) {
			t.Errorf("%s: no fixture", d.Code)
		}
	}
}

// pending are the codes of checks not yet wired in.
func pending(code string) bool {
	switch prefix(code) {
	case "spf", "tls", "mtasts", "tlsrpt", "bimi":
		return true
	}
	return false
}
