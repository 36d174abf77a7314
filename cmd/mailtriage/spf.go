package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/mailtriage/mailtriage/check"
	"github.com/mailtriage/mailtriage/report"
	"github.com/mailtriage/mailtriage/resolver"
	"github.com/mailtriage/mailtriage/spf"
	"github.com/spf13/cobra"
)

type spfOptions struct {
	dns     dnsOptions
	ip      string
	sender  string
	helo    string
	format  string
	flatten bool
}

func newSPF(e *env) *cobra.Command {
	o := &spfOptions{}
	cmd := &cobra.Command{
		Use:   "spf DOMAIN",
		Short: "Show a domain's SPF include tree, its DNS-lookup count, and the result for an address",
		Long: `spf diagnoses a domain's SPF record as receivers evaluate it (RFC 7208): the
tree of includes and redirects with each record and its DNS lookups, the
lookup and void-lookup counts against the limits of 10 and 2 (counted past
them, so you see how far over you are), and what is wrong. With --ip it
evaluates check_host() for that address, as a receiver would for mail from
--sender (default postmaster@DOMAIN) with --helo.

--flatten prints an equivalent record that stays within the limits: includes,
redirects, a and mx replaced by the addresses they stand for where that is
exact (the rest kept, with the reason), split into strings of 255 bytes and,
when it is long, chained _spf1, _spf2... records. The cost: it copies the
providers' addresses as they are now, so it must be made again when they
change them.

--zone answers from a zone file instead of live DNS (see mailtriage check
--help).

Exit status: 0 no error findings (and, with --ip, a pass); 1 the DNS could not
be asked, or the resolver does not reach the public DNS (it answers that even
the domain's top-level domain does not exist); 2 wrong usage; 3 error
findings, or a result other than pass.`,
		Example: `  mailtriage spf example.com
  mailtriage spf example.com --ip 198.51.100.21 --helo mail01.example.com
  mailtriage spf example.com --flatten
  mailtriage spf example.com --zone examples/example.com.zone --offline --format json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("spf takes one DOMAIN, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSPF(cmd, e, o, args[0])
		},
	}
	f := cmd.Flags()
	addDNSFlags(f, &o.dns)
	f.StringVar(&o.ip, "ip", "", "evaluate check_host() for mail from this address")
	f.StringVar(&o.sender, "sender", "", "with --ip: the MAIL FROM address (default postmaster@DOMAIN)")
	f.StringVar(&o.helo, "helo", "", "with --ip: the HELO name (for the %{h} macro)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.BoolVar(&o.flatten, "flatten", false, "print an equivalent record within the limits: includes, a and mx replaced by their addresses, split into strings and chained records")
	return cmd
}

func runSPF(cmd *cobra.Command, e *env, o *spfOptions, arg string) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	domain, _, err := check.Domain(arg)
	if err != nil {
		return usagef("%v", err)
	}
	var ip netip.Addr
	if o.ip != "" {
		if ip, err = netip.ParseAddr(strings.Trim(strings.TrimSpace(o.ip), "[]")); err != nil {
			return usagef("--ip %q is not an IP address", o.ip)
		}
		ip = ip.Unmap()
	} else if o.sender != "" || o.helo != "" {
		return usagef("--sender and --helo need --ip: they are the message's identities for check_host()")
	}
	var queries atomic.Int64
	live, err := o.dns.resolverFor(e, &queries)
	if err != nil {
		return err
	}
	r := &resolver.NXWatch{Resolver: live}
	ctx := cmd.Context()
	d := spf.Diagnose(ctx, r, domain)
	rep := &report.SPFReport{Domain: domain, Record: d.Root.Record, Lookups: d.Lookups, VoidLookups: d.VoidLookups, Tree: d.Root, Findings: d.Findings}
	if rep.Findings == nil {
		rep.Findings = []spf.Finding{}
	}
	problems := false
	for _, f := range d.Findings {
		problems = problems || f.Severity == spf.SeverityError
	}
	if ip.IsValid() {
		sender := o.sender
		if sender == "" {
			sender = "postmaster@" + domain
		}
		res := spf.CheckHost(ctx, r, ip, domain, sender, o.helo)
		rep.IP, rep.Sender, rep.HELO = ip.String(), sender, o.helo
		rep.Result, rep.Term, rep.Explanation = string(res.Status), res.Term, res.Explanation
		if res.Err != nil {
			rep.Error = res.Err.Error()
		}
		problems = problems || res.Status != spf.Pass
	}
	if err := blindError(ctx, r, "spf "+domain); err != nil {
		return err
	}
	var nothingToFlatten string
	switch {
	case !o.flatten, d.Root.State == spf.StateUnknown:
		// The lookup failed: the error at the end says so.
	case d.Root.State != spf.StateOK:
		// No valid record (none, several, invalid): the diagnosis says
		// what is wrong, and its exit status stands.
		nothingToFlatten = fmt.Sprintf("spf --flatten %s: nothing to flatten (%s: %s; see the findings)", domain, domain, d.Root.State)
	default:
		flat, err := spf.Flatten(ctx, r, domain)
		if err != nil {
			return &codeError{code: exitError, err: fmt.Errorf("spf --flatten: %w", err)}
		}
		rep.Flattened = flat
	}
	e.log.Info("spf done", "dns_queries", queries.Load())
	var buf bytes.Buffer
	if o.format == "json" {
		err = report.SPFJSON(&buf, rep)
	} else {
		err = report.SPFText(&buf, rep, textOptions(e, true))
	}
	if err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if nothingToFlatten != "" {
		fmt.Fprintf(e.stderr, "mailtriage: %s\n", nothingToFlatten)
	}
	switch {
	case d.Root.State == spf.StateUnknown:
		return &codeError{code: exitError, err: fmt.Errorf("spf %s: the record could not be looked up: %s", domain, d.Root.Error)}
	case problems:
		return &codeError{code: exitProblems}
	}
	return nil
}
