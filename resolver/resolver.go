// Package resolver does the DNS lookups of mailtriage's checks (RFC 1034,
// RFC 1035) and keeps their outcomes apart: an answer, a name that does not
// exist (NXDOMAIN), a name without records of the type asked (NODATA), a
// server failure (SERVFAIL), a refusal, a timeout. A check that could not
// get an answer is "unknown", never "record missing"; this package is where
// the difference is kept.
//
// Client asks live DNS servers over UDP, retries on TCP when an answer is
// truncated (RFC 7766), retries timed-out queries, remembers answers for one
// run, can trace every query, and is safe for concurrent use, so
// independent lookups run at once. Zone answers from a zone file in RFC 1035
// master format, so a DNS change can be checked before it is published.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Status is the outcome of a lookup.
type Status uint8

const (
	OK       Status = iota + 1 // records of the type asked
	NXDomain                   // the name does not exist (RFC 8020)
	NoData                     // the name exists, without records of the type (RFC 2308 §2.2)
	ServFail                   // the server failed to answer (SERVFAIL)
	Refused                    // the server refused to answer (REFUSED)
	Timeout                    // no answer in time, after the retries
	Failed                     // any other failure: network, malformed answer
)

var statusNames = [...]string{"", "ok", "nxdomain", "nodata", "servfail", "refused", "timeout", "failed"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// MarshalText makes a Status read as its name in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a Status back from its name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if i > 0 && n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("resolver: unknown status %q", b)
}

// Known reports whether the status is the DNS's own answer (the records,
// or that there are none) rather than a failure to get one.
func (s Status) Known() bool { return s == OK || s == NXDomain || s == NoData }

// Answer is the result of one lookup.
type Answer struct {
	Name   string // the name asked, fully qualified
	Type   uint16
	Status Status
	// Records are the records of the type asked, following CNAMEs.
	Records []dns.RR
	// CNAMEs are the aliases followed on the way, in order.
	CNAMEs []string
	// TTL is the least TTL of the records (or of the SOA for a negative
	// answer, RFC 2308 §5), in seconds.
	TTL uint32
	// Err says what went wrong when Status is not Known.
	Err error
	// Server is who answered, RTT how long it took.
	Server string
	RTT    time.Duration
}

// TXT returns the TXT records' texts, each record's strings joined
// (RFC 7208 §3.3 and RFC 6376 §3.6.2.2 read them so).
// miekg/dns holds TXT strings in presentation form (\" \\ \DDD); they
// are unescaped here to the bytes the domain published.
func (a Answer) TXT() []string {
	var out []string
	for _, rr := range a.Records {
		if t, ok := rr.(*dns.TXT); ok {
			var b strings.Builder
			for _, s := range t.Txt {
				unescape(&b, s)
			}
			out = append(out, b.String())
		}
	}
	return out
}

// unescape writes s with its RFC 1035 §5.1 escapes resolved: \DDD is the
// byte of that decimal value, \X is X.
func unescape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); v < 256 {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Resolver looks names up. Implementations are safe for concurrent use.
type Resolver interface {
	Lookup(ctx context.Context, name string, qtype uint16) Answer
}

// Query is one exchange a Client made, for a trace.
type Query struct {
	Name     string
	Type     string
	Server   string
	Protocol string // udp or tcp
	Status   Status
	RTT      time.Duration
	Cached   bool
	Err      error
}

func (q Query) String() string {
	s := fmt.Sprintf("%s %s @%s/%s: %s in %v", q.Name, q.Type, q.Server, q.Protocol, q.Status, q.RTT.Round(time.Microsecond))
	if q.Cached {
		s = fmt.Sprintf("%s %s: %s (cached)", q.Name, q.Type, q.Status)
	}
	if q.Err != nil {
		s += ": " + q.Err.Error()
	}
	return s
}

// ErrTimeout is the Err of an Answer with Status Timeout.
var ErrTimeout = errors.New("resolver: no answer in time")

// fqdn returns name in lower case with its final dot.
func fqdn(name string) string {
	return dns.Fqdn(strings.ToLower(strings.TrimSpace(name)))
}

// fromMsg turns a response into an Answer for name and qtype.
func fromMsg(name string, qtype uint16, m *dns.Msg) Answer {
	a := Answer{Name: name, Type: qtype}
	switch m.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		a.Status, a.TTL = NXDomain, negativeTTL(m)
		return a
	case dns.RcodeServerFailure:
		a.Status, a.Err = ServFail, errors.New("resolver: SERVFAIL")
		return a
	case dns.RcodeRefused:
		a.Status, a.Err = Refused, errors.New("resolver: REFUSED")
		return a
	default:
		a.Status, a.Err = Failed, fmt.Errorf("resolver: rcode %s", dns.RcodeToString[m.Rcode])
		return a
	}
	// Follow the CNAME chain in the answer section (RFC 1034 §3.6.2).
	target := name
	for i := 0; i < 8; i++ {
		next := ""
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(rr.Header().Name, target) && qtype != dns.TypeCNAME {
				next = fqdn(c.Target)
			}
		}
		if next == "" {
			break
		}
		a.CNAMEs = append(a.CNAMEs, next)
		target = next
	}
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == qtype && strings.EqualFold(rr.Header().Name, target) {
			a.Records = append(a.Records, rr)
			if a.TTL == 0 || rr.Header().Ttl < a.TTL {
				a.TTL = rr.Header().Ttl
			}
		}
	}
	if len(a.Records) == 0 {
		a.Status, a.TTL = NoData, negativeTTL(m)
		return a
	}
	a.Status = OK
	return a
}

// negativeTTL is how long a negative answer may be cached: the SOA's
// minimum, capped by its TTL (RFC 2308 §5).
func negativeTTL(m *dns.Msg) uint32 {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Minttl, soa.Hdr.Ttl)
		}
	}
	return 0
}
