package starttls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"
)

// tlsConfig is the client side of the handshake with the MX host.
func tlsConfig(host string) *tls.Config {
	var suites []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		suites = append(suites, s.ID)
	}
	return &tls.Config{
		// SNI, so that a server with several names shows the MX's
		// certificate.
		ServerName: host,
		// verify checks the certificate after the handshake, so that a
		// certificate that fails is still described.
		InsecureSkipVerify: true,
		// An opportunistic sending MTA takes whatever TLS the server has
		// (RFC 7435); offer the old versions and suites too, so that they
		// are reported rather than fail the handshake.
		MinVersion:   tls.VersionTLS10,
		CipherSuites: suites,
	}
}

// describeTLS fills in the session's parameters and the certificate.
func describeTLS(res *Result, state tls.ConnectionState) {
	res.TLSVersion = tls.VersionName(state.Version)
	res.CipherSuite = tls.CipherSuiteName(state.CipherSuite)
	res.OldTLS = state.Version < tls.VersionTLS12
	res.WeakCipher = slices.ContainsFunc(tls.InsecureCipherSuites(), func(s *tls.CipherSuite) bool {
		return s.ID == state.CipherSuite
	})
	chain := state.PeerCertificates
	res.Certificate.Chain = len(chain)
	if len(chain) == 0 {
		return
	}
	leaf := chain[0]
	res.Certificate.Subject = leaf.Subject.String()
	res.Certificate.Issuer = leaf.Issuer.String()
	res.Certificate.DNSNames = leaf.DNSNames
	res.Certificate.NotBefore = leaf.NotBefore
	res.Certificate.NotAfter = leaf.NotAfter
}

// verify checks the certificate chain the server sent as RFC 8461 §4.2
// asks: it chains to one of roots (nil: the system's), every certificate
// is within its validity period, and the leaf has a DNS name that matches
// host. crypto/x509 looks at the subject alternative names only, never at
// the subject's CN, as RFC 8461 §4.2 wants, and lets a wildcard stand for
// the leftmost label only.
func verify(chain []*x509.Certificate, host string, roots *x509.CertPool) error {
	if len(chain) == 0 {
		return errors.New("the server sent no certificate")
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName:       host,
		Roots:         roots,
		Intermediates: intermediates,
	})
	var uerr x509.UnknownAuthorityError
	if errors.As(err, &uerr) {
		return fmt.Errorf("%w: %s", err, whyUnknown(chain))
	}
	return err
}

// whyUnknown says what the chain shows about a certificate that chains
// to no trusted root: "unknown authority" alone sends an admin shopping
// for another CA, when most often the server leaves out the intermediate
// (senders do not fetch it) or has a self-signed certificate.
func whyUnknown(chain []*x509.Certificate) string {
	leaf := chain[0]
	// CheckSignatureFrom would insist the signer be a CA; a self-signed
	// server certificate seldom says it is one.
	selfSigned := bytes.Equal(leaf.RawIssuer, leaf.RawSubject) &&
		leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil
	if selfSigned {
		return "the certificate is self-signed; senders that check certificates trust only those a public CA issued"
	}
	for _, c := range chain[1:] {
		if bytes.Equal(c.RawSubject, leaf.RawIssuer) {
			return "the chain the server sent does not lead to a trusted root CA"
		}
	}
	return fmt.Sprintf("the server did not send the certificate of its issuer, %s; an intermediate CA's certificate must be sent along, as senders do not fetch it, and a private CA is not trusted at all", leaf.Issuer)
}

// maxRecorded bounds what conn keeps of the server's plaintext: the
// greeting and the EHLO reply, a few hundred bytes for most servers.
const maxRecorded = 64 << 10

// conn is the dialled connection as the go-smtp client sees it. It keeps
// every deadline within the probe's, since go-smtp sets minutes per
// command and clears the deadline afterwards, and it records what the
// server sends before TLS, since go-smtp keeps the greeting and the EHLO
// reply to itself.
type conn struct {
	net.Conn
	deadline  time.Time
	seen      []byte
	recording bool
}

func newConn(c net.Conn, deadline time.Time) *conn {
	// A Dialer's connection may not take deadlines; the context still
	// bounds the probe by closing it.
	_ = c.SetDeadline(deadline)
	return &conn{Conn: c, deadline: deadline, recording: true}
}

func (c *conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if room := maxRecorded - len(c.seen); c.recording && room > 0 && n > 0 {
		c.seen = append(c.seen, b[:min(n, room)]...)
	}
	return n, err
}

// stopRecording ends the recording, before the TLS handshake would add
// its bytes, and returns what was seen.
func (c *conn) stopRecording() []byte {
	c.recording = false
	return c.seen
}

func (c *conn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.bound(t)) }
func (c *conn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.bound(t)) }
func (c *conn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.bound(t)) }

// bound gives the earlier of t and the probe's deadline; no deadline (the
// zero time) means the probe's.
func (c *conn) bound(t time.Time) time.Time {
	if t.IsZero() || t.After(c.deadline) {
		return c.deadline
	}
	return t
}
