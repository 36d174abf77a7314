// Package lane groups recipient domains into lanes: the receiving
// infrastructure a domain's mail is delivered to, which is the unit an MTA
// throttles by (a Postfix transport, a PowerMTA queue, a KumoMTA site).
//
// A domain's lane is decided in this order:
//  1. the user's lane file (New's user argument), by domain, then by the
//     MX host the mail went to;
//  2. the built-in table of consumer mailbox domains (lanes.toml):
//     icloud.com, me.com and mac.com are the apple lane, and so on;
//  3. the provider that runs the server the mail was relayed to, when that
//     provider has a lane: a business domain on Google Workspace joins the
//     google lane once a delivery to aspmx.l.google.com is seen;
//  4. otherwise the lane "other".
package lane

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"golang.org/x/net/publicsuffix"

	"github.com/mailtriage/mailtriage/provider"
)

//go:embed lanes.toml
var builtin []byte

// Other is the lane of every domain no rule places.
const Other = "other"

// Lane is one entry of a lane file.
type Lane struct {
	Name string `toml:"name"`
	// Domains are recipient domains. "hotmail.*" matches the label
	// "hotmail" directly under a public suffix (hotmail.co.uk, hotmail.fr;
	// not hotmail.example.com). A built-in wildcard holds only while the
	// domain's relay host, when known, is its lane's provider's: a
	// hotmail.<tld> someone else registered goes by its own MX.
	Domains []string `toml:"domains"`
	// MX are relay host patterns ("*.pphosted.com") whose recipients join
	// the lane.
	MX []string `toml:"mx"`
	// Providers are provider names (see package provider) whose servers
	// put a recipient domain in this lane.
	Providers []string `toml:"providers"`
}

// table is one parsed lane file.
type table struct {
	exact     map[string]string // domain -> lane
	order     []string          // the exact domains in file order
	wildcards []wildcard        // "hotmail.*"
	mx        []mxPattern
	providers map[string]string // provider -> lane
}

type wildcard struct{ label, lane string }
type mxPattern struct{ pattern, lane string }

// Table decides lanes. A domain placed by its relay host keeps that lane
// for later attempts that reached no server. Decisions are remembered per
// domain and relay host, as the same few pairs come back all the time. It is
// not safe for concurrent use.
type Table struct {
	user, builtin *table
	// ProviderOf names the provider running a relay host ("" if none).
	ProviderOf func(host string) string
	learned    map[string]string       // domain -> lane found through its relay host
	memo       map[[2]string]memoEntry // (domain, relay host) -> lane
}

// memoEntry is a remembered decision. One that fell back on what was
// learned of the domain (or on "other" for want of it) holds only while
// that stays the same: a domain first seen failing before any server
// answered joins its provider's lane once its MX is seen.
type memoEntry struct {
	lane, learned string
	onLearned     bool
}

// New returns a Table with the built-in lanes and, if user is not nil, the
// lanes of a user's lane file on top.
func New(user []byte, providerOf func(host string) string) (*Table, error) {
	b, err := parse(builtin)
	if err != nil {
		return nil, fmt.Errorf("built-in lanes: %w", err)
	}
	t := &Table{builtin: b, ProviderOf: providerOf, learned: map[string]string{}, memo: map[[2]string]memoEntry{}}
	if user != nil {
		u, err := parse(user)
		if err != nil {
			return nil, err
		}
		t.user = u
	}
	return t, nil
}

func parse(data []byte) (*table, error) {
	var file struct {
		Lane []Lane `toml:"lane"`
	}
	md, err := toml.Decode(string(data), &file)
	if err != nil {
		return nil, fmt.Errorf("lane file: %w", err)
	}
	lines := newLineFinder(data)
	if un := md.Undecoded(); len(un) > 0 {
		key := un[0].String()
		return nil, fmt.Errorf("lane file: line %d: unknown key %s (a lane has name, domains, mx and providers)",
			lines.key(-1, un[0][len(un[0])-1]), key)
	}
	t := &table{exact: map[string]string{}, providers: map[string]string{}}
	for i, l := range file.Lane {
		if l.Name == "" {
			return nil, fmt.Errorf("lane file: line %d: lane %d has no name", lines.lane(i), i+1)
		}
		if len(l.Domains)+len(l.MX)+len(l.Providers) == 0 {
			return nil, fmt.Errorf("lane file: line %d: lane %s places no domain (give it domains, mx or providers)", lines.lane(i), l.Name)
		}
		for _, d := range l.Domains {
			d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
			if label, ok := strings.CutSuffix(d, ".*"); ok && label != "" && !strings.ContainsAny(label, "*.") {
				t.wildcards = append(t.wildcards, wildcard{label, l.Name})
				continue
			}
			if d == "" || strings.Contains(d, "*") {
				return nil, fmt.Errorf("lane file: line %d: lane %s: domain %q is neither a domain nor label.* (hotmail.*)", lines.value(i, d), l.Name, d)
			}
			if prev, dup := t.exact[d]; dup && prev != l.Name {
				return nil, fmt.Errorf("lane file: line %d: domain %s is in lanes %s and %s", lines.value(i, d), d, prev, l.Name)
			}
			if _, seen := t.exact[d]; !seen {
				t.order = append(t.order, d)
			}
			t.exact[d] = l.Name
		}
		for _, m := range l.MX {
			m = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(m), "."))
			if rest, _ := strings.CutPrefix(m, "*."); rest == "" || strings.Contains(rest, "*") {
				return nil, fmt.Errorf("lane file: line %d: lane %s: mx pattern %q is neither a host nor *.domain (*.pphosted.com)", lines.value(i, m), l.Name, m)
			}
			t.mx = append(t.mx, mxPattern{m, l.Name})
		}
		for _, p := range l.Providers {
			t.providers[p] = l.Name
		}
	}
	return t, nil
}

// lineFinder finds the lines of a lane file's entries for its messages.
type lineFinder struct {
	lines []string
	lanes []int // the index of each [[lane]] header line
}

func newLineFinder(data []byte) *lineFinder {
	f := &lineFinder{lines: strings.Split(string(data), "\n")}
	for i, l := range f.lines {
		if strings.HasPrefix(strings.TrimSpace(l), "[[lane]]") {
			f.lanes = append(f.lanes, i)
		}
	}
	return f
}

// lane returns the line (from 1) of the i-th lane's header.
func (f *lineFinder) lane(i int) int {
	if i >= 0 && i < len(f.lanes) {
		return f.lanes[i] + 1
	}
	return 1
}

// scan returns the first line at or after the i-th lane's header (the
// file's start when i < 0) for which match holds, else the header's.
func (f *lineFinder) scan(i int, match func(string) bool) int {
	from := 0
	if i >= 0 && i < len(f.lanes) {
		from = f.lanes[i]
	}
	for j := from; j < len(f.lines); j++ {
		if j > from && i >= 0 && slices.Contains(f.lanes, j) {
			break
		}
		if match(f.lines[j]) {
			return j + 1
		}
	}
	return f.lane(i)
}

// value finds the line of a quoted value in the i-th lane.
func (f *lineFinder) value(i int, v string) int {
	return f.scan(i, func(l string) bool { return strings.Contains(strings.ToLower(l), `"`+v) })
}

// key finds the line that sets key.
func (f *lineFinder) key(i int, key string) int {
	return f.scan(i, func(l string) bool {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), key)
		return ok && strings.HasPrefix(strings.TrimSpace(rest), "=")
	})
}

// byDomain looks a domain up by name only, and says whether a wildcard
// placed it.
func (t *table) byDomain(domain string) (lane string, wild bool) {
	if l, ok := t.exact[domain]; ok {
		return l, false
	}
	if len(t.wildcards) == 0 {
		return "", false
	}
	label, rest, ok := strings.Cut(domain, ".")
	if !ok || rest == "" {
		return "", false
	}
	for _, w := range t.wildcards {
		if w.label == label {
			if suffix, _ := publicsuffix.PublicSuffix(domain); suffix == rest {
				return w.lane, true
			}
			return "", false
		}
	}
	return "", false
}

// has reports whether a domain is named by the table.
func (t *table) has(domain string) bool {
	l, _ := t.byDomain(domain)
	return l != ""
}

// byRelay looks a relay host up by the file's MX patterns and providers.
func (t *table) byRelay(host, prov string) string {
	for _, m := range t.mx {
		if provider.MatchHost(m.pattern, host) {
			return m.lane
		}
	}
	if prov != "" {
		return t.providers[prov]
	}
	return ""
}

// Lane returns the lane of a recipient domain (lower case) whose mail went
// to relayHost ("" when no server was reached).
func (t *Table) Lane(domain, relayHost string) string {
	k := [2]string{domain, relayHost}
	if e, ok := t.memo[k]; ok && (!e.onLearned || t.learned[domain] == e.learned) {
		return e.lane
	}
	l, onLearned := t.decide(domain, relayHost)
	if len(t.memo) >= 1<<16 {
		clear(t.memo) // bounded: the pairs that matter come back at once
	}
	t.memo[k] = memoEntry{lane: l, learned: t.learned[domain], onLearned: onLearned}
	return l
}

// decide returns the lane of a domain and whether it came from what was
// learned of the domain's relay hosts (or from the lack of it).
func (t *Table) decide(domain, relayHost string) (string, bool) {
	host := strings.ToLower(strings.TrimSuffix(relayHost, "."))
	provider := ""
	if host != "" && t.ProviderOf != nil {
		provider = t.ProviderOf(host)
	}
	if t.user != nil {
		if l, _ := t.user.byDomain(domain); l != "" {
			return l, false
		}
		if l := t.user.byRelay(host, provider); host != "" && l != "" {
			t.learned[domain] = l
			return l, false
		}
	}
	// A domain seen going to a lane's MX stays in that lane when a later
	// attempt reached no server.
	if l, ok := t.learned[domain]; ok && (host == "" || t.user != nil && t.user.hasRelayRules()) {
		return l, true
	}
	l, wild := t.builtin.byDomain(domain)
	if l != "" && (!wild || host == "" || t.ProviderOf == nil || t.builtin.providers[provider] == l) {
		return l, false
	}
	if host != "" {
		if l := t.builtin.byRelay(host, provider); l != "" {
			t.learned[domain] = l
			return l, false
		}
		if wild {
			// Named like a provider's domain, but its MX is someone
			// else's: it stays out of that lane without a server too.
			t.learned[domain] = Other
		}
	}
	if l, ok := t.learned[domain]; ok {
		return l, true
	}
	return Other, true
}

// UserProviders returns the provider names the user's lane file gives
// lanes to, sorted, so a caller can check them against its catalog: a name
// it does not know would never match a relay host.
func (t *Table) UserProviders() []string {
	if t.user == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(t.user.providers))
}

// Known returns the domains the lane files name for a lane, the user's
// first, in file order, without the wildcards ("hotmail.*"): the domains a
// throttle routes even when the logs have not shown them yet.
func (t *Table) Known(lane string) []string {
	var out []string
	for _, tb := range []*table{t.user, t.builtin} {
		if tb == nil {
			continue
		}
		for _, d := range tb.order {
			overridden := tb != t.user && t.user != nil && t.user.has(d)
			if tb.exact[d] == lane && !overridden && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// hasRelayRules reports whether a lane file places domains by MX.
func (t *table) hasRelayRules() bool { return len(t.mx) > 0 }
