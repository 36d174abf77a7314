// Package check runs the domain health check of `mailtriage check`: SPF
// (RFC 7208), DKIM keys (RFC 6376, RFC 8301, RFC 8463), DMARC (RFC 9989,
// with RFC 7489's answer beside it), MX (RFC 5321 §5.1, RFC 7505),
// STARTTLS (RFC 3207), MTA-STS (RFC 8461), TLS-RPT (RFC 8460), BIMI, and
// the identity of the sending addresses (reverse DNS, forward
// confirmation, HELO). It turns what the leaf packages found into
// findings with a fix and into a score from 0 to 100, internet.nl-style:
// each category scores the points of its checks made over their maximum,
// the total is the plain mean of the categories checked, and a check that
// could not be made is left out and shown in the coverage, never counted
// as a failure. The rubric is in rubric.go and docs/checks.md.
package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/blocklist"
	"github.com/mailtriage/mailtriage/resolver"
	"golang.org/x/net/idna"
)

// Options say what to check and how.
type Options struct {
	Domain string
	// IPs are sending addresses: their reverse DNS, and SPF for each.
	IPs []netip.Addr
	// HELO is the name the sending MTA gives.
	HELO string
	// Selectors are DKIM selectors; none: the common ones are tried.
	Selectors []string
	// Resolver answers every DNS question, also the names the MTA-STS
	// fetch and the SMTP probes connect to.
	Resolver resolver.Resolver
	// SMTPProbe connects to port 25 of every MX to check STARTTLS.
	SMTPProbe bool
	// Offline makes no connection but DNS questions to Resolver: the
	// MTA-STS policy is not fetched (and SMTPProbe is ignored).
	Offline bool
	// Timeout bounds each HTTPS fetch and SMTP probe; 0 means 10 seconds.
	Timeout time.Duration
	// Dial opens connections (tests point it at in-process servers); nil
	// uses a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// RootCAs replaces the system's roots for HTTPS and STARTTLS (tests).
	RootCAs *x509.CertPool
	// Blocklists are the lists to ask about the domain, the --ip
	// addresses and the MX addresses; nil skips them.
	Blocklists *blocklist.Catalogue
	// BlocklistPerZone bounds the queries in flight to one list.
	BlocklistPerZone int
}

func (o *Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 10 * time.Second
}

func (o *Options) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.Dial != nil {
		return o.Dial
	}
	return (&net.Dialer{Timeout: o.timeout()}).DialContext
}

func tlsConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

// Report is the outcome of a check.
type Report struct {
	Domain string `json:"domain"`
	// Unicode is the domain as given, when it was an IDN (Domain is its
	// A-label form).
	Unicode    string               `json:"unicode,omitempty"`
	Score      int                  `json:"score"`
	Grade      string               `json:"grade"`
	Coverage   Coverage             `json:"coverage"`
	Categories []Category           `json:"categories"`
	Checks     []Check              `json:"checks"`
	Findings   []mailtriage.Finding `json:"findings"`

	SPF    *SPFSummary    `json:"spf"`
	DMARC  *DMARCSummary  `json:"dmarc"`
	DKIM   []DKIMSummary  `json:"dkim"`
	MX     *MXSummary     `json:"mx"`
	MTASTS *MTASTSSummary `json:"mta_sts"`
	TLSRPT *TLSRPTSummary `json:"tls_rpt"`
	TLS    []TLSSummary   `json:"tls,omitempty"`
	BIMI   *BIMISummary   `json:"bimi"`
	IPs    []IPSummary    `json:"ips,omitempty"`
	HELO   *HELOSummary   `json:"helo,omitempty"`

	Blocklists *BlocklistSummary `json:"blocklists,omitempty"`

	Elapsed time.Duration `json:"elapsed_ns"`
}

// Errors returns the number of error findings.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == mailtriage.SeverityError {
			n++
		}
	}
	return n
}

// ErrNotDomain is returned for a domain argument that can't be one.
var ErrNotDomain = errors.New("not a domain name")

// lookupProfile maps a domain as a lookup does (UTS #46) and checks the
// lengths DNS allows: labels of 1 to 63 octets, 253 in all.
// Underscores are allowed (RFC 2181 §11): _spf.example.com is a name one
// may well check.
var lookupProfile = idna.New(idna.MapForLookup(), idna.VerifyDNSLength(true), idna.BidiRule(), idna.StrictDomainName(false))

// hostLabel reports whether l is a label of letters, digits, hyphens and
// underscores.
func hostLabel(l string) bool {
	if l == "" {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Name checks a host name given on the command line (a HELO, say): a
// domain name, or an address literal in brackets; "" when it is one.
func Name(name string) error {
	if strings.HasPrefix(name, "[") {
		return nil // an address literal; mailhost judges it
	}
	_, _, err := Domain(name)
	if errors.Is(err, ErrNotDomain) && !strings.Contains(strings.Trim(name, "."), ".") && hostLabel(strings.ToLower(strings.Trim(name, "."))) {
		return nil // a bare host name: a finding, not a usage error
	}
	return err
}

// Domain returns name in the form DNS asks for (lower case, A-labels, no
// final dot) and, for an IDN, its Unicode form.
func Domain(name string) (ascii, unicode string, err error) {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	if name == "" {
		return "", "", fmt.Errorf("%w: empty", ErrNotDomain)
	}
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return "", "", fmt.Errorf("%w: %s is an IP address; check a domain, and give sending addresses with --ip", ErrNotDomain, name)
	}
	ascii, err = lookupProfile.ToASCII(name)
	if err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrNotDomain, name, err)
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") {
		return "", "", fmt.Errorf("%w: %q has a single label", ErrNotDomain, name)
	}
	for _, l := range strings.Split(ascii, ".") {
		if !hostLabel(l) {
			return "", "", fmt.Errorf("%w: %q: the label %q holds characters a host name cannot", ErrNotDomain, name, l)
		}
	}
	if u, err := idna.Display.ToUnicode(ascii); err == nil && u != ascii {
		unicode = u
	}
	return ascii, unicode, nil
}

// checker is one run of the check.
type checker struct {
	o      Options
	r      resolver.Resolver
	domain string
	rep    *Report
}

// Run checks o.Domain. Every group of checks runs at once, and every
// lookup inside a group that does not depend on another is in flight at
// the same time, so a check takes about as long as its longest chain of
// dependent lookups. Errors are only for bad options; what the DNS says,
// or fails to say, is in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	domain, unicode, err := Domain(o.Domain)
	if err != nil {
		return nil, err
	}
	if o.Resolver == nil {
		return nil, errors.New("check: no resolver")
	}
	c := &checker{o: o, r: o.Resolver, domain: domain, rep: &Report{Domain: domain, Unicode: unicode}}
	rep := c.rep
	// Each group writes only its own fields of the report.
	groups := []func(*part){
		func(p *part) { rep.SPF = checkSPF(ctx, c.r, domain, o.HELO, o.IPs, p) },
		func(p *part) { rep.DMARC = checkDMARC(ctx, c.r, domain, p) },
		func(p *part) { rep.DKIM = checkDKIM(ctx, c.r, domain, o.Selectors, p) },
		func(p *part) { c.checkTransport(ctx, p) },
		func(p *part) { rep.BIMI = checkBIMI(ctx, c.r, domain, p) },
		func(p *part) { rep.IPs = checkIPs(ctx, c.r, o.IPs, p) },
		func(p *part) { rep.HELO = checkHELO(ctx, c.r, o.HELO, o.IPs, p) },
		func(p *part) { rep.Blocklists = c.checkBlocklists(ctx, p) },
	}
	parts := make([]*part, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		parts[i] = newPart()
		wg.Add(1)
		go func() {
			defer wg.Done()
			g(parts[i])
		}()
	}
	wg.Wait()
	all := newPart()
	for _, p := range parts {
		all.merge(p)
	}
	if slices.ContainsFunc(all.findings, func(f mailtriage.Finding) bool { return f.Code == "domain.nxdomain" }) {
		// A resolver that answers NXDOMAIN for every name (a sandbox's, a
		// captive portal's) would make every domain "not exist".
		if err := resolver.Blind(ctx, c.r, c.domain); err != nil {
			all = c.blindResolver(err)
		}
	}
	c.crossCheck(all)
	rep.Findings = all.findings
	rep.score(all.made, all.moot, applied(o))
	sortFindings(rep.Findings)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// blindResolver is the whole report when the resolver denies the domain's
// top-level domain: its NXDOMAIN for the domain, and every other answer,
// say nothing, so no check was made.
func (c *checker) blindResolver(err error) *part {
	// What the groups read is no reading of the domain's records.
	*c.rep = Report{Domain: c.rep.Domain, Unicode: c.rep.Unicode}
	p := newPart()
	p.find("domain.resolver-blind", err.Error()+", and nothing could be checked",
		"ask a resolver that reaches the public DNS (--resolver HOST:PORT), or check a change not yet published with --zone",
		resolver.TLD(c.domain)+". SOA: nxdomain")
	return p
}

// crossCheck judges what one group's result means for another's: a
// domain that does not exist, a null MX on a domain that sends, a BIMI
// logo without an enforced DMARC policy.
func (c *checker) crossCheck(all *part) {
	rep := c.rep
	if slices.ContainsFunc(all.findings, func(f mailtriage.Finding) bool { return f.Code == "domain.nxdomain" }) {
		// Other findings would only restate it, but DMARC's: the np= policy
		// is what receivers apply to mail forged from a name that does not
		// exist (RFC 9989 §4.7).
		all.findings = slices.DeleteFunc(all.findings, func(f mailtriage.Finding) bool {
			return f.Code != "domain.nxdomain" && !strings.HasPrefix(f.Code, "dmarc.")
		})
		for id := range all.made {
			if !strings.HasPrefix(id, "dmarc.") {
				delete(all.made, id)
			}
		}
		all.made["mx.hosts"] = 0
		return
	}
	if rep.MX != nil && rep.MX.Null {
		// RFC 7505 §3: no mail is delivered to the domain, so its
		// transport security does not apply.
		drop := []string{"mtasts.policy", "tlsrpt.record", "tls.starttls", "tls.certificate"}
		for _, id := range drop {
			delete(all.made, id)
		}
		all.notApplicable(drop...)
		all.findings = slices.DeleteFunc(all.findings, func(f mailtriage.Finding) bool {
			return f.Code == "mtasts.missing" || f.Code == "tlsrpt.missing"
		})
		if c.sends() {
			all.find("mx.null-sender", c.domain+" publishes a null MX but sends mail: receivers may reject mail from it (RFC 7505 §4.2: 550 5.7.27), and bounces to it are lost",
				"publish MX records for a host that takes the replies and bounces, or send from another domain", fmt.Sprintf("%s MX 0 .", c.domain))
		}
	}
	if rep.BIMI != nil && rep.BIMI.Logo != "" && rep.DMARC != nil && (rep.DMARC.Policy == "" || rep.DMARC.Policy == "none") {
		all.find("bimi.dmarc-not-enforced", fmt.Sprintf("a BIMI logo is published, but the DMARC policy is %q: mailbox providers show logos only for p=quarantine or p=reject", nonEmptyOr(rep.DMARC.Policy, "none")),
			"move DMARC to quarantine or reject first (see the DMARC findings)", "default._bimi."+c.domain+" TXT "+rep.BIMI.Record)
	}
}

// sends reports whether the domain sends mail: sending addresses or a
// HELO were given, or its SPF record authorizes anyone at all.
func (c *checker) sends() bool {
	if len(c.o.IPs) > 0 || c.o.HELO != "" {
		return true
	}
	s := c.rep.SPF
	return s != nil && s.Record != "" && strings.Join(strings.Fields(s.Record), " ") != "v=spf1 -all"
}

func nonEmptyOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// applied lists the checks that apply to a run with these options.
func applied(o Options) []string {
	var ids []string
	for _, c := range checkDefs {
		switch {
		case strings.HasPrefix(c.ID, "tls."):
			if !o.SMTPProbe {
				continue
			}
		case c.ID == "spf.ip" || strings.HasPrefix(c.ID, "rdns."):
			if len(o.IPs) == 0 {
				continue
			}
		case strings.HasPrefix(c.ID, "helo."):
			if o.HELO == "" {
				continue
			}
		case strings.HasPrefix(c.ID, "blocklist."):
			if !slices.Contains(blocklistChecks(o), c.ID) {
				continue
			}
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// sortFindings orders findings by severity, then category order, keeping
// the order each group reported them in otherwise.
func sortFindings(fs []mailtriage.Finding) {
	rank := map[mailtriage.Severity]int{mailtriage.SeverityError: 0, mailtriage.SeverityWarning: 1, mailtriage.SeverityUnknown: 2, mailtriage.SeverityInfo: 3}
	catRank := func(c string) int {
		for i, n := range categoryOrder {
			if n == c {
				return i
			}
		}
		return len(categoryOrder)
	}
	slices.SortStableFunc(fs, func(a, b mailtriage.Finding) int {
		if d := rank[a.Severity] - rank[b.Severity]; d != 0 {
			return d
		}
		return catRank(a.Category) - catRank(b.Category)
	})
}
