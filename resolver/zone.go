package resolver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// Zone answers from zone files in RFC 1035 master format, as an
// authoritative server would: names under a zone's origin get their
// records, NODATA or NXDOMAIN, with CNAMEs followed and wildcards applied
// (RFC 4592). Names outside every zone go to Fallback, so a user can try a
// changed zone while the names it points to (include:_spf.google.com)
// still resolve live. It is safe for concurrent use once loaded.
type Zone struct {
	// Fallback answers names outside the zones; nil answers them Refused.
	Fallback Resolver

	origins []string
	records map[string][]dns.RR // by owner name, lower case, fully qualified
	names   map[string]bool     // every name that exists, empty non-terminals included
}

// ZoneServer is the Server of the answers a Zone gives from its files.
const ZoneServer = "zone file"

// NewZone returns an empty Zone; Load adds zone files to it.
func NewZone(fallback Resolver) *Zone {
	return &Zone{Fallback: fallback, records: map[string][]dns.RR{}, names: map[string]bool{}}
}

// Load reads a zone in master format from r; file names it in errors.
// origin is the zone's origin; "" takes the owner of each SOA record, so
// one file may hold several zones (a domain, the zone of an include it
// names, a reverse zone), each starting at its SOA.
func (z *Zone) Load(r io.Reader, origin, file string) error {
	zp := dns.NewZoneParser(r, fqdn(origin), file)
	zp.SetIncludeAllowed(false)
	var soas []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := fqdn(rr.Header().Name)
		rr.Header().Name = name
		z.records[name] = append(z.records[name], rr)
		if rr.Header().Rrtype == dns.TypeSOA {
			soas = append(soas, name)
		}
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("zone file %s: %w", file, err)
	}
	switch {
	case origin != "":
		z.origins = append(z.origins, fqdn(origin))
	case len(soas) > 0:
		z.origins = append(z.origins, soas...)
	default:
		return fmt.Errorf("zone file %s: no SOA record: a zone starts with one (@ IN SOA ns hostmaster 1 7200 3600 1209600 300)", file)
	}
	for name := range z.records {
		for n := name; n != "" && n != "."; n = parent(n) {
			z.names[n] = true
		}
	}
	return nil
}

// negativeTTL is how long a negative answer for name may be cached: its
// zone's SOA minimum, capped by the SOA's TTL (RFC 2308 §5).
func (z *Zone) negativeTTL(name string) uint32 {
	best := ""
	for _, o := range z.origins {
		if (name == o || strings.HasSuffix(name, "."+o) || o == ".") && len(o) > len(best) {
			best = o
		}
	}
	for _, rr := range z.records[best] {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Minttl, soa.Hdr.Ttl)
		}
	}
	return 0
}

// parent returns the name one label up: "a.b.example." → "b.example.".
func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// inZone reports whether name is at or under one of the zones' origins.
func (z *Zone) inZone(name string) bool {
	for _, o := range z.origins {
		if o == "." {
			return true // a root zone, as test fixtures use, holds every name
		}
		if name == o || strings.HasSuffix(name, "."+o) {
			return true
		}
	}
	return false
}

// Lookup answers from the zones, or asks Fallback.
func (z *Zone) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	name = fqdn(name)
	a := Answer{Name: name, Type: qtype, Server: ZoneServer}
	target := name
	for hop := 0; ; hop++ {
		if !z.inZone(target) {
			if hop == 0 {
				return z.fallback(ctx, name, qtype)
			}
			// A CNAME out of the zone: finish the chain outside.
			out := z.fallback(ctx, target, qtype)
			out.Name, out.CNAMEs = name, append(a.CNAMEs, out.CNAMEs...)
			return out
		}
		rrs := z.owner(target)
		if rrs == nil {
			if z.names[target] {
				a.Status = NoData // an empty non-terminal (RFC 8020 §2)
			} else {
				a.Status = NXDomain
			}
			a.TTL = z.negativeTTL(target)
			return a
		}
		if c := cname(rrs); c != "" && qtype != dns.TypeCNAME && hop < 8 {
			a.CNAMEs = append(a.CNAMEs, c)
			target = c
			continue
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == qtype {
				a.Records = append(a.Records, rr)
				if a.TTL == 0 || rr.Header().Ttl < a.TTL {
					a.TTL = rr.Header().Ttl
				}
			}
		}
		if len(a.Records) == 0 {
			a.Status = NoData
			a.TTL = z.negativeTTL(target)
		} else {
			a.Status = OK
		}
		return a
	}
}

// owner returns the records of name, or of the wildcard that covers it
// (RFC 4592 §4.3: "*." and the closest encloser), renamed to name.
func (z *Zone) owner(name string) []dns.RR {
	if rrs, ok := z.records[name]; ok {
		return rrs
	}
	if z.names[name] {
		return nil // exists, without records: no wildcard applies
	}
	for enc := parent(name); enc != ""; enc = parent(enc) {
		if !z.names[enc] {
			continue
		}
		wild, ok := z.records["*."+enc]
		if !ok {
			return nil
		}
		out := make([]dns.RR, len(wild))
		for i, rr := range wild {
			out[i] = dns.Copy(rr)
			out[i].Header().Name = name
		}
		return out
	}
	return nil
}

func cname(rrs []dns.RR) string {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok {
			return fqdn(c.Target)
		}
	}
	return ""
}

// ErrOutsideZone is the Err of a name no zone holds when there is no
// fallback.
var ErrOutsideZone = errors.New("resolver: name outside the zone files, and no live DNS to ask")

func (z *Zone) fallback(ctx context.Context, name string, qtype uint16) Answer {
	if z.Fallback == nil {
		return Answer{Name: name, Type: qtype, Status: Refused, Err: ErrOutsideZone}
	}
	return z.Fallback.Lookup(ctx, name, qtype)
}
