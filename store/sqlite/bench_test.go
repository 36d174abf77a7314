package sqlite

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/store"
)

// benchReport is a report of a size receivers send a small domain: ten
// records from a pool of 500 addresses.
func benchReport(i int) *dmarcreport.Aggregate {
	begin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365)
	r := &dmarcreport.Aggregate{
		Org: fmt.Sprintf("reporter%d.example", i%7), ReportID: fmt.Sprintf("r-%d", i),
		Begin: begin, End: begin.Add(24*time.Hour - time.Second),
		Policy: dmarcreport.PublishedPolicy{Domain: fmt.Sprintf("example%d.com", i%3), P: "reject"},
	}
	for j := range 10 {
		n := (i*10 + j) % 500
		dkim, spf := "pass", "pass"
		if n%5 == 0 {
			spf = "fail"
		}
		if n%11 == 0 {
			dkim = "fail"
		}
		r.Records = append(r.Records, dmarcreport.Record{
			SourceIP: netip.AddrFrom4([4]byte{198, 51, byte(n / 250), byte(n % 250)}), Count: int64(1 + n%40),
			Disposition: "none", DKIM: dkim, SPF: spf, HeaderFrom: r.Policy.Domain, EnvelopeFrom: "bounce." + r.Policy.Domain,
			DKIMResults: []dmarcreport.DKIMResult{{Domain: r.Policy.Domain, Selector: "s1", Result: dkim}},
			SPFResults:  []dmarcreport.SPFResult{{Domain: "bounce." + r.Policy.Domain, Scope: "mfrom", Result: spf}},
		})
	}
	return r
}

func BenchmarkPutAggregateReport(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := s.PutAggregateReport(ctx, benchReport(i), nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// BenchmarkDMARCSources is the summary's main query over 10,000 reports.
func BenchmarkDMARCSources(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 10000 {
		if _, err := s.PutAggregateReport(ctx, benchReport(i), nil); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.DMARCSources(ctx, store.DMARCQuery{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendEvents appends batches of 1,000 attempts over 8 lanes.
func BenchmarkAppendEvents(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	batch := 0
	for b.Loop() {
		evs := make([]mailtriage.Event, 1000)
		for i := range evs {
			n := batch*1000 + i
			evs[i] = mailtriage.Event{Kind: mailtriage.Attempt, Status: mailtriage.Status(1 + n%3), Time: start.Add(time.Duration(n) * time.Second),
				Source: "postfix", Host: "mx1", QueueID: fmt.Sprintf("Q%d", n), Recipient: fmt.Sprintf("u%d@example.com", n),
				Domain: "example.com", Lane: fmt.Sprintf("lane%d", n%8), RemoteHost: "mx.example.com", RemoteIP: "192.0.2.1"}
		}
		if _, err := s.AppendEvents(ctx, store.EventBatch{ID: fmt.Sprint(batch), Events: evs}); err != nil {
			b.Fatal(err)
		}
		batch++
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPutAggregateReports writes the same reports 64 to a commit, as
// the import does when reports wait for the writer.
func BenchmarkPutAggregateReports(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		batch := make([]store.AggregateInput, 64)
		for j := range batch {
			batch[j].Report = benchReport(i)
			i++
		}
		if _, err := s.PutAggregateReports(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "reports/s")
}
