package bounce

import (
	"strings"

	"github.com/mailtriage/mailtriage/internal/ascii"
)

// readFeedback reads an ARF report (RFC 5965 §3.1): its feedback type and
// source address, and the recipient complained of: Original-Rcpt-To,
// else the returned message's To, else nobody named: feedback loops
// often redact the address, and the complaint counts all the same.
func readFeedback(m *Message, h header, p *parts) {
	var g header
	if gs := fieldGroups(p.feedback); len(gs) > 0 {
		g = gs[0]
	} else {
		g = header{}
	}
	m.FeedbackType = strings.ToLower(cmpOr(g.get("feedback-type"), "abuse"))
	m.SourceIP = g.get("source-ip")
	m.ReportingMTA = typed(g.get("reporting-mta"))
	var addrs []string
	for _, v := range g["original-rcpt-to"] {
		addrs = append(addrs, findAddresses(v)...)
	}
	if len(addrs) == 0 {
		for _, v := range g["removal-recipient"] {
			addrs = append(addrs, findAddresses(v)...)
		}
	}
	if len(addrs) == 0 && p.original.To != "" {
		addrs = []string{p.original.To}
	}
	if len(addrs) == 0 && p.originalHeader != nil {
		addrs = findAddresses(strings.Join(p.originalHeader["to"], ","))
	}
	if len(addrs) == 0 {
		// Redacted ("undisclosed", as Yahoo's and Microsoft's loops do):
		// the complaint stands, about an address the loop won't name.
		addrs = []string{""}
	}
	for _, a := range dedupe(addrs) {
		m.Recipients = append(m.Recipients, Recipient{Address: a, Action: "failed", Diagnostic: strings.TrimSpace(diagnosticProse(p))})
	}
}

// isFeedbackText reports whether a message without a feedback-report part
// is a complaint report all the same: an older loop's "abuse report"
// whose header says so.
func isFeedbackText(h header, p *parts) bool {
	if p.feedback != nil || p.status != nil {
		return false
	}
	ct := strings.ToLower(h.get("content-type"))
	return strings.Contains(ct, "report-type=feedback-report") || strings.Contains(ct, "report-type=\"feedback-report\"")
}

// isAutoReply reports whether a message is an automatic reply (RFC 3834
// §5: Auto-Submitted: auto-replied), or one that says so the older ways:
// the vacation headers of common software and the subjects they write.
func isAutoReply(h header) bool {
	as := strings.ToLower(h.get("auto-submitted"))
	if strings.HasPrefix(as, "auto-replied") {
		return true
	}
	if h.get("x-autoreply") != "" || h.get("x-autorespond") != "" || strings.EqualFold(h.get("x-auto-response-suppress"), "all") && autoSubject(h.get("subject")) {
		return true
	}
	if p := strings.ToLower(h.get("precedence")); p == "auto_reply" {
		return true
	}
	return autoSubject(h.get("subject")) && !looksLikeBounceSubject(h.get("subject"))
}

// autoSubject reports whether a subject is a vacation notice's.
func autoSubject(s string) bool {
	s = strings.ToLower(decodeWords(s))
	for _, p := range []string{"auto:", "automatic reply", "auto reply", "autoreply", "auto-reply", "out of office", "out of the office", "vacation", "away from", "i am away", "absence", "abwesend", "réponse automatique"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// readAutoReply reads an automatic reply: its recipient is the person
// away, who sent it.
func readAutoReply(m *Message, h header) {
	if m.From == "" {
		return
	}
	m.Recipients = append(m.Recipients, Recipient{Address: m.From, Action: "delivered", Diagnostic: strings.TrimSpace(m.Subject)})
}

// looksLikeBounce reports whether a message without a delivery-status
// part is a bounce in prose: from a mail system (the null sender's
// MAILER-DAEMON, postmaster), or with a bounce's subject.
func looksLikeBounce(h header, p *parts) bool {
	from := strings.ToLower(h.get("from"))
	for _, r := range []string{"mailer-daemon", "postmaster", "mail delivery", "mail-daemon", "maildaemon", "mail administrator", "delivery subsystem", "mail delivery system"} {
		if strings.Contains(from, r) {
			return true
		}
	}
	if looksLikeBounceSubject(h.get("subject")) {
		return true
	}
	return h.get("x-failed-recipients") != ""
}

func looksLikeBounceSubject(s string) bool {
	s = strings.ToLower(decodeWords(s))
	for _, p := range []string{"undeliver", "undelivered", "delivery status", "delivery failure", "delivery failed", "delivery notification", "failure notice", "returned mail", "mail delivery", "could not be delivered", "non remis", "nondeliverable", "non-deliverable", "not delivered", "delivery problem", "rejected", "returned to sender", "mail system error", "error sending", "warning: could not send", "delivery has failed", "message not delivered", "unzustellbar", "unable to deliver"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// bounceProse reports whether a message's text reads as a bounce though
// its header does not say so (a provider's own notice, from a no-reply
// address, in its own words).
func bounceProse(p *parts) bool {
	for _, t := range p.prose() {
		lower := ascii.Lower(t)
		for _, phrase := range bouncePhrases {
			if strings.Contains(lower, phrase) {
				return true
			}
		}
	}
	return false
}

var bouncePhrases = []string{
	"could not be delivered", "couldn't be delivered", "undeliverable", "delivery failed", "delivery has failed",
	"permanent error", "invalid user address", "user unknown", "no such user", "mailbox is full", "mailbox full",
	"could not deliver", "was not delivered", "failed permanently", "delivery status notification", "unable to deliver",
	"message you sent", "did not reach", "not be delivered",
}
