// Package blocklist checks sending addresses and domains against DNS
// blocklists the way the seed story asks: each list's answers read by its
// own codes, "listed", "clean" and "could not tell" kept apart, every list
// health-checked by its test entries in the same run, and a clean answer
// never taken as proof of good reputation.
//
// The lists are data: zones.toml, embedded, which follows the research
// notes (auth-and-dmarc.md §5): per zone its kind, the meaning of each
// return code, the codes that mean "refused", whether it is scored or
// informational, its test entries, its terms of use and where to ask for
// delisting. A user adds or overrides zones with a file in that format.
package blocklist

import (
	"cmp"
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/dnsbl"
)

//go:embed zones.toml
var builtin string

// Role says what a list's listing means for a sender.
type Role string

const (
	Block  Role = "block"  // a reputation blocklist: a listing hurts delivery
	Policy Role = "policy" // a policy list (PBL-like): the address should not send direct to MX
	Allow  Role = "allow"  // an allowlist: a listing is a positive signal
)

// Zone is one list of the catalogue.
type Zone struct {
	dnsbl.Zone
	Display   string
	Tier      int // 1 scored, 2 informational
	Role      Role
	DQS       string // the zone asked with a Spamhaus DQS key: <key>.<DQS>
	Terms     string
	DelistURL string
	// Severity is the severity of a listing, per code (by Meaning).
	severity map[string]mailtriage.Severity
}

// Scored reports whether a listing counts against the score.
func (z *Zone) Scored() bool { return z.Tier == 1 && z.Role != Allow }

// SeverityOf returns the severity of a listing with this meaning.
func (z *Zone) SeverityOf(c dnsbl.Code) mailtriage.Severity {
	if s, ok := z.severity[c.Meaning]; ok {
		return s
	}
	if z.Tier == 1 {
		return mailtriage.SeverityError
	}
	return mailtriage.SeverityInfo
}

// Catalogue is the zones to ask, in order.
type Catalogue struct {
	Zones []*Zone
}

// file is the TOML form of a catalogue.
type file struct {
	Zone []fileZone `toml:"zone"`
}

type fileZone struct {
	Name       string     `toml:"name"`
	Display    string     `toml:"display"`
	Kind       string     `toml:"kind"`
	Tier       int        `toml:"tier"`
	Role       string     `toml:"role"`
	Bitmask    bool       `toml:"bitmask"`
	Default    string     `toml:"default"`
	DQS        string     `toml:"dqs"`
	TestListed string     `toml:"test_listed"`
	TestClean  string     `toml:"test_clean"`
	Terms      string     `toml:"terms"`
	DelistURL  string     `toml:"delist_url"`
	Code       []fileCode `toml:"code"`
}

type fileCode struct {
	Value    string `toml:"value"`
	Bit      uint8  `toml:"bit"`
	Class    string `toml:"class"`
	Meaning  string `toml:"meaning"`
	Severity string `toml:"severity"`
}

// Builtin returns the embedded catalogue.
func Builtin() (*Catalogue, error) {
	c := &Catalogue{}
	if err := c.Load(strings.NewReader(builtin), "zones.toml"); err != nil {
		return nil, err
	}
	return c, nil
}

// Load adds the zones of a file in the zones.toml format; a zone named
// like one already there replaces it. name names the file in errors.
func (c *Catalogue) Load(r io.Reader, name string) error {
	var f file
	md, err := toml.NewDecoder(r).Decode(&f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return fmt.Errorf("%s: unknown key %s", name, undecoded[0])
	}
	for i, fz := range f.Zone {
		z, err := zoneOf(fz)
		if err != nil {
			return fmt.Errorf("%s: zone %d (%s): %w", name, i+1, fz.Name, err)
		}
		c.put(z)
	}
	return nil
}

func (c *Catalogue) put(z *Zone) {
	for i, old := range c.Zones {
		if old.Name == z.Name {
			c.Zones[i] = z
			return
		}
	}
	c.Zones = append(c.Zones, z)
}

var classes = map[string]dnsbl.Class{"listed": dnsbl.Listed, "allowed": dnsbl.Allowed, "neutral": dnsbl.Neutral, "refused": dnsbl.Refused}

var severities = map[string]mailtriage.Severity{"error": mailtriage.SeverityError, "warning": mailtriage.SeverityWarning, "info": mailtriage.SeverityInfo}

// zoneOf checks one zone of a file and builds it.
func zoneOf(fz fileZone) (*Zone, error) {
	z := &Zone{
		Zone: dnsbl.Zone{Name: strings.ToLower(strings.Trim(fz.Name, ".")), Kind: dnsbl.Kind(fz.Kind), Bitmask: fz.Bitmask,
			TestListed: fz.TestListed, TestClean: fz.TestClean},
		Display: cmp.Or(fz.Display, fz.Name), Tier: fz.Tier, Role: Role(cmp.Or(fz.Role, string(Block))), DQS: fz.DQS,
		Terms: fz.Terms, DelistURL: fz.DelistURL, severity: map[string]mailtriage.Severity{},
	}
	switch {
	case z.Name == "" || !strings.Contains(z.Name, "."):
		return nil, fmt.Errorf("name %q is not a zone", fz.Name)
	case z.Kind != dnsbl.IP && z.Kind != dnsbl.Domain:
		return nil, fmt.Errorf("kind %q: want ip or domain", fz.Kind)
	case z.Tier != 1 && z.Tier != 2:
		return nil, fmt.Errorf("tier %d: want 1 (scored) or 2 (informational)", fz.Tier)
	case !slices.Contains([]Role{Block, Policy, Allow}, z.Role):
		return nil, fmt.Errorf("role %q: want block, policy or allow", fz.Role)
	}
	if fz.Default != "" {
		cl, ok := classes[fz.Default]
		if !ok || (cl != dnsbl.Listed && cl != dnsbl.Allowed) {
			return nil, fmt.Errorf("default %q: want listed or allowed", fz.Default)
		}
		z.Default = cl
	}
	for j, fc := range fz.Code {
		code, err := codeOf(fc, z.Bitmask)
		if err != nil {
			return nil, fmt.Errorf("code %d: %w", j+1, err)
		}
		if fc.Severity != "" {
			sev, ok := severities[fc.Severity]
			if !ok {
				return nil, fmt.Errorf("code %d: severity %q: want error, warning or info", j+1, fc.Severity)
			}
			z.severity[code.Meaning] = sev
		}
		z.Codes = append(z.Codes, code)
	}
	return z, nil
}

func codeOf(fc fileCode, bitmask bool) (dnsbl.Code, error) {
	value, bit, meaning := fc.Value, fc.Bit, fc.Meaning
	c := dnsbl.Code{Bit: bit, Meaning: meaning}
	cl, ok := classes[fc.Class]
	if !ok {
		return c, fmt.Errorf("class %q: want listed, allowed, neutral or refused", fc.Class)
	}
	c.Class = cl
	switch {
	case meaning == "":
		return c, fmt.Errorf("no meaning")
	case bit != 0 && value != "":
		return c, fmt.Errorf("both value and bit")
	case bit != 0 && !bitmask:
		return c, fmt.Errorf("bit %d in a zone that is not a bitmask", bit)
	case bit != 0 && bit&(bit-1) != 0:
		return c, fmt.Errorf("bit %d is not a single bit", bit)
	case bit != 0:
		return c, nil
	}
	ip, err := netip.ParseAddr(value)
	if err != nil || !ip.Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(ip) {
		return c, fmt.Errorf("value %q: want an address in 127.0.0.0/8 (RFC 5782 §2.1)", value)
	}
	c.Value = ip
	return c, nil
}

// WithDQSKey returns a copy of the catalogue whose Spamhaus zones are
// asked through Data Query Service with key: <key>.zen.dq.spamhaus.net.
func (c *Catalogue) WithDQSKey(key string) *Catalogue {
	out := &Catalogue{}
	for _, z := range c.Zones {
		if z.DQS != "" && key != "" {
			dq := *z
			dq.Name = key + "." + z.DQS
			out.Zones = append(out.Zones, &dq)
			continue
		}
		out.Zones = append(out.Zones, z)
	}
	return out
}

// dqsKey returns the Data Query Service key a zone is asked with, or "".
func (z *Zone) dqsKey() string {
	if z.DQS == "" {
		return ""
	}
	key, ok := strings.CutSuffix(z.Name, "."+z.DQS)
	if !ok {
		return ""
	}
	return key
}

// shown is the zone's name as reports give it: a DQS key is a paid secret
// and a report gets shared, so it reads <key>.zen.dq.spamhaus.net.
func (z *Zone) shown() string {
	if z.dqsKey() == "" {
		return z.Name
	}
	return "<key>." + z.DQS
}

// mask takes the zone's DQS key out of a text that may quote a query name
// (a resolver's error).
func (z *Zone) mask(s string) string {
	if key := z.dqsKey(); key != "" {
		return strings.ReplaceAll(s, key, "<key>")
	}
	return s
}

// Only returns the catalogue's zones named in names (a zone's name, or
// its display name, any case), in the catalogue's order; an unknown name
// is an error that lists the known ones.
func (c *Catalogue) Only(names []string) (*Catalogue, error) {
	if len(names) == 0 {
		return c, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[strings.ToLower(strings.TrimSpace(n))] = true
	}
	out := &Catalogue{}
	for _, z := range c.Zones {
		name, display := strings.ToLower(z.Name), strings.ToLower(z.Display)
		if want[name] || want[display] {
			out.Zones = append(out.Zones, z)
			delete(want, name)
			delete(want, display)
		}
	}
	if len(want) > 0 {
		var unknown, known []string
		for n := range want {
			unknown = append(unknown, n)
		}
		for _, z := range c.Zones {
			known = append(known, z.Name)
		}
		slices.Sort(unknown)
		return nil, fmt.Errorf("unknown list %s; the lists are %s", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}
