// Command genlog writes a simulated Postfix log of an Apple/Proofpoint
// deferral incident (see package samplelog): the shipped sample and the
// benchmark input.
//
//	go run ./cmd/genlog | gzip -9 > examples/incident-postfix.log.gz
//	go run ./cmd/genlog -scale 25 -o /tmp/mail.log
//	go run ./cmd/genlog -scale 20 -pflogsumm-readable -o /tmp/mail-pf.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mailtriage/mailtriage/samplelog"
)

func main() {
	cfg := samplelog.Default()
	out := flag.String("o", "-", "output file (- for standard output)")
	flag.Float64Var(&cfg.Scale, "scale", cfg.Scale, "volume multiplier (1 is the shipped sample, about 6,600 messages)")
	flag.IntVar(&cfg.Days, "days", cfg.Days, "days to simulate")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	flag.BoolVar(&cfg.Traditional, "traditional", false, "write traditional syslog stamps (Nov 26 00:00:04) instead of RFC 3339")
	flag.BoolVar(&cfg.PflogsummReadable, "pflogsumm-readable", false, "no tls= field (Postfix before 3.11) and one syslog name: a log pflogsumm 1.1.5 reads in full")
	start := flag.String("start", cfg.Start.Format(time.RFC3339), "first second of the log (RFC 3339)")
	flag.Parse()
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genlog: -start: %v\n", err)
		os.Exit(2)
	}
	cfg.Start = t.UTC()
	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "genlog: %v\n", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := samplelog.Generate(bw, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "genlog: %v\n", err)
		os.Exit(1)
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "genlog: %v\n", err)
		os.Exit(1)
	}
}
