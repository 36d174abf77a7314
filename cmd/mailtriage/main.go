// Command mailtriage diagnoses email delivery problems from an
// organisation's own delivery logs and DNS. This package only wires the
// packages that do the work to the command line.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	// The first ^C asks the command to stop and report what it has; once
	// it is seen, signals go back to their defaults, so a second ^C ends a
	// command that waits on its input.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
