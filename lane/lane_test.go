package lane

import (
	"slices"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/provider"
)

func providerOf(host string) string {
	switch {
	case strings.HasSuffix(host, ".google.com"):
		return "google"
	case strings.HasSuffix(host, ".protection.outlook.com"):
		return "microsoft"
	case strings.HasSuffix(host, ".pphosted.com"):
		return "proofpoint"
	}
	return ""
}

func TestBuiltin(t *testing.T) {
	tb, err := New(nil, providerOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ domain, relay, want string }{
		{"icloud.com", "", "apple"},
		{"me.com", "mx01.mail.icloud.com", "apple"},
		{"mac.com", "", "apple"},
		{"privaterelay.appleid.com", "", "apple"},
		{"gmail.com", "", "google"},
		{"hotmail.co.uk", "", "microsoft"},
		{"live.fr", "", "microsoft"},
		{"msn.com", "", "microsoft"},
		{"yahoo.com.au", "", "yahoo"},
		{"att.net", "", "yahoo"},
		{"aol.com", "", "yahoo"},
		{"yahoo.co.jp", "", "yahoo-japan"},
		{"hotmail.example.evil.com", "", "other"},
		// A business domain on Google Workspace joins google by its MX...
		{"corp.example", "aspmx.l.google.com", "google"},
		// ...and keeps it when a later attempt reached no server.
		{"corp.example", "", "google"},
		{"m365.example", "m365-example.mail.protection.outlook.com", "microsoft"},
		{"filtered.example", "mx0a-001.pphosted.com", "proofpoint"},
		{"small.example", "mail.small.example", "other"},
	} {
		if got := tb.Lane(tt.domain, tt.relay); got != tt.want {
			t.Errorf("Lane(%q, %q) = %q, want %q", tt.domain, tt.relay, got, tt.want)
		}
	}
}

func TestUserFileWins(t *testing.T) {
	user := []byte(`
[[lane]]
name = "apple-vip"
domains = ["me.com"]

[[lane]]
name = "partners"
mx = ["*.partner-mx.example"]

[[lane]]
name = "my-google"
mx = ["*.google.com"]
`)
	tb, err := New(user, providerOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ domain, relay, want string }{
		{"me.com", "", "apple-vip"},
		{"icloud.com", "", "apple"},
		{"acme.example", "in1.partner-mx.example", "partners"},
		// The user's MX rule wins over the built-in domain table, so one
		// infrastructure stays one lane.
		{"gmail.com", "gmail-smtp-in.l.google.com", "my-google"},
		{"biz.example", "aspmx.l.google.com", "my-google"},
		{"gmail.com", "", "my-google"}, // a later attempt that reached no server
	} {
		if got := tb.Lane(tt.domain, tt.relay); got != tt.want {
			t.Errorf("Lane(%q, %q) = %q, want %q", tt.domain, tt.relay, got, tt.want)
		}
	}
}

func TestBadFile(t *testing.T) {
	for _, bad := range []string{
		"[[lane]]\ndomains = [\"x.com\"]",
		"[[lane]]\nname = \"a\"\ndomains = [\"x.com\"]\n[[lane]]\nname = \"b\"\ndomains = [\"x.com\"]",
		"lane = 3 = 4",
		"[[lane]]\nname = \"a\"\ndomain = [\"x.com\"]", // a typo for domains
	} {
		if _, err := New([]byte(bad), nil); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		}
	}
}

func TestKnown(t *testing.T) {
	user := []byte("[[lane]]\nname = \"apple\"\ndomains = [\"apple-corp.example\", \"icloud.com\"]\n")
	tb, err := New(user, providerOf)
	if err != nil {
		t.Fatal(err)
	}
	got := tb.Known("apple")
	want := []string{"apple-corp.example", "icloud.com", "me.com", "mac.com", "privaterelay.appleid.com"}
	if !slices.Equal(got, want) {
		t.Errorf("Known(apple) = %v, want %v", got, want)
	}
	if got := tb.Known("microsoft"); slices.Contains(got, "hotmail.*") || !slices.Contains(got, "outlook.com") {
		t.Errorf("Known(microsoft) = %v: want outlook.com and no wildcard", got)
	}
	moved, err := New([]byte("[[lane]]\nname = \"corp\"\ndomains = [\"me.com\"]\n"), providerOf)
	if err != nil {
		t.Fatal(err)
	}
	if got := moved.Known("apple"); slices.Contains(got, "me.com") {
		t.Errorf("Known(apple) = %v: me.com is the user's corp lane", got)
	}
	if got := tb.Known(Other); got != nil {
		t.Errorf("Known(other) = %v, want none", got)
	}
}

// TestLearnedAfterRelayless: a business domain whose first attempt reached
// no server (a DNS failure, relay=none) must still join its provider's lane
// for later relay-less attempts once a delivery to the provider's MX is seen
// (Google Workspace: aspmx.l.google.com), not stay "other" from the first
// decision.
func TestLearnedAfterRelayless(t *testing.T) {
	tb, err := New(nil, providerOf)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range []struct{ domain, relay, want string }{
		{"corp.example", "", "other"}, // nothing known yet
		{"corp.example", "aspmx.l.google.com", "google"},
		{"corp.example", "", "google"},
		{"corp.example", "mx.backup.example", "google"}, // a backup MX nobody runs
		{"corp2.example", "mx.backup.example", "other"},
		{"corp2.example", "corp2-example.mail.protection.outlook.com", "microsoft"},
		{"corp2.example", "mx.backup.example", "microsoft"},
	} {
		if got := tb.Lane(tt.domain, tt.relay); got != tt.want {
			t.Errorf("%d: Lane(%q, %q) = %q, want %q", i, tt.domain, tt.relay, got, tt.want)
		}
	}
}

// TestWildcardsCatchOnlyTheProvidersDomains: "hotmail.*" stands for
// Microsoft's country domains (hotmail.co.uk, hotmail.fr: MX
// hotmail-co-uk.olc.protection.outlook.com and the like, bounces.md §2.3).
// It must not catch a host under someone else's domain (hotmail.example.com
// is example.com's), nor a hotmail.<tld> that someone else registered,
// which its own MX gives away.
func TestWildcardsCatchOnlyTheProvidersDomains(t *testing.T) {
	tb, err := New(nil, providerOf)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range []struct{ domain, relay, want string }{
		{"hotmail.co.uk", "", "microsoft"},
		{"hotmail.co.uk", "hotmail-co-uk.olc.protection.outlook.com", "microsoft"},
		{"live.com.au", "", "microsoft"},
		{"yahoo.com.au", "", "yahoo"},
		{"hotmail.example.com", "", "other"},
		{"live.example.org", "", "other"},
		{"yahoo.mycompany.de", "", "other"},
		// Not Microsoft's: its MX is a parking host, not Outlook.com's.
		{"hotmail.example", "mx.parking-host.example", "other"},
		{"hotmail.example", "", "other"}, // and it stays so without a server
	} {
		if got := tb.Lane(tt.domain, tt.relay); got != tt.want {
			t.Errorf("%d: Lane(%q, %q) = %q, want %q", i, tt.domain, tt.relay, got, tt.want)
		}
	}
	// The user's own wildcard is taken at its word, but names a domain
	// under a public suffix too.
	user, err := New([]byte("[[lane]]\nname = \"ms\"\ndomains = [\"hotmail.*\"]\n"), providerOf)
	if err != nil {
		t.Fatal(err)
	}
	if got := user.Lane("hotmail.example", "mx.parking-host.example"); got != "ms" {
		t.Errorf("user wildcard: %q, want ms", got)
	}
	if got := user.Lane("hotmail.example.com", ""); got != "other" {
		t.Errorf("user wildcard on hotmail.example.com: %q, want other", got)
	}
}

// TestConsumerDomainsMoved: consumer domains whose mail moved to another
// provider's servers are in that provider's lane. Cox moved cox.net to
// Yahoo Mail, its MX to Yahoo's, on 1 October 2024 (Spam Resource, Oct
// 2024; suped.com, "When did cox.net change their MX records").
func TestConsumerDomainsMoved(t *testing.T) {
	tb, err := New(nil, providerOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ domain, relay, want string }{
		{"cox.net", "", "yahoo"},
		{"cox.net", "mx-aol.mail.gm0.yahoodns.net", "yahoo"},
		// Big mailbox domains the table missed: Proton's protonmail.ch
		// (MX mail.protonmail.ch, as proton.me's); SFR's sfr.fr, neuf.fr
		// and numericable.fr on one Altice infrastructure
		// (bouncezero.io/sfr-deliverability); Naver's naver.com.
		{"protonmail.ch", "", "proton"},
		{"sfr.fr", "", "sfr"},
		{"neuf.fr", "", "sfr"},
		{"numericable.fr", "", "sfr"},
		{"naver.com", "", "naver"},
	} {
		if got := tb.Lane(tt.domain, tt.relay); got != tt.want {
			t.Errorf("Lane(%q, %q) = %q, want %q", tt.domain, tt.relay, got, tt.want)
		}
	}
}

// TestRelayWithBuiltinCatalog places business domains by the real
// provider catalogue's hosts, as analyze does.
func TestRelayWithBuiltinCatalog(t *testing.T) {
	cat, err := provider.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := New(nil, func(h string) string {
		if p := cat.ByHost(h); p != nil {
			return p.Name
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ domain, relay, want string }{
		{"ws.example", "aspmx.l.google.com", "google"},
		{"ws2.example", "ALT1.ASPMX.L.GOOGLE.COM.", "google"},
		{"ws3.example", "aspmx2.googlemail.com", "google"},
		{"ws4.example", "smtp.google.com", "google"},
		{"m365.example", "m365-example.mail.protection.outlook.com", "microsoft"},
		{"m365new.example", "m365new-example.o-v1.mx.microsoft", "microsoft"},
		{"icloudplus.example", "mx01.mail.icloud.com", "apple"},
		{"yh.example", "mx-aol.mail.gm0.yahoodns.net", "yahoo"},
		// Business domains behind a filtering service share its
		// servers and its throttles.
		{"pp.example", "mx0a-00123456.pphosted.com", "proofpoint"},
		{"ppe.example", "mx1-us1.ppe-hosted.com", "proofpoint"},
		{"mc.example", "za-smtp-inbound-1.mimecast.co.za", "mimecast"},
		{"bc.example", "d123456a.ess.barracudanetworks.com", "barracuda"},
		{"ci.example", "mx1.hc1234-12.iphmx.com", "cisco"},
		{"ml.example", "cluster5.us.messagelabs.com", "messagelabs"},
		{"tm.example", "abc123.in.tmes.trendmicro.com", "trendmicro"},
		{"so.example", "mx-01-us-east-2.prod.hydra.sophos.com", "sophos"},
		{"hs.example", "mx01.hornetsecurity.com", "hornetsecurity"},
		{"se.example", "mx.spamexperts.com", "spamexperts"},
		{"fp.example", "cluster-a.eu.mailcontrol.com", "forcepoint"},
		{"gd.example", "smtp.secureserver.net", "godaddy"},
		{"ip.example", "192.0.2.7", "other"},
		{"v6.example", "2001:db8::25", "other"},
	} {
		if got := tb.Lane(tt.domain, tt.relay); got != tt.want {
			t.Errorf("Lane(%q, %q) = %q, want %q", tt.domain, tt.relay, got, tt.want)
		}
	}
}

// TestBadFileLines: a mistake in a --lanes file is reported with its line,
// and patterns that would match other hosts than meant are refused
// ("*google.com" would take evilgoogle.com).
func TestBadFileLines(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"[[lane]]\nname = \"a\"\ndomains = [\"x.com\"]\n\n[[lane]]\ndomains = [\"y.com\"]\n", "line 5: lane 2 has no name"},
		{"[[lane]]\nname = \"a\"\ndomains = [\"x.com\"]\n[[lane]]\nname = \"b\"\ndomains = [\"x.com\"]\n", "line 6: domain x.com is in lanes a and b"},
		{"[[lane]]\nname = \"a\"\ndomain = [\"x.com\"]\n", "line 3: unknown key lane.domain"},
		{"[[lane]]\nname = \"a\"\nmx = [\"*google.com\"]\n", "line 3: lane a: mx pattern \"*google.com\""},
		{"[[lane]]\nname = \"a\"\ndomains = [\"*x.com\"]\n", "line 3: lane a: domain \"*x.com\""},
		{"[[lane]]\nname = \"a\"\n", "line 1: lane a places no domain"},
	} {
		_, err := New([]byte(tt.file), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q) = %v, want an error with %q", tt.file, err, tt.want)
		}
	}
	// MX patterns under a domain and plain MX hosts (an IP literal) are fine.
	if _, err := New([]byte("[[lane]]\nname = \"a\"\nmx = [\"*.mx.example\", \"192.0.2.1\"]\n"), nil); err != nil {
		t.Error(err)
	}
}

// FuzzNew: whatever a lane file holds, New returns a table or an error,
// and a table it returns answers for any domain and relay.
func FuzzNew(f *testing.F) {
	for _, s := range []string{
		"[[lane]]\nname = \"a\"\ndomains = [\"x.com\", \"hotmail.*\"]\nmx = [\"*.mx.example\"]\nproviders = [\"google\"]\n",
		"[[lane]]\nname = \"a\"\ndomain = [\"x.com\"]\n",
		"[[lane]]\n[[lane]]\nname = \"\"\n",
		"[[lane]]\nname = \"a\"\ndomains = [\".*\", \"*.\", \"*\"]\n",
		"lane = 3",
	} {
		f.Add(s, "hotmail.co.uk", "mx.example")
	}
	f.Fuzz(func(t *testing.T, file, domain, relay string) {
		tb, err := New([]byte(file), providerOf)
		if err != nil {
			return
		}
		if tb.Lane(domain, relay) == "" {
			t.Errorf("Lane(%q, %q) is empty", domain, relay)
		}
		tb.Known("a")
		tb.UserProviders()
	})
}
