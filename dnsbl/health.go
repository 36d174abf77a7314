package dnsbl

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/resolver"
)

// Health is what a zone answered for its test entries.
type Health struct {
	Zone string
	// Status is StatusClean when the zone answered both tests as it
	// should; StatusRefused when it refused them (a public resolver, no
	// registration); StatusUnknown when a test lookup failed; else
	// StatusUnavailable (an emptied or broken zone), with Reason.
	Status Status
	Reason string
	Tests  []Result
}

// OK reports whether the zone's answers can be trusted.
func (h Health) OK() bool { return h.Status == StatusClean }

// CheckHealth looks the zone's test entries up at once. A zone without
// test entries is taken as healthy.
func CheckHealth(ctx context.Context, r resolver.Resolver, z Zone) Health {
	var tests []test
	if z.TestListed != "" {
		tests = append(tests, test{target: z.TestListed, want: z.testListedStatus()})
	}
	if z.TestClean != "" {
		tests = append(tests, test{target: z.TestClean, want: StatusClean})
	}
	return checkTests(ctx, r, z, tests)
}

// The IPv6 test entries of RFC 5782 §5: an IPv6 DNSxL must list
// ::FFFF:7F00:2 and must not list ::FFFF:7F00:1, both asked as IPv6
// addresses (32 nibbles), not as the IPv4 addresses they map.
var (
	testListed6 = netip.MustParseAddr("::ffff:7f00:2")
	testClean6  = netip.MustParseAddr("::ffff:7f00:1")
)

// CheckHealthIPv6 looks an IP zone's IPv6 test entries up. Many lists hold
// IPv4 addresses only and answer NXDOMAIN for any IPv6 one: a zone that
// does not list ::FFFF:7F00:2 is unavailable for IPv6 addresses, so that
// its silence about one is never read as clean.
func CheckHealthIPv6(ctx context.Context, r resolver.Resolver, z Zone) Health {
	zone := strings.Trim(strings.ToLower(z.Name), ".")
	h := checkTests(ctx, r, z, []test{
		{target: testListed6.String(), query: reverse(testListed6) + "." + zone, want: z.testListedStatus()},
		{target: testClean6.String(), query: reverse(testClean6) + "." + zone, want: StatusClean},
	})
	if h.Status == StatusUnavailable && len(h.Tests) > 0 && h.Tests[0].Status == StatusClean {
		h.Reason = fmt.Sprintf("the list does not hold RFC 5782's IPv6 test entry %s: it may list IPv4 addresses only, so its silence about an IPv6 address says nothing", testListed6)
	}
	return h
}

// testListedStatus is what the zone's always-listed test entry should
// answer: an allowlist's is on the list as an allowlisting (DNSWL answers
// 127.0.10.0 for 127.0.0.2), not as a listing.
func (z Zone) testListedStatus() Status {
	if z.allowlist() {
		return StatusAllowed
	}
	return StatusListed
}

// test is one test entry: a target (or, when query is set, the query name
// to ask for it) and the answer a healthy zone gives.
type test struct {
	target, query string
	want          Status
}

// checkTests looks the tests up at once and judges the zone by them.
func checkTests(ctx context.Context, r resolver.Resolver, z Zone, tests []test) Health {
	h := Health{Zone: z.Name, Status: StatusClean, Tests: make([]Result, len(tests))}
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tt.query != "" {
				h.Tests[i] = lookupName(ctx, r, z, tt.target, tt.query)
			} else {
				h.Tests[i] = Lookup(ctx, r, z, tt.target)
			}
		}()
	}
	wg.Wait()
	for i, tt := range tests {
		got := h.Tests[i]
		switch {
		case got.Status == tt.want:
		case got.Status == StatusRefused:
			return Health{Zone: z.Name, Status: StatusRefused, Tests: h.Tests,
				Reason: fmt.Sprintf("the list refused the test query for %s: %s", tt.target, meaningOf(got))}
		case got.Status == StatusUnknown:
			return Health{Zone: z.Name, Status: StatusUnknown, Tests: h.Tests,
				Reason: fmt.Sprintf("the test query for %s failed: %v", tt.target, got.Err)}
		default:
			return Health{Zone: z.Name, Status: StatusUnavailable, Tests: h.Tests,
				Reason: fmt.Sprintf("the test entry %s is %s, not %s: the zone is not answering as the list should", tt.target, got.Status, tt.want)}
		}
	}
	return h
}

// allowlist reports whether the zone lists only allowlistings: its
// undocumented codes are read as allowed and none of its codes is a
// listing.
func (z Zone) allowlist() bool {
	allowed := z.Default == Allowed
	for _, c := range z.Codes {
		switch c.Class {
		case Listed:
			return false
		case Allowed:
			allowed = true
		}
	}
	return allowed
}

func meaningOf(r Result) string {
	for _, m := range r.Matched {
		if m.Class == Refused {
			return m.Meaning
		}
	}
	return string(r.Status)
}
