package analysis

import (
	"strings"
	"testing"
)

// TestAddListings: the seed story's "mixed" case: a listed address is
// judged by whether its host carried the failed mail.
func TestAddListings(t *testing.T) {
	r := &Result{Hosts: []HostStats{
		{Host: "mail01", Counts: Counts{Attempts: 100, Deferrals: 60, Bounces: 10}},
		{Host: "mail02", Counts: Counts{Attempts: 100, Delivered: 100}},
	}}
	zen := ListEntry{List: "Spamhaus ZEN", Zone: "zen.spamhaus.org", Meaning: "SBL", Severity: "error", DelistURL: "https://check.spamhaus.org/"}
	r.AddListings([]SenderListing{
		{IP: "198.51.100.21", Host: "mail01", Listed: []ListEntry{zen}},
		{IP: "198.51.100.22", Host: "mail02", Listed: []ListEntry{zen}},
		{IP: "198.51.100.23", Listed: []ListEntry{zen}},
		{IP: "198.51.100.24", Host: "mail01"},
	})
	if len(r.Blocklists) != 4 || r.Blocklists[0].Carried == nil || r.Blocklists[0].Carried.Deferrals != 60 || r.Blocklists[2].Carried != nil {
		t.Fatalf("%+v", r.Blocklists)
	}
	if len(r.Findings) != 3 {
		t.Fatalf("%d findings: %+v", len(r.Findings), r.Findings)
	}
	for i, want := range []string{"carried 70 of the 70 deferrals and bounces (100%)", "carried none of the failed mail", "--ip HOST=198.51.100.23"} {
		if f := r.Findings[i]; f.Code != "incident.listed-sender" || !strings.Contains(f.Message, want) {
			t.Errorf("finding %d: %s", i, f.Message)
		}
	}
	if r.Findings[1].Severity != "warning" || r.Findings[0].Severity != "error" {
		t.Errorf("severities %s %s", r.Findings[0].Severity, r.Findings[1].Severity)
	}
}
