// Package provider recognises who runs a receiving mail server: the mailbox
// providers (Apple iCloud, Google, Microsoft, Yahoo, ...) and the filtering
// services in front of mailboxes (Proofpoint, Mimecast, Barracuda, Cisco,
// Broadcom MessageLabs, ...), from the server's host name and from the
// markers their replies carry (URLs, "- gsmtp", ...).
//
// The fingerprints are data: providers.toml, embedded, which follows the
// provider identification table of the project's research notes
// (bounces.md §2.12). Load reads it, or a user's file in the same format.
package provider

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mailtriage/mailtriage/internal/literals"
)

//go:embed providers.toml
var builtin []byte

// Kind says what a provider does.
type Kind string

const (
	Mailbox Kind = "mailbox" // hosts mailboxes: apple, google, microsoft, yahoo
	Filter  Kind = "filter"  // filters mail in front of mailboxes: proofpoint, mimecast
)

// Provider is one operator of receiving mail servers.
type Provider struct {
	Name  string `toml:"name"`
	Title string `toml:"title"`
	Kind  Kind   `toml:"kind"`
	// Hosts are host name patterns: "*.mail.icloud.com" matches any name
	// under mail.icloud.com; a name without "*." matches itself.
	Hosts []string `toml:"hosts"`
	// Markers are lower-case substrings of reply texts that only this
	// provider writes.
	Markers []string `toml:"markers"`
}

// Catalog finds providers by host name and reply text.
type Catalog struct {
	providers []*Provider
	byName    map[string]*Provider
	// markers finds every provider's markers in a text in one pass;
	// markerIDs are each provider's ids in it.
	markers   literals.Index
	markerIDs [][]int
}

// Builtin returns the embedded catalogue.
func Builtin() (*Catalog, error) {
	return Parse(builtin)
}

// Parse reads a catalogue in the providers.toml format.
func Parse(data []byte) (*Catalog, error) {
	var file struct {
		Provider []*Provider `toml:"provider"`
	}
	if _, err := toml.Decode(string(data), &file); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	c := &Catalog{byName: make(map[string]*Provider)}
	for i, p := range file.Provider {
		if p.Name == "" {
			return nil, fmt.Errorf("provider: entry %d has no name", i+1)
		}
		if p.Kind != Mailbox && p.Kind != Filter {
			return nil, fmt.Errorf("provider %s: kind %q is neither %q nor %q", p.Name, p.Kind, Mailbox, Filter)
		}
		for j, h := range p.Hosts {
			p.Hosts[j] = strings.ToLower(strings.TrimSuffix(h, "."))
		}
		for j, m := range p.Markers {
			p.Markers[j] = strings.ToLower(m)
		}
		c.providers = append(c.providers, p)
		c.byName[p.Name] = p
		var ids []int
		for _, m := range p.Markers {
			ids = append(ids, c.markers.ID(m))
		}
		c.markerIDs = append(c.markerIDs, ids)
	}
	c.markers.Compile()
	return c, nil
}

// Named returns the provider called name, or nil.
func (c *Catalog) Named(name string) *Provider { return c.byName[name] }

// All returns the providers in catalogue order.
func (c *Catalog) All() []*Provider { return c.providers }

// ByHost returns the provider whose host patterns match host, or nil. The
// longest matching pattern wins, so a specific entry beats a general one.
func (c *Catalog) ByHost(host string) *Provider {
	if host == "" {
		return nil
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var best *Provider
	bestLen := 0
	for _, p := range c.providers {
		for _, pat := range p.Hosts {
			if len(pat) > bestLen && MatchHost(pat, host) {
				best, bestLen = p, len(pat)
			}
		}
	}
	return best
}

// ByText returns the first mailbox provider and the first filter whose
// markers appear in lower, a reply text in lower case.
func (c *Catalog) ByText(lower string) (mailbox, filter *Provider) {
	found := c.markers.Scan(lower)
	for i, p := range c.providers {
		if (p.Kind == Mailbox && mailbox != nil) || (p.Kind == Filter && filter != nil) {
			continue
		}
		for _, id := range c.markerIDs[i] {
			if found.Has(id) {
				if p.Kind == Mailbox {
					mailbox = p
				} else {
					filter = p
				}
				break
			}
		}
	}
	return mailbox, filter
}

// MatchHost reports whether host (lower case, no trailing dot) matches
// pattern: "*.example.com" matches names under example.com, and other
// patterns match exactly.
func MatchHost(pattern, host string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return host == pattern
}
