package dmarcreport

import (
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/internal/errtext"
)

// MaxFailureSize bounds a failure report message. A report carries one
// message, often redacted to its header; 32 MB is more than any carries.
const MaxFailureSize = 32 << 20

// ErrNotFailure means a message is not a DMARC failure report: it has no
// message/feedback-report part, or its feedback type is not auth-failure.
var ErrNotFailure = errors.New("dmarcreport: not a failure report")

// ParseFailure reads a failure report: an ARF message (RFC 5965, a
// multipart/report of report-type feedback-report) whose
// message/feedback-report part has Feedback-Type auth-failure and the
// fields of RFC 6591 §3.1, with RFC 9991's Identity-Alignment and
// Auth-Failure as comma lists, and the header of the reported message from
// its third part (message/rfc822 or text/rfc822-headers). Reporters that
// send the parts in a multipart/mixed, or the feedback report
// base64-encoded (Netease does both), are read too.
func ParseFailure(msg []byte) (*Failure, error) {
	if len(msg) > MaxFailureSize {
		return nil, fmt.Errorf("%w: the message is larger than %d MB", ErrTooLarge, MaxFailureSize>>20)
	}
	parts, err := MessageParts(msg)
	var feedback, original *Part
	for i := range parts {
		switch p := &parts[i]; p.Type {
		case "message/feedback-report":
			if feedback == nil {
				feedback = p
			}
		case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers":
			if original == nil {
				original = p
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if feedback == nil {
		return nil, fmt.Errorf("%w: no message/feedback-report part (RFC 5965 §2)", ErrNotFailure)
	}
	f, err := readFeedback(feedback.Body)
	if err != nil {
		return nil, err
	}
	if original != nil {
		f.reported(original.Body)
	}
	return f, nil
}

// readFeedback reads the fields of a message/feedback-report part (RFC
// 5965 §3.1, RFC 6591 §3.1, RFC 9991 §3).
func readFeedback(body []byte) (*Failure, error) {
	h, _ := readHeader(body)
	f := &Failure{
		FeedbackType:      strings.ToLower(h.get("feedback-type")),
		UserAgent:         h.get("user-agent"),
		Version:           h.get("version"),
		ReportingMTA:      h.get("reporting-mta"),
		OriginalMailFrom:  angleAddr(h.get("original-mail-from")),
		ReportedDomain:    strings.ToLower(strings.TrimSuffix(h.get("reported-domain"), ".")),
		AuthFailure:       commaList(h.all("auth-failure")),
		IdentityAlignment: commaList(h.all("identity-alignment")),
		DeliveryResult:    strings.ToLower(h.get("delivery-result")),
		DKIMDomain:        strings.ToLower(h.get("dkim-domain")),
		DKIMIdentity:      h.get("dkim-identity"),
		DKIMSelector:      h.get("dkim-selector"),
		DKIMCanonicalized: h.get("dkim-canonicalized-header"),
		SPFDNS:            h.get("spf-dns"),

		AuthenticationResults: h.all("authentication-results"),
		OriginalEnvelopeID:    h.get("original-envelope-id"),
	}
	switch f.FeedbackType {
	case "":
		return nil, fmt.Errorf("%w: the feedback report has no Feedback-Type (RFC 5965 §3.1)", ErrNotFailure)
	case "auth-failure":
	default:
		return nil, fmt.Errorf("%w: Feedback-Type is %s, not auth-failure (RFC 6591 §3)", ErrNotFailure, errtext.Quote(f.FeedbackType))
	}
	for _, v := range h.all("original-rcpt-to") {
		if a := angleAddr(v); a != "" {
			f.OriginalRcptTo = append(f.OriginalRcptTo, a)
		}
	}
	if t, err := parseDate(h.get("arrival-date")); err == nil {
		f.Arrival = t.UTC()
	}
	if v := h.get("source-ip"); v != "" {
		ip, err := sourceIP(v)
		if err != nil {
			return nil, fmt.Errorf("%w: Source-IP %s is not an IP address", ErrInvalid, errtext.Quote(v))
		}
		f.SourceIP = ip
	}
	return f, nil
}

// reported reads the header of the reported message (RFC 6591 §3.2: the
// third part, the message or its header).
func (f *Failure) reported(msg []byte) {
	h, _ := readHeader(msg)
	f.From = firstAddress(h.get("from"))
	var to []string
	for _, v := range h.all("to") {
		if list, err := mail.ParseAddressList(v); err == nil {
			for _, a := range list {
				to = append(to, a.Address)
			}
		} else if v = decodeWords(v); v != "" {
			to = append(to, v)
		}
	}
	f.To = strings.Join(to, ", ")
	f.Subject = decodeWords(h.get("subject"))
	f.MessageID = strings.Trim(h.get("message-id"), "<> ")
	if t, err := parseDate(h.get("date")); err == nil {
		f.Date = t.UTC()
	}
}

// sourceIP reads Source-IP, which reporters write bare, in brackets, or
// followed by a comment.
func sourceIP(v string) (netip.Addr, error) {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t("); i > 0 {
		v = v[:i]
	}
	v = strings.Trim(v, "[]")
	v = strings.TrimPrefix(strings.TrimPrefix(v, "IPv6:"), "ipv6:")
	ip, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}, err
	}
	return ip.Unmap(), nil
}

// commaList splits the values of a field that RFC 9991 allows as a comma
// list, lower case, empty entries dropped.
func commaList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// angleAddr returns the address of an Original-Mail-From or
// Original-Rcpt-To value: "<a@b>", "a@b", or "" for the null path.
func angleAddr(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	return v
}

// firstAddress returns the address of a From field, or the field decoded
// when it is not a valid address list.
func firstAddress(v string) string {
	if list, err := mail.ParseAddressList(v); err == nil && len(list) > 0 {
		return list[0].Address
	}
	if a := angleAddr(v); a != v {
		return a
	}
	return decodeWords(v)
}

// decodeWords decodes the encoded words of RFC 2047 in a header value, in
// any charset the WHATWG knows.
func decodeWords(v string) string {
	d := mime.WordDecoder{CharsetReader: charsetReader}
	if s, err := d.DecodeHeader(v); err == nil {
		return s
	}
	return v
}

// parseDate reads an RFC 5322 date, with the obsolete zone names of
// §4.3, which net/mail takes for UTC.
func parseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, ' '); i > 0 {
		if z := obsZone(v[i+1:]); z != "" {
			v = v[:i+1] + z
		}
	}
	return mail.ParseDate(v)
}

func obsZone(name string) string {
	switch name {
	case "UT", "GMT":
		return "+0000"
	case "EDT":
		return "-0400"
	case "EST", "CDT":
		return "-0500"
	case "CST", "MDT":
		return "-0600"
	case "MST", "PDT":
		return "-0700"
	case "PST":
		return "-0800"
	}
	return ""
}
