package check

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/dkim"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
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
	var found []dkim.Selector
	var unknown []string
	var base resolver.Answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// internet.nl's test: _domainkey.<domain> exists (NODATA) when any
		// selector has a key, and is NXDOMAIN when none does.
		base = r.Lookup(ctx, "_domainkey."+domain, dns.TypeTXT)
	}()
	sels := dkim.Lookup(ctx, r, domain, selectors)
	wg.Wait()
	for _, s := range sels {
		ev := s.Name + " TXT: " + s.Status.String()
		switch {
		case !s.Status.Known():
			unknown = append(unknown, s.Selector)
			if given {
				p.find("dkim.unknown", fmt.Sprintf("the key of selector %s could not be looked up: %v", s.Selector, s.Err), "check again, or with another --resolver", ev)
			}
		case s.Found():
			found = append(found, s)
		case given && len(s.CNAMEs) > 0:
			target := s.CNAMEs[len(s.CNAMEs)-1]
			p.find("dkim.selector-missing", fmt.Sprintf("selector %s is a CNAME to %s, which has no DKIM key (%s): receivers fail every signature made with it", s.Selector, target, s.Status),
				"ask the email service that owns "+target+" to publish the key, or correct the CNAME", ev)
		case given:
			p.find("dkim.selector-missing", fmt.Sprintf("selector %s has no DKIM key at %s: receivers fail every signature made with it", s.Selector, s.Name),
				"publish the key your signer uses at "+s.Name+", or correct the selector in the signer", ev)
		}
	}
	var out []DKIMSummary
	for _, s := range found {
		sum := DKIMSummary{Selector: s.Selector, Name: s.Name, Delegated: s.CNAMEs}
		if s.Key != nil {
			sum.KeyType, sum.KeyBits, sum.Testing, sum.Revoked = s.Key.Type, s.Key.Bits, s.Key.Testing, s.Key.Revoked
		}
		out = append(out, sum)
	}
	switch {
	case len(found) > 0:
		dkimKeys(p, found, given)
	case given:
		p.notApplicable("dkim.strength", "dkim.mode")
	case len(unknown) > 0:
		p.find("dkim.unknown", fmt.Sprintf("%d of %d common selectors could not be looked up, and none of the others has a key", len(unknown), len(selectors)),
			"check again, or give your selector with --selector", "failed: "+strings.Join(unknown, ", "))
	case base.Status == resolver.NXDomain:
		p.find("dkim.none", fmt.Sprintf("_domainkey.%s does not exist, so no selector of %s has a DKIM key: its mail is not signed with the domain's own key, which Gmail and Yahoo require of bulk senders", domain, domain),
			"have your MTA or email service sign with a 2048-bit key and publish it at <selector>._domainkey."+domain, "_domainkey."+domain+" TXT: nxdomain")
		p.notApplicable("dkim.strength", "dkim.mode")
	default:
		p.find("dkim.not-found", fmt.Sprintf("none of %d common selectors has a key at %s, but _domainkey.%s exists: the selector your mail is signed with is in its DKIM-Signature header (s=)", len(selectors), domain, domain),
			"give it with --selector", "tried: "+strings.Join(selectors, ", "))
	}
	return out
}

// dkimKeys judges the keys found: each key's own findings, then the set.
func dkimKeys(p *part, found []dkim.Selector, given bool) {
	usable, ed := 0, 0
	for _, s := range found {
		if s.ParseErr == nil && s.Key != nil && !s.Key.Revoked && s.Key.Bits > 0 {
			usable++
			if s.Key.Type == "ed25519" {
				ed++
			}
		}
	}
	if usable > 0 {
		p.check("dkim.key", "dkim.strength", "dkim.mode")
	} else {
		// Only revoked or unreadable keys: nothing verifies.
		p.fail("dkim.key")
		p.notApplicable("dkim.strength", "dkim.mode")
	}
	for _, s := range found {
		dkimKeyFindings(p, s, given || usable == 0, []string{fmt.Sprintf("%s TXT %q", s.Name, s.Raw)})
	}
	if usable > 0 && ed == usable {
		p.find("dkim.ed25519-only", "every key found is ed25519: receivers that verify only rsa-sha256 (many still do) see no valid signature",
			"sign with a 2048-bit RSA key as well, under a second selector (RFC 8463 §4)", fmt.Sprintf("keys: %d ed25519", ed))
	}
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
	if k.TypeMiswritten() {
		// RFC 6376 §3.2: values are case-sensitive unless a tag says
		// otherwise, and k= (§3.6.1) does not.
		p.find("dkim.key-type-case", fmt.Sprintf("selector %s has k=%s: tag values are case-sensitive (RFC 6376 §3.2), so verifiers that treat it so (go-msgauth, for one) do not know the key type and refuse the key; others read it as k=%s", s.Selector, k.TypeWritten, k.Type),
			fmt.Sprintf("write k=%s in lower case", k.Type), ev...)
	}
	strength := dkim.KeyStrength(k.Type, k.Bits)
	switch {
	case k.Revoked && given:
		p.find("dkim.revoked", fmt.Sprintf("selector %s is revoked (empty p=): signatures made with it fail", s.Selector), "sign with a current selector, or publish its key", ev...)
	case k.Revoked:
	case strength == dkim.StrengthTooShort:
		p.find("dkim.key-too-short", fmt.Sprintf("selector %s has a %d-bit RSA key: RFC 8301 §3.2 tells verifiers to ignore it", s.Selector, k.Bits), rotateFix(s), ev...)
	case strength == dkim.StrengthWeak:
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
