package kumo

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/source/lifecycle/lifecycletest"
)

// The records are KumoMTA's documented log record (log_record.md): one
// line from the KumoMTA repository's tsa-torture.js, the others composed
// from the documented fields, as the project's research notes give them.
func TestRead(t *testing.T) {
	f, err := os.Open("testdata/log.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
		if e.Kind != mailtriage.Message {
			got = append(got, fmt.Sprintf("%v %s %s %d %s %s %s", e.Kind, e.Status, e.Recipient, e.Attempts, e.Verdict.Rule, e.RemoteHost, e.LocalIP))
		}
	})
	st, err := Read(context.Background(), f, "log.jsonl", tr)
	if err != nil {
		t.Fatal(err)
	}
	tr.Finish(st.Last)
	want := []string{
		"1 deferred jane@icloud.com 1 421/4.7.0 mx01.mail.icloud.com ip-a1",
		// KumoMTA's own suspension: a local deferral, not the receiver's.
		"2 deferred jane@icloud.com 1 0/  ip-a1",
		"1 delivered jane@icloud.com 2 250/2.0.0 mx02.mail.icloud.com ip-a1",
		"3 delivered jane@icloud.com 2 250/2.0.0 mx02.mail.icloud.com ip-a1",
		"1 deferred user@yahoo.com 1 421/4.7.0  ",
		// Expired after 23 attempts; the root cause is Yahoo's TSS04.
		"3 expired user@yahoo.com 23 421/4.7.0  ",
		"1 bounced nobody@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
		"3 bounced nobody@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
		"1 bounced gone@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
		"3 bounced gone@me.com 1 550/5.1.1 mx01.mail.icloud.com ip-a2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Lines != 11 || st.Used != 6 || st.Skipped != 2 || st.Bad != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestDetect(t *testing.T) {
	data, _ := os.ReadFile("testdata/log.jsonl")
	if !Detect(data) || Detect([]byte(`{"type":"delivered","sg_event_id":"x"}`)) || Detect([]byte("type,timeLogged,rcpt\n")) {
		t.Error("detect")
	}
}

func FuzzRead(f *testing.F) {
	data, _ := os.ReadFile("testdata/log.jsonl")
	f.Add(string(data))
	f.Add(`{"type":"Bounce","id":"x","recipient":[],"timestamp":"1"}`)
	f.Fuzz(func(t *testing.T, s string) {
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(*mailtriage.Event) {})
		st, _ := Read(context.Background(), strings.NewReader(s), "fuzz", tr)
		tr.Finish(st.Last)
	})
}

// KumoMTA writes "KumoMTA internal: failed to connect to any candidate
// hosts: ..." as a TransientFailure when no connection to any MX worked
// (kumod's ready queue dispatcher, code 400, no enhanced code). Each is a try at the receiver that failed: an attempt
// that was deferred, like Postfix's "connect to ...: Connection refused".
// Only the failures KumoMTA itself says are local (the proxy, a source
// address not plumbed) and its suspensions and throttles are local.
// Contents are from KumoMTA's integration test snapshots
// (KumoCorp/kumomta: dane_mismatch_defers, proxy_protocol_broken_proxy,
// the unplumbed source address test; ports written out), and the
// OpportunisticInsecure STARTTLS one from a public worker's test of a real
// diagnostic (mail.escom.bg); the refused one follows the snapshots'
// "connect to ADDR and read initial banner: ERR" form.
func TestInternalConnectFailure(t *testing.T) {
	for _, tt := range []struct {
		content string
		want    string
	}{
		{`KumoMTA internal: failed to connect to any candidate hosts: connect to 17.57.154.6:25 and read initial banner: Connection refused (os error 111)`,
			"1 deferred jane@icloud.com 1 connect"},
		{`KumoMTA internal: failed to connect to any candidate hosts: TLS handshake with ResolvedAddress { name: \"mx.dane.example.\", addr: 127.0.0.1, is_secure: true }:2525 failed: <certificate verify failed>`,
			"1 deferred jane@icloud.com 1 tls"},
		{`KumoMTA internal: failed to connect to any candidate hosts: All failures are related to OpportunisticInsecure STARTTLS. Consider setting enable_tls=Disabled for this site. mail.escom.bg./195.24.89.4:25: EHLO after OpportunisticInsecure STARTTLS handshake status: failed: received fatal alert: HandshakeFailure`,
			"1 deferred jane@icloud.com 1 tls"},
		// No remote try: KumoMTA's own infrastructure, suspensions, throttles.
		{`KumoMTA internal: failed to connect to any candidate hosts: All failures are related to proxy connection issues. Is the proxy infrastructure online and healthy? connect to 127.0.0.1:2525 and read initial banner: failed to connect via any of 2 candidate(s) for source default: 255.255.255.255:1: Network is unreachable (os error 101)`,
			"2 deferred jane@icloud.com 0 local"},
		{`KumoMTA internal: failed to connect to any candidate hosts: All failures are related to having an unplumbed source address. Are the network interfaces provisioned correctly? connect to 127.0.0.1:2525 and read initial banner: bind 9.9.9.9 for default failed: Cannot assign requested address (os error 99)`,
			"2 deferred jane@icloud.com 0 local"},
		{`KumoMTA internal: ready queue is suspended: automation rule [HCM1]`, "2 deferred jane@icloud.com 0 local"},
		{`KumoMTA internal: scheduled queue is suspended: maintenance`, "2 deferred jane@icloud.com 0 local"},
	} {
		line := fmt.Sprintf(`{"type":"TransientFailure","id":"8c1f","sender":"b@example.net","recipient":"jane@icloud.com","site":"ip-a1->(mx01|mx02).mail.icloud.com.","response":{"code":400,"enhanced_code":null,"content":"%s","command":null},"timestamp":1741615400,"num_attempts":0,"egress_source":"ip-a1"}`, tt.content)
		var got []string
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
			if e.Kind != mailtriage.Message && e.Kind != mailtriage.Final {
				got = append(got, fmt.Sprintf("%v %s %s %d %s", e.Kind, e.Status, e.Recipient, e.Attempts, e.Detail.Kind))
			}
		})
		if _, err := Read(context.Background(), strings.NewReader(line), "t", tr); err != nil {
			t.Fatal(err)
		}
		tr.Finish(time.Unix(1741615400, 0))
		if strings.Join(got, "\n") != tt.want {
			t.Errorf("%.80s:\ngot  %q\nwant %q", tt.content, got, tt.want)
		}
	}
}

// A Bounce whose response begins "KumoMTA internal:" is KumoMTA's own
// permanent failure with no try at a receiver (no peer_address): a final
// bounce with no attempt, or an expiry when it is about the message's
// age. The insert failure is kumod's (crates/kumod queue manager: a Bounce,
// code 500, logged when the queue insert fails during reception; the
// error after it is illustrative); the age one is composed from kumod's
// max_age wording (551 5.4.7 "Next delivery time would be ... which
// exceeds max_age=...") with the internal prefix; the AdminBounce is
// kumod's admin bounce record (551 5.7.1 "Administrator bounced with
// reason: ..."), already a deletion with no attempt; the remote bounce
// keeps its attempt.
func TestInternalBounce(t *testing.T) {
	for _, tt := range []struct {
		typ, response, peer string
		want                string
	}{
		{"Bounce", `{"code":500,"enhanced_code":null,"content":"KumoMTA internal: QueueManager::insert failed during reception: failed to resolve queue campaign:tenant@icloud.com","command":null}`, "",
			"3 bounced jane@icloud.com 0 0//local"},
		{"Bounce", `{"code":551,"enhanced_code":{"class":5,"subject":4,"detail":7},"content":"KumoMTA internal: Next delivery time would be 7days 20m after creation, which exceeds max_age=7days","command":null}`, "",
			"3 expired jane@icloud.com 0 0//local"},
		{"AdminBounce", `{"code":551,"enhanced_code":{"class":5,"subject":7,"detail":1},"content":"Administrator bounced with reason: no time to explain!11!","command":null}`, "",
			"3 deleted jane@icloud.com 0 /reply"},
		{"Bounce", `{"code":550,"enhanced_code":{"class":5,"subject":1,"detail":1},"content":"<jane@icloud.com>: user does not exist","command":"RCPT TO"}`,
			`,"peer_address":{"name":"mx01.mail.icloud.com.","addr":"17.57.154.6"}`,
			"1 bounced jane@icloud.com 1 550/5.1.1/said\n3 bounced jane@icloud.com 1 550/5.1.1/said"},
	} {
		line := fmt.Sprintf(`{"type":%q,"id":"8c1f","sender":"b@example.net","recipient":"jane@icloud.com","site":"","response":%s%s,"timestamp":1741615400,"num_attempts":0}`, tt.typ, tt.response, tt.peer)
		var got []string
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
			if e.Kind != mailtriage.Message {
				got = append(got, fmt.Sprintf("%v %s %s %d %s/%s", e.Kind, e.Status, e.Recipient, e.Attempts, e.Verdict.Rule, e.Detail.Kind))
			}
		})
		if _, err := Read(context.Background(), strings.NewReader(line), "t", tr); err != nil {
			t.Fatal(err)
		}
		tr.Finish(time.Unix(1741615400, 0))
		if strings.Join(got, "\n") != tt.want {
			t.Errorf("%s %.60s:\ngot  %q\nwant %q", tt.typ, tt.response, got, tt.want)
		}
	}
}

// TestSourceAddress: since 2024.09.02 a record names the source address
// (and port) the delivery left from, besides the egress source's name
// (log_record.md, "source_address"): the address is the sending IP, the
// name stays beside it. Without it, the source's name (or the pool's)
// stands for the sending IP, as before.
func TestSourceAddress(t *testing.T) {
	for _, tt := range []struct{ source, want string }{
		{`"egress_source":"bulk-ip","source_address":{"address":"203.0.113.25:53210"}`, "203.0.113.25 bulk-ip"},
		// Through a proxy the port may be 0; the proxy server is not the
		// sending address.
		{`"egress_source":"bulk-ip","source_address":{"address":"203.0.113.25:0","protocol":"socks5","server":"192.168.1.1:5000"}`, "203.0.113.25 bulk-ip"},
		{`"egress_source":"v6","source_address":{"address":"[2001:db8::25]:40000"}`, "2001:db8::25 v6"},
		{`"egress_pool":"pool-a","source_address":{"address":"203.0.113.25:1"}`, "203.0.113.25 pool-a"},
		{`"egress_source":"bulk-ip"`, "bulk-ip "},
		{`"egress_source":"bulk-ip","source_address":{"address":"not an address"}`, "bulk-ip "},
	} {
		line := `{"type":"Delivery","id":"8c1f","sender":"b@example.net","recipient":"jane@icloud.com","response":{"code":250,"content":"OK","command":"."},"peer_address":{"name":"mx01.mail.icloud.com.","addr":"17.57.154.6"},"timestamp":1741615400,"num_attempts":1,` + tt.source + `}`
		var got string
		tr := lifecycle.NewTracker(lifecycletest.Lanes{}, lifecycletest.Codes{}, func(e *mailtriage.Event) {
			if e.Kind == mailtriage.Attempt {
				got = e.LocalIP + " " + e.LocalName
			}
		})
		if _, err := Read(context.Background(), strings.NewReader(line), "t", tr); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.source, got, tt.want)
		}
	}
}
