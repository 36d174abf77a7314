package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/spf13/cobra"
)

type classifyOptions struct {
	format   string
	host     string
	rulesDir string
}

// classification is one reply's verdict as the classify command prints it.
type classification struct {
	Input   string             `json:"input"`
	Reply   smtpreply.Reply    `json:"reply"`
	Host    string             `json:"host,omitempty"`
	Command string             `json:"command,omitempty"`
	Verdict mailtriage.Verdict `json:"verdict"`
	// Cause is the verdict on the reply a timeout wraps ("last transfail").
	Cause *mailtriage.Verdict `json:"cause,omitempty"`
}

func newClassify(e *env) *cobra.Command {
	o := &classifyOptions{}
	cmd := &cobra.Command{
		Use:   "classify [REPLY...]",
		Short: "Say what an SMTP reply means: class, reason, provider, filter, action, owner",
		Long: `classify reads SMTP replies (as arguments, or one per line on standard input)
and prints what each means: temporary or permanent, the reason (Sisimai's
names), who answered (provider and filter), what to do first and who owns
the fix, with the rule that decided and a reference.

A reply may be given bare ("421 4.7.0 ...") or as Postfix logs it
("host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 ... (in reply to
MAIL FROM command)"); the host then identifies the provider. A queue timeout
that quotes its last transfer failure is classified twice: the timeout, and
the cause. Standard input is read one reply a line; a line that opens with
"(", or follows one whose parenthesis is still open, goes on the reply
before it, so a report folded over lines (as ESPs and articles show a
queue timeout) is read whole.

Exit status: 0 every input was classified (whatever the verdicts: a
permanent failure is an answer, not an error); 1 an input is not an SMTP
reply (no reply code, and no rule recognises the text), or standard input
could not be read; 2 wrong usage.`,
		Example: `  mailtriage classify "421 4.7.0 Deferred - see Proofpoint DNSBL lookup" --host mx01.mail.icloud.com
  mailtriage classify "554 5.4.7 [internal] message timeout (exceeded max time, last transfail: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup)"
  grep -ao 'host [^ ]* said: .*' mail.log | sed 's/))$/)/' | mailtriage classify --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClassify(e, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text or json (one object per line)")
	f.StringVar(&o.host, "host", "", "the remote host that sent the replies, to identify the provider")
	f.StringVar(&o.rulesDir, "rules", "", "directory of TOML rule files, tried before the built-in rules")
	return cmd
}

func runClassify(e *env, o *classifyOptions, args []string) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	cl, err := builtinClassifier(o.rulesDir)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(e.stdout)
	var notReplies []string
	emit := func(text string) error {
		c := classifyOne(cl, text, o.host)
		if c.Verdict.Rule == classify.Unclassified && c.Reply.Code == 0 && c.Reply.Enhanced == "" {
			notReplies = append(notReplies, text)
		}
		if o.format == "json" {
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			_, err = out.Write(append(b, '\n'))
			return err
		}
		writeClassification(out, c)
		return nil
	}
	err = classifyAll(e, args, emit)
	// What was classified is written even if the input broke off.
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("writing the results: %w", ferr)
	}
	if err != nil {
		return err
	}
	return notRepliesError(notReplies)
}

// classifyAll feeds the replies, from the arguments or one per line of
// standard input, to emit.
func classifyAll(e *env, args []string, emit func(string) error) error {
	if len(args) > 0 {
		for _, a := range args {
			if strings.TrimSpace(a) == "" {
				return usagef("an empty reply: give the text of an SMTP reply")
			}
		}
		for _, a := range args {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	}
	if isTerminal(e.stdin) {
		return usagef("give a reply as an argument, or replies on standard input; see 'mailtriage classify --help'")
	}
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	var reply string // the reply being read, over one line or more
	flush := func() error {
		if reply == "" {
			return nil
		}
		n++
		r := reply
		reply = ""
		return emit(r)
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if reply != "" && !continues(reply, line) {
			if err := flush(); err != nil {
				return err
			}
		}
		reply = strings.TrimSpace(reply + " " + line)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading standard input after %d replies: %w", n, err)
	}
	return flush()
}

// continues says whether line goes on the reply read so far rather than
// starting another: a report folded over lines, as ESPs and articles show
// a queue timeout ("554 5.4.7 [internal] message timeout" / "(exceeded max
// time, last transfail:" / "421 4.7.0 Deferred ...)"), opens its
// parenthesis on a new line or leaves it open to the next.
func continues(reply, line string) bool {
	return strings.HasPrefix(line, "(") || strings.Count(reply, "(") > strings.Count(reply, ")")
}

// notRepliesError reports inputs that carry no reply code and that no rule
// recognised: most likely not SMTP replies at all. It names the first.
func notRepliesError(inputs []string) error {
	if len(inputs) == 0 {
		return nil
	}
	first := inputs[0]
	if len(first) > 60 {
		first = first[:60] + "..."
	}
	what := fmt.Sprintf("%d inputs are", len(inputs))
	if len(inputs) == 1 {
		what = "1 input is"
	}
	return &codeError{code: exitError, err: fmt.Errorf("%s not an SMTP reply (no reply code) and no rule recognises the text: %q", what, first)}
}

func classifyOne(cl *classify.Classifier, text, host string) classification {
	x := cl.Explain(text, host)
	return classification{Input: text, Reply: x.Detail.Reply, Host: x.Detail.Host, Command: x.Detail.Command, Verdict: x.Verdict, Cause: x.Cause}
}

func writeClassification(w io.Writer, c classification) {
	v := c.Verdict
	fmt.Fprintf(w, "%s\n", c.Input)
	fmt.Fprintf(w, "  class     %s\n  reason    %s (%s)\n", v.Class, v.Reason, v.Category)
	if v.Provider != "" || v.Filter != "" {
		fmt.Fprintf(w, "  who       %s\n", who(v.Provider, v.Filter))
	}
	fmt.Fprintf(w, "  action    %s\n  owner     %s\n  rule      %s\n", v.Action, v.Owner, v.Rule)
	if v.Ref != "" {
		fmt.Fprintf(w, "  see       %s\n", v.Ref)
	}
	if c.Cause != nil {
		cv := c.Cause
		fmt.Fprintf(w, "  cause     %s: %s, %s (%s), %s, rule %s\n", c.Reply.Inner.String(), cv.Class, cv.Reason, cv.Category, who(cv.Provider, cv.Filter), cv.Rule)
		fmt.Fprintf(w, "            %s\n", cv.Action)
	}
	fmt.Fprintln(w)
}

func who(provider, filter string) string {
	if w := mailtriage.Who(provider, filter); w != "" {
		return w
	}
	return "unknown"
}
