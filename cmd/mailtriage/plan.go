package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/cohort"
	"github.com/mailtriage/mailtriage/ingest"
	"github.com/mailtriage/mailtriage/internal/numfmt"
	"github.com/mailtriage/mailtriage/internal/outfile"
	"github.com/mailtriage/mailtriage/lane"
	"github.com/mailtriage/mailtriage/plan"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/report"
	"github.com/mailtriage/mailtriage/throttle"
	"github.com/spf13/cobra"
)

type planOptions struct {
	analysis  string
	mta       string
	threshold float64
	shared    bool
	relayhost string
	lanesFile string
	bulk      string
	format    string
	outDir    string
	cohorts   cohortOptions
}

func newPlan(e *env) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan [FILE...]",
		Short: "Recovery plan: which lanes to slow, the MTA configuration that does it, a day-by-day schedule",
		Long: `plan reads the delivery logs (as analyze does) or a saved analysis
(--analysis report.json, from analyze --format json) and writes the recovery
plan: which lanes to slow and why, with the figures; the throttle
configuration for your MTA (--mta postfix, powermta or kumomta; by default
the one whose logs were read) that slows only those lanes, every value
commented, with how to roll back; and a
day-by-day schedule: day one containment at a tenth of the lane's usual
volume, days two to five proof at a fifth to a half, then volume steps back
to the usual, each step taken only while every hour's deferral rate stays
under the threshold. Lanes with milder incidents are listed to watch.
Streams are sorted into transactional and bulk, with the advice to keep
transactional mail on its own path where both reach a lane in trouble.

--out-dir writes the configuration files (each file, atomically); the
output says where each one goes.

Exit status: 0 a plan was made (or nothing needs slowing); 1 an input could
not be read; 2 wrong usage.`,
		Example: `  mailtriage plan /var/log/mail.log*
  mailtriage analyze --format json mail.log > report.json; mailtriage plan --analysis report.json --mta powermta   # analyze exits 3 on an incident: not &&
  mkdir -p plan && mailtriage plan --out-dir plan/ --format markdown examples/incident-postfix.log.gz > plan/PLAN.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd, e, o, args)
		},
	}
	cmd.AddCommand(newPlanCheck(e))
	f := cmd.Flags()
	f.StringVar(&o.analysis, "analysis", "", "a saved analysis (analyze --format json) instead of log files")
	f.StringVar(&o.mta, "mta", "", "the MTA to configure: "+strings.Join(plan.MTAs, ", ")+" (default: the one whose logs were read; postfix when they do not say)")
	f.Float64Var(&o.threshold, "threshold", 0, "deferral rate (0 to 1) that holds a step; default twice the lane's usual rate, at least 0.05")
	f.BoolVar(&o.shared, "shared-nexthop", false, "send all of a lane's domains to one destination even when the logs do not show them sharing MX hosts (the plan shares one by itself when they do)")
	f.StringVar(&o.relayhost, "relayhost", "", "Postfix: the smarthost this Postfix relays through (postconf -h relayhost), so the lane's mail keeps going there")
	f.StringVar(&o.lanesFile, "lanes", "", "TOML file of lanes that override the built-in ones (as for analyze)")
	f.StringVar(&o.bulk, "bulk-source", "", "the PowerMTA virtual MTA or KumoMTA egress source the bulk stream uses: slow only its mail, so transactional mail keeps its pace")
	f.StringVar(&o.format, "format", "text", "output format: text, json or markdown")
	f.StringVar(&o.outDir, "out-dir", "", "write the configuration files (and the cohort CSVs) into this directory")
	c := &o.cohorts
	f.StringVar(&c.recipients, "recipients", "", "CSV of recipients with their last open, click, purchase, reply or login dates: split the restarted lanes' recipients into cohorts")
	f.StringVar(&c.suppress, "suppress", "", "addresses never to mail (hard bounces, complaints): one a line, or an export with them in any column")
	f.IntSliceVar(&c.windows, "windows", []int{30, 90, 180}, "engagement windows in days; older than the last is inactive")
	f.StringVar(&c.asOf, "as-of", "", "count engagement ages from this date (default today)")
	c.cols = map[string]*string{}
	for _, name := range []string{"address", "open", "click", "purchase", "reply", "login"} {
		c.cols[name] = f.String("col-"+name, "", "the recipients CSV's "+name+" column (default: common names)")
	}
	return cmd
}

func runPlan(cmd *cobra.Command, e *env, o *planOptions, args []string) error {
	switch {
	case o.format != "text" && o.format != "json" && o.format != "markdown":
		return usagef("--format %q: want text, json or markdown", o.format)
	case o.mta != "" && !slices.Contains(plan.MTAs, o.mta):
		return usagef("--mta %q: want %s", o.mta, strings.Join(plan.MTAs, ", "))
	case o.threshold < 0 || o.threshold >= 1:
		return usagef("--threshold %v: want a fraction from 0 to 1", o.threshold)
	case o.analysis != "" && len(args) > 0:
		return usagef("give log files or --analysis, not both")
	case o.cohorts.recipients == "" && o.cohorts.suppress != "":
		return usagef("--suppress needs --recipients: it takes addresses out of the cohorts")
	}
	for i, w := range o.cohorts.windows {
		if w <= 0 || i > 0 && w <= o.cohorts.windows[i-1] {
			return usagef("--windows %v: want increasing numbers of days", o.cohorts.windows)
		}
	}
	if o.relayhost != "" && o.mta != "postfix" && o.mta != "" {
		return usagef("--relayhost is for Postfix (--mta postfix)")
	}
	cat, lanes, err := catalogAndLanes(o.lanesFile)
	if err != nil {
		return err
	}
	res, err := planInput(cmd, e, o, args, cat, lanes)
	if err != nil {
		return err
	}
	// A table that has learned nothing of MX hosts: the lane of a domain
	// by its name alone.
	_, byName, err := catalogAndLanes(o.lanesFile)
	if err != nil {
		return err
	}
	named := func(domain string) string { return byName.Lane(domain, "") }
	mta, note, err := planMTA(o, res.Inputs)
	if err != nil {
		return err
	}
	p := plan.New(res, plan.Options{Threshold: o.threshold, SharedNexthop: o.shared, Relayhost: o.relayhost, BulkSource: o.bulk, Known: lanes.Known, Named: named, MTA: mta})
	var files []throttle.File
	if mta != "" {
		if files, err = p.Config(mta); err != nil {
			return err
		}
	}
	rep := &report.PlanReport{Plan: p, MTA: mta, Files: files}
	if len(p.Lanes) > 0 {
		rep.ConfigNote = note
	}
	if o.cohorts.recipients != "" {
		if rep.CohortFiles, err = splitRecipients(e, o, p, res.HardBounces); err != nil {
			return err
		}
	} else if o.outDir != "" {
		warnOldCohorts(e, o.outDir)
	}
	if o.outDir != "" {
		if rep.Written, err = writeFiles(o.outDir, files); err != nil {
			return &codeError{code: exitError, err: err}
		}
	}
	var buf bytes.Buffer
	switch o.format {
	case "json":
		err = report.PlanJSON(&buf, rep)
	case "markdown":
		err = report.PlanMarkdown(&buf, rep)
	default:
		err = report.PlanText(&buf, rep, textOptions(e, true))
	}
	if err != nil {
		return fmt.Errorf("rendering the plan: %w", err)
	}
	_, err = e.stdout.Write(buf.Bytes())
	return err
}

// warnOldCohorts says that --out-dir holds the cohort files of an
// earlier plan, which this one, without --recipients, neither wrote nor
// removed: a sender must not mail last week's lists as this plan's.
func warnOldCohorts(e *env, dir string) {
	old, err := cohort.Existing(dir)
	if err != nil || len(old) == 0 {
		return
	}
	fmt.Fprintf(e.stderr, "mailtriage: --out-dir: %s from an earlier plan (%s, ...) left as they were: this plan split no recipients (no --recipients)\n",
		numfmt.Count(int64(len(old)), "cohort file"), old[0])
}

// planMTA is the MTA the plan configures: --mta, Postfix for
// --relayhost, else the one whose logs were read (see plan.ChooseMTA).
func planMTA(o *planOptions, inputs []analysis.Input) (mta, note string, err error) {
	switch {
	case o.mta != "":
		return o.mta, "", nil
	case o.relayhost != "":
		return "postfix", "", nil
	}
	mta, note, err = plan.ChooseMTA(ingest.SendingMTAs(inputs))
	if errors.Is(err, plan.ErrSeveralMTAs) {
		return "", "", usagef("%v with --mta", err)
	}
	return mta, note, err
}

// catalogAndLanes loads the built-in providers and the lanes, with the
// user's lane file (if any) on top.
func catalogAndLanes(lanesFile string) (*provider.Catalog, *lane.Table, error) {
	cat, err := provider.Builtin()
	if err != nil {
		return nil, nil, err
	}
	lanes, err := newLanes(cat, lanesFile)
	return cat, lanes, err
}

// planInput is the analysis the plan is drawn from: a saved one, or the
// logs analysed with the default settings.
func planInput(cmd *cobra.Command, e *env, o *planOptions, args []string, cat *provider.Catalog, lanes *lane.Table) (*analysis.Result, error) {
	if o.analysis != "" {
		data, err := os.ReadFile(o.analysis)
		if err != nil {
			return nil, &codeError{code: exitError, err: fmt.Errorf("--analysis: %w", err)}
		}
		var r analysis.Result
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, &codeError{code: exitError, err: fmt.Errorf("--analysis %s: not an analysis (analyze --format json): %w", o.analysis, err)}
		}
		if len(r.Lanes) == 0 && len(r.Hourly) == 0 {
			return nil, &codeError{code: exitError, err: fmt.Errorf("--analysis %s: holds no lanes: is it analyze --format json output?", o.analysis)}
		}
		return &r, nil
	}
	if len(args) == 0 {
		if isTerminal(e.stdin) {
			return nil, usagef("give log files, or --analysis FILE; see '%s --help'", cmd.CommandPath())
		}
		args = []string{"-"}
	}
	cl, err := newClassifier(cat, "")
	if err != nil {
		return nil, err
	}
	rep := ingest.Logs(cmd.Context(), args, e.stdin, ingest.Config{
		Classifier: cl, Lanes: lanes, Location: time.UTC, Now: time.Now(), Analysis: analysis.DefaultOptions(), Log: e.log,
	})
	for _, ie := range rep.Errors {
		fmt.Fprintf(e.stderr, "mailtriage: %v\n", ie)
	}
	if rep.Failed() {
		// Evidence and plan check read their logs here too: say what is
		// not made.
		what := "no plan is made"
		switch cmd.CommandPath() {
		case "mailtriage evidence":
			what = "no evidence pack is made"
		case "mailtriage plan check":
			what = "the plan is not checked"
		}
		return nil, &codeError{code: exitError, err: fmt.Errorf("an input could not be read; %s from part of the logs", what)}
	}
	return rep.Result, nil
}

// writeFiles writes each file under dir, atomically, and returns their
// paths.
func writeFiles(dir string, files []throttle.File) ([]string, error) {
	var paths []string
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return paths, fmt.Errorf("--out-dir: %w", err)
		}
		if err := outfile.Write(path, []byte(f.Content)); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
