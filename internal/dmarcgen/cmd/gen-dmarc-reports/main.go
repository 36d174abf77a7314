// Command gen-dmarc-reports writes realistic DMARC aggregate reports into a
// folder, for the import benchmark:
//
//	go run ./internal/dmarcgen/cmd/gen-dmarc-reports -n 10000 -out DIR
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/mailtriage/mailtriage/internal/dmarcgen"
)

func main() {
	n := flag.Int("n", 10000, "number of reports")
	out := flag.String("out", "", "folder to write them to (created if needed)")
	seed := flag.Int64("seed", 1, "random seed; the same seed writes the same reports")
	flag.Parse()
	if *out == "" || *n < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gen-dmarc-reports [-n 10000] [-seed 1] -out DIR")
		os.Exit(2)
	}
	start := time.Now()
	if err := dmarcgen.Write(*out, *n, *seed); err != nil {
		slog.Error("writing reports", "err", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d reports to %s in %v\n", *n, *out, time.Since(start).Round(time.Millisecond))
}
