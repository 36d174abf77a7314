package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/internal/fieldlist"
	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/mtasts"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/tlsrpt"
	"github.com/miekg/dns"
)

// MTASTSSummary is the MTA-STS part of a report.
type MTASTSSummary struct {
	Record    string   `json:"record"`
	PolicyURL string   `json:"policy_url,omitempty"`
	Mode      string   `json:"mode,omitempty"`
	MX        []string `json:"mx,omitempty"`
	MaxAge    int64    `json:"max_age,omitempty"`
	Policy    string   `json:"policy,omitempty"`
}

// TLSRPTSummary is the TLS-RPT part of a report.
type TLSRPTSummary struct {
	Record string   `json:"record"`
	RUA    []string `json:"rua,omitempty"`
}

// txtWith returns the TXT records at name that senders keep, and the
// lookup's answer. Senders discard the records that do not begin with the
// version field, "v=STSv1;" or "v=TLSRPTv1;" (RFC 8461 §3.1, RFC 8460 §3),
// before counting them. When none is left, the records that look like one
// (white space first, say) are returned, for the parser to say what is
// wrong with them.
func txtWith(ctx context.Context, r resolver.Resolver, name, version string) ([]string, resolver.Answer) {
	a := r.Lookup(ctx, name, dns.TypeTXT)
	var kept, near []string
	for _, t := range a.TXT() {
		if !strings.HasPrefix(strings.TrimSpace(t), version) {
			continue
		}
		near = append(near, t)
		if _, leadingWSP, ok := fieldlist.Split(t, version); ok && !leadingWSP {
			kept = append(kept, t)
		}
	}
	if len(kept) > 0 {
		return kept, a
	}
	return near, a
}

// checkTransport checks how mail reaches the domain: MX, MTA-STS and
// TLS-RPT at once, then the MTA-STS policy against the MX hosts, then
// STARTTLS on every MX when probing.
func (c *checker) checkTransport(ctx context.Context, p *part) {
	var (
		set      mailhost.MXSet
		sts      stsResult
		rpt      *TLSRPTSummary
		rptPart  = newPart()
		wg       sync.WaitGroup
		stsError error
	)
	wg.Add(3)
	go func() { defer wg.Done(); set = mailhost.LookupMX(ctx, c.r, c.domain) }()
	go func() { defer wg.Done(); sts, stsError = c.fetchSTS(ctx) }()
	go func() { defer wg.Done(); rpt = checkTLSRPT(ctx, c.r, c.domain, rptPart) }()
	wg.Wait()
	c.rep.MX = mxFindings(set, c.domain, p)
	c.rep.MTASTS = stsFindings(sts, stsError, set, c.domain, c.o.Offline, p)
	c.rep.TLSRPT = rpt
	p.merge(rptPart)
	if c.o.SMTPProbe && !c.o.Offline && c.rep.MX != nil && !set.Null {
		c.rep.TLS = c.probeAll(ctx, set, sts.policy, p)
	}
}

// stsResult is what the MTA-STS lookups found.
type stsResult struct {
	records []string
	answer  resolver.Answer
	policy  *mtasts.Policy
	info    mtasts.FetchInfo
}

// fetchSTS reads the _mta-sts record and, when there is one, fetches the
// policy; the two are sequential, as a sender does them.
func (c *checker) fetchSTS(ctx context.Context) (stsResult, error) {
	var s stsResult
	s.records, s.answer = txtWith(ctx, c.r, "_mta-sts."+c.domain, "v=STSv1")
	if len(s.records) != 1 || c.o.Offline {
		return s, nil
	}
	var err error
	s.policy, s.info, err = mtasts.Fetch(ctx, c.httpClient(), c.domain)
	return s, err
}

const stsFix = `publish _mta-sts.%[1]s TXT "v=STSv1; id=20260101", serve https://mta-sts.%[1]s/.well-known/mta-sts.txt with "version: STSv1", "mode: testing", an "mx:" line per MX host and "max_age: 604800"; move to mode: enforce once TLS-RPT reports are clean`

func stsFindings(s stsResult, fetchErr error, set mailhost.MXSet, domain string, offline bool, p *part) *MTASTSSummary {
	name := "_mta-sts." + domain
	ev := fmt.Sprintf("%s TXT: %s %q", name, s.answer.Status, s.records)
	switch {
	case !s.answer.Status.Known():
		p.find("mtasts.unknown", fmt.Sprintf("the MTA-STS record of %s could not be looked up: %v", domain, s.answer.Err), "check again, or with another --resolver", ev)
		return nil
	case len(s.records) == 0:
		p.find("mtasts.missing", fmt.Sprintf("%s has no MTA-STS policy: a sender's TLS to its MX can be stripped or intercepted without the sender noticing", domain), fmt.Sprintf(stsFix, domain), ev)
		return nil
	case len(s.records) > 1:
		p.find("mtasts.invalid", fmt.Sprintf("%s has %d MTA-STS records: senders act as if there were none (RFC 8461 §3.1)", name, len(s.records)), "keep one v=STSv1 record", ev)
		return &MTASTSSummary{Record: strings.Join(s.records, " | ")}
	}
	sum := &MTASTSSummary{Record: s.records[0], PolicyURL: s.info.URL}
	if offline {
		p.find("mtasts.unknown", "the MTA-STS record is published; offline, its policy was not fetched", "run without --offline to fetch https://mta-sts."+domain+"/.well-known/mta-sts.txt", ev)
		return sum
	}
	p.check("mtasts.policy")
	if rec, err := mtasts.ParseRecord(s.records[0]); err != nil || hasError(stsProblems(rec)) {
		p.find("mtasts.invalid", fmt.Sprintf("the MTA-STS record %q is invalid: %s", s.records[0], errOr(err, stsProblems(rec))), "publish v=STSv1; id=<1-32 letters or digits>", ev)
	}
	if fetchErr != nil && ourSide(fetchErr) {
		p.find("mtasts.unknown", fmt.Sprintf("the MTA-STS record is published, but the policy could not be fetched from here: %v", fetchErr),
			"check again; if it keeps failing, fetch https://mta-sts."+domain+"/.well-known/mta-sts.txt from another network", ev, "GET "+s.info.URL)
		return sum
	}
	if fetchErr != nil {
		p.find("mtasts.invalid", fmt.Sprintf("the MTA-STS record is published, but the policy can't be fetched: %v; senders that cached an earlier policy keep it, others get none", fetchErr),
			fmt.Sprintf("serve the policy at https://mta-sts.%s/.well-known/mta-sts.txt with a certificate valid for mta-sts.%s, status 200 and no redirect", domain, domain), ev, "GET "+s.info.URL)
		return sum
	}
	pol := s.policy
	sum.Mode, sum.MX, sum.MaxAge, sum.Policy = string(pol.Mode), pol.MX, pol.MaxAgeSeconds, string(s.info.Body)
	pev := []string{ev, fmt.Sprintf("GET %s: %d %s", s.info.URL, s.info.Status, s.info.ContentType)}
	var errs []string
	var badType, badFile bool
	for _, pr := range pol.Problems {
		if pr.Error {
			errs = append(errs, pr.Message)
			// The Content-Type is the web server's doing, not the file's.
			if pr.Tag == "Content-Type" {
				badType = true
			} else {
				badFile = true
			}
		}
	}
	if len(errs) > 0 {
		var fixes []string
		if badType {
			fixes = append(fixes, "have the web server at mta-sts."+domain+" send the policy with Content-Type: text/plain (RFC 8461 §3.2)")
		}
		if badFile {
			fixes = append(fixes, "correct the policy file; RFC 8461 §3.2 gives its format")
		}
		p.find("mtasts.invalid", "the MTA-STS policy has errors: "+strings.Join(errs, "; "), strings.Join(fixes, "; "), pev...)
	}
	switch pol.Mode {
	case mtasts.Testing:
		p.find("mtasts.testing", "the MTA-STS policy is in testing mode: senders report TLS failures but deliver anyway", "switch to mode: enforce once TLS-RPT reports show no failures, and change the record's id=", pev...)
	case mtasts.None:
		p.find("mtasts.none", "the MTA-STS policy is mode none: it withdraws the protection", "publish mode: enforce, or remove the record when retiring MTA-STS on purpose", pev...)
	}
	if pol.Mode != mtasts.None {
		for _, h := range set.Hosts {
			if h.Host == "" || pol.Matches(h.Host) {
				continue
			}
			fix := "add \"mx: " + h.Host + "\" to the policy and change the record's id="
			if pol.Mode == mtasts.Enforce {
				p.find("mtasts.mx-not-covered", fmt.Sprintf("MX %s is not covered by the MTA-STS policy (mx: %s): senders that enforce it will not deliver there", h.Host, strings.Join(pol.MX, ", ")), fix, pev...)
			} else {
				p.find("mtasts.mx-not-covered-testing", fmt.Sprintf("MX %s is not covered by the MTA-STS policy (mx: %s): in testing mode senders still deliver, but report failures, and enforce mode will stop delivery there (RFC 8461 §5)", h.Host, strings.Join(pol.MX, ", ")), fix, pev...)
			}
		}
	}
	return sum
}

func stsProblems(r *mtasts.Record) []mtasts.Problem {
	if r == nil {
		return nil
	}
	return r.Problems
}

func hasError(ps []mtasts.Problem) bool {
	for _, p := range ps {
		if p.Error {
			return true
		}
	}
	return false
}

func errOr(err error, ps []mtasts.Problem) string {
	if err != nil {
		return err.Error()
	}
	var s []string
	for _, p := range ps {
		if p.Error {
			s = append(s, p.Message)
		}
	}
	return strings.Join(s, "; ")
}

func checkTLSRPT(ctx context.Context, r resolver.Resolver, domain string, p *part) *TLSRPTSummary {
	name := "_smtp._tls." + domain
	recs, a := txtWith(ctx, r, name, "v=TLSRPTv1")
	ev := fmt.Sprintf("%s TXT: %s %q", name, a.Status, recs)
	switch {
	case !a.Status.Known():
		p.find("tlsrpt.unknown", fmt.Sprintf("the TLS-RPT record of %s could not be looked up: %v", domain, a.Err), "check again, or with another --resolver", ev)
		return nil
	case len(recs) == 0:
		p.find("tlsrpt.missing", "no TLS-RPT record: senders that fail to set up TLS with your MX hosts have nowhere to report it",
			fmt.Sprintf("publish %s TXT \"v=TLSRPTv1; rua=mailto:tls-reports@%s\"", name, domain), ev)
		return nil
	case len(recs) > 1:
		p.find("tlsrpt.invalid", fmt.Sprintf("%s has %d TLS-RPT records: senders use none (RFC 8460 §3)", name, len(recs)), "keep one v=TLSRPTv1 record", ev)
		return &TLSRPTSummary{Record: strings.Join(recs, " | ")}
	}
	p.check("tlsrpt.record")
	sum := &TLSRPTSummary{Record: recs[0]}
	rec, err := tlsrpt.Parse(recs[0])
	if err != nil {
		p.find("tlsrpt.invalid", fmt.Sprintf("the TLS-RPT record is invalid: %v", err), "publish v=TLSRPTv1; rua=mailto:<address>", ev)
		return sum
	}
	for _, u := range rec.RUA {
		sum.RUA = append(sum.RUA, u.Raw)
	}
	var errs []string
	for _, pr := range rec.Problems {
		if pr.Error {
			errs = append(errs, pr.Message)
		}
	}
	if len(errs) > 0 {
		p.find("tlsrpt.invalid", "the TLS-RPT record has errors: "+strings.Join(errs, "; "), "publish v=TLSRPTv1; rua=mailto:<address>[,https://<endpoint>]", ev)
	}
	return sum
}

// httpClient fetches MTA-STS policies, resolving names through the
// check's own resolver, so a zone file given with --zone is what the
// fetch sees too.
func (c *checker) httpClient() *http.Client {
	t := &http.Transport{
		DialContext:         c.dial,
		TLSHandshakeTimeout: c.o.timeout(),
		ForceAttemptHTTP2:   true,
	}
	if c.o.RootCAs != nil {
		t.TLSClientConfig = tlsConfig(c.o.RootCAs)
	}
	return &http.Client{Transport: t, Timeout: c.o.timeout()}
}

// dial connects to host:port, resolving host with the check's resolver
// and trying each address in turn.
func (c *checker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs := mailhost.LookupAddrs(ctx, c.r, host)
	if !addrs.Status.Known() {
		return nil, &lookupError{fmt.Errorf("%s: the address lookup failed (%s): %w", host, addrs.Status, addrs.Err)}
	}
	if len(addrs.Addrs) == 0 {
		return nil, fmt.Errorf("%s: no address (%s)", host, addrs.Status)
	}
	var errs []error
	for _, ip := range addrs.Addrs {
		conn, err := c.o.dialer()(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// lookupError is a dial that failed for want of a DNS answer: says nothing
// about the domain.
type lookupError struct{ err error }

func (e *lookupError) Error() string { return e.err.Error() }
func (e *lookupError) Unwrap() error { return e.err }

// ourSide reports whether a fetch failed for a reason that may be this
// machine's rather than the domain's: a failed lookup, a timeout (a
// firewall dropping port 443 looks the same).
func ourSide(err error) bool {
	var le *lookupError
	var ne net.Error
	return errors.As(err, &le) || errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}
