package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailtriage/mailtriage/dkim"
	"github.com/mailtriage/mailtriage/resolver"
)

// DKIMSummary is one selector with a key.
type DKIMSummary struct {
	Selector  string   `json:"selector"`
	Name      string   `json:"name"`
	KeyType   string   `json:"key_type"`
	KeyBits   int      `json:"key_bits"`
	Testing   bool     `json:"testing"`
	Revoked   bool     `json:"revoked"`
	Delegated []string `json:"delegated_to,omitempty"`
}

func checkDKIM(ctx context.Context, r resolver.Resolver, domain string, selectors []string, p *part) []DKIMSummary {
	given := len(selectors) > 0
	if !given {
		selectors = dkim.CommonSelectors
	}
	var out []DKIMSummary
	found := 0
	for _, s := range dkim.Lookup(ctx, r, domain, selectors) {
		ev := []string{s.Name + " TXT: " + s.Status.String()}
		if s.Found() {
			ev = []string{fmt.Sprintf("%s TXT %q", s.Name, s.Raw)}
		}
		switch {
		case !s.Status.Known() && given:
			p.find("dkim.unknown", fmt.Sprintf("the key of selector %s could not be looked up: %v", s.Selector, s.Err), "check again, or with another --resolver", ev...)
			continue
		case !s.Found():
			if given {
				p.find("dkim.selector-missing", fmt.Sprintf("selector %s has no DKIM key at %s: receivers fail every signature made with it", s.Selector, s.Name),
					"publish the key your signer uses at "+s.Name+", or correct the selector in the signer", ev...)
			}
			continue
		}
		found++
		sum := DKIMSummary{Selector: s.Selector, Name: s.Name, Delegated: s.CNAMEs}
		if s.Key != nil {
			sum.KeyType, sum.KeyBits, sum.Testing, sum.Revoked = s.Key.Type, s.Key.Bits, s.Key.Testing, s.Key.Revoked
		}
		out = append(out, sum)
		dkimKeyFindings(p, s, given, ev)
	}
	switch {
	case found > 0:
		p.check("dkim.key", "dkim.strength", "dkim.mode")
	case !given:
		p.find("dkim.not-found", fmt.Sprintf("none of %d common selectors has a key at %s; the selector your mail is signed with is in its DKIM-Signature header (s=)", len(selectors), domain),
			"give it with --selector", "tried: "+strings.Join(selectors, ", "))
	}
	return out
}

// dkimKeyFindings judges one key record.
func dkimKeyFindings(p *part, s dkim.Selector, given bool, ev []string) {
	if len(s.CNAMEs) > 0 {
		p.find("dkim.delegated", fmt.Sprintf("selector %s is delegated by CNAME to %s: that service publishes and rotates the key", s.Selector, s.CNAMEs[len(s.CNAMEs)-1]),
			"nothing to do; if the key below is weak, ask the service to rotate it", ev...)
	}
	if s.ParseErr != nil || s.Key == nil {
		p.find("dkim.syntax", fmt.Sprintf("selector %s: %v", s.Selector, s.ParseErr), "publish one valid key record: v=DKIM1; k=rsa; p=<base64 key>", ev...)
		return
	}
	k := s.Key
	for _, pr := range k.Problems {
		if strings.Contains(pr, "PKCS #1") {
			p.find("dkim.pkcs1", fmt.Sprintf("selector %s: %s", s.Selector, pr), "publish the key as SubjectPublicKeyInfo (openssl rsa -pubout)", ev...)
			continue
		}
		p.find("dkim.syntax", fmt.Sprintf("selector %s: %s", s.Selector, pr), "publish one valid key record: v=DKIM1; k=rsa; p=<base64 key>", ev...)
	}
	switch {
	case k.Revoked && given:
		p.find("dkim.revoked", fmt.Sprintf("selector %s is revoked (empty p=): signatures made with it fail", s.Selector), "sign with a current selector, or publish its key", ev...)
	case k.Revoked:
	case k.Type == "rsa" && k.Bits > 0 && k.Bits < 1024:
		p.find("dkim.key-too-short", fmt.Sprintf("selector %s has a %d-bit RSA key: RFC 8301 §3.2 tells verifiers to ignore it", s.Selector, k.Bits), rotateFix(s), ev...)
	case k.Type == "rsa" && k.Bits > 0 && k.Bits < 2048:
		p.find("dkim.key-weak", fmt.Sprintf("selector %s has a %d-bit RSA key; 2048 bits is the norm (RFC 8301 §3.2)", s.Selector, k.Bits), rotateFix(s), ev...)
	}
	if k.SHA1Only() {
		p.find("dkim.sha1-only", fmt.Sprintf("selector %s allows only sha1 (h=sha1), which RFC 8301 §3.1 forbids: its signatures fail", s.Selector), "remove h= or set h=sha256, and sign with rsa-sha256", ev...)
	}
	if k.Testing {
		p.find("dkim.testing", fmt.Sprintf("selector %s is in testing mode (t=y): some receivers treat its failures as no signature", s.Selector), "remove t=y once signing works", ev...)
	}
}

func rotateFix(s dkim.Selector) string {
	return fmt.Sprintf("generate a 2048-bit key, publish it under a new selector, switch the signer to it, then revoke %s (p=)", s.Selector)
}
