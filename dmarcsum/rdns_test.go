package dmarcsum

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

// rdnsZone has a reverse zone for 198.51.100.0/24 and 2001:db8::/32 and
// the forward zones the names point to, each case in a comment.
const rdnsZone = `
$ORIGIN 100.51.198.in-addr.arpa.
@ 300 IN SOA ns.example.com. hm.example.com. 1 1 1 1 1
; confirmed: the name points back
7 300 IN PTR o7.ptr1234.sendgrid.net.
; not confirmed: anyone may claim a name under google.com in their own PTR
8 300 IN PTR mail-x.google.com.
; 9 has no PTR
; 10 fails (SERVFAIL, set in the test)
10 300 IN PTR slow.example.com.
; two names, the first not confirmed
11 300 IN PTR liar.example.com.
11 300 IN PTR mta11.example.com.
$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
@ 300 IN SOA ns.example.com. hm.example.com. 1 1 1 1 1
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 300 IN PTR MX.Example.COM.
$ORIGIN sendgrid.net.
@ 300 IN SOA ns hm 1 1 1 1 1
o7.ptr1234 300 IN A 198.51.100.7
$ORIGIN google.com.
@ 300 IN SOA ns hm 1 1 1 1 1
mail-x 300 IN A 209.85.220.41
$ORIGIN example.com.
@ 300 IN SOA ns hm 1 1 1 1 1
mx 300 IN AAAA 2001:db8::25
liar 300 IN A 203.0.113.1
mta11 300 IN A 198.51.100.11
`

func TestNamer(t *testing.T) {
	s := dnstest.Start(t, rdnsZone)
	s.Fail("10.100.51.198.in-addr.arpa.", dns.RcodeServerFailure)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = time.Second
	n := &Namer{Resolver: c, Limit: 2}
	ips := []netip.Addr{
		netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("198.51.100.8"), netip.MustParseAddr("198.51.100.9"),
		netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("2001:db8::25"),
		netip.MustParseAddr("::ffff:198.51.100.7"),
	}
	got := n.Names(context.Background(), ips)
	want := map[netip.Addr]string{
		netip.MustParseAddr("198.51.100.7"):  "o7.ptr1234.sendgrid.net",
		netip.MustParseAddr("198.51.100.11"): "mta11.example.com",
		netip.MustParseAddr("2001:db8::25"):  "mx.example.com",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	if m := s.MaxInFlight(); m > 2 {
		t.Errorf("%d lookups at once, Limit is 2", m)
	}
}

// countingResolver answers every PTR with one name that points back (an
// A record, whatever the type asked), and counts the questions.
type countingResolver struct{ n atomic.Int64 }

func (r *countingResolver) Lookup(ctx context.Context, name string, qtype uint16) resolver.Answer {
	r.n.Add(1)
	time.Sleep(time.Millisecond)
	if qtype == dns.TypePTR {
		return resolver.Answer{Status: resolver.OK, Records: []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypePTR}, Ptr: "h-" + strings.TrimSuffix(name, ".in-addr.arpa.") + ".example."}}}
	}
	ip := strings.TrimSuffix(strings.TrimPrefix(dns.Fqdn(name), "h-"), ".example.")
	parts := strings.Split(ip, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	rr, _ := dns.NewRR(name + " 300 IN A " + strings.Join(parts, "."))
	return resolver.Answer{Status: resolver.OK, Records: []dns.RR{rr}}
}

// TestNamerCache: each address is looked up once per run, however many
// reports and callers name it at once.
func TestNamerCache(t *testing.T) {
	r := &countingResolver{}
	n := &Namer{Resolver: r}
	ips := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")}
	done := make(chan map[netip.Addr]string)
	for range 5 {
		go func() { done <- n.Names(context.Background(), ips) }()
	}
	for range 5 {
		got := <-done
		if got[ips[0]] != "h-1.2.0.192.example" || len(got) != 2 {
			t.Errorf("Names = %v", got)
		}
	}
	if q := r.n.Load(); q != 6 {
		t.Errorf("%d lookups for 2 addresses, want 6 (PTR, A and AAAA each)", q)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := n.Names(ctx, []netip.Addr{netip.MustParseAddr("192.0.2.3")}); len(got) != 0 {
		t.Errorf("cancelled: %v", got)
	}
}

// TestNamerGivesUp: a server that never answers costs a few timeouts, not
// one per address.
func TestNamerGivesUp(t *testing.T) {
	s := dnstest.Start(t, rdnsZone)
	var ips []netip.Addr
	for i := range 40 {
		ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(100 + i)})
		ips = append(ips, ip)
		rev, _ := dns.ReverseAddr(ip.String())
		s.Fail(rev, -1)
	}
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 20*time.Millisecond, 0
	gaveUp := 0
	n := &Namer{Resolver: c, Limit: 1, GiveUpAfter: 5, OnGiveUp: func() { gaveUp++ }}
	if got := n.Names(context.Background(), ips); len(got) != 0 {
		t.Errorf("Names = %v", got)
	}
	udp, tcp := s.Queries()
	if gaveUp != 1 || udp+tcp > 6 {
		t.Errorf("gave up %d times after %d queries; want once, after 5", gaveUp, udp+tcp)
	}
}
