package dmarcsum

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseKnown: any file is read or refused with an error naming it,
// never a panic, and what is read answers Has.
func FuzzParseKnown(f *testing.F) {
	for _, seed := range []string{
		"ip 192.0.2.10\nip 198.51.100.0/24 # pool\n2001:db8:5::/48\nrdns *.mta.example.com\nservice SendGrid\nservice Amazon SES\n",
		"::ffff:192.0.2.128/121\n", "ip ::ffff:192.0.2.0/64\n", "rdns *\n", "rdns [a-\n", "service\n", "host x\n", "\n\n#only\n",
		"ip 192.0.2.0/33\n", "ip fe80::1%eth0\n",
	} {
		f.Add(seed)
	}
	svc, err := BuiltinServices()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		k, err := ParseKnown(strings.NewReader(in), "known.txt", svc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "known.txt") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		k.Has(netip.MustParseAddr("192.0.2.10"), "a.mta.example.com", "SendGrid")
		k.Has(netip.MustParseAddr("2001:db8::1"), "", "")
	})
}

// FuzzParseServices: the same for a services file.
func FuzzParseServices(f *testing.F) {
	f.Add(string(builtinServices))
	f.Add("[[service]]\nname = \"x\"\nrdns = [\"*.x.example\", \"mta[1\"]\n")
	f.Add("[[service]]\nname = \"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		list, err := ParseServices([]byte(in), "services.toml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "services.toml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		(&Services{list: list}).Match("o1.ptr1.sendgrid.net")
	})
}
