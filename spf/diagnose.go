package spf

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
)

// Severity orders findings, with the values of mailtriage.Severity.
// SeverityUnknown means a check could not be made (a DNS failure), which
// is never the same as "missing".
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
	SeverityUnknown Severity = "unknown"
)

// Finding is one problem of a domain's SPF records.
type Finding struct {
	Code     string   `json:"code"` // stable: "spf-lookup-limit", …
	Severity Severity `json:"severity"`
	Domain   string   `json:"domain"`         // the record it is about
	Term     string   `json:"term,omitempty"` // the term at fault, as written
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
}

// State says what was found at a node of the tree.
type State string

const (
	StateOK          State = "ok"                  // one SPF record, valid
	StateInvalid     State = "syntax error"        // one SPF record, with syntax errors
	StateNotFound    State = "does not exist"      // NXDOMAIN
	StateNoRecord    State = "no SPF record"       // the name exists without one
	StateMultiple    State = "several SPF records" // a permerror for receivers
	StateUnknown     State = "unknown"             // the lookup failed; DNS says how
	StateBadName     State = "invalid domain name" // the target cannot be a domain
	StateLoop        State = "loop"                // an ancestor again: not followed
	StateMacro       State = "depends on macros"   // the target depends on the sender or IP
	StateNotFollowed State = "not followed"        // past the bounds of a diagnosis
)

// Node is one record of the include/redirect tree.
type Node struct {
	Domain string `json:"domain"`
	// Via is the term that led here ("include:_spf.example.net",
	// "redirect=example.net"); "" at the root.
	Via   string `json:"via,omitempty"`
	State State  `json:"state"`
	// DNS is the status of the TXT lookup; Error says what failed.
	DNS   resolver.Status `json:"dns,omitempty"`
	Error string          `json:"error,omitempty"`
	// Record is the SPF record; Records all of them when there are
	// several. Strings is the number of strings of its TXT record, Length
	// its length in bytes once they are joined.
	Record  string         `json:"record,omitempty"`
	Records []string       `json:"records,omitempty"`
	Strings int            `json:"strings,omitempty"`
	Length  int            `json:"length,omitempty"`
	Parsed  *Record        `json:"-"`
	Errors  []*SyntaxError `json:"syntax_errors,omitempty"`
	// Lookups counts the record's own DNS-querying terms; TotalLookups
	// adds those of every record below. VoidLookups counts the record's
	// own terms whose lookup came back empty.
	Lookups      int       `json:"lookups"`
	TotalLookups int       `json:"total_lookups"`
	VoidLookups  int       `json:"void_lookups"`
	Findings     []Finding `json:"findings,omitempty"`
	Children     []*Node   `json:"children,omitempty"`
}

// Diagnosis is what Diagnose found.
type Diagnosis struct {
	Domain string `json:"domain"`
	Root   *Node  `json:"root"`
	// Lookups is the number of DNS-querying terms (§4.6.4) a receiver
	// evaluates when no term matches early, through every include and
	// redirect, counted past the limit of 10. VoidLookups is the number
	// of those whose lookup comes back empty (limit 2).
	Lookups     int `json:"lookups"`
	VoidLookups int `json:"void_lookups"`
	// Findings are the problems, the counts' first, then the tree's in
	// order.
	Findings []Finding `json:"findings"`
}

// Bounds of a diagnosis, so that no record can make it run away.
const (
	maxDepth = 20
	maxNodes = 500
)

// Diagnose looks up domain's SPF record and every record it includes or
// redirects to, and reports the tree, the lookup counts and the problems.
// Independent lookups run at once, so a tree costs about its depth in
// round trips. Targets that depend on macros other than %{d} cannot be
// known without a message and are not followed. Without a deadline on
// ctx, the diagnosis is bounded by Timeout.
func Diagnose(ctx context.Context, r resolver.Resolver, domain string) *Diagnosis {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	d := &diagnoser{r: r}
	root := &Node{Domain: domain}
	var spfRR resolver.Answer
	if !validDomain(domain) {
		root.State = StateBadName
	} else {
		parallel(2, func(i int) {
			if i == 0 {
				d.visit(ctx, root, nil, true)
			} else {
				// The SPF RR type (99) is obsolete (§3.1, §14.1).
				spfRR = r.Lookup(ctx, queryName(domain), dns.TypeSPF)
			}
		})
	}
	diag := &Diagnosis{Domain: domain, Root: root, Lookups: root.TotalLookups}
	switch root.State {
	case StateBadName:
		root.finding("spf-domain-invalid", SeverityError, "", fmt.Sprintf("%q is not a valid domain name", domain), "")
	case StateNotFound:
		root.finding("spf-domain-missing", SeverityError, "", domain+" does not exist (NXDOMAIN): receivers give none", "")
	case StateNoRecord:
		root.finding("spf-none", SeverityError, "", "no SPF record: receivers give none, and DMARC cannot pass through SPF", "publish a TXT record \"v=spf1 ... -all\" listing the hosts that send as this domain, or \"v=spf1 -all\" if none do")
	}
	walk(root, func(n *Node) { diag.VoidLookups += n.VoidLookups })

	switch {
	case diag.Lookups > MaxLookups:
		diag.add(Finding{Code: "spf-lookup-limit", Severity: SeverityError, Domain: domain,
			Message: fmt.Sprintf("%d DNS-querying terms, %d over the limit of %d: receivers that get that far stop with permerror (RFC 7208 §4.6.4)", diag.Lookups, diag.Lookups-MaxLookups, MaxLookups),
			Fix:     "remove includes you no longer use, replace a, mx and ptr by ip4/ip6, or flatten includes into ip4/ip6"})
	case diag.Lookups >= MaxLookups-2:
		diag.add(Finding{Code: "spf-lookup-limit-near", Severity: SeverityInfo, Domain: domain,
			Message: fmt.Sprintf("%d of %d DNS-querying terms: little room for one more include", diag.Lookups, MaxLookups)})
	}
	switch {
	case diag.VoidLookups > MaxVoidLookups:
		diag.add(Finding{Code: "spf-void-limit", Severity: SeverityError, Domain: domain,
			Message: fmt.Sprintf("%d lookups come back empty, over the limit of %d: receivers that get that far stop with permerror (RFC 7208 §4.6.4)", diag.VoidLookups, MaxVoidLookups),
			Fix:     "remove the terms that name domains without records"})
	case diag.VoidLookups > 0:
		empty := fmt.Sprintf("%d lookups come back empty", diag.VoidLookups)
		if diag.VoidLookups == 1 {
			empty = "1 lookup comes back empty"
		}
		diag.add(Finding{Code: "spf-void-lookups", Severity: SeverityWarning, Domain: domain,
			Message: fmt.Sprintf("%s (limit %d)", empty, MaxVoidLookups),
			Fix:     "remove the terms that name domains without records"})
	}
	if spfRR.Status == resolver.OK {
		diag.add(Finding{Code: "spf-rr-type", Severity: SeverityInfo, Domain: domain,
			Message: "records of the obsolete SPF RR type (99) are published; receivers read TXT only (RFC 7208 §3.1)",
			Fix:     "remove the SPF-type records, keep the TXT one"})
	}
	walk(root, func(n *Node) { diag.Findings = append(diag.Findings, n.Findings...) })
	return diag
}

func (d *Diagnosis) add(f Finding) { d.Findings = append(d.Findings, f) }

// OverLimit reports whether a receiver can stop with permerror because of
// the lookup or void-lookup limits.
func (d *Diagnosis) OverLimit() bool {
	return d.Lookups > MaxLookups || d.VoidLookups > MaxVoidLookups
}

func walk(n *Node, f func(*Node)) {
	f(n)
	for _, c := range n.Children {
		walk(c, f)
	}
}

type diagnoser struct {
	r     resolver.Resolver
	nodes atomic.Int64
}

// visit fills n: looks up its record, parses it, and visits its includes
// and redirect and probes its a, mx and exists terms, all at once. path
// holds the domains of n's ancestors; policy is true for the root and
// redirect targets, whose result is the result (not an include's).
func (d *diagnoser) visit(ctx context.Context, n *Node, path []string, policy bool) {
	if len(path) >= maxDepth || d.nodes.Add(1) > maxNodes {
		n.State = StateNotFollowed
		n.finding("spf-not-followed", SeverityInfo, "", "not followed: the tree is too deep or too large to diagnose", "")
		return
	}
	ans := d.r.Lookup(ctx, queryName(n.Domain), dns.TypeTXT)
	n.DNS = ans.Status
	if !ans.Status.Known() {
		n.State = StateUnknown
		n.Error = dnsError(n.Domain, dns.TypeTXT, ans).Error()
		n.selfFindings()
		return
	}
	for _, rr := range ans.Records {
		txt, ok := rr.(*dns.TXT)
		if !ok {
			continue
		}
		s := unescape(strings.Join(txt.Txt, ""))
		if IsSPF(s) {
			n.Records = append(n.Records, s)
			n.Strings = len(txt.Txt)
		}
	}
	switch {
	case ans.Status == resolver.NXDomain:
		n.State = StateNotFound
		return
	case len(n.Records) == 0:
		n.State = StateNoRecord
		return
	case len(n.Records) > 1:
		n.State = StateMultiple
		n.selfFindings()
		return
	}
	n.Record, n.Records = n.Records[0], nil
	n.Length = len(n.Record)
	n.Parsed, n.Errors = parse(n.Record)
	n.State = StateOK
	if len(n.Errors) > 0 {
		// Receivers stop at the syntax error; the valid terms are still
		// followed, so the user sees the rest of the tree.
		n.State = StateInvalid
	}
	rec := n.Parsed
	path = append(slices.Clone(path), strings.ToLower(n.Domain))

	var wg sync.WaitGroup
	var mu sync.Mutex // guards n.VoidLookups and probes
	probes := map[int][]Finding{}
	hasAll := rec.All() != nil
	for i := range rec.Terms {
		t := &rec.Terms[i]
		if !t.Lookup() || t.Name == "redirect" && hasAll {
			continue
		}
		n.Lookups++
		target, ok := staticTarget(t, n.Domain)
		switch t.Name {
		case "include", "redirect":
			child := &Node{Domain: target, Via: t.Raw}
			n.Children = append(n.Children, child)
			switch {
			case !ok:
				child.Domain, child.State = t.Value, StateMacro
			case !validDomain(target):
				child.State = StateBadName
			case slices.Contains(path, strings.ToLower(target)):
				child.State = StateLoop
			default:
				wg.Go(func() { d.visit(ctx, child, path, policy && t.Name == "redirect") })
			}
		case "a", "mx", "exists":
			if ok && validDNSName(target) {
				wg.Go(func() {
					void, f := d.probe(ctx, t, target)
					mu.Lock()
					defer mu.Unlock()
					if void {
						n.VoidLookups++
					}
					if f != nil {
						f.Domain = n.Domain
						probes[i] = append(probes[i], *f)
					}
				})
			}
		}
	}
	wg.Wait()
	for _, c := range n.Children {
		n.TotalLookups += c.TotalLookups
		if c.DNS == resolver.NXDomain || c.DNS == resolver.NoData {
			n.VoidLookups++ // the include's or redirect's own lookup was void
		}
	}
	n.TotalLookups += n.Lookups
	n.check(policy, probes)
}

// probe looks up what an a, mx or exists term would: void says it came
// back empty; a finding reports a failed lookup or too many MX names.
func (d *diagnoser) probe(ctx context.Context, t *Term, target string) (void bool, f *Finding) {
	q := queryName(target)
	var answers []resolver.Answer
	switch t.Name {
	case "a":
		// Receivers ask A or AAAA by the sender's family: void only if
		// neither exists.
		answers = make([]resolver.Answer, 2)
		parallel(2, func(i int) { answers[i] = d.r.Lookup(ctx, q, []uint16{dns.TypeA, dns.TypeAAAA}[i]) })
	case "mx":
		answers = []resolver.Answer{d.r.Lookup(ctx, q, dns.TypeMX)}
	case "exists":
		answers = []resolver.Answer{d.r.Lookup(ctx, q, dns.TypeA)}
	}
	void = true
	for _, a := range answers {
		if !a.Status.Known() {
			return false, &Finding{Code: "spf-dns-failure", Severity: SeverityUnknown, Term: t.Raw,
				Message: fmt.Sprintf("%s: the %s lookup of %s failed (%s): receivers that get that far give temperror", t.Raw, dns.TypeToString[a.Type], target, a.Status),
				Fix:     "check the domain's name servers"}
		}
		if a.Status == resolver.OK {
			void = false
		}
	}
	if void {
		what := map[string]string{"a": "no A or AAAA records", "mx": "no MX records", "exists": "no A records"}[t.Name]
		f = &Finding{Code: "spf-void-term", Severity: SeverityWarning, Term: t.Raw,
			Message: fmt.Sprintf("%s: %s has %s (%s): a void lookup", t.Raw, target, what, answers[0].Status),
			Fix:     "remove " + t.Raw + " or correct the domain"}
	}
	if t.Name == "mx" {
		hosts := 0
		for _, rr := range answers[0].Records {
			if mx, ok := rr.(*dns.MX); ok && mx.Mx != "." {
				hosts++
			}
		}
		if hosts > MaxNames {
			return void, &Finding{Code: "spf-mx-limit", Severity: SeverityError, Term: t.Raw,
				Message: fmt.Sprintf("%s has %d MX names, over the limit of %d: the mx term is a permerror (RFC 7208 §4.6.4)", target, hosts, MaxNames),
				Fix:     "list the mail servers' addresses with ip4/ip6 instead"}
		}
	}
	return void, f
}

func (n *Node) finding(code string, sev Severity, term, msg, fix string) {
	n.Findings = append(n.Findings, Finding{Code: code, Severity: sev, Domain: n.Domain, Term: term, Message: msg, Fix: fix})
}

// check adds the findings of a visited node's record, in term order;
// probes are the findings of its a, mx and exists lookups by term index.
func (n *Node) check(policy bool, probes map[int][]Finding) {
	rec := n.Parsed
	for _, e := range n.Errors {
		n.finding("spf-syntax", SeverityError, e.Term, e.Reason+"; receivers give permerror (RFC 7208 §4.6)", "")
	}
	hasAll := rec.All() != nil
	var all *Term
	seen := map[string]bool{}
	child := 0
	for i := range rec.Terms {
		t := &rec.Terms[i]
		if all != nil && t.Kind == Mechanism {
			n.finding("spf-after-all", SeverityWarning, t.Raw, fmt.Sprintf("%s comes after %q and is never evaluated", t.Raw, all.Raw), "move it before all, or remove it")
		}
		switch {
		case t.Kind == Mechanism && t.Name == "all":
			all = t
			switch {
			case t.Qualifier == QualifierPass && policy:
				n.finding("spf-pass-all", SeverityError, t.Raw, "+all lets every host on the internet send as this domain", "end the record with -all or ~all")
			case t.Qualifier == QualifierPass:
				n.finding("spf-pass-all", SeverityError, t.Raw, "+all in an included record lets every host on the internet pass for every domain that includes it", "end the record with -all or ~all")
			case t.Qualifier == QualifierNeutral && policy:
				n.finding("spf-neutral-all", SeverityWarning, t.Raw, "?all gives neutral for every host not listed: the record protects nothing", "end the record with -all or ~all")
			}
		case t.Kind == Mechanism && t.Name == "ptr":
			n.finding("spf-ptr", SeverityWarning, t.Raw, "ptr is slow, unreliable and SHOULD NOT be used (RFC 7208 §5.5); some receivers ignore it", "list the hosts' addresses with ip4/ip6 or a")
		case t.Kind == Mechanism && t.Name == "include":
			if key := strings.ToLower(strings.TrimSuffix(t.Value, ".")); seen[key] {
				n.finding("spf-duplicate-include", SeverityWarning, t.Raw, t.Raw+" appears twice; each costs lookups", "remove the second one")
			} else {
				seen[key] = true
			}
		case t.Kind == Modifier && t.Name == "redirect" && hasAll:
			n.finding("spf-redirect-ignored", SeverityWarning, t.Raw, t.Raw+" is ignored because the record has an all mechanism (RFC 7208 §6.1)", "remove the redirect or the all")
		case t.Kind == Modifier && t.Name == "default":
			n.finding("spf-deprecated", SeverityWarning, t.Raw, "default= is from drafts before RFC 4408 and is ignored; the result for unlisted hosts is neutral", "end the record with -all or ~all instead")
		case t.Kind == Modifier && t.Name != "redirect" && t.Name != "exp":
			n.finding("spf-unknown-modifier", SeverityInfo, t.Raw, "unknown modifier, ignored by receivers (RFC 7208 §6)", "")
		}
		if t.Lookup() && (t.Name == "include" || t.Name == "redirect" && !hasAll) {
			n.childFindings(t, n.Children[child])
			child++
		}
		n.Findings = append(n.Findings, probes[i]...)
	}
	if policy && !hasAll && rec.Redirect() == nil {
		n.finding("spf-no-all", SeverityWarning, "", "no all and no redirect: hosts not listed get neutral (RFC 7208 §4.7)", "end the record with -all or ~all")
	}
	if n.Length > 450 {
		n.finding("spf-length", SeverityWarning, "", fmt.Sprintf("the record is %d bytes: its DNS answer may not fit in 512 bytes of UDP (RFC 7208 §3.4)", n.Length), "shorten it, or move parts into an include")
	}
	if n.Strings > 1 {
		n.finding("spf-strings", SeverityInfo, "", fmt.Sprintf("the record is published as %d strings, which receivers join without spaces (RFC 7208 §3.3)", n.Strings), "make sure each string boundary falls where the joined text is meant")
	}
}

// childFindings reports on the record an include or redirect term leads
// to, when it could not be had. A child whose lookup failed or that has
// several records or syntax errors reports itself.
func (n *Node) childFindings(t *Term, c *Node) {
	section := "§5.2"
	if t.Name == "redirect" {
		section = "§6.1"
	}
	switch c.State {
	case StateNotFound:
		n.finding("spf-target-missing", SeverityError, t.Raw, fmt.Sprintf("%s does not exist: receivers that get that far give permerror (RFC 7208 %s)", c.Domain, section), "remove "+t.Raw+" or correct the domain")
	case StateNoRecord:
		n.finding("spf-target-no-record", SeverityError, t.Raw, fmt.Sprintf("%s has no SPF record: receivers that get that far give permerror (RFC 7208 %s)", c.Domain, section), "remove "+t.Raw+" or correct the domain")
	case StateBadName:
		n.finding("spf-target-invalid", SeverityError, t.Raw, fmt.Sprintf("%q is not a valid domain name: permerror (RFC 7208 §4.3)", c.Domain), "correct the domain")
	case StateLoop:
		n.finding("spf-loop", SeverityError, t.Raw, fmt.Sprintf("%s leads back to %s, which is already being evaluated: every evaluation that gets there runs past %d lookups and gives permerror", t.Raw, c.Domain, MaxLookups), "remove the loop")
	case StateMacro:
		n.finding("spf-macro-target", SeverityInfo, t.Raw, fmt.Sprintf("the target of %s depends on the message (macros %%{%s}): not followed, so its own lookups are not counted", t.Raw, t.spec.letters()), "")
	}
}

// selfFindings reports a node's lookup failure or its several records.
func (n *Node) selfFindings() {
	switch n.State {
	case StateUnknown:
		n.finding("spf-dns-failure", SeverityUnknown, n.Via, fmt.Sprintf("the TXT lookup of %s failed (%s): receivers that get that far give temperror, and whether the record exists is unknown", n.Domain, n.DNS), "check the domain's name servers")
	case StateMultiple:
		n.finding("spf-multiple", SeverityError, n.Via, fmt.Sprintf("%d SPF records: receivers give permerror (RFC 7208 §4.5)", len(n.Records)), "merge them into one record")
	}
}

// staticTarget returns the domain a term acts on when it is known without
// a message: no domain-spec, or one whose only macro is %{d}.
func staticTarget(t *Term, domain string) (string, bool) {
	if t.spec == nil {
		return domain, true
	}
	if l := t.spec.letters(); l != "" && l != "d" {
		return "", false
	}
	s, err := t.spec.expand(staticEnv(domain))
	if err != nil {
		return "", false
	}
	return truncateName(strings.TrimSuffix(s, ".")), true
}

type staticEnv string

func (e staticEnv) macroValue(l byte) (string, error) {
	if l == 'd' {
		return string(e), nil
	}
	return "", fmt.Errorf("spf: macro %%{%c} needs a message", l)
}
