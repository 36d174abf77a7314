package bounce

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Amazon SES sends its bounce, complaint and delivery notifications by
// mail too, when a topic's subscriber is an address: the body is the
// notification's JSON (Amazon SES Developer Guide, "Contents of
// notifications for Amazon SES"), sometimes inside Amazon SNS's envelope.

type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		ReportingMTA      string `json:"reportingMTA"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
		RemoteMTAIP  string   `json:"remoteMtaIp"`
		ReportingMTA string   `json:"reportingMTA"`
	} `json:"delivery"`
	Mail struct {
		Source      string   `json:"source"`
		MessageID   string   `json:"messageId"`
		Destination []string `json:"destination"`
	} `json:"mail"`
}

// sesIn finds an SES notification in a message's text parts.
func sesIn(p *parts) *sesNotification {
	for _, t := range p.texts {
		t = bytes.TrimSpace(t)
		if !bytes.HasPrefix(t, []byte("{")) {
			continue
		}
		// Sendmail folds lines longer than 990 octets with "!" and a
		// space on the next line: unfold them.
		t = bytes.ReplaceAll(t, []byte("!\n "), nil)
		// The JSON ends where SNS's footer starts.
		if i := bytes.LastIndexByte(t, '}'); i >= 0 {
			t = t[:i+1]
		}
		var n sesNotification
		if json.Unmarshal(t, &n) != nil {
			continue
		}
		if n.NotificationType == "" && n.EventType == "" {
			// Wrapped in SNS: the notification is the Message string.
			var sns struct{ Message string }
			if json.Unmarshal(t, &sns) != nil || json.Unmarshal([]byte(sns.Message), &n) != nil {
				continue
			}
		}
		if cmpOr(n.NotificationType, n.EventType) != "" {
			return &n
		}
	}
	return nil
}

// readSES reads an SES notification's recipients.
func readSES(m *Message, n *sesNotification) {
	m.Original.From, m.Original.MessageID = strings.ToLower(n.Mail.Source), n.Mail.MessageID
	switch strings.ToLower(cmpOr(n.NotificationType, n.EventType)) {
	case "bounce":
		m.Kind, m.Format = DSN, "ses"
		if n.Bounce == nil {
			return
		}
		m.ReportingMTA = typed(n.Bounce.ReportingMTA)
		for _, r := range n.Bounce.BouncedRecipients {
			typ, diag := diagnostic(r.DiagnosticCode)
			m.Recipients = append(m.Recipients, Recipient{Address: address(r.EmailAddress), Action: cmpOr(strings.ToLower(r.Action), "failed"),
				Status: statusCode(r.Status), DiagnosticType: typ, Diagnostic: diag, Command: commandOf(diag)})
		}
	case "complaint":
		m.Kind, m.Format = Feedback, "ses"
		if n.Complaint == nil {
			return
		}
		m.FeedbackType = strings.ToLower(cmpOr(n.Complaint.ComplaintFeedbackType, "abuse"))
		for _, r := range n.Complaint.ComplainedRecipients {
			m.Recipients = append(m.Recipients, Recipient{Address: address(r.EmailAddress), Action: "failed"})
		}
	case "delivery":
		m.Kind, m.Format = DSN, "ses"
		if n.Delivery == nil {
			return
		}
		m.ReportingMTA = n.Delivery.ReportingMTA
		for _, a := range n.Delivery.Recipients {
			m.Recipients = append(m.Recipients, Recipient{Address: address(a), Action: "delivered", Status: statusIn(n.Delivery.SMTPResponse),
				DiagnosticType: "smtp", Diagnostic: n.Delivery.SMTPResponse})
		}
	}
	m.Recipients = dropEmpty(m.Recipients)
}

func dropEmpty(rs []Recipient) []Recipient {
	out := rs[:0]
	for _, r := range rs {
		if r.Address != "" {
			out = append(out, r)
		}
	}
	return out
}
