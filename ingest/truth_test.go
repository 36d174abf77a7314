package ingest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/samplelog"
)

// TestGroundTruth analyses the simulated relay's logs and compares every
// count, exactly, with what the simulation did (samplelog.Truth, which
// says how it counts): the summary's messages, notifications, recipient
// outcomes, attempts, deferrals and local deferrals; each lane's attempts
// by status, local deferrals, recipients, expired and pending; each lane's
// hours' attempts, deferrals and bounces. The shipped sample's
// configuration and others (seeds, scales, lengths, queue lifetimes,
// traditional stamps over a new year) keep the test from fitting one log.
func TestGroundTruth(t *testing.T) {
	shipped := samplelog.Default()
	tests := []struct {
		name string
		cfg  func(*samplelog.Config)
		year int // for traditional stamps
	}{
		{"shipped sample", func(*samplelog.Config) {}, 0},
		{"seed 7, half scale, three days, traditional stamps", func(c *samplelog.Config) {
			c.Seed, c.Scale, c.Days, c.Traditional = 7, 0.5, 3, true
		}, 2026},
		{"seed 42, scale 1.5, two days over the new year, traditional stamps", func(c *samplelog.Config) {
			c.Seed, c.Scale, c.Days, c.Traditional = 42, 1.5, 2, true
			c.Start = time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
		}, 2026},
		{"seed 3, five days, six-hour queue lifetime", func(c *samplelog.Config) {
			c.Seed, c.Days, c.Lifetime = 3, 5, 6*time.Hour
		}, 0},
		// Ends between a content filter's hop and the copy's delivery.
		{"seed 127, scale 2, two days from 14:00, three-hour queue lifetime", func(c *samplelog.Config) {
			c.Seed, c.Scale, c.Days, c.Lifetime = 127, 2, 2, 3*time.Hour
			c.Start = c.Start.Add(14 * time.Hour)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := shipped
			tt.cfg(&cfg)
			var log bytes.Buffer
			truth, err := samplelog.GenerateTruth(&log, cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := config(t)
			c.Year = tt.year
			rep := Logs(context.Background(), []string{"-"}, bytes.NewReader(log.Bytes()), c)
			if rep.Failed() {
				t.Fatal(rep.Errors)
			}
			compareTruth(t, truth, rep.Result)
		})
	}
}

// compareTruth reports every count in which r differs from truth.
func compareTruth(t *testing.T, truth *samplelog.Truth, r *analysis.Result) {
	t.Helper()
	check := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: analysed %d, the simulation did %d", what, got, want)
		}
	}
	s := r.Summary
	check("messages", s.Messages, truth.Messages)
	check("notifications", s.Notifications, truth.Notifications)
	check("recipients", s.Recipients, truth.Outcomes.Recipients)
	check("delivered", s.Delivered, truth.Outcomes.Delivered)
	check("bounced", s.Bounced, truth.Outcomes.Bounced)
	check("expired", s.Expired, truth.Outcomes.Expired)
	check("pending", s.Pending, truth.Outcomes.Pending)
	check("deleted", s.Deleted, 0)
	check("attempts", s.Attempts, truth.Attempts.Total)
	check("deferrals", s.Deferrals, truth.Attempts.Deferred)
	check("local deferrals", s.LocalDeferrals, truth.LocalDeferrals)

	lanes := map[string]analysis.LaneStats{}
	for _, l := range r.Lanes {
		lanes[l.Lane] = l
	}
	for _, name := range union(lanes, truth.Lanes) {
		got, want := lanes[name], truth.Lanes[name]
		if want == nil {
			want = &samplelog.Tally{}
		}
		check(name+" attempts", got.Attempts, want.Attempts.Total)
		check(name+" delivered attempts", got.Delivered, want.Attempts.Delivered)
		check(name+" deferrals", got.Deferrals, want.Attempts.Deferred)
		check(name+" bounces", got.Bounces, want.Attempts.Bounced)
		check(name+" local deferrals", got.LocalDeferrals, want.LocalDeferrals)
		check(name+" recipients", got.Recipients, want.Outcomes.Recipients)
		check(name+" expired", got.Expired, want.Outcomes.Expired)
		check(name+" pending", got.Pending, want.Outcomes.Pending)
	}

	hours := map[samplelog.LaneHour]analysis.HourStats{}
	for _, h := range r.Hourly {
		hours[samplelog.LaneHour{Lane: h.Lane, Hour: h.Hour.UTC()}] = h
	}
	for _, k := range union(hours, truth.Hours) {
		got, want := hours[k], truth.Hours[k]
		if want == nil {
			want = &samplelog.Attempts{}
		}
		at := fmt.Sprintf("%s %s", k.Lane, k.Hour.Format("2006-01-02T15"))
		check(at+" attempts", got.Attempts, want.Total)
		check(at+" deferrals", got.Deferrals, want.Deferred)
		check(at+" bounces", got.Bounces, want.Bounced)
	}
}

// union returns the keys of a and b, sorted by their string form.
func union[K comparable, A, B any](a map[K]A, b map[K]B) []K {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y K) int {
		return cmp.Compare(fmt.Sprint(x), fmt.Sprint(y))
	})
	return keys
}

// TestUntilIsTheLogCutThere: --until X reports what the log cut at X
// reports, so the recipients still queued at X are pending, with the
// reasons they had heard by then, and their messages counted; nothing
// said after X counts.
func TestUntilIsTheLogCutThere(t *testing.T) {
	cfg := samplelog.Default()
	cfg.Seed, cfg.Days = 3, 3
	var log bytes.Buffer
	if err := samplelog.Generate(&log, cfg); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []time.Time{
		cfg.Start.Add(30 * time.Hour),                // in the incident
		cfg.Start.Add(50*time.Hour + 17*time.Minute), // an odd minute
	} {
		t.Run(cut.Format(time.RFC3339), func(t *testing.T) {
			var head bytes.Buffer
			for line := range bytes.Lines(log.Bytes()) {
				stamp, _, _ := bytes.Cut(line, []byte(" "))
				// The noise lines with no stamp stay: --until does not
				// window unreadable lines.
				at, err := time.Parse(time.RFC3339Nano, string(stamp))
				if err != nil || at.Before(cut) {
					head.Write(line)
				}
			}
			c := config(t)
			cutRep := Logs(context.Background(), []string{"-"}, bytes.NewReader(head.Bytes()), c)
			c.Analysis.Until = cut
			untilRep := Logs(context.Background(), []string{"-"}, bytes.NewReader(log.Bytes()), c)
			if cutRep.Failed() || untilRep.Failed() {
				t.Fatal(cutRep.Errors, untilRep.Errors)
			}
			got, want := untilRep.Result, cutRep.Result
			if got.Summary != want.Summary {
				t.Errorf("summary with --until:\n%+v\nthe log cut there:\n%+v", got.Summary, want.Summary)
			}
			if want.Summary.Pending == 0 {
				t.Errorf("nothing pending at %v: the cut tests nothing", cut)
			}
			for name, pair := range map[string][2]any{
				"lanes":     {got.Lanes, want.Lanes},
				"hourly":    {got.Hourly, want.Hourly},
				"responses": {got.Responses, want.Responses},
				"expired":   {got.Expired, want.Expired},
			} {
				if g, w := fmt.Sprintf("%+v", pair[0]), fmt.Sprintf("%+v", pair[1]); g != w {
					t.Errorf("%s with --until:\n%s\nthe log cut there:\n%s", name, g, w)
				}
			}
			if len(got.PendingRecipients) != len(want.PendingRecipients) {
				t.Fatalf("%d pending recipients listed, the cut log lists %d", len(got.PendingRecipients), len(want.PendingRecipients))
			}
			for i, p := range got.PendingRecipients {
				w := want.PendingRecipients[i]
				if !p.Time.Equal(cut) {
					t.Errorf("pending %s at %v, want the window's end %v", p.Recipient, p.Time, cut)
				}
				p.Time = w.Time
				if p != w {
					t.Errorf("pending recipient %d with --until:\n%+v\nthe log cut there:\n%+v", i, p, w)
				}
			}
		})
	}
}
