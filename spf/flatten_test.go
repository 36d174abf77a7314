package spf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// txtRR writes a TXT record of any length as a zone line, in strings of
// at most 255 bytes cut anywhere (receivers join them, RFC 7208 §3.3).
func txtRR(owner, text string) string {
	var b strings.Builder
	b.WriteString(owner + " IN TXT")
	for len(text) > 0 {
		n := min(len(text), 255)
		fmt.Fprintf(&b, " %q", text[:n])
		text = text[n:]
	}
	return b.String() + "\n"
}

// bigProvider returns the zone of a provider with many ranges: 60 IPv4
// /24s and 10 IPv6 /48s under prov, 30 IPv4 /16s under prov2, none of
// them adjacent, so nothing merges.
func bigProvider() string {
	prov, prov2 := "v=spf1", "v=spf1"
	for i := range 60 {
		prov += fmt.Sprintf(" ip4:100.64.%d.0/24", 2*i)
	}
	for i := range 10 {
		prov += fmt.Sprintf(" ip6:2001:db8:%x::/48", 2*i)
	}
	for i := range 30 {
		prov2 += fmt.Sprintf(" ip4:10.%d.0.0/16", 2*i)
	}
	return txtRR("prov.big", prov+" ~all") + txtRR("prov2.big", prov2+" -all")
}

// flatFixture holds the records of the flattening tests, one domain per
// case. Each domain's own record is the line "<label> IN TXT ...".
const flatFixture = `
deep     IN TXT "v=spf1 include:l1.deep.example.com ip4:192.0.2.1 -all"
l1.deep  IN TXT "v=spf1 ip4:198.51.100.0/25 include:l2.deep.example.com ~all"
l2.deep  IN TXT "v=spf1 ip6:2001:db8:1::/48 include:l3.deep.example.com ?all"
l3.deep  IN TXT "v=spf1 ip4:198.51.100.128/25 ip4:203.0.113.7 ip6:2001:db8:1:2::/64 -all exp=why.example.com"

amx      IN TXT "v=spf1 a/30 a:web.amx.example.com//64 mx/28//120 ?mx:many.amx.example.com -all"
amx      IN A    192.0.2.5
amx      IN MX   10 mx1.amx
amx      IN MX   20 mx2.amx
mx1.amx  IN A    198.51.100.17
mx1.amx  IN AAAA 2001:db8::17
mx2.amx  IN A    198.51.100.33
web.amx  IN A    203.0.113.9
web.amx  IN AAAA 2001:db8:5:6::1
many.amx IN MX   1 m1.amx
many.amx IN MX   2 m2.amx
many.amx IN MX   3 m3.amx
many.amx IN MX   4 m4.amx
many.amx IN MX   5 m5.amx
many.amx IN MX   6 m6.amx
many.amx IN MX   7 m7.amx
many.amx IN MX   8 m8.amx
many.amx IN MX   9 m9.amx
many.amx IN MX   10 m10.amx
many.amx IN MX   11 m11.amx

kept          IN TXT "v=spf1 include:soft.kept.example.com include:ex.kept.example.com include:%{l}.mac.kept.example.com ?exists:%{i}._rbl.kept.example.com ptr:kept.example.com -include:bad.kept.example.com include:deepsoft.kept.example.com ?include:passall.kept.example.com ~all"
soft.kept     IN TXT "v=spf1 ip4:192.0.2.0/24 ~ip4:198.51.100.1 ip4:198.51.100.0/24 -all"
ex.kept       IN TXT "v=spf1 exists:%{i}.ex.kept.example.com -all"
*.mac.kept    IN TXT "v=spf1 ip4:192.0.2.200 -all"
192.0.2.77._rbl.kept IN A 127.0.0.2
bad.kept      IN TXT "v=spf1 ip4:203.0.113.0/24 -all"
passall.kept  IN TXT "v=spf1 ip4:192.0.2.1 +all"
deepsoft.kept IN TXT "v=spf1 include:soft.kept.example.com -all"

red      IN TXT "v=spf1 ip4:192.0.2.1 include:%{d}.p.example.com redirect=tgt.red.example.com"
red.example.com.p IN TXT "v=spf1 ip4:192.0.2.2 -all"
tgt.red  IN TXT "v=spf1 -ip4:198.51.100.7 ip4:198.51.100.0/24 a ~all"
tgt.red  IN A   203.0.113.50

red2     IN TXT "v=spf1 ip4:192.0.2.1 redirect=t1.red2.example.com"
t1.red2  IN TXT "v=spf1 include:soft.kept.example.com ?ip4:192.0.2.128/25 moo=cow redirect=t2.red2.example.com"
t2.red2  IN TXT "v=spf1 ip4:198.51.100.0/24 -all"

redexp   IN TXT "v=spf1 ip4:192.0.2.1 redirect=t.redexp.example.com"
t.redexp IN TXT "v=spf1 ip4:198.51.100.0/24 -all exp=why.example.com"
redexp2  IN TXT "v=spf1 ip4:192.0.2.1 exp=why.example.com redirect=t2.red2.example.com"
redexp3  IN TXT "v=spf1 ip4:192.0.2.1 exp=why.example.com redirect=t.redexp3.example.com"
t.redexp3 IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"
incred   IN TXT "v=spf1 include:ir.incred.example.com -all"
ir.incred IN TXT "v=spf1 ip4:192.0.2.10 redirect=t2.red2.example.com"
redptr   IN TXT "v=spf1 redirect=t.redptr.example.com"
t.redptr IN TXT "v=spf1 ip4:198.51.100.0/24 ptr -all"

bigfail  IN TXT "v=spf1 -include:prov.big.example.com ip4:192.0.2.0/24 ~all"
big      IN TXT "v=spf1 ip4:192.0.2.0/24 include:prov.big.example.com -ip4:203.0.113.5 include:prov2.big.example.com ~all"

why      IN TXT "%{i} may not send for %{d}"
`

// flatServe serves the fixture and a provider with many ranges.
func flatServe(t *testing.T, extra string) *resolver.Client {
	t.Helper()
	_, c := serve(t, flatFixture+bigProvider()+extra)
	return c
}

// withFlattened returns zone with label's own TXT record replaced by the
// flattened records.
func withFlattened(zone, label string, f *Flattened) string {
	var b strings.Builder
	for line := range strings.Lines(zone) {
		if fs := strings.Fields(line); len(fs) >= 3 && fs[0] == label && fs[1] == "IN" && fs[2] == "TXT" {
			continue
		}
		b.WriteString(line)
	}
	for _, r := range f.Records {
		b.WriteString(r.Zone() + "\n")
	}
	return b.String()
}

// probes returns addresses to check: the first and last of every ip4 and
// ip6 network of the flattened records and their neighbours just outside,
// and extra.
func probes(t *testing.T, f *Flattened, extra ...string) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, s := range extra {
		out = append(out, netip.MustParseAddr(s))
	}
	for _, r := range f.Records {
		rec, err := Parse(r.Text)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		for _, term := range rec.Terms {
			if term.Name != "ip4" && term.Name != "ip6" {
				continue
			}
			first, last := term.Prefix.Masked().Addr(), lastAddr(term.Prefix)
			out = append(out, first, last)
			if p := first.Prev(); p.IsValid() {
				out = append(out, p)
			}
			if n := last.Next(); n.IsValid() {
				out = append(out, n)
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// checkStrings checks that r's strings join to its text, each at most 255
// bytes and, but for the last, ending after a term.
func checkStrings(t *testing.T, r FlatRecord) {
	t.Helper()
	if strings.Join(r.Strings, "") != r.Text {
		t.Errorf("%s: strings %q do not join to %q", r.Name, r.Strings, r.Text)
	}
	for i, s := range r.Strings {
		if len(s) > 255 {
			t.Errorf("%s: string %d is %d bytes", r.Name, i, len(s))
		}
		if i < len(r.Strings)-1 && !strings.HasSuffix(s, " ") && len(s) < 255 {
			t.Errorf("%s: string %d does not end at a term boundary: %q", r.Name, i, s)
		}
	}
}

// TestFlattenEquivalent is the test that matters: for every case of the
// fixture, CheckHost gives every address the same result with the
// flattened records published as with the original ones, for addresses at
// the edges of every network, inside and just outside, and others. The
// original records are within the limits of RFC 7208 §4.6.4, so the two
// must agree exactly: fail, softfail and neutral included, and the
// explanation of a fail (§6.2).
func TestFlattenEquivalent(t *testing.T) {
	zone := flatFixture + bigProvider()
	_, orig := serve(t, zone)
	ctx := context.Background()
	// Besides the edges of the flattened networks: those of networks in
	// kept includes, and the odd ones.
	extra := []string{"192.0.2.0", "192.0.2.255", "192.0.2.77", "192.0.2.200", "192.0.2.1", "198.51.100.0", "198.51.100.1",
		"198.51.100.2", "198.51.100.7", "198.51.100.255", "203.0.113.5", "203.0.113.50", "8.8.8.8", "2001:db8::1",
		"2001:db8:ffff::1", "::ffff:192.0.2.1", "2001:db8:5:6::ffff"}
	for _, label := range []string{"deep", "amx", "kept", "red", "red2", "redexp", "redexp2", "redexp3", "redptr", "incred", "big", "bigfail"} {
		domain := label + ".example.com"
		f, err := Flatten(ctx, orig, domain)
		if err != nil {
			t.Errorf("%s: %v", domain, err)
			continue
		}
		if d := Diagnose(ctx, orig, domain); d.Lookups != f.LookupsBefore {
			t.Errorf("%s: LookupsBefore %d, Diagnose counts %d", domain, f.LookupsBefore, d.Lookups)
		}
		_, flat := serve(t, withFlattened(zone, label, f))
		ips := probes(t, f, extra...)
		differ := 0
		for _, ip := range ips {
			want := CheckHost(ctx, orig, ip, domain, "user@"+domain, "mail.example.net")
			got := CheckHost(ctx, flat, ip, domain, "user@"+domain, "mail.example.net")
			if want.Status == Temperror || got.Status != want.Status || got.Explanation != want.Explanation {
				differ++
				t.Errorf("%s, %s: flattened %s (%s, %v), original %s (%s, %v)", domain, ip, got.Status, got.Term, got.Err, want.Status, want.Term, want.Err)
			}
			if got.Lookups > f.LookupsAfter {
				t.Errorf("%s, %s: %d lookups, more than LookupsAfter %d", domain, ip, got.Lookups, f.LookupsAfter)
			}
		}
		t.Logf("%s: %d addresses agree; lookups %d -> %d; %d records, first %q", domain, len(ips)-differ, f.LookupsBefore, f.LookupsAfter, len(f.Records), f.Records[0].Text)
	}
}

// TestFlattenDeep: includes three deep become pure ip4/ip6 terms, merged
// (two /25 halves into a /24, a /64 inside a /48 dropped), and no lookups
// remain. The exp= of an included record never counts (RFC 7208 §6.2).
func TestFlattenDeep(t *testing.T) {
	c := flatServe(t, "")
	f, err := Flatten(context.Background(), c, "DEEP.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	want := "v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 ip4:203.0.113.7 ip6:2001:db8:1::/48 -all"
	if len(f.Records) != 1 || f.Records[0].Text != want || f.Records[0].Name != "deep.example.com" {
		t.Fatalf("records %+v, want one: %q", f.Records, want)
	}
	if f.LookupsBefore != 3 || f.LookupsAfter != 0 || f.Addresses != 4 {
		t.Errorf("lookups %d -> %d, %d addresses; want 3 -> 0, 4", f.LookupsBefore, f.LookupsAfter, f.Addresses)
	}
	if len(f.Kept) != 0 || len(f.Flattened) != 1 || f.Flattened[0] != (FlatTerm{"include:l1.deep.example.com", "deep.example.com", 5}) {
		t.Errorf("kept %v, flattened %v", f.Kept, f.Flattened)
	}
	var names []string
	for _, s := range f.Sources {
		names = append(names, s.Name+" "+s.Type)
		if s.TTL != 300 {
			t.Errorf("source %+v: TTL not the zone's 300", s)
		}
	}
	if fmt.Sprint(names) != "[l1.deep.example.com TXT l2.deep.example.com TXT l3.deep.example.com TXT]" {
		t.Errorf("sources %v", names)
	}
	if f.MinTTL() != 300 || len(f.Notes) != 1 || !strings.Contains(f.Notes[0], "copies 3 records") {
		t.Errorf("min TTL %d, notes %q", f.MinTTL(), f.Notes)
	}
}

// TestFlattenAMX: a and mx become the addresses of their hosts with the
// prefix lengths applied (RFC 7208 §5.3, §5.4, §5.6), A and AAAA both, the
// qualifier kept; mx with more than 10 names is a permerror and is kept.
func TestFlattenAMX(t *testing.T) {
	c := flatServe(t, "")
	f, err := Flatten(context.Background(), c, "amx.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := "v=spf1 ip4:192.0.2.4/30 ip4:198.51.100.16/28 ip4:198.51.100.32/28 ip4:203.0.113.9 ip6:2001:db8::/120 ip6:2001:db8:5:6::/64 ?mx:many.amx.example.com -all"
	if f.Records[0].Text != want {
		t.Errorf("got  %q\nwant %q", f.Records[0].Text, want)
	}
	if f.LookupsBefore != 4 || f.LookupsAfter != 1 {
		t.Errorf("lookups %d -> %d, want 4 -> 1", f.LookupsBefore, f.LookupsAfter)
	}
	if len(f.Kept) != 1 || f.Kept[0].Term != "?mx:many.amx.example.com" || !strings.Contains(f.Kept[0].Reason, "11 MX names") {
		t.Errorf("kept %+v", f.Kept)
	}
	var sources []string
	for _, s := range f.Sources {
		sources = append(sources, s.Name+" "+s.Type)
	}
	wantSources := "[amx.example.com A amx.example.com AAAA amx.example.com MX mx1.amx.example.com A mx1.amx.example.com AAAA mx2.amx.example.com A mx2.amx.example.com AAAA web.amx.example.com A web.amx.example.com AAAA]"
	if fmt.Sprint(sources) != wantSources {
		t.Errorf("sources %v", sources)
	}
}

// TestFlattenKept: what cannot be listed as addresses is kept in place,
// with why; an include with another qualifier is flattened with it (an
// include matches when its record passes, whatever its qualifier, §5.2).
func TestFlattenKept(t *testing.T) {
	c := flatServe(t, "")
	f, err := Flatten(context.Background(), c, "kept.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := "v=spf1 include:soft.kept.example.com include:ex.kept.example.com include:%{l}.mac.kept.example.com ?exists:%{i}._rbl.kept.example.com ptr:kept.example.com -ip4:203.0.113.0/24 include:deepsoft.kept.example.com ?include:passall.kept.example.com ~all"
	if f.Records[0].Text != want {
		t.Errorf("got  %q\nwant %q", f.Records[0].Text, want)
	}
	for _, tt := range []struct{ term, reason string }{
		{"include:soft.kept.example.com", "soft.kept.example.com has ~ip4:198.51.100.1: a softfail result"}, // §5.2
		{"include:ex.kept.example.com", "ex.kept.example.com has exists:%{i}.ex.kept.example.com: exists asks"},
		{"include:%{l}.mac.kept.example.com", "macros %{l}"},  // §7
		{"?exists:%{i}._rbl.kept.example.com", "exists asks"}, // §5.7
		{"ptr:kept.example.com", "reverse DNS"},               // §5.5
		{"?include:passall.kept.example.com", "+all, which passes every address"},
		{"include:deepsoft.kept.example.com", "soft.kept.example.com has ~ip4:198.51.100.1"},
	} {
		i := slices.IndexFunc(f.Kept, func(k Kept) bool { return k.Term == tt.term })
		if i < 0 || !strings.Contains(f.Kept[i].Reason, tt.reason) || f.Kept[i].Domain != "kept.example.com" {
			t.Errorf("%s: kept %+v, want a reason with %q", tt.term, f.Kept, tt.reason)
		}
	}
	if f.LookupsBefore != 10 || f.LookupsAfter != 9 || len(f.Flattened) != 1 || f.Flattened[0].Term != "-include:bad.kept.example.com" {
		t.Errorf("lookups %d -> %d, flattened %v; want 10 -> 9 and the -include", f.LookupsBefore, f.LookupsAfter, f.Flattened)
	}
	if fmt.Sprint(f.Sources) != "[{bad.kept.example.com TXT 300}]" {
		t.Errorf("sources %v: only what was copied", f.Sources)
	}
}

// TestFlattenRedirect: a redirect's record moves into the domain's in its
// place, ending in its all (§6.1), %{d} expanded per record (§7.3); not
// when the explanation of a fail would change (its exp= lost, or the
// domain's own explaining its fails, §6.2) or a kept term acts on its own
// domain. In an included record, a redirect stands for what its target
// passes. Terms receivers never evaluate are dropped.
func TestFlattenRedirect(t *testing.T) {
	c := flatServe(t, `
dead     IN TXT "v=spf1 ip4:192.0.2.1 -all ip4:192.0.2.2 redirect=t.redexp.example.com"
`)
	for _, tt := range []struct {
		domain        string
		want          string
		before, after int
		kept, dropped string
	}{
		{"red.example.com", "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -ip4:198.51.100.7 ip4:198.51.100.0/24 ip4:203.0.113.50 ~all", 3, 0, "", ""},
		{"red2.example.com", "v=spf1 ip4:192.0.2.1 include:soft.kept.example.com ?ip4:192.0.2.128/25 ip4:198.51.100.0/24 -all", 3, 1,
			"include:soft.kept.example.com", "moo=cow"},
		{"redexp.example.com", "v=spf1 ip4:192.0.2.1 redirect=t.redexp.example.com", 1, 1, "redirect=t.redexp.example.com", ""},
		{"redexp2.example.com", "v=spf1 ip4:192.0.2.1 exp=why.example.com redirect=t2.red2.example.com", 1, 1, "redirect=t2.red2.example.com", ""},
		{"redexp3.example.com", "v=spf1 ip4:192.0.2.1 ip4:198.51.100.0/24 ~all exp=why.example.com", 1, 0, "", ""},
		{"redptr.example.com", "v=spf1 redirect=t.redptr.example.com", 2, 2, "redirect=t.redptr.example.com", ""},
		{"incred.example.com", "v=spf1 ip4:192.0.2.10 ip4:198.51.100.0/24 -all", 2, 0, "", ""},
		{"dead.example.com", "v=spf1 ip4:192.0.2.1 -all", 0, 0, "", "ip4:192.0.2.2 redirect=t.redexp.example.com"},
	} {
		f, err := Flatten(context.Background(), c, tt.domain)
		if err != nil {
			t.Errorf("%s: %v", tt.domain, err)
			continue
		}
		var kept, dropped []string
		for _, k := range f.Kept {
			kept = append(kept, k.Term)
		}
		for _, k := range f.Dropped {
			dropped = append(dropped, k.Term)
		}
		if f.Records[0].Text != tt.want || f.LookupsBefore != tt.before || f.LookupsAfter != tt.after ||
			strings.Join(kept, " ") != tt.kept || strings.Join(dropped, " ") != tt.dropped {
			t.Errorf("%s:\n got %q, lookups %d -> %d, kept %v, dropped %v\nwant %q, lookups %d -> %d, kept %v, dropped %v",
				tt.domain, f.Records[0].Text, f.LookupsBefore, f.LookupsAfter, kept, dropped, tt.want, tt.before, tt.after, tt.kept, tt.dropped)
		}
	}
}

// TestFlattenChained: a provider with 100 ranges does not fit in one
// record: runs of addresses move into _spf1, _spf2, … each included in
// the run's place with the run's qualifier, every string at most 255
// bytes (§3.3) and every record at most 450 (§3.4).
func TestFlattenChained(t *testing.T) {
	c := flatServe(t, "")
	f, err := Flatten(context.Background(), c, "big.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) < 3 {
		t.Fatalf("%d records, want chained ones: %+v", len(f.Records), f.Records)
	}
	for i, r := range f.Records {
		checkStrings(t, r)
		if len(r.Text) > 450 {
			t.Errorf("%s: %d bytes", r.Name, len(r.Text))
		}
		if i > 0 && (r.Name != fmt.Sprintf("_spf%d.big.example.com", i) || !strings.HasSuffix(r.Text, " -all") || !strings.Contains(f.Records[0].Text, "include:"+r.Name)) {
			t.Errorf("chained record %d: %s %q", i, r.Name, r.Text)
		}
	}
	if f.Addresses != 1+60+10+1+30 || f.LookupsBefore != 2 || f.LookupsAfter != len(f.Records)-1 {
		t.Errorf("%d addresses, lookups %d -> %d with %d records", f.Addresses, f.LookupsBefore, f.LookupsAfter, len(f.Records))
	}
	// The fail term stays between the two runs.
	root := f.Records[0].Text
	if i, j := strings.Index(root, "-ip4:203.0.113.5"), strings.LastIndex(root, "include:"); i < 0 || j < i || !strings.HasSuffix(root, " ~all") {
		t.Errorf("root %q", root)
	}
	if !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "chained records") }) {
		t.Errorf("notes %q", f.Notes)
	}

	// A run of fail addresses is included with the fail qualifier.
	f, err = Flatten(context.Background(), c, "bigfail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if root := f.Records[0].Text; len(f.Records) < 3 || !strings.HasPrefix(root, "v=spf1 -include:_spf1.bigfail.example.com -include:_spf2.bigfail.example.com ") || !strings.HasSuffix(root, " ip4:192.0.2.0/24 ~all") {
		t.Errorf("records %+v", f.Records)
	}
	if r := f.Records[1]; !strings.HasPrefix(r.Text, "v=spf1 ip4:100.64.0.0/24 ") || !strings.HasSuffix(r.Text, " -all") {
		t.Errorf("first chained record %q", r.Text)
	}
}

// TestLayoutLookups: when chained records would put the lookups over 10,
// their addresses move back into the domain's record, however long: a
// long record beats a permerror (RFC 7208 §3.4, §4.6.4).
func TestLayoutLookups(t *testing.T) {
	var items []item
	for i := range 100 {
		items = append(items, item{q: QualifierPass, prefix: netip.MustParsePrefix(fmt.Sprintf("100.64.%d.0/24", 2*i))})
	}
	items = append(items, item{q: QualifierFail, raw: "-all"})
	for _, tt := range []struct {
		kept, chained int
		long          bool // the domain's record over 450 bytes
	}{{0, 4, false}, {7, 3, true}, {9, 1, true}, {10, 0, true}} {
		records, chained := layout("example.com", items, nil, tt.kept)
		if chained != tt.chained || len(records) != chained+1 || len(records[0].Text) > 450 != tt.long {
			t.Errorf("%d lookups kept: %d chained records (%d in all), the first %d bytes; want %d chained, long %v",
				tt.kept, chained, len(records), len(records[0].Text), tt.chained, tt.long)
		}
		n := 0
		for _, r := range records {
			checkStrings(t, r)
			n += strings.Count(r.Text, "ip4:")
		}
		if n != 100 {
			t.Errorf("%d lookups kept: %d addresses in all", tt.kept, n)
		}
	}
}

// TestFlattenErrors: a flattened record is never built from a partial
// view: failed lookups and records that give receivers permerror are
// errors that name the record and what went wrong.
func TestFlattenErrors(t *testing.T) {
	var over strings.Builder
	over.WriteString("v=spf1")
	for i := range 11 {
		fmt.Fprintf(&over, " exists:%%{i}.e%d.example.com", i)
	}
	s, c := serve(t, `
sf       IN TXT "v=spf1 ip4:192.0.2.1 include:broken.example.com -all"
broken   IN TXT "v=spf1 -all"
sfa      IN TXT "v=spf1 a:brokenhost.example.com -all"
sfmx     IN TXT "v=spf1 mx -all"
sfmx     IN MX  10 brokenhost
brokenhost IN A 192.0.2.1
nx       IN TXT "v=spf1 ip4:192.0.2.1 include:nowhere.example.com -all"
norec    IN TXT "v=spf1 include:text.example.com -all"
text     IN TXT "hello"
rednx    IN TXT "v=spf1 redirect=nowhere.example.com"
loop1    IN TXT "v=spf1 include:loop2.example.com -all"
loop2    IN TXT "v=spf1 ip4:192.0.2.1 include:LOOP1.example.com. ~all"
two      IN TXT "v=spf1 -all"
two      IN TXT "v=spf1 ip4:192.0.2.1 -all"
inctwo   IN TXT "v=spf1 include:two.example.com -all"
syntax   IN TXT "v=spf1 include:bad.example.com -all"
bad      IN TXT "v=spf1 ip4:192.0.2.300 -all"
`+txtRR("badname", "v=spf1 include:"+strings.Repeat("a", 64)+".example.com -all")+txtRR("over", over.String()+" -all"))
	s.Fail("broken.example.com", dns.RcodeServerFailure)
	s.Fail("brokenhost.example.com", dns.RcodeServerFailure)
	s.Fail("root-broken.example.com", dns.RcodeRefused)
	var syntax *SyntaxError
	for _, tt := range []struct {
		domain string
		is     func(error) bool
		msg    string
	}{
		{"sf.example.com", is(ErrDNS), "broken.example.com TXT: servfail"},
		{"sfa.example.com", is(ErrDNS), "brokenhost.example.com A"},
		{"sfmx.example.com", is(ErrDNS), "brokenhost.example.com"},
		{"root-broken.example.com", is(ErrDNS), "refused"},
		{"nx.example.com", is(ErrIncludeNoRecord), "include:nowhere.example.com in nx.example.com: nowhere.example.com has no SPF record (nxdomain)"}, // §5.2
		{"norec.example.com", is(ErrIncludeNoRecord), "text.example.com has no SPF record (only other TXT records)"},
		{"rednx.example.com", is(ErrRedirectNoRecord), "RFC 7208 §6.1"},
		{"loop1.example.com", is(ErrLoop), "include:LOOP1.example.com. in loop2.example.com"},
		{"inctwo.example.com", is(ErrMultipleRecords), "two.example.com"}, // §4.5
		{"syntax.example.com", func(err error) bool { return errors.As(err, &syntax) }, "192.0.2.300"},
		{"badname.example.com", is(ErrInvalidDomain), "include:aaaa"}, // §4.3
		{"nowhere.example.com", is(ErrNoRecord), "nowhere.example.com"},
		{"over.example.com", is(ErrTooManyLookups), "still cost 11 lookups"}, // §4.6.4
		{"localhost", is(ErrInvalidDomain), "localhost"},
	} {
		f, err := Flatten(context.Background(), c, tt.domain)
		if err == nil || f != nil || !tt.is(err) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %+v, %v; want an error with %q", tt.domain, f, err, tt.msg)
		}
	}
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// TestCompact: address terms merge only where no result can change.
func TestCompact(t *testing.T) {
	parse := func(terms string) []item {
		rec, err := Parse("v=spf1 " + terms)
		if err != nil {
			t.Fatal(err)
		}
		var out []item
		for _, tm := range rec.Terms {
			if tm.Name == "ip4" || tm.Name == "ip6" {
				out = append(out, item{q: tm.Qualifier, prefix: tm.Prefix.Masked()})
			} else {
				out = append(out, item{q: tm.Qualifier, raw: tm.Raw})
			}
		}
		return out
	}
	for _, tt := range []struct{ name, in, want string }{
		{"duplicates", "ip4:192.0.2.1 ip4:192.0.2.1/32", "ip4:192.0.2.1"},
		{"inside a wider one, later or earlier", "ip4:192.0.2.7 ip4:192.0.2.0/24 ip4:192.0.2.9", "ip4:192.0.2.0/24"},
		{"halves join", "ip4:192.0.2.0/25 ip4:192.0.2.128/26 ip4:192.0.2.192/26", "ip4:192.0.2.0/24"},
		{"not halves of one network", "ip4:192.0.2.128/25 ip4:192.0.3.0/25", "ip4:192.0.2.128/25 ip4:192.0.3.0/25"},
		{"host bits masked", "ip4:192.0.2.77/24", "ip4:192.0.2.0/24"},
		{"families apart", "ip6:::ffff:192.0.2.0/120 ip4:192.0.2.0/24", "ip4:192.0.2.0/24 ip6:::ffff:192.0.2.0/120"},
		{"ip6", "ip6:2001:db8::/33 ip6:2001:db8:8000::/33 ip6:2001:db8::1", "ip6:2001:db8::/32"},
		{"no merge across a qualifier", "ip4:192.0.2.0/25 -ip4:198.51.100.1 ip4:192.0.2.128/25", "ip4:192.0.2.0/25 -ip4:198.51.100.1 ip4:192.0.2.128/25"},
		{"no merge across a kept term", "ip4:192.0.2.0/25 include:x.example.com ip4:192.0.2.128/25", "ip4:192.0.2.0/25 include:x.example.com ip4:192.0.2.128/25"},
		{"covered by an earlier term of any qualifier is never reached", "-ip4:192.0.2.0/24 exists:x.example.com ip4:192.0.2.5 ip4:198.51.100.1", "-ip4:192.0.2.0/24 exists:x.example.com ip4:198.51.100.1"},
		{"a later wider one is not dead", "-ip4:192.0.2.5 ip4:192.0.2.0/24", "-ip4:192.0.2.5 ip4:192.0.2.0/24"},
		{"everything", "ip4:0.0.0.0/1 ip4:128.0.0.0/1", "ip4:0.0.0.0/0"},
	} {
		var got []string
		for _, it := range compact(parse(tt.in)) {
			got = append(got, it.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %q gives %q, want %q", tt.name, tt.in, strings.Join(got, " "), tt.want)
		}
	}
}

// TestSplitStrings: records longer than one string split after a space
// (§3.3), and a term longer than a string inside it, at 255 bytes.
func TestSplitStrings(t *testing.T) {
	long := "v=spf1"
	for i := range 40 {
		long += fmt.Sprintf(" ip4:198.51.100.%d", i)
	}
	for _, text := range []string{"v=spf1 -all", long, long[:255], long[:256], "v=spf1 exists:" + strings.Repeat("a", 300) + " -all"} {
		checkStrings(t, FlatRecord{Name: fmt.Sprintf("%d bytes", len(text)), Text: text, Strings: splitStrings(text)})
	}
	if got := splitStrings(long[:255]); len(got) != 1 {
		t.Errorf("255 bytes: %d strings", len(got))
	}
	r := FlatRecord{Name: "example.com", Strings: []string{`v=spf1 exists:%{l}.x"\.example.com `, "-all"}}
	if want := `example.com. IN TXT "v=spf1 exists:%{l}.x\"\\.example.com " "-all"`; r.Zone() != want {
		t.Errorf("Zone() = %s, want %s", r.Zone(), want)
	}
}

// TestFlattenUDPSize: each published record's answer, with the header
// and the question, fits in 512 bytes of UDP (RFC 7208 §3.4), however
// long the domain's name: the name is in the question and the owner.
func TestFlattenUDPSize(t *testing.T) {
	const long = "bounces.transactional-notifications.eu-west-1.mailer"
	c := flatServe(t, long+` IN TXT "v=spf1 include:prov.big.example.com include:prov2.big.example.com -all"`+"\n")
	for _, domain := range []string{"big.example.com", long + ".example.com"} {
		f, err := Flatten(context.Background(), c, domain)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Records {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(r.Name), dns.TypeTXT)
			m.Response = true
			m.Compress = true
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(r.Name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: r.Strings})
			b, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > 512 {
				t.Errorf("%s: the answer is %d bytes, over 512 (%d bytes of text)", r.Name, len(b), len(r.Text))
			}
		}
	}
}
