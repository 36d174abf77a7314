package main

import (
	"bytes"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/mailtriage/mailtriage/blocklist"
	"github.com/mailtriage/mailtriage/report"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type blocklistOptions struct {
	dns    dnsOptions
	lists  listOptions
	format string
}

// listOptions are the flags that choose the blocklists, shared by
// blocklist and check.
type listOptions struct {
	only      []string
	zonesFile string
	spamhaus  string
	perZone   int
}

func addListFlags(f *pflag.FlagSet, o *listOptions) {
	f.StringSliceVar(&o.only, "lists", nil, "ask only these lists (zone or display names, comma-separated); default: all of the catalogue")
	f.StringVar(&o.zonesFile, "dnsbl-zones", "", "TOML file of blocklist zones that add to or override the built-in catalogue")
	f.StringVar(&o.spamhaus, "spamhaus-key", os.Getenv("MAILTRIAGE_SPAMHAUS_KEY"), "Spamhaus DQS key: ask <key>.zen.dq.spamhaus.net instead of the public mirrors")
	f.IntVar(&o.perZone, "per-zone", 4, "blocklist queries in flight to one list at most")
}

// catalogue is the built-in lists with the user's file and key applied.
func (o *listOptions) catalogue() (*blocklist.Catalogue, error) {
	if o.perZone < 1 {
		return nil, usagef("--per-zone %d: want at least 1", o.perZone)
	}
	cat, err := blocklist.Builtin()
	if err != nil {
		return nil, err
	}
	if o.zonesFile != "" {
		f, err := os.Open(o.zonesFile)
		if err != nil {
			return nil, &codeError{code: exitError, err: fmt.Errorf("--dnsbl-zones: %w", err)}
		}
		err = cat.Load(f, o.zonesFile)
		f.Close()
		if err != nil {
			return nil, &codeError{code: exitError, err: fmt.Errorf("--dnsbl-zones: %w", err)}
		}
	}
	cat, err = cat.Only(o.only)
	if err != nil {
		return nil, usagef("--lists: %v", err)
	}
	return cat.WithDQSKey(o.spamhaus), nil
}

func newBlocklist(e *env) *cobra.Command {
	o := &blocklistOptions{}
	cmd := &cobra.Command{
		Use:   "blocklist TARGET...",
		Short: "Look up IP addresses and domains on DNS blocklists, telling listed, clean and could-not-tell apart",
		Long: `blocklist asks DNS blocklists (RFC 5782) about each TARGET, an IP address, a
domain (asked at its registered-domain level) or a URL (asked by its host),
and reads every list's answers by its own codes: a listing with its meaning
and where to ask for removal, "refused" when the list will not answer this
resolver, "unknown" when a lookup failed. Every list is health-checked with
its test entries in the same run; one that answers them wrongly is
"unavailable", never "clean".

Tier-1 lists are scored; tier-2 lists (UCEPROTECT L2/L3, SpamRATS, ...) and
allowlists are shown as information. The catalogue is in blocklist/zones.toml;
--dnsbl-zones adds or overrides zones in that format. Spamhaus answers only
non-commercial, low-volume users through their own resolvers; with
--spamhaus-key (or MAILTRIAGE_SPAMHAUS_KEY) it asks Spamhaus DQS instead.

Ask through your own recursive resolver: lists refuse public ones (8.8.8.8,
1.1.1.1), which this command warns about.

Exit status: 0 nothing scored is listed; 1 the lookups could not be made;
2 wrong usage; 3 a target is listed on a scored list.`,
		Example: `  mailtriage blocklist 198.51.100.21 mail.example.com
  mailtriage blocklist --resolver 127.0.0.1:53 --format json 198.51.100.21 198.51.100.22
  mailtriage blocklist --spamhaus-key KEY --dnsbl-zones my-zones.toml 2001:db8::25`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBlocklist(cmd, e, o, args)
		},
	}
	f := cmd.Flags()
	addDNSFlags(f, &o.dns)
	addListFlags(f, &o.lists)
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

func runBlocklist(cmd *cobra.Command, e *env, o *blocklistOptions, args []string) error {
	if len(args) == 0 {
		return usagef("give at least one TARGET: an IP address or a domain")
	}
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	var targets []blocklist.Target
	for _, a := range args {
		t, err := blocklist.ParseTarget(a)
		if err != nil {
			return usagef("%v", err)
		}
		targets = append(targets, t)
	}
	cat, err := o.lists.catalogue()
	if err != nil {
		return err
	}
	var queries atomic.Int64
	r, err := o.dns.resolverFor(e, &queries)
	if err != nil {
		return err
	}
	server := o.dns.describe()
	rep := &report.BlocklistReport{Resolver: server, Warnings: []string{}}
	if w := publicResolverWarning(server); w != "" {
		rep.Warnings = append(rep.Warnings, w)
	}
	rep.Report = blocklist.Check(cmd.Context(), blocklist.Options{Resolver: r, Catalogue: cat, PerZone: o.lists.perZone}, targets)
	e.log.Info("blocklist done", "dns_queries", queries.Load(), "elapsed", rep.Elapsed)
	var buf bytes.Buffer
	if o.format == "json" {
		err = report.BlocklistJSON(&buf, rep)
	} else {
		err = report.BlocklistText(&buf, rep, textOptions(e, true))
	}
	if err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	return blocklistExit(rep.Report)
}

// blocklistExit: 3 when a scored list lists a target; 1 when no list
// could be asked at all.
func blocklistExit(r *blocklist.Report) error {
	for _, t := range r.Targets {
		for _, l := range t.Listings {
			if l.Scored() {
				return &codeError{code: exitProblems}
			}
		}
	}
	if r.Answered() {
		return nil
	}
	return &codeError{code: exitError, err: fmt.Errorf("no list answered its test entries: nothing could be checked (see the report)")}
}

// publicResolverWarning warns when server is a public resolver, which
// the lists refuse.
func publicResolverWarning(server string) string {
	name := blocklist.PublicResolver(server)
	if name == "" {
		return ""
	}
	return fmt.Sprintf("%s is %s, a public resolver: most lists refuse it (Spamhaus answers 127.255.255.254, URIBL 127.0.0.1, Barracuda nothing); ask through your own recursive resolver with --resolver", server, name)
}
