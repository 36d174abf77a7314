package analysis

import (
	"fmt"
	"strings"

	"github.com/mailtriage/mailtriage"
)

// SenderListing is one sending address's blocklist answers beside what
// the host that sends from it carried: the seed story's "mixed" case,
// where a listed address may or may not be the one the failed mail left
// from.
type SenderListing struct {
	IP string `json:"ip"`
	// Host is the logging host that sends from IP, when the user said so
	// (--ip mail01=198.51.100.21); its counts follow.
	Host    string      `json:"host,omitempty"`
	Listed  []ListEntry `json:"listed"`
	Clean   []string    `json:"clean_lists,omitempty"`   // scored lists that answered: not listed
	Unknown []string    `json:"unknown_lists,omitempty"` // scored lists that could not tell
	// Carried are the host's counts, when Host is known and logged.
	Carried *Counts `json:"carried,omitempty"`
}

// ListEntry is one scored list that lists the address.
type ListEntry struct {
	List      string `json:"list"`
	Zone      string `json:"zone"`
	Meaning   string `json:"meaning"`
	Severity  string `json:"severity"`
	DelistURL string `json:"delist_url"`
}

// AddListings puts the blocklist answers for the sending addresses in the
// result, each beside its host's counts, and adds the findings that
// compare them: a listed address that carried failed mail, and one that
// carried none while the failures came from elsewhere.
func (r *Result) AddListings(ls []SenderListing) {
	byHost := map[string]Counts{}
	var deferred, bounced int
	for _, h := range r.Hosts {
		byHost[h.Host] = h.Counts
		deferred += h.Deferrals
		bounced += h.Bounces
	}
	for i := range ls {
		if c, ok := byHost[ls[i].Host]; ok && ls[i].Host != "" {
			ls[i].Carried = &c
		}
	}
	r.Blocklists = ls
	for _, l := range ls {
		if f, ok := listingFinding(l, deferred+bounced); ok {
			r.Findings = append(r.Findings, f)
		}
	}
}

// listingFinding says what a listed address means for this incident.
func listingFinding(l SenderListing, failed int) (mailtriage.Finding, bool) {
	if len(l.Listed) == 0 {
		return mailtriage.Finding{}, false
	}
	var lists, evidence []string
	for _, e := range l.Listed {
		lists = append(lists, e.List)
		evidence = append(evidence, fmt.Sprintf("%s lists %s: %s (delist: %s)", e.Zone, l.IP, e.Meaning, e.DelistURL))
	}
	who := l.IP
	if l.Host != "" {
		who = fmt.Sprintf("%s (%s)", l.IP, l.Host)
	}
	f := mailtriage.Finding{Code: "incident.listed-sender", Severity: mailtriage.SeverityError, Category: "reputation", Owner: mailtriage.OwnerESP, Evidence: evidence,
		Fix: "stop the cause of the listing (compromised account, purchased list, spam traps), then ask each list for removal; meanwhile move the affected lane's mail to a clean address"}
	switch {
	case l.Carried == nil:
		f.Message = fmt.Sprintf("%s is listed on %s; say which host sends from it (--ip HOST=%s) to see whether it carried the failed mail", who, strings.Join(lists, ", "), l.IP)
	case l.Carried.Deferrals+l.Carried.Bounces == 0:
		f.Severity = mailtriage.SeverityWarning
		f.Message = fmt.Sprintf("%s is listed on %s, but carried none of the failed mail: the failures come from elsewhere, and the listing is not what receivers act on here", who, strings.Join(lists, ", "))
	default:
		n := l.Carried.Deferrals + l.Carried.Bounces
		f.Message = fmt.Sprintf("%s is listed on %s and carried %d of the %d deferrals and bounces (%s)", who, strings.Join(lists, ", "), n, failed, pct(n, failed))
	}
	return f, true
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(of))
}
