package spf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// fuzzZone is the small fixed zone fuzzed records are evaluated against:
// includes, a redirect, a loop, MX and address records, a wildcard, and
// an explanation with every macro. Names outside it answer REFUSED (a
// temperror), the PTR lookups among them.
const fuzzZone = `
$ORIGIN example.com.
$TTL 300
@        IN SOA  ns1 hostmaster 1 7200 3600 1209600 300
@        IN A    192.0.2.1
@        IN MX   10 mx
@        IN TXT  "v=spf1 mx -all"
mx       IN A    192.0.2.25
mx       IN AAAA 2001:db8::25
inc      IN TXT  "v=spf1 ip4:192.0.2.0/28 include:inc2.example.com ~all"
inc2     IN TXT  "v=spf1 a mx ptr exists:%{ir}.wild.example.com -all"
loop     IN TXT  "v=spf1 include:loop.example.com"
red      IN TXT  "v=spf1 redirect=inc.example.com"
two      IN TXT  "v=spf1 -all"
two      IN TXT  "v=spf1 +all"
exp      IN TXT  "%{i} is not allowed for %{s} (%{l} %{o} %{d} %{h}) at %{t} via %{r} %{c} %{p} %{v}"
*.wild   IN A    127.0.0.2
`

// fuzzResolver answers TXT for fuzz.example.com with the fuzzed record,
// and the rest from fuzzZone.
type fuzzResolver struct {
	zone   *resolver.Zone
	record string
}

func (f fuzzResolver) Lookup(ctx context.Context, name string, qtype uint16) resolver.Answer {
	if strings.EqualFold(dns.Fqdn(name), "fuzz.example.com.") && qtype == dns.TypeTXT {
		txt := &dns.TXT{Hdr: dns.RR_Header{Name: "fuzz.example.com.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{escapeTXT(f.record)}}
		return resolver.Answer{Name: "fuzz.example.com.", Type: qtype, Status: resolver.OK, Records: []dns.RR{txt}}
	}
	return f.zone.Lookup(ctx, name, qtype)
}

// escapeTXT writes s as miekg/dns gives TXT strings read from the wire.
func escapeTXT(s string) string {
	var b strings.Builder
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
	return b.String()
}

var statuses = []Status{None, Neutral, Pass, Fail, Softfail, Temperror, Permerror}

func FuzzParse(f *testing.F) {
	// Seeds: every record of the RFC 7208 suite, and a few of ours.
	for _, doc := range loadSuite(f, "testdata/rfc7208-tests.yml") {
		for _, entries := range doc.Zonedata {
			for _, e := range entries {
				m, ok := e.(map[string]any)
				if !ok {
					continue
				}
				for _, v := range m {
					if s, ok := v.(string); ok {
						f.Add(s)
					}
				}
			}
		}
	}
	for _, s := range []string{
		"v=spf1 include:inc.example.com include:loop.example.com redirect=red.example.com",
		"v=spf1 a/24//64 mx:example.com/0 ptr:%{d2} exists:%{i}.%{l1r+-}.wild.example.com -all exp=exp.example.com",
		"v=spf1 include:two.example.com ip6:2001:db8::/32 ?all",
		"v=spf1 exists:%{p}.wild.example.com redirect=%{d}",
		"v=spf1 a:%{H}%{L}%{S}%{O}%{D}%{I}%{P}%{V}.example.com -all",
		"v=spf1 -all exp=%{d}",
	} {
		f.Add(s)
	}
	zone := resolver.NewZone(nil)
	if err := zone.Load(strings.NewReader(fuzzZone), "", "fuzzZone"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, record string) {
		rec, err := Parse(record)
		if !IsSPF(record) {
			if rec != nil || !errors.Is(err, ErrNotSPF) {
				t.Fatalf("Parse(%q) = %v, %v; want ErrNotSPF", record, rec, err)
			}
			return
		}
		if rec == nil || rec.Text != record {
			t.Fatalf("Parse(%q) = %v, %v", record, rec, err)
		}
		if errs := Errors(record); (err == nil) != (len(errs) == 0) {
			t.Fatalf("Parse(%q): %v, but Errors: %v", record, err, errs)
		}
		var se *SyntaxError
		if err != nil && (!errors.As(err, &se) || record[se.Pos:se.Pos+len(se.Term)] != se.Term) {
			t.Fatalf("Parse(%q): error %v is not a *SyntaxError at its term", record, err)
		}
		for _, term := range rec.Terms {
			if record[term.Pos:term.Pos+len(term.Raw)] != term.Raw || term.Raw == "" || strings.Contains(term.Raw, " ") {
				t.Fatalf("Parse(%q): term %q at %d", record, term.Raw, term.Pos)
			}
			if term.Name != strings.ToLower(term.Name) {
				t.Fatalf("Parse(%q): name %q is not lower case", record, term.Name)
			}
		}

		// Evaluate it: no panic, no hang, a status, the limits kept.
		r := fuzzResolver{zone: zone, record: record}
		ip := netip.MustParseAddr("192.0.2.25")
		if len(record)%2 == 1 {
			ip = netip.MustParseAddr("2001:db8::25")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan Result, 1)
		go func() {
			done <- CheckHost(ctx, r, ip, "fuzz.example.com", "user+tag@fuzz.example.com", "mail.example.com")
		}()
		select {
		case res := <-done:
			if !slices.Contains(statuses, res.Status) {
				t.Fatalf("CheckHost(%q): status %q", record, res.Status)
			}
			if res.Lookups > MaxLookups+1 || res.VoidLookups > MaxVoidLookups+1 {
				t.Fatalf("CheckHost(%q): %d lookups, %d void", record, res.Lookups, res.VoidLookups)
			}
			if err != nil && res.Status != Permerror {
				t.Fatalf("CheckHost(%q) = %s with a syntax error", record, res.Status)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("CheckHost(%q) hangs", record)
		}
		d := Diagnose(ctx, r, "fuzz.example.com")
		if d.Root == nil || d.Lookups < rec.Lookups() {
			t.Fatalf("Diagnose(%q): %d lookups, the record alone has %d", record, d.Lookups, rec.Lookups())
		}
	})
}
