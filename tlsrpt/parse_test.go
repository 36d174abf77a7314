package tlsrpt

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The sample of RFC 8460 §4.8, from parsedmarc's samples (Apache-2.0):
// ../testdata/dmarc-reports/README.md.
const rfcSample = "../testdata/dmarc-reports/smtp-tls/rfc8460.json"

func TestParseReportRFC(t *testing.T) {
	data, err := os.ReadFile(rfcSample)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseReport(data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{
		Org: "Company-X", Contact: "sts-reporting@company-x.example", ReportID: "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
		Begin: time.Date(2016, 4, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2016, 4, 1, 23, 59, 59, 0, time.UTC),
		Policies: []PolicyResult{{
			Type:    "sts",
			Strings: []string{"version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"},
			Domain:  "company-y.example", MXHosts: []string{"*.mail.company-y.example"},
			Success: 5326, Failure: 303,
			Failures: []FailureDetail{
				{ResultType: "certificate-expired", SendingMTAIP: netip.MustParseAddr("2001:db8:abcd:12::1"), ReceivingMX: "mx1.mail.company-y.example", Sessions: 100},
				{ResultType: "starttls-not-supported", SendingMTAIP: netip.MustParseAddr("2001:db8:abcd:13::1"), ReceivingMX: "mx2.mail.company-y.example",
					ReceivingIP: netip.MustParseAddr("203.0.113.56"), Sessions: 200,
					AdditionalInfo: "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported"},
				{ResultType: "validation-failure", SendingMTAIP: netip.MustParseAddr("198.51.100.62"), ReceivingMX: "mx-backup.mail.company-y.example",
					ReceivingIP: netip.MustParseAddr("203.0.113.58"), Sessions: 3, ReasonCode: "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"},
			},
		}},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

// tlsReport builds a report with one policy around the given summary and
// failure details.
func tlsReport(dates, summary, details string) string {
	if dates == "" {
		dates = `"start-datetime": "2024-09-03T00:00:00Z", "end-datetime": "2024-09-03T23:59:59Z"`
	}
	return `{"organization-name": "Google Inc.", "date-range": {` + dates + `}, "contact-info": "smtp-tls-reporting@google.com",
		"report-id": "2024-09-03T00:00:00Z_example.com", "unknown-field": [1, {"x": null}],
		"policies": [{"policy": {"policy-type": "STS", "policy-domain": "Example.COM", "mx-host": ["mx1.example.com", "mx2.example.com"]},
		"summary": {` + summary + `}, "failure-details": [` + details + `]}]}`
}

func TestParseReportShapes(t *testing.T) {
	// Unknown fields ignored (§4.4), mx-host as a list, case folded.
	r, err := ParseReport([]byte(tlsReport("", `"total-successful-session-count": 48, "total-failure-session-count": 2`,
		`{"result-type": "Certificate-Host-Mismatch", "receiving-mx-hostname": "MX1.example.com", "failed-session-count": 2, "receiving-mx-helo": "mx1"}`)))
	if err != nil {
		t.Fatal(err)
	}
	p := r.Policies[0]
	if p.Type != "sts" || p.Domain != "example.com" || len(p.MXHosts) != 2 || p.Success != 48 || p.Failure != 2 ||
		p.Failures[0].ResultType != "certificate-host-mismatch" || p.Failures[0].ReceivingMX != "mx1.example.com" || p.Failures[0].Sessions != 2 {
		t.Errorf("got %+v", p)
	}
	// A date-time with an offset is kept as the same instant, in UTC.
	r, err = ParseReport([]byte(tlsReport(`"start-datetime": "2024-09-03T02:00:00+02:00", "end-datetime": "2024-09-04T00:00:00Z"`, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Begin.Equal(time.Date(2024, 9, 3, 0, 0, 0, 0, time.UTC)) || r.Begin.Location() != time.UTC {
		t.Errorf("begin %v", r.Begin)
	}
}

func TestParseReportBad(t *testing.T) {
	okSummary := `"total-successful-session-count": 1, "total-failure-session-count": 0`
	for _, tt := range []struct {
		name, json, msg string
	}{
		{"empty", "", "empty file"},
		{"white space", " \r\n", "empty file"},
		{"not JSON", "<feedback/>", "JSON"},
		{"truncated", tlsReport("", okSummary, "")[:80], "JSON"},
		{"a list", "[]", "JSON"},
		{"no report-id", strings.Replace(tlsReport("", okSummary, ""), `"report-id"`, `"id"`, 1), "no report-id"},
		{"no date-range", strings.Replace(tlsReport("", okSummary, ""), `"date-range"`, `"range"`, 1), "no date-range"},
		// §4.4: date-times are RFC 3339.
		{"date not RFC 3339", tlsReport(`"start-datetime": "03/09/2024", "end-datetime": "2024-09-03T23:59:59Z"`, okSummary, ""), `start-datetime "03/09/2024"`},
		{"reversed range", tlsReport(`"start-datetime": "2024-09-04T00:00:00Z", "end-datetime": "2024-09-03T00:00:00Z"`, okSummary, ""), "reversed"},
		// §4.4: counts are non-negative integers.
		{"negative count", tlsReport("", `"total-successful-session-count": -1`, ""), "total-successful-session-count -1 is negative"},
		{"fractional count", tlsReport("", `"total-failure-session-count": 1.5`, ""), "total-failure-session-count 1.5 is not an integer"},
		{"count a word", tlsReport("", `"total-failure-session-count": "many"`, ""), "JSON"},
		{"count past MaxCount", tlsReport("", `"total-successful-session-count": 1099511627777`, ""), "total-successful-session-count 1099511627777 is more than 1099511627776"},
		{"count past int64", tlsReport("", `"total-successful-session-count": 9223372036854775808`, ""), "total-successful-session-count 9223372036854775808 is more than"},
		{"count near int64 max", tlsReport("", okSummary, `{"result-type": "x", "failed-session-count": 9223372036854775000}`), "failure-details[0]: failed-session-count 9223372036854775000 is more than"},
		{"count below int64 min", tlsReport("", `"total-failure-session-count": -9223372036854775809`, ""), "total-failure-session-count -9223372036854775809 is negative"},
		{"negative failed sessions", tlsReport("", okSummary, `{"result-type": "starttls-not-supported", "failed-session-count": -3}`), "failed-session-count -3 is negative"},
		{"bad IP", tlsReport("", okSummary, `{"result-type": "x", "sending-mta-ip": "mail.example", "failed-session-count": 1}`), `sending-mta-ip "mail.example"`},
		{"binary IP", tlsReport("", okSummary, "{\"result-type\": \"x\", \"receiving-ip\": \"\x80\x81\x82\", \"failed-session-count\": 1}"), "receiving-ip binary data (9 bytes) is not an IP address"},
		{"too large", strings.Repeat(" ", MaxReportSize+1), "larger than 32 MB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseReport([]byte(tt.json))
			if err == nil {
				t.Fatalf("no error; got %+v", r)
			}
			if !errors.Is(err, ErrInvalidReport) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q; want one containing %q", err, tt.msg)
			}
		})
	}
}

func FuzzParseReport(f *testing.F) {
	if data, err := os.ReadFile(rfcSample); err == nil {
		f.Add(data)
	}
	f.Add([]byte(tlsReport("", `"total-successful-session-count": 48, "total-failure-session-count": 2`,
		`{"result-type": "validation-failure", "sending-mta-ip": "192.0.2.1", "failed-session-count": 2}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReport(data)
		if err != nil {
			return
		}
		if r.ReportID == "" || r.End.Before(r.Begin) {
			t.Fatalf("accepted a report that breaks a rule: %+v", r)
		}
		for _, p := range r.Policies {
			if p.Success < 0 || p.Failure < 0 {
				t.Fatalf("negative count: %+v", p)
			}
		}
	})
}
