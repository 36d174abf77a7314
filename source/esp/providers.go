package esp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
)

// ses maps an Amazon SES event (event publishing or identity
// notification).
func ses(o map[string]any) ([]lifecycle.Record, error) {
	typ := str(o, "eventType")
	if typ == "" {
		typ = str(o, "notificationType")
	}
	mail := obj(o, "mail")
	base := lifecycle.Record{Source: "ses", Host: "ses", Key: str(mail, "messageId"), Sender: str(mail, "source")}
	base.Queued, _ = when(str(mail, "timestamp"))
	if id := str(obj(mail, "commonHeaders"), "messageId"); id != "" {
		base.MessageID = strings.Trim(id, "<>")
	}
	var out []lifecycle.Record
	switch typ {
	case "Delivery":
		d := obj(o, "delivery")
		at, err := when(str(d, "timestamp"))
		if err != nil {
			return nil, fmt.Errorf("SES delivery: %w", err)
		}
		for _, rc := range list(d, "recipients") {
			r := base
			r.Time, r.Recipient, r.Status = at, fmt.Sprint(rc), mailtriage.Delivered
			r.Detail = reply(str(d, "smtpResponse"), "")
			r.RemoteIP = str(d, "remoteMtaIp")
			out = append(out, r)
		}
	case "Bounce":
		b := obj(o, "bounce")
		at, err := when(str(b, "timestamp"))
		if err != nil {
			return nil, fmt.Errorf("SES bounce: %w", err)
		}
		status := mailtriage.Bounced
		if str(b, "bounceType") == "Transient" {
			// SES gave up retrying: a queue timeout, in effect.
			status = mailtriage.Expired
		}
		for _, x := range list(b, "bouncedRecipients") {
			br, _ := x.(map[string]any)
			r := base
			r.Time, r.Recipient, r.Status = at, str(br, "emailAddress"), status
			r.Detail = reply(str(br, "diagnosticCode"), str(br, "status"))
			if r.Detail.Text == "" {
				r.Detail = smtpreply.Detail{Kind: smtpreply.Local, Text: "SES " + str(b, "bounceType") + " bounce: " + str(b, "bounceSubType")}
			}
			r.RemoteIP = str(b, "remoteMtaIp")
			switch str(b, "bounceSubType") {
			case "Suppressed", "OnAccountSuppressionList":
				// SES did not send: on its or the account's
				// suppression list.
				r.NoTry = true
			}
			if status == mailtriage.Expired {
				// The last failure first, then the end.
				d := r
				d.Status = mailtriage.Deferred
				out = append(out, d)
			}
			out = append(out, r)
		}
	case "DeliveryDelay":
		d := obj(o, "deliveryDelay")
		at, err := when(str(d, "timestamp"))
		if err != nil {
			return nil, fmt.Errorf("SES delay: %w", err)
		}
		for _, x := range list(d, "delayedRecipients") {
			dr, _ := x.(map[string]any)
			r := base
			r.Time, r.Recipient, r.Status = at, str(dr, "emailAddress"), mailtriage.Deferred
			r.Detail = reply(str(dr, "diagnosticCode"), str(dr, "status"))
			switch str(d, "delayType") {
			case "InternalFailure", "SendingDeferral":
				// SES delayed it itself: no try at the receiver.
				r.Local = true
				r.Detail.Kind = smtpreply.Local
			}
			out = append(out, r)
		}
	case "Send":
		base.Time = base.Queued
		return []lifecycle.Record{base}, nil
	case "Complaint":
		c := obj(o, "complaint")
		at, err := when(str(c, "timestamp"))
		if err != nil {
			return nil, fmt.Errorf("SES complaint: %w", err)
		}
		// OnAccountSuppressionList: SES did not send, as the address is
		// on the account's suppression list; no one complained now.
		suppressed := str(c, "complaintSubType") == "OnAccountSuppressionList"
		for _, x := range list(c, "complainedRecipients") {
			cr, _ := x.(map[string]any)
			r := base
			r.Time, r.Recipient = at, str(cr, "emailAddress")
			if suppressed {
				r.Status, r.NoTry = mailtriage.Bounced, true
				r.Detail = smtpreply.Detail{Kind: smtpreply.Local, Text: "SES did not send: the address is on the account's suppression list after a complaint"}
			} else {
				r.Complaint = true
				r.Detail = smtpreply.Detail{Kind: smtpreply.Local, Text: "SES complaint: " + firstOf(str(c, "complaintFeedbackType"), "abuse")}
			}
			out = append(out, r)
		}
	default: // Reject, Open, Click, Rendering Failure, Subscription
		return nil, nil
	}
	return out, nil
}

// sendgrid maps one event of a SendGrid event webhook batch.
func sendgrid(o map[string]any) ([]lifecycle.Record, error) {
	at, err := when(str(o, "timestamp"))
	if err != nil {
		return nil, fmt.Errorf("SendGrid event: %w", err)
	}
	// sg_message_id is the message id, a dot, and the filter's suffix.
	key, _, _ := strings.Cut(str(o, "sg_message_id"), ".")
	r := lifecycle.Record{Time: at, Source: "sendgrid", Host: "sendgrid", Key: key, Recipient: str(o, "email"),
		MessageID: strings.Trim(str(o, "smtp-id"), "<>"), Attempts: num(o, "attempt"), LocalIP: str(o, "ip")}
	if r.Key == "" {
		r.Key = r.MessageID
	}
	switch str(o, "event") {
	case "delivered":
		r.Status, r.Detail = mailtriage.Delivered, reply(str(o, "response"), "")
	case "deferred":
		// The reply is in response, not reason (StrongGrid #344).
		r.Status, r.Detail = mailtriage.Deferred, reply(firstOf(str(o, "response"), str(o, "reason")), "")
	case "bounce":
		r.Status, r.Detail = mailtriage.Bounced, reply(str(o, "reason"), str(o, "status"))
	case "processed":
		r.Recipient = ""
		return []lifecycle.Record{r}, nil
	case "dropped":
		// SendGrid did not send: a suppressed address ("Bounced
		// Address", "Unsubscribed Address", ...) or an invalid one.
		r.Status, r.NoTry = mailtriage.Bounced, true
		r.Detail = smtpreply.Detail{Kind: smtpreply.Local, Text: "SendGrid dropped: " + firstOf(str(o, "reason"), "no reason given")}
	case "spamreport":
		r.Complaint, r.Detail = true, smtpreply.Detail{Kind: smtpreply.Local, Text: "SendGrid spam report"}
	default: // open, click, unsubscribe, ...
		return nil, nil
	}
	return []lifecycle.Record{r}, nil
}

// mailgun maps the event-data of a Mailgun webhook (v3).
func mailgun(d map[string]any) ([]lifecycle.Record, error) {
	at, err := when(str(d, "timestamp"))
	if err != nil {
		return nil, fmt.Errorf("Mailgun event: %w", err)
	}
	msg := obj(obj(d, "message"), "headers")
	ds := obj(d, "delivery-status")
	r := lifecycle.Record{Time: at, Source: "mailgun", Host: "mailgun", Recipient: str(d, "recipient"), Sender: str(obj(d, "envelope"), "sender"),
		MessageID: strings.Trim(str(msg, "message-id"), "<>"), Attempts: num(ds, "attempt-no"), RemoteHost: str(ds, "mx-host")}
	r.Key = r.MessageID
	if r.Key == "" {
		r.Key = str(d, "id")
	}
	text := firstOf(str(ds, "message"), str(ds, "description"))
	if code := str(ds, "code"); code != "" && !strings.HasPrefix(text, code) {
		text = code + " " + text
	}
	switch str(d, "event") {
	case "delivered":
		r.Status, r.Detail = mailtriage.Delivered, reply(text, str(ds, "enhanced-code"))
	case "failed":
		r.Status = mailtriage.Bounced
		switch {
		case str(d, "severity") == "temporary":
			r.Status = mailtriage.Deferred
		case str(d, "reason") == "old":
			// Mailgun stopped retrying: a queue timeout.
			r.Status = mailtriage.Expired
		}
		r.Detail = reply(text, str(ds, "enhanced-code"))
		if strings.HasPrefix(str(d, "reason"), "suppress-") {
			// suppress-bounce, -unsubscribe, -complaint: Mailgun did
			// not send, the address is on a suppression list.
			r.NoTry = true
		}
	case "accepted":
		r.Recipient = ""
		return []lifecycle.Record{r}, nil
	case "complained":
		r.Complaint, r.Detail = true, smtpreply.Detail{Kind: smtpreply.Local, Text: "Mailgun complaint"}
		return []lifecycle.Record{r}, nil
	default: // opened, clicked, unsubscribed, stored
		return nil, nil
	}
	r.Detail.Host = r.RemoteHost
	return []lifecycle.Record{r}, nil
}

// postmark maps a Postmark bounce or delivery webhook.
func postmark(o map[string]any) ([]lifecycle.Record, error) {
	r := lifecycle.Record{Source: "postmark", Host: "postmark", Key: str(o, "MessageID"), Recipient: firstOf(str(o, "Email"), str(o, "Recipient")),
		Sender: str(o, "From")}
	var err error
	switch str(o, "RecordType") {
	case "Delivery":
		if r.Time, err = when(str(o, "DeliveredAt")); err != nil {
			return nil, fmt.Errorf("Postmark delivery: %w", err)
		}
		r.Status, r.Detail = mailtriage.Delivered, reply(str(o, "Details"), "")
	case "Bounce":
		if r.Time, err = when(str(o, "BouncedAt")); err != nil {
			return nil, fmt.Errorf("Postmark bounce: %w", err)
		}
		switch str(o, "Type") {
		case "HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Blocked", "DMARCPolicy", "SMTPApiError":
			r.Status = mailtriage.Bounced
		case "Transient", "SoftBounce", "DnsError":
			// Postmark's nearest to a deferral: it stopped trying.
			r.Status = mailtriage.Expired
		default: // AutoResponder, SpamNotification, Unsubscribe, ...
			return nil, nil
		}
		r.Detail = reply(firstOf(str(o, "Details"), str(o, "Description")), "")
		if r.Status == mailtriage.Expired {
			d := r
			d.Status = mailtriage.Deferred
			return []lifecycle.Record{d, r}, nil
		}
	case "SpamComplaint":
		if r.Time, err = when(str(o, "BouncedAt")); err != nil {
			return nil, fmt.Errorf("Postmark spam complaint: %w", err)
		}
		r.Complaint, r.Detail = true, smtpreply.Detail{Kind: smtpreply.Local, Text: "Postmark spam complaint"}
	default: // Open, Click, SubscriptionChange
		return nil, nil
	}
	return []lifecycle.Record{r}, nil
}

// sparkpost maps a SparkPost webhook event ({"msys": {"message_event": ...}}).
func sparkpost(o map[string]any) ([]lifecycle.Record, error) {
	msys := obj(o, "msys")
	e := obj(msys, "message_event")
	if e == nil {
		return nil, nil // track, gen, unsubscribe, relay events
	}
	at, err := when(str(e, "timestamp"))
	if err != nil {
		return nil, fmt.Errorf("SparkPost event: %w", err)
	}
	r := lifecycle.Record{Time: at, Source: "sparkpost", Host: "sparkpost", Key: str(e, "message_id"), Recipient: str(e, "rcpt_to"),
		Sender: str(e, "friendly_from"), LocalIP: firstOf(str(e, "sending_ip"), str(e, "ip_pool"))}
	if n, err := strconv.Atoi(str(e, "num_retries")); err == nil {
		r.Attempts = n + 1
	}
	text := firstOf(str(e, "raw_reason"), str(e, "reason"))
	switch str(e, "type") {
	case "delivery":
		r.Status = mailtriage.Delivered
	case "delay":
		r.Status = mailtriage.Deferred
	case "bounce", "out_of_band":
		// SparkPost's bounce classes: 24 (Timeout) is its queue giving
		// up, 25 and 26 (Admin Failure, Smart Send suppression) its own
		// policy, no try at a receiver.
		r.Status = mailtriage.Bounced
		switch str(e, "bounce_class") {
		case "24":
			r.Status = mailtriage.Expired
		case "25", "26":
			r.NoTry = true
		}
	case "policy_rejection":
		// SparkPost refused to send (its suppression list, a policy).
		r.Status, r.NoTry = mailtriage.Bounced, true
	case "injection":
		r.Recipient = ""
		return []lifecycle.Record{r}, nil
	case "spam_complaint":
		r.Complaint, r.Detail = true, smtpreply.Detail{Kind: smtpreply.Local, Text: "SparkPost spam complaint: " + firstOf(str(e, "fbtype"), "abuse")}
		return []lifecycle.Record{r}, nil
	default: // generation_*, ...
		return nil, nil
	}
	if !r.NoTry {
		r.RemoteIP = str(e, "ip_address") // the receiver's
	}
	r.Detail = reply(text, "")
	return []lifecycle.Record{r}, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
