package spf

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// checker is the state of one check_host() evaluation, includes and
// redirects included: the identity checked and the limit counters.
type checker struct {
	r            resolver.Resolver
	ip           netip.Addr // IPv4-mapped addresses unmapped
	sender       string     // local@domain, "postmaster" if the local part was empty
	local        string
	senderDomain string
	helo         string
	receiver     string // the %{r} macro
	now          time.Time

	lookups, voids int
	pvalues        map[string]string // %{p} by current domain
}

func newChecker(r resolver.Resolver, ip netip.Addr, domain, sender, helo string) *checker {
	c := &checker{r: r, ip: ip, helo: helo, receiver: "unknown", now: time.Now(), pvalues: map[string]string{}}
	local, dom := "", sender
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		local, dom = sender[:i], sender[i+1:]
	}
	if dom == "" {
		dom = domain
	}
	if local == "" {
		// §4.3: a sender without a local part is "postmaster".
		local = "postmaster"
	}
	c.sender, c.local, c.senderDomain = local+"@"+dom, local, strings.TrimSuffix(dom, ".")
	return c
}

// outcome is the result of check_host() for one domain: the status and,
// when a record decided it, that record, its domain and the matching term
// (for the explanation, §6.2).
type outcome struct {
	status Status
	err    error
	rec    *Record
	domain string
	term   *Term
}

func errorOutcome(s Status, err error, domain string) *outcome {
	return &outcome{status: s, err: err, domain: domain}
}

// checkHost is check_host() (§4) for domain. nested says it is called by
// an include or a redirect, whose empty lookups are void lookups.
func (c *checker) checkHost(ctx context.Context, domain string, nested bool) outcome {
	domain = strings.TrimSuffix(domain, ".")
	// §4.3: a malformed domain gives none.
	if !validDomain(domain) {
		return outcome{status: None, err: fmt.Errorf("%w: %q", ErrInvalidDomain, domain), domain: domain}
	}
	// §4.4: the record is looked up as TXT only (the SPF RR type is gone,
	// §3.1).
	ans := c.query(ctx, queryName(domain), dns.TypeTXT)
	switch ans.Status {
	case resolver.OK:
	case resolver.NXDomain, resolver.NoData:
		if nested {
			if o := c.void(domain); o != nil {
				return *o
			}
		}
		return outcome{status: None, err: fmt.Errorf("%w at %s (%s)", ErrNoRecord, domain, ans.Status), domain: domain}
	default:
		return outcome{status: Temperror, err: dnsError(domain, dns.TypeTXT, ans), domain: domain}
	}
	// §4.5: records that begin "v=spf1"; several are a permerror.
	var records []string
	for _, txt := range ans.TXT() {
		if IsSPF(txt) { // TXT() has resolved the escapes
			records = append(records, txt)
		}
	}
	switch len(records) {
	case 0:
		return outcome{status: None, err: fmt.Errorf("%w at %s", ErrNoRecord, domain), domain: domain}
	case 1:
	default:
		return outcome{status: Permerror, err: fmt.Errorf("%w at %s: %d", ErrMultipleRecords, domain, len(records)), domain: domain}
	}
	// §4.6: a syntax error anywhere is a permerror, before evaluation.
	rec, err := Parse(records[0])
	if err != nil {
		return outcome{status: Permerror, err: fmt.Errorf("%s: %w", domain, err), domain: domain}
	}
	return c.evaluate(ctx, domain, rec)
}

// evaluate evaluates the mechanisms in order, then the redirect (§4.6.2,
// §4.7, §6.1).
func (c *checker) evaluate(ctx context.Context, domain string, rec *Record) outcome {
	for i := range rec.Terms {
		t := &rec.Terms[i]
		if t.Kind != Mechanism {
			continue
		}
		match, o := c.mechanism(ctx, domain, t)
		if o != nil {
			return *o
		}
		if match {
			return outcome{status: t.Qualifier.Status(), rec: rec, domain: domain, term: t}
		}
	}
	t := rec.Redirect()
	if t == nil {
		// §4.7: no match and no redirect: neutral.
		return outcome{status: Neutral, rec: rec, domain: domain}
	}
	// §6.1: the result of the redirect's domain is the result, and its
	// exp= is the one that counts; none there is a permerror.
	if o := c.count(domain, t); o != nil {
		return *o
	}
	target, _ := c.target(ctx, t, domain)
	o := c.checkHost(ctx, target, true)
	if o.status == None {
		return outcome{status: Permerror, err: fmt.Errorf("%w: %s in %s: %v", ErrRedirectNoRecord, t.Raw, domain, o.err), domain: domain}
	}
	return o
}

// mechanism evaluates one mechanism (§5): whether it matches, or the
// outcome that ends the check (an error).
func (c *checker) mechanism(ctx context.Context, domain string, t *Term) (bool, *outcome) {
	switch t.Name {
	case "all":
		return true, nil
	case "ip4", "ip6":
		// §5.6: IPv4 connections match ip4 only, IPv6 ones ip6 only.
		return t.Prefix.Masked().Contains(c.ip), nil
	}
	if o := c.count(domain, t); o != nil {
		return false, o
	}
	target, ok := c.target(ctx, t, domain)
	switch t.Name {
	case "include":
		return c.include(ctx, domain, t, target)
	case "a":
		if !ok {
			return false, nil
		}
		addrs, o := c.addrs(ctx, queryName(target), true)
		return c.matchAny(addrs, t), o
	case "mx":
		if !ok {
			return false, nil
		}
		return c.mx(ctx, t, target)
	case "ptr":
		if !ok {
			return false, nil
		}
		return c.ptr(ctx, target)
	case "exists":
		if !ok {
			return false, nil
		}
		// §5.7: an A lookup, whatever the connection's family.
		ans := c.query(ctx, queryName(target), dns.TypeA)
		switch ans.Status {
		case resolver.OK:
			return true, nil
		case resolver.NXDomain, resolver.NoData:
			return false, c.void(target)
		}
		return false, errorOutcome(Temperror, dnsError(target, dns.TypeA, ans), domain)
	}
	// Parse admits no other mechanism.
	return false, errorOutcome(Permerror, fmt.Errorf("spf: unknown mechanism %q", t.Raw), domain)
}

// include evaluates include (§5.2): the included domain's pass matches,
// fail, softfail and neutral do not, errors are errors, none is a
// permerror.
func (c *checker) include(ctx context.Context, domain string, t *Term, target string) (bool, *outcome) {
	o := c.checkHost(ctx, target, true)
	switch o.status {
	case Pass:
		return true, nil
	case Fail, Softfail, Neutral:
		return false, nil
	case None:
		return false, errorOutcome(Permerror, fmt.Errorf("%w: %s in %s: %v", ErrIncludeNoRecord, t.Raw, domain, o.err), domain)
	}
	return false, &o
}

// mx evaluates mx (§5.4): the addresses of at most 10 MX names.
func (c *checker) mx(ctx context.Context, t *Term, target string) (bool, *outcome) {
	ans := c.query(ctx, queryName(target), dns.TypeMX)
	switch ans.Status {
	case resolver.OK:
	case resolver.NXDomain, resolver.NoData:
		return false, c.void(target)
	default:
		return false, errorOutcome(Temperror, dnsError(target, dns.TypeMX, ans), target)
	}
	var hosts []string
	for _, rr := range ans.Records {
		if mx, ok := rr.(*dns.MX); ok && mx.Mx != "." { // "." is a null MX (RFC 7505)
			hosts = append(hosts, mx.Mx)
		}
	}
	// §4.6.4: more than 10 MX names is a permerror.
	if len(hosts) > MaxNames {
		return false, errorOutcome(Permerror, fmt.Errorf("%w: %s has %d", ErrTooManyMX, target, len(hosts)), target)
	}
	// Looked up at once; read in order, so the first error or match
	// decides as a sequential evaluation would.
	addrs := make([][]netip.Addr, len(hosts))
	outs := make([]*outcome, len(hosts))
	parallel(len(hosts), func(i int) { addrs[i], outs[i] = c.addrs(ctx, hosts[i], false) })
	for i := range hosts {
		if c.matchAny(addrs[i], t) {
			return true, nil
		}
		if outs[i] != nil {
			return false, outs[i]
		}
	}
	return false, nil
}

// ptr evaluates ptr (§5.5): a validated name of the IP that is the target
// or under it. DNS errors make it not match.
func (c *checker) ptr(ctx context.Context, target string) (bool, *outcome) {
	names, void := c.ptrNames(ctx)
	if void {
		if o := c.void(reverseName(c.ip)); o != nil {
			return false, o
		}
	}
	var candidates []string
	for _, n := range names {
		if sameOrSub(unescape(n), target) {
			candidates = append(candidates, n)
		}
	}
	for _, ok := range c.validate(ctx, candidates) {
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// ptrNames returns the first 10 PTR names of the IP (§4.6.4), and whether
// the lookup was void. A failed lookup gives no names (§5.5).
func (c *checker) ptrNames(ctx context.Context) ([]string, bool) {
	ans := c.query(ctx, reverseName(c.ip), dns.TypePTR)
	var names []string
	for _, rr := range ans.Records {
		if p, ok := rr.(*dns.PTR); ok {
			names = append(names, p.Ptr)
		}
	}
	if len(names) > MaxNames {
		names = names[:MaxNames]
	}
	return names, ans.Status == resolver.NXDomain || ans.Status == resolver.NoData
}

// validate reports which names have an address that is the IP (§5.5);
// names whose lookup fails are skipped.
func (c *checker) validate(ctx context.Context, names []string) []bool {
	ok := make([]bool, len(names))
	parallel(len(names), func(i int) {
		addrs, _ := c.addrs(ctx, names[i], false)
		for _, a := range addrs {
			if a == c.ip {
				ok[i] = true
			}
		}
	})
	return ok
}

// pvalue is the %{p} macro (§7.3): a validated name of the IP, the domain
// itself or a name under it by preference, else "unknown". Its lookups do
// not count against the limits: the term using it was counted.
func (c *checker) pvalue(ctx context.Context, domain string) string {
	if v, ok := c.pvalues[domain]; ok {
		return v
	}
	names, _ := c.ptrNames(ctx)
	valid := c.validate(ctx, names)
	v := "unknown"
	for _, want := range []func(string) bool{
		func(n string) bool { return strings.EqualFold(strings.TrimSuffix(n, "."), domain) },
		func(n string) bool { return sameOrSub(n, domain) },
		func(string) bool { return true },
	} {
		for i, n := range names {
			if n = unescape(n); valid[i] && want(n) && v == "unknown" {
				v = strings.TrimSuffix(n, ".")
			}
		}
	}
	c.pvalues[domain] = v
	return v
}

// addrs looks up the addresses of qname (a name in presentation format)
// of the IP's family. A lookup that comes back empty counts as a void
// lookup if countVoid; a failed one is a temperror.
func (c *checker) addrs(ctx context.Context, qname string, countVoid bool) ([]netip.Addr, *outcome) {
	qtype := dns.TypeA
	if c.ip.Is6() {
		qtype = dns.TypeAAAA
	}
	ans := c.query(ctx, qname, qtype)
	switch ans.Status {
	case resolver.OK:
	case resolver.NXDomain, resolver.NoData:
		if countVoid {
			return nil, c.void(unescape(qname))
		}
		return nil, nil
	default:
		return nil, errorOutcome(Temperror, dnsError(unescape(qname), qtype, ans), unescape(qname))
	}
	var out []netip.Addr
	for _, rr := range ans.Records {
		switch rr := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
				out = append(out, a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// matchAny reports whether the IP is in the network of one of addrs with
// the term's prefix length (§5.3, §5.6).
func (c *checker) matchAny(addrs []netip.Addr, t *Term) bool {
	for _, a := range addrs {
		bits := t.V4Bits
		if a.Is6() {
			bits = t.V6Bits
		}
		if p, err := a.Prefix(bits); err == nil && p.Contains(c.ip) {
			return true
		}
	}
	return false
}

// count counts a DNS-querying term against the limit of 10 (§4.6.4).
func (c *checker) count(domain string, t *Term) *outcome {
	c.lookups++
	if c.lookups > MaxLookups {
		return errorOutcome(Permerror, fmt.Errorf("%w: %s in %s is number %d", ErrTooManyLookups, t.Raw, domain, c.lookups), domain)
	}
	return nil
}

// void counts a lookup that came back empty against the limit of 2.
func (c *checker) void(name string) *outcome {
	c.voids++
	if c.voids > MaxVoidLookups {
		return errorOutcome(Permerror, fmt.Errorf("%w: %s is number %d", ErrTooManyVoid, name, c.voids), name)
	}
	return nil
}

// target returns the domain a term acts on: its domain-spec expanded, or
// the current domain (§4.8), with a trailing dot removed and cut to 253
// bytes (§7.3); ok is false when the DNS cannot hold the name.
func (c *checker) target(ctx context.Context, t *Term, domain string) (string, bool) {
	if t.spec == nil {
		return domain, true
	}
	s, err := t.spec.expand(env{c, ctx, domain})
	if err != nil {
		return "", false
	}
	s = truncateName(strings.TrimSuffix(s, "."))
	return s, validDNSName(s)
}

// explain returns the explanation of a fail from rec's exp= (§6.2), or ""
// when there is none or anything goes wrong with it. Its lookup does not
// count against the limits.
func (c *checker) explain(ctx context.Context, rec *Record, domain string) string {
	t := rec.Exp()
	if t == nil {
		return ""
	}
	name, ok := c.target(ctx, t, domain)
	if !ok {
		return ""
	}
	ans := c.query(ctx, queryName(name), dns.TypeTXT)
	if ans.Status != resolver.OK || len(ans.Records) != 1 || len(ans.TXT()) != 1 {
		return ""
	}
	ms, err := parseMacroString(ans.TXT()[0], true)
	if err != nil {
		return ""
	}
	s, err := ms.expand(env{c, ctx, domain})
	if err != nil {
		return ""
	}
	return s
}

// query asks the resolver; a done context is a timeout.
func (c *checker) query(ctx context.Context, qname string, qtype uint16) resolver.Answer {
	if err := ctx.Err(); err != nil {
		return resolver.Answer{Name: qname, Type: qtype, Status: resolver.Timeout, Err: err}
	}
	return c.r.Lookup(ctx, qname, qtype)
}

func dnsError(name string, qtype uint16, ans resolver.Answer) error {
	if ans.Err != nil {
		return fmt.Errorf("%w: %s %s: %s: %v", ErrDNS, name, dns.TypeToString[qtype], ans.Status, ans.Err)
	}
	return fmt.Errorf("%w: %s %s: %s", ErrDNS, name, dns.TypeToString[qtype], ans.Status)
}

// env gives the macro values of a check at one domain (§7.3).
type env struct {
	c      *checker
	ctx    context.Context
	domain string
}

func (e env) macroValue(l byte) (string, error) {
	c := e.c
	switch l {
	case 's':
		return c.sender, nil
	case 'l':
		return c.local, nil
	case 'o':
		return c.senderDomain, nil
	case 'd':
		return e.domain, nil
	case 'i':
		if c.ip.Is4() {
			return c.ip.String(), nil
		}
		return nibbles(c.ip, false), nil
	case 'p':
		return c.pvalue(e.ctx, e.domain), nil
	case 'v':
		if c.ip.Is4() {
			return "in-addr", nil
		}
		return "ip6", nil
	case 'h':
		return c.helo, nil
	case 'c':
		return c.ip.String(), nil
	case 'r':
		return c.receiver, nil
	case 't':
		return strconv.FormatInt(c.now.Unix(), 10), nil
	}
	return "", fmt.Errorf("spf: unknown macro letter %q", l)
}

// parallel runs f(0) … f(n-1) at once and waits for them.
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}
