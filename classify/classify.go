// Package classify decides what an SMTP reply means: whether the sender
// should retry, the reason (in Sisimai's vocabulary), who answered (the
// mailbox provider and the filter in front of it), what to do first and who
// owns the fix.
//
// The knowledge is data: rule files in TOML (rules/*.toml, embedded, and a
// user's --rules directory, read first), each rule with the conditions it
// matches on (reply code, enhanced status code of RFC 3463, text, provider
// tags, remote host), its verdict and real example replies that a test
// classifies. The first matching rule decides; the built-in files are read
// in name order, so provider-specific files come before generic.toml.
package classify

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/internal/literals"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/smtpreply"
)

//go:embed rules/*.toml
var builtinRules embed.FS

// Unclassified is the rule id of the verdict given when no rule matches.
const Unclassified = "unclassified"

// Classifier holds compiled rules. It is safe for concurrent use.
type Classifier struct {
	rules   []*Rule
	catalog *provider.Catalog
	// lits holds every rule's substrings, found in a text in one pass;
	// ruleLits are each rule's ids in it, by the rule's index.
	lits     literals.Index
	ruleLits []ruleLits
}

// ruleLits are the literal ids of a rule's text (all of) and text_any
// (any of).
type ruleLits struct{ all, any []int }

// New returns a Classifier with the user's rules (if any) ahead of the
// built-in ones.
func New(cat *provider.Catalog, user []*Rule) (*Classifier, error) {
	builtin, err := BuiltinRules(cat)
	if err != nil {
		return nil, err
	}
	rules := append(append([]*Rule(nil), user...), builtin...)
	seen := map[string]string{}
	for i, r := range rules {
		prev, dup := seen[r.ID]
		switch {
		case dup && i >= len(user):
			return nil, fmt.Errorf("rule id %s of %s is a built-in rule's (in %s): give yours another id", r.ID, prev, r.file)
		case dup:
			return nil, fmt.Errorf("rule id %s is in both %s and %s", r.ID, prev, r.file)
		}
		seen[r.ID] = r.file
	}
	c := &Classifier{rules: rules, catalog: cat}
	for _, r := range rules {
		var rl ruleLits
		for _, s := range r.text {
			rl.all = append(rl.all, c.lits.ID(s))
		}
		for _, s := range r.textAny {
			rl.any = append(rl.any, c.lits.ID(s))
		}
		c.ruleLits = append(c.ruleLits, rl)
	}
	c.lits.Compile()
	// A user's rule holds to what the built-in ones are tested for: each
	// of its examples is decided by it.
	for _, r := range user {
		for _, ex := range r.Examples {
			if v := c.Classify(r.example(ex)); v.Rule != r.ID {
				return nil, fmt.Errorf("%s: rule %s does not decide its example %q (rule %s does)", r.file, r.ID, ex, v.Rule)
			}
		}
	}
	return c, nil
}

// BuiltinRules returns the embedded rules in file name order.
func BuiltinRules(cat *provider.Catalog) ([]*Rule, error) {
	return loadFS(builtinRules, "rules", cat)
}

// LoadDir reads every *.toml file of a user's rule directory, in name order.
func LoadDir(dir string, cat *provider.Catalog) ([]*Rule, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("rules directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("rules directory %s: not a directory", dir)
	}
	return loadFS(os.DirFS(dir), ".", cat)
}

func loadFS(fsys fs.FS, dir string, cat *provider.Catalog) ([]*Rule, error) {
	names, err := fs.Glob(fsys, filepath.ToSlash(filepath.Join(dir, "*.toml")))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	// Every command pays for this at start-up, and decoding TOML is most
	// of it: the files are read side by side, then joined in name order.
	rules := make([][]*Rule, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				errs[i] = fmt.Errorf("reading rules: %w", err)
				return
			}
			rules[i], errs[i] = ParseRules(filepath.Base(name), data, cat)
		})
	}
	wg.Wait()
	var all []*Rule
	for i := range names {
		if errs[i] != nil {
			return nil, errs[i]
		}
		all = append(all, rules[i]...)
	}
	return all, nil
}

// Rules returns the rules in the order they are tried.
func (c *Classifier) Rules() []*Rule { return c.rules }

// Explanation is what Explain says of one reply.
type Explanation struct {
	Detail  smtpreply.Detail
	Verdict mailtriage.Verdict
	// Cause is the verdict on the reply a wrapper quotes: the last
	// transfer failure inside a queue timeout.
	Cause *mailtriage.Verdict
}

// Explain classifies a reply as a person pastes it: bare ("421 4.7.0 ...")
// or in a delivery agent's words ("host mx[ip] said: ..."), from host if
// given (else the host the text names).
func (c *Classifier) Explain(text, host string) Explanation {
	d := smtpreply.ParseDetail(text)
	if host != "" {
		d.Host = host
	}
	x := Explanation{Detail: d, Verdict: c.Classify(d)}
	if in := d.Reply.Inner; in != nil {
		v := c.ClassifyReply(*in, d.Host)
		x.Cause = &v
	}
	return x
}

// ClassifyReply classifies a bare reply from host ("" when unknown).
func (c *Classifier) ClassifyReply(r smtpreply.Reply, host string) mailtriage.Verdict {
	kind := smtpreply.Plain
	if r.Code == 0 && r.Enhanced == "" {
		kind = smtpreply.Local
	}
	return c.Classify(smtpreply.Detail{Kind: kind, Host: host, Reply: r, Text: r.String()})
}

// Classify classifies what a delivery agent reported about one attempt.
func (c *Classifier) Classify(d smtpreply.Detail) mailtriage.Verdict {
	in := c.input(d)
	for i, r := range c.rules {
		if r.matches(&in, c.ruleLits[i]) {
			return c.verdict(r, &in)
		}
	}
	return c.fallback(&in)
}

// input is a Detail prepared for matching.
type input struct {
	d        smtpreply.Detail
	host     string
	lower    string // the text rules look at, lower case
	kind     string
	answered bool
	hostP    *provider.Provider
	textM    *provider.Provider
	textF    *provider.Provider
	found    literals.Found // the rules' substrings lower holds
}

func (c *Classifier) input(d smtpreply.Detail) input {
	in := input{d: d, host: strings.ToLower(strings.TrimSuffix(d.Host, ".")), kind: d.Kind.String(), answered: d.Answered()}
	if !in.answered && in.d.Reply.Enhanced == "" && d.DSN != "" {
		// No server said a code: the MTA's own status for the attempt
		// (5.1.1 for "User unknown in virtual alias table") decides
		// what the words don't.
		in.d.Reply.Enhanced = d.DSN
	}
	if in.answered {
		in.lower = strings.ToLower(d.Reply.String())
	} else {
		in.lower = strings.ToLower(d.Text)
	}
	in.found = c.lits.Scan(in.lower)
	if c.catalog != nil {
		in.hostP = c.catalog.ByHost(in.host)
		in.textM, in.textF = c.catalog.ByText(in.lower)
	}
	return in
}

func (r *Rule) matches(in *input, lits ruleLits) bool {
	reply := &in.d.Reply
	if len(r.Codes) > 0 && !containsInt(r.Codes, reply.Code) {
		return false
	}
	if len(r.ReplyClass) > 0 && !containsInt(r.ReplyClass, reply.Class()) {
		return false
	}
	if r.NoReplyOnly && in.answered {
		return false
	}
	if len(r.kinds) > 0 && !contains(r.kinds, in.kind) {
		return false
	}
	if len(r.enhanced) > 0 {
		ok := false
		for _, m := range r.enhanced {
			if m.match(reply.Enhanced) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.Tags) > 0 && !anyIn(r.Tags, reply.Tags) {
		return false
	}
	if len(r.Hosts) > 0 {
		ok := false
		for _, h := range r.Hosts {
			if provider.MatchHost(h, in.host) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.Providers) > 0 && !r.providerMatches(in) {
		return false
	}
	for _, id := range lits.all {
		if !in.found.Has(id) {
			return false
		}
	}
	if len(lits.any) > 0 {
		ok := false
		for _, id := range lits.any {
			if in.found.Has(id) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if r.regex != nil && !r.regex.MatchString(in.lower) {
		return false
	}
	return true
}

func (r *Rule) providerMatches(in *input) bool {
	for _, p := range []*provider.Provider{in.hostP, in.textM, in.textF} {
		if p != nil && contains(r.Providers, p.Name) {
			return true
		}
	}
	return false
}

func (c *Classifier) verdict(r *Rule, in *input) mailtriage.Verdict {
	v := mailtriage.Verdict{
		Class:    mailtriage.Class(r.Class),
		Reason:   r.Reason,
		Category: r.Category,
		Provider: r.Provider,
		Filter:   r.Filter,
		Action:   r.Action,
		Owner:    mailtriage.Owner(r.Owner),
		Rule:     r.ID,
		Ref:      r.Ref,
	}
	if v.Class == "" {
		v.Class = classOf(in)
	}
	if !r.SenderSide {
		c.attribute(&v, in, r.defaults)
	}
	return v
}

// attribute fills in who answered, most certain first: the rule, then the
// provider running the remote host, then the rule file's defaults, then
// the markers in the text. The filter comes from the rule, a filtering
// service's host, the file's defaults or the text.
func (c *Classifier) attribute(v *mailtriage.Verdict, in *input, def Defaults) {
	if v.Provider == "" {
		switch {
		case in.hostP != nil:
			v.Provider = in.hostP.Name
		case def.Provider != "":
			v.Provider = def.Provider
		case in.textM != nil:
			v.Provider = in.textM.Name
		case def.Filter != "":
			v.Provider = def.Filter
		case in.textF != nil:
			v.Provider = in.textF.Name
		}
	}
	if v.Filter == "" {
		switch {
		case in.hostP != nil && in.hostP.Kind == provider.Filter:
			v.Filter = in.hostP.Name
		case def.Filter != "":
			v.Filter = def.Filter
		case in.textF != nil:
			v.Filter = in.textF.Name
		}
	}
}

// classOf is the class the reply code implies: RFC 5321 §4.2.1, 4yz is
// transient, 5yz permanent. A failure without a reply (a connection that
// timed out) is retried, so it is temporary.
func classOf(in *input) mailtriage.Class {
	switch in.d.Reply.Class() {
	case 2:
		return mailtriage.Success
	case 5:
		return mailtriage.Permanent
	}
	return mailtriage.Temporary
}

func (c *Classifier) fallback(in *input) mailtriage.Verdict {
	v := mailtriage.Verdict{
		Class:    classOf(in),
		Reason:   "undefined",
		Category: "other",
		Action:   "No rule knows this reply: read it in full, and add a rule for it (--rules DIR) once you know what it means.",
		Owner:    mailtriage.OwnerSender,
		Rule:     Unclassified,
	}
	c.attribute(&v, in, Defaults{})
	return v
}

func containsInt(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}

func anyIn(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(w, h) {
				return true
			}
		}
	}
	return false
}
