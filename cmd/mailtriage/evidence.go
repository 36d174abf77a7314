package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailtriage/mailtriage/check"
	"github.com/mailtriage/mailtriage/evidence"
	"github.com/mailtriage/mailtriage/internal/outfile"
	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/report"
	"github.com/spf13/cobra"
)

type evidenceOptions struct {
	analysis   string
	domain     string
	ips        []string
	selectors  []string
	actions    string
	recipients bool
	format     string
	out        string
	dns        dnsOptions
	lists      listOptions
}

func newEvidence(e *env) *cobra.Command {
	o := &evidenceOptions{}
	cmd := &cobra.Command{
		Use:   "evidence [FILE...]",
		Short: "Evidence pack for your ESP or the filter's operator: the incident, exact replies, samples, authentication",
		Long: `evidence reads the delivery logs (or a saved analysis, --analysis) and writes the
pack an ESP or a filter's operator (Proofpoint, say) asks for: the time window
and its zone, what happened per lane, the first deferral the filter gave, the
sending addresses, hosts and envelope-sender domains, the DKIM selectors, the
exact replies with their counts, sample messages with their retries and final
timeout, and the clean-up done so far (--actions FILE, one a line).

--check DOMAIN adds a live authentication and blocklist check of the domain
and the --ip addresses, made there and then (see mailtriage check).

Recipient addresses are left out unless --include-recipients, and the pack
says which.

Exit status: 0 written; 1 an input could not be read, or --check could make
no check (the DNS did not answer; the pack is still written); 2 wrong usage.`,
		Example: `  mailtriage evidence mail.log > evidence.md
  mailtriage evidence --check example.com --ip 198.51.100.21 --selector s1 --actions done.txt --format html --out evidence.html mail.log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEvidence(cmd, e, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.analysis, "analysis", "", "a saved analysis (analyze --format json) instead of log files")
	f.StringVar(&o.domain, "check", "", "check this sending domain's authentication and blocklists now, for the pack")
	f.StringSliceVar(&o.ips, "ip", nil, "sending addresses (the logs do not carry them), repeatable")
	f.StringSliceVar(&o.selectors, "selector", nil, "the DKIM selectors the mail is signed with, repeatable")
	f.StringVar(&o.actions, "actions", "", "file of the clean-up actions taken so far, one a line")
	f.BoolVar(&o.recipients, "include-recipients", false, "put recipient addresses in the sample messages")
	f.StringVar(&o.format, "format", "markdown", "output format: markdown, html or json")
	f.StringVar(&o.out, "out", "", "write the pack to this file instead of standard output")
	addDNSFlags(f, &o.dns)
	addListFlags(f, &o.lists)
	return cmd
}

func runEvidence(cmd *cobra.Command, e *env, o *evidenceOptions, args []string) error {
	switch {
	case o.format != "markdown" && o.format != "html" && o.format != "json":
		return usagef("--format %q: want markdown, html or json", o.format)
	case o.analysis != "" && len(args) > 0:
		return usagef("give log files or --analysis, not both")
	}
	ips, err := parseIPs(o.ips)
	if err != nil {
		return err
	}
	for _, s := range o.selectors {
		if err := selectorOK(s); err != nil {
			return err
		}
	}
	if o.domain != "" {
		if _, _, err := check.Domain(o.domain); err != nil {
			return usagef("--check: %v", err)
		}
	}
	actions, err := readActions(o.actions)
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := checkOutNotInput(o.out, args); err != nil {
			return err
		}
		if err := checkWritable(o.out); err != nil {
			return err
		}
	}
	cat, lanes, err := catalogAndLanes("")
	if err != nil {
		return err
	}
	res, err := planInput(cmd, e, &planOptions{analysis: o.analysis}, args, cat, lanes)
	if err != nil {
		return err
	}
	opts := evidence.Options{IncludeRecipients: o.recipients, Selectors: o.selectors, Actions: actions, Now: time.Now()}
	for _, ip := range ips {
		opts.IPs = append(opts.IPs, ip.String())
	}
	if o.domain != "" {
		// The pack names the addresses the logs and replies carry too: a
		// listing of any of them belongs in it.
		var all []netip.Addr
		for _, s := range evidence.SendingIPs(res, opts.IPs) {
			if ip, err := netip.ParseAddr(s); err == nil && mailhost.Public(ip.Unmap()) {
				all = append(all, ip.Unmap())
			}
		}
		if opts.Check, err = evidenceCheck(cmd, e, o, all); err != nil {
			return err
		}
	}
	pack := evidence.Build(res, opts)
	var buf bytes.Buffer
	switch o.format {
	case "json":
		err = report.EvidenceJSON(&buf, pack)
	case "html":
		err = report.EvidenceHTML(&buf, pack)
	default:
		err = report.EvidenceMarkdown(&buf, pack)
	}
	if err != nil {
		return fmt.Errorf("rendering the pack: %w", err)
	}
	if o.out != "" {
		err = outfile.Write(o.out, buf.Bytes())
	} else {
		_, err = e.stdout.Write(buf.Bytes())
	}
	if err != nil {
		return err
	}
	if opts.Check != nil && opts.Check.Coverage.Made == 0 {
		// The pack is written, but its authentication section holds no
		// answer: say so, rather than let it pass for a checked one.
		return &codeError{code: exitError, err: fmt.Errorf("evidence --check %s: no check could be made; the DNS (%s) did not answer (the pack is written, its authentication section says what failed)", opts.Check.Domain, o.dns.describe())}
	}
	return nil
}

// evidenceCheck runs the domain check of --check, with blocklists.
func evidenceCheck(cmd *cobra.Command, e *env, o *evidenceOptions, ips []netip.Addr) (*check.Report, error) {
	lists, err := o.lists.catalogue()
	if err != nil {
		return nil, err
	}
	var queries atomic.Int64
	r, err := o.dns.resolverFor(e, &queries)
	if err != nil {
		return nil, err
	}
	rep, err := check.Run(cmd.Context(), check.Options{Domain: o.domain, IPs: ips, Selectors: o.selectors, Resolver: r,
		Offline: o.dns.offline, Blocklists: lists, BlocklistPerZone: o.lists.perZone})
	if err != nil {
		return nil, usagef("--check: %v", err)
	}
	return rep, nil
}

// readActions reads the clean-up actions, one a line.
func readActions(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("--actions: %w", err)}
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, strings.TrimLeft(line, "-* "))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("--actions %s: %w", path, err)}
	}
	return out, nil
}
