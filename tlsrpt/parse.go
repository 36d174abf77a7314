package tlsrpt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/internal/errtext"
)

// MaxReportSize bounds the JSON of one report. Reports of large senders
// stay well under 1 MB; a cap keeps a hostile one from taking memory.
const MaxReportSize = 32 << 20

// MaxCount bounds one session count, about 10^12 sessions: far above what
// one sender makes to one domain in a day, and low enough that 8 million
// counts add up without overflowing an int64.
const MaxCount = 1 << 40

// ErrInvalidReport means the data is not a usable TLS report (RFC 8460 §4).
var ErrInvalidReport = errors.New("tlsrpt: invalid report")

// The JSON of RFC 8460 §4.4. Counts are read as numbers and checked by
// hand: they must be non-negative integers, which encoding/json's int64
// would not say clearly. Unknown fields are ignored, as §4.4 asks.
type jsonReport struct {
	Org       string `json:"organization-name"`
	DateRange *struct {
		Start string `json:"start-datetime"`
		End   string `json:"end-datetime"`
	} `json:"date-range"`
	Contact  string       `json:"contact-info"`
	ReportID string       `json:"report-id"`
	Policies []jsonPolicy `json:"policies"`
}

type jsonPolicy struct {
	Policy struct {
		Type    string          `json:"policy-type"`
		Strings []string        `json:"policy-string"`
		Domain  string          `json:"policy-domain"`
		MXHost  json.RawMessage `json:"mx-host"`
	} `json:"policy"`
	Summary struct {
		Success json.Number `json:"total-successful-session-count"`
		Failure json.Number `json:"total-failure-session-count"`
	} `json:"summary"`
	Failures []jsonFailure `json:"failure-details"`
}

type jsonFailure struct {
	ResultType     string      `json:"result-type"`
	SendingMTAIP   string      `json:"sending-mta-ip"`
	ReceivingMX    string      `json:"receiving-mx-hostname"`
	ReceivingHELO  string      `json:"receiving-mx-helo"`
	ReceivingIP    string      `json:"receiving-ip"`
	Sessions       json.Number `json:"failed-session-count"`
	AdditionalInfo string      `json:"additional-information"`
	ReasonCode     string      `json:"failure-reason-code"`
}

// ParseReport reads one SMTP TLS report, the JSON of RFC 8460 §4.4. It
// refuses data past MaxReportSize, reports without a report-id or date
// range, a range that ends before it begins, times that are not RFC 3339
// date-times, counts that are not integers from 0 to MaxCount and addresses that
// are not IP addresses. Values that name kinds (policy-type, result-type)
// are lower-cased; domains too.
func ParseReport(data []byte) (*Report, error) {
	if len(data) > MaxReportSize {
		return nil, fmt.Errorf("%w: larger than %d MB", ErrInvalidReport, MaxReportSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrInvalidReport)
	}
	var j jsonReport
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: JSON: %w", ErrInvalidReport, err)
	}
	r := &Report{Org: strings.TrimSpace(j.Org), Contact: strings.TrimSpace(j.Contact), ReportID: strings.TrimSpace(j.ReportID)}
	if r.ReportID == "" {
		return nil, fmt.Errorf("%w: no report-id", ErrInvalidReport)
	}
	if r.Org == "" {
		return nil, fmt.Errorf("%w: no organization-name", ErrInvalidReport)
	}
	if j.DateRange == nil {
		return nil, fmt.Errorf("%w: no date-range", ErrInvalidReport)
	}
	var err error
	if r.Begin, err = dateTime("start-datetime", j.DateRange.Start); err != nil {
		return nil, err
	}
	if r.End, err = dateTime("end-datetime", j.DateRange.End); err != nil {
		return nil, err
	}
	if r.End.Before(r.Begin) {
		return nil, fmt.Errorf("%w: the date range is reversed: end %s is before start %s", ErrInvalidReport,
			r.End.Format(time.RFC3339), r.Begin.Format(time.RFC3339))
	}
	for i, jp := range j.Policies {
		p, err := policy(jp)
		if err != nil {
			return nil, fmt.Errorf("%w: policies[%d]: %w", ErrInvalidReport, i, err)
		}
		r.Policies = append(r.Policies, p)
	}
	return r, nil
}

// dateTime reads an RFC 3339 date-time (RFC 8460 §4.4). A time without a
// zone, which some senders write, is taken as UTC.
func dateTime(name, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05", v)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date-range/%s %s is not an RFC 3339 date-time", ErrInvalidReport, name, errtext.Quote(v))
	}
	return t.UTC(), nil
}

func policy(jp jsonPolicy) (PolicyResult, error) {
	p := PolicyResult{
		Type:    strings.ToLower(strings.TrimSpace(jp.Policy.Type)),
		Strings: jp.Policy.Strings,
		Domain:  strings.ToLower(strings.TrimSpace(jp.Policy.Domain)),
	}
	mx, err := mxHosts(jp.Policy.MXHost)
	if err != nil {
		return p, err
	}
	p.MXHosts = mx
	if p.Success, err = count("summary/total-successful-session-count", jp.Summary.Success); err != nil {
		return p, err
	}
	if p.Failure, err = count("summary/total-failure-session-count", jp.Summary.Failure); err != nil {
		return p, err
	}
	for i, jf := range jp.Failures {
		f, err := failure(jf)
		if err != nil {
			return p, fmt.Errorf("failure-details[%d]: %w", i, err)
		}
		p.Failures = append(p.Failures, f)
	}
	return p, nil
}

// mxHosts reads mx-host: a list of names (RFC 8460 §4.4), or one name as
// the RFC's own example wrote it (erratum 6241).
func mxHosts(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, fmt.Errorf("mx-host is neither a list of names nor a name")
	}
	return []string{one}, nil
}

func failure(jf jsonFailure) (FailureDetail, error) {
	f := FailureDetail{
		ResultType:     strings.ToLower(strings.TrimSpace(jf.ResultType)),
		ReceivingMX:    strings.ToLower(strings.TrimSpace(jf.ReceivingMX)),
		ReceivingHELO:  strings.TrimSpace(jf.ReceivingHELO),
		AdditionalInfo: jf.AdditionalInfo,
		ReasonCode:     jf.ReasonCode,
	}
	var err error
	if f.SendingMTAIP, err = ipAddr("sending-mta-ip", jf.SendingMTAIP); err != nil {
		return f, err
	}
	if f.ReceivingIP, err = ipAddr("receiving-ip", jf.ReceivingIP); err != nil {
		return f, err
	}
	if f.Sessions, err = count("failed-session-count", jf.Sessions); err != nil {
		return f, err
	}
	return f, nil
}

// count reads a session count: a non-negative integer (RFC 8460 §4.4),
// at most MaxCount. An absent count is 0.
func count(name string, n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		// 19 digits or more; the sign says which way it is wrong.
		v, err = math.MaxInt64, nil
		if strings.HasPrefix(string(n), "-") {
			v = -1
		}
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s %s is not an integer", name, errtext.Clip(string(n), 40))
	case v < 0:
		return 0, fmt.Errorf("%s %s is negative", name, errtext.Clip(string(n), 40))
	case v > MaxCount:
		return 0, fmt.Errorf("%s %s is more than %d, the most one count may be", name, errtext.Clip(string(n), 40), int64(MaxCount))
	}
	return v, nil
}

// ipAddr reads an optional IP address field.
func ipAddr(name, v string) (netip.Addr, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s %s is not an IP address", name, errtext.Quote(v))
	}
	return a.Unmap(), nil
}
