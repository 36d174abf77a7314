package tlsrpt

import (
	"net/netip"
	"time"
)

// Report is one SMTP TLS report (RFC 8460 §4): what a sending organisation
// saw when it tried to set up TLS with a domain's MX hosts during one period.
type Report struct {
	Org        string // organization-name
	Contact    string // contact-info
	ReportID   string // report-id
	Begin, End time.Time
	Policies   []PolicyResult
}

// Key is what makes a TLS report the same report when it arrives twice.
type Key struct {
	Org, ReportID string
	Begin, End    time.Time
}

// Key returns the report's identity.
func (r *Report) Key() Key {
	return Key{Org: r.Org, ReportID: r.ReportID, Begin: r.Begin, End: r.End}
}

// PolicyResult is one entry of "policies": the sessions under one policy.
type PolicyResult struct {
	Type     string   // policy-type: "sts", "tlsa" or "no-policy-found"
	Strings  []string // policy-string: the MTA-STS policy lines or TLSA records
	Domain   string   // policy-domain
	MXHosts  []string // mx-host (MTA-STS only)
	Success  int64    // summary/total-successful-session-count
	Failure  int64    // summary/total-failure-session-count
	Failures []FailureDetail
}

// FailureDetail is one entry of "failure-details" (RFC 8460 §4.3): a kind
// of failure and how many sessions met it.
type FailureDetail struct {
	ResultType     string // e.g. "starttls-not-supported", "certificate-expired", "sts-policy-fetch-error"
	SendingMTAIP   netip.Addr
	ReceivingMX    string // receiving-mx-hostname
	ReceivingHELO  string // receiving-mx-helo
	ReceivingIP    netip.Addr
	Sessions       int64  // failed-session-count
	AdditionalInfo string // additional-information (a URI)
	ReasonCode     string // failure-reason-code
}
