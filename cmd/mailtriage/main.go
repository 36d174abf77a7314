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
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
