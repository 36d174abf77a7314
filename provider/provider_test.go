package provider

import "testing"

func TestByHost(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// bounces.md §2.12: provider identification by remote host.
	for host, want := range map[string]string{
		"mx01.mail.icloud.com":                    "apple",
		"MX02.MAIL.ICLOUD.COM.":                   "apple",
		"gmail-smtp-in.l.google.com":              "google",
		"aspmx.l.google.com":                      "google",
		"example-com.mail.protection.outlook.com": "microsoft",
		"hotmail-com.olc.protection.outlook.com":  "microsoft",
		// Exchange Online's MX for domains added since 2024-2025, in the
		// DNSSEC-signed mx.microsoft zones ("vanitydomain-com.<random>.
		// mx.microsoft", c7solutions.com/2024/02/what-is-mx-microsoft;
		// Microsoft 365 Message Center, April 2025).
		"contoso-com.o-v1.mx.microsoft":      "microsoft",
		"MX.MICROSOFT.":                      "",
		"mta7.am0.yahoodns.net":              "yahoo",
		"mx0a-00123456.pphosted.com":         "proofpoint",
		"us-smtp-inbound-1.mimecast.com":     "mimecast",
		"d123456a.ess.barracudanetworks.com": "barracuda",
		"esa1.example.iphmx.com":             "cisco",
		"cluster1.eu.messagelabs.com":        "messagelabs",
		// Filtering services the catalogue missed. Sophos Email's MX
		// certificate covers *.prod.hydra.sophos.com (docs.sophos.com,
		// "Using TLS connections"); Hornetsecurity's MX are
		// mx01-mx04.hornetsecurity.com (captaindns.com, 2026);
		// SpamExperts' mx.spamexperts.com, fallbackmx.spamexperts.eu,
		// lastmx.spamexperts.net and Forcepoint's *.*.mailcontrol.com
		// (the MX provider table of a public mail-provider detector);
		// Mimecast's South African grid is under mimecast.co.za.
		"mx-01-eu-west-1.prod.hydra.sophos.com": "sophos",
		"mx01.hornetsecurity.com":               "hornetsecurity",
		"mx.spamexperts.com":                    "spamexperts",
		"fallbackmx.spamexperts.eu":             "spamexperts",
		"lastmx.spamexperts.net":                "spamexperts",
		"cluster1.eu.mailcontrol.com":           "forcepoint",
		"za-smtp-inbound-1.mimecast.co.za":      "mimecast",
		"abc123.in.tmes.trendmicro.com":         "trendmicro",
		// GoDaddy's hosted mail: MX smtp.secureserver.net and
		// mailstore1.secureserver.net (also .europe. and .asia.).
		"smtp.secureserver.net":              "godaddy",
		"mailstore1.europe.secureserver.net": "godaddy",
		"mx.example.com":                     "",
		"icloud.com.evil.example":            "",
		"":                                   "",
	} {
		got := ""
		if p := c.ByHost(host); p != nil {
			got = p.Name
		}
		if got != want {
			t.Errorf("ByHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestByText(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	m, f := c.ByText("421 4.7.0 deferred - see proofpoint dnsbl lookup")
	if m != nil || f == nil || f.Name != "proofpoint" {
		t.Errorf("proofpoint text: mailbox %v filter %v", m, f)
	}
	m, _ = c.ByText("550-5.7.1 this message is likely unsolicited mail. - gsmtp")
	if m == nil || m.Name != "google" {
		t.Errorf("gsmtp text: mailbox %v", m)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		`[[provider]]
kind = "mailbox"`,
		`[[provider]]
name = "x"
kind = "isp"`,
		`not toml`,
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}
