package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// FetchInfo is what the web server answered, for showing to a user when
// the policy is not what was hoped for.
type FetchInfo struct {
	URL         string // https://mta-sts.<domain>/.well-known/mta-sts.txt
	Status      int    // the HTTP status code; 0 when no response came
	ContentType string // the Content-Type header, as sent
	Body        []byte // the body, at most MaxPolicySize bytes
}

// defaultTimeout bounds a fetch when the client sets no timeout of its own:
// RFC 8461 §3.3 says senders should impose one.
const defaultTimeout = 10 * time.Second

// Fetch gets and parses the policy of domain from
// https://mta-sts.<domain>/.well-known/mta-sts.txt as a sender does
// (RFC 8461 §3.3): the certificate must be valid for mta-sts.<domain>,
// redirects are not followed, the status must be 200 and the body is
// limited to MaxPolicySize bytes. A Content-Type other than text/plain is
// a Problem (§3.2).
//
// client may be nil for a default one; its redirect policy is not used.
// Without a client timeout, the fetch is bounded to 10 seconds. The
// FetchInfo is filled in as far as the fetch got, also on error.
func Fetch(ctx context.Context, client *http.Client, domain string) (*Policy, FetchInfo, error) {
	domain = normalHost(domain)
	if !validDomain(domain) {
		return nil, FetchInfo{}, fmt.Errorf("mtasts: %q is not a domain name", clip(domain))
	}
	host := "mta-sts." + domain
	info := FetchInfo{URL: "https://" + host + "/.well-known/mta-sts.txt"}

	c := noRedirects(client)
	if c.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL, nil)
	if err != nil {
		return nil, info, fmt.Errorf("mtasts: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, info, requestError(host, info.URL, err)
	}
	defer resp.Body.Close()
	info.Status = resp.StatusCode
	info.ContentType = resp.Header.Get("Content-Type")
	if err := readBody(resp.Body, &info); err != nil {
		return nil, info, err
	}
	if err := ctx.Err(); err != nil {
		// The deadline passed while the body came: whether it ended or
		// was cut off, it is not a policy a sender would have in time
		// (and HTTP/2 can report the cut as an end).
		return nil, info, fmt.Errorf("mtasts: fetching %s: %w", info.URL, err)
	}

	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, info, fmt.Errorf("mtasts: %s answered %s with a redirect to %q, which senders do not follow (RFC 8461 §3.3)",
			info.URL, resp.Status, resp.Header.Get("Location"))
	case resp.StatusCode != http.StatusOK:
		return nil, info, fmt.Errorf("mtasts: %s answered %s; senders use a policy only from a 200 response (RFC 8461 §3.3)", info.URL, resp.Status)
	}
	p, err := ParsePolicy(info.Body)
	if err != nil {
		return nil, info, fmt.Errorf("mtasts: policy at %s: %w", info.URL, err)
	}
	if mt, _, err := mime.ParseMediaType(info.ContentType); err != nil || mt != "text/plain" {
		p.Problems = append(p.Problems, Problem{Tag: "Content-Type", Error: true,
			Message: fmt.Sprintf("Content-Type is %q, not text/plain, which RFC 8461 §3.2 requires; senders may refuse the policy", info.ContentType)})
	}
	return p, info, nil
}

// noRedirects returns a copy of client that returns 3xx responses instead
// of following them (RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be
// followed").
func noRedirects(client *http.Client) *http.Client {
	var c http.Client
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	return &c
}

// requestError says what went wrong, in particular when the certificate is
// not valid for host: that is what a domain owner most needs to hear.
func requestError(host, target string, err error) error {
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return fmt.Errorf("mtasts: certificate not valid for %s: %w", host, verr)
	}
	var (
		herr x509.HostnameError
		aerr x509.UnknownAuthorityError
		cerr x509.CertificateInvalidError
	)
	if errors.As(err, &herr) || errors.As(err, &aerr) || errors.As(err, &cerr) {
		return fmt.Errorf("mtasts: certificate not valid for %s: %w", host, err)
	}
	return fmt.Errorf("mtasts: fetching %s: %w", target, err)
}

// readBody reads at most MaxPolicySize bytes into info.Body, and fails
// when there are more (RFC 8461 §3.3: senders should limit the size).
func readBody(body io.Reader, info *FetchInfo) error {
	b, err := io.ReadAll(io.LimitReader(body, MaxPolicySize+1))
	if len(b) > MaxPolicySize {
		info.Body = b[:MaxPolicySize]
		return fmt.Errorf("mtasts: %s: the policy is over %d bytes; senders stop reading (RFC 8461 §3.3)", info.URL, MaxPolicySize)
	}
	info.Body = b
	if err != nil {
		return fmt.Errorf("mtasts: reading %s: %w", info.URL, err)
	}
	return nil
}
