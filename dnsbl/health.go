package dnsbl

import (
	"context"
	"fmt"
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
	h := Health{Zone: z.Name, Status: StatusClean}
	type test struct {
		target string
		want   Status
	}
	var tests []test
	if z.TestListed != "" {
		// An allowlist's test entry is on the list as an allowlisting
		// (DNSWL answers 127.0.10.0 for 127.0.0.2), not as a listing.
		want := StatusListed
		if z.allowlist() {
			want = StatusAllowed
		}
		tests = append(tests, test{z.TestListed, want})
	}
	if z.TestClean != "" {
		tests = append(tests, test{z.TestClean, StatusClean})
	}
	h.Tests = make([]Result, len(tests))
	var wg sync.WaitGroup
	for i, tt := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Tests[i] = Lookup(ctx, r, z, tt.target)
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
