package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/mailtriage/mailtriage/dkim"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// DKIM results, as Authentication-Results names them (RFC 8601 §2.7.1).
const (
	DKIMPass      = "pass"
	DKIMFail      = "fail"      // the signature or the body hash does not verify
	DKIMPolicy    = "policy"    // verifiable, but refused by policy (l=)
	DKIMTempError = "temperror" // the key could not be looked up
	DKIMPermError = "permerror" // the signature or its key cannot be used
)

// DKIMResult is the verification of one DKIM-Signature field.
type DKIMResult struct {
	Domain    string `json:"domain"`
	Selector  string `json:"selector"`
	Algorithm string `json:"algorithm,omitempty"`
	// Identity is i=, decoded; "@" + domain when the signature has none.
	Identity         string   `json:"identity,omitempty"`
	Canonicalization string   `json:"canonicalization,omitempty"`
	SignedHeaders    []string `json:"signed_headers,omitempty"`
	Signed           string   `json:"signed,omitempty"`  // t=, RFC 3339
	Expires          string   `json:"expires,omitempty"` // x=, RFC 3339
	// KeyName is where the key is published; KeyType and KeyBits what it
	// is, when its record could be read; KeyTesting is its t=y.
	KeyName    string `json:"key_name,omitempty"`
	KeyType    string `json:"key_type,omitempty"`
	KeyBits    int    `json:"key_bits,omitempty"`
	KeyTesting bool   `json:"key_testing,omitempty"`
	Result     string `json:"result"`
	// Reason says in words why the result is not pass; Detail is the
	// verifier's own message.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Workaround names the go-msgauth bug worked around for this
	// signature, if any.
	Workaround string `json:"workaround,omitempty"`

	b string // b= as written, for matching Authentication-Results
}

// maxSignatures bounds the signatures verified in one message: each costs
// a key lookup and a pass over the body.
const maxSignatures = 16

// verifyDKIM verifies every DKIM-Signature field of m, looking keys up
// through r.
func verifyDKIM(ctx context.Context, r resolver.Resolver, m *message) []DKIMResult {
	sigFields := m.all("DKIM-Signature")
	if len(sigFields) == 0 {
		return nil
	}
	keys := &keyLookups{ctx: ctx, r: r, answers: map[string]resolver.Answer{}}
	verifs, err := msgdkim.VerifyWithOptions(bytes.NewReader(m.raw), &msgdkim.VerifyOptions{
		LookupTXT:        keys.lookupTXT,
		MaxVerifications: maxSignatures,
	})
	if err != nil && !errors.Is(err, msgdkim.ErrTooManySignatures) {
		verifs = nil // an unexpected failure: every signature says so below
	}
	out := make([]DKIMResult, len(sigFields))
	for i, f := range sigFields {
		var v *msgdkim.Verification
		if i < len(verifs) {
			v = verifs[i]
		}
		out[i] = judge(m, f, v, err, i, keys)
	}
	return out
}

// judge turns go-msgauth's verification of one signature into a result,
// correcting it where go-msgauth misreads the signature.
func judge(m *message, f field, v *msgdkim.Verification, verifyErr error, i int, keys *keyLookups) DKIMResult {
	sig, perr := ParseSignature(f.value)
	res := DKIMResult{
		Domain: sig.Domain, Selector: sig.Selector, Algorithm: sig.Algorithm, Identity: sig.Identity,
		SignedHeaders: sig.SignedHeaders, b: sig.B,
	}
	if sig.Algorithm != "" {
		res.Canonicalization = sig.HeaderCanon + "/" + sig.BodyCanon
	}
	if !sig.Timestamp.IsZero() {
		res.Signed = sig.Timestamp.Format(time.RFC3339)
	}
	if !sig.Expiration.IsZero() {
		res.Expires = sig.Expiration.Format(time.RFC3339)
	}
	if sig.Domain != "" && sig.Selector != "" {
		res.KeyName = sig.Selector + "._domainkey." + sig.Domain
		keys.describe(&res)
	}
	switch {
	case perr != nil:
		res.Result, res.Reason = DKIMPermError, perr.Error()
		if v != nil && v.Err == nil {
			res.Detail = "go-msgauth accepted it; RFC 6376 §6.1.1 does not"
		}
		return res
	case i >= maxSignatures:
		res.Result, res.Reason = DKIMPermError, fmt.Sprintf("not verified: the message has more than %d signatures", maxSignatures)
		return res
	case v == nil:
		res.Result, res.Reason = DKIMPermError, fmt.Sprintf("the verifier stopped: %v", verifyErr)
		return res
	case sig.msgauthBlanksOther(f.value):
		// go-msgauth hashed the field with more than b='s value
		// emptied: its result, pass or fail, is not RFC 6376's.
		res.Workaround = "only the value of the b= tag left out of the hash (RFC 6376 §3.7); go-msgauth also empties \"b=\" inside other tags (z=), and fails the signature"
		res.Result, res.Reason, res.Detail = verifyFallback(m, f, sig, keys)
	case v.Err == nil:
		res.Result = DKIMPass
		if reason := keys.strict(sig); reason != "" {
			res.Workaround = "t=s read from the key record (go-msgauth ignores it)"
			res.Result, res.Reason = DKIMPermError, reason
		}
	case msgdkim.IsPermFail(v.Err) && sig.msgauthRefusesIdentity():
		// The signature parsed above shows i= is within d=: go-msgauth's
		// refusal is its misreading, so verify the signature here.
		res.Workaround = "i= read case-insensitively and quoted-printable decoded (go-msgauth refuses it: \"domain mismatch\")"
		res.Result, res.Reason, res.Detail = verifyFallback(m, f, sig, keys)
	default:
		res.Result, res.Reason = explain(m, f, v.Err, sig, keys)
		res.Detail = strings.TrimPrefix(v.Err.Error(), "dkim: ")
	}
	if m.bodyless && res.Workaround == "" {
		res.Workaround = "the message has no body: verified with the empty body, one CRLF (go-msgauth cannot read a header alone)"
	}
	if res.KeyTesting && res.Result != DKIMPass {
		res.Reason += "; the key has t=y (testing): receivers treat the failure as no signature"
	}
	return res
}

// explain says why go-msgauth gave err, in words a sender can act on.
// go-msgauth tells its errors apart only as permanent, temporary or
// neither (IsPermFail, IsTempFail; the rest in their text), so the reason
// is that of our own verification, which makes the same checks in the
// same order; go-msgauth's own words are the reason only where the two
// disagree on the result.
func explain(m *message, f field, err error, sig *Signature, keys *keyLookups) (result, reason string) {
	theirs := DKIMFail
	switch {
	case msgdkim.IsTempFail(err):
		theirs = DKIMTempError
	case msgdkim.IsPermFail(err):
		theirs = DKIMPermError
	}
	ours, reason, _ := verifyFallback(m, f, sig, keys)
	// go-msgauth refuses l= as a failure; it is a refusal by policy
	// (RFC 8601 §2.7.1).
	if ours == theirs || ours == DKIMPolicy && theirs == DKIMFail {
		return ours, reason
	}
	return theirs, strings.TrimPrefix(err.Error(), "dkim: ")
}

// keyLookups answers go-msgauth's key lookups through our resolver, so
// "no such key" (NXDOMAIN, NODATA) is a permanent error and a failed
// lookup a temporary one, and keeps the answers for the report.
type keyLookups struct {
	ctx     context.Context
	r       resolver.Resolver
	mu      sync.Mutex
	answers map[string]resolver.Answer
	keys    map[string]parsedKey
}

type parsedKey struct {
	key *dkim.Key
	err error
}

// key reads the key record at name with dkim.Parse, once per name; the
// caller has checked that name has one TXT record.
func (k *keyLookups) key(name string) (*dkim.Key, error) {
	a := k.answer(name)
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	k.mu.Lock()
	defer k.mu.Unlock()
	p, ok := k.keys[name]
	if !ok {
		p.key, p.err = dkim.Parse(strings.Join(a.TXT(), ""))
		if k.keys == nil {
			k.keys = map[string]parsedKey{}
		}
		k.keys[name] = p
	}
	return p.key, p.err
}

func (k *keyLookups) answer(name string) resolver.Answer {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	k.mu.Lock()
	a, ok := k.answers[name]
	k.mu.Unlock()
	if ok {
		return a
	}
	a = k.r.Lookup(k.ctx, name, dns.TypeTXT)
	k.mu.Lock()
	k.answers[name] = a
	k.mu.Unlock()
	return a
}

// lookupTXT has the shape of go-msgauth's VerifyOptions.LookupTXT, which
// reads a temporary net.Error as temperror and any other error as
// permerror.
func (k *keyLookups) lookupTXT(name string) ([]string, error) {
	a := k.answer(name)
	switch a.Status {
	case resolver.OK:
		return a.TXT(), nil
	case resolver.NXDomain, resolver.NoData:
		return nil, &net.DNSError{Err: a.Status.String(), Name: name, IsNotFound: true}
	}
	msg := a.Status.String()
	if a.Err != nil {
		msg = a.Err.Error()
	}
	return nil, &net.DNSError{Err: msg, Name: name, IsTemporary: true}
}

// strict says why the key of sig, which go-msgauth verified the
// signature with, refuses its i= by t=s; "" when it does not.
func (k *keyLookups) strict(sig *Signature) string {
	name := sig.Selector + "._domainkey." + sig.Domain
	if a := k.answer(name); a.Status != resolver.OK || len(a.TXT()) != 1 {
		return ""
	}
	key, err := k.key(name)
	if err != nil {
		return ""
	}
	return strictIdentity(key, sig, name)
}

// describe fills in the key's type and size from its record, when it has
// one the dkim package can read.
func (k *keyLookups) describe(res *DKIMResult) {
	a := k.answer(res.KeyName)
	if a.Status != resolver.OK || len(a.TXT()) != 1 {
		return
	}
	key, err := k.key(res.KeyName)
	if err != nil {
		return
	}
	res.KeyType, res.KeyBits, res.KeyTesting = key.Type, key.Bits, key.Testing
}
