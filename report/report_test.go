package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
)

var update = flag.Bool("update", false, "rewrite golden files")

// at is an hour on the sample's two days, in UTC.
func at(day, hour int) time.Time { return time.Date(2025, 3, day, hour, 0, 0, 0, time.UTC) }

func hour(lane string, t time.Time, attempts, delivered, deferrals, bounces int) analysis.HourStats {
	return analysis.HourStats{Lane: lane, Hour: t, Attempts: attempts, Delivered: delivered, Deferrals: deferrals,
		Bounces: bounces, DeferralRate: float64(deferrals) / float64(attempts)}
}

// sampleResult is a small incident, built by hand so each format's golden
// file shows every section: three lanes over ten hours across midnight,
// the busiest lane silent for one hour inside its incident and the
// smallest silent for four, a recipient address in a reply, an expired
// group, and an input that could not be read.
func sampleResult() *analysis.Result {
	const msReply = "451 4.7.650 The mail server [192.0.2.10] has been temporarily rate limited due to IP reputation. " +
		"For e-mail delivery information, see https://postmaster.live.com (S775)"
	ms := analysis.Response{
		Count: 132, Code: 451, Enhanced: "4.7.650", Class: mailtriage.Temporary, Reason: "badreputation", Category: "throttling",
		Provider: "microsoft", Rule: "microsoft-s775-rate-limited", Action: "Slow the Microsoft lane and send to engaged recipients first.",
		Owner: mailtriage.OwnerESP, Example: msReply, Lanes: []string{"microsoft"}, First: at(3, 21), Last: at(4, 5),
	}
	incidentReply := ms
	incidentReply.Count = 122
	return &analysis.Result{
		Inputs: []analysis.Input{
			{Name: "/var/log/mail.log", Format: "postfix", Bytes: 1843200, Lines: 9876, MatchedLines: 9501, OtherLines: 372, Unparsed: 3, Zoneless: 9501, Year: 2025,
				First: time.Date(2025, 3, 3, 21, 2, 11, 0, time.UTC), Last: time.Date(2025, 3, 4, 6, 58, 40, 0, time.UTC)},
			{Name: "/var/log/mail.log.2.gz", Format: "postfix", Error: "/var/log/mail.log.2.gz: gzip: invalid header"},
		},
		TimeZone: "Europe/Berlin",
		Summary: analysis.Summary{
			Messages: 500, Notifications: 4, Recipients: 546, Delivered: 528, Bounced: 4, Expired: 12, Pending: 2,
			Attempts: 672, Deferrals: 145, DeferralRate: 145.0 / 672, LocalDeferrals: 5, UnparsedLines: 3,
		},
		Lanes: []analysis.LaneStats{
			{Lane: "microsoft", Attempts: 408, Delivered: 273, Deferrals: 132, Bounces: 3, DeferralRate: 132.0 / 408, Recipients: 300,
				Expired: 12, LocalDeferrals: 5, Domains: []string{"outlook.com", "hotmail.com", "contoso.example"}},
			{Lane: "google", Attempts: 250, Delivered: 246, Deferrals: 3, Bounces: 1, DeferralRate: 3.0 / 250, Recipients: 240,
				Domains: []string{"gmail.com", "googlemail.com"}},
			{Lane: "other", Attempts: 14, Delivered: 3, Deferrals: 10, Bounces: 1, DeferralRate: 10.0 / 14, Recipients: 6, Pending: 2,
				Domains: []string{"smallshop.example"}},
		},
		Hourly: []analysis.HourStats{
			hour("google", at(3, 21), 30, 30, 0, 0), hour("microsoft", at(3, 21), 40, 38, 2, 0),
			hour("google", at(3, 22), 28, 27, 1, 0), hour("microsoft", at(3, 22), 42, 40, 2, 0), hour("other", at(3, 22), 4, 1, 3, 0),
			hour("google", at(3, 23), 25, 25, 0, 0), hour("microsoft", at(3, 23), 38, 36, 1, 1), hour("other", at(3, 23), 3, 0, 3, 0),
			hour("google", at(4, 0), 20, 20, 0, 0), hour("microsoft", at(4, 0), 60, 20, 40, 0),
			hour("google", at(4, 1), 18, 17, 0, 1), hour("microsoft", at(4, 1), 64, 12, 50, 2),
			hour("google", at(4, 2), 15, 15, 0, 0),
			hour("google", at(4, 3), 22, 21, 1, 0), hour("microsoft", at(4, 3), 50, 18, 32, 0),
			hour("google", at(4, 4), 26, 26, 0, 0), hour("microsoft", at(4, 4), 44, 40, 4, 0), hour("other", at(4, 4), 5, 2, 2, 1),
			hour("google", at(4, 5), 31, 30, 1, 0), hour("microsoft", at(4, 5), 40, 39, 1, 0), hour("other", at(4, 5), 2, 0, 2, 0),
			hour("google", at(4, 6), 35, 35, 0, 0), hour("microsoft", at(4, 6), 30, 30, 0, 0),
		},
		Expired: []analysis.ExpiredGroup{{
			Count: 12,
			LastReply: analysis.LastReply{Code: 451, Enhanced: "4.7.650", Text: msReply, Class: mailtriage.Temporary, Reason: "badreputation",
				Category: "throttling", Provider: "microsoft", Rule: "microsoft-s775-rate-limited", Action: ms.Action},
			Lanes: []string{"microsoft"},
		}},
		Responses: []analysis.Response{
			ms,
			{Count: 10, Class: mailtriage.Temporary, Reason: "networkerror", Category: "network", Rule: "connect-timed-out",
				Action: "Check that the MX answers on port 25.", Owner: mailtriage.OwnerESP,
				Example: "connect to mx.smallshop.example[198.51.100.7]:25: Connection timed out", Lanes: []string{"other"},
				First: at(3, 22), Last: at(4, 5)},
			{Count: 5, Code: 550, Enhanced: "5.1.1", Class: mailtriage.Permanent, Reason: "userunknown", Category: "address",
				Rule: "user-unknown", Action: "Suppress the address.", Owner: mailtriage.OwnerSender,
				Example: "550 5.1.1 <jane.doe@contoso.example>: Recipient address rejected: User unknown in virtual mailbox table",
				Lanes:   []string{"microsoft", "google", "other"}, First: at(3, 23), Last: at(4, 4)},
			{Count: 3, Code: 421, Enhanced: "4.7.28", Class: mailtriage.Temporary, Reason: "speeding", Category: "throttling",
				Provider: "google", Rule: "google-unusual-rate", Action: "Slow the Gmail lane.", Owner: mailtriage.OwnerESP,
				Ref:     "https://support.google.com/mail/answer/81126",
				Example: "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address.",
				Lanes:   []string{"google"}, First: at(3, 22), Last: at(4, 5)},
		},
		Providers: []analysis.ProviderStats{
			{Provider: "microsoft", Counts: analysis.Counts{Attempts: 408, Delivered: 273, Deferrals: 132, Bounces: 3}, DeferralRate: 132.0 / 408},
			{Provider: "google", Counts: analysis.Counts{Attempts: 250, Delivered: 246, Deferrals: 3, Bounces: 1}, DeferralRate: 3.0 / 250},
			{Counts: analysis.Counts{Attempts: 14, Delivered: 3, Deferrals: 10, Bounces: 1}, DeferralRate: 10.0 / 14},
		},
		Streams: []analysis.StreamStats{
			{Stream: "newsletter@news.shop.example", Messages: 420, Recipients: 466, Counts: analysis.Counts{Attempts: 590, Delivered: 450,
				Deferrals: 137, Bounces: 3}, Expired: 12, Bounced: 3, DeferralRate: 137.0 / 590, Lanes: []string{"microsoft", "google", "other"}},
			{Stream: "orders@shop.example", Messages: 80, Recipients: 80, Counts: analysis.Counts{Attempts: 82, Delivered: 72, Deferrals: 8,
				Bounces: 2}, Bounced: 1, DeferralRate: 8.0 / 82, Lanes: []string{"google", "microsoft"}},
		},
		Relays: []analysis.RelayStats{
			{Relay: "contoso-com.mail.protection.outlook.com", IP: "203.0.113.5", Provider: "microsoft", Lane: "microsoft",
				Counts: analysis.Counts{Attempts: 408, Delivered: 273, Deferrals: 132, Bounces: 3}, DeferralRate: 132.0 / 408},
			{Relay: "gmail-smtp-in.l.google.com", IP: "203.0.113.27", Provider: "google", Lane: "google",
				Counts: analysis.Counts{Attempts: 250, Delivered: 246, Deferrals: 3, Bounces: 1}, DeferralRate: 3.0 / 250},
		},
		Incidents: []analysis.Incident{{
			Lane: "microsoft", Start: at(4, 0), End: at(4, 4), Attempts: 174, Deferrals: 122, DeferralRate: 122.0 / 174,
			PeakRate: 50.0 / 64, Baseline: 0.05, Reply: incidentReply,
		}},
		Findings: []mailtriage.Finding{
			{Code: "incident.lane-deferrals", Severity: mailtriage.SeverityError, Category: "throttling",
				Message: "microsoft lane: 70.1% of 174 attempts deferred from 2025-03-04 00:00Z to 2025-03-04 04:00Z " +
					"(peak 78.1% in an hour; the lane's usual rate is 5.0%). Dominant reply: 451 4.7.650 — microsoft.",
				Fix:   "Slow only this lane: fewer connections and messages per connection; send to engaged recipients first.",
				Owner: mailtriage.OwnerESP,
				Evidence: []string{"lane=microsoft attempts=174 deferrals=122 domains=outlook.com,hotmail.com,contoso.example",
					"reply (132 times overall, rule microsoft-s775-rate-limited): " + msReply}},
			{Code: "incident.queue-timeouts", Severity: mailtriage.SeverityWarning, Category: "timeout",
				Message: "12 recipients timed out in the queue (expired). Most last heard: 451 4.7.650 — microsoft.",
				Fix:     "A queue timeout is the sending MTA giving up: fix the last real failure.",
				Owner:   mailtriage.OwnerESP,
				Evidence: []string{"12× " + msReply,
					"5× 550 5.1.1 <jane.doe@contoso.example>: Recipient address rejected"}},
		},
	}
}

// TestGolden renders the sample in every format and compares it with
// testdata/<format>.golden; go test -update rewrites them. Each format
// is rendered twice so an unstable order (a map) shows as a failure too.
func TestGolden(t *testing.T) {
	formats := []struct {
		name   string
		render func(*bytes.Buffer, *analysis.Result) error
	}{
		{"text", func(b *bytes.Buffer, r *analysis.Result) error { return Text(b, r, Options{Color: false}) }},
		{"markdown", func(b *bytes.Buffer, r *analysis.Result) error { return Markdown(b, r) }},
		{"html", func(b *bytes.Buffer, r *analysis.Result) error { return HTML(b, r) }},
		{"json", func(b *bytes.Buffer, r *analysis.Result) error { return JSON(b, r) }},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			var got, again bytes.Buffer
			if err := f.render(&got, sampleResult()); err != nil {
				t.Fatal(err)
			}
			if err := f.render(&again, sampleResult()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), again.Bytes()) {
				t.Errorf("two renderings differ at %s", firstDiff(got.String(), again.String()))
			}
			golden := filepath.Join("testdata", f.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the golden file at %s\n(go test -update rewrites it; check the diff before committing)",
					f.name, firstDiff(got.String(), string(want)))
			}
		})
	}
}

// firstDiff says where two texts first differ, with both lines.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "no line (they are equal)"
}

// TestJSONEmptyLists: scripts read every list as an array, never null.
func TestJSONEmptyLists(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, &analysis.Result{}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"inputs", "lanes", "hourly", "expired", "responses", "providers", "streams", "relays", "incidents", "findings"} {
		list, ok := m[key].([]any)
		if !ok || len(list) != 0 {
			t.Errorf("%q is %#v, want []", key, m[key])
		}
	}
	if bytes.Contains(b.Bytes(), []byte("null")) {
		t.Errorf("empty result has a null:\n%s", b.String())
	}
}

// TestJSONEmptyNonNilLists: an analysis of nothing makes empty, not nil,
// lists (analysis.Result does); they too are [], not null.
func TestJSONEmptyNonNilLists(t *testing.T) {
	r := &analysis.Result{
		Lanes: []analysis.LaneStats{}, Hourly: []analysis.HourStats{}, Responses: []analysis.Response{},
		HardBounces: []string{}, ExpiredRecipients: []analysis.RecipientOutcome{},
		Findings: []mailtriage.Finding{{Code: "input.nothing-analysed", Evidence: []string{}}},
	}
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("null")) {
		t.Errorf("empty lists became null:\n%s", b.String())
	}
}

// TestWindowInEveryFormat: with --since/--until the numbers cover only
// the window, and every human format says so beside the inputs' span.
func TestWindowInEveryFormat(t *testing.T) {
	r := sampleResult()
	r.Since, r.Until = "2025-03-04T00:00:00Z", "2025-03-04T06:00:00Z"
	const want = "since 2025-03-04T00:00:00Z until 2025-03-04T06:00:00Z"
	for name, out := range renderAll(t, r) {
		if !strings.Contains(out, want) {
			t.Errorf("%s does not say the window %q", name, want)
		}
	}
}

// renderAll renders r in every format a person reads, by format name.
func renderAll(t *testing.T, r *analysis.Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, render := range map[string]func(w *bytes.Buffer) error{
		"text":     func(w *bytes.Buffer) error { return Text(w, r, Options{}) },
		"markdown": func(w *bytes.Buffer) error { return Markdown(w, r) },
		"html":     func(w *bytes.Buffer) error { return HTML(w, r) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.String()
	}
	return out
}

// TestMarkdownInputs: an input that is not a Postfix log is not counted
// in Postfix lines, and what its source cannot show is said.
func TestMarkdownInputs(t *testing.T) {
	r := &analysis.Result{Inputs: []analysis.Input{
		{Name: "bounces.mbox", Format: "bounces", Lines: 7, MatchedLines: 5, OtherLines: 2,
			Limits: []string{"returned messages: only the recipients that failed show"}},
		{Name: "mainlog", Format: "exim", Lines: 100, MatchedLines: 90, OtherLines: 10},
	}}
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"- bounces.mbox: 7 messages, 5 recipients reported, 2 ordinary messages or auto-replies, 0 naming nobody\n",
		"  - returned messages: only the recipients that failed show\n",
		"- mainlog: 100 lines, 90 exim records, 10 without a delivery, 0 unreadable\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestNoAttemptsNoRate: a lane whose recipients the MTA all held back
// (local deferrals, no attempt) has no deferral rate; 0.0% would read as
// "nothing deferred".
func TestNoAttemptsNoRate(t *testing.T) {
	r := &analysis.Result{
		Summary: analysis.Summary{Messages: 5, Recipients: 5, Pending: 5, LocalDeferrals: 9},
		Lanes:   []analysis.LaneStats{{Lane: "apple", Recipients: 5, Pending: 5, LocalDeferrals: 9, Domains: []string{"icloud.com"}}},
	}
	for name, report := range renderAll(t, r) {
		// 0 of 5 recipients delivered is a true 0.0%.
		out := strings.NewReplacer("delivered 0 (0.0%)", "", "0.0% of recipients", "").Replace(report)
		if strings.Contains(out, "0.0%") {
			t.Errorf("%s gives a rate over no attempts:\n%s", name, out)
		}
	}
}

// TestInputCountsSingular: one line, one message, one record read as such.
func TestInputCountsSingular(t *testing.T) {
	for _, tt := range []struct {
		in   analysis.Input
		want string
	}{
		{analysis.Input{Format: "bounces", Lines: 1, MatchedLines: 1}, "1 message, 1 recipient reported, 0 ordinary messages or auto-replies, 0 naming nobody"},
		{analysis.Input{Format: "exim", Lines: 1, MatchedLines: 1}, "1 line, 1 exim record, 0 without a delivery, 0 unreadable"},
		{analysis.Input{Format: "postfix", Lines: 2, MatchedLines: 1, OtherLines: 1}, "2 lines, 1 Postfix, 1 other programs, 0 unreadable"},
	} {
		if got := inputCounts(tt.in); got != tt.want {
			t.Errorf("inputCounts(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestOneLineSingular: an input of one line, unreadable, is "1 line" in
// the report's first line and in its count of skipped lines.
func TestOneLineSingular(t *testing.T) {
	r := &analysis.Result{Inputs: []analysis.Input{{Name: "-", Format: "postfix", Lines: 1, Unparsed: 1}}}
	r.Summary.UnparsedLines = 1
	for name, out := range renderAll(t, r) {
		if strings.Contains(out, "1 lines") {
			t.Errorf("%s says \"1 lines\":\n%s", name, out)
		}
	}
}

// TestEmptyResult: every format renders a result with nothing in it.
func TestEmptyResult(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, &analysis.Result{}, Options{}); err != nil || !strings.Contains(b.String(), "Nothing stands out") {
		t.Errorf("text: %v\n%s", err, b.String())
	}
	// No table is drawn as a bare header.
	if strings.Contains(b.String(), "  lane  attempts") {
		t.Errorf("text: an empty lanes table:\n%s", b.String())
	}
	b.Reset()
	if err := Markdown(&b, &analysis.Result{}); err != nil || !strings.Contains(b.String(), "Nothing stands out") {
		t.Errorf("markdown: %v\n%s", err, b.String())
	}
	if strings.Contains(b.String(), "| lane |") || strings.Contains(b.String(), "| count |") || strings.Contains(b.String(), "| stream |") {
		t.Errorf("markdown: an empty table:\n%s", b.String())
	}
	b.Reset()
	if err := HTML(&b, &analysis.Result{}); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if strings.Contains(h, "<svg") || !strings.Contains(h, "nothing to draw") || !strings.Contains(h, "Nothing stands out") {
		t.Errorf("html of an empty result:\n%s", h)
	}
	checkXML(t, h)
}

// redactSample holds the same recipient address in every place Redact
// rewrites, a second address, and addresses it must leave alone.
func redactSample() *analysis.Result {
	return &analysis.Result{
		Inputs: []analysis.Input{{Name: "/var/log/mail.log", Lines: 10}},
		Responses: []analysis.Response{
			{Count: 2, Code: 550, Example: "550 5.1.1 <jane.doe@contoso.example>: Recipient address rejected", Lanes: []string{"microsoft"}},
			{Count: 1, Code: 550, Example: "550 5.1.1 'jane.doe@contoso.example': no such user; see https://help.example.com/x?u=1"},
			{Count: 1, Code: 421, Example: "421 4.7.0 Try again later"},
		},
		Expired: []analysis.ExpiredGroup{{Count: 1, LastReply: analysis.LastReply{
			Text: "452 4.2.2 bob@example.org: mailbox full (also jane.doe@contoso.example)"}}},
		Incidents: []analysis.Incident{{Lane: "microsoft", Reply: analysis.Response{
			Example: "550 5.1.1 <jane.doe@contoso.example>: Recipient address rejected"}}},
		Findings: []mailtriage.Finding{{
			Code: "incident.invalid-recipients", Message: "3 attempts to jane.doe@contoso.example failed.",
			Fix: "Suppress the address.", Evidence: []string{"2× 550 5.1.1 <jane.doe@contoso.example>", "1× 421 4.7.0 Try again later"},
		}},
		Streams: []analysis.StreamStats{{Stream: "newsletter@news.shop.example", Lanes: []string{"microsoft"}}},
		Relays:  []analysis.RelayStats{{Relay: "contoso-example.mail.protection.outlook.com", Lane: "microsoft"}},
		Domains: []analysis.DomainStats{{Domain: "contoso.example", Reply: analysis.Response{Example: "550 5.1.1 <jane.doe@contoso.example>: unknown"}}},
		ExpiredRecipients: []analysis.RecipientOutcome{{Recipient: "jane.doe@contoso.example", Sender: "newsletter@news.shop.example",
			LastReply: "452 4.2.2 jane.doe@contoso.example: mailbox full"}},
		PendingRecipients: []analysis.RecipientOutcome{{Recipient: "bob@example.org", Sender: "newsletter@news.shop.example"}},
	}
}

// TestRedact: every recipient address in reply texts and findings becomes
// r-<8 hex>@domain, the same token for the same address wherever it is, and
// nothing else changes (envelope senders, relays, the words around).
func TestRedact(t *testing.T) {
	const jane, bob = "jane.doe@contoso.example", "bob@example.org"
	token := regexp.MustCompile(`^r-[0-9a-f]{12}@`)
	rd := NewRedactor([]byte("test key"))
	tj, tb := rd.Text(jane), rd.Text(bob)
	if !token.MatchString(tj) || !strings.HasSuffix(tj, "@contoso.example") || !token.MatchString(tb) || !strings.HasSuffix(tb, "@example.org") {
		t.Fatalf("Text gives %q and %q, want r-xxxxxxxxxxxx@domain", tj, tb)
	}
	if tj == tb || rd.Text(jane) != tj {
		t.Fatalf("tokens are not stable and distinct: %q, %q, %q", tj, tb, rd.Text(jane))
	}
	// Another key gives other tokens: a guess can't be checked without it.
	if other := NewRedactor([]byte("another key")).Text(jane); other == tj {
		t.Fatalf("the token does not depend on the key: %q", other)
	}

	got := redactSample()
	rd.Result(got)
	want := redactSample()
	sub := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, jane, tj), bob, tb) }
	for i := range want.Responses {
		want.Responses[i].Example = sub(want.Responses[i].Example)
	}
	want.Expired[0].LastReply.Text = sub(want.Expired[0].LastReply.Text)
	want.Incidents[0].Reply.Example = sub(want.Incidents[0].Reply.Example)
	want.Findings[0].Message = sub(want.Findings[0].Message)
	want.Domains[0].Reply.Example = sub(want.Domains[0].Reply.Example)
	want.ExpiredRecipients[0].Recipient = sub(want.ExpiredRecipients[0].Recipient)
	want.ExpiredRecipients[0].LastReply = sub(want.ExpiredRecipients[0].LastReply)
	want.PendingRecipients[0].Recipient = sub(want.PendingRecipients[0].Recipient)
	for i := range want.Findings[0].Evidence {
		want.Findings[0].Evidence[i] = sub(want.Findings[0].Evidence[i])
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("Redact result differs at %s", firstDiff(string(g), string(w)))
	}
	var all bytes.Buffer
	if err := JSON(&all, got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(all.String(), "jane.doe") || strings.Contains(all.String(), "bob@") {
		t.Errorf("a recipient survived Redact:\n%s", all.String())
	}
}

// TestRedactVERPSender: a VERP envelope sender carries its recipient
// (bounces+jane=icloud.com@); in the listed recipients it reads as its
// stream, as the streams table names it.
func TestRedactVERPSender(t *testing.T) {
	for _, tt := range []struct{ sender, want string }{
		{"bounces+jane=icloud.com@shop.example", "bounces+*@shop.example"},
		{"bounce-77-bob=gmail.com@shop.example", "bounce-*@shop.example"},
		{"news@shop.example", "news@shop.example"},
		{"", ""},
	} {
		r := &analysis.Result{
			ExpiredRecipients: []analysis.RecipientOutcome{{Recipient: "jane@icloud.com", Sender: tt.sender}},
			PendingRecipients: []analysis.RecipientOutcome{{Recipient: "bob@gmail.com", Sender: tt.sender}},
		}
		NewRedactor([]byte("k")).Result(r)
		for _, o := range append(r.ExpiredRecipients, r.PendingRecipients...) {
			if o.Sender != tt.want {
				t.Errorf("sender %q redacted to %q, want %q", tt.sender, o.Sender, tt.want)
			}
		}
	}
}

// TestTextTableCellsFromTheLog: text from the log in a table cell (a
// reply, a domain, a stream, a host) cannot drive the terminal, and a
// long reply is clipped to the line.
func TestTextTableCellsFromTheLog(t *testing.T) {
	const evil = "\x1b]0;pwned\x07\x1b[2J"
	r := sampleResult()
	r.Domains = []analysis.DomainStats{{Domain: "dead" + evil + ".example", Lane: "other", Counts: analysis.Counts{Attempts: 12},
		Reply: analysis.Response{Example: "451 4.3.0 " + evil + " weird server " + strings.Repeat("y", 300)}}}
	r.Streams[0].Stream = "news" + evil + "@shop.example"
	r.Hosts = []analysis.HostStats{{Host: "mta1" + evil}, {Host: "mta2"}}
	var b bytes.Buffer
	if err := Text(&b, r, Options{Width: 100}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters reached the text report:\n%q", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "dead") && utf8.RuneCountInString(l) > 100 {
			t.Errorf("domains row is %d wide, want at most 100: %q", utf8.RuneCountInString(l), l)
		}
	}
}

// TestSparklineSaysBounces: a lane whose every attempt hard-bounced has a
// flat ▁ line (its deferral rate is 0): the line says the bounces, not a
// healthy "peak 0.0%"; a lane with a few bounces among deferrals keeps its
// peak alone.
func TestSparklineSaysBounces(t *testing.T) {
	h0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	r := &analysis.Result{
		Lanes: []analysis.LaneStats{
			{Lane: "google", Attempts: 120, Bounces: 120},
			{Lane: "yahoo", Attempts: 120, Delivered: 90, Deferrals: 20, Bounces: 10},
			{Lane: "apple", Attempts: 120, Delivered: 80, Deferrals: 10, Bounces: 30},
		},
		Hourly: []analysis.HourStats{
			{Lane: "google", Hour: h0, Attempts: 60, Bounces: 60},
			{Lane: "google", Hour: h0.Add(time.Hour), Attempts: 60, Bounces: 60},
			{Lane: "yahoo", Hour: h0, Attempts: 120, Delivered: 90, Deferrals: 20, Bounces: 10, DeferralRate: 20.0 / 120},
			{Lane: "apple", Hour: h0, Attempts: 120, Delivered: 80, Deferrals: 10, Bounces: 30, DeferralRate: 10.0 / 120},
		},
	}
	var b bytes.Buffer
	if err := Text(&b, r, Options{Width: 100}); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.ContainsAny(l, "▁▂▃▄▅▆▇█") {
			lines[f[0]] = l
		}
	}
	if g := lines["google"]; strings.Contains(g, "peak 0.0%") || !strings.Contains(g, "100.0% bounced") {
		t.Errorf("all bounced: %q", g)
	}
	if y := lines["yahoo"]; !strings.Contains(y, "peak 16.7%") || strings.Contains(y, "bounced") {
		t.Errorf("deferrals, few bounces: %q", y)
	}
	if a := lines["apple"]; !strings.Contains(a, "peak 8.3%") || !strings.Contains(a, "25.0% bounced") {
		t.Errorf("bounces above deferrals: %q", a)
	}
}

// TestZoneNoteOnlyWhenUsed: every format names the zone zone-less stamps
// were read in only when some were: RFC 3339 stamps carry their own.
func TestZoneNoteOnlyWhenUsed(t *testing.T) {
	r := &analysis.Result{TimeZone: "Europe/Berlin", Inputs: []analysis.Input{{Name: "mail.log", Lines: 10, MatchedLines: 10}}}
	for name, out := range renderAll(t, r) {
		if strings.Contains(out, "Europe/Berlin") {
			t.Errorf("%s names the zone though no stamp lacked one", name)
		}
	}
	r.Inputs[0].Zoneless = 10
	for name, out := range renderAll(t, r) {
		if !strings.Contains(out, "10 lines without zone read as Europe/Berlin") {
			t.Errorf("%s does not say the zone-less stamps' zone", name)
		}
	}
}

// TestZoneNoteYear: the year the note names is the one given to the stamps
// that had none (traditional syslog); when other inputs' zone-less stamps
// carried their own (Exim's local time, PowerMTA's), it is said to be
// theirs only.
func TestZoneNoteYear(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inputs []analysis.Input
		want   string
	}{
		{"traditional only", []analysis.Input{{Name: "mail.log", Zoneless: 10, Year: 2025}},
			"10 lines without zone read as Europe/Berlin, year 2025 (--year to change)"},
		{"with Exim's local time", []analysis.Input{{Name: "mail.log", Zoneless: 10, Year: 2025}, {Name: "mainlog", Format: "exim", Zoneless: 5}},
			"15 lines without zone read as Europe/Berlin, those without year in 2025 (--year to change)"},
		{"Exim's alone", []analysis.Input{{Name: "mainlog", Format: "exim", Zoneless: 5}},
			"5 lines without zone read as Europe/Berlin)"},
	} {
		r := &analysis.Result{TimeZone: "Europe/Berlin", Inputs: tc.inputs}
		var b bytes.Buffer
		if err := Text(&b, r, Options{}); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(b.String(), "\n"); !strings.Contains(first, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, first, tc.want)
		}
	}
}

// TestRedactListedAddresses: a listed recipient and a hard bounce are
// addresses on their own, hidden whatever they hold: a domain without a
// dot (root@intranet, a local mailbox) or a quoted local part, which no
// search of free text finds, and the same token as in a reply's text.
func TestRedactListedAddresses(t *testing.T) {
	rd := NewRedactor([]byte("test key"))
	for _, addr := range []string{"secretroot@intranet", `"john q.public"@example.com`, "jane.doe@contoso.example", "postmaster"} {
		r := &analysis.Result{
			ExpiredRecipients: []analysis.RecipientOutcome{{Recipient: addr}},
			PendingRecipients: []analysis.RecipientOutcome{{Recipient: addr}},
			HardBounces:       []string{addr},
		}
		rd.Result(r)
		local := addr
		if at := strings.LastIndexByte(addr, '@'); at >= 0 {
			local = addr[:at]
		}
		for _, got := range []string{r.ExpiredRecipients[0].Recipient, r.PendingRecipients[0].Recipient, r.HardBounces[0]} {
			if strings.Contains(got, local) || !strings.HasPrefix(got, "r-") || !strings.HasSuffix(got, addr[len(local):]) {
				t.Errorf("%q redacted to %q", addr, got)
			}
		}
	}
	// The token is the one the same address has in a reply.
	const jane = "jane.doe@contoso.example"
	r := &analysis.Result{PendingRecipients: []analysis.RecipientOutcome{{Recipient: jane}}}
	rd.Result(r)
	if got, want := r.PendingRecipients[0].Recipient, rd.Text(jane); got != want {
		t.Errorf("listed %q, in text %q", got, want)
	}
}

// TestStandardInputNamed: an input read from standard input ("-") is
// named so in every format, as the text report does, not as a bare "-".
func TestStandardInputNamed(t *testing.T) {
	r := &analysis.Result{Inputs: []analysis.Input{{Name: "-", Format: "postfix", Lines: 4, MatchedLines: 4}}}
	for name, out := range renderAll(t, r) {
		if !strings.Contains(out, "standard input") {
			t.Errorf("%s does not name standard input:\n%s", name, out)
		}
		if strings.Contains(out, "- -:") || strings.Contains(out, "<td>-</td><td>postfix") {
			t.Errorf("%s names standard input \"-\":\n%s", name, out)
		}
	}
}

// TestSpanWithoutStamps: a report with no time span says why, in every
// format: the inputs held no mail record (a missing file; lines, with
// stamps, of other programs); "no timestamps" is for records that had
// none. Markdown starts its sentence with a capital.
func TestSpanWithoutStamps(t *testing.T) {
	for _, tc := range []struct {
		inputs []analysis.Input
		want   string
	}{
		{[]analysis.Input{{Name: "missing.log", Error: "missing.log: no such file"}}, "no mail records"},
		{[]analysis.Input{{Name: "auth.log", Format: "postfix", Lines: 2, OtherLines: 2,
			Error: "auth.log: no Postfix log lines among 2 lines; is it a Postfix mail log?"}}, "no mail records"},
		{[]analysis.Input{{Name: "export.csv", Format: "esp", Lines: 2, MatchedLines: 2}}, "no timestamps"},
	} {
		r := &analysis.Result{Inputs: tc.inputs}
		for name, out := range renderAll(t, r) {
			want := tc.want
			if name == "markdown" {
				want = strings.ToUpper(want[:1]) + want[1:] + ". Times are UTC."
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s of %+v: no %q:\n%s", name, tc.inputs, want, out)
			}
		}
	}
}

// TestRedactQuotedLocalPart: a reply quoting a recipient whose local part
// is a quoted string hides it, with the token its listed address has.
func TestRedactQuotedLocalPart(t *testing.T) {
	const addr = `"john q.public"@example.com`
	r := &analysis.Result{
		Responses:         []analysis.Response{{Example: "552 5.2.2 <" + addr + "> Mailbox full"}},
		PendingRecipients: []analysis.RecipientOutcome{{Recipient: addr}},
	}
	NewRedactor([]byte("k")).Result(r)
	if got := r.Responses[0].Example; strings.Contains(got, "john") || !strings.Contains(got, "<"+r.PendingRecipients[0].Recipient+">") {
		t.Errorf("reply redacted to %q, listed address to %q", got, r.PendingRecipients[0].Recipient)
	}
}

// TestPendingUnnamedShown: the recipients still queued that no line named
// are shown beside the pending ones, in text and Markdown, and not at all
// when there are none.
func TestPendingUnnamedShown(t *testing.T) {
	r := sampleResult()
	r.Summary.PendingUnnamed = 7
	var text, md bytes.Buffer
	if err := Text(&text, r, Options{Width: 120}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "(+7 not yet tried, known only by their count)") {
		t.Errorf("text report does not show them:\n%s", text.String())
	}
	if !strings.Contains(md.String(), "Besides the pending recipients, 7 were still queued and not yet tried") {
		t.Errorf("Markdown report does not show them")
	}
	if page := renderHTML(t, r); !strings.Contains(page, "7 not yet tried</small>") {
		t.Errorf("HTML report does not show them")
	}
	r.Summary.PendingUnnamed = 0
	text.Reset()
	Text(&text, r, Options{Width: 120})
	if strings.Contains(text.String(), "not yet tried") {
		t.Errorf("shown with none")
	}
}

// TestBlocklistsInEveryFormat: analyze --blocklists puts each sending
// address's listings in every format a person reads, with the delisting
// page of a listed one in Markdown and HTML; an address no list could
// answer for is never shown as clean.
func TestBlocklistsInEveryFormat(t *testing.T) {
	r := sampleResult()
	r.Blocklists = []analysis.SenderListing{
		{IP: "192.0.2.10", Host: "mta1", Carried: &analysis.Counts{Attempts: 2692, Deferrals: 1200},
			Listed: []analysis.ListEntry{{List: "Spamhaus SBL", Zone: "sbl.spamhaus.org", Severity: "error", DelistURL: "https://check.spamhaus.org/"}},
			Clean:  []string{"Barracuda"}},
		{IP: "192.0.2.11", Unknown: []string{"Spamhaus SBL", "Barracuda"}},
	}
	for name, out := range renderAll(t, r) {
		for _, want := range []string{"192.0.2.10", "Spamhaus SBL", "2,692", "192.0.2.11", "could not tell: no scored list answered (2 asked)"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not say %q", name, want)
			}
		}
		if name != "text" && !strings.Contains(out, "https://check.spamhaus.org/") {
			t.Errorf("%s does not link the delisting page", name)
		}
	}
	root := parseXML(t, renderHTML(t, r))
	if len(root.all("section")) == 0 || !slices.ContainsFunc(root.all("section"), func(n *node) bool { return n.attr["id"] == "blocklists" }) {
		t.Error("the HTML report has no blocklists section")
	}
}

// TestDeletedAndDiscardedInEveryFormat: recipients an administrator
// deleted and recipients discarded on the sending host are neither
// delivered nor failed; every format says how many there were.
func TestDeletedAndDiscardedInEveryFormat(t *testing.T) {
	r := sampleResult()
	r.Summary.Deleted, r.Summary.Discarded = 3, 7
	for name, out := range renderAll(t, r) {
		for _, want := range []string{"deleted", "discarded"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not say %q", name, want)
			}
		}
	}
	// Exim's :blackhole: and Sendmail's stat=discarded are discarded too,
	// and Sendmail does not log them as sent: the Markdown report names
	// no one MTA's way, and counts one recipient as one.
	r.Summary.Deleted, r.Summary.Discarded = 1, 1
	md := renderAll(t, r)["markdown"]
	if !strings.Contains(md, "1 recipient was discarded") || !strings.Contains(md, "1 recipient was deleted") || strings.Contains(md, "logs them as sent") {
		t.Errorf("markdown of one deleted and one discarded recipient:\n%s", md)
	}
	r.Summary.Deleted, r.Summary.Discarded = 0, 0
	for name, out := range renderAll(t, r) {
		if strings.Contains(out, "discarded") {
			t.Errorf("%s speaks of discarded recipients where there were none", name)
		}
	}
}
