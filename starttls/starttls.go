// Package starttls probes an SMTP server's STARTTLS (RFC 3207) the way a
// sending MTA meets it: it connects, reads the greeting, says EHLO, issues
// STARTTLS, completes the TLS handshake and says EHLO again, then quits.
//
// The server's certificate is described and then checked as RFC 8461 §4.2
// requires of an MTA-STS sender: it must chain to a trusted root, must not
// be expired, and must carry a DNS name (a subject alternative name) that
// matches the MX host name, where a wildcard covers the leftmost label
// only. The MX host name is the reference identifier that RFC 7672 §3.2
// uses for DANE too; TLSA records themselves are not looked at. The
// handshake accepts any certificate, so that one that fails the check is
// still described rather than ending the probe.
//
// The package knows nothing of MX lookups or policies: the caller says
// which host to check and at which address.
package starttls

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// DefaultTimeout bounds a probe whose Timeout is zero.
const DefaultTimeout = 20 * time.Second

// Dialer opens the TCP connection; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Probe checks the STARTTLS of one server at a time. The zero value is
// ready to use.
type Probe struct {
	// Dialer opens the connection; nil means a net.Dialer.
	Dialer Dialer
	// HELO is the name given in the EHLO sent over TLS. The default is the
	// address literal of our end of the connection, "[192.0.2.1]", which
	// RFC 5321 §4.1.4 asks of a client without a meaningful domain name
	// ("localhost" when the Dialer's connection has no TCP address).
	// The EHLO before STARTTLS always says "localhost": go-smtp allows no
	// other, since a server must forget it anyway (RFC 3207 §4.2).
	HELO string
	// Timeout bounds the whole probe, from dialling to QUIT; zero means
	// DefaultTimeout. A deadline on the context passed to Check bounds it too.
	Timeout time.Duration
	// RootCAs are the roots a certificate must chain to; nil means the
	// system's.
	RootCAs *x509.CertPool
}

// Result is what a probe learned. Check fills in as much of it as the
// session got through, even when it returns an error.
type Result struct {
	Host string // the MX host name the certificate must match
	Addr string // the address dialled, host:port

	// Banner is the server's greeting as sent, "220 mx.example.com ESMTP",
	// with the lines of a multi-line greeting joined by "\n".
	Banner string
	// Extensions are the lines of the EHLO reply before STARTTLS after the
	// first: each is a keyword and its parameters, "SIZE 35882577".
	Extensions []string
	// STARTTLS reports that the EHLO reply offered STARTTLS.
	STARTTLS bool

	TLSVersion  string // "TLS 1.3"; empty when no handshake completed
	CipherSuite string // "TLS_AES_128_GCM_SHA256"
	// OldTLS reports TLS 1.0 or 1.1, which RFC 8996 deprecates.
	OldTLS bool
	// WeakCipher reports a suite that crypto/tls counts as insecure.
	WeakCipher bool

	Certificate CertInfo // the certificate the server sent
	// Verified reports that the certificate chains to a trusted root, is
	// within its validity period and matches Host. When it does not,
	// VerifyError says why, in crypto/x509's words, and for a certificate
	// that leads to no trusted root, what the chain sent shows: a
	// self-signed certificate, or a missing intermediate.
	Verified    bool
	VerifyError string

	Elapsed time.Duration // how long the probe took
}

// CertInfo describes the certificate a server sent.
type CertInfo struct {
	Subject   string    // the leaf's subject, "CN=mx.example.com"
	Issuer    string    // the leaf's issuer
	DNSNames  []string  // the leaf's DNS subject alternative names, which the host must match
	NotBefore time.Time // the leaf's validity period
	NotAfter  time.Time
	Chain     int // how many certificates the server sent, the leaf included
}

// Errors say where a probe stopped. A certificate that fails the check is
// not an error: see Result.Verified.
var (
	// ErrConnect is a TCP connection that could not be made.
	ErrConnect = errors.New("starttls: cannot connect")
	// ErrTimeout is a probe that ran out of time, Probe.Timeout or the
	// context's deadline.
	ErrTimeout = errors.New("starttls: timed out")
	// ErrLost is a connection the server closed or reset, or a server that
	// sent something other than an SMTP reply.
	ErrLost = errors.New("starttls: connection lost")
	// ErrUnavailable is a 421 reply, at the greeting or later: the server
	// is closing the connection, and may take mail later (RFC 5321 §3.8).
	ErrUnavailable = errors.New("starttls: service not available")
	// ErrRefused is a greeting other than 220, such as the 554 of a server
	// that takes no mail from us (RFC 5321 §3.1), or a rejected EHLO.
	ErrRefused = errors.New("starttls: session refused")
	// ErrNoSTARTTLS is an EHLO reply that does not offer STARTTLS, or a
	// server that does not know EHLO.
	ErrNoSTARTTLS = errors.New("starttls: STARTTLS not offered")
	// ErrSTARTTLS is a STARTTLS command answered with other than 220, such
	// as 454, TLS not available for a temporary reason (RFC 3207 §4).
	ErrSTARTTLS = errors.New("starttls: STARTTLS refused")
	// ErrHandshake is a TLS handshake that failed.
	ErrHandshake = errors.New("starttls: TLS handshake failed")
)

// ReplyError is the SMTP reply that stopped a probe. It comes wrapped in
// ErrRefused, ErrUnavailable or ErrSTARTTLS.
type ReplyError struct {
	Code int    // the reply code, 554
	Text string // the text after the code; lines joined by "\n"
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%d %s", e.Code, strings.ReplaceAll(e.Text, "\n", " "))
}

// Temporary reports a 4yz reply: the same probe may succeed later
// (RFC 5321 §4.2.1).
func (e *ReplyError) Temporary() bool {
	return e.Code >= 400 && e.Code < 500
}

// Check probes the server for host at addr. An empty addr means host on
// port 25. The error says where the probe stopped: it wraps one of the Err
// values above, or context.Canceled when ctx was cancelled, and is not
// wrapped at all for an empty host or a HELO with a line break. It is nil
// when a TLS session was set up and the certificate checked, whatever the
// outcome of the check.
func (p *Probe) Check(ctx context.Context, host, addr string) (Result, error) {
	start := time.Now()
	if p == nil {
		p = &Probe{}
	}
	// DNS may give an MX name with the root's dot; certificates never
	// carry it.
	host = strings.TrimSuffix(host, ".")
	if addr == "" {
		addr = net.JoinHostPort(host, "25")
	}
	res := Result{Host: host, Addr: addr}
	if err := p.validate(host); err != nil {
		return res, err
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := p.check(ctx, &res)
	res.Elapsed = time.Since(start)
	return res, err
}

// validate refuses input that would make the probe meaningless or that
// go-smtp would refuse half-way through.
func (p *Probe) validate(host string) error {
	if host == "" {
		// crypto/x509 skips the name check for an empty name.
		return errors.New("starttls: no host name to check the certificate against")
	}
	if strings.ContainsAny(p.HELO, "\r\n") {
		return fmt.Errorf("starttls: HELO name %q holds a line break", p.HELO)
	}
	return nil
}

// check runs the session, filling in res as it goes.
func (p *Probe) check(ctx context.Context, res *Result) error {
	var dialer Dialer = &net.Dialer{}
	if p.Dialer != nil {
		dialer = p.Dialer
	}
	raw, err := dialer.DialContext(ctx, "tcp", res.Addr)
	if err != nil {
		if stop := stopped(ctx, "connecting", err); stop != nil {
			return stop
		}
		return fmt.Errorf("%w: %w", ErrConnect, err)
	}
	if raw == nil {
		return fmt.Errorf("%w: the Dialer gave no connection", ErrConnect)
	}
	defer raw.Close()
	// Closing the connection is what ends a wait when the context is
	// cancelled; deadlines cover the timeout.
	stopClosing := context.AfterFunc(ctx, func() { raw.Close() })
	defer stopClosing()
	deadline, _ := ctx.Deadline() // set by Check
	conn := newConn(raw, deadline)

	client, err := smtp.NewClientStartTLS(conn, tlsConfig(res.Host))
	replies := parseReplies(conn.stopRecording())
	readPlaintext(res, replies)
	if err != nil {
		return beforeTLS(ctx, replies, err)
	}
	defer client.Close()
	return p.afterSTARTTLS(ctx, client, res, raw.LocalAddr())
}

// readPlaintext fills in what the server said before TLS: the greeting
// and the EHLO reply.
func readPlaintext(res *Result, replies []reply) {
	if len(replies) == 0 {
		return
	}
	res.Banner = replies[0].String()
	if len(replies) > 1 {
		res.Extensions = extensions(replies[1])
		res.STARTTLS = offers(res.Extensions, "STARTTLS")
	}
}

// afterSTARTTLS completes the handshake by saying EHLO over TLS, as RFC
// 3207 §4.2 requires before anything else, and describes the session.
func (p *Probe) afterSTARTTLS(ctx context.Context, client *smtp.Client, res *Result, local net.Addr) error {
	helo := p.HELO
	if helo == "" {
		helo = addressLiteral(local)
	}
	// The handshake runs when the EHLO is written.
	err := client.Hello(helo)
	state, _ := client.TLSConnectionState()
	if !state.HandshakeComplete {
		if stop := stopped(ctx, "in the TLS handshake", err); stop != nil {
			return stop
		}
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	describeTLS(res, state)
	verifyErr := verify(state.PeerCertificates, res.Host, p.RootCAs)
	res.Verified = verifyErr == nil
	if verifyErr != nil {
		res.VerifyError = verifyErr.Error()
	}
	if err != nil {
		return afterTLS(ctx, "after EHLO over TLS", err)
	}
	// The probe is complete; a server that fumbles QUIT changes nothing.
	_ = client.Quit()
	return nil
}

// addressLiteral is the EHLO name of a client without a domain name: its
// address in brackets, with "IPv6:" before an IPv6 address
// (RFC 5321 §4.1.3).
func addressLiteral(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP == nil {
		// Not a TCP connection we can name, such as a test's pipe.
		return "localhost"
	}
	if ip4 := tcp.IP.To4(); ip4 != nil {
		return "[" + ip4.String() + "]"
	}
	return "[IPv6:" + tcp.IP.String() + "]"
}

// beforeTLS turns a failure of the plaintext part of the session into an
// error, reading from the replies the server sent how far it got: the
// go-smtp client does all of it in one call.
func beforeTLS(ctx context.Context, replies []reply, err error) error {
	if len(replies) == 0 {
		return brokenWait(ctx, "waiting for the greeting", err)
	}
	if replies[0].Code != 220 {
		return replyError(ErrRefused, "at the greeting", replies[0])
	}
	if len(replies) == 1 {
		return brokenWait(ctx, "after EHLO", err)
	}
	hello, next := replies[1], 2
	if hello.Code == 500 || hello.Code == 502 {
		// A server that does not know EHLO; go-smtp falls back to HELO
		// (RFC 5321 §3.2), whose reply lists no extensions.
		if len(replies) == 2 {
			return brokenWait(ctx, "after HELO", err)
		}
		if replies[2].Code != 250 {
			return replyError(ErrRefused, "after HELO", replies[2])
		}
		return fmt.Errorf("%w: the server does not know EHLO", ErrNoSTARTTLS)
	}
	if hello.Code != 250 {
		return replyError(ErrRefused, "after EHLO", hello)
	}
	if !offers(extensions(hello), "STARTTLS") {
		return ErrNoSTARTTLS
	}
	if len(replies) > next && replies[next].Code != 220 {
		return replyError(ErrSTARTTLS, "", replies[next])
	}
	if !isNetError(err) {
		// go-smtp matches the keyword case-sensitively, and so did not
		// send STARTTLS for a lower-case "starttls".
		return fmt.Errorf("%w: %w", ErrNoSTARTTLS, err)
	}
	return brokenWait(ctx, "after STARTTLS", err)
}

// afterTLS turns a failure of the session over TLS into an error.
func afterTLS(ctx context.Context, stage string, err error) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return brokenWait(ctx, stage, err)
	}
	text := se.Message
	if ec := se.EnhancedCode; ec[0] > 0 {
		// go-smtp takes the enhanced code out of the text; put it back.
		text = fmt.Sprintf("%d.%d.%d %s", ec[0], ec[1], ec[2], text)
	}
	return replyError(ErrRefused, stage, reply{Code: se.Code, Lines: []string{text}})
}

// replyError wraps the reply that stopped the probe at stage.
func replyError(kind error, stage string, r reply) error {
	if r.Code == 421 {
		kind = ErrUnavailable
	}
	re := &ReplyError{Code: r.Code, Text: r.Text()}
	if stage == "" {
		return fmt.Errorf("%w: %w", kind, re)
	}
	return fmt.Errorf("%w %s: %w", kind, stage, re)
}

// brokenWait is the error for a wait at stage that did not end with a
// reply: the time ran out, the caller cancelled, or the connection broke.
func brokenWait(ctx context.Context, stage string, err error) error {
	if stop := stopped(ctx, stage, err); stop != nil {
		return stop
	}
	return fmt.Errorf("%w %s: %w", ErrLost, stage, err)
}

// stopped is the error for a wait at stage that ended because the probe's
// time ran out or the caller cancelled; nil when neither happened.
func stopped(ctx context.Context, stage string, err error) error {
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return fmt.Errorf("%w %s: %w", ErrTimeout, stage, ctxErr)
	case ctxErr != nil:
		return fmt.Errorf("starttls: %s: %w", stage, ctxErr)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection's deadline, which is the context's, passed
		// a moment before the context noticed.
		return fmt.Errorf("%w %s: %w", ErrTimeout, stage, err)
	}
	return nil
}

// isNetError reports an error of the connection rather than of the
// conversation.
func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
