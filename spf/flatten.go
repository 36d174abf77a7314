package spf

// Flattening: an SPF record that needs more than 10 DNS lookups (§4.6.4)
// is rewritten so that receivers evaluate addresses instead of includes.
// The rewrite must give every connecting address the result the original
// gives: terms keep their order and qualifiers, and a term whose matching
// cannot be written as a list of addresses is kept as it is.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Errors of Flatten besides those of the lookups (ErrDNS, ErrNoRecord,
// ErrIncludeNoRecord, ErrRedirectNoRecord, ErrMultipleRecords, a
// *SyntaxError) and ErrTooManyLookups.
var (
	ErrLoop     = errors.New("spf: include or redirect loop")
	ErrTooLarge = errors.New("spf: record tree too deep or too large to flatten")
)

// Size limits of a published record.
const (
	// maxStringLen is the most bytes of one TXT string (RFC 1035 §3.3.14);
	// longer records are split into strings that receivers join without
	// spaces (RFC 7208 §3.3).
	maxStringLen = 255
	// maxRecordLen is the most bytes of a record's text; recordLimit
	// lowers it for long names.
	maxRecordLen = 450
)

// recordLimit returns the most bytes of text of a record named name whose
// answer fits in 512 bytes of UDP (RFC 7208 §3.4): the 12-byte header, the
// question (the name in wire form and 4 bytes), and the answer (a
// compressed owner of 2 bytes, 10 of type, class, TTL and length, and a
// length byte for each of, at most, 2 strings).
func recordLimit(name string) int {
	return min(maxRecordLen, 512-12-(len(name)+2+4)-(2+10)-2)
}

// Flattened is an SPF record rewritten so that includes, redirects and
// a and mx terms are replaced by the addresses they stand for.
type Flattened struct {
	Domain string `json:"domain"`
	// Records are what to publish: first the domain's own record, then
	// the chained records (_spf1.<domain>, _spf2.<domain>, …) it includes
	// when its addresses do not fit in it.
	Records []FlatRecord `json:"records"`
	// LookupsBefore and LookupsAfter are the DNS-querying terms a receiver
	// evaluates when no term matches early (§4.6.4), through every include
	// and redirect, in the published record and in the flattened one.
	LookupsBefore int `json:"lookups_before"`
	LookupsAfter  int `json:"lookups_after"`
	// Addresses is the number of ip4 and ip6 terms of the result.
	Addresses int `json:"addresses"`
	// Flattened are the terms replaced by addresses.
	Flattened []FlatTerm `json:"flattened,omitempty"`
	// Kept are the terms that cannot be written as addresses and are
	// kept as they are, with why.
	Kept []Kept `json:"kept,omitempty"`
	// Dropped are terms left out because receivers never evaluate them.
	Dropped []Kept `json:"dropped,omitempty"`
	// Sources are the records whose contents the result copies. A
	// provider that changes its ranges makes the flattened record wrong
	// until it is made again, so these are what to watch, and the TTLs say
	// how often.
	Sources []Source `json:"sources"`
	// Notes say what to mind when publishing the result.
	Notes []string `json:"notes,omitempty"`
}

// FlatRecord is one TXT record to publish.
type FlatRecord struct {
	Name string `json:"name"`
	Text string `json:"text"`
	// Strings are Text split at term boundaries into strings of at most
	// 255 bytes, each but the last ending in the space that separates it
	// from the next: receivers join them without spaces (§3.3).
	Strings []string `json:"strings"`
}

// FlatTerm is a term replaced by addresses.
type FlatTerm struct {
	Term      string `json:"term"`      // as written
	Domain    string `json:"domain"`    // the record it is written in
	Addresses int    `json:"addresses"` // how many it stood for, before merging
}

// Kept is a term kept as it is, or left out, and why.
type Kept struct {
	Term   string `json:"term"`
	Domain string `json:"domain"`
	Reason string `json:"reason"`
}

// Source is a DNS record the result copies.
type Source struct {
	Name string `json:"name"`
	Type string `json:"type"` // TXT, A, AAAA, MX
	TTL  uint32 `json:"ttl"`
}

// MinTTL returns the least TTL of the sources: how long the copied records
// may be cached, and so how often it is worth checking them; 0 if none.
func (f *Flattened) MinTTL() uint32 {
	var m uint32
	for i, s := range f.Sources {
		if i == 0 || s.TTL < m {
			m = s.TTL
		}
	}
	return m
}

// Zone returns the record in RFC 1035 master-file form, name absolute.
func (r FlatRecord) Zone() string {
	var b strings.Builder
	b.WriteString(r.Name + ". IN TXT")
	for _, s := range r.Strings {
		b.WriteString(` "`)
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < ' ' || c > '~':
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

// Flatten rewrites domain's SPF record into one that gives every address
// the same result with as few DNS lookups as it can: includes whose pass
// results can be listed as addresses, redirects, and a and mx terms are
// replaced by ip4 and ip6 terms, in their place and with their qualifiers;
// what cannot be listed exactly (ptr, exists, targets that depend on the
// message, includes with fail, softfail or neutral terms) is kept. When the
// result is too long for one record, runs of addresses move into chained
// records that it includes.
//
// Flatten never builds a record from a partial view: a failed lookup
// anywhere, or a record that gives receivers permerror (a missing include
// or redirect target, several records, a syntax error, a loop), is an
// error. So is a result that still needs more than 10 lookups. Without a
// deadline on ctx, Flatten is bounded by Timeout.
func Flatten(ctx context.Context, r resolver.Resolver, domain string) (*Flattened, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	if !validDomain(domain) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidDomain, domain)
	}
	f := &flattener{r: r}
	w, err := f.walk(ctx, domain, nil, nil, "")
	if err != nil {
		return nil, fmt.Errorf("flatten %s: %w", domain, err)
	}
	p := w.policy(true)
	if p.after > MaxLookups {
		return nil, fmt.Errorf("flatten %s: %w: the terms that cannot be flattened still cost %d lookups: %s",
			domain, ErrTooManyLookups, p.after, keptTerms(p.kept))
	}
	items := compact(p.items)
	records, chains := layout(domain, items, p.mods, p.after)
	if last := records[len(records)-1]; !validDNSName(last.Name) {
		return nil, fmt.Errorf("flatten %s: %w: the chained record %s cannot be a DNS name", domain, ErrTooLarge, last.Name)
	}
	out := &Flattened{
		Domain:        domain,
		Records:       records,
		LookupsBefore: w.cost,
		LookupsAfter:  p.after + chains,
		Flattened:     p.replaced,
		Kept:          p.kept,
		Dropped:       p.dropped,
		Sources:       mergeSources(p.sources),
	}
	for _, it := range items {
		if it.raw == "" {
			out.Addresses++
		}
	}
	out.Notes = notes(out)
	return out, nil
}

func keptTerms(kept []Kept) string {
	var s []string
	for _, k := range kept {
		s = append(s, k.Term)
	}
	return strings.Join(s, " ")
}

// notes says what to mind when publishing f.
func notes(f *Flattened) []string {
	var n []string
	if f.LookupsBefore > MaxLookups {
		n = append(n, fmt.Sprintf("the published record needs %d lookups, over the limit of %d: receivers give permerror for hosts not matched by then (RFC 7208 §4.6.4); the flattened record does not", f.LookupsBefore, MaxLookups))
	}
	if len(f.Records) > 1 {
		n = append(n, fmt.Sprintf("publish the %d chained records before the domain's record, and keep those names for them alone", len(f.Records)-1))
	}
	if l, limit := len(f.Records[0].Text), recordLimit(f.Domain); l > limit {
		n = append(n, fmt.Sprintf("the domain's record is %d bytes, over %d: its answer may not fit in 512 bytes of UDP and need TCP (RFC 7208 §3.4)", l, limit))
	}
	if len(f.Sources) > 0 {
		what := fmt.Sprintf("%d records", len(f.Sources))
		if len(f.Sources) == 1 {
			what = "1 record"
		}
		n = append(n, fmt.Sprintf("the result copies %s (least TTL %d s): flatten again whenever they change, or hosts they add will not pass", what, f.MinTTL()))
	}
	return n
}

// Bounds of the walk, as for a diagnosis, so no record can make it run
// away.
const (
	flattenMaxDepth = 20
	flattenMaxNodes = 500
)

type flattener struct {
	r     resolver.Resolver
	nodes atomic.Int64
}

// walked is a record with what each term a receiver evaluates resolved to.
type walked struct {
	domain string
	rec    *Record
	ttl    uint32
	// terms are the mechanisms up to the first all (those after it are
	// never evaluated, §5.1); redirect is the redirect= of a record
	// without all (§6.1), or nil.
	terms    []walkedTerm
	redirect *walkedTerm
	// cost is the lookups a receiver makes evaluating the record when
	// nothing matches early, through its includes and redirect (§4.6.4).
	cost int
	// pass is the set of addresses the record gives pass, and sources
	// the records it was read from, when reason is "". reason says why
	// the addresses that pass cannot be listed, naming the term.
	pass    []netip.Prefix
	sources []Source
	reason  string
}

// walkedTerm is one evaluated term of a walked record.
type walkedTerm struct {
	t *Term
	// prefixes are the addresses that make the term match, when reason
	// is "": an ip4 or ip6 network, the addresses of a or mx, or what an
	// include's record gives pass.
	prefixes []netip.Prefix
	sources  []Source
	reason   string
	cost     int
	// sub is the record of an include or redirect; its reason, copied
	// to the term, names the term at fault.
	sub *walked
}

// walk looks up domain's record and what each of its evaluated terms
// stands for, the terms at once. via is the include or redirect that led
// here from the record of from (nil at the top), path the domains above.
func (f *flattener) walk(ctx context.Context, domain string, path []string, via *Term, from string) (*walked, error) {
	if len(path) >= flattenMaxDepth || f.nodes.Add(1) > flattenMaxNodes {
		return nil, fmt.Errorf("%w: at %s", ErrTooLarge, domain)
	}
	rec, ttl, err := f.record(ctx, domain, via, from)
	if err != nil {
		return nil, err
	}
	w := &walked{domain: domain, rec: rec, ttl: ttl}
	path = append(slices.Clone(path), strings.ToLower(domain))
	var ts []*Term
	for i := range rec.Terms {
		if t := &rec.Terms[i]; t.Kind == Mechanism {
			ts = append(ts, t)
			if t.Name == "all" {
				break
			}
		}
	}
	if red := rec.Redirect(); red != nil && rec.All() == nil {
		ts = append(ts, red)
	}
	results := make([]walkedTerm, len(ts))
	errs := make([]error, len(ts))
	parallel(len(ts), func(i int) { results[i], errs[i] = f.term(ctx, domain, ts[i], path) })
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if n := len(ts); n > 0 && ts[n-1].Kind == Modifier {
		w.redirect, results = &results[n-1], results[:n-1]
	}
	w.terms = results
	w.summarize()
	return w, nil
}

// record looks up and parses domain's SPF record (§4.4, §4.5, §4.6). What
// gives receivers none at the top gives them permerror through an include
// (§5.2) or a redirect (§6.1); both are errors here.
func (f *flattener) record(ctx context.Context, domain string, via *Term, from string) (*Record, uint32, error) {
	ans := f.r.Lookup(ctx, queryName(domain), dns.TypeTXT)
	if !ans.Status.Known() {
		return nil, 0, dnsError(domain, dns.TypeTXT, ans)
	}
	var records []string
	for _, txt := range ans.TXT() {
		if IsSPF(txt) {
			records = append(records, txt)
		}
	}
	switch {
	case len(records) == 0 && via == nil:
		return nil, 0, fmt.Errorf("%w at %s (%s)", ErrNoRecord, domain, ans.Status)
	case len(records) == 0:
		sentinel, section := ErrIncludeNoRecord, "§5.2"
		if via.Name == "redirect" {
			sentinel, section = ErrRedirectNoRecord, "§6.1"
		}
		what := ans.Status.String()
		if ans.Status == resolver.OK {
			what = "only other TXT records"
		}
		return nil, 0, fmt.Errorf("%w: %s in %s: %s has no SPF record (%s), so receivers that get there give permerror (RFC 7208 %s)",
			sentinel, via.Raw, from, domain, what, section)
	case len(records) > 1:
		return nil, 0, fmt.Errorf("%w at %s: %d, a permerror (RFC 7208 §4.5)", ErrMultipleRecords, domain, len(records))
	}
	rec, err := Parse(records[0])
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", domain, err)
	}
	return rec, ans.TTL, nil
}

// term resolves what one evaluated term stands for, in the record of
// domain.
func (f *flattener) term(ctx context.Context, domain string, t *Term, path []string) (walkedTerm, error) {
	wt := walkedTerm{t: t}
	switch t.Name {
	case "all":
		return wt, nil
	case "ip4", "ip6":
		wt.prefixes = []netip.Prefix{t.Prefix.Masked()}
		return wt, nil
	case "ptr":
		wt.cost, wt.reason = 1, "ptr matches by the connecting host's reverse DNS, which no list of addresses can say (RFC 7208 §5.5)"
		return wt, nil
	case "exists":
		wt.cost, wt.reason = 1, "exists asks the DNS a question for each message (RFC 7208 §5.7)"
		return wt, nil
	}
	wt.cost = 1
	target, ok := staticTarget(t, domain)
	if !ok {
		wt.reason = fmt.Sprintf("its target depends on the message (macros %%{%s}), so is known only when one arrives (RFC 7208 §7)", t.spec.letters())
		return wt, nil
	}
	var err error
	switch t.Name {
	case "include", "redirect":
		err = f.follow(ctx, domain, t, target, path, &wt)
	case "a":
		// §5.3: a target the DNS cannot hold matches nothing.
		if validDNSName(target) {
			wt.prefixes, wt.sources, err = f.addresses(ctx, queryName(target), t)
		}
	case "mx":
		if validDNSName(target) {
			err = f.mx(ctx, target, &wt)
		}
	}
	return wt, err
}

// follow walks the record an include or redirect leads to.
func (f *flattener) follow(ctx context.Context, domain string, t *Term, target string, path []string, wt *walkedTerm) error {
	if !validDomain(target) {
		// §4.3: check_host() gives none, which here is permerror.
		return fmt.Errorf("%w: %s in %s: %q, so receivers that get there give permerror", ErrInvalidDomain, t.Raw, domain, target)
	}
	if slices.Contains(path, strings.ToLower(target)) {
		return fmt.Errorf("%w: %s in %s leads back to %s; receivers give permerror", ErrLoop, t.Raw, domain, target)
	}
	sub, err := f.walk(ctx, target, path, t, domain)
	if err != nil {
		return err
	}
	wt.sub = sub
	wt.cost += sub.cost
	wt.prefixes, wt.sources, wt.reason = sub.pass, sub.sources, sub.reason
	return nil
}

// addresses looks up the A and AAAA records of qname (presentation
// format) and returns the networks an a term, or an mx term for one of its
// hosts, matches: each address with the term's prefix lengths (§5.3,
// §5.6). Receivers ask one type, by the connecting host's family.
func (f *flattener) addresses(ctx context.Context, qname string, t *Term) ([]netip.Prefix, []Source, error) {
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	answers := make([]resolver.Answer, len(types))
	parallel(len(types), func(i int) { answers[i] = f.r.Lookup(ctx, qname, types[i]) })
	name := strings.ToLower(strings.TrimSuffix(unescape(qname), "."))
	var out []netip.Prefix
	var sources []Source
	for i, ans := range answers {
		if !ans.Status.Known() {
			return nil, nil, dnsError(name, types[i], ans)
		}
		sources = append(sources, Source{Name: name, Type: dns.TypeToString[types[i]], TTL: ans.TTL})
		for _, rr := range ans.Records {
			var a netip.Addr
			bits := t.V4Bits
			switch rr := rr.(type) {
			case *dns.A:
				a, _ = netip.AddrFromSlice(rr.A.To4())
			case *dns.AAAA:
				a, _ = netip.AddrFromSlice(rr.AAAA.To16())
				bits = t.V6Bits
			}
			if p, err := a.Prefix(bits); err == nil {
				out = append(out, p)
			}
		}
	}
	return out, sources, nil
}

// mx looks up the MX hosts of target and their addresses (§5.4).
func (f *flattener) mx(ctx context.Context, target string, wt *walkedTerm) error {
	ans := f.r.Lookup(ctx, queryName(target), dns.TypeMX)
	if !ans.Status.Known() {
		return dnsError(target, dns.TypeMX, ans)
	}
	wt.sources = append(wt.sources, Source{Name: strings.ToLower(target), Type: "MX", TTL: ans.TTL})
	var hosts []string
	for _, rr := range ans.Records {
		if mx, ok := rr.(*dns.MX); ok && mx.Mx != "." { // "." is a null MX (RFC 7505)
			hosts = append(hosts, mx.Mx)
		}
	}
	if len(hosts) > MaxNames {
		wt.reason = fmt.Sprintf("%s has %d MX names, over the limit of %d: receivers give permerror (RFC 7208 §4.6.4)", target, len(hosts), MaxNames)
		return nil
	}
	prefixes := make([][]netip.Prefix, len(hosts))
	sources := make([][]Source, len(hosts))
	errs := make([]error, len(hosts))
	parallel(len(hosts), func(i int) { prefixes[i], sources[i], errs[i] = f.addresses(ctx, hosts[i], wt.t) })
	for i := range hosts {
		if errs[i] != nil {
			return errs[i]
		}
		wt.prefixes = append(wt.prefixes, prefixes[i]...)
		wt.sources = append(wt.sources, sources[i]...)
	}
	return nil
}

// summarize sets w's cost and the addresses it gives pass, as an include
// needs them (§5.2): the include matches exactly when the record gives
// pass. That set can be listed when every evaluated mechanism is a + one
// whose own matches can be listed: a fail, softfail or neutral term before
// a + term would take addresses out of it. A redirect counts only in a
// record without all (§6.1), and its exp= never counts (§6.2).
func (w *walked) summarize() {
	w.sources = []Source{{Name: strings.ToLower(w.domain), Type: "TXT", TTL: w.ttl}}
	terms := w.terms
	if w.redirect != nil {
		terms = append(slices.Clip(terms), *w.redirect)
	}
	for i := range terms {
		wt := &terms[i]
		t := wt.t
		w.cost += wt.cost
		switch {
		case w.reason != "":
			// The first reason is enough; the cost is still counted.
		case t.Name == "all" && t.Qualifier == QualifierPass:
			w.reason = fmt.Sprintf("%s has %s, which passes every address", w.domain, t.Raw)
		case t.Name == "all":
		case t.Kind == Mechanism && t.Qualifier != QualifierPass:
			w.reason = fmt.Sprintf("%s has %s: a %s result inside an include takes addresses out of those that pass, which a list of addresses cannot say (RFC 7208 §5.2)", w.domain, t.Raw, t.Qualifier.Status())
		case wt.reason != "" && wt.sub != nil:
			w.reason = wt.reason
		case wt.reason != "":
			w.reason = fmt.Sprintf("%s has %s: %s", w.domain, t.Raw, wt.reason)
		default:
			w.pass = append(w.pass, wt.prefixes...)
			w.sources = append(w.sources, wt.sources...)
		}
	}
	if w.reason != "" {
		w.pass, w.sources = nil, nil
	}
}

// item is a term of the flattened record: an address with its qualifier,
// or a term kept as written (raw).
type item struct {
	q      Qualifier
	prefix netip.Prefix
	raw    string
}

func (it item) String() string {
	if it.raw != "" {
		return it.raw
	}
	return addressTerm(it.q, it.prefix)
}

// addressTerm writes an ip4 or ip6 term, without a qualifier for pass and
// without a prefix length for a single address.
func addressTerm(q Qualifier, p netip.Prefix) string {
	s := "ip4:"
	if p.Addr().Is6() {
		s = "ip6:"
	}
	s += p.Addr().String()
	if p.Bits() != p.Addr().BitLen() {
		s += "/" + strconv.Itoa(p.Bits())
	}
	if q != QualifierPass {
		s = string(q) + s
	}
	return s
}

// policyResult is a record flattened as the one whose result is the
// result: the domain's own, or a redirect target moved into it.
type policyResult struct {
	items    []item
	mods     []string // modifiers kept, to go at the end
	after    int      // lookups of the kept terms
	replaced []FlatTerm
	kept     []Kept
	dropped  []Kept
	sources  []Source
	// fixed says why the terms cannot move into another domain's record:
	// a kept one acts on the record's own domain; "" if they can.
	fixed string
}

// policy flattens w as the record whose result is the result (top says
// it is the domain's own): mechanisms that stand for addresses are
// replaced by them with their own qualifier (whatever the qualifier, an
// include matches when its record passes, §5.2), the others are kept in
// place, and a redirect's record is moved in when it can be (§6.1).
func (w *walked) policy(top bool) *policyResult {
	p := &policyResult{}
	if !top {
		p.sources = append(p.sources, Source{Name: strings.ToLower(w.domain), Type: "TXT", TTL: w.ttl})
	}
	for i := range w.terms {
		wt := &w.terms[i]
		switch t := wt.t; {
		case t.Name == "ip4" || t.Name == "ip6":
			p.items = append(p.items, item{q: t.Qualifier, prefix: wt.prefixes[0]})
		case t.Name == "all":
			p.items = append(p.items, item{q: t.Qualifier, raw: t.Raw})
		case wt.reason != "":
			p.keep(w.domain, wt)
		default:
			p.replace(w.domain, wt)
		}
	}
	p.rest(w, top)
	if w.redirect != nil {
		p.redirect(w, w.redirect)
	}
	return p
}

func (p *policyResult) keep(domain string, wt *walkedTerm) {
	t := wt.t
	p.items = append(p.items, item{q: t.Qualifier, raw: t.Raw})
	p.kept = append(p.kept, Kept{Term: t.Raw, Domain: domain, Reason: wt.reason})
	p.after += wt.cost
	// Without a domain-spec a term acts on the current domain (§4.8), as
	// %{d} does; those change meaning in another domain's record.
	if p.fixed == "" && (t.spec == nil || t.HasMacros()) {
		p.fixed = fmt.Sprintf("its record has %s, which cannot move into another domain's record", t.Raw)
	}
}

func (p *policyResult) replace(domain string, wt *walkedTerm) {
	for _, pr := range wt.prefixes {
		p.items = append(p.items, item{q: wt.t.Qualifier, prefix: pr})
	}
	p.replaced = append(p.replaced, FlatTerm{Term: wt.t.Raw, Domain: domain, Addresses: len(wt.prefixes)})
	p.sources = append(p.sources, wt.sources...)
}

// rest sorts the terms policy does not evaluate: mechanisms after all,
// which are never evaluated (§5.1), a redirect beside all, which is
// ignored (§6.1), exp= and unknown modifiers.
func (p *policyResult) rest(w *walked, top bool) {
	all := w.rec.All()
	after := false
	for i := range w.rec.Terms {
		t := &w.rec.Terms[i]
		switch {
		case t == all:
			after = true
		case t.Kind == Mechanism && after:
			p.dropped = append(p.dropped, Kept{Term: t.Raw, Domain: w.domain, Reason: "after " + all.Raw + ", so never evaluated (RFC 7208 §5.1)"})
		case t.Kind == Mechanism:
		case t.Name == "redirect" && all != nil:
			p.dropped = append(p.dropped, Kept{Term: t.Raw, Domain: w.domain, Reason: "ignored in a record with all (RFC 7208 §6.1)"})
		case t.Name == "redirect":
		case top:
			p.mods = append(p.mods, t.Raw)
		case t.Name != "exp":
			// A redirect target with exp= is never moved (redirect).
			p.dropped = append(p.dropped, Kept{Term: t.Raw, Domain: w.domain, Reason: "unknown modifier, ignored by receivers (RFC 7208 §6)"})
		}
	}
}

// redirect moves a redirect target's record in place of the redirect=
// of w, which is exact: its terms come after every mechanism of w and end
// in its all (§6.1). Not so for the explanation of a fail (§6.2): the
// target's exp= would be lost, and w's would explain the target's fails,
// so then the redirect is kept; as it is when a term the target keeps acts
// on its own domain.
func (p *policyResult) redirect(w *walked, wt *walkedTerm) {
	t, sub, domain := wt.t, wt.sub, w.domain
	why := wt.reason
	if sub != nil {
		sp := sub.policy(false)
		switch {
		case sub.rec.Exp() != nil:
			why = fmt.Sprintf("%s has %s, which explains its fails and would be lost (RFC 7208 §6.2)", sub.domain, sub.rec.Exp().Raw)
		case w.rec.Exp() != nil && slices.ContainsFunc(sp.items, func(it item) bool { return it.q == QualifierFail }):
			why = fmt.Sprintf("%s would explain the fails of %s's terms, which have no explanation (RFC 7208 §6.2)", w.rec.Exp().Raw, sub.domain)
		case sp.fixed != "":
			why = sub.domain + ": " + sp.fixed
		default:
			addrs := 0
			for _, it := range sp.items {
				if it.raw == "" {
					addrs++
				}
			}
			p.replaced = append(p.replaced, FlatTerm{Term: t.Raw, Domain: domain, Addresses: addrs})
			p.items = append(p.items, sp.items...)
			p.mods = append(p.mods, sp.mods...) // its redirect, if kept
			p.after += sp.after
			p.replaced = append(p.replaced, sp.replaced...)
			p.kept = append(p.kept, sp.kept...)
			p.dropped = append(p.dropped, sp.dropped...)
			p.sources = append(p.sources, sp.sources...)
			return
		}
	}
	p.mods = append(p.mods, t.Raw)
	p.kept = append(p.kept, Kept{Term: t.Raw, Domain: domain, Reason: why})
	p.after += wt.cost
	if p.fixed == "" && t.HasMacros() {
		p.fixed = fmt.Sprintf("its record has %s, which cannot move into another domain's record", t.Raw)
	}
}

// compact removes and merges address terms without changing any result:
// an address term covered by an earlier one is never reached, and within
// a run of consecutive address terms with the same qualifier the order does
// not matter, so the run is merged into the fewest networks. Nothing moves
// across a kept term or a different qualifier.
func compact(items []item) []item {
	var seen, live []item
	for _, it := range items {
		if it.raw == "" && slices.ContainsFunc(seen, func(s item) bool { return covers(s.prefix, it.prefix) }) {
			continue
		}
		if it.raw == "" {
			seen = append(seen, it)
		}
		live = append(live, it)
	}
	var out []item
	for i := 0; i < len(live); {
		if live[i].raw != "" {
			out = append(out, live[i])
			i++
			continue
		}
		j := i
		var run []netip.Prefix
		for ; j < len(live) && live[j].raw == "" && live[j].q == live[i].q; j++ {
			run = append(run, live[j].prefix)
		}
		for _, pr := range aggregate(run) {
			out = append(out, item{q: live[i].q, prefix: pr})
		}
		i = j
	}
	return out
}

// covers reports whether every address of b is in a (of one family).
func covers(a, b netip.Prefix) bool {
	return a.Bits() <= b.Bits() && a.Contains(b.Addr())
}

// aggregate returns the fewest networks that hold exactly the addresses of
// ps (masked): networks inside others are dropped, and two halves of a
// network are joined into it.
func aggregate(ps []netip.Prefix) []netip.Prefix {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	var out []netip.Prefix
	for _, p := range ps {
		// Sorted, so only the last network kept can hold p.
		if n := len(out); n > 0 && covers(out[n-1], p) {
			continue
		}
		out = append(out, p)
		for n := len(out); n >= 2; n = len(out) {
			a, b := out[n-2], out[n-1]
			if a.Bits() != b.Bits() || a.Bits() == 0 {
				break
			}
			up, _ := a.Addr().Prefix(a.Bits() - 1)
			if !covers(up, b) {
				break
			}
			out = append(out[:n-2], up)
		}
	}
	return out
}

// segment is a part of the domain's record: a term, or a chunk of a run
// of address terms with one qualifier, which goes into a chained record
// unless inline.
type segment struct {
	term   string
	q      Qualifier
	chunk  []string // address terms, without qualifier
	inline bool
}

// layout writes the records to publish. The domain's record holds the
// terms if they fit in recordLimit; else runs of addresses move into
// chained records within their recordLimit, each included in the run's place
// with the run's qualifier: an include matches when its record passes
// (§5.2), and a chained record passes exactly its addresses. Chunks are then
// moved back, smallest first, while the record still fits, and further
// while the lookups are over the limit: a long record beats a permerror.
// kept is the lookups of the kept terms; layout returns the records and
// the number of chained ones.
func layout(domain string, items []item, mods []string, kept int) ([]FlatRecord, int) {
	var terms []string
	for _, it := range items {
		terms = append(terms, it.String())
	}
	terms = append(terms, mods...)
	rootMax := recordLimit(domain)
	if len(spfText(terms)) <= rootMax {
		return []FlatRecord{flatRecord(domain, terms)}, 0
	}
	// Chained records are numbered up to _spf10: more would be over the
	// lookup limit.
	segs := segments(items, mods, recordLimit("_spf10."+domain))
	var chunks []int
	for i := range segs {
		if segs[i].term == "" {
			chunks = append(chunks, i)
		}
	}
	slices.SortStableFunc(chunks, func(a, b int) int {
		return cmp.Compare(len(strings.Join(segs[a].chunk, " ")), len(strings.Join(segs[b].chunk, " ")))
	})
	for _, i := range chunks {
		segs[i].inline = true
		if root, _ := render(domain, segs); len(root.Text) > rootMax {
			segs[i].inline = false
		}
	}
	for _, i := range chunks {
		if _, chained := render(domain, segs); kept+len(chained) <= MaxLookups {
			break
		}
		segs[i].inline = true
	}
	root, chained := render(domain, segs)
	return append([]FlatRecord{root}, chained...), len(chained)
}

// segments splits items into terms and chunks of address runs, each chunk
// fitting in a chained record "v=spf1 <addresses> -all" of at most
// chainMax bytes.
func segments(items []item, mods []string, chainMax int) []segment {
	var segs []segment
	for i := 0; i < len(items); {
		if items[i].raw != "" {
			segs = append(segs, segment{term: items[i].raw})
			i++
			continue
		}
		q := items[i].q
		var chunk []string
		for ; i < len(items) && items[i].raw == "" && items[i].q == q; i++ {
			term := addressTerm(QualifierPass, items[i].prefix)
			if len(chunk) > 0 && len(chainText(append(chunk, term))) > chainMax {
				segs = append(segs, segment{q: q, chunk: chunk})
				chunk = nil
			}
			chunk = append(chunk, term)
		}
		segs = append(segs, segment{q: q, chunk: chunk})
	}
	for _, m := range mods {
		segs = append(segs, segment{term: m})
	}
	return segs
}

// render writes the domain's record and the chained records of segs,
// numbering those in order.
func render(domain string, segs []segment) (FlatRecord, []FlatRecord) {
	var terms []string
	var chained []FlatRecord
	for _, s := range segs {
		switch {
		case s.term != "":
			terms = append(terms, s.term)
		case s.inline:
			for _, a := range s.chunk {
				if s.q != QualifierPass {
					a = string(s.q) + a
				}
				terms = append(terms, a)
			}
		default:
			name := fmt.Sprintf("_spf%d.%s", len(chained)+1, domain)
			r := FlatRecord{Name: name, Text: chainText(s.chunk)}
			r.Strings = splitStrings(r.Text)
			chained = append(chained, r)
			inc := "include:" + name
			if s.q != QualifierPass {
				inc = string(s.q) + inc
			}
			terms = append(terms, inc)
		}
	}
	return flatRecord(domain, terms), chained
}

func spfText(terms []string) string {
	return strings.Join(append([]string{"v=spf1"}, terms...), " ")
}

// chainText is a chained record: its addresses pass, anything else fails,
// which for the including record is "no match" (§5.2).
func chainText(addrs []string) string {
	return spfText(append(slices.Clip(addrs), "-all"))
}

func flatRecord(name string, terms []string) FlatRecord {
	text := spfText(terms)
	return FlatRecord{Name: name, Text: text, Strings: splitStrings(text)}
}

// splitStrings splits text into strings of at most 255 bytes after a
// space, so that joined without spaces (§3.3) they give text back. A term
// longer than a string is split inside, which joining undoes as well.
func splitStrings(text string) []string {
	var out []string
	for len(text) > maxStringLen {
		cut := strings.LastIndexByte(text[:maxStringLen], ' ') + 1
		if cut == 0 {
			cut = maxStringLen
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}

// mergeSources keeps each record once, with its least TTL, sorted.
func mergeSources(in []Source) []Source {
	var out []Source
	for _, s := range in {
		i := slices.IndexFunc(out, func(o Source) bool { return o.Name == s.Name && o.Type == s.Type })
		if i < 0 {
			out = append(out, s)
		} else {
			out[i].TTL = min(out[i].TTL, s.TTL)
		}
	}
	slices.SortFunc(out, func(a, b Source) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type)) })
	return out
}
