package throttle

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var apple = Lane{
	Name: "apple", Domains: []string{"icloud.com", "me.com", "mac.com"}, Nexthop: "icloud.com",
	Connections: 2, MessagesPerConnection: 5, PerHour: 300,
	Deferrals: []string{"421 4.7.0 Deferred - see Proofpoint DNSBL lookup", "421 4.7.0 [HCM1] Your mail from 192.0.2.10 was deferred."},
	Why:       "41% of attempts deferred from 09:00Z by Apple behind Proofpoint",
}

// postfixTool returns the path of a Postfix tool, skipping the test when
// Postfix is not installed, unless MAILTRIAGE_REQUIRE_POSTFIX is set (CI
// installs Postfix and sets it, so there the test never skips).
func postfixTool(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("MAILTRIAGE_REQUIRE_POSTFIX") != "" {
		t.Fatalf("%s is not installed (install Debian's postfix package)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// TestPostfixAcceptsIt has Postfix's own tools read what we generate:
// postconf reads main.cf and master.cf (and warns of any parameter no
// transport uses, which would mean a misnamed limit), postmap compiles the
// transport map, and a lookup in it gives the lane's transport.
func TestPostfixAcceptsIt(t *testing.T) {
	postconf, postmap := postfixTool(t, "postconf"), postfixTool(t, "postmap")
	gmail := Lane{Name: "gmail", Domains: []string{"gmail.com", "googlemail.com"}, Connections: 5, MessagesPerConnection: 1}
	yahoo := Lane{Name: "yahoo", Domains: []string{"yahoo.com", "aol.com"}, Relayhost: "[smarthost.example]:587", Connections: 2, MessagesPerConnection: 5, PerHour: 1000}
	for _, set := range [][]Lane{{apple}, {gmail}, {apple, gmail}, {yahoo}} {
		t.Run(set[len(set)-1].Name+fmt.Sprint(len(set)), func(t *testing.T) {
			files, err := Postfix(set...)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			byName := map[string]string{}
			for _, f := range files {
				byName[filepath.Base(f.Name)] = f.Content
			}
			write := func(name, content string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("main.cf", byName["main.cf.mailtriage"])
			write("master.cf", byName["master.cf.mailtriage"])
			write("mailtriage_transport", byName["mailtriage_transport"])

			out, err := exec.Command(postconf, "-c", dir, "-n").CombinedOutput()
			if err != nil || strings.Contains(string(out), "warning") {
				t.Fatalf("postconf -n: %v\n%s", err, out)
			}
			table := "hash:" + filepath.Join(dir, "mailtriage_transport")
			if out, err := exec.Command(postmap, "-c", dir, table).CombinedOutput(); err != nil {
				t.Fatalf("postmap: %v\n%s", err, out)
			}
			for _, l := range set {
				for _, want := range []string{"lane_" + l.Name + "_destination_concurrency_limit = ", "transport_maps = hash:" + PostfixMap} {
					if !strings.Contains(string(out), want) {
						t.Errorf("postconf -n lacks %q:\n%s", want, out)
					}
				}
				// -x expands syslog_name as Postfix will.
				svc, err := exec.Command(postconf, "-c", dir, "-Mx", "lane_"+l.Name+"/unix").CombinedOutput()
				if err != nil || !strings.Contains(string(svc), "syslog_name=postfix/lane_"+l.Name) || strings.Contains(string(svc), "warning") {
					t.Fatalf("postconf -M: %v\n%s", err, svc)
				}
				for _, d := range l.Domains {
					got, err := exec.Command(postmap, "-c", dir, "-q", d, table).CombinedOutput()
					if want := "lane_" + l.Name + ":" + cmp.Or(l.Relayhost, l.Nexthop); err != nil || strings.TrimSpace(string(got)) != want {
						t.Errorf("postmap -q %s: %q (%v), want %q", d, got, err, want)
					}
				}
			}
		})
	}
}

func TestPostfixValues(t *testing.T) {
	files, err := Postfix(apple)
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, f := range files {
		all += f.Content
	}
	// 300 an hour is one every 12 s (qmgr's rate delay), with the failed
	// cohort limit Postfix advises alongside it.
	for _, want := range []string{
		"lane_apple_destination_rate_delay = 12s",
		"lane_apple_destination_concurrency_failed_cohort_limit = 100",
		"lane_apple_destination_concurrency_limit = 2",
		"every delivery opens its own connection",
		"icloud.com                     lane_apple:icloud.com",
		"Roll back",
		"41% of attempts deferred",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("lacks %q", want)
		}
	}
}

// TestPostfixInstance: in a postmulti instance the lane's log lines keep the
// instance's name, so analyze can tell the instances apart.
func TestPostfixInstance(t *testing.T) {
	postconf := postfixTool(t, "postconf")
	files, err := Postfix(apple)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		if filepath.Base(f.Name) == "master.cf.mailtriage" {
			if err := os.WriteFile(filepath.Join(dir, "master.cf"), []byte(f.Content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte("multi_instance_name = postfix-out\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(postconf, "-c", dir, "-Mx", "lane_apple/unix").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "syslog_name=postfix-out/lane_apple") {
		t.Fatalf("postconf -Mx: %v\n%s", err, out)
	}
}

// TestPostfixRateSplit: without a shared nexthop each domain is a
// destination with its own rate delay, so the lane's rate is split among
// the domains with mail; the relayhost makes them one destination again.
func TestPostfixRateSplit(t *testing.T) {
	for _, tt := range []struct {
		lane Lane
		want string
	}{
		{Lane{Name: "yahoo", Domains: []string{"yahoo.com", "aol.com", "att.net"}, Destinations: 2, Connections: 2, PerHour: 600}, "lane_yahoo_destination_rate_delay = 12s"},
		{Lane{Name: "yahoo", Domains: []string{"yahoo.com", "aol.com", "att.net"}, Connections: 2, PerHour: 600}, "lane_yahoo_destination_rate_delay = 18s"},
		{Lane{Name: "yahoo", Domains: []string{"yahoo.com", "aol.com", "att.net"}, Relayhost: "[relay.example]", Connections: 2, PerHour: 600}, "lane_yahoo_destination_rate_delay = 6s"},
		// Day one's 1 an hour over 3 domains: one every 3 hours each, not
		// 1 an hour each (3 an hour together).
		{Lane{Name: "yahoo", Domains: []string{"yahoo.com", "aol.com", "att.net"}, Connections: 2, PerHour: 1}, "lane_yahoo_destination_rate_delay = 10800s"},
	} {
		files, err := Postfix(tt.lane)
		if err != nil {
			t.Fatal(err)
		}
		all := ""
		for _, f := range files {
			all += f.Content
		}
		if !strings.Contains(all, tt.want) {
			t.Errorf("%+v: lacks %q", tt.lane, tt.want)
		}
		if tt.lane.Relayhost != "" && !strings.Contains(all, "yahoo.com                      lane_yahoo:[relay.example]") {
			t.Errorf("relayhost not the nexthop:\n%s", all)
		}
	}
}

func TestLaneCheck(t *testing.T) {
	for _, l := range []Lane{
		{Name: "Apple", Domains: []string{"icloud.com"}, Connections: 1},
		{Name: "apple", Connections: 1},
		{Name: "apple", Domains: []string{"icloud.com"}},
		{Name: "apple", Domains: []string{"icloud com"}, Connections: 1},
		{Name: "apple", Domains: []string{"icloud.com"}, Connections: 1, PerHour: -1},
	} {
		if err := l.Check(); err == nil {
			t.Errorf("%+v: no error", l)
		}
	}
}

func TestPattern(t *testing.T) {
	for _, tt := range []struct{ reply, other string }{
		{"421 4.7.0 Deferred - see Proofpoint DNSBL lookup", ""},
		// The HCM1 reply names the sending address: any address matches.
		{"421 4.7.0 [HCM1] Your mail from 192.0.2.10 was deferred.", "421 4.7.0 [HCM1] Your mail from 203.0.113.77 was deferred."},
		{"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", ""},
		// Gmail's reply ends in a per-message id and quotes the recipient.
		{"452-4.2.2 The recipient's inbox is out of storage space. <jane@gmail.com> a1b2c3d4e5f6-5a6b7c8d9e0f.12 - gsmtp",
			"452-4.2.2 The recipient's inbox is out of storage space. <bob.smith@gmail.com> 9f8e7d6c5b4a-1234567890ab.99 - gsmtp"},
		// Microsoft's names the front end and a timestamp.
		{"451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719) [BN8NAM12FT011.eop-nam12.prod.protection.outlook.com 2026-11-28T10:00:00.000Z 08DBEE1234567890]",
			"451 4.7.500 Server busy. Please try again later from [203.0.113.9]. (S77719) [CO1PEPF000044F1.namprd04.prod.outlook.com 2026-11-29T11:22:33.444Z 08DC0012ABCDEF12]"},
	} {
		re, err := regexp.Compile(Pattern(tt.reply))
		if err != nil {
			t.Fatalf("%s: %v", tt.reply, err)
		}
		if !re.MatchString(tt.reply) {
			t.Errorf("%q does not match its own reply", Pattern(tt.reply))
		}
		if tt.other != "" && !re.MatchString(tt.other) {
			t.Errorf("%q does not match %q", Pattern(tt.reply), tt.other)
		}
		// A pattern must still tell the reply from another provider's.
		if re.MatchString("550 5.7.1 Service unavailable; client host blocked") {
			t.Errorf("%q matches anything", Pattern(tt.reply))
		}
	}
}

func TestLanesApart(t *testing.T) {
	if _, err := Postfix(apple, apple); err == nil {
		t.Error("two lanes of one name")
	}
	other := apple
	other.Name = "apple2"
	if _, err := Postfix(apple, other); err == nil || !strings.Contains(err.Error(), "icloud.com is in lanes") {
		t.Errorf("a domain in two lanes: %v", err)
	}
	if _, err := KumoMTA(); err == nil {
		t.Error("no lanes")
	}
}

// TestPostfixRecipientLimit: a delivery carries up to
// <transport>_destination_recipient_limit recipients (50 by default) and
// the rate delay spaces deliveries, not recipients: the lane sets a small
// limit, read by Postfix's own postconf, and never 1, which would make
// each recipient its own destination with its own delay (no throttle).
func TestPostfixRecipientLimit(t *testing.T) {
	postconf := postfixTool(t, "postconf")
	gmail := Lane{Name: "gmail", Domains: []string{"gmail.com"}, Connections: 5, MessagesPerConnection: 1}
	for _, l := range []Lane{apple, gmail} {
		files, err := Postfix(l)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, f := range files {
			if name, ok := strings.CutSuffix(filepath.Base(f.Name), ".mailtriage"); ok {
				os.WriteFile(filepath.Join(dir, name), []byte(f.Content), 0o644)
			}
		}
		param := "lane_" + l.Name + "_destination_recipient_limit"
		out, err := exec.Command(postconf, "-c", dir, "-n", param).CombinedOutput()
		if err != nil || strings.Contains(string(out), "warning") {
			t.Fatalf("postconf -n %s: %v\n%s", param, err, out)
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), param+" = %d", &n); err != nil || n < 2 || n > 10 {
			t.Errorf("%s: %q, want a limit from 2 to 10", l.Name, out)
		}
	}
}

// TestPostfixHoldBacklog: the INSTALL file's command that lists the lane's
// queued mail (postqueue -j through jq) names the lane's own domains and
// picks each of their messages once: run with jq on postqueue -j lines.
func TestPostfixHoldBacklog(t *testing.T) {
	files, err := Postfix(apple)
	if err != nil {
		t.Fatal(err)
	}
	var steps string
	for _, f := range files {
		if filepath.Base(f.Name) == "INSTALL" {
			steps = f.Content
		}
	}
	m := regexp.MustCompile(`postqueue -j \| jq -r '([^']+)' > held`).FindStringSubmatch(steps)
	if m == nil {
		t.Fatalf("no postqueue -j | jq line:\n%s", steps)
	}
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not installed")
	}
	queue := `{"queue_name":"deferred","queue_id":"A1","recipients":[{"address":"ann@icloud.com"},{"address":"bob@me.com"}]}
{"queue_name":"deferred","queue_id":"B2","recipients":[{"address":"cy@gmail.com"}]}
{"queue_name":"deferred","queue_id":"C3","recipients":[{"address":"dee@Mac.com"}]}
{"queue_name":"deferred","queue_id":"D4","recipients":[{"address":"eve@icloudxcom.example"}]}
`
	cmd := exec.Command(jq, "-r", m[1])
	cmd.Stdin = strings.NewReader(queue)
	out, err := cmd.CombinedOutput()
	if got := strings.Fields(string(out)); err != nil || strings.Join(got, " ") != "A1 C3" {
		t.Errorf("jq %s: %q (%v), want A1 C3", m[1], out, err)
	}
}
