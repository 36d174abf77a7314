package verify

import (
	"net/netip"
	"strings"
	"testing"
)

// receivedForms are Received fields in the forms MTAs write them
// (RFC 5321 §4.4), with the hop each names.
var receivedForms = []struct {
	name, value           string
	from, helo, rdns, ip  string
	by, with, id, forAddr string
	dated                 bool
}{
	{"postfix",
		"from mail.example.com (mail.example.com [192.0.2.1])\r\n\tby mx.example.net (Postfix) with ESMTPS id 4Nx2Kq0Zl3z9t\r\n\tfor <bob@example.net>; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)",
		"mail.example.com", "mail.example.com", "mail.example.com", "192.0.2.1", "mx.example.net", "ESMTPS", "4Nx2Kq0Zl3z9t", "bob@example.net", true},
	{"postfix unknown rdns",
		"from helo.example.com (unknown [198.51.100.7]) by mx.example.net (Postfix) with ESMTP id 1; Tue, 1 Dec 2026 10:00:00 +0000",
		"helo.example.com", "helo.example.com", "", "198.51.100.7", "mx.example.net", "ESMTP", "1", "", true},
	{"postfix ipv6",
		"from mail.example.com (mail.example.com [IPv6:2001:db8::25]) by mx.example.net (Postfix) with ESMTPS; Tue, 1 Dec 2026 10:00:00 +0000",
		"mail.example.com", "mail.example.com", "mail.example.com", "2001:db8::25", "mx.example.net", "ESMTPS", "", "", true},
	{"exim",
		"from mail.example.com ([192.0.2.1]:50124 helo=smtp.example.com)\r\n\tby mx.example.net with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n\t(Exim 4.96)\r\n\t(envelope-from <a@example.com>)\r\n\tid 1sZ2bc-000Abc-2x\r\n\tfor bob@example.net; Tue, 01 Dec 2026 10:00:00 +0000",
		"mail.example.com", "smtp.example.com", "mail.example.com", "192.0.2.1", "mx.example.net", "esmtps", "1sZ2bc-000Abc-2x", "bob@example.net", true},
	// Postfix and Exchange write the HELO name first, an address
	// literal as it is: the client behind NAT names its own private
	// address; the comment holds the address the server saw (RFC 5321
	// §4.4: the from clause's TCP-info is what the receiver observed).
	{"postfix literal helo",
		"from [192.168.1.10] (unknown [192.0.2.5])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(Authenticated sender: alice@example.com)\r\n\tby smtp.example.net (Postfix) with ESMTPSA id 4Nx2; Tue, 1 Dec 2026 10:00:00 +0000 (UTC)",
		"[192.168.1.10]", "192.168.1.10", "", "192.0.2.5", "smtp.example.net", "ESMTPSA", "4Nx2", "", true},
	{"microsoft literal helo",
		"from [10.0.0.5] (198.51.100.9) by EX01.example.net (10.1.1.1) with Microsoft SMTP Server id 15.2.1; Tue, 1 Dec 2026 10:00:00 +0000",
		"[10.0.0.5]", "10.0.0.5", "", "198.51.100.9", "EX01.example.net", "Microsoft", "15.2.1", "", true},
	{"exim literal",
		"from [192.0.2.9] (helo=laptop) by mx.example.net with esmtpsa (Exim 4.96) id 1abc; Tue, 01 Dec 2026 10:00:00 +0000",
		"[192.0.2.9]", "laptop", "", "192.0.2.9", "mx.example.net", "esmtpsa", "1abc", "", true},
	{"gmail",
		"from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n        by mx.google.com with SMTPS id a640c23a62f3a-abc.2026.12.01.02.00.00\r\n        for <bob@gmail.com>\r\n        (Google Transport Security);\r\n        Tue, 01 Dec 2026 02:00:00 -0800 (PST)",
		"mail-sor-f41.google.com", "mail-sor-f41.google.com", "mail-sor-f41.google.com", "209.85.220.41", "mx.google.com", "SMTPS", "a640c23a62f3a-abc.2026.12.01.02.00.00", "bob@gmail.com", true},
	{"gmail ipv6",
		"from mail.example.com (mail.example.com. [2001:db8:4860::25]) by mx.google.com with ESMTPS id x; Tue, 01 Dec 2026 02:00:00 -0800 (PST)",
		"mail.example.com", "mail.example.com", "mail.example.com", "2001:db8:4860::25", "mx.google.com", "ESMTPS", "x", "", true},
	{"gmail internal",
		"by 2002:a05:7300:7a8b:b0:1a2:3b4c:5d6e with SMTP id abc;        Tue, 1 Dec 2026 02:00:01 -0800 (PST)",
		"", "", "", "", "2002:a05:7300:7a8b:b0:1a2:3b4c:5d6e", "SMTP", "abc", "", true},
	{"microsoft",
		"from EUR05-AM6-obe.outbound.protection.outlook.com (40.107.22.71) by\r\n DM6NAM12FT012.mail.protection.outlook.com (10.13.178.97) with Microsoft SMTP\r\n Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\r\n 15.20.5723.11 via Frontend Transport; Tue, 1 Dec 2026 10:00:00 +0000",
		"EUR05-AM6-obe.outbound.protection.outlook.com", "EUR05-AM6-obe.outbound.protection.outlook.com", "", "40.107.22.71", "DM6NAM12FT012.mail.protection.outlook.com", "Microsoft", "15.20.5723.11", "", true},
	{"microsoft ipv6",
		"from AM0PR07MB1234.eurprd07.prod.outlook.com (2603:10a6:208:12::34) by AM0PR07MB5678.eurprd07.prod.outlook.com (2603:10a6:208:56::78) with Microsoft SMTP Server id 15.20.1; Tue, 1 Dec 2026 10:00:00 +0000",
		"AM0PR07MB1234.eurprd07.prod.outlook.com", "AM0PR07MB1234.eurprd07.prod.outlook.com", "", "2603:10a6:208:12::34", "AM0PR07MB5678.eurprd07.prod.outlook.com", "Microsoft", "15.20.1", "", true},
	{"qmail",
		"from unknown (HELO mail.example.com) (192.0.2.77)\r\n  by mx.example.net with SMTP; 1 Dec 2026 10:00:00 -0000",
		"unknown", "mail.example.com", "", "192.0.2.77", "mx.example.net", "SMTP", "", "", true},
	{"sendmail forged",
		"from host.example.com (host.example.com [192.0.2.3] (may be forged))\r\n\tby relay.example.net (8.17.1/8.17.1) with ESMTPS id 5B1A0000123456\r\n\tfor <bob@example.net>; Tue, 1 Dec 2026 10:00:00 GMT",
		"host.example.com", "host.example.com", "host.example.com", "192.0.2.3", "relay.example.net", "ESMTPS", "5B1A0000123456", "bob@example.net", true},
	{"local",
		"from localhost (localhost [127.0.0.1]) by mail.example.com (Postfix) with ESMTP id 9; Tue, 1 Dec 2026 09:59:59 +0000",
		"localhost", "localhost", "localhost", "127.0.0.1", "mail.example.com", "ESMTP", "9", "", true},
	{"no date",
		"from a.example (a.example [192.0.2.4]) by b.example",
		"a.example", "a.example", "a.example", "192.0.2.4", "b.example", "", "", "", false},
}

func TestParseReceived(t *testing.T) {
	for _, tt := range receivedForms {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseReceived(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			ip := ""
			if r.IP.IsValid() {
				ip = r.IP.String()
			}
			if r.From != tt.from || r.HELO != tt.helo || r.RDNS != tt.rdns || ip != tt.ip || r.By != tt.by || r.With != tt.with || r.ID != tt.id || r.For != tt.forAddr {
				t.Errorf("got from %q helo %q rdns %q ip %q by %q with %q id %q for %q\nwant from %q helo %q rdns %q ip %q by %q with %q id %q for %q",
					r.From, r.HELO, r.RDNS, ip, r.By, r.With, r.ID, r.For, tt.from, tt.helo, tt.rdns, tt.ip, tt.by, tt.with, tt.id, tt.forAddr)
			}
			if r.Date.IsZero() == tt.dated {
				t.Errorf("date %v raw %q", r.Date, r.DateRaw)
			}
		})
	}
	// Addresses a receiver on the Internet cannot have seen are marked.
	r, _ := ParseReceived("from localhost (localhost [127.0.0.1]) by x.example; Tue, 1 Dec 2026 10:00:00 +0000")
	if r.Public {
		t.Error("loopback taken for public")
	}
	r, _ = ParseReceived("from a.example (a.example [203.0.113.9]) by x.example; Tue, 1 Dec 2026 10:00:00 +0000")
	if r.IP != netip.MustParseAddr("203.0.113.9") {
		t.Error(r.IP)
	}
	for _, bad := range []string{"", "garbage", "(only a comment)"} {
		if _, err := ParseReceived(bad); err == nil {
			t.Errorf("ParseReceived(%q) succeeded", bad)
		}
	}
}

func FuzzParseReceived(f *testing.F) {
	for _, tt := range receivedForms {
		f.Add(tt.value)
	}
	f.Add("from (((( by ))) ; ;")
	f.Add(`from a (\(b [1.2.3.4]\)) by c; x`)
	f.Add("from [IPv6:fe80::1%eth0] by x")
	f.Fuzz(func(t *testing.T, value string) {
		r, err := ParseReceived(value)
		if err == nil && r.By == "" && r.From == "" && !strings.Contains(strings.ToLower(value), "from") && !strings.Contains(strings.ToLower(value), "by") {
			t.Errorf("no clause, no error: %q", value)
		}
		if r.IP.IsValid() && r.IP.Zone() != "" {
			t.Errorf("zoned address %s from %q", r.IP, value)
		}
	})
}

func FuzzParseAuthResults(f *testing.F) {
	f.Add("mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 header.b=abc;\r\n       spf=pass (google.com: domain of a@example.com designates 209.85.220.41 as permitted sender) smtp.mailfrom=a@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com")
	f.Add("spf=pass (sender IP is 40.107.22.71) smtp.mailfrom=example.com; dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=example.com;compauth=pass reason=100")
	f.Add("mx.example.net 1; none")
	f.Add(`x; dkim=pass (a;b) header.d="quoted;semi"; (unclosed`)
	f.Fuzz(func(t *testing.T, value string) {
		ar := parseAuthResults(value)
		for _, m := range ar.Methods {
			if m.Method == "" {
				t.Errorf("a method without a name from %q", value)
			}
		}
		ar.recordedIP()
		parseReceivedSPF(value)
	})
}
