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
	// Duplicates are events seen before (by the provider's event id), in
	// this input or an earlier one, and read once.
	Duplicates int64
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

// Read reads the events into the tracker. A value that is not JSON (a
// line cut short, a line of something else) is counted, and reading goes
// on at the next line, so one damaged line of an export in JSON lines
// loses only itself; a batch (an array) is read event by event, so one
// cut short keeps the events before the cut. Only an input that ends in
// the middle of a value is an error.
func Read(ctx context.Context, r io.Reader, name string, t *lifecycle.Tracker) (Stats, error) {
	st := Stats{Provider: map[string]int64{}}
	rec := &recorder{r: r}
	for resyncs := 0; ; resyncs++ {
		dec := json.NewDecoder(rec)
		dec.UseNumber()
		err := st.decode(ctx, dec, rec, name, t)
		if err == nil || ctx.Err() != nil {
			return st.done(), err
		}
		// Go back to where the damaged value started, and on from the
		// line after it.
		st.bad(fmt.Sprintf("%s: offset %d: not JSON: %v", name, rec.start, err))
		if resyncs == maxResyncs {
			// Each resync may read the rest of the input again.
			return st.done(), fmt.Errorf("%s: offset %d: %d values are not JSON; the rest was not read", name, rec.start, maxResyncs+1)
		}
		if !rec.skipLine() {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return st.done(), fmt.Errorf("%s: offset %d: %w", name, rec.start, err)
			}
			return st.done(), nil
		}
	}
}

// maxResyncs bounds the damaged values read past in one input.
const maxResyncs = 1000

// recorder keeps what the decoder read since the start of the value it is
// decoding, so that reading can go back there when the value is damaged.
type recorder struct {
	r       io.Reader
	pending []byte // read again before r
	buf     []byte // what was read since start
	start   int64  // the offset of buf[0] in the input
	origin  int64  // the offset where the current decoder started
}

func (rc *recorder) Read(p []byte) (int, error) {
	var n int
	var err error
	if len(rc.pending) > 0 {
		n = copy(p, rc.pending)
		rc.pending = rc.pending[n:]
	} else {
		n, err = rc.r.Read(p)
	}
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

// mark drops what was read before off, an offset of the current decoder.
func (rc *recorder) mark(off int64) {
	if k := rc.origin + off - rc.start; k > 0 && k <= int64(len(rc.buf)) {
		rc.buf = rc.buf[k:]
		rc.start += k
	}
}

// skipLine goes back to the start of the damaged value and skips the
// rest of its line, white space and a batch's commas before it; false at
// the end of the input.
func (rc *recorder) skipLine() bool {
	data := append(rc.buf, rc.pending...)
	rc.buf, rc.pending = nil, nil
	lead := true
	for {
		i := 0
		for ; lead && i < len(data); i++ {
			if c := data[i]; c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' {
				lead = false
				break
			}
		}
		if !lead {
			if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
				rc.start += int64(i + j + 1)
				rc.origin = rc.start
				rc.pending = data[i+j+1:]
				return true
			}
		}
		rc.start += int64(len(data))
		more := make([]byte, 32<<10)
		n, err := io.ReadFull(rc.r, more)
		if n == 0 && err != nil {
			return false
		}
		data = more[:n]
	}
}

// decode reads values until the end of the input: objects, and arrays of
// them element by element.
func (st *Stats) decode(ctx context.Context, dec *json.Decoder, rec *recorder, name string, t *lifecycle.Tracker) error {
	for {
		rec.mark(dec.InputOffset())
		if err := ctx.Err(); err != nil {
			return err
		}
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['):
			for dec.More() {
				if err := ctx.Err(); err != nil {
					return err
				}
				rec.mark(dec.InputOffset())
				var v any
				if err := dec.Decode(&v); err != nil {
					return err
				}
				st.value(v, name, t)
			}
			if _, err := dec.Token(); err != nil {
				return cut(err)
			}
		case json.Delim('{'):
			o, err := object(dec)
			if err != nil {
				return err
			}
			st.value(o, name, t)
		default:
			st.value(tok, name, t)
		}
	}
}

// object reads the rest of an object whose "{" was read.
func object(dec *json.Decoder) (map[string]any, error) {
	o := map[string]any{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, cut(err)
		}
		key, _ := k.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, cut(err)
	}
	return o, nil
}

// cut says that the input ended inside a value.
func cut(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
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
		if id := eventID(v); id != "" && !t.Once(id) {
			st.Duplicates++
			return
		}
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

// eventID is the provider's id of one event, "" when it has none:
// webhooks are delivered at least once, so an event posted again carries
// the same id (SNS's MessageId, SendGrid's sg_event_id, Mailgun's
// event-data id, SparkPost's event_id, Postmark's bounce ID).
func eventID(o map[string]any) string {
	switch {
	case str(o, "Type") == "Notification" && str(o, "MessageId") != "":
		return "sns/" + str(o, "MessageId")
	case str(o, "sg_event_id") != "":
		return "sendgrid/" + str(o, "sg_event_id")
	case str(obj(o, "event-data"), "id") != "":
		return "mailgun/" + str(obj(o, "event-data"), "id")
	case o["msys"] != nil:
		for _, e := range obj(o, "msys") {
			if m, ok := e.(map[string]any); ok && str(m, "event_id") != "" {
				return "sparkpost/" + str(m, "event_id")
			}
		}
	case str(o, "RecordType") != "" && str(o, "ID") != "":
		return "postmark/" + str(o, "RecordType") + "/" + str(o, "ID")
	}
	return ""
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
