package classify

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Rule is one entry of a rule file. A rule matches when every condition it
// sets holds; conditions it leaves empty always hold.
type Rule struct {
	ID          string `toml:"id"`
	Description string `toml:"description"`

	// Conditions.
	Codes       []int    `toml:"codes"`       // basic reply codes: any of
	ReplyClass  []int    `toml:"reply_class"` // class digits 2, 4, 5 of the reply: any of
	Enhanced    []string `toml:"enhanced"`    // "5.7.1", "5.7.*", "4.7.500-699": any of
	Text        []string `toml:"text"`        // case-insensitive substrings: all of
	TextAny     []string `toml:"text_any"`    // case-insensitive substrings: any of
	Regex       string   `toml:"regex"`       // RE2, case-insensitive
	Tags        []string `toml:"tags"`        // provider tags as written, "[CS01]": any of
	Hosts       []string `toml:"hosts"`       // remote host patterns, "*.pphosted.com": any of
	Providers   []string `toml:"providers"`   // the reply's provider or filter: any of
	Kinds       []string `toml:"kinds"`       // smtpreply kinds: "connect", "timeout", "dns", ...: any of
	NoReplyOnly bool     `toml:"no_reply"`    // only when no server answered

	// Verdict.
	Class    string `toml:"class"` // temporary or permanent; default from the reply code
	Reason   string `toml:"reason"`
	Category string `toml:"category"`
	Provider string `toml:"provider"` // overrides the provider found by host or text
	Filter   string `toml:"filter"`
	// SenderSide marks replies the sending system itself wrote (a queue
	// timeout): no receiving provider or filter is named, whatever the text
	// quotes.
	SenderSide bool   `toml:"sender_side"`
	Owner      string `toml:"owner"`
	Action     string `toml:"action"`
	Ref        string `toml:"ref"`

	// Examples are real replies this rule must decide; a test checks them.
	// ExampleHost is the remote host they came from, if it matters.
	Examples    []string `toml:"examples"`
	ExampleHost string   `toml:"example_host"`

	file     string
	defaults Defaults // the file's [defaults]
	regex    *regexp.Regexp
	enhanced []enhancedMatch
	text     []string
	textAny  []string
	kinds    []string
}

// enhancedMatch is one parsed Enhanced condition.
type enhancedMatch struct {
	prefix string // "5.7." for "5.7.*", or the whole code for an exact match
	exact  bool
	lo, hi int // detail range for "4.7.500-699"; hi 0 when not a range
}

// Category names group verdicts by what the sender should do first (the
// seed article's table: 421 slow the lane, 554 read the bounce, IP check
// blocklists, domain validate DMARC, volume reduce concurrency).
var Categories = []string{
	"throttling", "volume", "reputation", "blocklist", "block", "authentication", "content",
	"policy", "greylisting", "address", "mailbox", "timeout", "network", "dns", "tls",
	"configuration", "protocol", "recipient-system", "success", "other",
}

// Reasons are Sisimai's reason names, the field's shared vocabulary.
var Reasons = []string{
	"authfailure", "badreputation", "blocked", "contenterror", "exceedlimit", "expired",
	"failedstarttls", "filtered", "hasmoved", "hostunknown", "mailboxfull", "mailererror",
	"mesgtoobig", "networkerror", "norelaying", "notaccept", "notcompliantrfc", "onhold",
	"policyviolation", "rejected", "requireptr", "securityerror", "spamdetected", "speeding",
	"suppressed", "suspend", "syntaxerror", "systemerror", "systemfull", "toomanyconn",
	"userunknown", "virusdetected", "delivered", "feedback", "undefined", "vacation",
}

// Defaults are a rule file's [defaults]: who answers, when neither the
// rule nor the remote host says. A file of one provider's replies sets its
// provider (or filter), so a reply seen without its host is still
// attributed.
type Defaults struct {
	Provider string `toml:"provider"`
	Filter   string `toml:"filter"`
}

// ParseRules reads a rule file. name is used in error messages.
func ParseRules(name string, data []byte, cat *provider.Catalog) ([]*Rule, error) {
	var file struct {
		Defaults Defaults `toml:"defaults"`
		Rule     []*Rule  `toml:"rule"`
	}
	md, err := toml.Decode(string(data), &file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("%s: unknown key %s", name, un[0])
	}
	for _, p := range []string{file.Defaults.Provider, file.Defaults.Filter} {
		if p != "" && cat != nil && cat.Named(p) == nil {
			return nil, fmt.Errorf("%s: [defaults]: provider %q is not in the provider catalogue", name, p)
		}
	}
	for i, r := range file.Rule {
		r.file = name
		r.defaults = file.Defaults
		if err := r.compile(cat); err != nil {
			id := r.ID
			if id == "" {
				id = "#" + strconv.Itoa(i+1)
			}
			return nil, fmt.Errorf("%s: rule %s: %w", name, id, err)
		}
	}
	return file.Rule, nil
}

func (r *Rule) compile(cat *provider.Catalog) error {
	if r.ID == "" {
		return fmt.Errorf("no id")
	}
	switch r.Class {
	case "", string(mailtriage.Temporary), string(mailtriage.Permanent), string(mailtriage.Success):
	default:
		return fmt.Errorf("class %q is not temporary, permanent or success", r.Class)
	}
	if r.Reason == "" || !contains(Reasons, r.Reason) {
		return fmt.Errorf("reason %q is not one of Sisimai's reason names: %s", r.Reason, strings.Join(Reasons, ", "))
	}
	if !contains(Categories, r.Category) {
		return fmt.Errorf("category %q is not one of %s", r.Category, strings.Join(Categories, ", "))
	}
	switch mailtriage.Owner(r.Owner) {
	case mailtriage.OwnerSender, mailtriage.OwnerESP, mailtriage.OwnerRecipient:
	default:
		return fmt.Errorf("owner %q is not sender, esp or recipient", r.Owner)
	}
	if r.Action == "" {
		return fmt.Errorf("no action")
	}
	for _, name := range append([]string{r.Provider, r.Filter}, r.Providers...) {
		if name != "" && cat != nil && cat.Named(name) == nil {
			return fmt.Errorf("provider %q is not in the provider catalogue", name)
		}
	}
	if r.Regex != "" {
		re, err := regexp.Compile("(?i)" + r.Regex)
		if err != nil {
			return fmt.Errorf("regex: %w", err)
		}
		r.regex = re
	}
	for _, e := range r.Enhanced {
		m, err := parseEnhancedMatch(e)
		if err != nil {
			return err
		}
		r.enhanced = append(r.enhanced, m)
	}
	for _, s := range r.Text {
		r.text = append(r.text, strings.ToLower(s))
	}
	for _, s := range r.TextAny {
		r.textAny = append(r.textAny, strings.ToLower(s))
	}
	for i, h := range r.Hosts {
		r.Hosts[i] = strings.ToLower(h)
	}
	r.kinds = r.Kinds
	return nil
}

func parseEnhancedMatch(e string) (enhancedMatch, error) {
	parts := strings.Split(e, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return enhancedMatch{}, fmt.Errorf("enhanced %q is not class.subject.detail", e)
	}
	if parts[2] == "*" {
		return enhancedMatch{prefix: parts[0] + "." + parts[1] + "."}, nil
	}
	if lo, hi, ok := strings.Cut(parts[2], "-"); ok {
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || l > h {
			return enhancedMatch{}, fmt.Errorf("enhanced %q: bad detail range", e)
		}
		return enhancedMatch{prefix: parts[0] + "." + parts[1] + ".", lo: l, hi: h}, nil
	}
	return enhancedMatch{prefix: e, exact: true}, nil
}

func (m enhancedMatch) match(code string) bool {
	switch {
	case m.exact:
		return code == m.prefix
	case m.hi > 0:
		rest, ok := strings.CutPrefix(code, m.prefix)
		if !ok {
			return false
		}
		n, err := strconv.Atoi(rest)
		return err == nil && n >= m.lo && n <= m.hi
	default:
		return strings.HasPrefix(code, m.prefix)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// example is one of the rule's examples as a report to classify, from the
// rule's example host when it names one.
func (r *Rule) example(ex string) smtpreply.Detail {
	d := smtpreply.ParseDetail(ex)
	if r.ExampleHost != "" {
		d.Host = r.ExampleHost
	}
	return d
}
