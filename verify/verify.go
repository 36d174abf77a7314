// Package verify checks the authentication of one received message as a
// receiver would and compares the result with what the receiving side
// wrote into it: every DKIM signature (RFC 6376, through go-msgauth, with
// its known misreadings corrected), SPF for the sending address (RFC 7208,
// through package spf), DMARC for the author domain (RFC 9989, through
// dmarc.Evaluate), the message's own Authentication-Results (RFC 8601) and
// Received-SPF (RFC 7208 §9.1) fields, and the Received chain (RFC 5321
// §4.4). Without a sending address given, SPF is checked for the one the
// receiving side recorded, and the chain lists the candidates.
//
// DKIM works on the message's bytes, so a broken MIME structure does not
// matter: nothing below the header is parsed.
package verify

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/mailtriage/mailtriage/dkim"
	"github.com/mailtriage/mailtriage/dmarc"
	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/spf"
)

// Options say what the message itself does not, or correct it.
type Options struct {
	Resolver resolver.Resolver
	// IP is the sending MTA's address; when invalid, the address the
	// receiving side recorded is taken from the message.
	IP netip.Addr
	// HELO is the name the sending MTA gave; "" takes it from the message.
	HELO string
	// MailFrom is the envelope sender; "" takes Return-Path, and "<>" is
	// the null reverse-path of a bounce.
	MailFrom string
}

// Severity of a finding.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is something wrong or worth knowing about the message.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
}

// Report is the verification of one message.
type Report struct {
	Message  string       `json:"message,omitempty"` // where it was read from
	From     From         `json:"from"`
	DKIM     []DKIMResult `json:"dkim"`
	SPF      SPFResult    `json:"spf"`
	DMARC    DMARCResult  `json:"dmarc"`
	Received []Received   `json:"received"`
	// AuthResults is the receiving side's Authentication-Results field,
	// nil when the message has none; ReceivedSPF its Received-SPF.
	AuthResults *AuthResults `json:"authentication_results,omitempty"`
	ReceivedSPF *ReceivedSPF `json:"received_spf,omitempty"`
	// Comparison sets our results beside the receiving side's.
	Comparison []Comparison `json:"comparison,omitempty"`
	Findings   []Finding    `json:"findings"`

	// receivedSPFNote says which Received-SPF field is ReceivedSPF when it
	// is not the topmost.
	receivedSPFNote string
}

// Pass reports whether the message passes DMARC.
func (r *Report) Pass() bool { return r.DMARC.Result == string(dmarc.ResultPass) }

// SPFResult is the SPF check of the message's MAIL FROM identity, and of
// its HELO identity when known (RFC 7208 §2.3, §2.4).
type SPFResult struct {
	// Result is "" when SPF was not evaluated; NotEvaluated says why.
	Result       string `json:"result"`
	Domain       string `json:"domain"`
	NotEvaluated string `json:"not_evaluated,omitempty"`
	IP           string `json:"ip,omitempty"`
	// IPSource says where IP came from: --ip, or the field of the
	// message the receiving side recorded it in.
	IPSource       string `json:"ip_source,omitempty"`
	MailFrom       string `json:"mail_from,omitempty"`
	MailFromSource string `json:"mail_from_source,omitempty"`
	HELO           string `json:"helo,omitempty"`
	HELOSource     string `json:"helo_source,omitempty"`
	// Term is the mechanism that matched; Reason why the result is none,
	// temperror or permerror; Explanation the domain's exp= text.
	Term        string `json:"term,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	// HELOResult is the HELO identity's check, informative: DMARC uses
	// the MAIL FROM identity only.
	HELOResult *HELOCheck `json:"helo_result,omitempty"`
}

// HELOCheck is the SPF check of the HELO identity.
type HELOCheck struct {
	Result string `json:"result"`
	Domain string `json:"domain"`
	Reason string `json:"reason,omitempty"`
}

// DMARCUnknown is the DMARC result when it hinges on SPF and SPF could
// not be evaluated: no aligned DKIM signature passes, and an aligned SPF
// pass would have made DMARC pass.
const DMARCUnknown = "unknown"

// DMARCResult is the DMARC verdict for the author domain.
type DMARCResult struct {
	// Result is dmarc's (pass, fail, none, temperror), or DMARCUnknown.
	Result       string `json:"result"`
	Policy       string `json:"policy"`
	FromDomain   string `json:"from_domain"`
	AlignedSPF   bool   `json:"aligned_spf"`
	AlignedDKIM  bool   `json:"aligned_dkim"`
	Applies      string `json:"applies,omitempty"` // p, sp or np
	Testing      bool   `json:"testing,omitempty"`
	Disposition  string `json:"disposition,omitempty"`
	PolicyDomain string `json:"policy_domain,omitempty"`
	OrgDomain    string `json:"org_domain,omitempty"`
	Record       string `json:"record,omitempty"`
	ASPF         string `json:"aspf"`
	ADKIM        string `json:"adkim"`
	NonExistent  bool   `json:"non_existent,omitempty"`
	// SPFAlignment and DKIMAlignment say, per identifier, whether it
	// aligns with the author domain.
	SPFAlignment  *dmarc.Alignment  `json:"spf_alignment,omitempty"`
	DKIMAlignment []dmarc.Alignment `json:"dkim_alignment,omitempty"`
	Reason        string            `json:"reason"`
}

// Message verifies one message. It fails only when data is not a
// message; everything wrong with a message is a result or a finding.
func Message(ctx context.Context, data []byte, o Options) (*Report, error) {
	m, err := parseMessage(data)
	if err != nil {
		return nil, err
	}
	// Lists are empty, not null, in JSON: scripts count them.
	rep := &Report{DKIM: []DKIMResult{}, Findings: []Finding{}}
	if m.bom {
		rep.find(SeverityInfo, "byte-order-mark", "the file begins with a UTF-8 byte order mark, which an editor added: it is no part of the message and was dropped")
	}
	if m.lfOnly {
		rep.find(SeverityInfo, "lf-line-ends", "the lines end in LF alone; they were read as CRLF, as the message travelled")
	}
	if len(m.badLines) > 0 {
		rep.find(SeverityWarning, "header-syntax", fmt.Sprintf("%d header line(s) are not fields and were skipped, the first %q", len(m.badLines), clip(m.badLines[0])))
	}
	var fromFindings []Finding
	rep.From, fromFindings = readFrom(m)
	rep.Findings = append(rep.Findings, fromFindings...)
	rep.readReceived(m)
	rep.chooseAuthResults(m)
	rep.chooseReceivedSPF(m)

	// DKIM and SPF do not depend on each other: run them at once.
	done := make(chan struct{})
	go func() {
		defer close(done)
		if d := verifyDKIM(ctx, o.Resolver, m); d != nil {
			rep.DKIM = d
		}
	}()
	rep.checkSPF(ctx, m, o)
	<-done
	for _, d := range rep.DKIM {
		if d.Workaround != "" {
			rep.find(SeverityInfo, "dkim-workaround", fmt.Sprintf("DKIM %s s=%s: %s", d.Domain, d.Selector, d.Workaround))
		}
		// As check's dkim.key-too-short and dkim.key-weak.
		switch dkim.KeyStrength(d.KeyType, d.KeyBits) {
		case dkim.StrengthTooShort:
			rep.find(SeverityError, "dkim-key-too-short", fmt.Sprintf("DKIM %s s=%s: the key at %s is a %d-bit RSA key: RFC 8301 §3.2 tells verifiers to ignore it; publish a 2048-bit key under a new selector and sign with it", d.Domain, d.Selector, d.KeyName, d.KeyBits))
		case dkim.StrengthWeak:
			rep.find(SeverityWarning, "dkim-key-weak", fmt.Sprintf("DKIM %s s=%s: the key at %s is a %d-bit RSA key; 2048 bits is the norm (RFC 8301 §3.2): publish a 2048-bit key under a new selector and sign with it", d.Domain, d.Selector, d.KeyName, d.KeyBits))
		}
	}
	rep.evaluateDMARC(ctx, o.Resolver)
	rep.compare()
	if len(rep.DKIM) == 0 {
		rep.find(SeverityWarning, "dkim-none", "the message has no DKIM signature: DMARC can pass only through SPF, which forwarding breaks")
	}
	return rep, nil
}

func (r *Report) find(sev Severity, code, msg string) {
	r.Findings = append(r.Findings, Finding{Severity: sev, Code: code, Message: msg})
}

// readReceived parses the Received chain, top first.
func (r *Report) readReceived(m *message) {
	r.Received = []Received{}
	for i, f := range m.all("Received") {
		rec, err := ParseReceived(f.Value())
		rec.Index, rec.pos = i, f.pos
		if err != nil {
			r.find(SeverityInfo, "received-syntax", fmt.Sprintf("Received field %d: %v", i+1, err))
		}
		r.Received = append(r.Received, rec)
	}
}

// chooseReceivedSPF picks the receiving side's Received-SPF field: the
// topmost that records a public address. Each hop that checks SPF
// prepends one (RFC 7208 §9.1), and hops inside the receiving side (a
// local relay, a fetchmail delivery) check loopback or private
// addresses, not the sender's. A field with the Received field of a
// public hop between it and the receiving side's Authentication-Results
// was written before that hop: by a mailing list or forwarder that
// checked the host before it, or forged by the sender.
func (r *Report) chooseReceivedSPF(m *message) {
	first := true
	for i, f := range m.all("Received-SPF") {
		rs := parseReceivedSPF(f.Value())
		if hop, ok := r.publicHopBetween(f.pos); ok {
			r.find(SeverityInfo, "received-spf-other-hop", fmt.Sprintf("Received-SPF field %d (client-ip=%s) is not the receiving side's: the Received field of %s lies between it and the receiving side's Authentication-Results: it was written before the message reached the receiving side, by a mailing list or forwarder on the way, or forged by the sender; it is not used",
				i+1, orDash(rs.ClientIP), hop))
			continue
		}
		ip, ok := parseIPToken(rs.ClientIP)
		public := ok && mailhost.Public(ip)
		if first || public {
			r.ReceivedSPF = &rs
		}
		first = false
		if public {
			if i > 0 {
				r.receivedSPFNote = fmt.Sprintf(" (field %d; the fields above record internal hops)", i+1)
			}
			break
		}
	}
}

// publicHopBetween finds a Received field from a public address between
// the field at pos and the chosen Authentication-Results, and names its
// client. Without Authentication-Results there is nothing to tell the
// receiving side's fields by.
func (r *Report) publicHopBetween(pos int) (string, bool) {
	if r.AuthResults == nil {
		return "", false
	}
	lo, hi := min(pos, r.AuthResults.pos), max(pos, r.AuthResults.pos)
	for _, h := range r.Received {
		if h.pos > lo && h.pos < hi && h.Public {
			return fmt.Sprintf("%s [%s] (field %d)", orDash(h.From), h.IP, h.Index+1), true
		}
	}
	return "", false
}

// chooseAuthResults picks the receiving side's Authentication-Results:
// the topmost whose authserv-id is the "by" host of a Received field of
// the receiving side, else the topmost (RFC 8601 §5: a receiver adds its
// own at the top). The receiving side's Received fields are the top one
// and those below it down to the first from a public address, the hop
// that took the message from the Internet: Gmail's top field is an
// internal hop, "by 2002:a05:...", and its authserv-id, mx.google.com,
// is the host of the field below.
func (r *Report) chooseAuthResults(m *message) {
	fields := m.all("Authentication-Results")
	if len(fields) == 0 {
		return
	}
	var hops []Received
	for _, h := range r.Received {
		if h.By != "" {
			hops = append(hops, h)
		}
		if h.Public {
			break
		}
	}
	chosen, hop := -1, Received{}
	for i, f := range fields {
		id := parseAuthResults(f.Value()).AuthservID
		for _, h := range hops {
			if id != "" && id == strings.ToLower(h.By) {
				chosen, hop = i, h
				break
			}
		}
		if chosen >= 0 {
			break
		}
	}
	by := ""
	if len(r.Received) > 0 {
		by = strings.ToLower(r.Received[0].By)
	}
	var why string
	switch {
	case chosen >= 0 && hop.Index == 0:
		why = fmt.Sprintf("its authserv-id is the host of the top Received field, %s", hop.By)
	case chosen >= 0:
		why = fmt.Sprintf("its authserv-id is the host of Received field %d, %s; the fields above record the receiving side's internal hops", hop.Index+1, hop.By)
	case by != "":
		chosen, why = 0, fmt.Sprintf("the topmost; none has the top Received field's host (%s) as authserv-id", by)
	default:
		chosen, why = 0, "the topmost; no Received field names the receiving host"
	}
	ar := parseAuthResults(fields[chosen].Value())
	ar.Index, ar.Chosen, ar.pos = chosen, why, fields[chosen].pos
	r.AuthResults = &ar
	if ar.ParseError != "" {
		r.find(SeverityInfo, "authres-syntax", fmt.Sprintf("Authentication-Results of %s: part could not be read: %s", ar.name(), ar.ParseError))
	}
}

// checkSPF evaluates SPF for the sending address, given or recorded.
func (r *Report) checkSPF(ctx context.Context, m *message, o Options) {
	s := &r.SPF
	s.MailFrom, s.MailFromSource = r.mailFrom(m, o)
	recorded, recordedSource := r.recordedIP()
	ip, ipSource := o.IP, "--ip"
	if !ip.IsValid() {
		ip, ipSource = recorded, recordedSource
	}
	// The HELO name the receiving side recorded is that of the host it
	// recorded; for another address given with --ip it would be wrong.
	sameHost := !recorded.IsValid() || recorded == ip
	s.HELO, s.HELOSource = r.helo(o, ip, sameHost)
	if name, source := r.recordedHELO(); o.HELO == "" && !sameHost && name != "" {
		r.find(SeverityInfo, "helo-other-host", fmt.Sprintf("the HELO name %s (%s) is that of %s, the address the receiving side recorded (%s), not of --ip %s: it is not used; give the HELO name of %s with --helo",
			name, source, recorded, recordedSource, ip, ip))
	}
	if !ip.IsValid() {
		s.NotEvaluated = "the message does not say which address the receiving side saw (no Received-SPF client-ip=, no address in its Authentication-Results); give one with --ip, from the Received chain"
		s.Domain, _ = spf.SenderIdentity(s.MailFrom, s.HELO)
		return
	}
	s.IP, s.IPSource = ip.String(), ipSource
	domain, sender := spf.SenderIdentity(s.MailFrom, s.HELO)
	s.Domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if s.Domain == "" {
		s.NotEvaluated = "no MAIL FROM and no HELO name to check; give them with --mail-from and --helo"
		return
	}
	res := spf.CheckHost(ctx, o.Resolver, ip, s.Domain, sender, s.HELO)
	s.Result, s.Term, s.Explanation = string(res.Status), res.Term, res.Explanation
	if res.Err != nil {
		s.Reason = res.Err.Error()
	}
	if s.HELO != "" && strings.Contains(s.HELO, ".") && !strings.EqualFold(s.HELO, s.Domain) {
		h := spf.CheckHost(ctx, o.Resolver, ip, s.HELO, "postmaster@"+s.HELO, s.HELO)
		s.HELOResult = &HELOCheck{Result: string(h.Status), Domain: s.HELO}
		if h.Err != nil {
			s.HELOResult.Reason = h.Err.Error()
		}
	}
}

// mailFrom finds the envelope sender: --mail-from, else what the
// receiving side recorded (Return-Path, Received-SPF, smtp.mailfrom).
func (r *Report) mailFrom(m *message, o Options) (string, string) {
	if o.MailFrom != "" {
		return strings.Trim(o.MailFrom, "<>"), "--mail-from"
	}
	if f, ok := m.first("Return-Path"); ok {
		v := strings.TrimSpace(f.Value())
		if a, err := addressParser.Parse(v); err == nil {
			return a.Address, "Return-Path"
		}
		return strings.Trim(v, "<> "), "Return-Path"
	}
	if r.ReceivedSPF != nil && r.ReceivedSPF.EnvelopeFrom != "" {
		return strings.Trim(r.ReceivedSPF.EnvelopeFrom, "<>"), "Received-SPF envelope-from="
	}
	if r.AuthResults != nil {
		for _, mt := range r.AuthResults.Methods {
			if v := mt.prop("smtp.mailfrom"); mt.Method == "spf" && v != "" {
				return v, "smtp.mailfrom in the Authentication-Results of " + r.AuthResults.name()
			}
		}
	}
	return "", ""
}

// recordedIP finds the address the receiving side recorded.
func (r *Report) recordedIP() (netip.Addr, string) {
	if r.ReceivedSPF != nil {
		if ip, ok := parseIPToken(r.ReceivedSPF.ClientIP); ok {
			return ip, "Received-SPF client-ip=" + r.receivedSPFNote
		}
	}
	if r.AuthResults != nil {
		return r.AuthResults.recordedIP()
	}
	return netip.Addr{}, ""
}

// helo finds the HELO name: --helo, else what the receiving side
// recorded when ip is the host it recorded (sameHost), else the name the
// Received field of the sending address gives.
func (r *Report) helo(o Options, ip netip.Addr, sameHost bool) (string, string) {
	if o.HELO != "" {
		return o.HELO, "--helo"
	}
	if name, source := r.recordedHELO(); sameHost && name != "" {
		return name, source
	}
	if ip.IsValid() {
		for _, h := range r.Received {
			if h.IP == ip && h.HELO != "" {
				return h.HELO, fmt.Sprintf("Received field %d", h.Index+1)
			}
		}
	}
	return "", ""
}

// recordedHELO is the HELO name the receiving side recorded.
func (r *Report) recordedHELO() (string, string) {
	if r.ReceivedSPF != nil && r.ReceivedSPF.HELO != "" {
		return r.ReceivedSPF.HELO, "Received-SPF helo="
	}
	if r.AuthResults != nil {
		for _, mt := range r.AuthResults.Methods {
			if v := mt.prop("smtp.helo"); mt.Method == "spf" && v != "" {
				return v, "smtp.helo in the Authentication-Results of " + r.AuthResults.name()
			}
		}
	}
	return "", ""
}

// evaluateDMARC evaluates DMARC for the author domain with our results.
func (r *Report) evaluateDMARC(ctx context.Context, res resolver.Resolver) {
	in := dmarc.Input{From: r.From.Domain}
	if r.SPF.Result != "" {
		in.SPF = dmarc.Identifier{Domain: r.SPF.Domain, Result: r.SPF.Result}
	}
	for _, d := range r.DKIM {
		in.DKIM = append(in.DKIM, dmarc.Identifier{Domain: d.Domain, Result: d.Result})
	}
	ev := dmarc.Evaluate(ctx, res, in)
	r.DMARC = DMARCResult{
		Result: string(ev.Result), Policy: string(ev.Policy), FromDomain: ev.From,
		AlignedSPF: ev.AlignedSPF, AlignedDKIM: ev.AlignedDKIM,
		Applies: ev.Applies, Testing: ev.Testing, Disposition: string(ev.Disposition),
		PolicyDomain: ev.Discovery.PolicyDomain, OrgDomain: ev.OrgDomain, Record: ev.Discovery.Raw,
		ASPF: ev.ASPF, ADKIM: ev.ADKIM, NonExistent: ev.NonExistent,
		DKIMAlignment: ev.DKIM, Reason: ev.Reason,
	}
	if ev.SPF.Domain != "" {
		r.DMARC.SPFAlignment = &ev.SPF
	}
	switch {
	case r.From.Domain == "":
		r.DMARC.Reason = r.noAuthor()
	case r.SPF.Result == "" && ev.Result == dmarc.ResultFail:
		r.undetermined(ctx, res, in)
	case r.SPF.Result == "" && ev.Result == dmarc.ResultTempError:
		r.DMARC.Reason += " (SPF was not evaluated, so only DKIM counted)"
	}
	for _, p := range ev.Discovery.Problems {
		sev := SeverityWarning
		if p.Error {
			sev = SeverityError
		}
		r.find(sev, "dmarc-record", p.Message)
	}
}

// undetermined handles a DMARC fail with SPF not evaluated: no aligned
// DKIM signature passed, so the result is SPF's to decide. Only when the
// SPF domain could not align even with a pass does the fail stand.
func (r *Report) undetermined(ctx context.Context, res resolver.Resolver, in dmarc.Input) {
	d := &r.DMARC
	if r.SPF.Domain != "" {
		in.SPF = dmarc.Identifier{Domain: r.SPF.Domain, Result: "pass"}
		if ev := dmarc.Evaluate(ctx, res, in); ev.Result == dmarc.ResultFail && !ev.SPF.Aligned && ev.SPF.Err == nil {
			d.Reason += fmt.Sprintf(" (SPF was not evaluated, but %s does not align with %s: no SPF result could make DMARC pass)", r.SPF.Domain, d.FromDomain)
			return
		}
	}
	policy := fmt.Sprintf("%s=%s", d.Applies, d.Policy)
	if d.Testing {
		policy += " with t=y"
	}
	d.Result, d.Disposition = DMARCUnknown, ""
	d.Reason = fmt.Sprintf("undetermined: no DKIM signature passes aligned with %s, so DMARC hinges on SPF, which was not evaluated: %s. An aligned SPF pass would make DMARC pass; anything else, fail under %s",
		d.FromDomain, r.SPF.NotEvaluated, policy)
}

// noAuthor says why there is no author domain to evaluate DMARC for.
func (r *Report) noAuthor() string {
	if r.From.Fields == 0 {
		return "the message has no From field: there is no author domain to evaluate DMARC for"
	}
	return fmt.Sprintf("the From field (%q) names no address: there is no author domain to evaluate DMARC for", clip(r.From.Header))
}
