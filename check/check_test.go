package check

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/blocklist"
	"github.com/mailtriage/mailtriage/dkim"
	"github.com/mailtriage/mailtriage/internal/testpki"
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
//	; policy: mode: enforce        (a line of the MTA-STS policy served)
//	; policy-status: 404           (and its HTTP status, Content-Type)
//	; smtp: starttls|plain|broken|badcert|tls11
type fixture struct {
	opts       Options
	fail       map[string]int
	want, not  []string
	zone       string
	policy     []string
	httpStatus int
	httpType   string
	smtp       string
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
				case "probe":
					fx.opts.SMTPProbe = true
				case "blocklists":
					fx.opts.Blocklists = testBlocklists(t)
				default:
					t.Fatalf("%s: unknown option %s", path, k)
				}
			}
		case "fail":
			rcode := map[string]int{"servfail": dns.RcodeServerFailure, "refused": dns.RcodeRefused, "timeout": -1}[fields[1]]
			fx.fail[fields[0]] = rcode
		case "policy":
			fx.policy = append(fx.policy, strings.TrimSpace(rest))
		case "policy-status":
			fx.httpStatus, _ = strconv.Atoi(fields[0])
		case "policy-type":
			fx.httpType = fields[0]
		case "smtp":
			fx.smtp = fields[0]
		case "want":
			fx.want = append(fx.want, fields...)
		case "not":
			fx.not = append(fx.not, fields...)
		}
	}
	return fx
}

// testBlocklists are the lists of testdata/blocklists.toml.
func testBlocklists(t *testing.T) *blocklist.Catalogue {
	f, err := os.Open("testdata/blocklists.toml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &blocklist.Catalogue{}
	if err := c.Load(f, "blocklists.toml"); err != nil {
		t.Fatal(err)
	}
	return c
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
	fx.opts.Timeout = 2 * time.Second
	fx.servers(t)
	rep, err := Run(context.Background(), fx.opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// servers starts the HTTPS server of the MTA-STS policy and the SMTP
// server every MX address leads to, and points the check's dialer at
// them: port 443 to the web server, port 25 to the mail server.
func (fx *fixture) servers(t *testing.T) {
	pki := testpki.New(t)
	fx.opts.RootCAs = pki.Roots
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", cmp.Or(fx.httpType, "text/plain"))
		w.WriteHeader(cmp.Or(fx.httpStatus, http.StatusOK))
		io.WriteString(w, strings.Join(fx.policy, "\r\n")+"\r\n")
	}))
	web.Config.ErrorLog = log.New(io.Discard, "", 0)
	web.TLS = &tls.Config{Certificates: []tls.Certificate{pki.Valid(t, "mta-sts."+strings.TrimSuffix(fx.opts.Domain, "."))}}
	web.StartTLS()
	t.Cleanup(web.Close)
	mail := fx.smtpServer(t, pki)
	var d net.Dialer
	fx.opts.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		switch {
		case port == "443":
			return d.DialContext(ctx, network, web.Listener.Addr().String())
		case port == "25" && mail != "":
			return d.DialContext(ctx, network, mail)
		}
		return nil, fmt.Errorf("fixture: nothing listens at %s", addr)
	}
}

// smtpServer serves SMTP as the fixture's smtp: line says, with a
// certificate for every name the zone's MX records give.
func (fx *fixture) smtpServer(t *testing.T, pki *testpki.PKI) string {
	if fx.smtp == "" {
		return ""
	}
	s := smtp.NewServer(refuseAll{})
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	names := []string{"mx.example.test", "mx2.example.test"}
	switch fx.smtp {
	case "plain":
	case "broken":
		s.TLSConfig = &tls.Config{} // offers STARTTLS, has no certificate
	case "badcert":
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pki.Valid(t, "other.test")}}
	case "tls11":
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pki.Valid(t, names...)}, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}
	default:
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pki.Valid(t, names...)}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

// refuseAll is an SMTP backend that takes no mail.
type refuseAll struct{}

func (refuseAll) NewSession(*smtp.Conn) (smtp.Session, error) { return refuseAll{}, nil }
func (refuseAll) Reset()                                      {}
func (refuseAll) Logout() error                               { return nil }
func (refuseAll) Mail(string, *smtp.MailOptions) error        { return errors.New("no mail here") }
func (refuseAll) Rcpt(string, *smtp.RcptOptions) error        { return errors.New("no mail here") }
func (refuseAll) Data(io.Reader) error                        { return errors.New("no mail here") }

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
		if _, err := os.Stat(filepath.Join("testdata/findings", d.Code+".zone")); err != nil {
			t.Errorf("%s: no fixture", d.Code)
		}
	}
}

// TestMoreFixtures runs the fixtures in testdata that are not named after
// one code: each says what it wants in its comments.
func TestMoreFixtures(t *testing.T) {
	for _, name := range []string{"mtasts-fetch-unknown"} {
		t.Run(name, func(t *testing.T) {
			fx := readFixture(t, filepath.Join("testdata", name+".zone"))
			got := codes(fx.run(t).Findings)
			for _, w := range fx.want {
				if !slices.Contains(got, w) {
					t.Errorf("want %s, got %v", w, got)
				}
			}
			for _, n := range fx.not {
				if slices.Contains(got, n) {
					t.Errorf("did not want %s, got %v", n, got)
				}
			}
		})
	}
}

// TestHealthyDomain: a domain with everything in place scores 100, with
// every applicable check made and nothing to fix.
func TestHealthyDomain(t *testing.T) {
	rep := readFixture(t, "testdata/healthy.zone").run(t)
	for _, f := range rep.Findings {
		if f.Severity != mailtriage.SeverityInfo {
			t.Errorf("finding %s (%s): %s", f.Code, f.Severity, f.Message)
		}
	}
	if rep.Score != 100 || rep.Grade != "A" || rep.Coverage.Made != rep.Coverage.Applied || rep.Coverage.Applied != len(checkDefs) {
		t.Errorf("score %d grade %s coverage %+v", rep.Score, rep.Grade, rep.Coverage)
	}
	if rep.SPF == nil || rep.SPF.Lookups != 1 || len(rep.SPF.Results) != 1 || rep.SPF.Results[0].Result != "pass" {
		t.Errorf("spf %+v", rep.SPF)
	}
	if len(rep.TLS) != 2 || !rep.TLS[0].Verified || rep.MTASTS == nil || rep.MTASTS.Mode != "enforce" {
		t.Errorf("tls %+v mta-sts %+v", rep.TLS, rep.MTASTS)
	}
}

// runZone checks domain against an in-process server for zone.
func runZone(t *testing.T, zone string, opts Options) *Report {
	t.Helper()
	fx := fixture{opts: opts, fail: map[string]int{}, zone: "$ORIGIN .\n$TTL 300\n. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300\n" + zone}
	return fx.run(t)
}

// TestDMARCPolicyThatApplies: a subdomain is judged by sp= (np= when it
// does not exist), RFC 9989 §4.7; an invalid sp= makes the record p=none
// (RFC 7489 §6.6.3); several records are discarded and the tree walk goes
// on to the parent (RFC 9989 §4.10), where RFC 7489 receivers stop.
func TestDMARCPolicyThatApplies(t *testing.T) {
	zone := `_dmarc.org.test. IN TXT "v=DMARC1; p=none; sp=reject; np=reject; rua=mailto:d@org.test"
_dmarc.org2.test. IN TXT "v=DMARC1; p=reject; sp=none; rua=mailto:d@org2.test"
_dmarc.org3.test. IN TXT "v=DMARC1; p=reject; sp=reject; np=none; rua=mailto:d@org3.test"
_dmarc.dm2.test. IN TXT "v=DMARC1; p=reject; sp=bogus; rua=mailto:d@dm2.test"
_dmarc.org5.test. IN TXT "v=DMARC1; p=reject; rua=mailto:d@org5.test"
_dmarc.sub.org5.test. IN TXT "v=DMARC1; p=none; rua=mailto:d@org5.test"
_dmarc.sub.org5.test. IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@org5.test"
sub.org.test. IN A 192.0.2.1
sub.org2.test. IN A 192.0.2.1
sub.org5.test. IN A 192.0.2.1
`
	for _, tt := range []struct {
		domain, policy string
		want, not      []string
	}{
		{"sub.org.test", "reject", nil, []string{"dmarc.policy-none"}},
		{"sub.org2.test", "none", []string{"dmarc.policy-none"}, nil},
		{"ghost.org3.test", "none", []string{"dmarc.policy-none"}, nil},
		{"dm2.test", "none", []string{"dmarc.invalid"}, []string{"dmarc.policy-none"}},
		{"sub.org5.test", "reject", []string{"dmarc.multiple", "dmarc.inherited", "dmarc.psl-differs"}, nil},
	} {
		rep := runZone(t, zone, Options{Domain: tt.domain})
		got := codes(rep.Findings)
		if rep.DMARC == nil || rep.DMARC.Policy != tt.policy {
			t.Errorf("%s: policy %+v, want %q", tt.domain, rep.DMARC, tt.policy)
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: want %s, got %v", tt.domain, w, got)
			}
		}
		for _, n := range tt.not {
			if slices.Contains(got, n) {
				t.Errorf("%s: did not want %s", tt.domain, n)
			}
		}
	}
}

// TestDKIMUnknownIsNotMissing: when the selector lookups fail, the
// report says so rather than "no key".
func TestDKIMUnknownIsNotMissing(t *testing.T) {
	fx := fixture{opts: Options{Domain: "example.test"}, fail: map[string]int{},
		zone: "$ORIGIN .\n$TTL 300\n. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300\nexample.test. IN MX 10 mx.example.test.\n"}
	for _, sel := range dkim.CommonSelectors {
		fx.fail[sel+"._domainkey.example.test"] = dns.RcodeServerFailure
	}
	got := codes(fx.run(t).Findings)
	if !slices.Contains(got, "dkim.unknown") || slices.Contains(got, "dkim.none") || slices.Contains(got, "dkim.not-found") {
		t.Errorf("got %v", got)
	}
}
