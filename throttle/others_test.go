package throttle

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./throttle -update, and review the diff)", path)
	}
}

func TestPowerMTAGolden(t *testing.T) {
	files, err := PowerMTA(apple)
	if err != nil {
		t.Fatal(err)
	}
	conf := files[0].Content
	golden(t, "apple.pmta", conf)
	// Every reply pattern matches the reply it came from, in the form
	// PowerMTA reads (/.../ with / escaped).
	re := regexp.MustCompile(`(?m)^\s+reply /(.*)/ mode=backoff$`)
	ms := re.FindAllStringSubmatch(conf, -1)
	if len(ms) != len(apple.Deferrals) {
		t.Fatalf("%d patterns", len(ms))
	}
	for i, m := range ms {
		p := regexp.MustCompile(strings.ReplaceAll(m[1], `\/`, "/"))
		if !p.MatchString(apple.Deferrals[i]) {
			t.Errorf("pattern %q does not match %q", m[1], apple.Deferrals[i])
		}
	}
	// Blocks open and close in pairs.
	if strings.Count(conf, "<domain ") != strings.Count(conf, "</domain>") || strings.Count(conf, "<smtp-pattern-list") != 1 {
		t.Error("unbalanced blocks")
	}
}

// TestKumoMTAParses reads the shaping file back as TOML, in the layout
// KumoMTA's shaping.lua expects, and checks each automation regex against
// the reply it was made from.
func TestKumoMTAParses(t *testing.T) {
	files, err := KumoMTA(apple)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "apple.kumomta.toml", files[0].Content)
	type rule struct {
		Regex    string            `toml:"regex"`
		Action   string            `toml:"action"`
		Trigger  map[string]string `toml:"trigger"`
		Duration string            `toml:"duration"`
	}
	type domain struct {
		MXRollup        bool   `toml:"mx_rollup"`
		ConnectionLimit int    `toml:"connection_limit"`
		PerConnection   int    `toml:"max_deliveries_per_connection"`
		MessageRate     string `toml:"max_message_rate"`
		Automation      []rule `toml:"automation"`
	}
	var shaping map[string]domain
	md, err := toml.Decode(files[0].Content, &shaping)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Undecoded()) > 0 {
		t.Errorf("keys KumoMTA would not know: %v", md.Undecoded())
	}
	// The domains share a site: one entry (so each reply counts once
	// towards automation) carries the lane's whole rate.
	if len(shaping) != 1 {
		t.Errorf("%d entries for one site, want 1", len(shaping))
	}
	for _, d := range apple.Domains[:1] {
		s, ok := shaping[d]
		if !ok || !s.MXRollup || s.ConnectionLimit != 2 || s.PerConnection != 5 || s.MessageRate != "300/h" || len(s.Automation) != 2 {
			t.Fatalf("%s: %+v", d, s)
		}
		for i, r := range s.Automation {
			if !regexp.MustCompile(r.Regex).MatchString(apple.Deferrals[i]) || r.Action != "Suspend" || r.Duration != "30 minutes" || r.Trigger["Threshold"] != "3/hr" {
				t.Errorf("%s rule %d: %+v", d, i, r)
			}
		}
	}
}

// TestKumoMTASplit: domains on different sites each get an entry, and
// together the lane's rate.
func TestKumoMTASplit(t *testing.T) {
	l := Lane{Name: "yahoo", Domains: []string{"yahoo.com", "att.net", "aol.com"}, Destinations: 2, Connections: 2, PerHour: 600}
	files, err := KumoMTA(l)
	if err != nil {
		t.Fatal(err)
	}
	var shaping map[string]struct {
		Rate string `toml:"max_message_rate"`
	}
	if _, err := toml.Decode(files[0].Content, &shaping); err != nil {
		t.Fatal(err)
	}
	for _, d := range l.Domains {
		if shaping[d].Rate != "300/h" {
			t.Errorf("%s: rate %q, want 300/h (600 over the 2 domains with mail)", d, shaping[d].Rate)
		}
	}
}

// TestSourceScope: with a source, the limits apply to one stream's mail:
// nested in PowerMTA's virtual MTA, a per-source table in KumoMTA; Postfix
// says it cannot.
func TestSourceScope(t *testing.T) {
	l := apple
	l.Source = "bulk-vmta"
	files, err := PowerMTA(l)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "apple-source.pmta", files[0].Content)
	if !strings.Contains(files[0].Content, "<virtual-mta bulk-vmta>\n    <domain $apple>") || strings.Count(files[0].Content, "</virtual-mta>") != 1 {
		t.Error("the domain block is not inside the virtual MTA")
	}
	files, err = KumoMTA(l)
	if err != nil {
		t.Fatal(err)
	}
	var shaping map[string]struct {
		Sources map[string]struct {
			ConnectionLimit int `toml:"connection_limit"`
		} `toml:"sources"`
		ConnectionLimit int `toml:"connection_limit"`
	}
	if _, err := toml.Decode(files[0].Content, &shaping); err != nil {
		t.Fatal(err)
	}
	if s := shaping["icloud.com"]; s.Sources["bulk-vmta"].ConnectionLimit != 2 || s.ConnectionLimit != 0 {
		t.Errorf("kumomta: %+v", s)
	}
	files, err = Postfix(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(files[2].Content, "Postfix routes by recipient, not sender") {
		t.Error("postfix does not say it cannot scope by stream")
	}
	l.Source = "bad source"
	if _, err := PowerMTA(l); err == nil {
		t.Error("a source with a space accepted")
	}
}

// TestKumoMTANoAliasedSites: KumoMTA rolls a domain entry up to its site
// (its MX set), and two entries on one site are an error ("If you
// configure a domain that belongs to a configured site without setting
// the mx_rollup option to false, you will cause an error"). When each of
// a lane's domains is its own destination, some may still share MX hosts
// (icloud.com and me.com beside a custom domain): each entry then sets
// mx_rollup = false, KumoMTA's way to shape one domain by its name.
func TestKumoMTANoAliasedSites(t *testing.T) {
	l := Lane{Name: "apple", Domains: []string{"icloud.com", "me.com", "shop.example"}, Connections: 2, PerHour: 300}
	files, err := KumoMTA(l)
	if err != nil {
		t.Fatal(err)
	}
	var shaping map[string]struct {
		MXRollup *bool `toml:"mx_rollup"`
	}
	if _, err := toml.Decode(files[0].Content, &shaping); err != nil {
		t.Fatal(err)
	}
	for _, d := range l.Domains {
		if s, ok := shaping[d]; !ok || s.MXRollup == nil || *s.MXRollup {
			t.Errorf("%s: mx_rollup not false: a second domain on its site would be an error", d)
		}
	}
	// One domain, or a shared site, keeps the rollup.
	files, _ = KumoMTA(Lane{Name: "gmail", Domains: []string{"gmail.com"}, Connections: 2})
	if !strings.Contains(files[0].Content, "mx_rollup = true") {
		t.Errorf("one domain lost its rollup:\n%s", files[0].Content)
	}
}

// TestLaneJSONKeys: the lane's JSON keys (in plan --format json) are all
// snake_case, as the rest of the plan's.
func TestLaneJSONKeys(t *testing.T) {
	data, err := json.Marshal(apple)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	for k := range m {
		if strings.ToLower(k) != k {
			t.Errorf("key %q is not snake_case", k)
		}
	}
}

// TestOneMessageAnHour: a lane slowed to one message an hour (the plan's
// day one for a quiet lane) is said so in every MTA's comments, not "1
// messages an hour".
func TestOneMessageAnHour(t *testing.T) {
	l := apple
	l.PerHour = 1
	gens := map[string]func(...Lane) ([]File, error){"postfix": Postfix, "powermta": PowerMTA, "kumomta": KumoMTA}
	for name, gen := range gens {
		files, err := gen(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.Contains(f.Content, " 1 messages") {
				t.Errorf("%s %s: says \"1 messages\":\n%s", name, f.Name, f.Content)
			}
		}
	}
}

// TestKumoMTASourceAutomation: KumoMTA's TSA reads automation rules by
// domain, site or provider, never by egress source, and suspends the
// source whose replies tripped a rule. With a source, the file must not
// claim the automation spares other streams: it says the rules act on
// every source, and how to keep another stream out of them.
func TestKumoMTASourceAutomation(t *testing.T) {
	l := apple
	l.Source = "bulk-news"
	files, err := KumoMTA(l)
	if err != nil {
		t.Fatal(err)
	}
	conf := files[0].Content
	if strings.Contains(conf, "other streams keep their pace.") {
		t.Errorf("says other streams keep their pace, though the automation suspends them too:\n%s", conf)
	}
	for _, want := range []string{"not scoped to the egress source bulk-news", "every egress source", "transactional"} {
		if !strings.Contains(conf, want) {
			t.Errorf("does not say %q:\n%s", want, conf)
		}
	}
	// The automation stays at domain level, where TSA reads it.
	var shaping map[string]struct {
		Automation []struct {
			Action string `toml:"action"`
		} `toml:"automation"`
		Sources map[string]map[string]any `toml:"sources"`
	}
	if _, err := toml.Decode(conf, &shaping); err != nil {
		t.Fatal(err)
	}
	s := shaping["icloud.com"]
	if len(s.Automation) != 2 || s.Sources["bulk-news"]["automation"] != nil {
		t.Errorf("automation not at domain level: %+v", s)
	}
	// Without a source nothing is said of streams.
	files, _ = KumoMTA(apple)
	if strings.Contains(files[0].Content, "egress source") {
		t.Errorf("speaks of a source without one:\n%s", files[0].Content)
	}
}

// TestPowerMTASplitKeepsTotal: a lane's rate split among its domains'
// queues must not add up to more than the lane's rate. At day one's 1
// message an hour over 3 domains, 1/h each made 3 an hour; PowerMTA's
// rates take a count of units (1/20m, 1/3h), so each queue gets 1 every
// 3 hours, and a fifth of that in backoff.
func TestPowerMTASplitKeepsTotal(t *testing.T) {
	rate := regexp.MustCompile(`(?m)^\s+(backoff-)?max-msg-rate (\d+)/(\d*)h$`)
	for _, c := range []struct {
		perHour, destinations int
		want, backoff         string
	}{
		{1, 3, "max-msg-rate 1/3h", "backoff-max-msg-rate 1/15h"},
		{2, 3, "max-msg-rate 2/3h", "backoff-max-msg-rate 2/15h"},
		{2, 4, "max-msg-rate 1/2h", "backoff-max-msg-rate 1/10h"},
		{2, 1, "max-msg-rate 2/h", "backoff-max-msg-rate 2/5h"},
		{300, 3, "max-msg-rate 100/h", "backoff-max-msg-rate 20/h"},
		{8, 3, "max-msg-rate 2/h", "backoff-max-msg-rate 2/5h"},
	} {
		l := Lane{Name: "yahoo", Domains: []string{"yahoo.com", "aol.com", "att.net", "ymail.com"}, Destinations: c.destinations, Connections: 2, PerHour: c.perHour}
		files, err := PowerMTA(l)
		if err != nil {
			t.Fatal(err)
		}
		conf := files[0].Content
		if !strings.Contains(conf, "    "+c.want+"\n") || !strings.Contains(conf, "    "+c.backoff+"\n") {
			t.Errorf("%d an hour over %d: want %q and %q:\n%s", c.perHour, c.destinations, c.want, c.backoff, conf)
			continue
		}
		for _, m := range rate.FindAllStringSubmatch(conf, -1) {
			n, hours := atoi(m[2]), 1
			if m[3] != "" {
				hours = atoi(m[3])
			}
			if m[1] == "" && float64(n*c.destinations)/float64(hours) > float64(c.perHour) {
				t.Errorf("%d an hour over %d: %s, %d queues together pass the lane's rate", c.perHour, c.destinations, m[0], c.destinations)
			}
		}
		if strings.Contains(conf, "floor") {
			t.Errorf("speaks of a floor PowerMTA does not have:\n%s", conf)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = 10*n + int(c-'0')
	}
	return n
}
