package blocklist

import (
	"context"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/dnsbl"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/resolver/dnstest"
)

// operatorTests serves each built-in list's test entries as its operator
// documents them (RFC 5782 §5: 127.0.0.2 listed, 127.0.0.1 not), so a
// healthy list must come out healthy.
const operatorTests = `$ORIGIN .
$TTL 300
. IN SOA ns.test. hm.test. 1 7200 3600 1209600 300
; Spamhaus ZEN: 127.0.0.2 answers SBL, XBL and PBL (docs.spamhaus.com).
2.0.0.127.zen.spamhaus.org. IN A 127.0.0.2
2.0.0.127.zen.spamhaus.org. IN A 127.0.0.4
2.0.0.127.zen.spamhaus.org. IN A 127.0.0.10
; Spamhaus DBL: dbltest.com answers 127.0.1.2.
dbltest.com.dbl.spamhaus.org. IN A 127.0.1.2
2.0.0.127.b.barracudacentral.org. IN A 127.0.0.2
2.0.0.127.bl.spamcop.net. IN A 127.0.0.2
2.0.0.127.dnsbl-1.uceprotect.net. IN A 127.0.0.2
; URIBL: test.uribl.com answers black+grey+red (127.0.0.14).
test.uribl.com.multi.uribl.com. IN A 127.0.0.14
; DNSWL (www.dnswl.org, "Testing"): 127.0.0.2 answers 127.0.10.0, an
; allowlisting (category 10, trust 0); 127.0.0.1 is not listed.
2.0.0.127.list.dnswl.org. IN A 127.0.10.0
`

// TestBuiltinHealth: a list whose test entries answer as documented is
// healthy, an allowlist too: its test entry is allowlisted, not
// blocklisted (DNSWL answers 127.0.10.0 for 127.0.0.2).
func TestBuiltinHealth(t *testing.T) {
	cat, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s := dnstest.Start(t, operatorTests)
	c, err := resolver.NewClient(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.Retries = 500*time.Millisecond, 0
	cat, err = cat.Only([]string{"zen.spamhaus.org", "dbl.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net",
		"dnsbl-1.uceprotect.net", "multi.uribl.com", "list.dnswl.org"})
	if err != nil {
		t.Fatal(err)
	}
	rep := Check(context.Background(), Options{Resolver: c, Catalogue: cat}, nil)
	for _, z := range rep.Zones {
		if z.Status != dnsbl.StatusClean {
			t.Errorf("%s: health %s (%s), want healthy", z.Zone, z.Status, z.Reason)
		}
	}
}
