package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailtriage/mailtriage/dmarcsum"
	"github.com/mailtriage/mailtriage/internal/outfile"
	"github.com/mailtriage/mailtriage/report"
	"github.com/mailtriage/mailtriage/reportfile"
	"github.com/mailtriage/mailtriage/reportimport"
	"github.com/mailtriage/mailtriage/store/sqlite"
	"github.com/spf13/cobra"
)

// dbFlagHelp says where the database is when --db is not given.
const dbFlagHelp = "the database file (default: $MAILTRIAGE_DB, else $XDG_DATA_HOME/mailtriage/mailtriage.db, else ~/.local/share/mailtriage/mailtriage.db)"

func newDMARC(e *env) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "dmarc",
		Short: "Import DMARC aggregate, failure and SMTP TLS reports, and summarise them per sending source",
		Long: `dmarc keeps the reports receivers send back to a domain's owner in a local
database, and summarises them: which sources send as the domain, how much of
their mail passes SPF and DKIM aligned, which are forwarders, which fail,
and which pass without being on the sender's declared list.

  mailtriage dmarc import PATH...   read report files, folders and mailboxes into the database
  mailtriage dmarc summary          per source and per day, with the TLS reports

The database is one SQLite file; --db names it.`,
		Example: `  mailtriage dmarc import ~/Maildir/.DMARC
  mailtriage dmarc summary --domain example.com --since 30d --known senders.txt
  mailtriage dmarc summary --format html --out dmarc.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("dmarc has no command %q: it has import and summary", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.PersistentFlags().StringVar(&db, "db", "", dbFlagHelp)
	cmd.AddCommand(newDMARCImport(e, &db), newDMARCSummary(e, &db))
	return cmd
}

// openStore opens the database --db names, or the default one. mustExist
// is for commands that only read: an empty new database would answer
// "nothing here" when the user mistyped the path.
func openStore(ctx context.Context, db string, mustExist bool) (*sqlite.Store, error) {
	path := db
	if path == "" {
		var err error
		if path, err = sqlite.DefaultPath(os.Getenv); err != nil {
			return nil, &codeError{code: exitError, err: err}
		}
	}
	if mustExist {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, &codeError{code: exitError, err: fmt.Errorf("no database at %s: import reports first with 'mailtriage dmarc import', or name the database with --db", path)}
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	return s, nil
}

type dmarcImportOptions struct {
	dns    dnsOptions
	noRDNS bool
	format string
}

func newDMARCImport(e *env, db *string) *cobra.Command {
	o := &dmarcImportOptions{}
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Read DMARC aggregate, failure and SMTP TLS reports into the database",
		Long: `import reads DMARC aggregate reports (RFC 7489, RFC 9990), DMARC failure
reports (RFC 6591, RFC 9991) and SMTP TLS reports (RFC 8460) from files,
folders (recursively), mbox files and Maildir folders, or standard input
("-"): XML and JSON as sent, gzip and zip archives, and the messages that
carry them. What a file holds is told from its content, not its name.

A report already in the database (the same reporter, report id, domain and
period) is counted as a duplicate and left alone, so importing a folder
again only adds what is new. Each report goes in whole or not at all. A
file that cannot be read is named on standard error with the reason, and
the rest go on.

At import, the reverse DNS name of every source address is looked up and
kept when it points back to the address (forward-confirmed), for the
summary's services and declared list; --no-rdns skips the lookups (fast,
offline), --resolver picks the DNS server and --dns-timeout how long to
wait for it.

The last line counts the reports imported, the duplicates and the
failures. Exit status: 0 done; 1 an input or report could not be read (the
others were imported); 2 wrong usage.`,
		Example: `  mailtriage dmarc import ~/Maildir/.DMARC reports/
  mailtriage dmarc import --no-rdns --db /srv/dmarc.db 'google.com!example.com!1700000000!1700086399.zip'
  cat report.xml.gz | mailtriage dmarc import -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("import takes the files or folders to read, or - for standard input")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDMARCImport(cmd, e, o, *db, args)
		},
	}
	f := cmd.Flags()
	// Only the DNS flags that mean something here: the lookups are of
	// source addresses, which zone files of one's own domain do not hold.
	f.StringVar(&o.dns.server, "resolver", "", "DNS server for the reverse DNS lookups of source addresses, HOST:PORT (default: the system's, from /etc/resolv.conf)")
	f.DurationVar(&o.dns.timeout, "dns-timeout", 2*time.Second, "wait this long for each reverse DNS answer (a timed-out query is retried twice)")
	f.BoolVar(&o.noRDNS, "no-rdns", false, "do not look up the reverse DNS of source addresses")
	f.StringVar(&o.format, "format", "text", "output format of the final counts: text or json")
	return cmd
}

func runDMARCImport(cmd *cobra.Command, e *env, o *dmarcImportOptions, db string, args []string) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	for _, a := range args {
		if a == "-" && isTerminal(e.stdin) {
			return usagef("'-' reads reports from standard input, which is a terminal")
		}
	}
	var namer *dmarcsum.Namer
	if !o.noRDNS {
		var queries atomic.Int64
		r, err := o.dns.resolverFor(e, &queries)
		if err != nil {
			return err
		}
		namer = &dmarcsum.Namer{Resolver: r, Limit: 16, Timeout: 2 * o.dns.timeout, OnGiveUp: func() {
			e.log.Warn("the DNS server does not answer: the rest of the reports go in without reverse DNS names (--no-rdns skips the lookups)", "server", o.dns.describe())
		}}
		defer func() { e.log.Info("rdns", "dns_queries", queries.Load()) }()
	}
	st, err := openStore(cmd.Context(), db, false)
	if err != nil {
		return err
	}
	defer st.Close()

	term := isTerminal(e.stderr)
	im := &reportimport.Importer{Store: st, Namer: namer, Log: e.log, Failed: importFailed(e.stderr, term)}
	w := reportfile.Walker{Stdin: e.stdin}
	var p *progress
	if term {
		// A count, not a bar: counting the files first would walk the
		// folders twice, by rules that are the walker's to know.
		p = newProgress(e.stderr)
		w.Progress = func(inputs int) { p.count("importing, inputs read", inputs) }
	}
	walkErr, fatal := im.Run(cmd.Context(), &w, args)
	if p != nil {
		p.done()
	}
	// The names in these errors come from archives and messages.
	if fatal != nil {
		return &codeError{code: exitError, err: printableError{fatal}}
	}
	if walkErr != nil {
		return &codeError{code: exitError, err: printableError{walkErr}}
	}
	c := im.Counts()
	if o.format == "json" {
		b, _ := json.Marshal(c)
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		fmt.Fprintf(e.stdout, "imported %d (%d aggregate, %d failure, %d TLS), %d duplicate, %d failed; database %s\n",
			c.Imported, c.Aggregate, c.Failure, c.TLS, c.Duplicates, c.Failed, st.Path())
	}
	if c.Failed > 0 {
		return &codeError{code: exitError}
	}
	return nil
}

// importFailed names an input that could not be read on stderr, clearing
// the progress line first on a terminal. The name and the reason are
// shown with their control characters escaped: a zip member or an
// attachment may be named anything, escape sequences included.
func importFailed(stderr io.Writer, term bool) func(name string, err error) {
	return func(name string, err error) {
		msg := strings.TrimPrefix(err.Error(), "store: ")
		if term {
			fmt.Fprint(stderr, "\r\x1b[K")
		}
		fmt.Fprintf(stderr, "mailtriage: %s: %s\n", report.Printable(inputName(name)), report.Printable(msg))
	}
}

// inputName names an input of the walk for people: "-", and the members
// of what came on it ("-!report.xml"), are standard input's.
func inputName(name string) string {
	if name == "-" || strings.HasPrefix(name, "-!") {
		return "standard input" + name[1:]
	}
	return name
}

// printableError is an error shown with its control characters escaped.
type printableError struct{ err error }

func (e printableError) Error() string { return report.Printable(e.err.Error()) }
func (e printableError) Unwrap() error { return e.err }

type dmarcSummaryOptions struct {
	domain   string
	since    string
	until    string
	known    string
	services string
	format   string
	out      string
	top      int
}

func newDMARCSummary(e *env, db *string) *cobra.Command {
	o := &dmarcSummaryOptions{}
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Summarise the DMARC and TLS reports in the database per sending source and per day",
		Long: `summary reads the imported reports and shows, per sending source (IP
address): its reverse DNS name and the service it belongs to, the messages
the reports counted, how many passed SPF and DKIM aligned, the share that
passed DMARC, what receivers applied (delivered, quarantined, rejected) and
one category, the first that holds for all the source's messages:

  authorized            SPF and DKIM both aligned and passing
  forwarded             DKIM aligned pass, SPF failing, from a source not in
                        the declared list: a forwarder kept the signature
  partially authorized  DMARC passed, through one of the two
  failing               otherwise: some of its mail failed DMARC

One failing message makes a source failing, so its DMARC pass rate is shown
beside the category: 99.9% is a forwarder's odd failure, 0% a spoofer. A
source whose mail passes but that is not in the declared list is flagged
unverified: something sends as the domain, and nobody said it may.

--known FILE is the declared list, one entry a line ('#' comments):
  ip 192.0.2.10                 an address
  ip 198.51.100.0/24            a prefix (an address or prefix alone works too)
  rdns *.mta.example.com        a reverse DNS pattern ("*" is any characters)
  service SendGrid              a service of the services list

Services are told by their reverse DNS names (Google, Microsoft, SendGrid,
Mailchimp, Amazon SES, Mailgun, Postmark, SparkPost, Salesforce, Zendesk,
HubSpot, Yahoo, Mail.ru and more). Platforms that rent machines to anyone
are services of their own ("Google Cloud (customer VM)", "GoDaddy (shared
hosting)"): declaring Google does not declare them. --services FILE adds
your own in the same TOML form, tried first:
  [[service]]
  name = "Billing platform"
  rdns = ["*.mail.billing.example.net"]

Reports are selected by the UTC day that holds the middle of their period
(a receiver east of UTC begins its day the evening before): --since and
--until take a date (2026-03-01), an RFC 3339 time, or a span back from now
(30d, 12h). The SMTP TLS reports of the same days are summarised per
receiving domain and policy.

--format json writes {"reports": N, "failure_reports": N, "sources": [{"ip",
"rdns", "service", "messages", "spf_aligned_pass", "dkim_aligned_pass",
"dmarc_pass", "quarantined", "rejected", "category", "unverified"}], "tls":
[...], "days": [...]}, the pass and disposition fields being message
counts, category one of "authorized", "forwarded", "partially_authorized"
and "failing", every source listed; --format html one self-contained
page with a chart of volume and pass rate per day. Text and HTML list each
group's 20 largest sources and the 20 largest groups that are not services
(--top N changes it, --top 0 lists all; the totals always count all).

Exit status: 0 done; 1 the database could not be read; 2 wrong usage; 3
with --known, some passing sources are not on the declared list.`,
		Example: `  mailtriage dmarc summary
  mailtriage dmarc summary --domain example.com --since 30d --known senders.txt
  mailtriage dmarc summary --since 2026-03-01 --until 2026-04-01 --format html --out march.html
  mailtriage dmarc summary --format json | jq '.sources[] | select(.unverified)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDMARCSummary(cmd, e, o, *db)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.domain, "domain", "", "only reports about this policy domain")
	f.StringVar(&o.since, "since", "", "only reports from this day on (YYYY-MM-DD, RFC 3339, or 30d back from now)")
	f.StringVar(&o.until, "until", "", "only reports before this time (YYYY-MM-DD, RFC 3339, or 1d back from now)")
	f.StringVar(&o.known, "known", "", "the declared list of sources that may send as the domain (see above)")
	f.StringVar(&o.services, "services", "", "a TOML file of services told by reverse DNS, tried before the built-in list")
	f.StringVar(&o.format, "format", "text", "output format: text, json or html")
	f.StringVar(&o.out, "out", "", "write the summary to this file instead of standard output")
	f.IntVar(&o.top, "top", 20, "text and html: list each group's N largest sources and the N largest groups without a service (0: all)")
	return cmd
}

func runDMARCSummary(cmd *cobra.Command, e *env, o *dmarcSummaryOptions, db string) error {
	switch o.format {
	case "text", "json", "html":
	default:
		return usagef("--format %q: want text, json or html", o.format)
	}
	now := time.Now()
	since, err := parseWhen(o.since, now)
	if err != nil {
		return usagef("--since: %v", err)
	}
	until, err := parseWhen(o.until, now)
	if err != nil {
		return usagef("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return usagef("--since %s is not before --until %s", o.since, o.until)
	}
	services, err := dmarcsum.BuiltinServices()
	if err != nil {
		return err
	}
	if o.services != "" {
		data, err := os.ReadFile(o.services)
		if err != nil {
			return &codeError{code: exitUsage, err: fmt.Errorf("--services: %w", err)}
		}
		user, err := dmarcsum.ParseServices(data, o.services)
		if err != nil {
			return &codeError{code: exitUsage, err: fmt.Errorf("--services %w", err)}
		}
		services = services.With(user)
	}
	var known *dmarcsum.Known
	if o.known != "" {
		f, err := os.Open(o.known)
		if err != nil {
			return &codeError{code: exitUsage, err: fmt.Errorf("--known: %w", err)}
		}
		known, err = dmarcsum.ParseKnown(f, o.known, services)
		f.Close()
		if err != nil {
			return &codeError{code: exitUsage, err: fmt.Errorf("--known %w", err)}
		}
	}
	if o.top < 0 {
		return usagef("--top %d: want 0 (all) or more", o.top)
	}
	if o.out != "" {
		if err := checkWritable(o.out); err != nil {
			return err
		}
	}
	st, err := openStore(cmd.Context(), db, true)
	if err != nil {
		return err
	}
	defer st.Close()
	// A large domain's summary is a few hundred thousand small values,
	// all live until the end: collecting less often saves a fifth.
	collectLess(400)
	start := time.Now()
	sum, err := dmarcsum.Summarize(cmd.Context(), st, dmarcsum.Options{
		Domain: strings.TrimSpace(o.domain), Since: since, Until: until, Services: services, Known: known,
	})
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	e.log.Info("summary", "elapsed", time.Since(start).Round(time.Microsecond), "sources", len(sum.Sources))
	// Straight to standard output: the JSON of a large domain is tens of
	// MB, not worth holding. A file is written whole or not at all.
	var buf bytes.Buffer
	w := io.Writer(e.stdout)
	if o.out != "" {
		w = &buf
	}
	switch o.format {
	case "json":
		err = dmarcsum.JSON(w, sum)
	case "html":
		err = dmarcsum.HTML(w, sum, dmarcsum.HTMLOptions{Top: o.top})
	default:
		err = dmarcsum.Text(w, sum, dmarcsum.TextOptions{Color: o.out == "" && useColor(e.stdout), Top: o.top})
	}
	if err != nil {
		return fmt.Errorf("writing the summary: %w", err)
	}
	if o.out != "" {
		if err := outfile.Write(o.out, buf.Bytes()); err != nil {
			return err
		}
	}
	if known != nil {
		for _, s := range sum.Sources {
			if s.Unverified {
				return &codeError{code: exitProblems}
			}
		}
	}
	return nil
}

// parseWhen reads --since and --until: a date or time (UTC unless it says
// otherwise), or a span back from now such as 30d or 12h.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return now.AddDate(0, 0, -d), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := parseTime(s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time (want a date like 2026-03-01, an RFC 3339 time, or a span back from now like 30d or 12h)", s)
	}
	return t, nil
}
