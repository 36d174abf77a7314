package verify

import (
	"fmt"
	"strings"
)

// Comparison is one of the receiving side's results beside ours.
type Comparison struct {
	Method string `json:"method"` // dkim, spf or dmarc
	// Subject names what was checked: the signature's domain and
	// selector, the SPF domain, the author domain.
	Subject string `json:"subject"`
	Ours    string `json:"ours"`
	Theirs  string `json:"theirs"`
	Agree   bool   `json:"agree"`
	Note    string `json:"note,omitempty"`
}

// whyDiffer is what a disagreement usually means.
const whyDiffer = "results differ when DNS changed since delivery (a key rotated or removed, an SPF record edited), when the message was changed after the receiving side checked it (a mailing list, a mail store that re-encodes), when the receiving side checked another address or envelope sender, or when it applied a local policy (ARC, a forwarder's allow list)"

// compare sets our results beside those of the receiving side's
// Authentication-Results.
func (r *Report) compare() {
	ar := r.AuthResults
	if ar == nil {
		r.find(SeverityInfo, "authres-none", "the message has no Authentication-Results field: nothing to compare with")
		return
	}
	for _, m := range ar.Methods {
		switch m.Method {
		case "dkim":
			r.Comparison = append(r.Comparison, r.compareDKIM(m))
		case "spf":
			r.Comparison = append(r.Comparison, r.compareSPF(m))
		case "dmarc":
			if r.DMARC.FromDomain == "" {
				continue // no author domain: nothing of ours to set beside theirs
			}
			c := Comparison{Method: "dmarc", Subject: r.DMARC.FromDomain, Ours: r.DMARC.Result, Theirs: m.Result, Note: m.Comment}
			if from := m.prop("header.from"); from != "" && !strings.EqualFold(from, r.DMARC.FromDomain) {
				c.Note = strings.TrimSpace(fmt.Sprintf("they evaluated header.from=%s; %s", from, c.Note))
			}
			c.Agree = c.Ours == c.Theirs
			if c.Ours == DMARCUnknown {
				c.Note = strings.TrimSpace("ours is undetermined: SPF was not evaluated; " + c.Note)
			}
			r.Comparison = append(r.Comparison, c)
		}
	}
	n := 0
	for _, c := range r.Comparison {
		if !c.Agree && c.Ours != DMARCUnknown {
			n++
			r.find(SeverityWarning, "authres-disagree", fmt.Sprintf("%s %s: ours %s, the receiving side's (%s) %s", c.Method, c.Subject, orDash(c.Ours), ar.name(), c.Theirs))
		}
	}
	if n > 0 {
		r.find(SeverityInfo, "authres-why", whyDiffer)
	}
}

// compareDKIM finds the signature a dkim result is about: by header.d (or
// the domain of header.i), header.s, and the first characters of b=
// (header.b, RFC 6008).
func (r *Report) compareDKIM(m ARMethod) Comparison {
	domain := m.prop("header.d")
	if domain == "" {
		if i := m.prop("header.i"); strings.Contains(i, "@") {
			domain = i[strings.LastIndexByte(i, '@')+1:]
		}
	}
	sel, b := m.prop("header.s"), m.prop("header.b")
	c := Comparison{Method: "dkim", Subject: strings.TrimSpace(domain + " s=" + sel), Theirs: normalResult(m.Result), Note: m.Comment}
	if sel == "" {
		c.Subject = domain
	}
	for _, d := range r.DKIM {
		if !strings.EqualFold(d.Domain, domain) || sel != "" && d.Selector != sel || b != "" && !strings.HasPrefix(d.b, b) {
			continue
		}
		c.Ours, c.Subject = d.Result, d.Domain+" s="+d.Selector
		c.Agree = c.Ours == c.Theirs
		return c
	}
	c.Ours = "no such signature"
	c.Note = strings.TrimSpace("the message has no signature they could have checked for this; " + c.Note)
	return c
}

func (r *Report) compareSPF(m ARMethod) Comparison {
	c := Comparison{Method: "spf", Subject: r.SPF.Domain, Ours: r.SPF.Result, Theirs: normalResult(m.Result), Note: m.Comment}
	if c.Ours == "" {
		c.Ours = "not evaluated"
	}
	c.Agree = c.Ours == c.Theirs
	theirDomain := m.prop("smtp.mailfrom")
	if i := strings.LastIndexByte(theirDomain, '@'); i >= 0 {
		theirDomain = theirDomain[i+1:]
	}
	if theirDomain == "" {
		theirDomain = m.prop("smtp.helo")
	}
	if theirDomain != "" && !strings.EqualFold(theirDomain, r.SPF.Domain) {
		c.Note = strings.TrimSpace(fmt.Sprintf("they checked %s; %s", theirDomain, c.Note))
	}
	if ip, _ := r.recordedIP(); ip.IsValid() && r.SPF.IP != "" && ip.String() != r.SPF.IP {
		c.Note = strings.TrimSpace(fmt.Sprintf("they saw %s, this check used %s; %s", ip, r.SPF.IP, c.Note))
	}
	return c
}

// normalResult reads the old synonym hardfail as fail (RFC 8601 §2.7.2).
func normalResult(s string) string {
	s = strings.ToLower(s)
	if s == "hardfail" {
		return "fail"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
