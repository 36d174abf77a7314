// Package dkim reads DKIM public key records, the TXT records at
// <selector>._domainkey.<domain> (RFC 6376 §3.6.1), and says what a
// receiver will make of them: the key type and size (RFC 8301 requires
// rsa-sha256 with keys of at least 1024 bits and recommends 2048; RFC 8463
// adds ed25519), a revoked key (empty p=), testing mode (t=y), a key
// restricted to sha1 (h=sha1), and a CNAME that delegates the key to an
// email service.
//
// Signing and verifying messages are not here: this package checks what a
// domain publishes.
package dkim

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Key is a parsed key record.
type Key struct {
	Type string // k=: "rsa" (the default) or "ed25519", in lower case
	// TypeWritten is k= as the record writes it; "" when absent. Tag
	// values are case-sensitive (RFC 6376 §3.2): a verifier that reads
	// them so does not know k=RSA, and refuses the key.
	TypeWritten string
	Bits        int      // the key size; 256 for ed25519; 0 when revoked or unreadable
	Revoked     bool     // p= is empty (RFC 6376 §3.6.1)
	Testing     bool     // t=y: receivers treat failures as no signature
	Strict      bool     // t=s: the i= domain must equal d=
	Hashes      []string // h=, when given: the hash algorithms allowed
	Service     []string // s=, when given
	Notes       string   // n=
	// Public is the key itself, *rsa.PublicKey or ed25519.PublicKey; nil
	// when revoked or unreadable.
	Public crypto.PublicKey
	// Problems are syntax errors and readings to know about.
	Problems []string
}

// The RSA key sizes of RFC 8301 §3.2: verifiers must not accept keys
// shorter than MinRSABits, and signers are to use at least NormRSABits
// (2048), which Gmail, Yahoo and M3AAWG ask for too.
const (
	MinRSABits  = 1024
	NormRSABits = 2048
)

// Strength judges a key's size.
type Strength int

const (
	StrengthOK       Strength = iota // not an RSA key, its size unknown, or 2048 bits and more
	StrengthWeak                     // RSA under NormRSABits: valid, below the norm
	StrengthTooShort                 // RSA under MinRSABits: verifiers ignore it
)

// KeyStrength judges a key of type keyType ("rsa", "ed25519") and bits
// bits by RFC 8301 §3.2; bits 0 (revoked, unreadable) is no judgement.
func KeyStrength(keyType string, bits int) Strength {
	switch {
	case keyType != "rsa" || bits <= 0:
		return StrengthOK
	case bits < MinRSABits:
		return StrengthTooShort
	case bits < NormRSABits:
		return StrengthWeak
	}
	return StrengthOK
}

// TypeMiswritten reports whether the record writes k= other than in lower
// case (k=RSA). Tag values are case-sensitive (RFC 6376 §3.2), so a
// verifier that reads them so does not know the key type and refuses the
// key, while others read it as Type.
func (k *Key) TypeMiswritten() bool { return k.TypeWritten != "" && k.TypeWritten != k.Type }

// Parse reads a key record. It fails when the text is not a key record
// at all; a key that can't be read is a Problem.
func Parse(txt string) (*Key, error) {
	k := &Key{Type: "rsa"}
	list, err := ParseTagList(txt)
	for _, e := range splitErrors(err) {
		if errors.Is(e, ErrDuplicateTag) {
			// RFC 6376 §3.2: a tag twice makes the record invalid.
			return nil, fmt.Errorf("dkim: %w", e)
		}
		if e != nil {
			k.Problems = append(k.Problems, e.Error())
		}
	}
	tags := map[string]string{}
	for _, t := range list {
		tags[t.Name] = strings.Join(strings.Fields(t.Value), "") // values may be folded
	}
	if v, ok := tags["v"]; ok && v != "DKIM1" {
		return nil, fmt.Errorf("dkim: v=%s is not DKIM1", v)
	}
	p, ok := tags["p"]
	if !ok {
		return nil, errors.New("dkim: no p= tag: not a DKIM key record")
	}
	if t, ok := tags["k"]; ok {
		k.Type, k.TypeWritten = strings.ToLower(t), t
	}
	for _, f := range strings.Split(tags["t"], ":") {
		switch strings.TrimSpace(f) {
		case "y":
			k.Testing = true
		case "s":
			k.Strict = true
		}
	}
	if h, ok := tags["h"]; ok {
		k.Hashes = strings.Split(h, ":")
	}
	if s, ok := tags["s"]; ok {
		k.Service = strings.Split(s, ":")
	}
	k.Notes = tags["n"]
	if p == "" {
		k.Revoked = true
		return k, nil
	}
	k.readKey(p)
	return k, nil
}

// readKey decodes p= and measures the key.
func (k *Key) readKey(p string) {
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		k.Problems = append(k.Problems, "p= is not valid base64: "+err.Error())
		return
	}
	switch k.Type {
	case "ed25519":
		// RFC 8463 §4.2: the 32 raw bytes of the public key.
		if len(der) != ed25519.PublicKeySize {
			k.Problems = append(k.Problems, fmt.Sprintf("an ed25519 key has 32 bytes, this one %d", len(der)))
			return
		}
		k.Bits, k.Public = 256, ed25519.PublicKey(der)
	case "rsa":
		// RFC 6376 §3.6.1 says SubjectPublicKeyInfo; some publish the bare
		// RSAPublicKey (PKCS #1), which most verifiers accept too.
		if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
			if rk, ok := pub.(*rsa.PublicKey); ok {
				k.Bits, k.Public = rk.N.BitLen(), rk
				return
			}
			k.Problems = append(k.Problems, "k=rsa, but p= holds another kind of key")
			return
		}
		if rk, err := x509.ParsePKCS1PublicKey(der); err == nil {
			k.Bits, k.Public = rk.N.BitLen(), rk
			k.Problems = append(k.Problems, "p= is a bare PKCS #1 key, not the SubjectPublicKeyInfo RFC 6376 asks for; some verifiers refuse it")
			return
		}
		k.Problems = append(k.Problems, "p= is not an RSA public key")
	default:
		k.Problems = append(k.Problems, fmt.Sprintf("unknown key type k=%s", k.Type))
	}
}

// SHA1Only reports whether h= allows sha1 and nothing stronger: RFC 8301
// forbids rsa-sha1, so such a key verifies nothing.
func (k *Key) SHA1Only() bool {
	if len(k.Hashes) == 0 {
		return false
	}
	for _, h := range k.Hashes {
		if strings.TrimSpace(h) != "sha1" {
			return false
		}
	}
	return true
}

// Selector is what one selector of a domain publishes.
type Selector struct {
	Selector string
	Name     string // <selector>._domainkey.<domain>
	Status   resolver.Status
	Err      error
	Raw      string
	Key      *Key
	ParseErr error
	// CNAMEs is the delegation, when the key record is a CNAME to an
	// email service (selector1._domainkey.example.com → ...onmicrosoft.com).
	CNAMEs []string
}

// Found reports whether the selector has a key record.
func (s Selector) Found() bool { return s.Raw != "" }

// CommonSelectors are tried when none are given: those of the services
// most domains send through (Google, Microsoft 365, Mailchimp, SendGrid,
// Amazon SES custom, Zoho, Mailgun, Postmark, ...) and generic names.
var CommonSelectors = []string{
	"google", "selector1", "selector2", "k1", "k2", "k3", "s1", "s2", "smtpapi", "mandrill", "mte1",
	"default", "dkim", "mail", "email", "mx", "smtp", "key1", "key2", "zoho", "zmail", "pm", "mg", "krs",
	"everlytickey1", "everlytickey2", "sig1", "mxvault", "cm", "dk", "20230601", "20221208", "20161025",
}

// Lookup reads the key records of the selectors at domain, all at once.
func Lookup(ctx context.Context, r resolver.Resolver, domain string, selectors []string) []Selector {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	out := make([]Selector, len(selectors))
	var wg sync.WaitGroup
	for i, sel := range selectors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = lookupOne(ctx, r, domain, sel)
		}()
	}
	wg.Wait()
	return out
}

func lookupOne(ctx context.Context, r resolver.Resolver, domain, sel string) Selector {
	s := Selector{Selector: sel, Name: sel + "._domainkey." + domain}
	a := r.Lookup(ctx, s.Name, dns.TypeTXT)
	s.Status, s.Err, s.CNAMEs = a.Status, a.Err, a.CNAMEs
	var keys []string
	for _, t := range a.TXT() {
		if strings.Contains(t, "p=") {
			keys = append(keys, t)
		}
	}
	switch len(keys) {
	case 0:
		return s
	case 1:
	default:
		s.ParseErr = fmt.Errorf("dkim: %s has %d key records; verifiers may take any of them", s.Name, len(keys))
	}
	s.Raw = keys[0]
	k, err := Parse(s.Raw)
	s.Key = k
	if err != nil && s.ParseErr == nil {
		s.ParseErr = err
	}
	return s
}
