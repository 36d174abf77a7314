package mailhost

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
	"github.com/miekg/dns"
)

const forward = `
$ORIGIN example.com.
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@          IN MX 20 mx2
@          IN MX 10 mx1
mx1        IN A    198.51.100.25
mx1        IN AAAA 2001:db8::25
mx2        IN A    198.51.100.26
mail01     IN A    198.51.100.21
alias      IN CNAME mx1
private    IN A    10.0.0.5
nomx       IN A    198.51.100.30
nullmx     IN MX 0 .
badnull    IN MX 10 .
mixednull  IN MX 0 .
mixednull  IN MX 10 mx1
cnamemx    IN MX 10 alias
privmx     IN MX 10 private
ghostmx    IN MX 10 ghost
ipmx       IN MX 10 198.51.100.9.
nothing    IN TXT "no mail here"
dsl-198-51-100-40 IN A 198.51.100.40
`

const reverse = `
$ORIGIN 100.51.198.in-addr.arpa.
@ 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
21 IN PTR mail01.example.com.
22 IN PTR elsewhere.example.com.
23 IN PTR mail01.example.com.
23 IN PTR mx1.example.com.
40 IN PTR dsl-198-51-100-40.example.com.
`

func zone(t *testing.T) *resolver.Zone {
	t.Helper()
	z := resolver.NewZone(nil)
	for _, text := range []string{forward, reverse} {
		if err := z.Load(strings.NewReader(text), "", t.Name()); err != nil {
			t.Fatal(err)
		}
	}
	return z
}

func problems(p []Problem) string {
	s := make([]string, len(p))
	for i, x := range p {
		s[i] = string(x.Kind) + ": " + x.Message
	}
	return strings.Join(s, "; ")
}

func TestLookupMX(t *testing.T) {
	z := zone(t)
	ctx := context.Background()
	for _, tt := range []struct {
		domain   string
		hosts    []string
		null     bool
		implicit bool
		problem  string
	}{
		// RFC 5321 §5.1: hosts in preference order, each resolved.
		{"Example.COM.", []string{"mx1.example.com", "mx2.example.com"}, false, false, ""},
		// RFC 7505 §3: a null MX says the domain takes no mail.
		{"nullmx.example.com", nil, true, false, ""},
		{"badnull.example.com", nil, true, false, "preference 10"},
		{"mixednull.example.com", []string{"mx1.example.com"}, false, false, "forbids"},
		// RFC 5321 §5.1: no MX, so the domain's own address.
		{"nomx.example.com", []string{"nomx.example.com"}, false, true, ""},
		{"nothing.example.com", []string{"nothing.example.com"}, false, true, "cannot be delivered"},
		// RFC 2181 §10.3: an MX must not name an alias.
		{"cnamemx.example.com", []string{"alias.example.com"}, false, false, "alias"},
		{"privmx.example.com", []string{"private.example.com"}, false, false, "non-public address 10.0.0.5"},
		{"ghostmx.example.com", []string{"ghost.example.com"}, false, false, "has no address (nxdomain)"},
		{"ipmx.example.com", []string{"198.51.100.9"}, false, false, "IP address"},
	} {
		t.Run(tt.domain, func(t *testing.T) {
			set := LookupMX(ctx, z, tt.domain)
			var hosts []string
			for _, h := range set.Hosts {
				hosts = append(hosts, h.Host)
			}
			if strings.Join(hosts, " ") != strings.Join(tt.hosts, " ") || set.Null != tt.null || set.Implicit != tt.implicit {
				t.Errorf("hosts %v null %v implicit %v", hosts, set.Null, set.Implicit)
			}
			if got := problems(set.Problems); tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
				t.Errorf("problems %q, want %q", got, tt.problem)
			}
		})
	}
	set := LookupMX(ctx, z, "example.com")
	if len(set.Hosts[0].Addrs) != 2 || !set.Hosts[0].Has(netip.MustParseAddr("2001:db8::25")) {
		t.Errorf("mx1 addresses %v", set.Hosts[0].Addrs)
	}
}

func TestLookupReverse(t *testing.T) {
	z := zone(t)
	ctx := context.Background()
	for _, tt := range []struct {
		ip        string
		confirmed string
		generic   bool
		problem   string
	}{
		{"198.51.100.21", "mail01.example.com", false, ""},
		{"::ffff:198.51.100.21", "mail01.example.com", false, ""},
		// FCrDNS: the PTR name must resolve back to the address.
		{"198.51.100.22", "", false, "does not resolve back"},
		{"198.51.100.23", "", false, "2 PTR records"},
		{"198.51.100.40", "dsl-198-51-100-40.example.com", true, "looks generic"},
		{"198.51.100.99", "", false, "no reverse DNS"},
	} {
		t.Run(tt.ip, func(t *testing.T) {
			r := LookupReverse(ctx, z, netip.MustParseAddr(tt.ip))
			if strings.Join(r.Confirmed, " ") != tt.confirmed || r.Generic != tt.generic {
				t.Errorf("confirmed %v generic %v (%+v)", r.Confirmed, r.Generic, r)
			}
			if got := problems(r.Problems()); tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
				t.Errorf("problems %q, want %q", got, tt.problem)
			}
		})
	}
}

func TestCheckHELO(t *testing.T) {
	z := zone(t)
	ip := netip.MustParseAddr("198.51.100.21")
	for _, tt := range []struct {
		name    string
		matches bool
		problem string
	}{
		{"mail01.example.com", true, ""},
		{"MAIL01.example.com.", true, ""},
		{"mx1.example.com", false, "not to the sending address"},
		{"ghost.example.com", false, "does not resolve"},
		// RFC 5321 §4.1.3: an address literal is bracketed.
		{"[198.51.100.21]", true, "address literal"},
		{"[IPv6:2001:db8::25]", false, "is not the sending address"},
		{"198.51.100.21", false, "bare IP"},
		// RFC 5321 §2.3.5: a domain name is fully qualified.
		{"localhost", false, "fully qualified"},
		{"dsl-198-51-100-40.example.com", false, "generic"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := CheckHELO(context.Background(), z, tt.name, ip)
			if h.MatchesIP != tt.matches {
				t.Errorf("matches %v: %+v", h.MatchesIP, h)
			}
			if got := problems(h.Problems); tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
				t.Errorf("problems %q, want %q", got, tt.problem)
			}
		})
	}
}

func TestGeneric(t *testing.T) {
	ip := netip.MustParseAddr("198.51.100.21")
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"mail01.example.com", false},
		{"smtp-out-3.example.com", false},
		{"mailhost1.example.com", false},
		{"198-51-100-21.example.net", true},
		{"21.100.51.198.static.example.net", true},
		{"host-c6336415.example.net", true},
		{"ec2-198-51-100-21.compute-1.compute.amazonaws.com", true},
		{"21.100.51.198.bc.googleusercontent.com", true},
		{"dsl-77.example.net", true},
		{"pool123.example.net", true},
		{"dynamic.example.net", false}, // a word alone is a chosen name
	} {
		if got := Generic(tt.name, ip); got != tt.want {
			t.Errorf("Generic(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestUnknownIsNotMissing: a lookup that fails says nothing about the
// records, so no problem is reported from it.
func TestUnknownIsNotMissing(t *testing.T) {
	s := dnstest.Start(t, forward)
	s.Fail("example.com", dns.RcodeServerFailure)
	s.Fail("mx2.example.com", -1)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 100*time.Millisecond, 0
	ctx := context.Background()
	if set := LookupMX(ctx, c, "example.com"); set.Status != resolver.ServFail || len(set.Problems) != 0 {
		t.Errorf("SERVFAIL: %+v", set)
	}
	h := CheckHELO(ctx, c, "mx2.example.com", netip.MustParseAddr("198.51.100.21"))
	if h.Status != resolver.Timeout || len(h.Problems) != 0 {
		t.Errorf("timeout: %+v", h)
	}
	r := LookupReverse(ctx, c, netip.MustParseAddr("198.51.100.21"))
	if r.Status.Known() || len(r.Problems()) != 0 {
		t.Errorf("reverse outside the server's zone should be unknown, not missing: %+v", r)
	}
}

func TestPublic(t *testing.T) {
	for ip, want := range map[string]bool{
		"198.51.100.25": true, "8.8.8.8": true, "2a00:1450::1": true,
		"10.1.2.3": false, "192.168.1.1": false, "127.0.0.1": false, "100.64.1.1": false,
		"169.254.0.1": false, "fd00::1": false, "::1": false, "0.0.0.0": false,
	} {
		if got := Public(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Public(%s) = %v", ip, got)
		}
	}
}

// FuzzCheckHELO: any name a client sends is checked without a panic.
func FuzzCheckHELO(f *testing.F) {
	for _, s := range []string{"mail01.example.com", "[198.51.100.21]", "[IPv6:::1]", "198-51-100-21.x", "[", "]", "localhost", "..", "ec2-1-2-3-4.compute.amazonaws.com"} {
		f.Add(s, "198.51.100.21")
	}
	z := resolver.NewZone(nil)
	if err := z.Load(strings.NewReader(forward), "", "forward"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, ip string) {
		a, _ := netip.ParseAddr(ip)
		h := CheckHELO(context.Background(), z, name, a)
		if h.MatchesIP && !a.IsValid() {
			t.Errorf("%q matches an unknown address", name)
		}
	})
}
