package verify

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report for a reader: the verdict first, then each
// mechanism, the comparison with the receiving side and the Received
// chain. color adds ANSI colours to results.
func (r *Report) WriteText(w io.Writer, color bool) error {
	p := &printer{w: w, color: color}
	name := r.Message
	if name == "" {
		name = "message"
	}
	p.f("mailtriage verify: %s\n", name)
	switch {
	case r.From.Fields == 0:
		p.f("From: none (the message has no From field)")
	default:
		p.f("From: %s", orDash(r.From.Header))
	}
	if r.From.Domain != "" {
		p.f("  (author domain %s)", r.From.Domain)
	}
	p.f("\n\n")
	p.verdict(r)
	p.dkim(r)
	p.spf(r)
	p.dmarc(r)
	p.authres(r)
	p.received(r)
	p.findings(r)
	return p.err
}

type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// res colours a result: green for pass, red for fail, yellow otherwise.
func (p *printer) res(s string) string {
	if s == "" {
		s = "-"
	}
	if !p.color {
		return s
	}
	code := "33"
	switch s {
	case "pass":
		code = "32"
	case "fail", "softfail", "permerror":
		code = "31"
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) verdict(r *Report) {
	d := r.DMARC
	p.f("VERDICT  DMARC %s", p.res(d.Result))
	switch {
	case d.Policy != "":
		p.f(" — policy %s=%s at %s", d.Applies, d.Policy, d.PolicyDomain)
		if d.Testing {
			p.f(", t=y (testing)")
		}
		if d.Result == "fail" {
			p.f("; receivers are asked to: %s", d.Disposition)
		}
	}
	p.f("\n  %s\n\n", d.Reason)
}

func (p *printer) dkim(r *Report) {
	p.f("DKIM\n")
	if len(r.DKIM) == 0 {
		p.f("  no signature\n\n")
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, d := range r.DKIM {
		key := "key ?"
		switch {
		case d.KeyType != "" && d.KeyBits > 0:
			key = fmt.Sprintf("%s %d-bit", d.KeyType, d.KeyBits)
		case d.KeyType != "":
			key = d.KeyType // revoked or unreadable: no size to give
		}
		if d.KeyTesting {
			key += " t=y"
		}
		fmt.Fprintf(tw, "  %s\t%s\ts=%s\t%s\t%s\t%s\n", p.res(d.Result), orDash(d.Domain), orDash(d.Selector), orDash(d.Algorithm), key, orDash(d.Canonicalization))
	}
	if p.err == nil {
		p.err = tw.Flush()
	}
	for _, d := range r.DKIM {
		if d.Reason != "" {
			p.f("  %s s=%s: %s\n", orDash(d.Domain), orDash(d.Selector), d.Reason)
		}
	}
	p.f("\n")
}

func (p *printer) spf(r *Report) {
	s := r.SPF
	p.f("SPF\n")
	if s.NotEvaluated != "" {
		p.f("  not evaluated: %s\n", s.NotEvaluated)
	} else {
		p.f("  %s  %s  for %s (%s)\n", p.res(s.Result), s.Domain, s.IP, s.IPSource)
	}
	switch {
	case s.MailFrom != "":
		p.f("  mail from: %s (%s)\n", s.MailFrom, s.MailFromSource)
	case s.MailFromSource != "":
		p.f("  mail from: <>, the null sender (%s): the HELO identity stands in\n", s.MailFromSource)
	default:
		p.f("  mail from: unknown (no Return-Path); the HELO identity stands in\n")
	}
	if s.HELO != "" {
		p.f("  helo: %s (%s)\n", s.HELO, s.HELOSource)
	}
	if s.Term != "" {
		p.f("  matched: %s\n", s.Term)
	}
	if s.Reason != "" {
		p.f("  why: %s\n", s.Reason)
	}
	if s.Explanation != "" {
		p.f("  the domain explains: %s\n", s.Explanation)
	}
	if h := s.HELOResult; h != nil {
		p.f("  HELO identity %s: %s (informative: DMARC uses MAIL FROM)\n", h.Domain, p.res(h.Result))
	}
	p.f("\n")
}

func (p *printer) dmarc(r *Report) {
	d := r.DMARC
	p.f("DMARC\n")
	if d.FromDomain == "" {
		p.f("  %s  no author domain\n\n", p.res(d.Result))
		return
	}
	p.f("  %s  for %s", p.res(d.Result), d.FromDomain)
	if d.Record != "" {
		p.f("  record at _dmarc.%s: %s", d.PolicyDomain, d.Record)
	}
	p.f("\n")
	if d.Policy != "" {
		p.f("  policy: %s=%s", d.Applies, d.Policy)
		if d.NonExistent {
			p.f(" (the author domain does not exist: no A, AAAA or MX)")
		}
		if d.Testing {
			p.f("; t=y: the owner is testing it and asks receivers to apply the policy a level below it")
		}
		p.f("\n")
	}
	if d.OrgDomain != "" {
		p.f("  organizational domain: %s\n", d.OrgDomain)
	}
	if a := d.SPFAlignment; a != nil {
		p.f("  SPF  %s %s: %s\n", a.Domain, p.res(a.Result), alignWord(a.Aligned, a.Mode))
	}
	for _, a := range d.DKIMAlignment {
		p.f("  DKIM %s %s: %s\n", a.Domain, p.res(a.Result), alignWord(a.Aligned, a.Mode))
	}
	p.f("\n")
}

func alignWord(aligned bool, mode string) string {
	m := "relaxed"
	if mode == "s" {
		m = "strict"
	}
	if aligned {
		return "the domain aligns (" + m + ")"
	}
	return "the domain does not align (" + m + ")"
}

func (p *printer) authres(r *Report) {
	ar := r.AuthResults
	p.f("AUTHENTICATION-RESULTS\n")
	if ar == nil {
		p.f("  none in the message\n\n")
		return
	}
	p.f("  %s (field %d: %s)\n", ar.name(), ar.Index+1, ar.Chosen)
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  method\tsubject\tours\ttheirs\t\n")
	for _, c := range r.Comparison {
		mark := "agree"
		switch {
		case c.Ours == DMARCUnknown:
			mark = "ours undetermined"
		case !c.Agree:
			mark = "DIFFERS"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Method, orDash(c.Subject), c.Ours, c.Theirs, mark)
	}
	if p.err == nil {
		p.err = tw.Flush()
	}
	p.f("\n")
}

func (p *printer) received(r *Report) {
	p.f("RECEIVED CHAIN (1 = the last hop)\n")
	if len(r.Received) == 0 {
		p.f("  no Received field\n\n")
		return
	}
	for _, h := range r.Received {
		p.f("  %d ", h.Index+1)
		if h.From != "" {
			p.f(" from %s", h.From)
		}
		if h.RDNS != "" && h.RDNS != h.From {
			p.f(" (rdns %s)", h.RDNS)
		}
		if h.IP.IsValid() {
			p.f(" [%s]", h.IP)
			if !h.Public {
				p.f(" (not public)")
			}
			if h.IP.String() == r.SPF.IP {
				p.f(" <- SPF checked")
			}
		}
		if h.By != "" {
			p.f(" by %s", h.By)
		}
		if !h.Date.IsZero() {
			p.f("  %s", h.Date.UTC().Format(time.DateTime))
		}
		p.f("\n")
	}
	p.f("\n")
}

func (p *printer) findings(r *Report) {
	if len(r.Findings) == 0 {
		return
	}
	p.f("FINDINGS\n")
	for _, f := range r.Findings {
		p.f("  %-7s %s: %s\n", f.Severity, f.Code, strings.TrimSpace(f.Message))
	}
}
