package dmarcreport

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFailureCorpus(t *testing.T) {
	for _, tt := range []struct {
		file string
		want Failure
	}{
		{"failure/dmarc_ruf_report_linkedin.eml", Failure{
			FeedbackType: "auth-failure", UserAgent: "Lua/1.0", Version: "1.0",
			Arrival:  time.Date(2019, 4, 30, 2, 9, 0, 0, time.UTC),
			SourceIP: netip.MustParseAddr("10.10.10.10"), OriginalRcptTo: []string{"recipient@linkedin.com"},
			ReportedDomain: "example.com", AuthFailure: []string{"dmarc"}, DeliveryResult: "delivered",
			AuthenticationResults: []string{"dmarc=fail (p=none; dis=none) header.from=example.com"},
			From:                  "sender@example.com", To: "recipient@linkedin.com", Subject: "Subject line, could be UTF8 encoded",
			MessageID: "01010101010101010101010101010101@ABAB01MS0016.someserver.loc",
			Date:      time.Date(2019, 4, 30, 2, 9, 9, 0, time.UTC),
		}},
		// multipart/mixed, the feedback report base64-encoded, RFC 9991's
		// Identity-Alignment list.
		{"failure/[Netease DMARC Failure Report] Rent Reminder.eml", Failure{
			FeedbackType: "auth-failure", UserAgent: "NtesDmarcReporter/1.0", Version: "1",
			Arrival:          time.Date(2018, 9, 28, 8, 48, 42, 0, time.UTC),
			SourceIP:         netip.MustParseAddr("167.89.69.24"),
			OriginalMailFrom: "bounces+1137616-c1ad-xsj399=163.com@email.entrata.com",
			ReportedDomain:   "cardinal.com", IdentityAlignment: []string{"spf", "dkim"},
			DeliveryResult: "delivered", DKIMDomain: "entrata.com",
			OriginalEnvelopeID: "N8CowEApcUPo6q1bnXlMAA--.44392S3",
			AuthenticationResults: []string{"163.com; dkim=pass (verify result: all signatures verified) header.d=entrata.com; " +
				"spf=pass smtp.mailfrom=bounces+1137616-c1ad-xsj399=163.com@email.entrata.com"},
			From: "info@cardinal.com", To: "redacted@163.com", Subject: "Rent Reminder",
			MessageID: "oguVx1AxQayV5Sv2nYK-rA@ismtpd0007p1las1.sendgrid.net",
			Date:      time.Date(2018, 9, 28, 8, 48, 39, 0, time.UTC),
		}},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			f, err := ParseFailure(readCorpus(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*f, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *f, tt.want)
			}
		})
	}
}

// arf builds a failure report in the shape of RFC 6591 §3 and its
// appendix B example, with the given feedback fields and third part.
func arf(fields, third string) string {
	return "From: dmarc@receiver.example\r\nTo: ruf@example.com\r\nSubject: FW: Discount on weight loss\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report;\r\n boundary=\"part1_13d.2e68ed54_boundary\"\r\n\r\n" +
		"--part1_13d.2e68ed54_boundary\r\nContent-Type: text/plain; charset=\"US-ASCII\"\r\n\r\nThis is an authentication failure report.\r\n\r\n" +
		"--part1_13d.2e68ed54_boundary\r\nContent-Type: message/feedback-report\r\n\r\n" + fields + "\r\n" +
		"--part1_13d.2e68ed54_boundary\r\n" + third + "\r\n--part1_13d.2e68ed54_boundary--\r\n"
}

const rfc6591Fields = "Feedback-Type: auth-failure\r\nUser-Agent: Someisp!Mail-Feedback/1.0\r\nVersion: 1\r\n" +
	"Original-Mail-From: <randomuser@example.net>\r\nOriginal-Rcpt-To: <user@example.com>\r\n" +
	"Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\r\nSource-IP: 192.0.2.1\r\nAuthentication-Results: mail.example.com;\r\n" +
	" dkim=fail header.d=example.net\r\nReported-Domain: Example.NET\r\nDKIM-Domain: example.net\r\nDKIM-Identity: @example.net\r\n" +
	"DKIM-Selector: news\r\nDKIM-Canonicalized-Header: RnJvbTo=\r\n"

const rfc6591Original = "Content-Type: text/rfc822-headers\r\n\r\nFrom: =?UTF-8?B?w4lsaXNl?= <randomuser@example.net>\r\n" +
	"To: <user@example.com>, other@example.com\r\nSubject: Discount on weight loss!\r\nDate: Thu, 8 Mar 2005 17:00:00 +0000\r\n" +
	"Message-ID: <8787KJKJ3K4J3K4J3K4J3.mail@example.net>\r\n"

func TestFailureFields(t *testing.T) {
	for _, tt := range []struct {
		name, msg string
		check     func(*Failure) string
	}{
		// RFC 6591 appendix B, the example.
		{"RFC 6591 example", arf(rfc6591Fields+"Auth-Failure: signature\r\n", rfc6591Original), func(f *Failure) string {
			return want(fmt.Sprintln(f.SourceIP, f.OriginalMailFrom, f.OriginalRcptTo, f.ReportedDomain, f.AuthFailure, f.DKIMDomain,
				f.DKIMIdentity, f.DKIMSelector, f.DKIMCanonicalized, f.Arrival.Format(time.RFC3339)),
				"192.0.2.1 randomuser@example.net [user@example.com] example.net [signature] example.net @example.net news RnJvbTo= 2005-03-08T18:00:00Z\n") +
				want(fmt.Sprintln(f.From, "|", f.To, "|", f.Subject, "|", f.MessageID, "|", f.Date.Unix()),
					"randomuser@example.net | user@example.com, other@example.com | Discount on weight loss! | 8787KJKJ3K4J3K4J3K4J3.mail@example.net | 1110301200\n") +
				// The folded field unfolded (RFC 5322 §2.2.3).
				want(fmt.Sprintf("%q", f.AuthenticationResults), `["mail.example.com; dkim=fail header.d=example.net"]`)
		}},
		// RFC 9991 §3: Auth-Failure and Identity-Alignment as comma lists,
		// in any case, or repeated.
		{"RFC 9991 lists", arf(rfc6591Fields+"Auth-Failure: DMARC, spf\r\nAuth-Failure: dkim\r\nIdentity-Alignment: none\r\n", rfc6591Original), func(f *Failure) string {
			return want(fmt.Sprint(f.AuthFailure, f.IdentityAlignment), "[dmarc spf dkim] [none]")
		}},
		// The reported message whole, a Source-IP in brackets with a comment.
		{"message/rfc822 and an odd Source-IP", arf(strings.Replace(rfc6591Fields, "192.0.2.1", "[2001:DB8::25] (mx.example)", 1),
			"Content-Type: message/rfc822\r\n\r\nFrom: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"), func(f *Failure) string {
			return want(fmt.Sprint(f.SourceIP, " ", f.From, " ", f.Subject), "2001:db8::25 a@example.org hi")
		}},
		// The feedback report alone, no third part, LF line ends.
		{"no reported message", strings.ReplaceAll(arf(rfc6591Fields, "Content-Type: text/plain\r\n\r\nnone"), "\r\n", "\n"), func(f *Failure) string {
			return want(fmt.Sprint(f.SourceIP, f.From), "192.0.2.1")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFailure([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(f); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestFailureBad(t *testing.T) {
	for _, tt := range []struct {
		name, msg string
		is        error
		text      string
	}{
		{"ordinary mail", "From: a@example.com\r\nSubject: hello\r\n\r\nhi\r\n", ErrNotFailure, "no message/feedback-report part"},
		// RFC 5965 complaint, not a DMARC failure report.
		{"abuse report", arf(strings.Replace(rfc6591Fields, "auth-failure", "abuse", 1), rfc6591Original), ErrNotFailure, `Feedback-Type is "abuse"`},
		{"no Feedback-Type", arf("User-Agent: x\r\nVersion: 1\r\n", rfc6591Original), ErrNotFailure, "no Feedback-Type"},
		{"bad Source-IP", arf(strings.Replace(rfc6591Fields, "192.0.2.1", "mail.example.net", 1), rfc6591Original), ErrInvalid, `Source-IP "mail.example.net"`},
		// A broken MIME tree: the boundary the header names is not in the body.
		{"boundary not found", strings.Replace(arf(rfc6591Fields, rfc6591Original), "boundary=\"part1_13d.2e68ed54_boundary\"", "boundary=\"other\"", 1), ErrBrokenMIME, `no part delimited by the boundary "other"`},
		{"no boundary", strings.Replace(arf(rfc6591Fields, rfc6591Original), "boundary=\"part1_13d.2e68ed54_boundary\"", "charset=us-ascii", 1), ErrBrokenMIME, "without a boundary"},
		{"bad base64", arf(rfc6591Fields, "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n"), ErrBrokenMIME, "base64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFailure([]byte(tt.msg))
			if err == nil {
				t.Fatalf("no error; got %+v", f)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q; want %v containing %q", err, tt.is, tt.text)
			}
		})
	}
}

func TestMessageParts(t *testing.T) {
	for _, tt := range []struct {
		name, msg string
		want      []Part
	}{
		{"not multipart", "Subject: x\n\nhello\n", []Part{{Type: "text/plain", Body: []byte("hello\n")}}},
		// A last part without the close delimiter is kept.
		{"unclosed", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n--b\n" +
			"Content-Type: application/gzip; name=r.xml.gz\nContent-Transfer-Encoding: base64\n\naGVsbG8\n",
			[]Part{{Type: "text/plain", Body: []byte("one")}, {Type: "application/gzip", Filename: "r.xml.gz", Body: []byte("hello")}}},
		// Nested multiparts, quoted-printable, the Content-Disposition name first.
		{"nested", "Content-Type: multipart/mixed; boundary=\"o\"\n\npreamble\n--o\nContent-Type: multipart/alternative; boundary=i\n\n" +
			"--i\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\na=3Db\n--i--\n--o\nContent-Type: application/xml; name=x\n" +
			"Content-Disposition: attachment; filename=\"r.xml\"\n\n<feedback/>\n--o--\n",
			[]Part{{Type: "text/plain", Body: []byte("a=b")}, {Type: "application/xml", Filename: "r.xml", Body: []byte("<feedback/>")}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := MessageParts([]byte(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(parts, tt.want) {
				t.Errorf("got  %q\nwant %q", parts, tt.want)
			}
		})
	}
}

func FuzzParseFailure(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpus, "failure", "*.eml"))
	for _, name := range files {
		f.Add(readCorpus(f, filepath.Join("failure", filepath.Base(name))))
	}
	f.Add([]byte(arf(rfc6591Fields, rfc6591Original)))
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := ParseFailure(msg)
		if err == nil && r.FeedbackType != "auth-failure" {
			t.Fatalf("accepted feedback type %q", r.FeedbackType)
		}
	})
}

// TestParseDate: net/mail.ParseDate reads RFC 5322 dates but takes the
// obsolete zone names of RFC 5322 §4.3 for UTC (or for the local zone's
// offset, when it shares the name); parseDate gives them their offsets.
func TestParseDate(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Thu, 1 Feb 2024 10:00:00 +0100", "2024-02-01T09:00:00Z"},
		{"Thu, 1 Feb 2024 10:00:00 GMT", "2024-02-01T10:00:00Z"},
		{"Thu, 1 Feb 2024 10:00:00 UT", "2024-02-01T10:00:00Z"},
		{"Thu, 1 Feb 2024 10:00:00 EST", "2024-02-01T15:00:00Z"},
		{"Thu, 1 Feb 2024 10:00:00 PDT", "2024-02-01T17:00:00Z"},
		{" 1 Feb 2024 10:00:00 CST ", "2024-02-01T16:00:00Z"},
	} {
		got, err := parseDate(tt.in)
		if err != nil {
			t.Errorf("parseDate(%q): %v", tt.in, err)
			continue
		}
		if s := got.UTC().Format(time.RFC3339); s != tt.want {
			t.Errorf("parseDate(%q) = %s; want %s", tt.in, s, tt.want)
		}
	}
	if _, err := parseDate("yesterday"); err == nil {
		t.Error("parseDate(yesterday): no error")
	}
}
