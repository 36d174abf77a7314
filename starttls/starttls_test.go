package starttls

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/mailtriage/mailtriage/internal/testpki"
)

// The MX host name every test checks.
const mx = "mx1.example.com"

// backend is a go-smtp server backend that takes no mail and notes the
// names clients give in EHLO.
type backend struct {
	refuseTLS *smtp.SMTPError // the answer to EHLO over TLS, when not nil

	mu    sync.Mutex
	helos []string
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.helos = append(b.helos, c.Hostname())
	if _, isTLS := c.TLSConnectionState(); isTLS && b.refuseTLS != nil {
		return nil, b.refuseTLS
	}
	return session{}, nil
}

func (b *backend) names() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.helos)
}

type session struct{}

func (session) Reset()                               {}
func (session) Logout() error                        { return nil }
func (session) Mail(string, *smtp.MailOptions) error { return errors.New("no mail here") }
func (session) Rcpt(string, *smtp.RcptOptions) error { return errors.New("no mail here") }
func (session) Data(io.Reader) error                 { return errors.New("no mail here") }

// serveSMTP runs a go-smtp server for mx on 127.0.0.1; a nil tlsConfig
// means one without STARTTLS.
func serveSMTP(t *testing.T, tlsConfig *tls.Config) (string, *backend) {
	t.Helper()
	return serveBackend(t, tlsConfig, &backend{})
}

func serveBackend(t *testing.T, tlsConfig *tls.Config, be *backend) (string, *backend) {
	t.Helper()
	s := smtp.NewServer(be)
	s.Domain = mx
	s.TLSConfig = tlsConfig
	s.ErrorLog = log.New(io.Discard, "", 0)
	l := listen(t)
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().String(), be
}

// serveScript runs a server on 127.0.0.1 that talks to each client as
// script says, for replies go-smtp's server never gives.
func serveScript(t *testing.T, script func(w io.Writer, r *bufio.Reader)) string {
	t.Helper()
	l := listen(t)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				script(c, bufio.NewReader(c))
			}()
		}
	}()
	return l.Addr().String()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestCertificates runs full sessions against servers with certificates
// that pass and fail the checks of RFC 8461 §4.2. A certificate that
// fails is a result, not an error.
func TestCertificates(t *testing.T) {
	p := testpki.New(t)
	now := time.Now()
	other := testpki.New(t)
	tests := []struct {
		name     string
		cert     tls.Certificate
		roots    *x509.CertPool
		host     string
		verified bool
		reason   string // in VerifyError
	}{
		{
			name:     "valid for the MX host name",
			cert:     p.Leaf(t, []string{mx}, now.Add(-time.Hour), now.Add(time.Hour)),
			verified: true,
		},
		{
			// DNS names in MX records may end with the root's dot.
			name:     "host name with a trailing dot",
			cert:     p.Leaf(t, []string{mx}, now.Add(-time.Hour), now.Add(time.Hour)),
			host:     mx + ".",
			verified: true,
		},
		{
			// RFC 8461 §4.2: a wildcard matches the leftmost label.
			name:     "wildcard",
			cert:     p.Leaf(t, []string{"*.example.com"}, now.Add(-time.Hour), now.Add(time.Hour)),
			verified: true,
		},
		{
			// RFC 8461 §4.2: the SAN must match the MX host name.
			name:   "certificate for another name",
			cert:   p.Leaf(t, []string{"other.example.com"}, now.Add(-time.Hour), now.Add(time.Hour)),
			reason: "not " + mx,
		},
		{
			// RFC 8461 §4.2: the certificate must be non-expired.
			name:   "expired",
			cert:   p.Leaf(t, []string{mx}, now.Add(-48*time.Hour), now.Add(-24*time.Hour)),
			reason: "expired",
		},
		{
			// RFC 8461 §4.2: it must chain to a trusted root.
			name:   "issued by a CA we do not trust",
			cert:   p.Leaf(t, []string{mx}, now.Add(-time.Hour), now.Add(time.Hour)),
			roots:  other.Roots,
			reason: "unknown authority",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := serveSMTP(t, &tls.Config{Certificates: []tls.Certificate{tt.cert}})
			roots := p.Roots
			if tt.roots != nil {
				roots = tt.roots
			}
			host := mx
			if tt.host != "" {
				host = tt.host
			}
			probe := &Probe{RootCAs: roots, Timeout: 5 * time.Second}
			res, err := probe.Check(context.Background(), host, addr)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Host != mx || res.Addr != addr {
				t.Errorf("Host, Addr = %q, %q, want %q, %q", res.Host, res.Addr, mx, addr)
			}
			if want := "220 " + mx + " ESMTP Service Ready"; res.Banner != want {
				t.Errorf("Banner = %q, want %q", res.Banner, want)
			}
			if !res.STARTTLS || !slices.Contains(res.Extensions, "STARTTLS") {
				t.Errorf("STARTTLS = %v, Extensions = %q, want STARTTLS offered", res.STARTTLS, res.Extensions)
			}
			if res.TLSVersion != "TLS 1.3" || res.CipherSuite == "" || res.OldTLS || res.WeakCipher {
				t.Errorf("TLS %q %q old=%v weak=%v, want TLS 1.3 with a sound suite", res.TLSVersion, res.CipherSuite, res.OldTLS, res.WeakCipher)
			}
			c := res.Certificate
			if c.Chain != 2 || !slices.Equal(c.DNSNames, tt.cert.Leaf.DNSNames) ||
				c.Subject != "CN="+tt.cert.Leaf.DNSNames[0] || c.Issuer != "CN=Test Intermediate CA" ||
				!c.NotAfter.Equal(tt.cert.Leaf.NotAfter) || !c.NotBefore.Equal(tt.cert.Leaf.NotBefore) {
				t.Errorf("Certificate = %+v, want the leaf for %q and a chain of 2", c, tt.cert.Leaf.DNSNames)
			}
			if res.Verified != tt.verified {
				t.Errorf("Verified = %v (%s), want %v", res.Verified, res.VerifyError, tt.verified)
			}
			if tt.reason == "" && res.VerifyError != "" || !strings.Contains(res.VerifyError, tt.reason) {
				t.Errorf("VerifyError = %q, want it to say %q", res.VerifyError, tt.reason)
			}
			if res.Elapsed <= 0 {
				t.Errorf("Elapsed = %v", res.Elapsed)
			}
		})
	}
}

// TestUnknownAuthority: a certificate that chains to no trusted root
// fails RFC 8461 §4.2; VerifyError says why when the server shows it: a
// self-signed certificate, or one sent without its issuer's (an
// intermediate the server should send, as senders do not fetch it).
func TestUnknownAuthority(t *testing.T) {
	p := testpki.New(t)
	other := testpki.New(t)
	leafOnly := p.Valid(t, mx)
	leafOnly.Certificate = leafOnly.Certificate[:1]
	for _, tt := range []struct {
		name     string
		cert     tls.Certificate
		roots    *x509.CertPool
		says     string // in VerifyError
		saysNot  []string
		verified bool
	}{
		{"self-signed", testpki.SelfSigned(t, mx), p.Roots, "self-signed", []string{"issuer"}, false},
		{"intermediate not sent", leafOnly, p.Roots, "did not send the certificate of its issuer, CN=Test Intermediate CA", []string{"self-signed"}, false},
		{"whole chain, root not trusted", p.Valid(t, mx), other.Roots, "unknown authority", []string{"self-signed", "issuer"}, false},
		{"whole chain, trusted", p.Valid(t, mx), p.Roots, "", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := serveSMTP(t, &tls.Config{Certificates: []tls.Certificate{tt.cert}})
			res, err := (&Probe{RootCAs: tt.roots, Timeout: 5 * time.Second}).Check(context.Background(), mx, addr)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Verified != tt.verified || !strings.Contains(res.VerifyError, tt.says) {
				t.Errorf("Verified = %v, VerifyError = %q; want %v, saying %q", res.Verified, res.VerifyError, tt.verified, tt.says)
			}
			for _, n := range tt.saysNot {
				if strings.Contains(res.VerifyError, n) {
					t.Errorf("VerifyError = %q says %q", res.VerifyError, n)
				}
			}
		})
	}
}

// TestHELO checks the names the probe gives: "localhost" before STARTTLS,
// which go-smtp insists on and the server must forget (RFC 3207 §4.2),
// and Probe.HELO or an address literal (RFC 5321 §4.1.3) over TLS.
func TestHELO(t *testing.T) {
	p := testpki.New(t)
	cert := p.Leaf(t, []string{mx}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	for _, helo := range []string{"", "probe.example.net"} {
		addr, be := serveSMTP(t, &tls.Config{Certificates: []tls.Certificate{cert}})
		probe := &Probe{RootCAs: p.Roots, HELO: helo, Timeout: 5 * time.Second}
		if _, err := probe.Check(context.Background(), mx, addr); err != nil {
			t.Fatalf("HELO %q: %v", helo, err)
		}
		want := []string{"localhost", helo}
		if helo == "" {
			want[1] = "[127.0.0.1]"
		}
		if got := be.names(); !slices.Equal(got, want) {
			t.Errorf("HELO %q: the server heard %q, want %q", helo, got, want)
		}
	}
}

// TestRefusedOverTLS: a server that refuses the EHLO over TLS stops the
// probe with an error, but the TLS session and the certificate are
// described all the same.
func TestRefusedOverTLS(t *testing.T) {
	p := testpki.New(t)
	cert := p.Leaf(t, []string{mx}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	be := &backend{refuseTLS: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "not you"}}
	addr, _ := serveBackend(t, &tls.Config{Certificates: []tls.Certificate{cert}}, be)
	res, err := (&Probe{RootCAs: p.Roots, Timeout: 5 * time.Second}).Check(context.Background(), mx, addr)
	var re *ReplyError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &re) || re.Code != 550 || re.Text != "5.7.1 not you" {
		t.Fatalf("err = %v, want ErrRefused with 550 5.7.1 not you", err)
	}
	if res.TLSVersion == "" || !res.Verified || res.Certificate.Chain != 2 {
		t.Errorf("got %+v, want the TLS session described", res)
	}
}

// TestOldTLS checks that a server with nothing newer than TLS 1.1, which
// RFC 8996 deprecates, is described rather than failing the handshake.
func TestOldTLS(t *testing.T) {
	p := testpki.New(t)
	cert := p.Leaf(t, []string{mx}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	addr, _ := serveSMTP(t, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS11,
	})
	res, err := (&Probe{RootCAs: p.Roots, Timeout: 5 * time.Second}).Check(context.Background(), mx, addr)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.TLSVersion != "TLS 1.1" || !res.OldTLS || !res.Verified {
		t.Errorf("TLSVersion %q, OldTLS %v, Verified %v; want TLS 1.1, old, verified", res.TLSVersion, res.OldTLS, res.Verified)
	}
}

// TestNoSTARTTLS: a server that does not list STARTTLS in its EHLO reply
// (RFC 3207 §4) stops the probe before any TLS.
func TestNoSTARTTLS(t *testing.T) {
	addr, _ := serveSMTP(t, nil)
	res, err := (&Probe{Timeout: 5 * time.Second}).Check(context.Background(), mx, addr)
	if !errors.Is(err, ErrNoSTARTTLS) {
		t.Fatalf("err = %v, want ErrNoSTARTTLS", err)
	}
	if res.STARTTLS || res.TLSVersion != "" || res.Verified {
		t.Errorf("STARTTLS %v, TLSVersion %q, Verified %v; want none", res.STARTTLS, res.TLSVersion, res.Verified)
	}
	if !strings.HasPrefix(res.Banner, "220 "+mx) || len(res.Extensions) == 0 {
		t.Errorf("Banner %q, Extensions %q; want the greeting and the EHLO reply", res.Banner, res.Extensions)
	}
}

// TestReplies covers the replies that end a session before TLS, from
// servers that script them.
func TestReplies(t *testing.T) {
	// server sends greeting, then answers EHLO with ehlo and STARTTLS
	// with starttls, stopping at the first that is empty.
	server := func(greeting, ehlo, starttls string) func(io.Writer, *bufio.Reader) {
		return func(w io.Writer, r *bufio.Reader) {
			for i, answer := range []string{greeting, ehlo, starttls} {
				if answer == "" {
					return
				}
				if i > 0 { // wait for the command
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
				}
				io.WriteString(w, answer)
			}
			r.ReadString('\n') // until the client hangs up
		}
	}
	test := func(name string, script func(io.Writer, *bufio.Reader), want error, code int, banner string, offered bool) {
		t.Helper()
		addr := serveScript(t, script)
		res, err := (&Probe{Timeout: 5 * time.Second}).Check(context.Background(), mx, addr)
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
			return
		}
		var re *ReplyError
		if errors.As(err, &re) != (code != 0) || code != 0 && (re.Code != code || re.Temporary() != (code < 500)) {
			t.Errorf("%s: err = %#v, want a reply %d", name, err, code)
		}
		if res.Banner != banner || res.STARTTLS != offered {
			t.Errorf("%s: Banner %q, STARTTLS %v; want %q, %v", name, res.Banner, res.STARTTLS, banner, offered)
		}
	}
	// RFC 5321 §3.8: 421 at connection time, the server is closing.
	test("421 greeting", server("421 4.3.2 mx1.example.com busy\r\n", "", ""),
		ErrUnavailable, 421, "421 4.3.2 mx1.example.com busy", false)
	// RFC 5321 §3.1: 554 instead of 220, no SMTP service for us here.
	test("554 greeting", server("554-mx1.example.com no service\r\n554 5.7.1 blocked\r\n", "", ""),
		ErrRefused, 554, "554-mx1.example.com no service\n554 5.7.1 blocked", false)
	// RFC 5321 §4.1.1.1: EHLO rejected.
	test("EHLO rejected", server("220 mx1.example.com\r\n", "550 5.7.1 go away\r\n", ""),
		ErrRefused, 550, "220 mx1.example.com", false)
	// RFC 3207 §4: 454 TLS not available due to temporary reason.
	test("454 to STARTTLS", server("220 mx1.example.com\r\n", "250-mx1.example.com\r\n250 STARTTLS\r\n", "454 4.7.0 TLS not available\r\n"),
		ErrSTARTTLS, 454, "220 mx1.example.com", true)
	// RFC 5321 §2.4: keywords are case-insensitive; go-smtp's client
	// matches them exactly and so never sends STARTTLS.
	test("lower-case starttls", server("220 mx1.example.com\r\n", "250-mx1.example.com\r\n250 starttls\r\n", ""),
		ErrNoSTARTTLS, 0, "220 mx1.example.com", true)
	// RFC 5321 §3.2: a server that does not know EHLO gets HELO, and
	// offers no extensions.
	test("no EHLO", func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "220 mx1.example.com\r\n")
		r.ReadString('\n')
		io.WriteString(w, "502 5.5.2 what?\r\n")
		r.ReadString('\n')
		io.WriteString(w, "250 mx1.example.com\r\n")
		r.ReadString('\n')
	}, ErrNoSTARTTLS, 0, "220 mx1.example.com", false)
	test("hang-up before the greeting", server("", "", ""), ErrLost, 0, "", false)
	test("not SMTP", server("SSH-2.0-OpenSSH_9.6\r\n", "", ""), ErrLost, 0, "", false)
	// A server that hangs up instead of doing the TLS handshake.
	test("handshake fails", func(w io.Writer, r *bufio.Reader) {
		io.WriteString(w, "220 mx1.example.com\r\n")
		r.ReadString('\n')
		io.WriteString(w, "250-mx1.example.com\r\n250 STARTTLS\r\n")
		r.ReadString('\n')
		io.WriteString(w, "220 2.0.0 go ahead\r\n")
	}, ErrHandshake, 0, "220 mx1.example.com", true)
}

// TestSilentServer: a server that takes the connection and never greets
// is bounded by Probe.Timeout (RFC 5321 §4.5.3.2.1 allows 5 minutes for a
// greeting; a probe waits much less).
func TestSilentServer(t *testing.T) {
	addr := serveScript(t, func(_ io.Writer, r *bufio.Reader) { r.ReadString('\n') })
	start := time.Now()
	res, err := (&Probe{Timeout: 300 * time.Millisecond}).Check(context.Background(), mx, addr)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v with a 300ms timeout", took)
	}
	if res.Elapsed < 300*time.Millisecond {
		t.Errorf("Elapsed = %v, want the whole 300ms", res.Elapsed)
	}
}

// TestCancel: cancelling the context ends a wait, whatever the Timeout.
func TestCancel(t *testing.T) {
	addr := serveScript(t, func(_ io.Writer, r *bufio.Reader) { r.ReadString('\n') })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := (&Probe{Timeout: time.Minute}).Check(ctx, mx, addr)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v after a cancel at 100ms", took)
	}
}

// TestConnectionRefused dials a port nobody listens on any more.
func TestConnectionRefused(t *testing.T) {
	l := listen(t)
	addr := l.Addr().String()
	l.Close()
	_, err := (&Probe{Timeout: 5 * time.Second}).Check(context.Background(), mx, addr)
	if !errors.Is(err, ErrConnect) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want ErrConnect wrapping ECONNREFUSED", err)
	}
}

// TestBadInput: input that would make the probe meaningless is refused
// before dialling, and a nil Probe works like a zero one.
func TestBadInput(t *testing.T) {
	dialled := false
	dialer := dialFunc(func(context.Context, string, string) (net.Conn, error) {
		dialled = true
		return nil, errors.New("no")
	})
	if _, err := (&Probe{Dialer: dialer}).Check(context.Background(), "", "127.0.0.1:25"); err == nil {
		t.Error("empty host: no error")
	}
	if _, err := (&Probe{Dialer: dialer, HELO: "a\r\nRSET"}).Check(context.Background(), mx, ""); err == nil {
		t.Error("HELO with CRLF: no error")
	}
	if dialled {
		t.Error("dialled despite bad input")
	}
	nothing := dialFunc(func(context.Context, string, string) (net.Conn, error) { return nil, nil })
	if _, err := (&Probe{Dialer: nothing}).Check(context.Background(), mx, ""); !errors.Is(err, ErrConnect) {
		t.Errorf("a Dialer with neither connection nor error: %v, want ErrConnect", err)
	}
	var p *Probe
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := p.Check(ctx, "127.0.0.1", "")
	if !errors.Is(err, context.Canceled) || res.Addr != "127.0.0.1:25" {
		t.Errorf("nil Probe: %+v, %v; want a cancelled probe of 127.0.0.1:25", res, err)
	}
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}
