package blocklist

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/dnsbl"
	"github.com/mailtriage/mailtriage/resolver"
)

// Options say how to check.
type Options struct {
	Resolver  resolver.Resolver
	Catalogue *Catalogue
	// PerZone bounds the queries in flight to one list; 0 means 4. Lists
	// rate-limit, and a burst from one address reads as abuse.
	PerZone int
}

// Listing is what one list said about one target.
type Listing struct {
	Target    string              `json:"target"`
	Zone      string              `json:"zone"`
	List      string              `json:"list"`
	Tier      int                 `json:"tier"`
	Role      Role                `json:"role"`
	Status    dnsbl.Status        `json:"status"`
	Codes     []netip.Addr        `json:"codes"`
	Meaning   string              `json:"meaning,omitempty"`
	Severity  mailtriage.Severity `json:"severity,omitempty"`
	Reason    []string            `json:"reason,omitempty"`
	DelistURL string              `json:"delist_url"`
	Error     string              `json:"error,omitempty"`
}

// Scored reports whether the listing counts against the sender.
func (l Listing) Scored() bool {
	return l.Status == dnsbl.StatusListed && l.Tier == 1 && l.Role != Allow
}

// TargetReport is every list's answer about one target.
type TargetReport struct {
	Target
	Listings []Listing `json:"listings"`
}

// Count returns how many of the target's listings have the status.
func (t TargetReport) Count(s dnsbl.Status) int {
	n := 0
	for _, l := range t.Listings {
		if l.Status == s {
			n++
		}
	}
	return n
}

// ZoneHealth is how a list answered its test entries.
type ZoneHealth struct {
	Zone   string       `json:"zone"`
	List   string       `json:"list"`
	Tier   int          `json:"tier"`
	Status dnsbl.Status `json:"status"` // clean (healthy), refused, unknown or unavailable
	// Tested says the list holds a test entry that must be listed, so a
	// healthy answer shows the resolver reaches it: a resolver that
	// answers NXDOMAIN for every name passes a list's clean test alone.
	Tested bool   `json:"tested"`
	Reason string `json:"reason,omitempty"`
	Terms  string `json:"terms"`
}

// Report is the outcome of a check.
type Report struct {
	Targets []TargetReport `json:"targets"`
	Zones   []ZoneHealth   `json:"zones"`
	Elapsed time.Duration  `json:"elapsed_ns"`
}

// Answered reports whether a list passed a test entry that must be
// listed: if none did, the lists' clean answers say nothing (the resolver
// may answer NXDOMAIN for every name).
func (r *Report) Answered() bool {
	for _, z := range r.Zones {
		if z.Status == dnsbl.StatusClean && z.Tested {
			return true
		}
	}
	return false
}

// Check asks every list of the catalogue about every target of its kind,
// after checking each list's health with its test entries, all at once
// within each list's limit. A list that fails its health check is not
// asked: its answers could not be trusted, and every target gets the
// list's status (unavailable, refused or unknown), never "clean".
func Check(ctx context.Context, o Options, targets []Target) *Report {
	start := time.Now()
	per := o.PerZone
	if per <= 0 {
		per = 4
	}
	zones := o.Catalogue.Zones
	rep := &Report{Zones: make([]ZoneHealth, len(zones)), Targets: make([]TargetReport, len(targets))}
	for i, t := range targets {
		rep.Targets[i].Target = t
	}
	// rows[z][t] is zone z's answer about target t.
	rows := make([][]Listing, len(zones))
	var wg sync.WaitGroup
	for zi, z := range zones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Zones[zi], rows[zi] = checkZone(ctx, o.Resolver, z, targets, per)
		}()
	}
	wg.Wait()
	for zi := range zones {
		for ti, l := range rows[zi] {
			if l.Zone != "" {
				rep.Targets[ti].Listings = append(rep.Targets[ti].Listings, l)
			}
		}
	}
	rep.Elapsed = time.Since(start)
	return rep
}

// checkZone checks one zone's health, then asks it about the targets of
// its kind with at most per queries in flight.
func checkZone(ctx context.Context, r resolver.Resolver, z *Zone, targets []Target, per int) (ZoneHealth, []Listing) {
	sem := make(chan struct{}, per)
	limited := limitResolver{r: r, sem: sem}
	h := dnsbl.CheckHealth(ctx, limited, z.Zone)
	health := ZoneHealth{Zone: z.shown(), List: z.Display, Tier: z.Tier, Status: h.Status, Tested: z.TestListed != "", Reason: z.mask(h.Reason), Terms: z.Terms}
	rows := make([]Listing, len(targets))
	// IPv6 addresses are asked only of a list that holds RFC 5782's IPv6
	// test entry: many lists hold IPv4 addresses only, and their NXDOMAIN
	// for an IPv6 address is no "clean".
	var h6 dnsbl.Health
	if h.OK() && z.Kind == dnsbl.IP && slices.ContainsFunc(targets, Target.isIPv6) {
		h6 = dnsbl.CheckHealthIPv6(ctx, limited, z.Zone)
	}
	var wg sync.WaitGroup
	for ti, t := range targets {
		if t.Kind != z.Kind {
			continue
		}
		if !h.OK() {
			rows[ti] = z.listing(t, dnsbl.Result{Status: h.Status}, h.Reason)
			continue
		}
		if t.isIPv6() && !h6.OK() {
			rows[ti] = z.listing(t, dnsbl.Result{Status: h6.Status}, h6.Reason)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows[ti] = z.listing(t, dnsbl.Lookup(ctx, limited, z.Zone, t.Query), "")
		}()
	}
	wg.Wait()
	return health, rows
}

// limitResolver holds a slot of sem for each lookup.
type limitResolver struct {
	r   resolver.Resolver
	sem chan struct{}
}

func (l limitResolver) Lookup(ctx context.Context, name string, qtype uint16) resolver.Answer {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return resolver.Answer{Name: name, Type: qtype, Status: resolver.Timeout, Err: ctx.Err()}
	}
	defer func() { <-l.sem }()
	return l.r.Lookup(ctx, name, qtype)
}

// listing turns a zone's answer into a row; why explains a zone that was
// not asked.
func (z *Zone) listing(t Target, res dnsbl.Result, why string) Listing {
	l := Listing{Target: t.Query, Zone: z.shown(), List: z.Display, Tier: z.Tier, Role: z.Role, Status: res.Status,
		Codes: res.Codes, Reason: res.TXT, DelistURL: z.DelistURL, Meaning: z.mask(why)}
	if res.Err != nil {
		l.Error = z.mask(res.Err.Error())
	}
	var meanings []string
	for _, m := range res.Matched {
		if m.Class == dnsbl.Neutral && res.Status != dnsbl.StatusClean {
			continue
		}
		meanings = append(meanings, m.Meaning)
		if m.Class == dnsbl.Listed {
			if s := z.SeverityOf(m); l.Severity == "" || worse(s, l.Severity) {
				l.Severity = s
			}
		}
	}
	if len(meanings) > 0 {
		l.Meaning = strings.Join(meanings, "; ")
	}
	return l
}

func worse(a, b mailtriage.Severity) bool {
	rank := map[mailtriage.Severity]int{mailtriage.SeverityError: 3, mailtriage.SeverityWarning: 2, mailtriage.SeverityInfo: 1}
	return rank[a] > rank[b]
}
