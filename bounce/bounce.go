// Package bounce reads the messages mail systems send back about mail:
// delivery status notifications (RFC 3464, in the multipart/report of
// RFC 6522, and the UTF-8 forms of RFC 6533), the non-standard bounces
// that many MTAs and providers still write as plain text (Exim, qmail,
// Sendmail, Exchange, webmail providers), feedback reports (ARF, RFC
// 5965) and automatic replies (RFC 3834). For each it gives the
// recipients it is about, each with what the report says: the action,
// the status code, the remote server, and the diagnostic text with the
// SMTP command it answered.
//
// The package reads; it does not judge. What a diagnostic means is the
// classifier's business (package classify).
package bounce

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/internal/ascii"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Kind says what a message is.
type Kind string

const (
	// DSN is a delivery status notification: a bounce, a delay warning or a
	// delivery report, standard or not.
	DSN Kind = "dsn"
	// Feedback is a complaint or other feedback report (ARF).
	Feedback Kind = "feedback"
	// AutoReply is an automatic reply: a vacation notice, an
	// out-of-office.
	AutoReply Kind = "autoreply"
)

// Message is one returned message, read.
type Message struct {
	Kind Kind `json:"kind"`
	// Format says how it was read: "rfc3464", "arf", "rfc3834", or "text"
	// for a bounce in prose.
	Format    string    `json:"format"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date,omitzero"`
	MessageID string    `json:"message_id,omitempty"`
	// ReportingMTA is the MTA that wrote the report.
	ReportingMTA string `json:"reporting_mta,omitempty"`
	// Gateway names the email security gateway that wrote the report,
	// when its header says so ("mcafee", "surfcontrol"): a gateway in
	// front of the mailboxes that refuses recipients for its own reasons.
	Gateway string `json:"gateway,omitempty"`
	// Original is what the report shows of the message it is about.
	Original   Original    `json:"original"`
	Recipients []Recipient `json:"recipients"`
	// FeedbackType is the ARF Feedback-Type (abuse, fraud, virus, other,
	// not-spam, auth-failure), for Feedback.
	FeedbackType string `json:"feedback_type,omitempty"`
	// SourceIP is the ARF Source-IP: the sending address complained of.
	SourceIP string `json:"source_ip,omitempty"`
}

// Original is what a report quotes of the message it is about.
type Original struct {
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	Subject   string `json:"subject,omitempty"`
	MessageID string `json:"message_id,omitempty"`
}

// Recipient is what a report says about one recipient.
type Recipient struct {
	// Address is the recipient's address; empty only in a feedback report
	// whose loop redacts it.
	Address string `json:"address"`
	// Original is the Original-Recipient, when the report gives it.
	Original string `json:"original,omitempty"`
	// Action is RFC 3464's: failed, delayed, delivered, relayed or
	// expanded; "" when a prose bounce does not say (it failed).
	Action string `json:"action,omitempty"`
	// Status is the status code, X.Y.Z (RFC 3463), and StatusText the
	// comment some reports give after it ("5.2.1 (mailbox disabled)").
	Status     string `json:"status,omitempty"`
	StatusText string `json:"status_text,omitempty"`
	RemoteMTA  string `json:"remote_mta,omitempty"`
	// DiagnosticType is "smtp" for an SMTP reply, "x-unix" and others for
	// an MTA's own text; "" in prose.
	DiagnosticType string `json:"diagnostic_type,omitempty"`
	Diagnostic     string `json:"diagnostic"`
	// Command is the SMTP command the reply answered when the report says:
	// CONN (the greeting), EHLO, MAIL, RCPT, DATA (the end of data) or
	// STARTTLS.
	Command     string    `json:"command,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
}

// Reply decodes the diagnostic as the reply of the remote server: the
// server the report names, when the text names none, and the command the
// report says it answered.
func (r Recipient) Reply() smtpreply.Detail {
	d := smtpreply.ParseDetail(r.Diagnostic)
	if d.Host == "" {
		d.Host = r.RemoteMTA
	}
	if d.Command == "" {
		d.Command = r.Command
	}
	return d
}

// ErrNotReport is wrapped by Parse's error for a message that is not a
// report about delivery: neither a bounce, nor a feedback report, nor an
// automatic reply.
var ErrNotReport = errors.New("not a bounce, feedback report or automatic reply")

// ErrNoRecipient is wrapped by Parse's error for a report from which no
// recipient could be recovered.
var ErrNoRecipient = errors.New("no recipient could be recovered")

// maxSize bounds the bytes of a message that are read: reports put their
// substance first, and a 50 MB attachment must not cost 50 MB of work.
const maxSize = 4 << 20

// Parse reads one message. It returns ErrNotReport (wrapped) for an
// ordinary message and ErrNoRecipient for a report that names nobody; the
// Message returned beside ErrNoRecipient holds what was read.
func Parse(raw []byte) (*Message, error) {
	if len(raw) > maxSize {
		raw = raw[:maxSize]
	}
	raw = normalize(raw)
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%w: the message is empty", ErrNotReport)
	}
	hdr, body := splitHeader(raw)
	m := &Message{Recipients: []Recipient{}}
	m.From = headerAddress(hdr.get("from"))
	m.To = headerAddress(hdr.get("to"))
	m.Subject = decodeWords(hdr.get("subject"))
	m.MessageID = strings.Trim(hdr.get("message-id"), "<> ")
	if t, err := parseDate(hdr.get("date")); err == nil {
		m.Date = t
	}
	m.Gateway = gatewayOf(hdr, raw[:len(raw)-len(body)], m.From)
	parts := walk(hdr, body)
	switch {
	case parts.feedback != nil || isFeedbackText(hdr, parts):
		m.Kind, m.Format = Feedback, "arf"
		readFeedback(m, hdr, parts)
	case parts.status != nil:
		m.Kind, m.Format = DSN, "rfc3464"
		readStatus(m, parts)
	case looksLikeBounce(hdr, parts):
		// Before auto-replies: Google marks its bounces Auto-Submitted:
		// auto-replied too.
		m.Kind, m.Format = DSN, "text"
		readText(m, hdr, parts)
	case isAutoReply(hdr):
		m.Kind, m.Format = AutoReply, "rfc3834"
		readAutoReply(m, hdr)
	case sesIn(parts) != nil:
		readSES(m, sesIn(parts))
	case bounceProse(parts):
		m.Kind, m.Format = DSN, "text"
		readText(m, hdr, parts)
	default:
		return m, fmt.Errorf("bounce: %w (From %q, Subject %q)", ErrNotReport, m.From, m.Subject)
	}
	m.Original = parts.original
	if len(m.Recipients) == 0 {
		return m, fmt.Errorf("bounce: %s report: %w", m.Format, ErrNoRecipient)
	}
	return m, nil
}

// normalize makes every line end in LF: reports come with CRLF (as sent),
// LF (as stored on Unix) and CR alone (old Mac mail stores).
func normalize(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("\r")) {
		return raw
	}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
}

// header is a message or part header, names folded to lower case.
type header map[string][]string

func (h header) get(name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// splitHeader reads a header block (RFC 5322 §2.2, folded lines joined)
// and returns it with the body after the blank line. Lines that are not
// fields end the header, as some reports have no blank line after it.
// Only the fields this package reads are kept: the DKIM signatures and
// Received chains of a returned message are most of its header and none
// of its meaning.
func splitHeader(b []byte) (header, []byte) {
	h := header{}
	var name string
	inField := false
	var value strings.Builder
	keep := false
	flush := func() {
		if keep {
			h[name] = append(h[name], value.String())
		}
		value.Reset()
	}
	var lower [64]byte
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			return h, rest
		}
		if (line[0] == ' ' || line[0] == '\t') && inField {
			if keep {
				value.WriteByte(' ')
				value.Write(bytes.TrimSpace(line))
			}
			b = rest
			continue
		}
		n, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(n) == 0 || bytes.ContainsAny(n, " \t") {
			if !inField && bytes.HasPrefix(line, []byte("From ")) {
				b = rest // an mbox separator line
				continue
			}
			flush()
			return h, b
		}
		flush()
		inField = true
		// Most fields are not kept: look the name up without making a
		// string of it (the compiler spares map[string(b)] the copy).
		ln := ascii.AppendLower(lower[:0], n)
		keep = wanted[string(ln)]
		if keep {
			name = string(ln)
			value.Write(bytes.TrimSpace(v))
		}
		b = rest
	}
	flush()
	return h, nil
}

// wanted are the header fields the package reads.
var wanted = map[string]bool{
	"from": true, "to": true, "subject": true, "date": true, "message-id": true,
	"content-type": true, "content-transfer-encoding": true,
	"auto-submitted": true, "precedence": true, "x-autoreply": true, "x-autorespond": true, "x-auto-response-suppress": true,
	"x-failed-recipients": true, "x-nai-header": true, "x-mailer": true,
}

// headerAddress is the address of a From or To field, lower-cased; the
// field itself when it does not parse.
func headerAddress(v string) string {
	if v == "" {
		return ""
	}
	if a, ok := plainAddress(v); ok {
		return strings.ToLower(a)
	}
	if a, err := mail.ParseAddress(v); err == nil {
		return strings.ToLower(a.Address)
	}
	if as := findAddresses(v); len(as) > 0 {
		return as[0]
	}
	return ""
}

// plainAddress reads the two forms nearly every header field takes,
// "jane@example.org" and "Jane Doe <jane@example.org>", without the cost
// of a full RFC 5322 parser; ok is false for anything else (comments,
// quoted local parts, lists), which the full parser then reads.
func plainAddress(v string) (addr string, ok bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 || strings.TrimSpace(v[i+j+1:]) != "" {
			return "", false
		}
		v = strings.TrimSpace(v[i+1 : i+j])
	}
	at := strings.IndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || strings.ContainsAny(v, " \t\"(),;:<>[]\\") || strings.IndexByte(v[at+1:], '@') >= 0 {
		return "", false
	}
	return v, true
}

// parseDate reads an RFC 5322 §3.3 date. The form nearly every mail
// system writes is tried first, as one layout: net/mail.ParseDate tries a
// dozen, and a failed try costs an error value.
func parseDate(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if i := strings.IndexByte(v, '('); i > 0 {
		v = strings.TrimSpace(v[:i]) // "+0900 (JST)"
	}
	if t, err := time.Parse("Mon, _2 Jan 2006 15:04:05 -0700", v); err == nil {
		return t, nil
	}
	return mail.ParseDate(s)
}

// gatewayOf names the email security gateway a report's header shows to
// have written it: McAfee's appliances sign their messages with
// X-NAI-Header, SurfControl's with its X-Mailer, McAfee's hosted service
// (formerly MX Logic) sends from mxlogic.net, and MailFoundry's
// appliances name themselves in their Received field (raw is the header
// block as sent: Received fields are not kept).
func gatewayOf(h header, raw []byte, from string) string {
	switch {
	case strings.Contains(strings.ToLower(h.get("x-nai-header")), "mcafee"), strings.HasSuffix(from, ".mxlogic.net"):
		return "mcafee"
	case strings.Contains(strings.ToLower(h.get("x-mailer")), "surfcontrol"):
		return "surfcontrol"
	case bytes.Contains(raw, []byte("(MAILFOUNDRY)")):
		return "mailfoundry"
	}
	return ""
}
