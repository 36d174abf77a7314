// Package storetest is the conformance suite of package store: every
// backend runs it from its own tests (restic's shared backend tests are
// the model), so the callers can rely on the same answers from each.
//
// The suite checks what the interface promises: a re-imported report or
// re-appended batch adds nothing; one that fails half-way leaves nothing
// behind; the queries
// give exact sums on a small data set whose answers are worked out by hand
// in the comments; migrating again changes nothing.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/store"
	"github.com/mailtriage/mailtriage/tlsrpt"
)

// Suite runs the conformance tests against one backend.
type Suite struct {
	// New returns a new, empty store. The suite closes it.
	New func(t *testing.T) store.Store
	// Reopen closes s and opens the same data again, as a later run
	// would; nil skips the test of reopening.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// Run runs every test of the suite as a subtest of t.
func (s Suite) Run(t *testing.T) {
	tests := []struct {
		name string
		f    func(*testing.T, Suite)
	}{
		{"ReimportAddsNothing", testReimport},
		{"FailedReportLeavesNothing", testAtomic},
		{"InvalidReports", testInvalid},
		{"CountCap", testCountCap},
		{"Batch", testBatch},
		{"CancelledLeavesNothing", testCancelled},
		{"ConcurrentSameReport", testConcurrent},
		{"Sources", testSources},
		{"Daily", testDaily},
		{"ReportDay", testReportDay},
		{"Counts", testCounts},
		{"FailureReports", testFailures},
		{"TLS", testTLS},
		{"MigrateAgain", testMigrate},
		{"AppendEvents", testAppendEvents},
		{"FailedBatchLeavesNothing", testEventsAtomic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, s) })
	}
}

func (s Suite) open(t *testing.T) store.Store {
	t.Helper()
	st := s.New(t)
	t.Cleanup(func() { st.Close() })
	return st
}

func day(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }

var (
	ipGoogle = netip.MustParseAddr("209.85.220.41")
	ipESP    = netip.MustParseAddr("198.51.100.7")
	ipFwd    = netip.MustParseAddr("2001:db8::25")
	ipBad    = netip.MustParseAddr("203.0.113.66")
)

func rec(ip netip.Addr, count int64, dkim, spf, disp string) dmarcreport.Record {
	return dmarcreport.Record{
		SourceIP: ip, Count: count, DKIM: dkim, SPF: spf, Disposition: disp,
		HeaderFrom: "example.com", EnvelopeFrom: "bounce.example.com",
		DKIMResults: []dmarcreport.DKIMResult{{Domain: "example.com", Selector: "s1", Result: dkim}},
		SPFResults:  []dmarcreport.SPFResult{{Domain: "bounce.example.com", Scope: "mfrom", Result: spf}},
	}
}

func report(org, id, domain string, begin time.Time, records ...dmarcreport.Record) *dmarcreport.Aggregate {
	return &dmarcreport.Aggregate{
		Org: org, ReportID: id, Email: "noreply@" + org,
		Begin: begin, End: begin.Add(24*time.Hour - time.Second),
		Policy:  dmarcreport.PublishedPolicy{Domain: domain, P: "reject", ADKIM: "r", ASPF: "r"},
		Records: records,
	}
}

// dataset is the small known data set. By hand, for example.com over all
// days:
//
//	ipGoogle: r1 10 both pass + r3 4 both pass            = 14, both 14, reports 2
//	ipESP:    r1 5 dkim only (1 record) + r2 3 spf only   = 8, dkim 5, spf 3, reports 2
//	ipFwd:    r2 6 dkim only, quarantine 0                = 6, dkim 6, reports 1
//	ipBad:    r1 2 fail reject + r2 1 fail quarantine + r2 1 fail none
//	          = 4, none 4, rejected 2, quarantined 1, reports 2
//
// example.org (r4) has ipBad 7 failing, rejected.
func dataset() []*dmarcreport.Aggregate {
	return []*dmarcreport.Aggregate{
		report("google.com", "r1", "example.com", day(2),
			rec(ipGoogle, 10, "pass", "pass", "none"),
			rec(ipESP, 5, "pass", "fail", "none"),
			rec(ipBad, 2, "fail", "fail", "reject")),
		report("Yahoo! Inc.", "r2", "Example.COM", day(2),
			rec(ipESP, 3, "fail", "Pass", "none"),
			rec(ipFwd, 6, "pass", "fail", "none"),
			rec(ipBad, 1, "fail", "fail", "quarantine"),
			rec(ipBad, 1, "fail", "fail", "none")),
		report("google.com", "r3", "example.com", day(3),
			rec(ipGoogle, 4, "pass", "pass", "none")),
		report("google.com", "r4", "example.org", day(3),
			rec(ipBad, 7, "fail", "fail", "reject")),
	}
}

var names = map[netip.Addr]string{ipGoogle: "mail-sor-f41.google.com", ipESP: "o7.ptr1234.sendgrid.net"}

func load(t *testing.T, st store.Store) {
	t.Helper()
	for _, r := range dataset() {
		added, err := st.PutAggregateReport(context.Background(), r, names)
		if err != nil || !added {
			t.Fatalf("PutAggregateReport(%s) = %v, %v; want added", r.ReportID, added, err)
		}
	}
}

func sources(t *testing.T, st store.Store, q store.DMARCQuery) []store.SourceStat {
	t.Helper()
	got, err := st.DMARCSources(context.Background(), q)
	if err != nil {
		t.Fatalf("DMARCSources(%+v): %v", q, err)
	}
	return got
}

func counts(t *testing.T, st store.Store, q store.DMARCQuery) store.DMARCCounts {
	t.Helper()
	got, err := st.DMARCCounts(context.Background(), q)
	if err != nil {
		t.Fatalf("DMARCCounts(%+v): %v", q, err)
	}
	return got
}

func testReimport(t *testing.T, s Suite) {
	st := s.open(t)
	load(t, st)
	before := sources(t, st, store.DMARCQuery{})
	for _, r := range dataset() {
		added, err := st.PutAggregateReport(context.Background(), r, nil)
		if err != nil || added {
			t.Errorf("re-import of %s = %v, %v; want not added, no error", r.ReportID, added, err)
		}
	}
	if after := sources(t, st, store.DMARCQuery{}); !reflect.DeepEqual(before, after) {
		t.Errorf("re-import changed the sources:\nbefore %+v\nafter  %+v", before, after)
	}
	if c := counts(t, st, store.DMARCQuery{}); c.Reports != 4 {
		t.Errorf("reports after re-import = %d, want 4", c.Reports)
	}
	// The key is the 5-tuple: the same id from another reporter, or for
	// another day, is another report (report ids collide across reporters).
	r := dataset()[2]
	r.Org = "outlook.com"
	if added, err := st.PutAggregateReport(context.Background(), r, nil); err != nil || !added {
		t.Errorf("same id, other reporter = %v, %v; want added", added, err)
	}
}

// testAtomic makes the 37th record's write fail (a negative count), after
// the ledger row and the records before it were written (a backend may
// write them in batches; 36 records make at least one batch go before the
// failing one), and checks nothing of the report stays.
func testAtomic(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	bad := report("google.com", "half", "example.com", day(4))
	for i := range 40 {
		bad.Records = append(bad.Records, rec(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 5, "pass", "pass", "none"))
	}
	bad.Records[36].Count = -1
	added, err := st.PutAggregateReport(ctx, bad, names)
	if err == nil || added {
		t.Fatalf("report with a count of -1 = %v, %v; want an error", added, err)
	}
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("error %v does not wrap store.ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), "37") {
		t.Errorf("error %v does not name record 37", err)
	}
	if got := sources(t, st, store.DMARCQuery{}); len(got) != 0 {
		t.Errorf("a failed report left sources: %+v", got)
	}
	if c := counts(t, st, store.DMARCQuery{}); c != (store.DMARCCounts{}) {
		t.Errorf("a failed report left counts: %+v", c)
	}
	if days, err := st.DMARCDaily(ctx, store.DMARCQuery{}); err != nil || len(days) != 0 {
		t.Errorf("a failed report left days: %+v, %v", days, err)
	}
	// Nothing of the ledger stayed either: the corrected report goes in.
	bad.Records[36].Count = 1
	if added, err := st.PutAggregateReport(ctx, bad, names); err != nil || !added {
		t.Fatalf("corrected report = %v, %v; want added", added, err)
	}
	if c := counts(t, st, store.DMARCQuery{}); c.Reports != 1 || c.Messages != 196 {
		t.Errorf("counts = %+v, want 1 report, 196 messages", c)
	}
	if got := sources(t, st, store.DMARCQuery{}); len(got) != 40 {
		t.Errorf("%d sources, want 40", len(got))
	}
}

// testBatch: a batch keeps its good reports, refuses its bad one alone
// (its 37th record fails after 36 were written), and skips duplicates,
// also of a report earlier in the same batch.
func testBatch(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	bad := report("google.com", "half", "example.com", day(4))
	for i := range 40 {
		bad.Records = append(bad.Records, rec(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 5, "pass", "pass", "none"))
	}
	bad.Records[36].Count = -1
	reversed := report("google.com", "rev", "example.com", day(5))
	reversed.Begin, reversed.End = reversed.End, reversed.Begin
	ds := dataset()
	batch := []store.AggregateInput{
		{Report: ds[0], RDNS: names}, {Report: bad}, {Report: ds[1], RDNS: names}, {Report: ds[0]}, {Report: reversed},
		{Report: ds[2], RDNS: names}, {Report: ds[3], RDNS: names},
	}
	res, err := st.PutAggregateReports(ctx, batch)
	if err != nil || len(res) != len(batch) {
		t.Fatalf("PutAggregateReports = %v, %v", res, err)
	}
	for i, want := range []struct {
		added, invalid bool
	}{{true, false}, {false, true}, {true, false}, {false, false}, {false, true}, {true, false}, {true, false}} {
		if res[i].Added != want.added || errors.Is(res[i].Err, store.ErrInvalid) != want.invalid || (!want.invalid && res[i].Err != nil) {
			t.Errorf("result %d = %+v, want added %v, invalid %v", i, res[i], want.added, want.invalid)
		}
	}
	// The data set, and nothing of the refused reports.
	if c := counts(t, st, store.DMARCQuery{}); c.Reports != 4 || c.Messages != 39 {
		t.Errorf("counts %+v, want the data set's 4 reports, 39 messages", c)
	}
	if got := sources(t, st, store.DMARCQuery{}); len(got) != 4 {
		t.Errorf("%d sources, want the data set's 4", len(got))
	}
	if res, err := st.PutAggregateReports(ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("an empty batch = %v, %v", res, err)
	}
}

func testInvalid(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	reversed := report("google.com", "rev", "example.com", day(5), rec(ipGoogle, 1, "pass", "pass", "none"))
	reversed.Begin, reversed.End = reversed.End, reversed.Begin
	noAddr := report("google.com", "noaddr", "example.com", day(5), rec(ipGoogle, 1, "pass", "pass", "none"), rec(netip.Addr{}, 1, "pass", "pass", "none"))
	for _, r := range []*dmarcreport.Aggregate{reversed, noAddr, nil} {
		added, err := st.PutAggregateReport(ctx, r, nil)
		if added || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutAggregateReport(%v) = %v, %v; want ErrInvalid", r, added, err)
		}
	}
	if c := counts(t, st, store.DMARCQuery{}); c != (store.DMARCCounts{}) {
		t.Errorf("invalid reports left counts: %+v", c)
	}
	tr := tlsReport("bad", day(5))
	tr.Policies[0].Failures[0].Sessions = -3
	if added, err := st.PutTLSReport(ctx, tr); added || !errors.Is(err, store.ErrInvalid) {
		t.Errorf("TLS report with -3 sessions = %v, %v; want ErrInvalid", added, err)
	}
	if got, err := st.TLSSummary(ctx, store.TLSQuery{}); err != nil || len(got) != 0 {
		t.Errorf("a failed TLS report left %+v, %v", got, err)
	}
}

// testCountCap: a count above store.MaxCount is refused, and counts at
// the cap add up exactly, with no overflow in any sum.
func testCountCap(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	over := report("google.com", "over", "example.com", day(5), rec(ipGoogle, 1, "pass", "pass", "none"), rec(ipBad, store.MaxCount+1, "fail", "fail", "none"))
	if added, err := st.PutAggregateReport(ctx, over, nil); added || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "record 2") {
		t.Errorf("a record counting MaxCount+1 = %v, %v; want ErrInvalid naming record 2", added, err)
	}
	tr := tlsReport("over", day(5))
	tr.Policies[1].Success = store.MaxCount + 1
	if added, err := st.PutTLSReport(ctx, tr); added || !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a TLS policy counting MaxCount+1 sessions = %v, %v; want ErrInvalid", added, err)
	}
	const n = 3
	for i := range n {
		r := report("google.com", fmt.Sprintf("max%d", i), "example.com", day(5),
			rec(ipBad, store.MaxCount, "fail", "fail", "reject"), rec(ipGoogle, store.MaxCount, "pass", "pass", "none"))
		if added, err := st.PutAggregateReport(ctx, r, nil); err != nil || !added {
			t.Fatalf("a report at MaxCount = %v, %v", added, err)
		}
		tr := tlsReport(fmt.Sprintf("max%d", i), day(5))
		tr.Policies[1].Success = store.MaxCount
		if added, err := st.PutTLSReport(ctx, tr); err != nil || !added {
			t.Fatalf("a TLS report at MaxCount = %v, %v", added, err)
		}
	}
	const each = n * store.MaxCount
	got := sources(t, st, store.DMARCQuery{})
	want := []store.SourceStat{
		{IP: ipBad, Messages: each, NonePass: each, Rejected: each, Reports: n},
		{IP: ipGoogle, Messages: each, BothPass: each, SPFAlignedPass: each, DKIMAlignedPass: each, DMARCPass: each, Reports: n},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sources at MaxCount:\ngot  %+v\nwant %+v", got, want)
	}
	if c := counts(t, st, store.DMARCQuery{}); c.Messages != 2*each || c.Reports != n {
		t.Errorf("counts at MaxCount: %+v; want %d messages in %d reports", c, int64(2*each), n)
	}
	days, err := st.DMARCDaily(ctx, store.DMARCQuery{})
	if err != nil || len(days) != 1 || days[0].Messages != 2*each || days[0].DMARCPass != each {
		t.Errorf("days at MaxCount: %+v, %v", days, err)
	}
	tls, err := st.TLSSummary(ctx, store.TLSQuery{Domain: "example.org"})
	if err != nil || len(tls) != 1 || tls[0].Successes != each {
		t.Errorf("TLS at MaxCount: %+v, %v; want %d successes", tls, err, int64(each))
	}
}

func testCancelled(t *testing.T, s Suite) {
	st := s.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if added, err := st.PutAggregateReport(ctx, dataset()[0], names); err == nil || added {
		t.Errorf("cancelled PutAggregateReport = %v, %v; want an error", added, err)
	}
	if c := counts(t, st, store.DMARCQuery{}); c != (store.DMARCCounts{}) {
		t.Errorf("a cancelled import left counts: %+v", c)
	}
}

// testConcurrent: imports of the same report racing each other add it once.
func testConcurrent(t *testing.T, s Suite) {
	st := s.open(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for range 8 {
		wg.Go(func() {
			added, err := st.PutAggregateReport(context.Background(), dataset()[1], nil)
			if err != nil {
				t.Error(err)
			}
			if added {
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if n != 1 {
		t.Errorf("added %d times, want 1", n)
	}
	if got := sources(t, st, store.DMARCQuery{}); len(got) != 3 || got[0].Messages != 6 {
		t.Errorf("sources = %+v", got)
	}
}

func testSources(t *testing.T, s Suite) {
	st := s.open(t)
	load(t, st)
	google := store.SourceStat{IP: ipGoogle, RDNS: names[ipGoogle], Messages: 14, SPFAlignedPass: 14, DKIMAlignedPass: 14, DMARCPass: 14, BothPass: 14, Reports: 2}
	esp := store.SourceStat{IP: ipESP, RDNS: names[ipESP], Messages: 8, SPFAlignedPass: 3, DKIMAlignedPass: 5, DMARCPass: 8, DKIMOnly: 5, SPFOnly: 3, Reports: 2}
	fwd := store.SourceStat{IP: ipFwd, Messages: 6, DKIMAlignedPass: 6, DMARCPass: 6, DKIMOnly: 6, Reports: 1}
	bad := store.SourceStat{IP: ipBad, Messages: 4, NonePass: 4, Rejected: 2, Quarantined: 1, Reports: 2}
	check := func(q store.DMARCQuery, want ...store.SourceStat) {
		t.Helper()
		if got := sources(t, st, q); !reflect.DeepEqual(got, want) {
			t.Errorf("DMARCSources(%+v):\ngot  %+v\nwant %+v", q, got, want)
		}
	}
	check(store.DMARCQuery{Domain: "example.com"}, google, esp, fwd, bad)
	// The domain is matched without regard to case or a final dot.
	check(store.DMARCQuery{Domain: "EXAMPLE.com."}, google, esp, fwd, bad)
	// All domains: ipBad has example.org's 7 rejected too, and comes first.
	all := bad
	all.Messages, all.NonePass, all.Rejected, all.Reports = 11, 11, 9, 3
	check(store.DMARCQuery{}, google, all, esp, fwd)
	// Day 3 alone: r3 and r4; a time inside the day selects the day.
	g3 := store.SourceStat{IP: ipGoogle, RDNS: names[ipGoogle], Messages: 4, SPFAlignedPass: 4, DKIMAlignedPass: 4, DMARCPass: 4, BothPass: 4, Reports: 1}
	check(store.DMARCQuery{Domain: "example.com", Since: day(3).Add(15 * time.Hour), Until: day(4)}, g3)
	check(store.DMARCQuery{Domain: "example.com", Since: day(3), Until: day(3).Add(time.Hour)}, g3)
	// Until is exclusive at midnight: day 3 is not in [day 2, day 3).
	g2 := google
	g2.Messages, g2.SPFAlignedPass, g2.DKIMAlignedPass, g2.DMARCPass, g2.BothPass, g2.Reports = 10, 10, 10, 10, 10, 1
	check(store.DMARCQuery{Domain: "example.com", Until: day(3)}, g2, esp, fwd, bad)
	check(store.DMARCQuery{Domain: "example.net"})
	check(store.DMARCQuery{Since: day(9)})
}

func testDaily(t *testing.T, s Suite) {
	st := s.open(t)
	load(t, st)
	// An empty report still counts as a report of its day.
	if _, err := st.PutAggregateReport(context.Background(), report("empty.example", "e1", "example.com", day(5)), nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.DMARCDaily(context.Background(), store.DMARCQuery{Domain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DMARCDay{
		{Day: day(2), Reports: 2, Messages: 28, DMARCPass: 24},
		{Day: day(3), Reports: 1, Messages: 4, DMARCPass: 4},
		{Day: day(5), Reports: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DMARCDaily:\ngot  %+v\nwant %+v", got, want)
	}
	got, err = st.DMARCDaily(context.Background(), store.DMARCQuery{Since: day(3), Until: day(4)})
	if err != nil {
		t.Fatal(err)
	}
	want = []store.DMARCDay{{Day: day(3), Reports: 2, Messages: 11, DMARCPass: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DMARCDaily day 3, all domains:\ngot  %+v\nwant %+v", got, want)
	}
}

// testReportDay: a report counts on the UTC day that holds the middle of
// its period. Receivers east of UTC begin their day before midnight UTC
// (ikea.com's aggr_report_2018_10_05 runs from 2018-10-04T22:00Z, Mail.ru's
// from 21:00Z): by its beginning, every such report would count a day
// early. Those west of UTC begin it after midnight, on the right day.
func testReportDay(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	east := report("east.example", "e1", "example.com", day(3).Add(-2*time.Hour), rec(ipESP, 5, "pass", "pass", "none"))
	east.End = day(4).Add(-2 * time.Hour)
	west := report("west.example", "w1", "example.com", day(3).Add(5*time.Hour), rec(ipESP, 7, "pass", "fail", "none"))
	west.End = day(4).Add(5*time.Hour - time.Second)
	for _, r := range []*dmarcreport.Aggregate{east, west} {
		if _, err := st.PutAggregateReport(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.DMARCDaily(ctx, store.DMARCQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DMARCDay{{Day: day(3), Reports: 2, Messages: 12, DMARCPass: 12}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DMARCDaily:\ngot  %+v\nwant %+v", got, want)
	}
	if got := sources(t, st, store.DMARCQuery{Since: day(3), Until: day(4)}); len(got) != 1 || got[0].Messages != 12 {
		t.Errorf("the sources of day 3: %+v, want %s with 12 messages", got, ipESP)
	}
}

func testCounts(t *testing.T, s Suite) {
	st := s.open(t)
	load(t, st)
	for _, tc := range []struct {
		q    store.DMARCQuery
		want store.DMARCCounts
	}{
		{store.DMARCQuery{}, store.DMARCCounts{Reports: 4, Messages: 39}},
		{store.DMARCQuery{Domain: "example.com"}, store.DMARCCounts{Reports: 3, Messages: 32}},
		{store.DMARCQuery{Domain: "example.org", Since: day(3)}, store.DMARCCounts{Reports: 1, Messages: 7}},
		{store.DMARCQuery{Since: day(4)}, store.DMARCCounts{}},
	} {
		if got := counts(t, st, tc.q); got != tc.want {
			t.Errorf("DMARCCounts(%+v) = %+v, want %+v", tc.q, got, tc.want)
		}
	}
}

func failure(subject string, arrival time.Time) *dmarcreport.Failure {
	return &dmarcreport.Failure{
		FeedbackType: "auth-failure", Version: "1", Arrival: arrival, SourceIP: ipBad,
		ReportedDomain: "example.com", AuthFailure: []string{"dmarc"}, DeliveryResult: "reject",
		From: "ceo@example.com", Subject: subject, MessageID: "<" + subject + "@example.com>",
	}
}

func testFailures(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	for _, f := range []*dmarcreport.Failure{failure("a", day(2).Add(time.Hour)), failure("b", day(3).Add(time.Hour)), failure("c", day(3).Add(2*time.Hour))} {
		if added, err := st.PutFailureReport(ctx, f); err != nil || !added {
			t.Fatalf("PutFailureReport(%s) = %v, %v", f.Subject, added, err)
		}
	}
	if added, err := st.PutFailureReport(ctx, failure("b", day(3).Add(time.Hour))); err != nil || added {
		t.Errorf("the same failure report again = %v, %v; want not added", added, err)
	}
	// The report as a version that did not read Authentication-Results
	// and Original-Envelope-Id kept it is the same report: importing a
	// folder again after an upgrade adds nothing.
	again := failure("b", day(3).Add(time.Hour))
	again.AuthenticationResults = []string{"mx.example.net; dmarc=fail header.from=example.com"}
	again.OriginalEnvelopeID = "abc123"
	if added, err := st.PutFailureReport(ctx, again); err != nil || added {
		t.Errorf("the same failure report with its Authentication-Results = %v, %v; want not added", added, err)
	}
	// Reported-Domain is optional (RFC 5965 §3.2): without it, the report
	// is about the domain of the reported message's From, the domain DMARC
	// was evaluated for (RFC 7489 §3.1).
	noDomain := failure("d", day(3).Add(4*time.Hour))
	noDomain.ReportedDomain, noDomain.From = "", "ceo@Example.COM"
	if added, err := st.PutFailureReport(ctx, noDomain); err != nil || !added {
		t.Fatalf("a failure report without Reported-Domain = %v, %v; want added", added, err)
	}
	// Another arrival time is another report, though the message is the same.
	if added, err := st.PutFailureReport(ctx, failure("b", day(3).Add(3*time.Hour))); err != nil || !added {
		t.Errorf("a second report of the message = %v, %v; want added", added, err)
	}
	for _, tc := range []struct {
		q    store.DMARCQuery
		want int64
	}{
		{store.DMARCQuery{}, 5},
		{store.DMARCQuery{Domain: "example.com", Since: day(3)}, 4},
		{store.DMARCQuery{Domain: "example.org"}, 0},
		{store.DMARCQuery{Until: day(3)}, 1},
	} {
		if got := counts(t, st, tc.q).Failures; got != tc.want {
			t.Errorf("failures(%+v) = %d, want %d", tc.q, got, tc.want)
		}
	}
}

func tlsReport(id string, begin time.Time) *tlsrpt.Report {
	return &tlsrpt.Report{
		Org: "Google Inc.", Contact: "smtp-tls-reporting@google.com", ReportID: id,
		Begin: begin, End: begin.Add(24*time.Hour - time.Second),
		Policies: []tlsrpt.PolicyResult{
			{Type: "sts", Domain: "example.com", Strings: []string{"version: STSv1", "mode: enforce"}, MXHosts: []string{"mx1.example.com"},
				Success: 100, Failure: 5, Failures: []tlsrpt.FailureDetail{
					{ResultType: "certificate-expired", ReceivingMX: "mx1.example.com", Sessions: 3},
					{ResultType: "starttls-not-supported", ReceivingMX: "mx2.example.com", Sessions: 2},
				}},
			{Type: "no-policy-found", Domain: "example.org", Success: 40},
		},
	}
}

func testTLS(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	r2 := tlsReport("2026-03-03", day(3))
	r2.Policies[0].Failures[1].Sessions = 4
	r2.Policies[0].Failure = 6
	for _, r := range []*tlsrpt.Report{tlsReport("2026-03-02", day(2)), r2} {
		if added, err := st.PutTLSReport(ctx, r); err != nil || !added {
			t.Fatalf("PutTLSReport(%s) = %v, %v", r.ReportID, added, err)
		}
	}
	if added, err := st.PutTLSReport(ctx, tlsReport("2026-03-02", day(2))); err != nil || added {
		t.Errorf("TLS re-import = %v, %v; want not added", added, err)
	}
	got, err := st.TLSSummary(ctx, store.TLSQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.TLSPolicyStat{
		{Domain: "example.com", PolicyType: "sts", Reports: 2, Successes: 200, Failures: 11, TopFailures: []store.TLSFailureCount{
			{ResultType: "certificate-expired", Sessions: 6}, {ResultType: "starttls-not-supported", Sessions: 6}}},
		{Domain: "example.org", PolicyType: "no-policy-found", Reports: 2, Successes: 80},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TLSSummary:\ngot  %+v\nwant %+v", got, want)
	}
	got, err = st.TLSSummary(ctx, store.TLSQuery{Domain: "example.com", Since: day(3)})
	if err != nil {
		t.Fatal(err)
	}
	want = []store.TLSPolicyStat{{Domain: "example.com", PolicyType: "sts", Reports: 1, Successes: 100, Failures: 6, TopFailures: []store.TLSFailureCount{
		{ResultType: "starttls-not-supported", Sessions: 4}, {ResultType: "certificate-expired", Sessions: 3}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TLSSummary example.com since day 3:\ngot  %+v\nwant %+v", got, want)
	}
}

func testMigrate(t *testing.T, s Suite) {
	st := s.New(t)
	ctx := context.Background()
	load(t, st)
	for range 2 {
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	if err := st.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	if s.Reopen != nil {
		st = s.Reopen(t, st)
	}
	t.Cleanup(func() { st.Close() })
	if c := counts(t, st, store.DMARCQuery{}); c.Reports != 4 {
		t.Errorf("after migrating again and reopening, %d reports, want 4", c.Reports)
	}
	if added, err := st.PutAggregateReport(ctx, dataset()[0], nil); err != nil || added {
		t.Errorf("re-import after reopening = %v, %v; want not added", added, err)
	}
}

func at(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }

func event(kind mailtriage.Kind, status mailtriage.Status, lane string, t time.Time) mailtriage.Event {
	return mailtriage.Event{Kind: kind, Status: status, Time: t, Source: "postfix", Host: "mx1", QueueID: "4Q1", Recipient: "a@icloud.com",
		Domain: "icloud.com", Lane: lane, Verdict: mailtriage.Verdict{Class: mailtriage.Temporary, Reason: "blocked", Rule: "r1"}}
}

// events is a small incident. By hand:
//
//	apple 2026-03-02 10:00  attempts 4: delivered 1, deferred 3; expired 1
//	apple 2026-03-02 11:00  attempts 2: deferred 1, bounced 1
//	google 2026-03-02 10:00 attempts 1: delivered 1
//
// The Message, LocalDeferral and delivered Final events count in no hour.
func events() []mailtriage.Event {
	return []mailtriage.Event{
		event(mailtriage.Attempt, mailtriage.Delivered, "apple", at(2, 10, 1)),
		event(mailtriage.Attempt, mailtriage.Deferred, "apple", at(2, 10, 5)),
		event(mailtriage.Attempt, mailtriage.Deferred, "apple", at(2, 10, 30)),
		event(mailtriage.Attempt, mailtriage.Deferred, "apple", at(2, 10, 59)),
		event(mailtriage.Final, mailtriage.Expired, "apple", at(2, 10, 59)),
		event(mailtriage.Attempt, mailtriage.Deferred, "apple", at(2, 11, 0)),
		event(mailtriage.Attempt, mailtriage.Bounced, "apple", at(2, 11, 40)),
		event(mailtriage.LocalDeferral, mailtriage.Deferred, "apple", at(2, 11, 41)),
		event(mailtriage.Final, mailtriage.Delivered, "google", at(2, 10, 2)),
		event(mailtriage.Attempt, mailtriage.Delivered, "google", at(2, 10, 2)),
		event(mailtriage.Message, mailtriage.StatusNone, "", at(2, 10, 3)),
	}
}

func laneHourly(t *testing.T, st store.Store, q store.Window) []store.LaneHour {
	t.Helper()
	got, err := st.LaneHourly(context.Background(), q)
	if err != nil {
		t.Fatalf("LaneHourly(%+v): %v", q, err)
	}
	return got
}

func testAppendEvents(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	if added, err := st.AppendEvents(ctx, store.EventBatch{ID: "mail.log:0-4096", Events: events()}); err != nil || !added {
		t.Fatalf("AppendEvents = %v, %v", added, err)
	}
	apple10 := store.LaneHour{Lane: "apple", Hour: at(2, 10, 0), Attempts: 4, Delivered: 1, Deferred: 3, Expired: 1}
	apple11 := store.LaneHour{Lane: "apple", Hour: at(2, 11, 0), Attempts: 2, Deferred: 1, Bounced: 1}
	google10 := store.LaneHour{Lane: "google", Hour: at(2, 10, 0), Attempts: 1, Delivered: 1}
	check := func(q store.Window, want ...store.LaneHour) {
		t.Helper()
		if got := laneHourly(t, st, q); !reflect.DeepEqual(got, want) {
			t.Errorf("LaneHourly(%+v):\ngot  %+v\nwant %+v", q, got, want)
		}
	}
	check(store.Window{}, apple10, apple11, google10)
	check(store.Window{Lane: "apple"}, apple10, apple11)
	// An hour overlapping the window counts whole.
	check(store.Window{Since: at(2, 11, 30)}, apple11)
	check(store.Window{Until: at(2, 11, 0)}, apple10, google10)
	check(store.Window{Lane: "apple", Since: at(2, 10, 59), Until: at(2, 11, 1)}, apple10, apple11)
	check(store.Window{Lane: "yahoo"})
	if r := apple10.DeferralRate(); r != 0.75 {
		t.Errorf("DeferralRate = %v, want 0.75", r)
	}

	// The same batch again adds nothing.
	if added, err := st.AppendEvents(ctx, store.EventBatch{ID: "mail.log:0-4096", Events: events()}); err != nil || added {
		t.Errorf("AppendEvents again = %v, %v; want not added", added, err)
	}
	check(store.Window{}, apple10, apple11, google10)
	// Another batch adds, even of the same events: the id is the identity.
	if added, err := st.AppendEvents(ctx, store.EventBatch{ID: "mail.log:4096-8192", Events: events()[:1]}); err != nil || !added {
		t.Errorf("a second batch = %v, %v", added, err)
	}
	apple10.Attempts, apple10.Delivered = 5, 2
	check(store.Window{Lane: "apple", Until: at(2, 11, 0)}, apple10)
	if added, err := st.AppendEvents(ctx, store.EventBatch{Events: events()}); added || !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a batch without an id = %v, %v; want ErrInvalid", added, err)
	}
}

// testEventsAtomic: the 37th event of 40 is refused (a Kind no source
// writes), after those before it were written; nothing of the batch stays.
func testEventsAtomic(t *testing.T, s Suite) {
	st := s.open(t)
	ctx := context.Background()
	var evs []mailtriage.Event
	for i := range 40 {
		evs = append(evs, event(mailtriage.Attempt, mailtriage.Deferred, "apple", at(2, 10, i)))
	}
	evs[36].Kind = 0
	added, err := st.AppendEvents(ctx, store.EventBatch{ID: "b", Events: evs})
	if added || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "37") {
		t.Fatalf("a batch with a bad event = %v, %v; want ErrInvalid naming event 37", added, err)
	}
	if got := laneHourly(t, st, store.Window{}); len(got) != 0 {
		t.Errorf("a failed batch left %+v", got)
	}
	evs[36].Kind = mailtriage.Attempt
	if added, err := st.AppendEvents(ctx, store.EventBatch{ID: "b", Events: evs}); err != nil || !added {
		t.Fatalf("the corrected batch = %v, %v; want added", added, err)
	}
	if got := laneHourly(t, st, store.Window{}); len(got) != 1 || got[0].Attempts != 40 || got[0].Deferred != 40 {
		t.Errorf("after the corrected batch: %+v", got)
	}
}
