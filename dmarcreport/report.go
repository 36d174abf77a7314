// Package dmarcreport reads the reports DMARC receivers send back to domain
// owners: aggregate reports (the XML of RFC 7489 appendix C and of RFC 9990,
// with or without the urn:ietf:params:xml:ns:dmarc-2.0 namespace) and failure
// reports (the ARF messages of RFC 6591 and RFC 9991), and gives the MIME
// parts of the messages reports travel in (RFC 2046; RFC 7489 §7.2.1.1).
//
// The package reads; it does not judge. Which sources are authorized, which
// are forwarders, and what to do about the rest is the store's and the
// report's business.
package dmarcreport

import (
	"math"
	"net/netip"
	"time"
)

// Aggregate is one aggregate report (RFC 9990 §3; RFC 7489 appendix C).
type Aggregate struct {
	// Version is the report's <version>, empty when the reporter left it out
	// (RFC 7489 reports often do; RFC 9990 ones say "1.0" or "2.0").
	Version string
	// Namespace is the XML namespace of <feedback>: "" for RFC 7489,
	// "urn:ietf:params:xml:ns:dmarc-2.0" for RFC 9990.
	Namespace string

	Org          string // report_metadata/org_name
	Email        string // report_metadata/email
	ExtraContact string // report_metadata/extra_contact_info
	ReportID     string // report_metadata/report_id
	Generator    string // report_metadata/generator (RFC 9990)
	Begin, End   time.Time
	Errors       []string // report_metadata/error

	Policy  PublishedPolicy
	Records []Record

	// Warnings say what the parser forgave (invalid UTF-8, malformed XML
	// read leniently, a missing org_name), so that a report that looks odd
	// can be explained; parsedmarc's users asked for this.
	Warnings []string
}

// Key is what makes an aggregate report the same report when it arrives
// twice: the reporter, its report id, the policy domain and the date range,
// the key parsedmarc uses too.
type Key struct {
	Org, ReportID, Domain string
	Begin, End            time.Time
}

// Key returns the report's identity.
func (a *Aggregate) Key() Key {
	return Key{Org: a.Org, ReportID: a.ReportID, Domain: a.Policy.Domain, Begin: a.Begin, End: a.End}
}

// Messages is the number of messages the report covers. A parsed report's
// counts are at most MaxCount each and cannot overflow the sum; one built
// by hand with larger ones sums to math.MaxInt64 at most.
func (a *Aggregate) Messages() int64 {
	var n int64
	for _, r := range a.Records {
		if r.Count > 0 && n > math.MaxInt64-r.Count {
			return math.MaxInt64
		}
		n += r.Count
	}
	return n
}

// PublishedPolicy is the DMARC record the receiver found (policy_published).
// Values are kept as sent, lower-cased; absent ones are empty.
type PublishedPolicy struct {
	Domain          string
	ADKIM, ASPF     string // "r" or "s"
	P, SP, NP       string // "none", "quarantine", "reject"
	PCT             string // RFC 7489 only; removed by RFC 9989
	FO              string
	Testing         string // RFC 9990: "y" or "n"
	DiscoveryMethod string // RFC 9990: "psl" or "treewalk"
}

// Record is one row of an aggregate report: the messages from one source IP
// that the receiver evaluated alike.
type Record struct {
	SourceIP netip.Addr
	Count    int64

	// PolicyEvaluated: what the receiver concluded.
	Disposition string // "none", "quarantine", "reject"
	DKIM, SPF   string // DMARC-aligned result: "pass" or "fail"
	Reasons     []Reason

	HeaderFrom   string // identifiers/header_from
	EnvelopeFrom string // identifiers/envelope_from
	EnvelopeTo   string // identifiers/envelope_to

	DKIMResults []DKIMResult // auth_results/dkim, in report order
	SPFResults  []SPFResult  // auth_results/spf, in report order
}

// DMARCPass reports whether the receiver found DMARC passing: an aligned
// DKIM or SPF pass.
func (r *Record) DMARCPass() bool { return r.DKIM == "pass" || r.SPF == "pass" }

// Reason is a policy override the receiver applied (policy_evaluated/reason),
// such as "forwarded", "mailing_list", "local_policy" or RFC 9990's
// "policy_test_mode".
type Reason struct {
	Type, Comment string
}

// DKIMResult is one DKIM signature's raw result (auth_results/dkim).
type DKIMResult struct {
	Domain, Selector, Result, HumanResult string
}

// SPFResult is the raw SPF result (auth_results/spf); Scope is "mfrom" or
// "helo" when given.
type SPFResult struct {
	Domain, Scope, Result, HumanResult string
}

// Failure is one failure report (RFC 6591 ARF with the RFC 9991 fields): the
// message/feedback-report part and the headers of the message it is about.
type Failure struct {
	FeedbackType      string // "auth-failure" for DMARC failure reports
	UserAgent         string
	Version           string
	ReportingMTA      string
	Arrival           time.Time // Arrival-Date, zero when absent or unreadable
	SourceIP          netip.Addr
	OriginalMailFrom  string
	OriginalRcptTo    []string
	ReportedDomain    string
	AuthFailure       []string // "dmarc", "dkim", "spf" (RFC 9991 allows a comma list)
	IdentityAlignment []string // RFC 9991: "dkim", "spf", "none"
	DeliveryResult    string   // "delivered", "spam", "policy", "reject", "other"
	DKIMDomain        string
	DKIMIdentity      string
	DKIMSelector      string
	DKIMCanonicalized string // DKIM-Canonicalized-Header (base64), as sent
	SPFDNS            string
	// AuthenticationResults are the report's Authentication-Results
	// fields (RFC 6591 §3.1 requires one; RFC 8601 syntax), unfolded and
	// as sent: what the receiver checked, and for which domains.
	AuthenticationResults []string `json:",omitempty"`
	// OriginalEnvelopeID is Original-Envelope-Id (RFC 5965 §3.2), the
	// receiver's id of the SMTP transaction, to quote to its postmaster.
	OriginalEnvelopeID string `json:",omitempty"`

	// Headers of the reported message, as far as the report includes them.
	From, To, Subject, MessageID string
	Date                         time.Time
}
