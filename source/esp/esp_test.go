package esp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/source/lifecycle/lifecycletest"
)

// The payloads are the ESPs' documented examples as django-anymail's
// webhook tests reproduce them (BSD-3), and events composed in their
// documented form for the incident; see the project's research notes.
func TestRead(t *testing.T) {
	for _, tt := range []struct {
		file     string
		provider string
		want     []string
		limit    string
	}{
		{"ses.jsonl", "ses", []string{
			"1 deferred jane@icloud.com 421/4.7.0",
			"1 delivered bob@yahoo.com 250/",
			"3 delivered bob@yahoo.com 250/",
			// A Transient bounce: SES stopped retrying.
			"1 deferred jane@icloud.com 421/4.7.0",
			"3 expired jane@icloud.com 421/4.7.0",
			// A complaint: not a delivery outcome.
			"5  sofia@yahoo.com ",
		}, "delay episodes"},
		{"sendgrid.json", "sendgrid", []string{
			"1 deferred recipient@example.com 0/",
			"1 delivered recipient@example.com 250/2.0.0",
			"3 delivered recipient@example.com 250/2.0.0",
			"1 bounced nobody@example.com 550/5.1.1",
			"3 bounced nobody@example.com 550/5.1.1",
			"5  sofia@yahoo.com ",
		}, "SendGrid"},
		{"mailgun.jsonl", "mailgun", []string{
			// Mailgun's deferral: failed, severity temporary.
			"1 deferred undeliverable@nomx.example.com 498/",
			"1 bounced gone@example.org 550/5.1.1",
			"3 bounced gone@example.org 550/5.1.1",
			"3 pending undeliverable@nomx.example.com 498/",
		}, "temporary"},
		{"postmark.json", "postmark", []string{
			"1 bounced bounce@example.com 550/5.1.1",
			"3 bounced bounce@example.com 550/5.1.1",
			"1 deferred full@example.com 452/4.2.2",
			"3 expired full@example.com 452/4.2.2",
			"1 delivered ok@example.com 250/2.0.0",
			"3 delivered ok@example.com 250/2.0.0",
		}, "no deferral"},
		{"sparkpost.json", "sparkpost", []string{
			"1 deferred recipient@nomx.example.com 454/4.4.4",
			"1 bounced gone@example.net 550/5.1.1",
			"3 bounced gone@example.net 550/5.1.1",
			"3 pending recipient@nomx.example.com 454/4.4.4",
		}, ""},
	} {
		t.Run(tt.provider, func(t *testing.T) {
			f, err := os.Open("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []string
			tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
				if e.Kind != mailtriage.Message {
					got = append(got, fmt.Sprintf("%v %s %s %s", e.Kind, e.Status, e.Recipient, e.Verdict.Rule))
				}
			})
			st, err := Read(context.Background(), f, tt.file, tr)
			if err != nil {
				t.Fatal(err)
			}
			tr.Finish(st.Last)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if st.Provider[tt.provider] == 0 || st.Bad != 0 || st.Skipped == 0 && tt.provider != "sparkpost" && tt.provider != "postmark" {
				t.Errorf("stats %+v", st)
			}
			if tt.limit != "" && !strings.Contains(strings.Join(st.Limits, " "), tt.limit) {
				t.Errorf("limits %q", st.Limits)
			}
			data, _ := os.ReadFile("testdata/" + tt.file)
			if !Detect(data) {
				t.Error("not detected")
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(*mailtriage.Event) {})
	st, _ := Read(context.Background(), strings.NewReader(`{"event":"x"} 42 {"eventType":"Bounce","mail":{},"bounce":{"timestamp":"never"}}`), "bad.json", tr)
	if st.Bad != 3 || len(st.Samples) != 3 {
		t.Errorf("%+v", st)
	}
	if _, err := Read(context.Background(), strings.NewReader(`[{"RecordType": "Bounce", `), "cut.json", tr); err == nil {
		t.Error("cut JSON read without error")
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"ses.jsonl", "sendgrid.json", "mailgun.jsonl", "postmark.json", "sparkpost.json"} {
		data, _ := os.ReadFile("testdata/" + name)
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz", tr)
		tr.Finish(st.Last)
	})
}

// readEvents reads s and returns the events as lines, with the stats.
func readEvents(t *testing.T, s string) ([]string, Stats, error) {
	t.Helper()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
		if e.Kind != mailtriage.Message {
			got = append(got, fmt.Sprintf("%v %s %s", e.Kind, e.Status, e.Recipient))
		}
	})
	st, err := Read(context.Background(), strings.NewReader(s), "events.json", tr)
	tr.Finish(st.Last)
	return got, st, err
}

// An export in JSON lines (one SendGrid event or Mailgun webhook a line,
// as the providers' documentation gives them) with a damaged line in the
// middle: the line is counted and the lines after it are still read.
func TestBadLineDoesNotEndTheInput(t *testing.T) {
	mg := func(id, rcpt, event, severity string) string {
		return `{"signature":{"timestamp":"1534111900","token":"t","signature":"s"},"event-data":{"event":"` + event + `","severity":"` + severity +
			`","timestamp":1534111899.5,"id":"` + id + `","recipient":"` + rcpt + `","message":{"headers":{"message-id":"m` + id + `@example.com"}},"delivery-status":{"code":550,"message":"5.1.1 no such user"}}}`
	}
	for _, tt := range []struct {
		name, in string
		want     []string
		bad      int64
	}{
		{"garbage line", mg("e1", "a@example.org", "failed", "permanent") + "\n" +
			"Mar 10 14:02:12 webhook-receiver: POST /mailgun 200\n" +
			mg("e2", "b@example.org", "failed", "permanent") + "\n",
			[]string{"1 bounced a@example.org", "3 bounced a@example.org", "1 bounced b@example.org", "3 bounced b@example.org"}, 1},
		{"line cut short", mg("e1", "a@example.org", "failed", "permanent")[:80] + "\n" +
			mg("e2", "b@example.org", "failed", "permanent") + "\n",
			[]string{"1 bounced b@example.org", "3 bounced b@example.org"}, 1},
		{"line cut inside an object", `{"event-data":{"event":"failed","recipient":` + "\n" +
			mg("e2", "b@example.org", "failed", "permanent") + "\n" + mg("e3", "c@example.org", "failed", "permanent") + "\n",
			[]string{"1 bounced b@example.org", "3 bounced b@example.org", "1 bounced c@example.org", "3 bounced c@example.org"}, 1},
		// A SendGrid batch cut short (a webhook body saved while it was
		// still arriving): the events before the cut are read.
		{"batch cut short", `[` + "\n" +
			`{"email":"a@example.org","timestamp":1461200990,"event":"bounce","sg_event_id":"s1","sg_message_id":"m1.filter1","status":"5.1.1","reason":"550 5.1.1 no such user"},` + "\n" +
			`{"email":"b@example.org","timestamp":1461200991,"event":"bounce","sg_event_id":"s2","sg_message_id":"m2.filter1","status":"5.1.1","reason":"550 5.1.1 no such user"},` + "\n" +
			`{"email":"c@example.org","timestamp":14612`,
			[]string{"1 bounced a@example.org", "3 bounced a@example.org", "1 bounced b@example.org", "3 bounced b@example.org"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := readEvents(t, tt.in)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if st.Bad != tt.bad || len(st.Samples) == 0 || !strings.Contains(st.Samples[0], "events.json") {
				t.Errorf("bad %d, want %d; samples %q", st.Bad, tt.bad, st.Samples)
			}
			if tt.name == "batch cut short" && err == nil {
				t.Error("a cut batch must still say the input is damaged")
			}
		})
	}
}

// Webhooks are delivered at least once: SendGrid, Mailgun, SparkPost and
// SNS post an event again when the receiver was slow to answer, and saved
// exports overlap. An event seen again (by the provider's event id:
// sg_event_id, Mailgun's event-data id, SparkPost's event_id, SNS's
// MessageId, Postmark's ID) is read once, across inputs too.
func TestDuplicateEvents(t *testing.T) {
	sgDefer := `{"response":"421 4.7.0 [TSS04] Messages temporarily deferred","sg_event_id":"b_syL5UiTvWC_Ky5L6Bs5Q","sg_message_id":"u9Gvi3mzT6iC2poAb58_qQ.filter0465p1mdw1.8054.5718271B40.0","event":"deferred","email":"bob@yahoo.com","attempt":"1","timestamp":1461200990}`
	sesDelay := `{"eventType":"DeliveryDelay","mail":{"timestamp":"2025-03-10T14:02:11.000Z","messageId":"0100018f-aaaa","source":"news@shop.example.net","destination":["jane@icloud.com"]},"deliveryDelay":{"timestamp":"2025-03-10T14:32:00.000Z","delayType":"TransientCommunicationFailure","delayedRecipients":[{"emailAddress":"jane@icloud.com","status":"4.7.0","diagnosticCode":"smtp; 421 4.7.0 [HCM1] deferred"}]}}`
	sns, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "5b2c1c7a-0000-4000-8000-000000000001", "TopicArn": "arn:aws:sns:us-east-1:1:ses", "Message": sesDelay, "Timestamp": "2025-03-10T14:32:01.000Z"})
	mgDefer := `{"signature":{"timestamp":"1534111900","token":"t1","signature":"s1"},"event-data":{"event":"failed","severity":"temporary","timestamp":1534111899.5,"id":"Ase7i2zsRYeDXztHGENqRA","recipient":"carl@example.org","message":{"headers":{"message-id":"m1@example.com"}},"delivery-status":{"attempt-no":1,"code":451,"message":"4.7.1 try later"}}}`
	// Mailgun signs each post anew.
	mgAgain := strings.Replace(strings.Replace(mgDefer, `"t1"`, `"t2"`, 1), `"s1"`, `"s2"`, 1)
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Attempt {
			got = append(got, fmt.Sprintf("%s %s", e.Status, e.Recipient))
		}
	})
	inputs := []string{
		"[" + sgDefer + "," + sgDefer + "]\n" + string(sns) + "\n" + string(sns) + "\n" + mgDefer + "\n" + mgAgain + "\n",
		"[" + sgDefer + "]\n" + string(sns) + "\n", // an overlapping export
	}
	var dups int64
	for i, in := range inputs {
		st, err := Read(context.Background(), strings.NewReader(in), fmt.Sprint("in", i), tr)
		if err != nil || st.Bad != 0 {
			t.Fatal(err, st)
		}
		dups += st.Duplicates
	}
	want := []string{"deferred bob@yahoo.com", "deferred jane@icloud.com", "deferred carl@example.org"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if dups != 5 {
		t.Errorf("%d duplicates, want 5", dups)
	}
}

// An ESP that does not send to an address on its suppression list
// reports a bounce, but nothing was tried: the recipient is bounced, with
// no attempt. The SES notification is a public one (an SNS handler's
// logged payload, jakepfaf.dev; mail object trimmed; the Suppressed and
// General ones are composed like it), the Mailgun event Mailgun's
// documented suppress-bounce example (code 605, "Not delivering to
// previously bounced address"), with a recipient added. A bounce a
// receiver gave stays an attempt.
func TestSuppressed(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []string
	}{
		{"SES OnAccountSuppressionList", `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"OnAccountSuppressionList","bouncedRecipients":[{"emailAddress":"s@jakepfaf.dev","action":"failed","status":"5.1.1","diagnosticCode":"Amazon SES did not send the message to this address because it is on the suppression list for your account. For more information about removing addresses from the suppression list, see the Amazon SES Developer Guide at https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html"}],"timestamp":"2020-08-03T19:52:08.880Z","feedbackId":"01010173b5e19d79-835db8a5-03d9-4acb-baa6-c0b722acb015-000000","reportingMTA":"dns; amazonses.com"},"mail":{"timestamp":"2020-08-03T19:52:08.000Z","source":"news@example.com","messageId":"01010173b5e19c11-aaaa","destination":["s@jakepfaf.dev"]}}`,
			[]string{"3 bounced s@jakepfaf.dev 0"}},
		{"SES Suppressed", `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"Suppressed","bouncedRecipients":[{"emailAddress":"gone@example.org","action":"failed","status":"5.1.1","diagnosticCode":"Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address."}],"timestamp":"2020-08-03T19:52:08.880Z","reportingMTA":"dns; amazonses.com"},"mail":{"timestamp":"2020-08-03T19:52:08.000Z","source":"news@example.com","messageId":"01010173b5e19c11-bbbb","destination":["gone@example.org"]}}`,
			[]string{"3 bounced gone@example.org 0"}},
		{"SES General", `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"nobody@example.org","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2020-08-03T19:52:08.880Z","reportingMTA":"dns; amazonses.com"},"mail":{"timestamp":"2020-08-03T19:52:08.000Z","source":"news@example.com","messageId":"01010173b5e19c11-cccc","destination":["nobody@example.org"]}}`,
			[]string{"1 bounced nobody@example.org 1", "3 bounced nobody@example.org 1"}},
		{"Mailgun suppress-bounce", `{"event-data":{"id":"G9Bn5sl1TC6nu79C8C0bwg","timestamp":1521233195.375624,"log-level":"error","event":"failed","severity":"permanent","reason":"suppress-bounce","recipient":"alice@example.com","delivery-status":{"attempt-no":1,"message":"","code":605,"enhanced-code":"","description":"Not delivering to previously bounced address","session-seconds":0},"message":{"headers":{"to":"Alice <alice@example.com>","message-id":"20130503192659.13651.20287@mg.example.com","from":"Bob <bob@mg.example.com>"}}}}`,
			[]string{"3 bounced alice@example.com 0"}},
	} {
		var got []string
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
			if e.Kind != mailtriage.Message {
				got = append(got, fmt.Sprintf("%v %s %s %d", e.Kind, e.Status, e.Recipient, e.Attempts))
			}
		})
		st, err := Read(context.Background(), strings.NewReader(tt.in+"\n"), "events.jsonl", tr)
		if err != nil {
			t.Fatal(err)
		}
		tr.Finish(st.Last)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The providers' documented samples, trimmed, each checked for what it
// means: SES's Complaint and DeliveryDelay event records (Amazon SES
// Developer Guide, "Examples of event data that Amazon SES publishes to
// Amazon SNS", and the API v2 reference for Complaint: complaintSubType
// OnAccountSuppressionList means SES did not send; DeliveryDelay's
// delayType InternalFailure and SendingDeferral are SES's own delays).
func TestProviderSamples(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []string
	}{
		{"SES complaint on the suppression list is no complaint",
			`{"eventType":"Complaint","complaint":{"complaintSubType":"OnAccountSuppressionList","complainedRecipients":[{"emailAddress":"recipient@example.com"}],"timestamp":"2017-08-05T00:41:02.669Z","feedbackId":"01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000"},"mail":{"timestamp":"2017-08-05T00:40:01.123Z","source":"Sender Name <sender@example.com>","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["recipient@example.com"]}}`,
			[]string{"3 bounced recipient@example.com"}},
		// Two delays: SES's own (no try at the receiver), then the
		// receiver's; pending at the end.
		{"SES InternalFailure delay is SES's own",
			`{"eventType":"DeliveryDelay","mail":{"timestamp":"2020-06-16T00:15:40.641Z","source":"sender@example.com","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["recipient@example.com"]},"deliveryDelay":{"timestamp":"2020-06-16T00:25:40.095Z","delayType":"InternalFailure","expirationTime":"2020-06-16T00:25:40.914Z","delayedRecipients":[{"emailAddress":"recipient@example.com","status":"4.0.0","diagnosticCode":"smtp; 421 4.0.0 Unable to process message"}]}}` + "\n" +
				`{"eventType":"DeliveryDelay","mail":{"timestamp":"2020-06-16T00:15:40.641Z","source":"sender@example.com","messageId":"EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000","destination":["recipient@example.com"]},"deliveryDelay":{"timestamp":"2020-06-16T00:35:40.095Z","delayType":"TransientCommunicationFailure","expirationTime":"2020-06-16T08:15:40.914Z","delayedRecipients":[{"emailAddress":"recipient@example.com","status":"4.4.1","diagnosticCode":"smtp; 421 4.4.1 Unable to connect to remote host"}]}}`,
			[]string{"2 deferred recipient@example.com", "1 deferred recipient@example.com", "3 pending recipient@example.com"}},
		// SendGrid's Event Webhook Reference: dropped, reason "Bounced
		// Address": SendGrid did not send, the address is suppressed.
		{"SendGrid dropped",
			`[{"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"dropped","category":"cat facts","sg_event_id":"zmzJhfJgAfUSOW80yEbPyw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","reason":"Bounced Address","status":"5.0.0"}]`,
			[]string{"3 bounced example@test.com"}},
		// Mailgun's event types page: failed, severity permanent, is also
		// sent for "messages that reached their retry limit", with reason
		// old (the reason's name is from Mailgun's event structure, not
		// that page): a queue timeout, not a receiver's bounce.
		{"Mailgun retry limit",
			`{"event-data":{"id":"Fs7-5t81S2ms-nTx0mg4Fg","timestamp":1521233195.375624,"log-level":"warn","event":"failed","severity":"temporary","reason":"generic","envelope":{"sender":"bob@sandbox.mailgun.org","transport":"smtp","targets":"alice@example.com"},"recipient":"alice@example.com","recipient-domain":"example.com","delivery-status":{"mx-host":"smtp-in.example.com","attempt-no":1,"description":"","session-seconds":0.1,"retry-seconds":600,"code":452,"message":"4.2.2 mailbox full"},"message":{"headers":{"message-id":"20130503192659.13651.20287@sandbox.mailgun.org"}}}}` + "\n" +
				`{"event-data":{"id":"G9Bn5sl1TC6nu79C8C0bwg","timestamp":1521262195.375624,"log-level":"error","event":"failed","severity":"permanent","reason":"old","envelope":{"sender":"bob@sandbox.mailgun.org","transport":"smtp","targets":"alice@example.com"},"recipient":"alice@example.com","recipient-domain":"example.com","delivery-status":{"attempt-no":8,"code":452,"message":"4.2.2 mailbox full","description":"Too old"},"message":{"headers":{"message-id":"20130503192659.13651.20287@sandbox.mailgun.org"}}}}`,
			[]string{"1 deferred alice@example.com", "3 expired alice@example.com"}},
	} {
		got, st, err := readEvents(t, tt.in+"\n")
		if err != nil || st.Bad != 0 {
			t.Fatalf("%s: %v %+v", tt.name, err, st)
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Mailgun's events name the envelope sender (envelope.sender in its
// documented delivered sample): the stream is the sender's.
func TestMailgunSender(t *testing.T) {
	in := `{"event-data":{"id":"CPgfbmQMTCKtHW6uIWtuVe","timestamp":1521472262.908181,"log-level":"info","event":"delivered","envelope":{"transport":"smtp","sender":"bob@sandbox.mailgun.org","sending-ip":"209.61.154.250","targets":"alice@example.com"},"recipient":"alice@example.com","recipient-domain":"example.com","delivery-status":{"tls":true,"mx-host":"smtp-in.example.com","code":250,"description":"","session-seconds":0.43,"attempt-no":1,"message":"OK"},"message":{"headers":{"message-id":"20130503182626.18666.16540@sandbox.mailgun.org"}}}}` + "\n"
	var senders []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
		senders = append(senders, fmt.Sprintf("%s %v", e.Sender, e.SenderUnknown))
	})
	st, err := Read(context.Background(), strings.NewReader(in), "mg.jsonl", tr)
	if err != nil || st.Used != 1 {
		t.Fatal(err, st)
	}
	tr.Finish(st.Last)
	for _, s := range senders {
		if s != "bob@sandbox.mailgun.org false" {
			t.Errorf("sender %q", s)
		}
	}
}

// TestSparkPostBounceClass: SparkPost's bounce classes (its "Bounce
// Classification Codes", as Adobe's error-types table gives the same
// numbers) tell a queue timeout (24) and its own policy (25, and a
// policy_rejection event) from a receiver's refusal (10).
func TestSparkPostBounceClass(t *testing.T) {
	event := func(id, typ, class, reason string) string {
		return `{"msys":{"message_event":{"type":"` + typ + `","message_id":"` + id + `","rcpt_to":"` + id + `@example.com","timestamp":"1454442600","bounce_class":"` + class +
			`","raw_reason":"` + reason + `","ip_address":"192.0.2.25","sending_ip":"198.51.100.21"}}}`
	}
	in := "[" + strings.Join([]string{
		event("hard", "bounce", "10", "550 5.1.1 user unknown"),
		event("late", "bounce", "24", "554 5.4.7 [internal] exceeded max time without delivery"),
		event("admin", "bounce", "25", "554 5.7.1 [internal] recipient address was suppressed due to customer policy"),
		event("policy", "policy_rejection", "25", "550 5.7.1 [internal] Forbidden"),
	}, ",") + "]"
	got := map[string]string{}
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
		if e.Kind == mailtriage.Final {
			got[e.QueueID] = fmt.Sprintf("%s %d %s", e.Status, e.Attempts, e.RemoteIP)
		}
	})
	st, err := Read(context.Background(), strings.NewReader(in), "sparkpost.json", tr)
	if err != nil {
		t.Fatal(err, st)
	}
	tr.Finish(st.Last)
	// The expiry is the queue giving up: no attempt of its own.
	want := map[string]string{"hard": "bounced 1 192.0.2.25", "late": "expired 0 192.0.2.25", "admin": "bounced 0 ", "policy": "bounced 0 "}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}
