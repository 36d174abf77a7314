package dmarc

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// Discovery is the DMARC policy that governs a domain, found both ways.
type Discovery struct {
	Domain string // the author domain, lower case, no final dot
	// Record is the policy record the RFC 9989 tree walk finds; nil when
	// there is none (or Unknown).
	Record *Record
	Raw    string
	// PolicyDomain is where Record was found; Applies says which of its
	// policies covers Domain: "p" for the domain itself, "sp" for a
	// subdomain.
	PolicyDomain string
	Applies      string
	// OrgDomain is the organizational domain by the tree walk
	// (RFC 9989 §4.10.2); PSLOrgDomain by the Public Suffix List
	// (RFC 7489 §3.2), and PSLPolicyDomain where RFC 7489 would find the
	// policy ("" for none).
	OrgDomain       string
	PSLOrgDomain    string
	PSLPolicyDomain string
	// Queries are the names looked up, in walk order.
	Queries []string
	// Unknown is set when a lookup failed (timeout, SERVFAIL): the walk
	// can't tell whether a record exists, and Err says why. It is never
	// read as "no record".
	Unknown bool
	Err     error
	// Problems found on the way: several records at one name (which the
	// walk passes over), records that don't parse.
	Problems []Problem
	// Several names the _dmarc names that hold more than one record.
	Several []string
	// Broken names the _dmarc names, up to the policy domain, whose
	// v=DMARC1 record does not parse or has no usable policy.
	Broken []string
}

// maxWalk is the most names the tree walk queries (RFC 9989 §4.10).
const maxWalk = 8

// walkNames returns the names the tree walk of RFC 9989 §4.10 queries
// for domain, most specific first: the domain itself, then, if it has more
// than seven labels, its seven rightmost labels, then one label fewer at a
// time down to the top-level domain; eight at most.
func walkNames(domain string) []string {
	labels := strings.Split(domain, ".")
	names := []string{domain}
	n := len(labels)
	if n > 7 {
		n = 8 // the next step takes it to seven
	}
	for n--; n >= 1 && len(names) < maxWalk; n-- {
		names = append(names, strings.Join(labels[len(labels)-n:], "."))
	}
	return names
}

// found is what one name of the walk holds.
type found struct {
	raw     string
	record  *Record
	status  resolver.Status
	err     error
	several bool
	invalid error
}

// Discover finds the DMARC policy of domain. The names of the walk are
// independent questions, so they are all asked at once: the walk costs one
// round trip, not eight.
func Discover(ctx context.Context, r resolver.Resolver, domain string) Discovery {
	domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	d := Discovery{Domain: domain, Queries: walkNames(domain)}
	results := make([]found, len(d.Queries))
	var wg sync.WaitGroup
	for i, name := range d.Queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = lookup(ctx, r, name)
		}()
	}
	wg.Wait()

	for i, f := range results {
		name := d.Queries[i]
		if !f.status.Known() {
			// A failed lookup before any record: the policy can't be told.
			if d.Record == nil {
				d.Unknown, d.Err = true, fmt.Errorf("_dmarc.%s: %s: %w", name, f.status, f.err)
			}
			break
		}
		if f.several {
			// RFC 9989 §4.10 steps 2 and 6: several records are all
			// discarded, and the walk goes on to the parent. (RFC 7489
			// §6.6.3 step 5 ends discovery there instead: see psl.)
			d.Several = append(d.Several, "_dmarc."+name)
			d.Problems = append(d.Problems, Problem{Error: true, Message: fmt.Sprintf("_dmarc.%s has several DMARC records: receivers use none of them", name)})
		}
		if f.invalid != nil && d.Record == nil {
			// A broken record below the policy domain: RFC 7489 §6.6.3
			// stops there (no DMARC applies), the RFC 9989 walk goes on.
			// Either way the user must hear of it; a broken record above
			// the policy domain governs nothing.
			d.Problems = append(d.Problems, Problem{Error: true, Message: fmt.Sprintf("_dmarc.%s: %v", name, f.invalid)})
			d.Broken = append(d.Broken, "_dmarc."+name)
		}
		if f.record != nil && d.Record == nil {
			d.Record, d.Raw, d.PolicyDomain = f.record, f.raw, name
			d.Applies = "p"
			if i > 0 {
				d.Applies = "sp"
			}
		}
	}
	if !d.Unknown {
		d.OrgDomain = orgDomain(d.Queries, results)
	}
	d.psl(results)
	return d
}

func lookup(ctx context.Context, r resolver.Resolver, name string) found {
	a := r.Lookup(ctx, "_dmarc."+name, dns.TypeTXT)
	f := found{status: a.Status, err: a.Err}
	if a.Status == resolver.NXDomain || a.Status == resolver.NoData {
		f.status = resolver.OK // no record is an answer
	}
	if a.Status != resolver.OK {
		return f
	}
	var dmarc []string
	for _, txt := range a.TXT() {
		// Records that don't start with v=DMARC1 are not DMARC records
		// (RFC 9989 §4.10).
		if strings.HasPrefix(strings.TrimSpace(txt), "v=DMARC1") {
			dmarc = append(dmarc, txt)
		}
	}
	switch len(dmarc) {
	case 0:
	case 1:
		f.raw = dmarc[0]
		f.record, f.invalid = Parse(dmarc[0])
	default:
		f.several = true
	}
	return f
}

// orgDomain applies RFC 9989 §4.10.2 to the walk's results: the domain
// with psd=n; else the one a label below a psd=y; else the domain with the
// fewest labels that has a record; else the author domain.
func orgDomain(names []string, results []found) string {
	shortest := ""
	for i, f := range results {
		if f.record == nil {
			continue
		}
		switch f.record.PSD {
		case "n":
			return names[i]
		case "y":
			if i > 0 {
				// One label below names[i], taken from the author domain:
				// after the eight-label shortcut names[i-1] may have more.
				labels := strings.Split(names[0], ".")
				k := strings.Count(names[i], ".") + 2
				return strings.Join(labels[len(labels)-k:], ".")
			}
			return names[0]
		}
		shortest = names[i]
	}
	if shortest != "" {
		return shortest
	}
	return names[0]
}

// psl fills in where RFC 7489 §6.6.3 would look: the domain, then its
// organizational domain by the Public Suffix List.
func (d *Discovery) psl(results []found) {
	org, err := publicsuffix.EffectiveTLDPlusOne(d.Domain)
	if err != nil {
		return // a public suffix itself, or not a domain
	}
	d.PSLOrgDomain = org
	for i, name := range d.Queries {
		if name != d.Domain && name != org {
			continue
		}
		if results[i].several {
			return // step 5: several records end discovery; no DMARC applies
		}
		if results[i].record != nil {
			d.PSLPolicyDomain = name
			return
		}
	}
}
