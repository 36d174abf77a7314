package classify

import (
	"strings"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/bounce"
	"github.com/mailtriage/mailtriage/internal/ascii"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Bounce says what a returned message says of one of its recipients,
// with Sisimai's reason names. A feedback report is a complaint
// ("feedback"), an automatic reply a "vacation", a delivery report
// "delivered"; a bounce is its diagnostic classified as a reply from its
// remote server, then read in the light of the report around it: the
// command the reply answered and the status code the report gives.
func (c *Classifier) Bounce(m *bounce.Message, r bounce.Recipient) mailtriage.Verdict {
	return c.BounceDetail(m, r, r.Reply())
}

// BounceDetail is Bounce for a caller that has decoded the diagnostic
// (r.Reply()) already, and keeps it.
func (c *Classifier) BounceDetail(m *bounce.Message, r bounce.Recipient, d smtpreply.Detail) mailtriage.Verdict {
	switch m.Kind {
	case bounce.Feedback:
		return mailtriage.Verdict{
			Class: mailtriage.Permanent, Reason: "feedback", Category: "complaint", Owner: mailtriage.OwnerSender, Rule: "arf-" + m.FeedbackType,
			Action: "A recipient reported the message (" + m.FeedbackType + "): stop mailing them, and look at what they were sent and why.",
			Ref:    "https://www.rfc-editor.org/rfc/rfc5965",
		}
	case bounce.AutoReply:
		return mailtriage.Verdict{
			Class: mailtriage.Success, Reason: "vacation", Category: "auto-reply", Owner: mailtriage.OwnerRecipient, Rule: "auto-reply",
			Action: "An automatic reply (out of office): the message was delivered; nothing to do.",
			Ref:    "https://www.rfc-editor.org/rfc/rfc3834",
		}
	}
	switch r.Action {
	case "delivered", "relayed", "expanded":
		return mailtriage.Verdict{Class: mailtriage.Success, Reason: "delivered", Category: "success", Owner: mailtriage.OwnerSender, Rule: "dsn-" + r.Action,
			Action: "The report says the message was " + r.Action + "."}
	}
	v := c.Classify(d)
	if v.Rule == Unclassified && !d.Answered() && r.Diagnostic != "" {
		// Prose with no reply code ("Unknown user", "The recipient name is
		// not recognized") is the report of a failure: read it as a reply
		// of the report's class.
		code := "550 "
		if strings.HasPrefix(r.Status, "4") {
			code = "450 "
		}
		pd := smtpreply.ParseDetail(code + r.Diagnostic)
		pd.Host, pd.Command = d.Host, d.Command
		if pv := c.Classify(pd); pv.Rule != Unclassified && !generic[pv.Rule] {
			v = pv
		}
	}
	if m.Gateway != "" && anyUnknown[v.Rule] && r.Command != "RCPT" && statusReason(r.Status) != "userunknown" && statusDetail(d.Reply.Enhanced) != "1.1" {
		// An email security gateway's own "unknown user", with no code
		// that says the mailbox is unknown: the gateway checked the
		// recipient against its own list, in front of the mailboxes.
		v = rewrite(v, "filtered", "bounce-gateway-refused", "The recipient's email security gateway refused the address by its own list, not the mailbox server: check the address; if it is right, the recipient's administrator has to add it to the gateway.")
		v.Filter = m.Gateway
		return v
	}
	v = c.inContext(v, r, d)
	if !d.Answered() {
		// No reply code: the report's status, or its action, says whether
		// the failure is final.
		switch {
		case strings.HasPrefix(r.Status, "5") || r.Status == "" && r.Action == "failed":
			v.Class = mailtriage.Permanent
		case strings.HasPrefix(r.Status, "4"):
			v.Class = mailtriage.Temporary
		}
	}
	return v
}

// inContext reads a diagnostic's verdict in the light of the report
// around it, the way bounce processors (Sisimai first) have long read
// bounces, so their reasons and ours can be compared:
//   - a rejection of the recipient after DATA, in anyone's words, is a
//     content filter's, not an unknown user (the server took the RCPT);
//   - "unknown user" under a status of X.2.1, not at RCPT, is a disabled
//     mailbox, and under X.7.x a policy filter: the status code is the
//     precise word;
//   - a temporary failure in a report of final failure, or a status of
//     X.4.7, means the message gave up in the queue: expired; but when
//     the status is a temporary catch-all (4.0.0, 4.3.0) and the text
//     does not say the message aged out, the report says nothing of the
//     cause: onhold, as Sisimai files what it cannot decide;
//   - where the text says nothing a rule knows, the status code decides
//     (RFC 3463 §3).
func (c *Classifier) inContext(v mailtriage.Verdict, r bounce.Recipient, d smtpreply.Detail) mailtriage.Verdict {
	lower := ascii.Lower(r.Diagnostic)
	if r.Action == "expired" {
		// Not one of RFC 3464's actions, but plain: SendGrid writes it.
		return rewrite(v, "expired", "bounce-expired", "The message stayed in the queue until it expired: the last failure (the diagnostic) is the cause to fix.")
	}
	if r.Command == "CONN" && (generic[v.Rule] || v.Reason == "securityerror") && strings.HasPrefix(r.Diagnostic, "5") {
		return rewrite(v, "blocked", "bounce-at-connect", "The receiver refused the connection itself: the sending IP is blocked there. Look it up on the blocklists (mailtriage blocklist IP) and read the reply for the receiver's delisting path.")
	}
	if anyUnknown[v.Rule] && r.Command != "RCPT" && statusDetail(r.Status) == "2.1" {
		return rewrite(v, "suspend", "bounce-status-disabled", "The report's status says the mailbox is disabled (X.2.1), whatever words the server chose: stop mailing it until the recipient confirms the address again.")
	}
	if anyUnknown[v.Rule] && r.Command != "RCPT" && strings.HasPrefix(statusDetail(r.Status), "7.") {
		return rewrite(v, "filtered", "bounce-status-policy", "The report's status says the recipient was refused by policy (X.7.x), whatever words the server chose: a filter, not an unknown mailbox. Read the reply; check the content and the sender's reputation.")
	}
	if anyUnknown[v.Rule] && r.Command == "DATA" && statusDetail(r.Status) != "1.1" {
		return rewrite(v, "filtered", "bounce-after-data", "The recipient was refused after the message was sent (at DATA): a content or sender filter, not an unknown address. Read the reply; check the content and the sender's reputation.")
	}
	if anyUnknown[v.Rule] && r.Command == "" && d.Command == "" && d.Answered() && !addressStatus(r.Status) && !addressStatus(d.Reply.Enhanced) {
		// Sisimai (Reason::UserUnknown, Reason::Filtered): a remote
		// server's "unknown user" with no addressing status (X.1.x) is
		// the address's fault only when it answered RCPT TO; at a stage
		// the report does not name it may be a filter's answer after
		// DATA, and the address may well exist.
		return rewrite(v, "filtered", "bounce-unknown-stage", "The server said the user is unknown, but neither a status code nor the report says it answered the recipient (RCPT TO): a filter may have refused the message after reading it. Check the address; if it is right, check the content and the sender's reputation.")
	}
	if v.Reason == "hostunknown" && strings.HasPrefix(r.Status, "4") {
		// A DNS failure the report calls temporary (Google's "DNS type
		// 'mx' lookup ... responded with code NXDOMAIN" under 4.0.0): the
		// sender's MTA will look again, so Sisimai files it as a network
		// error, not an unknown host (Rhost::GSuite).
		v.Class = mailtriage.Temporary
		return rewrite(v, "networkerror", "bounce-dns-temporary", "The recipient domain's lookup failed, and the report calls it temporary: the message is retried. If the domain stays unresolvable, the address is dead.")
	}
	// At MAIL FROM the only thing refused is the envelope sender: an
	// unknown address, an unknown domain or "access denied" there is the
	// sender's (Sisimai's rejected, Reason::Rejected), not the recipient's.
	if r.Command == "MAIL" && v.Class == mailtriage.Permanent && (v.Reason == "userunknown" || v.Reason == "hostunknown" || v.Rule == "not-authorized" || v.Rule == "address-other" || v.Rule == "permanent-other" || v.Rule == Unclassified) {
		return rewrite(v, "rejected", "bounce-at-mail-from", "The receiver refused the envelope sender (at MAIL FROM): check that the sender's address and domain exist and resolve, and that the receiver accepts mail from them.")
	}
	if !generic[v.Rule] && !(v.Reason == "networkerror" && timedOut(lower)) {
		return v
	}
	if r.DiagnosticType == "x-unix" {
		return rewrite(v, "mailererror", "bounce-local-mailer", "The recipient's local delivery program (a pipe, procmail, a script) failed: the recipient's administrator has to look.")
	}
	if strings.Contains(strings.ToLower(r.StatusText), "disabled") {
		return rewrite(v, "suspend", "bounce-status-disabled", "The report says the mailbox is disabled: stop mailing it until the recipient confirms the address again.")
	}
	if r.Action == "delayed" {
		// A delay notice whose diagnostic names nothing: Sisimai files
		// those under expired, the message not through in the time the
		// sender's MTA thought enough.
		v.Class = mailtriage.Temporary
		return rewrite(v, "expired", "dsn-delayed", "A delay notice: the message is still queued and being retried. Read the diagnostic for why; it expires if the cause lasts.")
	}
	failed := r.Action == "failed" || r.Action == ""
	temporary := strings.HasPrefix(r.Status, "4") || d.Reply.Class() == 4
	reason := statusReason(r.Status)
	switch {
	case failed && timedOut(lower):
		return rewrite(v, "expired", "bounce-gave-up", "Delivery failed for too long (connection timeouts) and the message was returned: check the destination's MX and the path to it.")
	case reason == v.Reason:
		return v
	case reason != "" && reason != "expired":
		return rewrite(v, reason, "bounce-status-"+r.Status, v.Action)
	case failed && undecided(r.Status) && !expiredText(lower):
		// A final failure whose temporary reply and status name nothing
		// ("450 4.0.0 Temporary failure"): the report does not say the
		// message expired, nor why it failed. Sisimai files what it
		// cannot decide as onhold (Sisimai::Reason).
		return rewrite(v, "onhold", "bounce-undecided", "The report says the delivery failed but not why: the last reply was temporary and names no cause. Retry later; if it fails again, ask the recipient's administrator.")
	case expiredText(lower) || reason == "expired" || failed && temporary:
		return rewrite(v, "expired", "bounce-expired", "The message stayed in the queue until it expired: the last failure (the diagnostic) is the cause to fix.")
	}
	return v
}

func rewrite(v mailtriage.Verdict, reason, rule, action string) mailtriage.Verdict {
	v.Reason, v.Rule, v.Action = reason, rule, action
	return v
}

// generic are the rules that decide by a reply code alone: a report's
// status code says more.
var generic = map[string]bool{
	Unclassified: true, "temporary-other": true, "permanent-other": true, "protocol-error-code": true,
	"mailbox-other": true, "address-other": true, "policy-block": true, "recipient-system-error": true,
}

// anyUnknown are the rules that read "unknown user" in anyone's words.
// After DATA those words are often a content filter's; a provider's own
// rule (Yahoo's "dd This user doesn't have an account", which Yahoo says
// at DATA) is its considered word.
var anyUnknown = map[string]bool{
	"unknown-user-phrases": true, "user-unknown-ambiguous": true, "user-unknown": true, "user-unknown-text": true, "address-other": true,
}

// expiredText reports whether a diagnostic says the message gave up in
// the queue.
func expiredText(lower string) bool {
	for _, p := range []string{"in the queue too long", "envelope expired", "delivery time expired", "message expired", "retry timeout exceeded",
		"unable to deliver this message after", "could not be delivered for", "has not been delivered for", "was not delivered within", "could not deliver for the last"} {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

func timedOut(lower string) bool {
	return strings.Contains(lower, "timed out") || strings.Contains(lower, "timeout")
}

// addressStatus reports whether a status code is an addressing status
// (RFC 3463 §3.2, X.1.x): one that says the reply was about an address.
func addressStatus(s string) bool {
	return strings.HasPrefix(statusDetail(s), "1.")
}

// statusDetail is the subject and detail of a status code: "4.7" of
// "5.4.7".
func statusDetail(s string) string {
	if len(s) < 5 {
		return ""
	}
	return s[2:]
}

// undecided reports whether a status is a temporary catch-all, X.0.0 or
// the "other" code of a subject (4.3.0 "other or undefined mail system
// status", RFC 3463 §3): one that says the failure may pass, and nothing
// of its cause. Sisimai's status table names no reason for them.
func undecided(s string) bool {
	return strings.HasPrefix(s, "4.") && strings.HasSuffix(s, ".0")
}

// statusReason is the reason a status code names (RFC 3463 §3 in
// Sisimai's terms), or "" for the codes that name none (X.0.0, the
// catch-alls of each subject).
func statusReason(s string) string {
	switch statusDetail(s) {
	case "1.1", "1.3":
		return "userunknown"
	case "1.2":
		return "hostunknown"
	case "1.6":
		return "hasmoved"
	case "1.7", "1.8":
		return "rejected"
	case "1.10":
		return "notaccept"
	case "2.0":
		return "filtered"
	case "2.1":
		return "suspend"
	case "2.2":
		return "mailboxfull"
	case "2.3":
		return "exceedlimit"
	case "3.0":
		// X.3.0 names the mail system only in a permanent failure; a
		// temporary one is a catch-all (see undecided).
		if s[0] == '5' {
			return "systemerror"
		}
	case "3.5":
		return "systemerror"
	case "3.1":
		return "systemfull"
	case "3.2":
		return "notaccept"
	case "3.4":
		return "mesgtoobig"
	case "4.1", "4.2", "4.6":
		return "networkerror"
	case "4.5":
		return "systemfull"
	case "4.3":
		return "systemerror"
	case "4.4":
		return "hostunknown"
	case "4.7":
		return "expired"
	case "5.3":
		return "toomanyconn"
	case "6.0", "6.1", "6.2", "6.3", "6.4", "6.5":
		return "contenterror"
	case "7.0", "7.9":
		return "policyviolation"
	case "7.1", "7.6":
		return "securityerror"
	case "7.13":
		return "suspend"
	case "7.7":
		return "contenterror"
	}
	return ""
}
