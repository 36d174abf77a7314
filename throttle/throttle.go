// Package throttle writes the configuration that slows one recipient lane
// on a sending MTA and nothing else: for Postfix a dedicated transport
// (transport(5) map lines, a master.cf service, the main.cf limits qmgr(8)
// reads per transport), for PowerMTA a domain macro, a queue with its
// limits and an smtp-pattern-list that backs off on the lane's deferral
// replies, for KumoMTA a shaping file (shaping.toml) with limits and
// automation rules. Every value comes with a comment that says why, and
// every file says how to roll it back.
//
// The package knows nothing of how the limits were chosen: a Lane says
// them, and the reply patterns come from real replies, escaped, so a
// pattern always matches the reply it was made from (KumoMTA's community
// HCM1 rule, double-escaped, never did).
package throttle

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Lane is the throttle for one group of recipient domains.
type Lane struct {
	// Name is a short identifier ("apple"); it names the transport,
	// queue and pattern list.
	Name string `json:"name"`
	// Domains are the recipient domains of the lane.
	Domains []string `json:"domains"`
	// Nexthop, when set, makes all domains one destination, so they share
	// one set of limits (Postfix transport:nexthop; KumoMTA rolls them up
	// by MX on its own).
	// Set it only when the domains share their MX hosts.
	Nexthop string `json:"nexthop,omitempty"`
	// Relayhost, when set, is the smarthost this Postfix relays all mail
	// through ("[relay.example]:587"); the lane's mail keeps going there,
	// as one destination. Without it a transport map entry sends the
	// lane's mail straight to the recipient domain, past relayhost.
	Relayhost string `json:"relayhost,omitempty"`
	// Destinations is how many destinations the lane's mail flows to
	// (domains with traffic; 0 means one per domain), when the MTA keeps
	// limits per destination: the rate is split among them so that
	// together they stay at PerHour.
	Destinations int `json:"destinations,omitempty"`
	// Connections is the most concurrent connections to the lane.
	Connections int `json:"connections"`
	// MessagesPerConnection is how many messages one connection carries;
	// 0 leaves the MTA's default.
	MessagesPerConnection int `json:"messages_per_connection"`
	// PerHour is the most messages an hour to the lane; 0 for no rate.
	PerHour int `json:"per_hour"`
	// Source, when set, scopes the limits to the mail sent through one
	// PowerMTA virtual MTA or KumoMTA egress source (the bulk stream's),
	// so other streams, transactional mail first, keep their pace.
	// KumoMTA's automation rules cannot be scoped so: they stay at domain
	// level, and the file says they act on every source.
	// Postfix routes by recipient only; its files say how to keep a
	// stream out instead.
	Source string `json:"source,omitempty"`
	// Deferrals are real deferral replies of the lane's receivers that
	// should make the MTA back off.
	Deferrals []string `json:"deferrals"`
	// Why is the reason, written into the files' comments ("apple: 41%
	// of attempts deferred from 09:00Z, 421 4.7.0 Deferred - see
	// Proofpoint DNSBL lookup").
	Why string `json:"why"`
}

// File is one generated file: where it goes and what it holds.
type File struct {
	Name    string `json:"name"`    // a file name: "postfix/master.cf.mailtriage-apple"
	Install string `json:"install"` // where its content goes, for people
	Content string `json:"content"`
}

// Check says what is wrong with a lane before anything is written.
func (l Lane) Check() error {
	switch {
	case !validName.MatchString(l.Name):
		return fmt.Errorf("throttle: lane name %q: want lower-case letters, digits and _, starting with a letter", l.Name)
	case len(l.Domains) == 0:
		return fmt.Errorf("throttle: lane %s has no domains", l.Name)
	case l.Connections < 1:
		return fmt.Errorf("throttle: lane %s: %d connections; want at least 1", l.Name, l.Connections)
	case l.MessagesPerConnection < 0 || l.PerHour < 0:
		return fmt.Errorf("throttle: lane %s: negative limits", l.Name)
	}
	if l.Source != "" && !validSource.MatchString(l.Source) {
		return fmt.Errorf("throttle: lane %s: source %q: want letters, digits, '-', '_' and '.'", l.Name, l.Source)
	}
	if l.Relayhost != "" && !validRelay.MatchString(l.Relayhost) {
		return fmt.Errorf("throttle: lane %s: relayhost %q: want host, [host] or [host]:port", l.Name, l.Relayhost)
	}
	for _, d := range append(slices.Clone(l.Domains), l.Nexthop) {
		if d != "" && !validDomain.MatchString(d) {
			return fmt.Errorf("throttle: lane %s: %q is not a domain", l.Name, d)
		}
	}
	return nil
}

var (
	validName   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,30}$`)
	validSource = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	validRelay  = regexp.MustCompile(`^(?:\[[A-Za-z0-9.:-]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$`)
	validDomain = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}$`)
)

// Pattern returns a regular expression that matches reply and replies
// like it: the text escaped, with what changes from one reply to the next
// matched by any value: IPv4 addresses, numbers of five digits or more,
// mail addresses (Gmail and Microsoft quote the recipient), and ids that
// mix letters and digits (Gmail's "a1b2c3d4e5f6-…gsmtp", Microsoft's
// "[BN8NAM12FT011.eop-nam12.prod.protection.outlook.com …]"). Codes (421,
// 4.7.0, [TSS04]) stay literal. It is the syntax PowerMTA, KumoMTA
// (fancy-regex) and Go's regexp share.
func Pattern(reply string) string {
	words := strings.Fields(reply)
	for i, w := range words {
		if strings.Contains(w, "@") || isID(w) {
			words[i] = `\S+`
			continue
		}
		words[i] = variableParts(w)
	}
	return strings.Join(words, " ")
}

// isID reports whether a word is a message or server id: eight or more
// characters with both letters and digits, not a dotted number.
func isID(w string) bool {
	if len(w) < 8 || variable.MatchString(w) {
		return false
	}
	letters := strings.IndexFunc(w, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) >= 0
	digits := strings.IndexFunc(w, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0
	return letters && digits && !strings.Contains(w, "://")
}

// variableParts escapes a word, with its addresses and long numbers
// matched by any value.
func variableParts(w string) string {
	var b strings.Builder
	last := 0
	for _, m := range variable.FindAllStringIndex(w, -1) {
		b.WriteString(regexp.QuoteMeta(w[last:m[0]]))
		if strings.Count(w[m[0]:m[1]], ".") == 3 {
			b.WriteString(`\d{1,3}(?:\.\d{1,3}){3}`)
		} else {
			b.WriteString(`\d+`)
		}
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(w[last:]))
	return b.String()
}

// variable matches the parts of a reply that change: IPv4 addresses, and
// numbers of five digits or more (ids, timestamps).
var variable = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}\b|\b\d{5,}\b`)

// messages counts messages: "1 message", "5 messages".
func messages(n int) string {
	if n == 1 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}

// comment prefixes every line of text with prefix.
func comment(prefix, text string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(strings.TrimRight(prefix+line, " ") + "\n")
	}
	return b.String()
}

// shared reports whether all the lane's mail is one destination for
// Postfix: a shared nexthop or the relayhost.
func (l Lane) shared() bool { return l.Nexthop != "" || l.Relayhost != "" }

// destinations is how many destinations share the lane's limits when
// each keeps its own.
func (l Lane) destinations() int {
	if l.Destinations > 0 {
		return min(l.Destinations, len(l.Domains))
	}
	return len(l.Domains)
}

// perDestination is the rate each of n destinations gets so that together
// they stay at or under the lane's PerHour (at least 1 an hour each).
func (l Lane) perDestination(n int) int {
	if n <= 1 {
		return l.PerHour
	}
	return max(1, l.PerHour/n)
}

// splitDelay is the gap between deliveries to each of n destinations that
// keeps them together at perHour messages an hour, in whole seconds (at
// least 1): Postfix takes any number of seconds, so a share under one an
// hour (1 an hour over 3 domains: one every 3 hours each) stays exact.
func splitDelay(perHour, n int) int {
	n = max(1, n)
	return max(1, (3600*n+perHour-1)/perHour)
}
