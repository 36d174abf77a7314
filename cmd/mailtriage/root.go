package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/mailtriage/mailtriage/report"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes, the same for every command.
const (
	exitOK       = 0 // done, nothing wrong found
	exitError    = 1 // an error stopped the command, or an input could not be read
	exitUsage    = 2 // wrong usage
	exitProblems = 3 // done, and it found problems
)

// exitError carries an exit code out of a command.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *codeError) Unwrap() error { return e.err }

// usageError marks a mistake in the command line. cmd is the command whose
// help to point at, "" for the root.
type usageError struct {
	err error
	cmd string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// env is what every command gets from main: its streams and settings.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	verbose        bool
	log            *slog.Logger
	cpuProfile     string
	memProfile     string
	stopProfile    func()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// textOptions shape a text report: written to standard output (toStdout)
// on a terminal, in colour (see useColor) and as wide as the terminal;
// otherwise plain and 100 columns wide.
func textOptions(e *env, toStdout bool) report.Options {
	if !toStdout {
		return report.Options{}
	}
	o := report.Options{Color: useColor(e.stdout)}
	if f, ok := e.stdout.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			// Narrower than 60 columns the tables break anyway; wider
			// than 200, lines get too long to read.
			o.Width = min(max(w, 60), 200)
		}
	}
	return o
}

// useColor reports whether to write colours to w: a terminal, unless the
// user asked for none (noColor).
func useColor(w io.Writer) bool {
	return !noColor() && isTerminal(w)
}

// noColor follows the NO_COLOR convention (https://no-color.org): set to
// any non-empty value, it turns colours off; set but empty, it does not.
func noColor() bool { return os.Getenv("NO_COLOR") != "" }

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "mailtriage",
		Short: "Diagnose email delivery problems from your own logs and DNS",
		Long: `mailtriage reads your MTA's delivery logs and tells you, per recipient lane and
hour, what is happening: who is answering, what each reply means, which
messages timed out and why, and what to do first.

Exit status: 0 done and nothing wrong found; 1 an error stopped the command or
an input could not be read (the others were still processed); 2 wrong usage;
3 done, and it found problems.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.PersistentFlags().BoolVarP(&e.verbose, "verbose", "v", false, "log more on standard error")
	root.PersistentFlags().StringVar(&e.cpuProfile, "cpuprofile", "", "write a CPU profile to this file (for developers)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&e.memProfile, "memprofile", "", "write an allocation profile to this file at the end (for developers)")
	root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		level := slog.LevelWarn
		if e.verbose {
			level = slog.LevelDebug
		}
		e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
		if e.cpuProfile != "" {
			f, err := os.Create(e.cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			e.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		}
		return nil
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err: err, cmd: cmd.CommandPath()}
	})
	root.AddCommand(newAnalyze(e), newClassify(e), newCheck(e), newSPF(e), newBlocklist(e), newPlan(e), newEvidence(e), newBounce(e), newDMARC(e), newVerify(e), newVersion(e))
	return root
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler)}
	root := newRoot(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if e.stopProfile != nil {
		e.stopProfile()
	}
	if e.memProfile != "" {
		if err := writeHeapProfile(e.memProfile); err != nil {
			e.log.Error("memory profile", "err", err)
		}
	}
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintf(stderr, "mailtriage: %v\n", ce.err)
		}
		return ce.code
	}
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		help := "mailtriage"
		if ue != nil && ue.cmd != "" {
			help = ue.cmd
		} else if c, _, ferr := root.Find(args); ferr == nil && c != nil {
			help = c.CommandPath()
		}
		fmt.Fprintf(stderr, "mailtriage: %v\nRun '%s --help' for usage.\n", err, help)
		return exitUsage
	}
	fmt.Fprintf(stderr, "mailtriage: %v\n", err)
	return exitError
}

// isCobraUsage recognises cobra's own usage errors (unknown command,
// wrong number of arguments), which it returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// writeHeapProfile writes the allocations of the whole run (go tool pprof
// -sample_index=alloc_space shows where they came from).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	// The profile counts what was allocated up to the last collection,
	// and a run may end long after it.
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
