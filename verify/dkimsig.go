package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/dkim"
)

// Signature is a DKIM-Signature header field read tag by tag (RFC 6376
// §3.5), before and apart from go-msgauth, which neither returns the
// selector and algorithm nor reads i= right.
type Signature struct {
	Version string
	// Algorithm is a=, lower case ("rsa-sha256"); KeyAlgorithm and
	// HashAlgorithm are its two halves.
	Algorithm, KeyAlgorithm, HashAlgorithm string
	// Domain is d= in lower case; Selector is s=.
	Domain, Selector string
	// Identity is i=, decoded from dkim-quoted-printable (§2.11);
	// "@" + Domain when i= is absent (§3.5).
	Identity string
	// HeaderCanon and BodyCanon are c=: "simple" or "relaxed".
	HeaderCanon, BodyCanon string
	// SignedHeaders is h=, as written.
	SignedHeaders []string
	// BodyLength is l=, or -1 when the whole body is signed.
	BodyLength int64
	// Timestamp and Expiration are t= and x=; zero when absent.
	Timestamp, Expiration time.Time
	// BodyHash is bh= and Data is b=, decoded.
	BodyHash, Data []byte
	// B is b= as written, without folding whitespace: RFC 6008 names a
	// signature in Authentication-Results by its first characters.
	B string
	// Problems are what is odd without invalidating the signature.
	Problems []string

	// bStart and bEnd delimit b='s value in the text parsed, so the value
	// can be left out of the hash (§3.7).
	bStart, bEnd int
	// rawI and rawD are i= and d= as written, for telling where
	// go-msgauth misreads them; hasI says i= is there.
	rawI, rawD string
	hasI       bool
}

// msgauthRefusesIdentity reports whether go-msgauth v0.7 refuses the
// signature's i= ("domain mismatch"): it compares i= with d= byte for
// byte, in the case written and without decoding dkim-quoted-printable,
// where RFC 6376 §3.5 and §2.11 do both.
func (s *Signature) msgauthRefusesIdentity() bool {
	if !s.hasI {
		return false
	}
	id, d := stripFWS(s.rawI), stripFWS(s.rawD)
	return !strings.HasSuffix(id, "@"+d) && !strings.HasSuffix(id, "."+d)
}

// msgauthBlanks is go-msgauth v0.7's way of emptying b= before hashing
// the signature field (removeSignature in its verify.go): every "b=" in
// the field, whatever tag it is in.
var msgauthBlanks = regexp.MustCompile(`(b\s*=)[^;]+`)

// msgauthBlanksOther reports whether go-msgauth v0.7, hashing the
// signature field value (as parsed into s), empties text other than the
// value of b=: "b=" inside another tag, as z= copies of header fields
// hold ("Club=20news", "Bob=20<bob@example.com>"), so that it hashes
// what was not signed and fails a good signature. RFC 6376 §3.7 empties
// the value of the b= tag alone.
func (s *Signature) msgauthBlanksOther(value string) bool {
	for _, m := range msgauthBlanks.FindAllStringSubmatchIndex(value, -1) {
		// m[3] is where the match's "b=" ends, and where b='s own value
		// starts when the match is the b= tag.
		if m[3] != s.bStart {
			return true
		}
	}
	return false
}

// requiredTags are the tags every signature has (RFC 6376 §3.5).
var requiredTags = []string{"v", "a", "b", "bh", "d", "h", "s"}

// ErrSignature is wrapped by every reason ParseSignature rejects a
// signature for.
var ErrSignature = errors.New("invalid DKIM-Signature")

// ParseSignature reads the value of a DKIM-Signature header field (what
// follows the colon, folded or not). An error means a verifier must
// treat the signature as PERMFAIL (RFC 6376 §3.2, §6.1.1): a tag-list
// that does not parse, a duplicate or missing required tag, an
// incompatible version, an unreadable base64 value, From not signed, an
// i= outside d=. The Signature holds what could be read even then.
func ParseSignature(value string) (*Signature, error) {
	s := &Signature{BodyLength: -1, HeaderCanon: "simple", BodyCanon: "simple", bStart: -1}
	tags, err := dkim.ParseTagList(value)
	if err != nil {
		// RFC 6376 §3.2: a part that is not a tag-spec, or a tag named
		// twice, makes the signature invalid; the tags that could be read
		// still say whose signature it is.
		for _, t := range tags {
			_ = s.tag(t)
		}
		return s, fmt.Errorf("%w: %s", ErrSignature, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		seen[t.Name] = true
		if err := s.tag(t); err != nil {
			return s, err
		}
	}
	var missing []string
	for _, name := range requiredTags {
		if !seen[name] {
			missing = append(missing, name+"=")
		}
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("%w: required tag %s missing (RFC 6376 §3.5)", ErrSignature, strings.Join(missing, ", "))
	}
	if s.Identity == "" {
		s.Identity = "@" + s.Domain
	}
	return s, s.check()
}

// tag reads one tag into s.
func (s *Signature) tag(t dkim.Tag) error {
	v := t.Value
	switch t.Name {
	case "v":
		s.Version = v
	case "a":
		s.Algorithm = strings.ToLower(v)
		k, h, ok := strings.Cut(s.Algorithm, "-")
		if !ok {
			return fmt.Errorf("%w: a=%s is not key-hash (rsa-sha256, ed25519-sha256)", ErrSignature, v)
		}
		s.KeyAlgorithm, s.HashAlgorithm = k, h
	case "d":
		s.Domain, s.rawD = strings.TrimSuffix(strings.ToLower(v), "."), v
	case "s":
		s.Selector = v
	case "i":
		s.rawI, s.hasI = v, true
		id, err := decodeQP(v)
		if err != nil {
			return fmt.Errorf("%w: i=%s: %v", ErrSignature, v, err)
		}
		s.Identity = id
	case "c":
		h, b, _ := strings.Cut(strings.ToLower(v), "/")
		if h != "" {
			s.HeaderCanon = h
		}
		if b != "" {
			s.BodyCanon = b
		}
		for _, c := range []string{s.HeaderCanon, s.BodyCanon} {
			if c != "simple" && c != "relaxed" {
				return fmt.Errorf("%w: c=%s: canonicalization %q is not simple or relaxed", ErrSignature, v, c)
			}
		}
	case "h":
		s.SignedHeaders = append(s.SignedHeaders, strings.Split(stripFWS(v), ":")...)
	case "l":
		n, err := strconv.ParseInt(stripFWS(v), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: l=%s is not a length", ErrSignature, v)
		}
		s.BodyLength = n
	case "t", "x":
		n, err := strconv.ParseInt(stripFWS(v), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: %s=%s is not a time in seconds", ErrSignature, t.Name, v)
		}
		if t.Name == "t" {
			s.Timestamp = time.Unix(n, 0).UTC()
		} else {
			s.Expiration = time.Unix(n, 0).UTC()
		}
	case "bh", "b":
		b, err := base64.StdEncoding.DecodeString(stripFWS(v))
		if err != nil {
			return fmt.Errorf("%w: %s= is not base64: %v", ErrSignature, t.Name, err)
		}
		if t.Name == "bh" {
			s.BodyHash = b
		} else {
			s.Data, s.B = b, stripFWS(v)
			s.bStart, s.bEnd = t.Start, t.End
		}
	case "q":
		for _, m := range strings.Split(stripFWS(v), ":") {
			if m != "dns/txt" {
				s.Problems = append(s.Problems, fmt.Sprintf("q=%s: query method %q unknown; dns/txt is the only one", v, m))
			}
		}
	}
	return nil
}

// check applies RFC 6376 §6.1.1 to the tags read.
func (s *Signature) check() error {
	if s.Version != "1" {
		return fmt.Errorf("%w: v=%s: incompatible version (want 1)", ErrSignature, s.Version)
	}
	if s.Domain == "" {
		return fmt.Errorf("%w: d= is empty", ErrSignature)
	}
	if s.Selector == "" {
		return fmt.Errorf("%w: s= is empty", ErrSignature)
	}
	from := false
	for _, h := range s.SignedHeaders {
		from = from || strings.EqualFold(h, "from")
	}
	if !from {
		return fmt.Errorf("%w: h= does not sign the From field (RFC 6376 §5.4)", ErrSignature)
	}
	at := strings.LastIndexByte(s.Identity, '@')
	if at < 0 {
		// The ABNF of §3.5 requires the "@"; verifiers tend to let it
		// pass, so it is a problem, not a PERMFAIL.
		s.Problems = append(s.Problems, fmt.Sprintf("i=%s has no @", s.Identity))
	}
	// §3.5 and §6.1.1: the domain of i= is d= or a subdomain of it. Domain
	// names compare without regard to case (RFC 4343).
	idDomain := strings.TrimSuffix(strings.ToLower(s.Identity[at+1:]), ".")
	if idDomain != s.Domain && !strings.HasSuffix(idDomain, "."+s.Domain) {
		return fmt.Errorf("%w: the domain of i=%s is neither d=%s nor a subdomain of it", ErrSignature, s.Identity, s.Domain)
	}
	if !s.Expiration.IsZero() && !s.Timestamp.IsZero() && s.Expiration.Before(s.Timestamp) {
		s.Problems = append(s.Problems, "x= is before t=: the signature expired before it was made (RFC 6376 §3.5)")
	}
	return nil
}

// decodeQP decodes dkim-quoted-printable (RFC 6376 §2.11): "=XX" is the
// byte XX, and folding whitespace is not part of the value.
func decodeQP(s string) (string, error) {
	s = stripFWS(s)
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", errors.New("quoted-printable escape cut short")
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("quoted-printable escape %q is not =XX", s[i:i+3])
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}

// stripFWS removes the folding whitespace a tag value may hold.
func stripFWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
