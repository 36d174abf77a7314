// Package testpki makes certificates for tests: a root CA, an
// intermediate CA under it, and server certificates the intermediate
// issues, so that verification has to use the chain a server sends. Keys
// are ECDSA P-256, quick to make.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// PKI is a root and an intermediate CA.
type PKI struct {
	// Roots trusts the root CA; give it to clients.
	Roots    *x509.CertPool
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
	serial   int64
}

// New makes a root and an intermediate CA valid for a day around now.
func New(t testing.TB) *PKI {
	t.Helper()
	now := time.Now()
	rootKey := newKey(t)
	root := sign(t, caTemplate(1, "Test Root CA", now), nil, &rootKey.PublicKey, rootKey)
	interKey := newKey(t)
	p := &PKI{Roots: x509.NewCertPool(), interKey: interKey, serial: 2}
	p.Roots.AddCert(root)
	p.inter = sign(t, caTemplate(2, "Test Intermediate CA", now), root, &interKey.PublicKey, rootKey)
	return p
}

func caTemplate(serial int64, name string, now time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
}

// Leaf issues a server certificate for names, valid from notBefore to
// notAfter, with the intermediate after it as a server sends it.
func (p *PKI) Leaf(t testing.TB, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key := newKey(t)
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leaf := sign(t, tmpl, p.inter, &key.PublicKey, p.interKey)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw, p.inter.Raw}, PrivateKey: key, Leaf: leaf}
}

// Valid issues a certificate for names valid for a day around now.
func (p *PKI) Valid(t testing.TB, names ...string) tls.Certificate {
	now := time.Now()
	return p.Leaf(t, names, now.Add(-time.Hour), now.Add(24*time.Hour))
}

// SelfSigned makes a certificate for names that signs itself, valid for a
// day around now, as a server set up without a CA has.
func SelfSigned(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	cert := sign(t, tmpl, nil, &key.PublicKey, key)
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// sign makes the certificate tmpl, signed by parent (itself when nil).
func sign(t testing.TB, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
