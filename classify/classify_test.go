package classify

import (
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/smtpreply"
)

func newClassifier(t testing.TB) *Classifier {
	t.Helper()
	cat, err := provider.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExamples checks that every example of every rule is decided by that
// rule: the rule files' examples are their tests, and rule order matters.
func TestExamples(t *testing.T) {
	c := newClassifier(t)
	n := 0
	for _, r := range c.Rules() {
		if len(r.Examples) == 0 {
			t.Errorf("%s: rule %s has no example", r.file, r.ID)
		}
		for _, ex := range r.Examples {
			v := c.Classify(r.example(ex))
			if v.Rule != r.ID {
				t.Errorf("%s: example of rule %s decided by %s: %q", r.file, r.ID, v.Rule, ex)
			}
			n++
		}
	}
	t.Logf("%d rules, %d examples", len(c.Rules()), n)
}

func TestAppleBehindProofpoint(t *testing.T) {
	c := newClassifier(t)
	d := smtpreply.ParseDetail("host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup (in reply to MAIL FROM command)")
	v := c.Classify(d)
	want := mailtriage.Verdict{Class: mailtriage.Temporary, Reason: "badreputation", Category: "throttling",
		Provider: "apple", Filter: "proofpoint", Owner: mailtriage.OwnerESP, Rule: "proofpoint-pdr-deferral"}
	if v.Class != want.Class || v.Reason != want.Reason || v.Category != want.Category || v.Provider != want.Provider ||
		v.Filter != want.Filter || v.Owner != want.Owner || v.Rule != want.Rule {
		t.Errorf("got %+v\nwant %+v", v, want)
	}
	// Behind a business domain's Proofpoint MX, the provider is Proofpoint.
	d.Host = "mx0a-00123456.pphosted.com"
	if v := c.Classify(d); v.Provider != "proofpoint" || v.Filter != "proofpoint" {
		t.Errorf("pphosted: provider %q filter %q", v.Provider, v.Filter)
	}
}

func TestClassFromCode(t *testing.T) {
	c := newClassifier(t)
	for _, tt := range []struct {
		reply string
		want  mailtriage.Class
	}{
		{"421 4.7.0 Try again later, closing connection.", mailtriage.Temporary},
		{"550 5.7.1 Delivery not authorized, message refused", mailtriage.Permanent},
		{"250 2.0.0 OK", mailtriage.Success},
		{"Connection timed out", mailtriage.Temporary},
	} {
		if v := c.ClassifyReply(smtpreply.Parse(tt.reply), ""); v.Class != tt.want {
			t.Errorf("%q: class %q, want %q", tt.reply, v.Class, tt.want)
		}
	}
}

func TestUserRulesFirst(t *testing.T) {
	cat, _ := provider.Builtin()
	user, err := ParseRules("mine.toml", []byte(`
[[rule]]
id = "my-greylist-is-a-block"
codes = [450]
text = ["greylisted"]
class = "permanent"
reason = "blocked"
category = "block"
owner = "recipient"
action = "Our partner's greylisting never clears; call them."
examples = ["450 4.2.0 Greylisted"]
`), cat)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cat, user)
	if err != nil {
		t.Fatal(err)
	}
	if v := c.ClassifyReply(smtpreply.Parse("450 4.2.0 Greylisted for 5 minutes"), ""); v.Rule != "my-greylist-is-a-block" || v.Class != mailtriage.Permanent {
		t.Errorf("got %+v", v)
	}
}

func TestBadRuleFiles(t *testing.T) {
	cat, _ := provider.Builtin()
	for name, src := range map[string]string{
		"no id":        `[[rule]]` + "\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"sender\"\naction=\"x\"",
		"bad reason":   `[[rule]]` + "\nid=\"a\"\nreason=\"nope\"\ncategory=\"block\"\nowner=\"sender\"\naction=\"x\"",
		"bad category": `[[rule]]` + "\nid=\"a\"\nreason=\"blocked\"\ncategory=\"nope\"\nowner=\"sender\"\naction=\"x\"",
		"bad owner":    `[[rule]]` + "\nid=\"a\"\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"me\"\naction=\"x\"",
		"bad regex":    `[[rule]]` + "\nid=\"a\"\nregex=\"(\"\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"sender\"\naction=\"x\"",
		"bad enhanced": `[[rule]]` + "\nid=\"a\"\nenhanced=[\"5.x\"]\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"sender\"\naction=\"x\"",
		"unknown key":  `[[rule]]` + "\nid=\"a\"\ncolour=\"red\"\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"sender\"\naction=\"x\"",
		"bad provider": `[[rule]]` + "\nid=\"a\"\nprovider=\"acme\"\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"sender\"\naction=\"x\"",
		"not toml":     `[[rule`,
	} {
		if _, err := ParseRules("x.toml", []byte(src), cat); err == nil {
			t.Errorf("%s: ParseRules succeeded", name)
		}
	}
}

// TestDuplicateRuleIDs: a rule id used twice in the user's files, or by
// a user's rule and a built-in one, is refused with both places named.
func TestDuplicateRuleIDs(t *testing.T) {
	cat, _ := provider.Builtin()
	rule := func(file, id string) []*Rule {
		rs, err := ParseRules(file, []byte("[[rule]]\nid=\""+id+"\"\ntext=[\"greylisted\"]\nreason=\"blocked\"\ncategory=\"block\"\nowner=\"recipient\"\naction=\"x\"\nexamples=[\"450 greylisted\"]"), cat)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	for _, tc := range []struct {
		user []*Rule
		want string
	}{
		{append(rule("a.toml", "mine"), rule("b.toml", "mine")...), "rule id mine is in both a.toml and b.toml"},
		{rule("a.toml", "cox-ip-blocked"), "rule id cox-ip-blocked of a.toml is a built-in rule's (in 30-cox.toml)"},
	} {
		if _, err := New(cat, tc.user); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New: %v, want %q", err, tc.want)
		}
	}
}

// TestUserRuleExamples: a user's rule must decide its own examples, as
// the built-in rules are tested to.
func TestUserRuleExamples(t *testing.T) {
	cat, _ := provider.Builtin()
	user, err := ParseRules("mine.toml", []byte(`
[[rule]]
id = "my-greylist"
text = ["greylisted"]
reason = "blocked"
category = "block"
owner = "recipient"
action = "x"
examples = ["450 4.2.0 Greylisted", "450 4.7.1 Try again later"]
`), cat)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cat, user)
	if err == nil || !strings.Contains(err.Error(), `mine.toml: rule my-greylist does not decide its example "450 4.7.1 Try again later"`) {
		t.Errorf("New: %v", err)
	}
}

func BenchmarkClassify(b *testing.B) {
	c := newClassifier(b)
	d := smtpreply.ParseDetail("host mx01.mail.icloud.com[17.57.154.6] said: 550 5.1.1 <nobody@me.com>: user does not exist (in reply to RCPT TO command)")
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(d)
	}
}

func TestExplainTimeout(t *testing.T) {
	c := newClassifier(t)
	x := c.Explain("554 5.4.7 [internal] message timeout (exceeded max time, last transfail: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup)", "")
	// The timeout is the sender's own MTA giving up: no receiver named.
	if x.Verdict.Reason != "expired" || x.Verdict.Provider != "" || x.Verdict.Filter != "" {
		t.Errorf("timeout verdict %+v", x.Verdict)
	}
	if x.Cause == nil || x.Cause.Rule != "proofpoint-pdr-deferral" || x.Cause.Class != mailtriage.Temporary {
		t.Errorf("cause %+v", x.Cause)
	}
}

// BenchmarkClassifyProse classifies a prose bounce's long diagnostic, where
// the byte-pair filter saves most substring searches.
func BenchmarkClassifyProse(b *testing.B) {
	c := newClassifier(b)
	d := smtpreply.ParseDetail(strings.Repeat("This message was created automatically by mail delivery software. ", 6) +
		"550 The recipient name is not recognized MSEXCH:IMS:NNN:KIJITORACAT:NEKO 0 (000C05A6) Unknown Recipient")
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(d)
	}
}

// TestLocalStatus: the MTA's own failure texts carry no code; the
// enhanced status it logged for the attempt (Postfix's dsn=, RFC 3463)
// decides their reason and class, and a server's own code outranks it.
func TestLocalStatus(t *testing.T) {
	c := NewCache(newClassifier(t), 100)
	local := func(text, dsn string) smtpreply.Detail {
		return smtpreply.Detail{Kind: smtpreply.Local, Text: text, Reply: smtpreply.Reply{Text: text}, DSN: dsn}
	}
	for _, tc := range []struct {
		d      smtpreply.Detail
		class  mailtriage.Class
		reason string
	}{
		// global/mail_addr_find.c, trivial-rewrite: the virtual alias map
		// has no entry for the address.
		{local("User unknown in virtual alias table", "5.1.1"), mailtriage.Permanent, "userunknown"},
		// local(8) with soft_bounce: the same words, a temporary status.
		{local(`unknown user: "jane"`, "4.1.1"), mailtriage.Temporary, "userunknown"},
		{local(`unknown user: "jane"`, "5.1.1"), mailtriage.Permanent, "userunknown"},
		// Postfix before 2.3 logs no dsn=: the words give the reason
		// (cs.tcd.ie's 2006 log: status=bounced (unknown user:
		// "jean-marc.seigneur")), and with no code the class stays
		// temporary.
		{local(`unknown user: "jane"`, ""), mailtriage.Temporary, "userunknown"},
		{local("mail forwarding loop for gap@cs.tcd.ie", "5.4.6"), mailtriage.Permanent, "networkerror"},
		// A server's reply keeps its own code: Postfix's 5.0.0 adds nothing.
		{smtpreply.ParseDetail("host mx.example.org[192.0.2.1] said: 550 Recipient unknown (in reply to RCPT TO command)"), mailtriage.Permanent, ""},
	} {
		if tc.d.Kind == smtpreply.Said {
			tc.d.DSN = "5.0.0"
		}
		v := c.Classify(tc.d)
		if v.Class != tc.class || tc.reason != "" && v.Reason != tc.reason {
			t.Errorf("%q dsn=%s: %s %s (rule %s), want %s %s", tc.d.Text, tc.d.DSN, v.Class, v.Reason, v.Rule, tc.class, tc.reason)
		}
	}
}
