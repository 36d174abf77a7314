package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailtriage/mailtriage/blocklist"
	"github.com/mailtriage/mailtriage/check"
	"github.com/mailtriage/mailtriage/internal/outfile"
	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/report"
	"github.com/spf13/cobra"
)

type checkOptions struct {
	dns          dnsOptions
	lists        listOptions
	noBlocklists bool
	ips          []string
	helo         string
	selectors    []string
	probe        bool
	timeout      time.Duration
	format       string
	out          string
}

func newCheck(e *env) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check DOMAIN",
		Short: "Check a domain's SPF, DKIM, DMARC, MX, TLS, MTA-STS, TLS-RPT, BIMI and sending identity, with a score",
		Long: `check looks up what a domain publishes for mail and says what receivers will
make of it: SPF (with its DNS-lookup count and include tree), DKIM keys,
DMARC (RFC 9989 tree walk, and where RFC 7489 would look), MX, MTA-STS,
TLS-RPT and BIMI; with --ip, the reverse DNS of the sending addresses and
whether it confirms forward; with --helo, the name the MTA gives; with
--smtp-probe, STARTTLS and the certificate of every MX (it connects to port
25). The domain, the --ip addresses and the MX addresses are looked up on DNS
blocklists (see mailtriage blocklist --help; --no-blocklists skips them).
Every finding has a fix and the record or query it was judged on.

The score is internet.nl's method: each category scores the points of its
checks over their maximum, the total is the plain mean of the categories
checked, and a check that could not be made (a DNS timeout) is left out and
shown in the coverage, never counted as a failure. docs/checks.md lists every
check and finding with its points.

--zone answers from a zone file instead of live DNS, to check a change
before publishing it; names outside the file are looked up live, unless
--offline.

Exit status: 0 no error findings; 1 the check could not run; 2 wrong usage;
3 error findings.`,
		Example: `  mailtriage check example.com
  mailtriage check example.com --ip 198.51.100.21 --helo mail01.example.com --selector s1
  mailtriage check example.com --zone examples/example.com.zone --offline --ip 198.51.100.21 --helo mail01.example.com --selector s1
  mailtriage check example.com --smtp-probe --format html --out example.com.html
  mailtriage check example.com --format json | jq '.score, .grade'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("check takes one DOMAIN, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, e, o, args[0])
		},
	}
	f := cmd.Flags()
	addDNSFlags(f, &o.dns)
	f.Lookup("offline").Usage = "with --zone: no network at all: names outside the zone files are not looked up, and no MTA-STS policy is fetched"
	addListFlags(f, &o.lists)
	f.BoolVar(&o.noBlocklists, "no-blocklists", false, "do not look the domain, the --ip addresses and the MX addresses up on DNS blocklists")
	f.StringSliceVar(&o.ips, "ip", nil, "a sending address: its reverse DNS and SPF result (repeatable, or comma-separated)")
	f.StringVar(&o.helo, "helo", "", "the name the sending MTA gives in HELO/EHLO")
	f.StringSliceVar(&o.selectors, "selector", nil, "DKIM selector (repeatable); default: try common selectors")
	f.BoolVar(&o.probe, "smtp-probe", false, "connect to port 25 of every MX to check STARTTLS and its certificate")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "bound each HTTPS fetch (MTA-STS) and SMTP probe")
	f.StringVar(&o.format, "format", "text", "output format: text, json or html")
	f.StringVar(&o.out, "out", "", "write the report to this file instead of standard output")
	return cmd
}

func runCheck(cmd *cobra.Command, e *env, o *checkOptions, domain string) error {
	switch o.format {
	case "text", "json", "html":
	default:
		return usagef("--format %q: want text, json or html", o.format)
	}
	if o.timeout <= 0 {
		return usagef("--timeout %v: want a positive duration", o.timeout)
	}
	if o.probe && o.dns.offline {
		return usagef("--smtp-probe connects to port 25 of every MX: it does not go with --offline")
	}
	if _, _, err := check.Domain(domain); err != nil {
		return usagef("%v", err)
	}
	ips, err := parseIPs(o.ips)
	if err != nil {
		return err
	}
	if o.helo != "" {
		if err := check.Name(o.helo); err != nil {
			return usagef("--helo: %v", err)
		}
	}
	for _, s := range o.selectors {
		if err := selectorOK(s); err != nil {
			return err
		}
	}
	if o.out != "" {
		if err := checkWritable(o.out); err != nil {
			return err
		}
	}
	var lists *blocklist.Catalogue
	if !o.noBlocklists {
		if lists, err = o.lists.catalogue(); err != nil {
			return err
		}
		if w := publicResolverWarning(o.dns.describe()); w != "" {
			e.log.Warn(w)
		}
	}
	var queries atomic.Int64
	r, err := o.dns.resolverFor(e, &queries)
	if err != nil {
		return err
	}
	rep, err := check.Run(cmd.Context(), check.Options{
		Domain: domain, IPs: ips, HELO: o.helo, Selectors: o.selectors, Resolver: r,
		SMTPProbe: o.probe, Offline: o.dns.offline, Timeout: o.timeout, Blocklists: lists, BlocklistPerZone: o.lists.perZone,
	})
	if err != nil {
		if errors.Is(err, check.ErrNotDomain) {
			return usagef("%v", err)
		}
		return err
	}
	e.log.Info("check done", "dns_queries", queries.Load(), "elapsed", rep.Elapsed.Round(time.Microsecond))
	var buf bytes.Buffer
	switch o.format {
	case "json":
		err = report.CheckJSON(&buf, rep)
	case "html":
		err = report.CheckHTML(&buf, rep)
	default:
		err = report.CheckText(&buf, rep, textOptions(e, o.out == ""))
	}
	if err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	if o.out == "" {
		_, err = e.stdout.Write(buf.Bytes())
	} else {
		err = outfile.Write(o.out, buf.Bytes())
	}
	if err != nil {
		return err
	}
	switch {
	case rep.Coverage.Made == 0:
		return &codeError{code: exitError, err: fmt.Errorf("check %s: no check could be made; the DNS did not answer (the report says what failed)", rep.Domain)}
	case rep.Errors() > 0:
		return &codeError{code: exitProblems}
	}
	return nil
}

// parseIPs reads --ip values; a name instead of an address is a usage
// mistake, said as such.
func parseIPs(list []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range list {
		s = strings.TrimSpace(s)
		ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
		if err != nil {
			return nil, usagef("--ip %q is not an IP address (give the sending MTA's address; its name goes in --helo)", s)
		}
		ip = ip.Unmap()
		if !mailhost.Public(ip) {
			return nil, usagef("--ip %s is not a public address: receivers never see it; give the address your mail leaves from", ip)
		}
		out = append(out, ip)
	}
	return out, nil
}

// selectorOK checks a DKIM selector (RFC 6376 §3.1: labels, sub-selectors
// joined by dots), and catches the whole key name given by mistake.
func selectorOK(s string) error {
	if strings.Contains(strings.ToLower(s), "_domainkey") {
		return usagef("--selector %q: give the selector alone (s1), not the key's name (s1._domainkey.example.com)", s)
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || strings.ContainsFunc(l, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			return usagef("--selector %q is not a selector: letters, digits and hyphens, in labels joined by dots", s)
		}
	}
	return nil
}
