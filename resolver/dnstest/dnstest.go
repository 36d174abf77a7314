// Package dnstest runs an in-process authoritative DNS server for tests:
// UDP and TCP on one loopback port, answering from a zone in RFC 1035
// master format, with names that can be made to fail (SERVFAIL, REFUSED,
// no answer at all), a switch that truncates every UDP answer so clients
// must retry on TCP, an optional delay, and counts of the queries it saw.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Server is a running test server.
type Server struct {
	Addr string // "127.0.0.1:port", for UDP and TCP

	zone *resolver.Zone
	mu   sync.Mutex
	fail map[string]int // name -> rcode, or -1 for no answer

	// TruncateUDP answers every UDP query with the TC bit and no records.
	TruncateUDP atomic.Bool
	// Delay holds every answer back this long.
	Delay atomic.Int64

	udpQueries, tcpQueries atomic.Int64
	inFlight, maxInFlight  atomic.Int64

	// Per-group counts of queries in flight, when GroupBy is set.
	groupBy            func(qname string) string
	groupNow, groupMax map[string]int64
	groupQueries       map[string]int64
}

// Start serves zone (master format, origin from its SOA) until the test
// ends.
func Start(t testing.TB, zone string) *Server {
	t.Helper()
	z := resolver.NewZone(nil)
	if err := z.Load(strings.NewReader(zone), "", t.Name()); err != nil {
		t.Fatal(err)
	}
	s := &Server{zone: z, fail: map[string]int{}}
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if try == 10 {
			t.Fatal(err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s.handler("udp")}
	tcp := &dns.Server{Listener: ln, Handler: s.handler("tcp")}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return s
}

// Fail makes queries for name answer with rcode (dns.RcodeServerFailure,
// dns.RcodeRefused), or not at all when rcode is -1.
func (s *Server) Fail(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[dns.Fqdn(strings.ToLower(name))] = rcode
}

// GroupBy counts queries in flight per group, the group of a query being
// what group returns for its name (a blocklist zone, say), so a test can
// check a per-group concurrency limit. Call it before the queries.
func (s *Server) GroupBy(group func(qname string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groupBy = group
	s.groupNow, s.groupMax, s.groupQueries = map[string]int64{}, map[string]int64{}, map[string]int64{}
}

// MaxInFlightByGroup returns, per group, the most queries it had in
// flight at once, and how many it had in all.
func (s *Server) MaxInFlightByGroup() (max, total map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	max, total = map[string]int64{}, map[string]int64{}
	for g, n := range s.groupMax {
		max[g], total[g] = n, s.groupQueries[g]
	}
	return max, total
}

// enter and leave track a query's group.
func (s *Server) enter(qname string) (leave func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groupBy == nil {
		return func() {}
	}
	g := s.groupBy(qname)
	s.groupNow[g]++
	s.groupQueries[g]++
	s.groupMax[g] = max(s.groupMax[g], s.groupNow[g])
	return func() {
		s.mu.Lock()
		s.groupNow[g]--
		s.mu.Unlock()
	}
}

// Queries returns the numbers of queries seen over UDP and TCP.
func (s *Server) Queries() (udp, tcp int64) { return s.udpQueries.Load(), s.tcpQueries.Load() }

// MaxInFlight returns the most queries the server was answering at once.
func (s *Server) MaxInFlight() int64 { return s.maxInFlight.Load() }

func (s *Server) handler(proto string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		if proto == "udp" {
			s.udpQueries.Add(1)
		} else {
			s.tcpQueries.Add(1)
		}
		n := s.inFlight.Add(1)
		for {
			m := s.maxInFlight.Load()
			if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		leave := func() {}
		if len(req.Question) == 1 {
			leave = s.enter(strings.ToLower(req.Question[0].Name))
		}
		if d := time.Duration(s.Delay.Load()); d > 0 {
			time.Sleep(d)
		}
		m := s.respond(proto, req)
		// The query leaves the counts before the client can see the
		// answer and send its next one.
		leave()
		s.inFlight.Add(-1)
		if m != nil {
			w.WriteMsg(m)
		}
	}
}

// respond builds the reply to req, nil for none.
func (s *Server) respond(proto string, req *dns.Msg) *dns.Msg {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		return m
	}
	q := req.Question[0]
	s.mu.Lock()
	rcode, failing := s.fail[strings.ToLower(q.Name)]
	s.mu.Unlock()
	if failing {
		if rcode < 0 {
			return nil // no answer: the client times out
		}
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		return m
	}
	m := s.answer(req, q)
	if proto == "udp" {
		// As a real server: an answer over the client's UDP size
		// (EDNS0, RFC 6891 §6.2.3, or 512) is truncated, TC set.
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
		if s.TruncateUDP.Load() {
			m.Answer, m.Truncated = nil, true
		}
	}
	return m
}

// answer builds an authoritative response from the zone.
func (s *Server) answer(req *dns.Msg, q dns.Question) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	a := s.zone.Lookup(context.Background(), q.Name, q.Qtype)
	name := q.Name
	for _, c := range a.CNAMEs {
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: c})
		name = c
	}
	switch a.Status {
	case resolver.OK:
		for _, rr := range a.Records {
			rr = dns.Copy(rr)
			rr.Header().Name = name
			m.Answer = append(m.Answer, rr)
		}
	case resolver.NXDomain:
		m.Rcode = dns.RcodeNameError
	case resolver.Refused:
		m.Rcode = dns.RcodeRefused
	}
	return m
}
