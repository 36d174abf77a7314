package main

import (
	"bytes"
	"fmt"

	"github.com/mailtriage/mailtriage/bouncescan"
	"github.com/mailtriage/mailtriage/report"
	"github.com/spf13/cobra"
)

type bounceOptions struct {
	format   string
	rulesDir string
	workers  int
}

func newBounce(e *env) *cobra.Command {
	o := &bounceOptions{}
	cmd := &cobra.Command{
		Use:   "bounce FILE|DIR|-...",
		Short: "Read bounce messages: per recipient, the status, reply, reason and who answered",
		Long: `bounce reads returned messages: delivery status notifications (RFC 3464),
the plain-text bounces of Exim, qmail, Sendmail, Exchange and mailbox
providers, feedback reports (ARF, RFC 5965: reason "feedback") and automatic
replies (RFC 3834: reason "vacation"). It takes message files (.eml), mbox
files, Maildir folders and folders of them, or one message or mbox on
standard input ("-"); CRLF, LF and CR line endings alike; a file plain or
compressed with gzip, zstd or bzip2.

For each recipient a report names, it prints the status code, the reply
code, the reason (Sisimai's names), the class (permanent or temporary), who
answered and the diagnostic. Messages that are not reports, and reports that
name no recoverable recipient, are counted and listed on standard error;
the rest are still read.

Exit status: 0 done; 1 an input could not be read, or no report was found; 2
wrong usage.`,
		Example: `  mailtriage bounce ~/Maildir/.Bounces
  mailtriage bounce --format json bounces.mbox > bounces.json
  mailtriage bounce returned.eml
  cat returned.eml | mailtriage bounce -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("bounce takes the message files, mbox files or folders (Maildir) to read, or - for standard input")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBounce(cmd, e, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text or json (an array, one object per recipient)")
	f.StringVar(&o.rulesDir, "rules", "", "directory of TOML rule files, tried before the built-in rules")
	f.IntVar(&o.workers, "workers", 0, "messages parsed at once (default: one per CPU)")
	return cmd
}

func runBounce(cmd *cobra.Command, e *env, o *bounceOptions, args []string) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	for _, a := range args {
		if a == "-" && isTerminal(e.stdin) {
			return usagef("'-' reads a message from standard input, which is a terminal")
		}
	}
	// Each message is parsed into short-lived garbage while the live heap
	// stays small (the records): collecting a sixteenth as often saves a
	// quarter of the run.
	collectLess(1600)
	sc := &bouncescan.Scanner{Workers: o.workers, NewClassifier: func() (bouncescan.Classifier, error) {
		return builtinClassifier(o.rulesDir)
	}}
	if isTerminal(e.stderr) {
		p := newProgress(e.stderr)
		sc.Progress = func(n int) { p.count("reading messages", n) }
		defer p.done()
	}
	res, err := sc.Scan(cmd.Context(), args, e.stdin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if o.format == "json" {
		err = report.BounceJSON(&buf, res)
	} else {
		err = report.BounceText(&buf, res, textOptions(e, true))
	}
	if err != nil {
		return fmt.Errorf("rendering: %w", err)
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	return bounceSkipped(e, res)
}

// bounceSkipped lists on standard error what gave no record, and turns
// unreadable inputs, or nothing found at all, into exit status 1.
func bounceSkipped(e *env, res *bouncescan.Result) error {
	list := func(one, many string, s []bouncescan.Skipped) {
		if len(s) == 0 {
			return
		}
		what := many
		if len(s) == 1 {
			what = one
		}
		fmt.Fprintf(e.stderr, "mailtriage: %d %s:\n", len(s), what)
		for i, k := range s {
			if i == 10 {
				fmt.Fprintf(e.stderr, "  ... and %d more\n", len(s)-i)
				break
			}
			fmt.Fprintf(e.stderr, "  %s: %s\n", k.File, k.Why)
		}
	}
	list("message is not a bounce, feedback report or automatic reply", "messages are not bounces, feedback reports or automatic replies", res.NotReports)
	list("report names no recipient that could be recovered", "reports name no recipient that could be recovered", res.NoRecipient)
	list("input could not be read", "inputs could not be read", res.Unreadable)
	switch {
	case len(res.Unreadable) > 0:
		return &codeError{code: exitError}
	case len(res.Records) == 0:
		return &codeError{code: exitError, err: fmt.Errorf("no bounce report found in %s", report.Plural(int64(res.Messages), "message"))}
	}
	return nil
}
