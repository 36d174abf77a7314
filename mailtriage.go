// Package mailtriage holds the nouns the whole tool shares: the normalised
// delivery Event that every log source produces, the Verdict that says what an
// SMTP reply means, and the Finding that every command reports.
//
// The package knows no log format, rule or provider. Readers of a format (for
// example source/postfix) produce Events, the classify package produces
// Verdicts, and the analysis package turns both into Findings. See DESIGN.md
// in the project's shared notes for the product these nouns serve.
package mailtriage

import (
	"time"

	"github.com/mailtriage/mailtriage/smtpreply"
)

// Kind says what an Event records.
type Kind uint8

const (
	// Attempt is one remote delivery try for one recipient by an SMTP or
	// LMTP client, whether or not a server answered.
	Attempt Kind = iota + 1
	// LocalDeferral is a deferral without a new remote try: the MTA itself
	// held the recipient back (Postfix "delivery temporarily suspended", the
	// error and retry agents, a content filter that was not reachable).
	LocalDeferral
	// Final is the end of one recipient's life in the queue: delivered,
	// bounced, expired, or still pending when the input ended.
	Final
	// Message closes one message: it was removed from the queue, or the
	// input ended. Its Recipients field counts the message's recipients
	// (for an ordinary message, those whose Final events were emitted). A
	// source emits it once per message, also for the MTA's own
	// notifications (Notification set), whose recipients have no other
	// events.
	Message
	// Complaint is a recipient's complaint about a message: a feedback
	// report (ARF, RFC 5965) from a mailbox provider's feedback loop, or an
	// ESP's complaint event. It is not a delivery outcome.
	Complaint
)

// Status is the result of an attempt or the final outcome of a recipient.
type Status uint8

const (
	StatusNone Status = iota
	Delivered         // accepted by the next hop (2xx) or delivered locally
	Deferred          // a temporary failure; the MTA will retry
	Bounced           // a permanent failure; the sender is notified
	Expired           // the MTA gave up after the queue lifetime (queue timeout)
	Pending           // still queued when the input ended
	Deleted           // removed from the queue by an administrator
	// Discarded: dropped on the sending host, never sent, the sender not
	// told: a content filter's discard (amavis "250 2.7.0 Ok, discarded"),
	// Postfix's discard(8) transport, which Postfix logs as sent; Exim's
	// redirection to :blackhole:; Sendmail's stat=discarded.
	Discarded
)

var statusNames = [...]string{"", "delivered", "deferred", "bounced", "expired", "pending", "deleted", "discarded"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// Event is one delivery attempt or outcome for one recipient, normalised
// from any source.
type Event struct {
	Kind   Kind
	Status Status
	Time   time.Time
	Source string // the format that produced the event: "postfix", ...

	Host      string // the logging host (MTA), part of the message key
	QueueID   string // the MTA's id for the message
	MessageID string // the Message-ID header, when logged
	Sender    string // the envelope sender, "" for the null sender
	// SenderUnknown says the log never named the message's envelope
	// sender (it began after the line that did; an export without it):
	// Sender is "" then, and is not the null sender.
	SenderUnknown bool
	Recipient     string
	Domain        string // the recipient's domain, lower case
	Lane          string // the receiving infrastructure the domain is delivered to
	RemoteHost    string // the server that answered (or was tried)
	RemoteIP      string
	LocalIP       string // the sending IP or pool, when the source names it
	// LocalName is the name the source gives the sending address
	// (KumoMTA's egress source, PowerMTA's VirtualMTA), when it logs
	// both: LocalIP is then the address.
	LocalName string

	// Detail is what the delivery agent reported, decoded. For a Final
	// event of an expired recipient it is the root cause: the last reply a
	// remote server gave, or, failing that, the last failure text.
	Detail  smtpreply.Detail
	Verdict Verdict
	// Attempts is the number of remote attempts the recipient had, on Final
	// events.
	Attempts int
	// Queued is when the message entered the queue, when known.
	Queued time.Time
	// Notification marks a Message event of a bounce, delay or delivery
	// notification the MTA generated (null sender).
	Notification bool
	// Recipients is the number of recipients of a Message event.
	Recipients int
	// Unnamed, on the Message event of a message still queued when the
	// input ended, counts the recipients its MTA counted (Postfix's
	// nrcpt=) that no line named: not yet tried, and not among
	// Recipients.
	Unnamed int
}

// Class says whether a reply asks the sender to try again.
type Class string

const (
	Temporary Class = "temporary"
	Permanent Class = "permanent"
	Success   Class = "success"
)

// Owner is who can fix what a verdict or finding describes.
type Owner string

const (
	OwnerSender    Owner = "sender"    // the organisation whose mail it is
	OwnerESP       Owner = "esp"       // whoever runs the sending MTA or platform
	OwnerRecipient Owner = "recipient" // the recipient's side: their provider or admin
)

// Verdict is what an SMTP reply means.
type Verdict struct {
	Class    Class  `json:"class"`
	Reason   string `json:"reason"`   // Sisimai's reason name: blocked, expired, userunknown, speeding, ...
	Category string `json:"category"` // throttling, block, reputation, authentication, volume, address, ...
	Provider string `json:"provider"` // who runs the answering servers: apple, google, microsoft, ...
	Filter   string `json:"filter"`   // the filter in front of them: proofpoint, mimecast, ...
	Action   string `json:"action"`
	Owner    Owner  `json:"owner"`
	Rule     string `json:"rule"` // the id of the rule that decided
	Ref      string `json:"ref,omitempty"`
}

// Who names who answered, for people: "apple behind proofpoint", "google",
// "proofpoint" (a filter alone), or "" when nobody is known.
func Who(provider, filter string) string {
	switch {
	case provider != "" && filter != "" && provider != filter:
		return provider + " behind " + filter
	case provider != "":
		return provider
	}
	return filter
}

// Severity orders findings. Unknown means a check could not be made.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
	SeverityUnknown Severity = "unknown"
)

// Finding is one thing a command found, in the shape every command shares.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Category string   `json:"category"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
	Owner    Owner    `json:"owner"`
	Evidence []string `json:"evidence"`
}
