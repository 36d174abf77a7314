package dmarcsum

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/store"
)

// TestCategorize is the category table: the first that applies.
func TestCategorize(t *testing.T) {
	for _, tc := range []struct {
		dkim, spf, known bool
		want             Category
	}{
		{true, true, true, Authorized},
		{true, true, false, Authorized}, // authorized by its results; unverified is a separate flag
		{true, false, false, Forwarded}, // DKIM survives forwarding, SPF does not (RFC 7960 §3.1.1)
		{true, false, true, PartiallyAuthorized},
		{false, true, false, PartiallyAuthorized},
		{false, true, true, PartiallyAuthorized},
		{false, false, true, Failing},
		{false, false, false, Failing},
	} {
		if got := Categorize(tc.dkim, tc.spf, tc.known); got != tc.want {
			t.Errorf("Categorize(dkim %v, spf %v, known %v) = %s, want %s", tc.dkim, tc.spf, tc.known, got, tc.want)
		}
	}
}

func builtin(t *testing.T) *Services {
	t.Helper()
	s, err := BuiltinServices()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServices(t *testing.T) {
	s := builtin(t)
	for rdns, want := range map[string]string{
		"mail-sor-f41.google.com":                     "Google",
		"mail-yw1-f170.google.com.":                   "Google",
		"MAIL-EOPBGR.OUTBOUND.PROTECTION.OUTLOOK.COM": "Microsoft",
		"o1.ptr1234.sendgrid.net":                     "SendGrid",
		"mail132-5.atl131.mcsv.net":                   "Mailchimp",
		"mail9.mandrillapp.com":                       "Mailchimp",
		"a48-93.smtp-out.amazonses.com":               "Amazon SES",
		"m42-8.mailgun.net":                           "Mailgun",
		"mta10.mtasv.net":                             "Postmark",
		"mta-233-12.sparkpostmail.com":                "SparkPost",
		"mta.s7.exacttarget.com":                      "Salesforce",
		"outbound.zendesk.com":                        "Zendesk",
		"sonic316-20.consmr.mail.ne1.yahoo.com":       "Yahoo",
		"f123.i.mail.ru":                              "Mail.ru",
		"google.com":                                  "", // the pattern wants a label in front
		"notgoogle.com":                               "",
		"google.com.evil.example":                     "",
		"":                                            "",
	} {
		if got := s.Match(rdns); got != want {
			t.Errorf("Match(%q) = %q, want %q", rdns, got, want)
		}
	}
	user, err := ParseServices([]byte(`
[[service]]
name = "Billing platform"
rdns = ["*.billing.example.net", "smtp.google.com"]
`), "user.toml")
	if err != nil {
		t.Fatal(err)
	}
	s2 := s.With(user)
	if got := s2.Match("out1.billing.example.net"); got != "Billing platform" {
		t.Errorf("user service: %q", got)
	}
	if got := s2.Match("smtp.google.com"); got != "Billing platform" {
		t.Errorf("the user's list is tried first: %q", got)
	}
	if got := s.Match("out1.billing.example.net"); got != "" {
		t.Errorf("With changed the built-in list: %q", got)
	}
	for _, bad := range []string{
		`[[service]]
rdns = ["*.x.example"]`,
		`[[service]]
name = "x"`,
		`[[service]]
name = "x"
rdns = ["*"]`,
		`[[service]]
name = "x"
rdns = ["mta[1-3].example.com"]`,
		`[[service]]
name = "x"
rdns = ["*.x.example"]
pattern = "y"`,
		`[[service]
name = "x"`,
	} {
		if _, err := ParseServices([]byte(bad), "bad.toml"); err == nil || !strings.HasPrefix(err.Error(), "bad.toml") {
			t.Errorf("ParseServices(%q) = %v, want an error naming the file", bad, err)
		}
	}
}

func TestKnown(t *testing.T) {
	svc := builtin(t)
	k, err := ParseKnown(strings.NewReader(`# our senders
ip 192.0.2.10
ip 198.51.100.0/24   # the MTA pool
2001:db8:5::/48
203.0.113.9
::ffff:192.0.2.128/121
rdns *.mta.example.com
RDNS mail.example.net.
service sendgrid
service Amazon SES

`), "known.txt", svc)
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 9 {
		t.Errorf("Len() = %d, want 9", k.Len())
	}
	for _, tc := range []struct {
		ip, rdns, service string
		want              bool
	}{
		{"192.0.2.10", "", "", true},
		{"192.0.2.11", "", "", false},
		{"198.51.100.250", "", "", true},
		{"::ffff:198.51.100.1", "", "", true},
		{"2001:db8:5:1::25", "", "", true},
		{"2001:db8:6::25", "", "", false},
		{"203.0.113.9", "", "", true},
		{"192.0.2.130", "", "", true}, // the mapped /121 is 192.0.2.128/25
		{"192.0.2.100", "", "", false},
		{"203.0.113.1", "out3.mta.example.com", "", true},
		{"203.0.113.1", "mta.example.com", "", false},
		{"203.0.113.1", "MAIL.example.net", "", true},
		{"203.0.113.1", "o1.ptr1.sendgrid.net", "SendGrid", true},
		{"203.0.113.1", "a1.amazonses.com", "Amazon SES", true},
		{"203.0.113.1", "mail-x.google.com", "Google", false},
	} {
		if got := k.Has(netip.MustParseAddr(tc.ip), tc.rdns, tc.service); got != tc.want {
			t.Errorf("Has(%s, %q, %q) = %v, want %v", tc.ip, tc.rdns, tc.service, got, tc.want)
		}
	}
	var nilKnown *Known
	if nilKnown.Has(netip.MustParseAddr("192.0.2.10"), "", "") || nilKnown.Len() != 0 {
		t.Error("a nil list declares something")
	}
	for _, tc := range []struct{ in, want string }{
		{"ip\n", "known.txt:1: ip takes one address"},
		{"\n\nip 192.0.2.300\n", `known.txt:3: "192.0.2.300" is not an address`},
		{"ip 192.0.2.0/33", "known.txt:1:"},
		{"ip ::ffff:192.0.2.0/64", "mixes IPv4-mapped"},
		{"rdns *", "matches every name"},
		{"rdns a b", "rdns takes one name"},
		{"service Sendgird", `no service "Sendgird"`},
		{"service", "service takes"},
		{"host mail.example.com", `"host": want an entry`},
		{"mail.example.com", `"mail.example.com": want an entry`},
	} {
		_, err := ParseKnown(strings.NewReader(tc.in), "known.txt", svc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseKnown(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

var (
	ipGoogle = netip.MustParseAddr("209.85.220.41")
	ipESP    = netip.MustParseAddr("198.51.100.7")
	ipFwd    = netip.MustParseAddr("2001:db8::25")
	ipBad    = netip.MustParseAddr("203.0.113.66")
	ipMixed  = netip.MustParseAddr("192.0.2.55")
)

func stats() []store.SourceStat {
	return []store.SourceStat{
		{IP: ipGoogle, RDNS: "mail-sor-f41.google.com", Messages: 14, SPFAlignedPass: 14, DKIMAlignedPass: 14, DMARCPass: 14, BothPass: 14, Reports: 2},
		{IP: ipESP, RDNS: "o7.ptr1234.sendgrid.net", Messages: 8, SPFAlignedPass: 0, DKIMAlignedPass: 8, DMARCPass: 8, DKIMOnly: 8, Reports: 2},
		{IP: ipFwd, RDNS: "mx.forwarder.example", Messages: 6, DKIMAlignedPass: 6, DMARCPass: 6, DKIMOnly: 6, Reports: 1},
		{IP: ipMixed, Messages: 6, SPFAlignedPass: 3, DKIMAlignedPass: 3, DMARCPass: 3, BothPass: 3, NonePass: 3, Quarantined: 3, Reports: 1},
		{IP: ipBad, Messages: 4, NonePass: 4, Rejected: 2, Quarantined: 1, Reports: 2},
	}
}

func TestBuild(t *testing.T) {
	svc := builtin(t)
	known, err := ParseKnown(strings.NewReader("service SendGrid\nip 192.0.2.0/24\n"), "k", svc)
	if err != nil {
		t.Fatal(err)
	}
	days := []store.DMARCDay{{Day: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Reports: 2, Messages: 38, DMARCPass: 31}}
	tls := []store.TLSPolicyStat{{Domain: "example.com", PolicyType: "sts", Reports: 1, Successes: 10, Failures: 2, TopFailures: []store.TLSFailureCount{{ResultType: "certificate-expired", Sessions: 2}}}}
	s := Build(Options{Domain: "example.com", Services: svc, Known: known}, store.DMARCCounts{Reports: 3, Messages: 38, Failures: 1}, stats(), days, tls)

	type row struct {
		service    string
		cat        Category
		unverified bool
	}
	want := map[netip.Addr]row{
		ipGoogle: {"Google", Authorized, true},             // passes, not declared
		ipESP:    {"SendGrid", PartiallyAuthorized, false}, // declared: DKIM only is not forwarding
		ipFwd:    {"", Forwarded, true},
		ipMixed:  {"", Failing, false}, // half failing; declared, so not unverified
		ipBad:    {"", Failing, false},
	}
	for _, src := range s.Sources {
		w := want[src.IP]
		got := row{src.Service, src.Category, src.Unverified}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", src.IP, got, w)
		}
	}
	if s.Reports != 3 || s.Messages != 38 || s.DMARCPass != 31 || s.SPFAlignedPass != 17 || s.DKIMAlignedPass != 31 || s.Failures != 1 || s.Declared != 2 {
		t.Errorf("summary counts %+v", s)
	}
	// Without a declared list every passing source is unverified, and
	// SendGrid's DKIM-only mail reads as forwarded.
	s = Build(Options{Services: svc}, store.DMARCCounts{}, stats(), nil, nil)
	if s.Sources[1].Category != Forwarded || !s.Sources[1].Unverified || s.Declared != -1 {
		t.Errorf("no list: %+v, declared %d", s.Sources[1], s.Declared)
	}
	if s.Sources[3].Unverified != true {
		t.Errorf("a source with some passing mail, no list: %+v", s.Sources[3])
	}

	groups := Build(Options{Services: svc}, store.DMARCCounts{}, stats(), nil, nil).Groups(0)
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	if want := []string{"Google", "SendGrid", "forwarder.example", "no reverse DNS"}; !reflect.DeepEqual(names, want) {
		t.Errorf("groups %q, want %q", names, want)
	}
	if g := groups[len(groups)-1]; len(g.Sources) != 2 || g.Messages != 10 || g.DMARCPass != 3 {
		t.Errorf("no-rDNS group %+v", g)
	}
}

// TestJSONShape: the JSON is exactly the documented fields, with empty
// lists as [] (scripts index them), never null.
func TestJSONShape(t *testing.T) {
	svc := builtin(t)
	st := stats()[:1]
	st[0].Quarantined, st[0].Rejected = 1, 2
	s := Build(Options{Services: svc}, store.DMARCCounts{Reports: 3, Failures: 2}, st,
		[]store.DMARCDay{{Day: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Reports: 3, Messages: 14, DMARCPass: 14}},
		[]store.TLSPolicyStat{{Domain: "example.com", PolicyType: "sts", Reports: 1, Successes: 5}})
	var b bytes.Buffer
	if err := JSON(&b, s); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"reports":         3.0,
		"failure_reports": 2.0,
		"sources": []any{map[string]any{"ip": "209.85.220.41", "rdns": "mail-sor-f41.google.com", "service": "Google", "messages": 14.0,
			"spf_aligned_pass": 14.0, "dkim_aligned_pass": 14.0, "dmarc_pass": 14.0, "quarantined": 1.0, "rejected": 2.0,
			"category": "authorized", "unverified": true}},
		"tls":  []any{map[string]any{"domain": "example.com", "policy_type": "sts", "reports": 1.0, "successes": 5.0, "failures": 0.0, "top_failures": []any{}}},
		"days": []any{map[string]any{"day": "2026-03-02", "reports": 3.0, "messages": 14.0, "dmarc_pass": 14.0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON:\n%s", b.String())
	}
	b.Reset()
	if err := JSON(&b, Build(Options{}, store.DMARCCounts{}, nil, nil, nil)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(b.String()), ""); got != `{"reports":0,"failure_reports":0,"sources":[],"tls":[],"days":[]}` {
		t.Errorf("empty summary: %s", got)
	}
}

func sample(t *testing.T) *Summary {
	svc := builtin(t)
	var days []store.DMARCDay
	for i := range 40 {
		days = append(days, store.DMARCDay{Day: time.Date(2026, 2, 1+i, 0, 0, 0, 0, time.UTC), Reports: 3, Messages: int64(100 + 10*i), DMARCPass: int64(90 + 5*i)})
	}
	days[7].Messages, days[7].DMARCPass = 0, 0
	tls := []store.TLSPolicyStat{{Domain: "example.com", PolicyType: "sts", Reports: 1, Successes: 10, Failures: 2, TopFailures: []store.TLSFailureCount{{ResultType: "certificate-expired", Sessions: 2}}}}
	st := stats()
	st[2].RDNS = `<script>alert("x")</script>.example`
	return Build(Options{Domain: "example.com", Since: days[0].Day, Until: days[len(days)-1].Day.Add(24 * time.Hour), Services: svc},
		store.DMARCCounts{Reports: 120, Messages: 38}, st, days, tls)
}

// TestHTMLWellFormed: the page parses as XML (void elements self-closed),
// escapes what came from reports and DNS, and draws the chart.
func TestHTMLWellFormed(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, sample(t), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(page, "<!DOCTYPE html>\n")))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
	}
	for _, want := range []string{"<svg", "<polyline", "2026-02-01", "certificate-expired", "SendGrid", "unverified", "&lt;script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "http://") && !strings.Contains(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("page has a script or fetches something")
	}
	if n := strings.Count(page, "<rect"); n != 40 {
		t.Errorf("%d bars, want 40", n)
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, sample(t), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"DMARC aggregate reports: example.com, UTC days from 2026-02-01 until 2026-03-12",
		"120 reports, 38 messages",
		"No declared list",
		"Google",
		"(no reverse DNS)",
		"2 sources",
		"3 quarantined",
		"1 quarantined, 2 rejected",
		"40 days, 2026-02-01 to 2026-03-12",
		"example.com  sts",
		"certificate-expired 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Color")
	}
	b.Reset()
	if err := Text(&b, Build(Options{}, store.DMARCCounts{}, nil, nil, nil), TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "mailtriage dmarc import") || !strings.Contains(b.String(), "None here.") {
		t.Errorf("empty summary:\n%s", b.String())
	}
}

func TestSummarize(t *testing.T) {
	r := fakeReader{}
	s, err := Summarize(context.Background(), r, Options{})
	if err != nil || s.Reports != 1 || len(s.Sources) != 5 {
		t.Fatalf("Summarize = %+v, %v", s, err)
	}
}

type fakeReader struct{}

func (fakeReader) DMARCSources(context.Context, store.DMARCQuery) ([]store.SourceStat, error) {
	return stats(), nil
}
func (fakeReader) DMARCDaily(context.Context, store.DMARCQuery) ([]store.DMARCDay, error) {
	return nil, nil
}
func (fakeReader) DMARCCounts(context.Context, store.DMARCQuery) (store.DMARCCounts, error) {
	return store.DMARCCounts{Reports: 1}, nil
}
func (fakeReader) TLSSummary(context.Context, store.TLSQuery) ([]store.TLSPolicyStat, error) {
	return nil, nil
}

// TestAppendSource: the hand-written encoding is encoding/json's, odd
// names included.
func TestAppendSource(t *testing.T) {
	for _, rdns := range []string{"", "mail-sor-f41.google.com", `a"b\c`, "<x>&", "caf\u00e9.example", "tab\there", "\xff"} {
		src := Source{IP: ipFwd, RDNS: rdns, Service: "Amazon SES", Messages: 12, SPFAlignedPass: 3, DKIMAlignedPass: 4, DMARCPass: 5,
			Quarantined: 6, Rejected: 1, Category: PartiallyAuthorized, Unverified: true}
		want, err := json.Marshal(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendSource(nil, &src); string(got) != string(want) {
			t.Errorf("rdns %q:\ngot  %s\nwant %s", rdns, got, want)
		}
	}
}

// TestGroupsTop: the cut listing keeps every service, the first top
// other groups, folds the rest, keeps the sources without a name last,
// and its totals still count everything.
func TestGroupsTop(t *testing.T) {
	var st []store.SourceStat
	add := func(ip string, rdns string, msgs int64) {
		st = append(st, store.SourceStat{IP: netip.MustParseAddr(ip), RDNS: rdns, Messages: msgs, NonePass: msgs})
	}
	add("192.0.2.1", "a.google.com", 100)
	add("192.0.2.2", "b.google.com", 90)
	add("192.0.2.3", "c.google.com", 80)
	add("192.0.2.4", "x.one.example", 70)
	add("192.0.2.5", "x.two.example", 60)
	add("192.0.2.6", "x.three.example", 50)
	add("192.0.2.7", "x.four.example", 40)
	add("192.0.2.8", "", 30)
	add("192.0.2.9", "", 20)
	add("192.0.2.10", "", 10)
	s := Build(Options{Services: builtin(t)}, store.DMARCCounts{Reports: 3}, st, nil, nil)
	g := s.Groups(2)
	type row struct {
		name   string
		listed int
		hidden int64
		msgs   int64
		folded bool
	}
	var got []row
	for _, x := range g {
		got = append(got, row{x.Name, len(x.Sources), x.Hidden, x.Messages, x.Folded})
	}
	want := []row{
		{"Google", 2, 1, 270, false},
		{"one.example", 1, 0, 70, false},
		{"two.example", 1, 0, 60, false},
		{"2 more domains", 0, 2, 90, true},
		{"no reverse DNS", 2, 1, 60, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Groups(2):\ngot  %+v\nwant %+v", got, want)
	}
	if n := len(s.Groups(0)); n != 6 {
		t.Errorf("Groups(0): %d groups, want 6", n)
	}
	var b bytes.Buffer
	Text(&b, s, TextOptions{Top: 2})
	for _, want := range []string{"(2 more domains)", "and 1 more", "4 sources of 10 not listed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := HTML(&b, s, HTMLOptions{Top: 2}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 more domains", "(2 sources)", "… and 1 more"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
}

// TestDayChartGaps: days without reports are gaps on the time axis, and
// the pass-rate line breaks there; reports decades apart are drawn side by
// side.
func TestDayChartGaps(t *testing.T) {
	days := []Day{{Day: "2026-03-01", Reports: 1, Messages: 10, DMARCPass: 9}, {Day: "2026-03-02", Reports: 1, Messages: 10, DMARCPass: 8},
		{Day: "2026-03-05", Reports: 1, Messages: 10, DMARCPass: 10}, {Day: "2026-03-06", Reports: 1, Messages: 5, DMARCPass: 5}}
	svg := dayChart(days)
	if n := strings.Count(svg, "<rect"); n != 4 {
		t.Errorf("%d bars, want 4", n)
	}
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Errorf("%d line segments, want 2 (broken at the missing days)", n)
	}
	if len(denseDays(days)) != 6 {
		t.Errorf("denseDays: %d days, want 6", len(denseDays(days)))
	}
	far := []Day{{Day: "1979-08-07", Messages: 1}, {Day: "2019-02-10", Messages: 1}}
	if n := len(denseDays(far)); n != 2 {
		t.Errorf("days 40 years apart: %d, want 2", n)
	}
}

// TestSourceCategory: a source's category holds for all its messages (the
// issue's "the first that applies"), never for its largest part.
func TestSourceCategory(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		both, dkim, spf, none int64
		known                 bool
		want                  Category
	}{
		{"49% failing is not authorized", 51, 0, 0, 49, true, Failing},
		{"one failing message of many", 9999, 0, 0, 1, true, Failing},
		{"all both", 10, 0, 0, 0, false, Authorized},
		{"all DKIM only, undeclared", 0, 6, 0, 0, false, Forwarded},
		{"all DKIM only, declared", 0, 6, 0, 0, true, PartiallyAuthorized},
		{"both and DKIM only, undeclared", 4, 6, 0, 0, false, PartiallyAuthorized},
		{"SPF only", 0, 0, 3, 0, false, PartiallyAuthorized},
		{"no messages", 0, 0, 0, 0, false, Failing},
	} {
		if got := SourceCategory(tc.both, tc.dkim, tc.spf, tc.none, tc.known); got != tc.want {
			t.Errorf("%s: SourceCategory = %s, want %s", tc.name, got, tc.want)
		}
	}
	// A source whose messages all fall in one record's case has that
	// record's category.
	for _, known := range []bool{false, true} {
		for _, c := range []struct {
			dkim, spf          bool
			both, dk, sp, none int64
		}{{true, true, 1, 0, 0, 0}, {true, false, 0, 1, 0, 0}, {false, true, 0, 0, 1, 0}, {false, false, 0, 0, 0, 1}} {
			if got, want := SourceCategory(c.both, c.dk, c.sp, c.none, known), Categorize(c.dkim, c.spf, known); got != want {
				t.Errorf("dkim %v spf %v known %v: source %s, record %s", c.dkim, c.spf, known, got, want)
			}
		}
	}
	// And the summary shows it with its pass rate.
	s := Build(Options{}, store.DMARCCounts{Reports: 1, Messages: 100},
		[]store.SourceStat{{IP: ipMixed, Messages: 100, SPFAlignedPass: 51, DKIMAlignedPass: 51, DMARCPass: 51, BothPass: 51, NonePass: 49, Reports: 1}}, nil, nil)
	var b bytes.Buffer
	if err := Text(&b, s, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`51\.0%\s+failing`).MatchString(b.String()) {
		t.Errorf("no pass rate beside the category:\n%s", b.String())
	}
}

// TestAxisTicks: round steps, 1, 2 or 5 times a power of ten, that cover
// the largest day.
func TestAxisTicks(t *testing.T) {
	for _, tc := range []struct {
		most  int64
		step  float64
		ticks int
	}{
		{19258, 5000, 4}, // was 4,814 a tick
		{100, 50, 2},
		{7, 2, 4},
		{1, 1, 1},
		{0, 1, 4},
		{1_000_000, 250_000 * 2, 2},
	} {
		step, ticks := axisTicks(tc.most)
		if step != tc.step || ticks != tc.ticks {
			t.Errorf("axisTicks(%d) = %v, %d; want %v, %d", tc.most, step, ticks, tc.step, tc.ticks)
		}
		if float64(ticks)*step < float64(tc.most) {
			t.Errorf("axisTicks(%d) stops short", tc.most)
		}
	}
}

// TestTextTotalsAndNames: the grand total stands apart from the last
// group's, and names from reports or the DNS cannot drive the terminal.
func TestTextTotalsAndNames(t *testing.T) {
	st := stats()
	st[2].RDNS = "mx.\x1b]0;owned\x07forwarder.example"
	s := Build(Options{Services: builtin(t)}, store.DMARCCounts{Reports: 3, Messages: 38}, st, nil,
		[]store.TLSPolicyStat{{Domain: "evil\x1b[2J.example", PolicyType: "sts", Reports: 1, Successes: 1}})
	var b bytes.Buffer
	if err := Text(&b, s, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Errorf("control characters reached the output:\n%q", out)
	}
	if !strings.Contains(out, `\x1b]0;owned\x07`) || !strings.Contains(out, `evil\x1b[2J.example`) {
		t.Errorf("names not shown escaped:\n%s", out)
	}
	if !regexp.MustCompile(`\n\n  all sources\s+5 sources\s+38\s+17\s+31\s+81\.6%\n`).MatchString(out) {
		t.Errorf("no grand total line apart:\n%s", out)
	}
}

// TestNoReports: an empty store says to import; a filter that matches
// nothing says so, and not to import.
func TestNoReports(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		stored int64
		o      Options
		want   string
	}{
		{0, Options{}, "import them"},
		{0, Options{Domain: "example.com"}, "import them"},
		{5, Options{Domain: "example.net"}, "No aggregate reports match example.net"},
		{5, Options{Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, "No aggregate reports match all domains, UTC days from 2026-03-01"},
	} {
		s, err := Summarize(ctx, emptyFilter{stored: tc.stored}, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := Text(&b, s, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) || tc.stored > 0 && strings.Contains(b.String(), "import") {
			t.Errorf("%d stored, %+v:\n%s", tc.stored, tc.o, b.String())
		}
		b.Reset()
		if err := HTML(&b, s, HTMLOptions{}); err != nil || !strings.Contains(b.String(), tc.want) {
			t.Errorf("HTML, %d stored, %+v: %v", tc.stored, tc.o, err)
		}
	}
}

// emptyFilter holds stored reports, none of which a filtered query
// matches.
type emptyFilter struct {
	fakeReader
	stored int64
}

func (emptyFilter) DMARCSources(context.Context, store.DMARCQuery) ([]store.SourceStat, error) {
	return nil, nil
}

func (f emptyFilter) DMARCCounts(_ context.Context, q store.DMARCQuery) (store.DMARCCounts, error) {
	if q == (store.DMARCQuery{}) {
		return store.DMARCCounts{Reports: f.stored}, nil
	}
	return store.DMARCCounts{}, nil
}

// TestRentedPlatforms: a customer VM on Google Cloud, or a site on
// GoDaddy's shared hosting, is not Google or GoDaddy, and declaring
// Google does not declare them.
func TestRentedPlatforms(t *testing.T) {
	svc := builtin(t)
	known, err := ParseKnown(strings.NewReader("service Google\n"), "k", svc)
	if err != nil {
		t.Fatal(err)
	}
	for rdns, want := range map[string]string{
		"34.86.1.2.bc.googleusercontent.com":      "Google Cloud (customer VM)",
		"p3plcpnl0123.prod.phx3.secureserver.net": "GoDaddy (shared hosting)",
	} {
		got := svc.Match(rdns)
		if got != want {
			t.Errorf("Match(%q) = %q, want %q", rdns, got, want)
		}
		if known.Has(netip.MustParseAddr("192.0.2.9"), rdns, got) {
			t.Errorf("'service Google' declares %s", rdns)
		}
	}
}

// TestGroupsRentedHosts: the hosts of a cloud whose names sit under a
// suffix of the public suffix list's private section (Amazon EC2's
// compute-1.amazonaws.com, Azure's cloudapp.azure.com) are one group, the
// registrable domain under the ICANN section, not a group per host: the
// private section lists customers' names, and a PTR names the provider.
func TestGroupsRentedHosts(t *testing.T) {
	var st []store.SourceStat
	for i, rdns := range []string{
		"ec2-3-80-1-2.compute-1.amazonaws.com",
		"ec2-54-1-1-1.compute-1.amazonaws.com",
		"ec2-52-1-2-3.eu-west-1.compute.amazonaws.com",
		"vm1.westeurope.cloudapp.azure.com",
		"mail.example.co.uk",
	} {
		st = append(st, store.SourceStat{IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), RDNS: rdns, Messages: int64(10 - i), NonePass: int64(10 - i)})
	}
	s := Build(Options{Services: builtin(t)}, store.DMARCCounts{Reports: 1}, st, nil, nil)
	var got []string
	for _, g := range s.Groups(0) {
		got = append(got, fmt.Sprintf("%s:%d", g.Name, len(g.Sources)))
	}
	if want := []string{"amazonaws.com:3", "azure.com:1", "example.co.uk:1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups %q, want %q", got, want)
	}
}

// TestNoReportsSaysWhatWasAsked: the empty summary names only the filters
// given: no domain was asked for, so it speaks of the days alone.
func TestNoReportsSaysWhatWasAsked(t *testing.T) {
	day := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    Summary
		want string
	}{
		{Summary{Since: day}, "none for those days."},
		{Summary{Domain: "example.com"}, "none for that domain."},
		{Summary{Domain: "example.com", Since: day}, "none for that domain and those days."},
		{Summary{StoreEmpty: true}, "import them with 'mailtriage dmarc import'."},
	} {
		if got := tc.s.NoReports(); !strings.HasSuffix(got, tc.want) {
			t.Errorf("%+v: %q, want it to end %q", tc.s, got, tc.want)
		}
	}
}
