// Package dmarcsum summarises the DMARC aggregate reports (RFC 9990) and
// SMTP TLS reports (RFC 8460) a store holds into what a domain owner acts
// on: per sending source, its service, its volume, how much of its mail
// passed SPF and DKIM aligned, and one category; per receiving domain, how
// TLS sessions went.
//
// A source gets one category, the first of these that holds for all its
// messages in the reports summarised:
//
//   - authorized: SPF and DKIM both passed aligned;
//   - forwarded: DKIM passed aligned and SPF did not, and the source is not
//     in the sender's declared list (a forwarder keeps the signature but
//     sends from its own address);
//   - partially authorized: DMARC passed, through one of the two;
//   - failing: otherwise, that is some of its mail failed DMARC.
//
// So one failing message makes a source failing, however much of its mail
// passed: the share that passed DMARC is shown beside the category, and
// tells a forwarder's odd failure from a spoofer. (A source's category is
// never that of its largest part: a source with 49% failing mail is not
// authorized.) In JSON the categories are "authorized", "forwarded",
// "partially_authorized" and "failing".
//
// A passing source outside the declared list is also flagged unverified:
// it sends mail that passes as the domain, and nobody said it may.
package dmarcsum

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/store"
	"golang.org/x/net/publicsuffix"
)

// Category is what a source's mail says about it.
type Category string

// The categories, in the order they are tried.
const (
	Authorized          Category = "authorized"
	Forwarded           Category = "forwarded"
	PartiallyAuthorized Category = "partially_authorized"
	Failing             Category = "failing"
)

// Categories lists the categories in the order they are tried.
var Categories = [...]Category{Authorized, Forwarded, PartiallyAuthorized, Failing}

// Title is the category as prose.
func (c Category) Title() string {
	if c == PartiallyAuthorized {
		return "partially authorized"
	}
	return string(c)
}

// Categorize is the category of one report record: the messages the
// receiver evaluated alike, with DKIM and SPF aligned or not, from a source
// known (declared) or not. SourceCategory gives the same for a source
// whose messages all fall in one record's case.
func Categorize(dkimAligned, spfAligned, known bool) Category {
	switch {
	case dkimAligned && spfAligned:
		return Authorized
	case dkimAligned && !known:
		return Forwarded
	case dkimAligned || spfAligned:
		return PartiallyAuthorized
	}
	return Failing
}

// SourceCategory is the category of a source's mail as a whole, from its
// messages by aligned result: the first category that holds for all of
// them (see the package doc). A source whose records count no message has
// nothing that passed: failing.
func SourceCategory(bothPass, dkimOnly, spfOnly, nonePass int64, known bool) Category {
	switch {
	case nonePass > 0 || bothPass+dkimOnly+spfOnly == 0:
		return Failing
	case dkimOnly == 0 && spfOnly == 0:
		return Authorized
	case !known && bothPass == 0 && spfOnly == 0:
		return Forwarded
	}
	return PartiallyAuthorized
}

// Source is one sending address over the reports summarised.
type Source struct {
	IP              netip.Addr `json:"ip"`
	RDNS            string     `json:"rdns"`
	Service         string     `json:"service"`
	Messages        int64      `json:"messages"`
	SPFAlignedPass  int64      `json:"spf_aligned_pass"`
	DKIMAlignedPass int64      `json:"dkim_aligned_pass"`
	DMARCPass       int64      `json:"dmarc_pass"`
	// Quarantined and Rejected are the messages receivers applied that
	// disposition to; the rest were delivered.
	Quarantined int64    `json:"quarantined"`
	Rejected    int64    `json:"rejected"`
	Category    Category `json:"category"`
	Unverified  bool     `json:"unverified"`

	// Known says the declared list holds the source.
	Known bool `json:"-"`
	// Reports are the reports that name the source.
	Reports int64 `json:"-"`
}

// PassRate is the share of the source's messages that passed DMARC.
func (s *Source) PassRate() float64 { return rate(s.DMARCPass, s.Messages) }

func rate(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Day is the reports of one UTC day.
type Day struct {
	Day       string `json:"day"` // YYYY-MM-DD
	Reports   int64  `json:"reports"`
	Messages  int64  `json:"messages"`
	DMARCPass int64  `json:"dmarc_pass"`
}

// TLSPolicy is the TLS sessions with one receiving domain under one policy
// type ("sts", "tlsa", "no-policy-found").
type TLSPolicy struct {
	Domain      string       `json:"domain"`
	PolicyType  string       `json:"policy_type"`
	Reports     int64        `json:"reports"`
	Successes   int64        `json:"successes"`
	Failures    int64        `json:"failures"`
	TopFailures []TLSFailure `json:"top_failures"`
}

// TLSFailure is the failed sessions of one result type.
type TLSFailure struct {
	ResultType string `json:"result_type"`
	Sessions   int64  `json:"sessions"`
}

// Summary is what the summary commands render.
type Summary struct {
	Reports  int64       `json:"reports"`
	Failures int64       `json:"failure_reports"`
	Sources  []Source    `json:"sources"`
	TLS      []TLSPolicy `json:"tls"`
	Days     []Day       `json:"days"`

	// What was asked, and more of the answer than the JSON carries.
	Domain       string    `json:"-"`
	Since, Until time.Time `json:"-"`
	Messages     int64     `json:"-"`
	// The messages of all sources that passed.
	SPFAlignedPass, DKIMAlignedPass, DMARCPass int64 `json:"-"`
	// Declared is the number of entries in the declared list, -1 when no
	// list was given.
	Declared int `json:"-"`
	// StoreEmpty says the store holds no aggregate report at all, so
	// that none matching is not the filter's doing.
	StoreEmpty bool `json:"-"`
}

// Filtered says the summary covers part of the store: a domain or days.
func (s *Summary) Filtered() bool { return s.Domain != "" || !s.Since.IsZero() || !s.Until.IsZero() }

// Reader is what a summary reads from a store.
type Reader interface {
	store.DMARCReader
	store.TLSReader
}

// Options choose the reports and say how to read the sources.
type Options struct {
	Domain       string
	Since, Until time.Time
	// Services names sources by their reverse DNS; nil names none.
	Services *Services
	// Known is the declared list; nil when none was given.
	Known *Known
}

// Summarize reads the store and builds the summary.
func Summarize(ctx context.Context, r Reader, o Options) (*Summary, error) {
	q := store.DMARCQuery{Domain: o.Domain, Since: o.Since, Until: o.Until}
	counts, err := r.DMARCCounts(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("counting reports: %w", err)
	}
	stats, err := r.DMARCSources(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading sources: %w", err)
	}
	days, err := r.DMARCDaily(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading days: %w", err)
	}
	tls, err := r.TLSSummary(ctx, store.TLSQuery{Domain: o.Domain, Since: o.Since, Until: o.Until})
	if err != nil {
		return nil, fmt.Errorf("reading TLS reports: %w", err)
	}
	s := Build(o, counts, stats, days, tls)
	if s.Reports == 0 && s.Filtered() {
		all, err := r.DMARCCounts(ctx, store.DMARCQuery{})
		if err != nil {
			return nil, fmt.Errorf("counting reports: %w", err)
		}
		s.StoreEmpty = all.Reports == 0
	}
	return s, nil
}

// Build makes the summary from what the store answered; each source's
// category is SourceCategory of its messages. StoreEmpty is only known
// here when nothing was filtered (Summarize asks the store otherwise).
func Build(o Options, counts store.DMARCCounts, stats []store.SourceStat, days []store.DMARCDay, tls []store.TLSPolicyStat) *Summary {
	s := &Summary{
		Reports: counts.Reports, Messages: counts.Messages, Failures: counts.Failures,
		Domain: o.Domain, Since: o.Since, Until: o.Until,
		Sources: make([]Source, 0, len(stats)), TLS: []TLSPolicy{}, Days: []Day{}, Declared: -1,
	}
	s.StoreEmpty = s.Reports == 0 && !s.Filtered()
	if o.Known != nil {
		s.Declared = o.Known.Len()
	}
	for _, st := range stats {
		src := Source{
			IP: st.IP, RDNS: st.RDNS, Service: o.Services.Match(st.RDNS),
			Messages: st.Messages, SPFAlignedPass: st.SPFAlignedPass, DKIMAlignedPass: st.DKIMAlignedPass, DMARCPass: st.DMARCPass,
			Quarantined: st.Quarantined, Rejected: st.Rejected, Reports: st.Reports,
		}
		src.Known = o.Known.Has(src.IP, src.RDNS, src.Service)
		src.Category = SourceCategory(st.BothPass, st.DKIMOnly, st.SPFOnly, st.NonePass, src.Known)
		src.Unverified = !src.Known && src.DMARCPass > 0
		s.SPFAlignedPass = addSat(s.SPFAlignedPass, src.SPFAlignedPass)
		s.DKIMAlignedPass = addSat(s.DKIMAlignedPass, src.DKIMAlignedPass)
		s.DMARCPass = addSat(s.DMARCPass, src.DMARCPass)
		s.Sources = append(s.Sources, src)
	}
	for _, d := range days {
		s.Days = append(s.Days, Day{Day: d.Day.UTC().Format(time.DateOnly), Reports: d.Reports, Messages: d.Messages, DMARCPass: d.DMARCPass})
	}
	for _, t := range tls {
		p := TLSPolicy{Domain: t.Domain, PolicyType: t.PolicyType, Reports: t.Reports, Successes: t.Successes, Failures: t.Failures, TopFailures: []TLSFailure{}}
		for _, f := range t.TopFailures {
			p.TopFailures = append(p.TopFailures, TLSFailure{ResultType: f.ResultType, Sessions: f.Sessions})
		}
		s.TLS = append(s.TLS, p)
	}
	return s
}

// PassRate is the share of all messages that passed DMARC.
func (s *Summary) PassRate() float64 { return rate(s.DMARCPass, s.Messages) }

// Group is the sources of one service, or, for sources of no known
// service, of one registrable domain of their reverse DNS names.
type Group struct {
	Name string
	// Service says Name is a service, not a domain or "no reverse DNS".
	Service bool
	// Folded says the group gathers the smaller groups Groups left out;
	// Name then counts them.
	Folded  bool
	Sources []Source
	// Hidden counts the group's sources that Sources leaves out; the
	// totals count them too.
	Hidden int64

	Messages, SPFAlignedPass, DKIMAlignedPass, DMARCPass int64
}

// noRDNS names the group of sources without a reverse DNS name.
const noRDNS = "no reverse DNS"

// Groups groups the sources: the groups with the most messages first, the
// sources without a name last, each group's sources as in Sources (most
// messages first). With top > 0 the listing is cut for reading: each group
// lists its top sources, and of the groups that are not services (a domain
// of a few unknown addresses each) the first top are kept and the rest
// folded into one. The totals always count everything.
func (s *Summary) Groups(top int) []Group {
	idx := map[string]int{}
	var out []Group
	for _, src := range s.Sources {
		name, svc := src.Service, true
		if name == "" {
			name, svc = baseDomain(src.RDNS), false
		}
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, Group{Name: name, Service: svc})
		}
		g := &out[i]
		if top <= 0 || len(g.Sources) < top {
			g.Sources = append(g.Sources, src)
		} else {
			g.Hidden++
		}
		g.add(src.Messages, src.SPFAlignedPass, src.DKIMAlignedPass, src.DMARCPass)
	}
	slices.SortStableFunc(out, func(a, b Group) int {
		// The sources without a name go last: they are the least to go on.
		return cmp.Or(cmp.Compare(boolInt(a.Name == noRDNS), boolInt(b.Name == noRDNS)), cmp.Compare(b.Messages, a.Messages), cmp.Compare(a.Name, b.Name))
	})
	if top <= 0 {
		return out
	}
	kept := out[:0]
	var folded Group
	others, n := 0, 0
	for _, g := range out {
		if g.Service || g.Name == noRDNS || others < top {
			if !g.Service && g.Name != noRDNS {
				others++
			}
			kept = append(kept, g)
			continue
		}
		n++
		folded.Hidden += int64(len(g.Sources)) + g.Hidden
		folded.add(g.Messages, g.SPFAlignedPass, g.DKIMAlignedPass, g.DMARCPass)
	}
	if n == 0 {
		return kept
	}
	folded.Folded = true
	folded.Name = fmt.Sprintf("%d more domains", n)
	// Before the sources without a name, if they are there.
	if last := len(kept) - 1; last >= 0 && kept[last].Name == noRDNS {
		return append(kept[:last:last], folded, kept[last])
	}
	return append(kept, folded)
}

func (g *Group) add(messages, spf, dkim, dmarc int64) {
	g.Messages = addSat(g.Messages, messages)
	g.SPFAlignedPass = addSat(g.SPFAlignedPass, spf)
	g.DKIMAlignedPass = addSat(g.DKIMAlignedPass, dkim)
	g.DMARCPass = addSat(g.DMARCPass, dmarc)
}

// addSat adds counts, stopping at math.MaxInt64: a damaged store's huge
// sums (see store.MaxSum) show as huge, never negative.
func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// baseDomain is the registrable domain of a reverse DNS name (the group
// parsedmarc calls source_base_domain), under the ICANN section of the
// public suffix list. The private section lists platforms whose customers
// get names of their own (compute-1.amazonaws.com, cloudapp.azure.com):
// by it every EC2 host would be a group of its own, when the PTR names
// the provider.
func baseDomain(rdns string) string {
	if rdns == "" {
		return noRDNS
	}
	suffix, icann := publicsuffix.PublicSuffix(rdns)
	for !icann {
		_, parent, ok := strings.Cut(suffix, ".")
		if !ok {
			break // a private suffix of one label: take the list's word
		}
		suffix, icann = publicsuffix.PublicSuffix(parent)
	}
	if icann && len(rdns) > len(suffix) && strings.HasSuffix(rdns, "."+suffix) {
		rest := rdns[:len(rdns)-len(suffix)-1]
		if label := rest[strings.LastIndexByte(rest, '.')+1:]; label != "" {
			return label + "." + suffix
		}
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(rdns); err == nil {
		return d
	}
	return rdns
}
