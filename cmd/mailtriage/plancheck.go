package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/mailtriage/mailtriage/plan"
	"github.com/mailtriage/mailtriage/report"
	"github.com/spf13/cobra"
)

type planCheckOptions struct {
	plan     string
	start    string
	analysis string
	lanes    string
	format   string
}

func newPlanCheck(e *env) *cobra.Command {
	o := &planCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check --plan PLAN.json [FILE...]",
		Short: "Follow a recovery plan through new logs: which step each lane is on, and whether to advance, hold or roll back",
		Long: `plan check reads a plan (plan --format json) and the logs since it started
(or a saved analysis of them) and says, per lane and day, which step of the
schedule the lane was on, its hourly deferral rates against the plan's
threshold, and the decision: advance (every hour under the threshold), hold
(an hour over it: stay on the step another day), or roll back (the day as a
whole over it: one step back). Holding and rolling back name the cohort
added last, the first suspect. The last line says what to do now.

--start is the plan's day one (default: the first day of the logs).
--lanes is the lane file the plan was made with (plan --lanes): without it
the logs are sorted into the built-in lanes, and a lane only that file
places would see no mail.

Exit status: 0 every lane can advance or hold; 1 an input could not be read;
2 wrong usage; 3 a lane must roll back.`,
		Example: `  mailtriage plan --analysis before.json --format json > plan.json   # before.json: analyze --format json of the incident
  mailtriage plan check --plan plan.json --start 2026-12-01 /var/log/mail.log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlanCheck(cmd, e, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.plan, "plan", "", "the plan, as plan --format json wrote it (required)")
	f.StringVar(&o.start, "start", "", "the plan's day one, 2026-12-01 (default: the first day of the logs)")
	f.StringVar(&o.analysis, "analysis", "", "a saved analysis of the new logs instead of log files")
	f.StringVar(&o.lanes, "lanes", "", "the TOML lane file the plan was made with (plan --lanes)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

func runPlanCheck(cmd *cobra.Command, e *env, o *planCheckOptions, args []string) error {
	switch {
	case o.plan == "":
		return usagef("--plan PLAN.json is required: the plan to follow (plan --format json)")
	case o.format != "text" && o.format != "json":
		return usagef("--format %q: want text or json", o.format)
	case o.analysis != "" && len(args) > 0:
		return usagef("give log files or --analysis, not both")
	}
	data, err := os.ReadFile(o.plan)
	if err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("--plan: %w", err)}
	}
	var p plan.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("--plan %s: not a plan (plan --format json): %w", o.plan, err)}
	}
	if err := p.Valid(); err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("--plan %s: not a plan (plan --format json): %w", o.plan, err)}
	}
	cat, lanes, err := catalogAndLanes(o.lanes)
	if err != nil {
		return err
	}
	res, err := planInput(cmd, e, &planOptions{analysis: o.analysis}, args, cat, lanes)
	if err != nil {
		return err
	}
	start := time.Time{}
	if o.start != "" {
		if start, err = time.Parse("2006-01-02", o.start); err != nil {
			return usagef("--start %q: want a date, 2026-12-01", o.start)
		}
	} else {
		for _, h := range res.Hourly {
			if start.IsZero() || h.Hour.Before(start) {
				start = h.Hour
			}
		}
	}
	ps := p.Check(res, start)
	var buf bytes.Buffer
	if o.format == "json" {
		err = report.PlanCheckJSON(&buf, ps)
	} else {
		th := map[string]float64{}
		for _, l := range p.Lanes {
			th[l.Lane] = l.Threshold
		}
		err = report.PlanCheckText(&buf, ps, th, textOptions(e, true))
	}
	if err != nil {
		return err
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	for _, lp := range ps {
		if n := len(lp.Days); n > 0 && lp.Days[n-1].Decision == plan.RollBack {
			return &codeError{code: exitProblems}
		}
	}
	return nil
}
