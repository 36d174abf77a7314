package resolver_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// TestBlind: a resolver is blind when it denies the name's top-level
// domain and com; a top-level domain that does not exist, with com
// found, is a name that does not exist, and a refusal is no denial.
func TestBlind(t *testing.T) {
	const root = ". 300 IN SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300\n"
	for _, tt := range []struct {
		name, zone, domain string
		blind              bool
	}{
		{"denies everything", root, "gone.example.test", true},
		{"denies everything, a .com name", root, "gone.example.com", true},
		{"sighted", root + "com. 300 IN SOA ns.com. h.com. 1 7200 3600 1209600 300\ntest. 300 IN SOA ns.test. h.test. 1 7200 3600 1209600 300\n", "gone.example.test", false},
		// A typo (.cmo) or a reserved name (.invalid): the domain does
		// not exist.
		{"no such TLD", root + "com. 300 IN SOA ns.com. h.com. 1 7200 3600 1209600 300\n", "example.cmo", false},
		// Outside the zone, offline: refused, not denied.
		{"refused", "example.test. 300 IN SOA ns.test. h.test. 1 7200 3600 1209600 300\n", "gone.example.test", false},
	} {
		z := resolver.NewZone(nil)
		if err := z.Load(strings.NewReader(tt.zone), "", tt.name); err != nil {
			t.Fatal(err)
		}
		err := resolver.Blind(context.Background(), z, tt.domain)
		var be *resolver.BlindError
		if (err != nil) != tt.blind || err != nil && (!errors.As(err, &be) || be.Name != tt.domain) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.blind && !strings.Contains(err.Error(), "even "+resolver.TLD(tt.domain)+" does not exist") {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// TestNXWatch: the watch asks Blind about the first name answered
// NXDOMAIN, and about nothing when no lookup was.
func TestNXWatch(t *testing.T) {
	const root = ". 300 IN SOA ns.test. hostmaster.test. 1 7200 3600 1209600 300\n"
	z := resolver.NewZone(nil)
	if err := z.Load(strings.NewReader(root), "", "root"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := &resolver.NXWatch{Resolver: z}
	if err := w.Blind(ctx); err != nil {
		t.Errorf("no lookup yet: %v, want nil", err)
	}
	w.Lookup(ctx, "gone.example.test", dns.TypeTXT)
	w.Lookup(ctx, "other.example.test", dns.TypeTXT)
	var be *resolver.BlindError
	if err := w.Blind(ctx); !errors.As(err, &be) || be.Name != "gone.example.test" {
		t.Errorf("after NXDOMAIN for gone.example.test: %v, want its BlindError", err)
	}
}
