// Package esp reads the event exports and webhook payloads of email
// service providers: Amazon SES notifications (raw, or wrapped in an SNS
// notification), SendGrid event webhook batches, Mailgun events (webhooks
// v3), Postmark bounce and delivery webhooks, and SparkPost message
// events. Input is JSON: one object, an array of them, or one a line.
//
// Each provider's idea of a deferral is mapped as honestly as it can be,
// and Stats.Limits says what a provider's events cannot show: SES reports
// delay episodes, not each retry, and soft bounces only as a final
// Transient bounce; Postmark reports no deferral at all, only a soft
// bounce once it stops trying.
package esp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
)

// Stats says what a read saw.
type Stats struct {
	Events  int64 // JSON objects read
	Used    int64 // events that became records
	Skipped int64 // events with no delivery (opens, clicks, unsubscribes, ...)
	// Complaints are the recipients' spam complaints, each a complaint
	// event.
	Complaints int64
	Bad        int64 // objects that are no provider's event
	Samples    []string
	First      time.Time
	Last       time.Time
	Provider   map[string]int64 // events per provider
	// Limits says, per provider seen, what its events cannot show.
	Limits []string
}

var limits = map[string]string{
	"ses":      "Amazon SES reports deferrals as delay episodes (DeliveryDelay), not each retry, and a soft bounce only once it stops retrying: deferral rates are episodes, not attempts",
	"postmark": "Postmark reports no deferral, only a soft bounce (Transient, SoftBounce) once it stops trying: deferral rates cannot be seen",
	"sendgrid": "SendGrid reports a deferred event per retry, but not the server that answered",
	"mailgun":  "Mailgun reports deferrals as failed events of severity temporary, one per retry",
}

// Detect reports whether head looks like ESP events: JSON whose first
// object is one of theirs.
func Detect(head []byte) bool {
	head = bytes.TrimSpace(head)
	if len(head) == 0 || head[0] != '{' && head[0] != '[' {
		return false
	}
	for _, marker := range []string{`"eventType"`, `"notificationType"`, `"sg_event_id"`, `"sg_message_id"`, `"event-data"`, `"RecordType"`, `"msys"`, `"TopicArn"`} {
		if bytes.Contains(head, []byte(marker)) {
			return true
		}
	}
	return false
}

// Read reads the events into the tracker.
func Read(ctx context.Context, r io.Reader, name string, t *lifecycle.Tracker) (Stats, error) {
	st := Stats{Provider: map[string]int64{}}
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			st.bad(fmt.Sprintf("%s: offset %d: not JSON: %v", name, dec.InputOffset(), err))
			return st.done(), fmt.Errorf("%s: offset %d: %w", name, dec.InputOffset(), err)
		}
		st.value(v, name, t)
	}
	return st.done(), nil
}

func (st *Stats) done() Stats {
	for p := range st.Provider {
		if l, ok := limits[p]; ok && !contains(st.Limits, l) {
			st.Limits = append(st.Limits, l)
		}
	}
	return *st
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// value handles an object or a batch.
func (st *Stats) value(v any, name string, t *lifecycle.Tracker) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			st.value(e, name, t)
		}
	case map[string]any:
		st.Events++
		provider, recs, err := event(v)
		switch {
		case err != nil:
			st.bad(fmt.Sprintf("%s: event %d: %v", name, st.Events, err))
		case provider == "":
			st.bad(fmt.Sprintf("%s: event %d: no known provider's event", name, st.Events))
		case recs == nil:
			st.Provider[provider]++
			st.Skipped++
		default:
			st.Provider[provider]++
			st.Used++
			for i := range recs {
				st.seen(recs[i].Time)
				switch {
				case recs[i].Recipient == "":
					t.Queued(&recs[i], false)
				case recs[i].Complaint:
					st.Complaints++
					t.Complaint(&recs[i])
				default:
					t.Add(&recs[i])
				}
			}
		}
	default:
		st.Events++
		st.bad(fmt.Sprintf("%s: event %d: a JSON %T, not an event object", name, st.Events, v))
	}
}

func (st *Stats) bad(s string) {
	st.Bad++
	if len(st.Samples) < 5 {
		st.Samples = append(st.Samples, s)
	}
}

func (st *Stats) seen(t time.Time) {
	if t.IsZero() {
		return
	}
	if st.First.IsZero() || t.Before(st.First) {
		st.First = t
	}
	if t.After(st.Last) {
		st.Last = t
	}
}

// event recognises the provider of one event and maps it; nil records
// for an event with no delivery in it.
func event(o map[string]any) (string, []lifecycle.Record, error) {
	switch {
	case str(o, "Type") == "Notification" && str(o, "Message") != "":
		// An SNS notification: the SES event is its Message, a string.
		var inner map[string]any
		dec := json.NewDecoder(strings.NewReader(str(o, "Message")))
		dec.UseNumber()
		if err := dec.Decode(&inner); err != nil {
			return "", nil, fmt.Errorf("SNS message is not JSON: %w", err)
		}
		return event(inner)
	case o["mail"] != nil && (o["eventType"] != nil || o["notificationType"] != nil):
		recs, err := ses(o)
		return "ses", recs, err
	case o["event-data"] != nil:
		recs, err := mailgun(obj(o, "event-data"))
		return "mailgun", recs, err
	case o["msys"] != nil:
		recs, err := sparkpost(o)
		return "sparkpost", recs, err
	case o["RecordType"] != nil:
		recs, err := postmark(o)
		return "postmark", recs, err
	case o["sg_event_id"] != nil || o["sg_message_id"] != nil || o["smtp-id"] != nil && o["event"] != nil:
		recs, err := sendgrid(o)
		return "sendgrid", recs, err
	}
	return "", nil, nil
}

// Helpers for the loosely typed JSON.

func obj(o map[string]any, k string) map[string]any {
	m, _ := o[k].(map[string]any)
	return m
}

func str(o map[string]any, k string) string {
	switch v := o[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func list(o map[string]any, k string) []any {
	l, _ := o[k].([]any)
	return l
}

func num(o map[string]any, k string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(str(o, k)))
	return n
}

// when reads RFC 3339 or Unix seconds (possibly fractional, possibly a
// string).
func when(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("no time")
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time", v)
}

// reply decodes a provider's SMTP text ("smtp; 550 5.1.1 ...", "250 ok").
func reply(text, status string) smtpreply.Detail {
	kind, rest, ok := strings.Cut(text, ";")
	if ok && strings.EqualFold(strings.TrimSpace(kind), "smtp") {
		text = strings.TrimSpace(rest)
	}
	d := smtpreply.Detail{Kind: smtpreply.Local, Text: text}
	r := smtpreply.Parse(text)
	if r.Code != 0 {
		d.Kind = smtpreply.Said
	}
	if r.Enhanced == "" && status != "" {
		r.Enhanced = strings.Fields(status)[0]
	}
	d.Reply = r
	return d
}
