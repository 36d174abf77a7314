package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/mtasts"
	"github.com/mailtriage/mailtriage/starttls"
)

// TLSSummary is what the STARTTLS probe of one MX address found.
type TLSSummary struct {
	Host        string    `json:"host"`
	Addr        string    `json:"addr"`
	Banner      string    `json:"banner,omitempty"`
	STARTTLS    bool      `json:"starttls"`
	Version     string    `json:"tls_version,omitempty"`
	Cipher      string    `json:"cipher,omitempty"`
	Verified    bool      `json:"certificate_valid"`
	VerifyError string    `json:"certificate_error,omitempty"`
	NotAfter    time.Time `json:"certificate_expires,omitzero"`
	Error       string    `json:"error,omitempty"`
}

// probeAll probes the first address of every MX host at once.
func (c *checker) probeAll(ctx context.Context, set mailhost.MXSet, pol *mtasts.Policy, p *part) []TLSSummary {
	var targets []mailhost.MX
	for _, h := range set.Hosts {
		if h.Host != "" && len(h.Addrs) > 0 {
			targets = append(targets, h)
		}
	}
	out := make([]TLSSummary, len(targets))
	results := make([]starttls.Result, len(targets))
	errs := make([]error, len(targets))
	probe := &starttls.Probe{Dialer: dialFunc(c.o.dialer()), Timeout: c.o.timeout(), RootCAs: c.o.RootCAs}
	var wg sync.WaitGroup
	for i, h := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = probe.Check(ctx, h.Host, net.JoinHostPort(h.Addrs[0].String(), "25"))
		}()
	}
	wg.Wait()
	enforce := pol != nil && pol.Mode == mtasts.Enforce
	for i, res := range results {
		out[i] = TLSSummary{Host: res.Host, Addr: res.Addr, Banner: res.Banner, STARTTLS: res.STARTTLS, Version: res.TLSVersion,
			Cipher: res.CipherSuite, Verified: res.Verified, VerifyError: res.VerifyError, NotAfter: res.Certificate.NotAfter}
		if errs[i] != nil {
			out[i].Error = errs[i].Error()
		}
		tlsFindings(res, errs[i], enforce, p)
	}
	return out
}

// dialFunc adapts a dial function to starttls.Dialer.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

func tlsFindings(res starttls.Result, err error, enforce bool, p *part) {
	ev := fmt.Sprintf("SMTP %s (%s): %s", res.Host, res.Addr, firstLine(res.Banner))
	// Without TLS, senders go on in clear text, unless an enforced
	// MTA-STS policy forbids it (RFC 8461 §5).
	clear, fallback := "mail to it travels in clear text", "senders fall back to clear text or defer"
	if enforce {
		const stopped = "the MTA-STS policy is in enforce mode, so senders that honour it will not deliver there (RFC 8461 §5)"
		clear, fallback = stopped+"; others send in clear text", stopped+"; others fall back to clear text or defer"
	}
	switch {
	case errors.Is(err, starttls.ErrNoSTARTTLS):
		p.find("tls.no-starttls", fmt.Sprintf("MX %s does not offer STARTTLS: %s", res.Host, clear),
			"enable STARTTLS on the MX with a certificate for "+res.Host, ev)
		return
	case errors.Is(err, starttls.ErrSTARTTLS), errors.Is(err, starttls.ErrHandshake):
		p.find("tls.starttls-failed", fmt.Sprintf("MX %s offers STARTTLS, but it fails: %v; %s", res.Host, err, fallback),
			"fix the MX's TLS configuration: certificate and key, protocol versions", ev)
		return
	case errors.Is(err, starttls.ErrConnect):
		p.find("tls.unreachable", fmt.Sprintf("MX %s could not be reached on port 25: %v", res.Host, err),
			"check that port 25 is open from here (many networks block outbound 25), then probe again", ev)
		return
	case err != nil:
		p.find("tls.unreachable", fmt.Sprintf("MX %s could not be probed: %v", res.Host, err),
			"probe again; if it keeps failing, the server is slow or refusing this address", ev)
		return
	}
	p.check("tls.starttls", "tls.certificate")
	ev = fmt.Sprintf("%s, %s, %s; certificate %s, expires %s", ev, res.TLSVersion, res.CipherSuite, res.Certificate.Subject, res.Certificate.NotAfter.Format(time.DateOnly))
	if !res.Verified {
		fix := "install a certificate from a public CA whose names include " + res.Host + ", with its intermediate certificates"
		if enforce {
			p.find("tls.certificate-invalid-enforced", fmt.Sprintf("the certificate of MX %s is not valid: %s; the MTA-STS policy is in enforce mode, so senders that honour it will not deliver there (RFC 8461 §5)", res.Host, res.VerifyError), fix, ev)
		} else {
			p.find("tls.certificate-invalid", fmt.Sprintf("the certificate of MX %s is not valid: %s; senders with MTA-STS or DANE will refuse it once either is enforced", res.Host, res.VerifyError), fix, ev)
		}
	}
	if res.OldTLS {
		p.find("tls.old-version", fmt.Sprintf("MX %s negotiates %s; TLS 1.0 and 1.1 are deprecated (RFC 8996)", res.Host, res.TLSVersion),
			"enable TLS 1.2 and 1.3 on the MX", ev)
	}
}

func firstLine(s string) string {
	for i := range s {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
