package spf

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestIsSPF(t *testing.T) {
	for _, tt := range []struct {
		txt  string
		want bool
	}{
		{"v=spf1", true},             // §4.5: the version alone is a record
		{"v=spf1 -all", true},        // §4.5
		{"V=SpF1 ~all", true},        // §4.5: case-insensitive (ABNF, RFC 5234 §2.3)
		{"v=spf10", false},           // §4.5: the version ends at a space or the end
		{"v=spf1mx", false},          // §3.3: strings joined without a space
		{"v=spf1\t-all", false},      // §4.5: only SP ends the version
		{" v=spf1 -all", false},      // §4.5: the record begins with the version
		{"v=spf2.0/pra -all", false}, // Sender ID (RFC 4406), not SPF
		{"spf1", false},
		{"", false},
	} {
		if got := IsSPF(tt.txt); got != tt.want {
			t.Errorf("IsSPF(%q) = %v, want %v", tt.txt, got, tt.want)
		}
	}
}

// TestParse checks the terms Parse reads from valid records.
func TestParse(t *testing.T) {
	type term struct {
		raw    string
		kind   Kind
		q      Qualifier
		name   string
		value  string
		v4, v6 int
		prefix string
	}
	mech := func(raw string, q Qualifier, name, value string) term {
		return term{raw: raw, kind: Mechanism, q: q, name: name, value: value}
	}
	for _, tt := range []struct {
		name   string
		record string
		want   []term
	}{
		{"§4.6.1 empty record", "v=spf1", nil},
		{"§4.6.1 trailing and repeated spaces", "v=spf1  -all ", []term{mech("-all", QualifierFail, "all", "")}},
		{"§4.6.2 qualifiers", "v=spf1 +a -mx ~ptr ?all", []term{
			{raw: "+a", kind: Mechanism, q: QualifierPass, name: "a", v4: 32, v6: 128},
			{raw: "-mx", kind: Mechanism, q: QualifierFail, name: "mx", v4: 32, v6: 128},
			mech("~ptr", QualifierSoftfail, "ptr", ""),
			mech("?all", QualifierNeutral, "all", ""),
		}},
		{"§4.6.1 names are case-insensitive", "v=spf1 INCLUDE:_spf.Example.COM All", []term{
			mech("INCLUDE:_spf.Example.COM", QualifierPass, "include", "_spf.Example.COM"),
			mech("All", QualifierPass, "all", ""),
		}},
		{"§5.6 dual-cidr-length", "v=spf1 a:d.example.com/24//64 mx/0 a//0 mx:foo:bar/baz.example.com/16", []term{
			{raw: "a:d.example.com/24//64", kind: Mechanism, q: QualifierPass, name: "a", value: "d.example.com", v4: 24, v6: 64},
			{raw: "mx/0", kind: Mechanism, q: QualifierPass, name: "mx", v4: 0, v6: 128},
			{raw: "a//0", kind: Mechanism, q: QualifierPass, name: "a", v4: 32, v6: 0},
			{raw: "mx:foo:bar/baz.example.com/16", kind: Mechanism, q: QualifierPass, name: "mx", value: "foo:bar/baz.example.com", v4: 16, v6: 128},
		}},
		{"§5.6 ip4 and ip6", "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 -ip6:2001:db8::/32 ip6:::ffff:1.2.3.4", []term{
			{raw: "ip4:192.0.2.0/24", kind: Mechanism, q: QualifierPass, name: "ip4", value: "192.0.2.0", prefix: "192.0.2.0/24"},
			{raw: "ip4:192.0.2.1", kind: Mechanism, q: QualifierPass, name: "ip4", value: "192.0.2.1", prefix: "192.0.2.1/32"},
			{raw: "-ip6:2001:db8::/32", kind: Mechanism, q: QualifierFail, name: "ip6", value: "2001:db8::", prefix: "2001:db8::/32"},
			{raw: "ip6:::ffff:1.2.3.4", kind: Mechanism, q: QualifierPass, name: "ip6", value: "::ffff:1.2.3.4", prefix: "::ffff:1.2.3.4/128"},
		}},
		{"§5.7 exists with macros", "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}", []term{
			mech("exists:%{ir}.%{l1r+-}._spf.%{d}", QualifierPass, "exists", "%{ir}.%{l1r+-}._spf.%{d}"),
		}},
		{"§6 modifiers, unknown ones kept", "v=spf1 redirect=_spf.example.com exp=explain._spf.%{d} moo.cow-far_out=man:dog/cat default=+", []term{
			{raw: "redirect=_spf.example.com", kind: Modifier, name: "redirect", value: "_spf.example.com"},
			{raw: "exp=explain._spf.%{d}", kind: Modifier, name: "exp", value: "explain._spf.%{d}"},
			{raw: "moo.cow-far_out=man:dog/cat", kind: Modifier, name: "moo.cow-far_out", value: "man:dog/cat"},
			{raw: "default=+", kind: Modifier, name: "default", value: "+"},
		}},
		{"§7.1 domain-end: toplabel with dashes, trailing dot, macro", "v=spf1 a:foo.example.xn--zckzah include:o.spf.example.com. a:%{H} exists:%{d}%%", []term{
			{raw: "a:foo.example.xn--zckzah", kind: Mechanism, q: QualifierPass, name: "a", value: "foo.example.xn--zckzah", v4: 32, v6: 128},
			mech("include:o.spf.example.com.", QualifierPass, "include", "o.spf.example.com."),
			{raw: "a:%{H}", kind: Mechanism, q: QualifierPass, name: "a", value: "%{H}", v4: 32, v6: 128},
			mech("exists:%{d}%%", QualifierPass, "exists", "%{d}%%"),
		}},
		{"§7.1 macro-literals and escapes", "v=spf1 a:macro%%percent%_%_space%-url-space.example.com", []term{
			{raw: "a:macro%%percent%_%_space%-url-space.example.com", kind: Mechanism, q: QualifierPass, name: "a", value: "macro%%percent%_%_space%-url-space.example.com", v4: 32, v6: 128},
		}},
	} {
		rec, err := Parse(tt.record)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", tt.name, tt.record, err)
			continue
		}
		if len(rec.Terms) != len(tt.want) {
			t.Errorf("%s: %d terms, want %d", tt.name, len(rec.Terms), len(tt.want))
			continue
		}
		for i, w := range tt.want {
			g := rec.Terms[i]
			if tt.record[g.Pos:g.Pos+len(g.Raw)] != g.Raw {
				t.Errorf("%s: term %d: Raw %q is not at Pos %d", tt.name, i, g.Raw, g.Pos)
			}
			got := term{raw: g.Raw, kind: g.Kind, q: g.Qualifier, name: g.Name, value: g.Value, v4: g.V4Bits, v6: g.V6Bits}
			if g.Prefix.IsValid() {
				got.prefix = g.Prefix.String()
			}
			if got != w {
				t.Errorf("%s: term %d:\n got %+v\nwant %+v", tt.name, i, got, w)
			}
		}
	}
}

// TestParseErrors checks that each syntax error is found, with the term
// and its position.
func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		record string
		pos    int
		term   string
		reason string // a part of the reason
	}{
		{"§4.6 an error anywhere", "v=spf1 ip4:1.2.3.4 -all moo", 24, "moo", "unknown mechanism"},
		{"§5.1 all takes nothing", "v=spf1 -all:foobar", 7, "-all:foobar", "no argument"},
		{"§5.1 all.", "v=spf1 -all.", 7, "-all.", "unknown mechanism"},
		{"§5.1 all/8", "v=spf1 -all/8", 7, "-all/8", "no argument"},
		{"§5.2 include needs a domain", "v=spf1 include -all", 7, "include", "needs :domain"},
		{"§5.2 include: empty", "v=spf1 include: -all", 7, "include:", "empty domain"},
		{"§5.2 include no cidr", "v=spf1 include:ip5.example.com/24", 7, "include:ip5.example.com/24", "toplabel"},
		{"§5.5 ptr no cidr", "v=spf1 ptr/0 -all", 7, "ptr/0", "no prefix length"},
		{"§5.6 ip4 /33", "v=spf1 ip4:1.2.3.4/33", 7, "ip4:1.2.3.4/33", "prefix length"},
		{"§5.6 ip4 leading zero", "v=spf1 ip4:1.2.3.4/032", 7, "ip4:1.2.3.4/032", "prefix length"},
		{"§5.6 ip4 short", "v=spf1 ip4:1.2.3", 7, "ip4:1.2.3", "invalid ip4"},
		{"§5.6 ip4 octet leading zero", "v=spf1 ip4:192.0.2.01", 7, "ip4:192.0.2.01", "invalid ip4"},
		{"§5.6 ip4 port", "v=spf1 ip4:1.2.3.4:8080", 7, "ip4:1.2.3.4:8080", "invalid ip4"},
		{"§5.6 ip4 given IPv6", "v=spf1 ip4:2001:db8::1", 7, "ip4:2001:db8::1", "IPv4"},
		{"§5.6 ip4 dual cidr", "v=spf1 ip4:1.2.3.4//32", 7, "ip4:1.2.3.4//32", "prefix length"},
		{"§5.6 ip6 bad", "v=spf1 ip6::CAFE::BABE", 7, "ip6::CAFE::BABE", "invalid ip6"},
		{"§5.6 ip6 /129", "v=spf1 ip6:::1/129", 7, "ip6:::1/129", "prefix length"},
		{"§5.6 ip6 with zone", "v=spf1 ip6:fe80::1%eth0", 7, "ip6:fe80::1%eth0", "IPv6"},
		{"§5.6 a/33", "v=spf1 a/33", 7, "a/33", "IPv4 prefix"},
		{"§5.6 a//129", "v=spf1 mx//129", 7, "mx//129", "IPv6 prefix"},
		{"§5.6 a/24/64", "v=spf1 a/24/64", 7, "a/24/64", "IPv4 prefix"},
		{"§6 redirect twice", "v=spf1 redirect=a.example.com redirect=b.example.com", 30, "redirect=b.example.com", "more than once"},
		{"§6 exp twice", "v=spf1 exp=a.example.com -all exp=b.example.com", 30, "exp=b.example.com", "more than once"},
		{"§6.1 redirect is a modifier", "v=spf1 redirect:example.com", 7, "redirect:example.com", "unknown mechanism"},
		{"§6.1 redirect empty", "v=spf1 ?all redirect=", 12, "redirect=", "empty domain"},
		{"§6.2 exp= empty", "v=spf1 exp= -all", 7, "exp=", "empty domain"},
		{"§6.2 exp=-all", "v=spf1 exp=-all", 7, "exp=-all", "toplabel"},
		{"A/3 modifier name starts with a letter", "v=spf1 1up=foo", 7, "1up=foo", "modifier name"},
		{"A/3 empty modifier name", "v=spf1 =all", 7, "=all", "modifier name"},
		{"§4.6.1 / before =: a mechanism", "v=spf1 moo.cow/far_out=man:dog/cat", 7, "moo.cow/far_out=man:dog/cat", "unknown mechanism"},
		{"§4.6.1 qualifier on a modifier", "v=spf1 -redirect=example.com", 7, "-redirect=example.com", "modifier name"},
		{"§7.1 no toplabel", "v=spf1 a:foo-bar", 7, "a:foo-bar", ".toplabel"},
		{"§7.1 numeric toplabel", "v=spf1 a:111.222.33.44", 7, "a:111.222.33.44", "toplabel"},
		{"§7.1 toplabel begins with -", "v=spf1 mx:example.-com", 7, "mx:example.-com", "toplabel"},
		{"§7.1 only a toplabel", "v=spf1 a:museum.", 7, "a:museum.", ".toplabel"},
		{"§7.1 % alone", "v=spf1 exists:foo%.sbl.example.com", 7, "exists:foo%.sbl.example.com", "% must be followed"},
		{"§7.1 %(", "v=spf1 -exists:%(ir).sbl.example.com", 7, "-exists:%(ir).sbl.example.com", "% must be followed"},
		{"§7.1 unclosed macro", "v=spf1 exists:%{ir.example.com", 7, "exists:%{ir.example.com", "closing"},
		{"§7.1 unknown letter", "v=spf1 a:%{a}.example.com", 7, "a:%{a}.example.com", "unknown letter"},
		{"§7.1 c, r, t only in exp text", "v=spf1 -all exp=%{r}.example.com", 12, "exp=%{r}.example.com", "only in explanations"},
		{"§7.1 bad delimiter", "v=spf1 exists:%{l:}.example.com", 7, "exists:%{l:}.example.com", "delimiter"},
		{"§7.3 zero parts", "v=spf1 exists:%{d0}.example.com", 7, "exists:%{d0}.example.com", "zero"},
		{"§7.1 unknown modifier's macros", "v=spf1 -all foo=%abc", 12, "foo=%abc", "% must be followed"},
		{"§3.1 7-bit ASCII", "v=spf1 a:\u00efgarbage.example.net", 7, "a:\u00efgarbage.example.net", "7-bit ASCII"},
		{"§3.1 control character", "v=spf1 a:ctrl.example.com\rptr -all", 7, "a:ctrl.example.com\rptr", "7-bit ASCII"},
		{"§4.6.1 a tab is no separator", "v=spf1 ip4:192.0.2.5\t-all", 7, "ip4:192.0.2.5\t-all", "invalid ip4"},
	} {
		_, err := Parse(tt.record)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: Parse(%q) = %v, want a *SyntaxError", tt.name, tt.record, err)
			continue
		}
		if se.Pos != tt.pos || se.Term != tt.term || !strings.Contains(se.Reason, tt.reason) {
			t.Errorf("%s: Parse(%q):\n got pos %d term %q: %s\nwant pos %d term %q: …%s…", tt.name, tt.record, se.Pos, se.Term, se.Reason, tt.pos, tt.term, tt.reason)
		}
	}
}

func TestParseNotSPF(t *testing.T) {
	for _, s := range []string{"", "v=spf10 -all", "v=DMARC1; p=none", "spf1 -all"} {
		if _, err := Parse(s); !errors.Is(err, ErrNotSPF) {
			t.Errorf("Parse(%q) = %v, want ErrNotSPF", s, err)
		}
	}
}

// TestErrorsAll: Errors reports every bad term, for a diagnosis, and
// Parse still returns the good ones.
func TestErrorsAll(t *testing.T) {
	const record = "v=spf1 a:foo-bar ip4:1.2.3.4 moo -all ip4:300.1.1.1"
	errs := Errors(record)
	var terms []string
	for _, e := range errs {
		terms = append(terms, e.Term)
	}
	if got, want := strings.Join(terms, " "), "a:foo-bar moo ip4:300.1.1.1"; got != want {
		t.Errorf("Errors: %q, want %q", got, want)
	}
	rec, err := Parse(record)
	if err == nil || rec == nil || len(rec.Terms) != 2 {
		t.Errorf("Parse: %v, %v", rec, err)
	}
}

func TestRecordLookups(t *testing.T) {
	for _, tt := range []struct {
		record string
		want   int
	}{
		{"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all exp=explain.example.com", 0}, // §4.6.4: these cost nothing
		{"v=spf1 a mx ptr exists:%{i}.x.example.com include:a.example.com redirect=b.example.com", 6},
		{"v=spf1 include:a.example.com -all redirect=b.example.com", 1}, // §6.1: redirect ignored with all
	} {
		rec, err := Parse(tt.record)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Lookups(); got != tt.want {
			t.Errorf("Lookups(%q) = %d, want %d", tt.record, got, tt.want)
		}
	}
}

// TestMacroExamples expands the examples of RFC 7208 §7.4.
func TestMacroExamples(t *testing.T) {
	c4 := newChecker(nil, netip.MustParseAddr("192.0.2.3"), "email.example.com", "strong-bad@email.example.com", "mx.example.org")
	c6 := newChecker(nil, netip.MustParseAddr("2001:db8::cb01"), "email.example.com", "strong-bad@email.example.com", "mx.example.org")
	for _, tt := range []struct {
		c     *checker
		macro string
		want  string
	}{
		{c4, "%{s}", "strong-bad@email.example.com"},
		{c4, "%{o}", "email.example.com"},
		{c4, "%{d}", "email.example.com"},
		{c4, "%{d4}", "email.example.com"},
		{c4, "%{d3}", "email.example.com"},
		{c4, "%{d2}", "example.com"},
		{c4, "%{d1}", "com"},
		{c4, "%{dr}", "com.example.email"},
		{c4, "%{d2r}", "example.email"},
		{c4, "%{l}", "strong-bad"},
		{c4, "%{l-}", "strong.bad"},
		{c4, "%{lr}", "strong-bad"},
		{c4, "%{lr-}", "bad.strong"},
		{c4, "%{l1r-}", "strong"},
		{c4, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
		{c4, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
		{c4, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
		{c4, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
		{c4, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
		{c6, "%{ir}.%{v}._spf.%{d2}", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
		// §7.3: upper case is URL-escaped; %% %_ %- (§7.1).
		{c4, "%{S}", "strong-bad%40email.example.com"},
		{c4, "%%%_%-", "% %20"},
		{c4, "%{h}", "mx.example.org"},
		{c6, "%{c}", "2001:db8::cb01"},
		{c4, "%{d999}", "email.example.com"},
		{c4, "%{l+-}", "strong.bad"},
	} {
		ms, err := parseMacroString(tt.macro, true)
		if err != nil {
			t.Errorf("%s: %v", tt.macro, err)
			continue
		}
		got, err := ms.expand(env{c: tt.c, domain: "email.example.com"})
		if err != nil || got != tt.want {
			t.Errorf("%s with %s = %q (%v), want %q", tt.macro, tt.c.ip, got, err, tt.want)
		}
	}
}
