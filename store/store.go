// Package store is where mailtriage keeps what it has read for later
// questions: DMARC aggregate and failure reports (RFC 9990, RFC 9991), SMTP
// TLS reports (RFC 8460) and delivery events, with the queries the
// summaries and incident reports ask.
//
// The interfaces are cut by use case, not by table: a command that writes
// reports needs DMARCWriter, one that summarises needs DMARCReader, and
// neither sees SQL. Arguments and results are plain Go values, so a second
// backend (ClickHouse, for services holding millions of report rows a day)
// can come in without touching the callers. store/sqlite is the embedded
// default; store/storetest is the conformance suite every backend passes.
//
// Next step: the rest of the incident queries of the research notes
// (scale-clickhouse.md §7.1: TopReplies, ExpiredRootCauses, IPBreakdown,
// SenderBreakdown, MessageTimeline) on IncidentReader, and retention.
package store

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/tlsrpt"
)

// ErrInvalid is wrapped by the errors of writes a store refuses because
// the report itself is wrong (a negative count, a record without an
// address): nothing of the report is kept.
var ErrInvalid = errors.New("store: invalid report")

// MaxCount is the most messages one DMARC record, or sessions one TLS
// policy or failure detail, may count: about 10^12, far above any real
// report. The parsers cap counts there too; a store refuses a larger count
// with ErrInvalid, so that sums over millions of reports stay in int64.
const MaxCount = 1 << 40

// MaxSum is where the sums the readers return stop growing: about 10^18,
// low enough that a caller adding a few of them up cannot overflow int64.
// Reaching it takes a million reports at MaxCount; a sum there means a
// damaged store or a hostile reporter, and the summary still answers.
const MaxSum = 1 << 60

// Store is everything a backend provides.
type Store interface {
	EventWriter
	IncidentReader
	DMARCWriter
	DMARCReader
	TLSWriter
	TLSReader
	Admin
}

// EventWriter keeps delivery events.
type EventWriter interface {
	// AppendEvents keeps a batch of events, whole or not at all. It is
	// idempotent on the batch's ID: appending a batch again (a retry
	// after an ambiguous failure, a second run over the same log) adds
	// nothing and returns added=false. An event with a Kind or Status
	// outside their constants is refused with ErrInvalid.
	AppendEvents(ctx context.Context, b EventBatch) (added bool, err error)
}

// EventBatch is events appended together.
type EventBatch struct {
	// ID names the batch: the same events always come with the same ID,
	// for example a hash of the log file's identity and the byte range
	// read.
	ID     string
	Events []mailtriage.Event
}

// IncidentReader answers the incident queries.
type IncidentReader interface {
	// LaneHourly counts the attempts and outcomes per lane and hour,
	// ordered by lane then hour; hours without events are absent.
	LaneHourly(ctx context.Context, q Window) ([]LaneHour, error)
}

// Window selects the hours that overlap [Since, Until) (a zero side is
// open), of one Lane or, when empty, all.
type Window struct {
	Lane         string
	Since, Until time.Time
}

// LaneHour is one lane's hour.
type LaneHour struct {
	Lane string
	Hour time.Time // its start, UTC
	// Attempts are the remote delivery tries (Kind Attempt) that ended in
	// the hour, by status: Delivered, Deferred, Bounced, and the rest
	// (no server answered with a verdict) making up the difference.
	Attempts, Delivered, Deferred, Bounced int64
	// Expired are the recipients that expired in the hour (Final events).
	Expired int64
}

// DeferralRate is the share of the hour's attempts that were deferred.
func (h LaneHour) DeferralRate() float64 {
	if h.Attempts == 0 {
		return 0
	}
	return float64(h.Deferred) / float64(h.Attempts)
}

// DMARCWriter keeps DMARC reports.
type DMARCWriter interface {
	// PutAggregateReport keeps an aggregate report and its records, with
	// the reverse DNS names of their source addresses from rdns (absent
	// addresses have none). It returns added=false, keeping nothing, when
	// a report with the same Key is already there. A report is kept whole
	// or not at all: an error leaves nothing of it behind. A report that
	// is wrong in itself (a period that ends before it begins, a record
	// without a source address, a count below 0 or above MaxCount) is
	// refused with an error wrapping ErrInvalid.
	PutAggregateReport(ctx context.Context, r *dmarcreport.Aggregate, rdns map[netip.Addr]string) (added bool, err error)
	// PutAggregateReports keeps several reports as PutAggregateReport
	// keeps each (whole or not at all, duplicates skipped, a duplicate
	// within the batch too), faster: results[i] says what became of
	// batch[i], its Err wrapping ErrInvalid when the report was refused.
	// An error of the call itself (the store failed, ctx ended) means
	// none of the batch may be kept.
	PutAggregateReports(ctx context.Context, batch []AggregateInput) (results []PutResult, err error)
	// PutFailureReport keeps a failure report; added=false when one with
	// the same content is already there (failure reports have no id).
	PutFailureReport(ctx context.Context, f *dmarcreport.Failure) (added bool, err error)
}

// AggregateInput is a report to keep, with the reverse DNS names of its
// source addresses.
type AggregateInput struct {
	Report *dmarcreport.Aggregate
	RDNS   map[netip.Addr]string
}

// PutResult is what became of one report of a batch.
type PutResult struct {
	Added bool  // false for a duplicate, or a refused report
	Err   error // wraps ErrInvalid: the report was refused, alone
}

// DMARCReader answers the questions of the DMARC summary.
type DMARCReader interface {
	// DMARCSources sums the messages of the matching reports per source
	// address, ordered by messages, most first, then by address.
	DMARCSources(ctx context.Context, q DMARCQuery) ([]SourceStat, error)
	// DMARCDaily sums them per UTC day, in day order.
	DMARCDaily(ctx context.Context, q DMARCQuery) ([]DMARCDay, error)
	// DMARCCounts counts the matching reports.
	DMARCCounts(ctx context.Context, q DMARCQuery) (DMARCCounts, error)
}

// TLSWriter keeps SMTP TLS reports.
type TLSWriter interface {
	// PutTLSReport keeps a TLS report; added=false when one with the
	// same Key is already there. Kept whole or not at all; a session
	// count below 0 or above MaxCount is refused with ErrInvalid.
	PutTLSReport(ctx context.Context, r *tlsrpt.Report) (added bool, err error)
}

// TLSReader answers the TLS questions of the summary.
type TLSReader interface {
	// TLSSummary sums the sessions of the matching reports per policy
	// domain and policy type, ordered by domain then type.
	TLSSummary(ctx context.Context, q TLSQuery) ([]TLSPolicyStat, error)
}

// Admin is the upkeep of a store.
type Admin interface {
	// Migrate brings the schema up to date; running it again does nothing.
	Migrate(ctx context.Context) error
	// Health checks that the store answers and its data is sound.
	Health(ctx context.Context) error
	Close() error
}

// DMARCQuery selects reports: those about Domain (all domains when empty)
// that count on a UTC day that overlaps [Since, Until); a zero Since or
// Until leaves that side open. A report counts on the UTC day that holds
// the middle of its period: receivers report by their own day, which east
// of UTC begins the evening before (22:00 UTC in UTC+2).
//
// Whole days, because receivers send one report per day and the summary
// reads a per-day rollup: --since 2026-03-02T15:00 still counts that day's
// report, which covers the afternoon too.
type DMARCQuery struct {
	Domain       string
	Since, Until time.Time
}

// SourceStat is the mail of one source address in the matching reports.
//
// Every record of a report says whether DKIM and SPF passed aligned for
// all its messages; the four message counts BothPass, DKIMOnly, SPFOnly
// and NonePass sum the records by that pair, and add up to Messages.
type SourceStat struct {
	IP   netip.Addr
	RDNS string // the reverse DNS name looked up at import, "" for none

	Messages        int64
	SPFAlignedPass  int64 // messages whose SPF passed aligned
	DKIMAlignedPass int64 // messages whose DKIM passed aligned
	DMARCPass       int64 // messages that passed DMARC: either of the two

	BothPass int64 // SPF and DKIM aligned pass
	DKIMOnly int64 // DKIM aligned pass, SPF not
	SPFOnly  int64 // SPF aligned pass, DKIM not
	NonePass int64 // neither: DMARC fail

	// Quarantined and Rejected are the messages the receivers applied
	// that disposition to; the rest were delivered ("none").
	Quarantined, Rejected int64

	Reports int64 // reports with records from this address
}

// DMARCDay is one UTC day of the matching reports, by the day each
// report counts on (see DMARCQuery).
type DMARCDay struct {
	Day       time.Time // midnight UTC
	Reports   int64
	Messages  int64
	DMARCPass int64
}

// DMARCCounts counts what matches a DMARCQuery.
type DMARCCounts struct {
	Reports  int64 // aggregate reports
	Messages int64 // the messages they cover
	// Failures are failure reports about the domain whose message
	// arrived in the window (by their Arrival-Date, or their import when
	// they carry none).
	Failures int64
}

// TLSQuery selects TLS reports by the UTC day their period begins on (RFC
// 8460 §4.1 has them cover UTC days), and of those the policies for Domain
// (all when empty).
type TLSQuery struct {
	Domain       string
	Since, Until time.Time
}

// TLSPolicyStat is the sessions of one receiving domain under one policy
// type ("sts", "tlsa", "no-policy-found") in the matching reports.
type TLSPolicyStat struct {
	Domain     string
	PolicyType string
	Reports    int64
	Successes  int64
	Failures   int64
	// TopFailures are the failure result types by sessions, most first,
	// at most five.
	TopFailures []TLSFailureCount
}

// TLSFailureCount is the failed sessions of one result type.
type TLSFailureCount struct {
	ResultType string
	Sessions   int64
}
