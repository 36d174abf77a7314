package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/internal/testpki"
)

const goodPolicy = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n"

// testServer starts an HTTPS server for h with a certificate for names,
// issued by a CA made for the test, and returns a client that trusts that
// CA and sends every connection to the server, whatever the host name.
// The client checks the certificate against the name in the URL, as it
// would on the Internet.
func testServer(t *testing.T, names []string, h http.HandlerFunc) *http.Client {
	t.Helper()
	pki := testpki.New(t)

	srv := httptest.NewUnstartedServer(h)
	// The handshake failures tests cause are expected; keep them quiet.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.Valid(t, names...)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	addr := srv.Listener.Addr().String()
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: pki.Roots},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// servePolicy answers with body at the well-known path, as contentType.
func servePolicy(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write([]byte(body))
	}
}

func TestFetch(t *testing.T) {
	var host, sni atomic.Value
	client := testServer(t, []string{"mta-sts.example.com"}, func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host)
		sni.Store(r.TLS.ServerName)
		servePolicy("text/plain; charset=utf-8", goodPolicy)(w, r)
	})
	p, info, err := Fetch(context.Background(), client, "Example.COM.")
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != Enforce || !p.Matches("mail.example.com.") || p.MaxAgeSeconds != 604800 || len(p.Problems) != 0 {
		t.Errorf("policy %+v", p)
	}
	wantURL := "https://mta-sts.example.com/.well-known/mta-sts.txt"
	if info.URL != wantURL || info.Status != 200 || info.ContentType != "text/plain; charset=utf-8" || string(info.Body) != goodPolicy {
		t.Errorf("info %+v", info)
	}
	// §3.3: the policy host is mta-sts.<domain>, in Host and in SNI.
	if host.Load() != "mta-sts.example.com" || sni.Load() != "mta-sts.example.com" {
		t.Errorf("Host %v, SNI %v", host.Load(), sni.Load())
	}
}

func TestFetchErrors(t *testing.T) {
	var followed atomic.Bool
	for _, tt := range []struct {
		name    string
		certFor string
		handler http.HandlerFunc
		status  int    // the status in FetchInfo
		errText string // in the error
	}{
		{"404", "mta-sts.example.com", http.NotFound, 404, "404 Not Found"},
		{
			// §3.3: "HTTP 3xx redirects MUST NOT be followed".
			"redirect", "mta-sts.example.com",
			func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					followed.Store(true)
					servePolicy("text/plain", goodPolicy)(w, r)
					return
				}
				http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
			},
			301, "redirect",
		},
		{
			// §3.3: the certificate must be valid for mta-sts.<domain>.
			"certificate for another name", "mta-sts.example.net",
			servePolicy("text/plain", goodPolicy), 0,
			"certificate not valid for mta-sts.example.com",
		},
		{
			// §3.3: senders should limit the size of the body.
			"oversized", "mta-sts.example.com",
			servePolicy("text/plain", goodPolicy+strings.Repeat("x: y\r\n", MaxPolicySize/6+1)), 200,
			"over 65536 bytes",
		},
		{"not a policy", "mta-sts.example.com", servePolicy("text/plain", "hello"), 200, "not an MTA-STS policy"},
	} {
		client := testServer(t, []string{tt.certFor}, tt.handler)
		p, info, err := Fetch(context.Background(), client, "example.com")
		if err == nil || !strings.Contains(err.Error(), tt.errText) {
			t.Errorf("%s: Fetch = %+v, %v; want an error with %q", tt.name, p, err, tt.errText)
			continue
		}
		t.Logf("%s: %v", tt.name, err)
		if p != nil || info.Status != tt.status || info.URL == "" {
			t.Errorf("%s: policy %+v, info %+v", tt.name, p, info)
		}
		if len(info.Body) > MaxPolicySize {
			t.Errorf("%s: %d bytes of body kept", tt.name, len(info.Body))
		}
	}
	if followed.Load() {
		t.Errorf("the redirect was followed")
	}
}

func TestFetchCertificateError(t *testing.T) {
	client := testServer(t, []string{"mta-sts.example.net"}, servePolicy("text/plain", goodPolicy))
	_, _, err := Fetch(context.Background(), client, "example.com")
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %v does not wrap a *tls.CertificateVerificationError", err)
	}
	var herr x509.HostnameError
	if !errors.As(err, &herr) {
		t.Errorf("error %v does not wrap an x509.HostnameError", err)
	}
}

func TestFetchContentType(t *testing.T) {
	// §3.2: the media type must be text/plain.
	client := testServer(t, []string{"mta-sts.example.com"}, servePolicy("text/html", goodPolicy))
	p, info, err := Fetch(context.Background(), client, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "text/html" || !hasProblem(p.Problems, "Content-Type", true) {
		t.Errorf("info %+v, problems %+v", info, p.Problems)
	}
}

func TestFetchSlow(t *testing.T) {
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"no answer", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{"body never ends", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("version: STSv1\r\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
	} {
		client := testServer(t, []string{"mta-sts.example.com"}, tt.handler)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, _, err := Fetch(ctx, client, "example.com")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: error %v, want the context deadline", tt.name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: Fetch took %s", tt.name, d)
		}
	}
}

func TestFetchBadDomain(t *testing.T) {
	// Checked before any connection: the nil client is never used.
	for _, d := range []string{"", "example.com/evil", "user@example.com", "exa mple.com", "a..b"} {
		if _, _, err := Fetch(context.Background(), nil, d); err == nil {
			t.Errorf("Fetch(%q) succeeded", d)
		}
	}
}
