package blocklist

import (
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/dnsbl"
)

func TestBuiltin(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Zone{}
	tier1 := 0
	for _, z := range c.Zones {
		byName[z.Name] = z
		if z.Tier == 1 {
			tier1++
		}
		if z.DelistURL == "" || z.Terms == "" || (z.TestListed == "" && z.TestClean == "") {
			t.Errorf("%s: the catalogue promises a delisting URL, terms and test entries", z.Name)
		}
		if strings.Contains(z.Name, "sorbs") {
			t.Errorf("%s: SORBS was shut down in 2024", z.Name)
		}
	}
	for _, name := range []string{"zen.spamhaus.org", "dbl.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net", "bl.mailspike.net", "psbl.surriel.com", "dnsbl-1.uceprotect.net", "multi.surbl.org", "multi.uribl.com"} {
		if z := byName[name]; z == nil || z.Tier != 1 {
			t.Errorf("%s: not a tier-1 zone", name)
		}
	}
	for _, name := range []string{"dnsbl-2.uceprotect.net", "dnsbl-3.uceprotect.net"} {
		if z := byName[name]; z == nil || z.Scored() {
			t.Errorf("%s: UCEPROTECT L2/L3 must be informational", name)
		}
	}
	// Spamhaus's error codes are refusals, never listings.
	zen := byName["zen.spamhaus.org"]
	for _, c := range zen.Codes {
		if strings.HasPrefix(c.Value.String(), "127.255.255.") && c.Class != dnsbl.Refused {
			t.Errorf("zen %s: %s", c.Value, c.Class)
		}
		if c.Value.String() == "127.0.0.10" && zen.SeverityOf(c) != mailtriage.SeverityWarning {
			t.Errorf("PBL is policy: severity %s", zen.SeverityOf(c))
		}
	}
	if byName["list.dnswl.org"].Role != Allow || byName["list.dnswl.org"].Scored() {
		t.Error("DNSWL is an allowlist")
	}
	dq := c.WithDQSKey("abc123")
	for _, z := range dq.Zones {
		if strings.Contains(z.Name, "spamhaus.org") {
			t.Errorf("%s: not switched to DQS", z.Name)
		}
	}
	if dq.Zones[0].Name != "abc123.zen.dq.spamhaus.net" || c.Zones[0].Name != "zen.spamhaus.org" {
		t.Errorf("DQS: %s, original %s", dq.Zones[0].Name, c.Zones[0].Name)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{`[[zone]]
name = "x.example"
kind = "ip"
tier = 3`, "tier 3"},
		{`[[zone]]
name = "x.example"
kind = "asn"
tier = 1`, `kind "asn"`},
		{`[[zone]]
name = "x.example"
kind = "ip"
tier = 1
code = [{ value = "10.0.0.2", class = "listed", meaning = "x" }]`, "127.0.0.0/8"},
		{`[[zone]]
name = "x.example"
kind = "ip"
tier = 1
code = [{ bit = 2, class = "listed", meaning = "x" }]`, "not a bitmask"},
		{`[[zone]]
name = "x.example"
kind = "ip"
tier = 1
colour = "blue"`, "unknown key"},
		{`[[zone]]
name = "x.example"
kind = "ip"
tier = 1
code = [{ value = "127.0.0.2", class = "bad", meaning = "x" }]`, `class "bad"`},
		{`not toml [`, "user.toml"},
	} {
		c := &Catalogue{}
		err := c.Load(strings.NewReader(tt.text), "user.toml")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "user.toml") {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.want)
		}
	}
	// A user's zone replaces the built-in one of the same name.
	c, _ := Builtin()
	n := len(c.Zones)
	if err := c.Load(strings.NewReader("[[zone]]\nname = \"bl.spamcop.net\"\nkind = \"ip\"\ntier = 2\n"), "user.toml"); err != nil {
		t.Fatal(err)
	}
	if len(c.Zones) != n {
		t.Errorf("%d zones, want %d", len(c.Zones), n)
	}
}

func TestOnly(t *testing.T) {
	c, _ := Builtin()
	got, err := c.Only([]string{"Spamhaus ZEN", "bl.spamcop.net"})
	if err != nil || len(got.Zones) != 2 || got.Zones[0].Name != "zen.spamhaus.org" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := c.Only([]string{"zen.spamhaus.org", "nolist.example"}); err == nil || !strings.Contains(err.Error(), "unknown list nolist.example") || !strings.Contains(err.Error(), "bl.spamcop.net") {
		t.Errorf("unknown list: %v", err)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"198.51.100.21", "2001:db8::1", "mail.example.co.uk", "1.2.3.4:25", "10.0.0.0/8", "[::1]", "bücher.example", "", "..", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		if tg.Query == "" || (tg.Kind != dnsbl.IP && tg.Kind != dnsbl.Domain) {
			t.Errorf("%q: %+v", s, tg)
		}
	})
}

func FuzzLoad(f *testing.F) {
	f.Add(builtin)
	f.Add("[[zone]]\nname = \"x.test\"\nkind = \"ip\"\ntier = 1\ncode = [{ bit = 2, class = \"listed\", meaning = \"x\" }]\n")
	f.Fuzz(func(t *testing.T, text string) {
		c := &Catalogue{}
		if err := c.Load(strings.NewReader(text), "fuzz.toml"); err != nil {
			return
		}
		for _, z := range c.Zones {
			if z.Name == "" || z.Tier < 1 || z.Tier > 2 {
				t.Errorf("accepted %+v", z)
			}
		}
	})
}
