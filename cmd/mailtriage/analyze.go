package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/ingest"
	"github.com/mailtriage/mailtriage/internal/outfile"
	"github.com/mailtriage/mailtriage/lane"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/report"
	"github.com/mailtriage/mailtriage/source"
	"github.com/spf13/cobra"
)

type analyzeOptions struct {
	format     string
	out        string
	tz         string
	year       int
	since      string
	until      string
	lanesFile  string
	rulesDir   string
	streamBy   string
	redact     bool
	minAttempt int
	factor     float64
	minRate    float64
	workers    int
	noProgress bool
	source     string
	// --blocklists: look the sending addresses up.
	blocklists bool
	ips        []string
	dns        dnsOptions
	lists      listOptions
}

func newAnalyze(e *env) *cobra.Command {
	o := &analyzeOptions{}
	def := analysis.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "analyze [FILE...]",
		Short: "Analyse delivery logs: per lane and hour, every reply classified, what to do first",
		Long: `analyze reads delivery logs (Postfix, Exim, Sendmail, PowerMTA accounting,
KumoMTA; plain, rotated .gz, .zst or .bz2, or standard input), Postfix's
entries in the systemd journal (journalctl -o short, short-iso, short-precise,
short-unix, json or json-seq; the other modes, such as short-monotonic,
which has no wall-clock time, are refused with the mode to use), ESP event
exports, the Postfix queue (postqueue -j) and returned messages (message
files, mbox files, and folders of them such as a Maildir), each told by its
content, and reports, per recipient-domain lane and per hour, the
attempts, deferrals and bounces; who answered (the mailbox provider and the
filter in front of it); what each reply means; which recipients timed out
in the queue and their last real failure; the streams (envelope senders);
and what to do first.

Files are read in time order of their first line, whatever their names. A
folder is read as a mailbox of returned messages (name log files one by
one, or with a glob). With no FILE, or with "-", it reads standard input.

Exit status: 0 nothing wrong found; 1 an input could not be read (the others
were analysed), or --blocklists got no trustworthy answer from any list (the
report is still written); 2 wrong usage; 3 the analysis found problems
(error findings): a lane with a fifth or more of its attempts deferred, but
for greylisting (an incident, or sustained); 5% or more of the recipients
timed out in the queue; a recipient domain that accepted nothing for an hour
or more while 10 or more of its recipients were left queued or timed out (in
any lane, "other" too); a lane with 10 or more recipients still queued at the
end, the oldest queued a day or more before (a queue snapshot, postqueue -j,
is all queued mail); a listed sending address (--blocklists) that carried
failed mail or whose host is not named; nothing to analyse.`,
		Example: `  mailtriage analyze /var/log/mail.log*
  mailtriage analyze examples/incident-postfix.log.gz
  mailtriage analyze /var/log/mail.log* ~/Maildir/.Bounces
  zcat mail.log.*.gz | mailtriage analyze --format json > report.json
  journalctl -u 'postfix*' -o short-iso --since yesterday | mailtriage analyze -
  mailtriage analyze --since 2026-11-27T00:00:00Z --tz Europe/Berlin mail.log
  mailtriage analyze --format html --out incident.html --redact mail.log*
  mailtriage analyze --blocklists --ip mail01=198.51.100.21 --ip mail02=198.51.100.22 mail.log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd, e, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text, json, markdown or html")
	f.StringVar(&o.out, "out", "", "write the report to this file instead of standard output")
	f.StringVar(&o.tz, "tz", "UTC", "time zone of timestamps that carry none (traditional syslog stamps, RFC 3339 without an offset, Exim's local time, PowerMTA's timeLogged without one)")
	f.IntVar(&o.year, "year", 0, "year of timestamps that carry none (default: inferred from the file's date)")
	f.StringVar(&o.since, "since", "", "only events at or after this time (RFC 3339; a date, or a date and time without zone, is in --tz)")
	f.StringVar(&o.until, "until", "", "only events before this time (as --since; a date alone is that day's start, so --until 2026-11-28 ends with 27 November); what is still queued then is pending")
	f.StringVar(&o.lanesFile, "lanes", "", "TOML file of lanes that override the built-in ones")
	f.StringVar(&o.rulesDir, "rules", "", "directory of TOML rule files, tried before the built-in rules")
	f.StringVar(&o.streamBy, "stream-by", "sender", "group streams by envelope \"sender\" or sender \"domain\"")
	f.BoolVar(&o.redact, "redact", false, "replace recipients' local parts with a stable hash, so the report can be shared (the key is kept in the user's config directory, mailtriage/redact.key)")
	f.IntVar(&o.minAttempt, "min-attempts", def.MinAttempts, "incident: attempts its busiest hour needs")
	f.Float64Var(&o.factor, "factor", def.Factor, "incident: least multiple of the lane's median hourly deferral rate, per hour")
	f.Float64Var(&o.minRate, "min-rate", def.MinRate, "incident: least deferral rate per hour (0 to 1)")
	f.IntVar(&o.workers, "workers", 0, "parsing goroutines (default: one per CPU)")
	f.BoolVar(&o.noProgress, "no-progress", false, "do not show progress on a terminal")
	f.StringVar(&o.source, "source", "", "read every input as this format: "+strings.Join(ingest.Formats, ", ")+" (default: detected from each input's content)")
	f.BoolVar(&o.blocklists, "blocklists", false, "look the sending addresses (--ip) up on DNS blocklists and put each beside the mail its host carried")
	f.StringSliceVar(&o.ips, "ip", nil, "with --blocklists: a sending address, or HOST=ADDRESS to tie it to the logging host that sends from it (repeatable)")
	addDNSFlags(f, &o.dns)
	addListFlags(f, &o.lists)
	return cmd
}

func runAnalyze(cmd *cobra.Command, e *env, o *analyzeOptions, args []string) error {
	switch o.format {
	case "text", "json", "markdown", "html":
	default:
		return usagef("--format %q: want text, json, markdown or html", o.format)
	}
	if o.format == "html" && o.out == "" && isTerminal(e.stdout) {
		return usagef("--format html writes a file: add --out FILE (or redirect standard output)")
	}
	if o.source != "" && !slices.Contains(ingest.Formats, o.source) {
		return usagef("--source %q: want one of %s", o.source, strings.Join(ingest.Formats, ", "))
	}
	if o.streamBy != "sender" && o.streamBy != "domain" {
		return usagef("--stream-by %q: want sender or domain", o.streamBy)
	}
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return usagef("--tz %q: %v", o.tz, err)
	}
	since, err := parseTime(o.since, loc)
	if err != nil {
		return usagef("--since: %v", err)
	}
	until, err := parseTime(o.until, loc)
	if err != nil {
		return usagef("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return usagef("--since %s is not before --until %s", o.since, o.until)
	}
	switch {
	case o.minRate < 0 || o.minRate > 1:
		return usagef("--min-rate %v: want a fraction from 0 to 1", o.minRate)
	case o.minAttempt < 1:
		return usagef("--min-attempts %d: want at least 1", o.minAttempt)
	case o.factor <= 0:
		return usagef("--factor %v: want a positive number", o.factor)
	case o.workers < 0:
		return usagef("--workers %d: want 0 (one per CPU) or more", o.workers)
	case o.year != 0 && (o.year < 1970 || o.year > 9999):
		return usagef("--year %d: want a year from 1970 to 9999", o.year)
	}
	senders, err := parseSenders(o.blocklists, o.ips)
	if err != nil {
		return err
	}
	if o.out != "" {
		// Fail now, not after the analysis, if the report can't be written.
		if err := checkOutNotInput(o.out, args); err != nil {
			return err
		}
		if err := checkWritable(o.out); err != nil {
			return err
		}
	}
	// The analysis allocates a little per line and keeps little: with a
	// quarter of the collections it runs about 8% faster, for a heap
	// that grows further between them (peak RSS 83 MB on a 240 MB log,
	// 252 MB on 1.25 GB with five times the messages queued). From here
	// on, because the rules and the catalogue (15 ms of every run) are
	// read into a heap too small to grow without collections.
	collectLess(400)
	cat, err := provider.Builtin()
	if err != nil {
		return err
	}
	cl, err := newClassifier(cat, o.rulesDir)
	if err != nil {
		return err
	}
	lanes, err := newLanes(cat, o.lanesFile)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		args = []string{"-"}
		if isTerminal(e.stdin) {
			return usagef("no log files given and standard input is a terminal; see 'mailtriage analyze --help'")
		}
	}
	cfg := ingest.Config{
		Classifier: cl,
		Lanes:      lanes,
		Location:   loc,
		Year:       o.year,
		Now:        time.Now(),
		Analysis: analysis.Options{
			Since: since, Until: until, StreamBy: o.streamBy,
			MinAttempts: o.minAttempt, Factor: o.factor, MinRate: o.minRate,
		},
		Workers: o.workers,
		Format:  o.source,
		Log:     e.log,
	}
	if e.verbose {
		cfg.Samples = 5
	}
	var prog *progress
	if !o.noProgress && isTerminal(e.stderr) {
		prog = newProgress(e.stderr)
		cfg.Progress = prog.update
	}
	rep := ingest.Logs(cmd.Context(), args, e.stdin, cfg)
	if prog != nil {
		prog.done()
	}
	for _, in := range rep.Result.Inputs {
		for _, s := range rep.Samples[in.Name] {
			e.log.Info("unreadable line", "input", in.Name, "line", s.Line, "err", s.Err, "text", s.Text)
		}
	}
	res := rep.Result
	listsAnswered := true
	if o.blocklists {
		if listsAnswered, err = addListings(cmd, e, o, senders, res); err != nil {
			return err
		}
	}
	if o.redact {
		report.NewRedactor(redactKey(e)).Result(res)
	}
	werr := writeReport(e, o, res)
	for _, ie := range rep.Errors {
		fmt.Fprintf(e.stderr, "mailtriage: %v\n", ie)
	}
	if werr != nil {
		return werr
	}
	switch {
	case cmd.Context().Err() != nil:
		return &codeError{code: exitError, err: fmt.Errorf("interrupted; the report covers what was read")}
	case !listsAnswered:
		return &codeError{code: exitError, err: fmt.Errorf("--blocklists: no list answered its test entries through the DNS (%s): the sending addresses could not be looked up (the report says \"could not tell\")", o.dns.describe())}
	case rep.Failed():
		return &codeError{code: exitError}
	case hasErrors(res.Findings):
		return &codeError{code: exitProblems}
	}
	return nil
}

// redactKey is the secret that --redact's tokens are made with: kept in
// the user's configuration directory (mailtriage/redact.key, made on first
// use, readable by its owner only), so one recipient reads the same in
// every report and format, while nobody without the key can test a guessed
// address against a token. If the key can't be kept, a fresh one serves
// this report, and standard error says its tokens match no other report.
func redactKey(e *env) []byte {
	path, err := redactKeyPath()
	if err == nil {
		var key []byte
		if key, err = readOrMakeKey(path); err == nil {
			return key
		}
	}
	fmt.Fprintf(e.stderr, "mailtriage: --redact: %v; this report's tokens will not match other reports'\n", err)
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

func redactKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory to keep the key in: %w", err)
	}
	return filepath.Join(dir, "mailtriage", "redact.key"), nil
}

// readOrMakeKey reads the key at path, or makes one there. Two runs
// making it at once agree: the file appears whole (a link) and the loser
// reads the winner's.
func readOrMakeKey(path string) ([]byte, error) {
	if key, err := os.ReadFile(path); err == nil {
		if len(key) < 16 {
			return nil, fmt.Errorf("%s: %d bytes, too short for a key (delete it to make a new one)", path, len(key))
		}
		return key, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".redact.key.*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readOrMakeKey(path)
		}
		return nil, err
	}
	return key, nil
}

func hasErrors(fs []mailtriage.Finding) bool {
	for _, f := range fs {
		if f.Severity == mailtriage.SeverityError {
			return true
		}
	}
	return false
}

// writeReport renders the report to standard output or, with --out, to a
// file that appears whole or not at all.
func writeReport(e *env, o *analyzeOptions, res *analysis.Result) error {
	var buf bytes.Buffer
	var err error
	switch o.format {
	case "json":
		err = report.JSON(&buf, res)
	case "markdown":
		err = report.Markdown(&buf, res)
	case "html":
		err = report.HTML(&buf, res)
	default:
		err = report.Text(&buf, res, textOptions(e, o.out == ""))
	}
	if err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	if o.out == "" {
		if _, err := e.stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("writing the report to standard output: %w", err)
		}
		return nil
	}
	return outfile.Write(o.out, buf.Bytes())
}

// checkOutNotInput refuses an --out path that is one of the inputs: the
// report would replace the log.
func checkOutNotInput(out string, inputs []string) error {
	id := source.Identity(out)
	if id == "" || out == source.Stdin {
		return nil
	}
	for _, in := range inputs {
		if source.Identity(in) == id {
			return usagef("--out %s is one of the inputs (%s): the report would replace the log; name another file", out, in)
		}
	}
	return nil
}

// checkWritable fails a command before its work when --out can't be
// written.
func checkWritable(path string) error {
	if err := outfile.CheckWritable(path); err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("--out %w", err)}
	}
	return nil
}

// parseTime reads an RFC 3339 date-time, or a date or date-time without a
// zone, which is in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	// RFC 3339 §5.6 allows "t" and "z" in lower case, and a space for the
	// "T"; Go's layouts take neither.
	norm := []byte(s)
	if len(norm) > 10 && (norm[10] == 't' || norm[10] == ' ') {
		norm[10] = 'T'
	}
	if n := len(norm); n > 10 && norm[n-1] == 'z' {
		norm[n-1] = 'Z'
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, string(norm), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want RFC 3339, like 2026-11-30T08:00:00Z, or a date)", s)
}

// builtinClassifier is the classifier over the built-in providers, with
// the user's rules directory (if any) first.
func builtinClassifier(rulesDir string) (*classify.Classifier, error) {
	cat, err := provider.Builtin()
	if err != nil {
		return nil, err
	}
	return newClassifier(cat, rulesDir)
}

func newClassifier(cat *provider.Catalog, rulesDir string) (*classify.Classifier, error) {
	var user []*classify.Rule
	var err error
	if rulesDir != "" {
		user, err = classify.LoadDir(rulesDir, cat)
		if err != nil {
			return nil, &codeError{code: exitUsage, err: fmt.Errorf("--rules: %w", err)}
		}
	}
	c, err := classify.New(cat, user)
	if err != nil && rulesDir != "" {
		// The built-in rules alone always make a classifier: the user's
		// rules are what does not fit.
		return nil, &codeError{code: exitUsage, err: fmt.Errorf("--rules: %w", err)}
	}
	return c, err
}

// providerNames lists the catalog's provider names, for an error message.
func providerNames(cat *provider.Catalog) string {
	var names []string
	for _, p := range cat.All() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func newLanes(cat *provider.Catalog, file string) (*lane.Table, error) {
	var err error
	providerOf := func(host string) string {
		if p := cat.ByHost(host); p != nil {
			return p.Name
		}
		return ""
	}
	var user []byte
	if file != "" {
		user, err = os.ReadFile(file)
		if err != nil {
			return nil, &codeError{code: exitUsage, err: fmt.Errorf("--lanes: %w", err)}
		}
	}
	t, err := lane.New(user, providerOf)
	if err != nil {
		return nil, &codeError{code: exitUsage, err: fmt.Errorf("--lanes %s: %w", file, err)}
	}
	for _, p := range t.UserProviders() {
		if cat.Named(p) == nil {
			return nil, &codeError{code: exitUsage, err: fmt.Errorf("--lanes %s: provider %q is not one mailtriage knows (%s)", file, p, providerNames(cat))}
		}
	}
	return t, nil
}
