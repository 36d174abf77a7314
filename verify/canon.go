package verify

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/dkim"
	"github.com/mailtriage/mailtriage/resolver"
)

// verifyFallback verifies a signature as RFC 6376 §6.1.2 and §6.1.3 say,
// for the signatures go-msgauth misjudges because it misreads i= or
// empties "b=" inside other tags. It makes
// the same checks go-msgauth makes after i=, in the same order, so both
// paths agree on every other signature (the tests compare them).
func verifyFallback(m *message, f field, sig *Signature, keys *keyLookups) (result, reason, detail string) {
	if !sig.Expiration.IsZero() && time.Now().After(sig.Expiration) {
		return DKIMPermError, fmt.Sprintf("the signature expired at %s (x=); it may have verified when the message arrived", sig.Expiration.Format(time.RFC3339)), "signature has expired"
	}
	keyName := sig.Selector + "._domainkey." + sig.Domain
	a := keys.answer(keyName)
	switch {
	case a.Status == resolver.NXDomain || a.Status == resolver.NoData:
		return DKIMPermError, fmt.Sprintf("no key at %s (%s): the selector is wrong, or the key was removed", keyName, a.Status), ""
	case a.Status != resolver.OK:
		return DKIMTempError, fmt.Sprintf("the key at %s could not be looked up (%s); a later try may find it", keyName, a.Status), ""
	case len(a.TXT()) != 1:
		return DKIMPermError, fmt.Sprintf("%s has several TXT records; a verifier cannot tell which is the key (RFC 6376 §3.6.2.2)", keyName), ""
	}
	key, err := keys.key(keyName)
	if err != nil {
		return DKIMPermError, fmt.Sprintf("the key record at %s is broken: %s", keyName, strings.TrimPrefix(err.Error(), "dkim: ")), ""
	}
	if reason := unusable(key, keyName); reason != "" {
		return DKIMPermError, reason, ""
	}
	if reason := strictIdentity(key, sig, keyName); reason != "" {
		return DKIMPermError, reason, ""
	}
	if key.Hashes != nil && !slices.Contains(key.Hashes, sig.HashAlgorithm) {
		return DKIMPermError, fmt.Sprintf("the key at %s allows h=%s, not %s", keyName, strings.Join(key.Hashes, ":"), sig.HashAlgorithm), ""
	}
	switch {
	case sig.HashAlgorithm == "sha1":
		return DKIMPermError, fmt.Sprintf("a=%s: SHA-1 signatures are not valid since RFC 8301 §3.1", sig.Algorithm), ""
	case sig.HashAlgorithm != "sha256":
		return DKIMPermError, fmt.Sprintf("a=%s: hash algorithm unknown", sig.Algorithm), ""
	case key.Type != sig.KeyAlgorithm:
		return DKIMPermError, fmt.Sprintf("a=%s, but the key at %s is %s", sig.Algorithm, keyName, key.Type), ""
	case key.Service != nil && !slices.Contains(key.Service, "email"):
		// RFC 6376 §3.6.1 lets "*" stand for any service; go-msgauth
		// wants "email" itself.
		return DKIMPermError, fmt.Sprintf("the key at %s is for s=%s, not email (RFC 6376 §3.6.1)", keyName, strings.Join(key.Service, ":")), ""
	}
	cb := canonicalBody(m.body, sig.BodyCanon)
	if sig.BodyLength > int64(len(cb)) {
		return DKIMFail, fmt.Sprintf("l=%d is longer than the body (%d bytes canonicalized): the body was cut after signing", sig.BodyLength, len(cb)), "body hash did not verify"
	}
	if sig.BodyLength >= 0 {
		// RFC 6376 §3.4.5: the hash covers the first l bytes.
		cb = cb[:sig.BodyLength]
	}
	bh := sha256.Sum256(cb)
	if subtle.ConstantTimeCompare(bh[:], sig.BodyHash) != 1 {
		return DKIMFail, "the body hash does not match: the body was changed after signing (a footer added, re-encoded, lines rewrapped)", "body hash did not verify"
	}
	hashed := headerHash(m, f, sig)
	switch k := key.Public.(type) {
	case *rsa.PublicKey:
		err = rsa.VerifyPKCS1v15(k, crypto.SHA256, hashed, sig.Data)
	case ed25519.PublicKey:
		// RFC 8463 §3: Ed25519 signs the SHA-256 hash of the data.
		if !ed25519.Verify(k, hashed, sig.Data) {
			err = fmt.Errorf("invalid Ed25519 signature")
		}
	}
	if err != nil {
		return DKIMFail, fmt.Sprintf("the signature does not verify: a signed header field (%s) was changed after signing, or the key at %s is not the one that signed", strings.Join(sig.SignedHeaders, ":"), keyName), err.Error()
	}
	if sig.BodyLength >= 0 {
		// Verified, but over part of the body: "policy" (RFC 8601
		// §2.7.1), a signature that verifies and is not accepted.
		return DKIMPolicy, fmt.Sprintf("l=%d signs only the first bytes of the body, so anything may follow them; the signature verifies, but is refused as go-msgauth refuses it", sig.BodyLength), ""
	}
	return DKIMPass, "", ""
}

// headerHash hashes the signed header fields and the signature field
// itself with b= empty (RFC 6376 §3.7, §5.4.2: each name of h= takes the
// bottom-most instance not yet used).
func headerHash(m *message, sigField field, sig *Signature) []byte {
	h := sha256.New()
	used := map[int]bool{}
	for _, name := range sig.SignedHeaders {
		for i := len(m.fields) - 1; i >= 0; i-- {
			if !used[i] && strings.EqualFold(m.fields[i].Name, strings.TrimSpace(name)) {
				used[i] = true
				h.Write([]byte(canonicalHeader(m.fields[i].Raw, sig.HeaderCanon) + "\r\n"))
				break
			}
		}
	}
	// The value parsed starts after the colon: the offsets of b= are
	// relative to it.
	colon := strings.IndexByte(sigField.Raw, ':') + 1
	unsigned := sigField.Raw[:colon+sig.bStart] + sigField.Raw[colon+sig.bEnd:]
	h.Write([]byte(canonicalHeader(unsigned, sig.HeaderCanon)))
	return h.Sum(nil)
}

// canonicalHeader canonicalizes one field, without its final CRLF
// (RFC 6376 §3.4.1, §3.4.2).
func canonicalHeader(raw, canon string) string {
	if canon != "relaxed" {
		return raw
	}
	name, value, _ := strings.Cut(raw, ":")
	value = strings.Join(strings.FieldsFunc(value, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}), " ")
	return strings.ToLower(strings.TrimSpace(name)) + ":" + value
}

// canonicalBody canonicalizes a body (RFC 6376 §3.4.3, §3.4.4): relaxed
// reduces whitespace runs to one space and drops it at line ends; both
// drop empty lines at the end; simple makes an empty body one CRLF.
func canonicalBody(body []byte, canon string) []byte {
	if canon == "relaxed" {
		lines := bytes.Split(body, []byte("\r\n"))
		for i, l := range lines {
			l = bytes.Join(bytes.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == '\t' }), []byte(" "))
			if len(l) > 0 && (lines[i][0] == ' ' || lines[i][0] == '\t') {
				l = append([]byte(" "), l...)
			}
			lines[i] = l
		}
		body = bytes.Join(lines, []byte("\r\n"))
	}
	for bytes.HasSuffix(body, []byte("\r\n")) {
		body = body[:len(body)-2]
	}
	if len(body) == 0 && canon == "relaxed" {
		return nil
	}
	return append(body[:len(body):len(body)], "\r\n"...)
}

// strictIdentity says why a key with t=s refuses the signature's i=; ""
// when it does not. RFC 6376 §3.6.1: under t=s the domain of i= must be
// d= itself, not a subdomain of it. go-msgauth does not read t=.
func strictIdentity(key *dkim.Key, sig *Signature, keyName string) string {
	if !key.Strict {
		return ""
	}
	id := strings.TrimSuffix(strings.ToLower(sig.Identity[strings.LastIndexByte(sig.Identity, '@')+1:]), ".")
	if id == sig.Domain {
		return ""
	}
	return fmt.Sprintf("the key at %s has t=s, so i= must be in d=%s itself, and i=%s is in a subdomain (RFC 6376 §3.6.1)", keyName, sig.Domain, sig.Identity)
}

// unusable says why a key read from its record cannot verify anything,
// with the checks go-msgauth makes; "" when it can.
func unusable(key *dkim.Key, keyName string) string {
	switch {
	case key.Revoked:
		return fmt.Sprintf("the key at %s is revoked (p= is empty, RFC 6376 §3.6.1)", keyName)
	case key.Public == nil:
		return fmt.Sprintf("the key record at %s is broken: %s", keyName, strings.Join(key.Problems, "; "))
	case key.TypeMiswritten():
		// RFC 6376 §3.2: tag values are case-sensitive; go-msgauth
		// refuses k=RSA as an unknown key type.
		return fmt.Sprintf("the key at %s has k=%s, a key type unknown: tag values are case-sensitive (RFC 6376 §3.2); it must be k=%s", keyName, key.TypeWritten, key.Type)
	}
	// go-msgauth measures the modulus in whole bytes.
	if k, ok := key.Public.(*rsa.PublicKey); ok && k.Size()*8 < dkim.MinRSABits {
		return fmt.Sprintf("the key at %s is too short: %d bits; RFC 8301 §3.2 requires at least %d", keyName, k.Size()*8, dkim.MinRSABits)
	}
	return ""
}
