package main

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtriage/mailtriage/analysis"
)

// TestParseTime checks the forms --since and --until take: RFC 3339
// date-times (§5.6: "T" and "Z" may be lower case, and the "T" may be a
// space), and dates or date-times without a zone, read in --tz.
func TestParseTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	for _, tc := range []struct{ in, want string }{
		{"2026-11-30T10:00:00Z", "2026-11-30T10:00:00Z"},
		{"2026-11-30T10:00:00.5Z", "2026-11-30T10:00:00.5Z"},
		{"2026-11-30T10:00:00+01:00", "2026-11-30T09:00:00Z"},
		{"2026-11-30T10:00:00-05:30", "2026-11-30T15:30:00Z"},
		{"2026-11-30t10:00:00z", "2026-11-30T10:00:00Z"},
		{"2026-11-30 10:00:00Z", "2026-11-30T10:00:00Z"},
		{"2026-11-30 10:00:00+01:00", "2026-11-30T09:00:00Z"},
		{"2026-11-30T10:00:00", "2026-11-30T09:00:00Z"}, // in --tz
		{"2026-11-30 10:00:00", "2026-11-30T09:00:00Z"},
		{"2026-11-30T10:00", "2026-11-30T09:00:00Z"},
		{"2026-11-30", "2026-11-29T23:00:00Z"},
	} {
		got, err := parseTime(tc.in, berlin)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if g := got.UTC().Format(time.RFC3339Nano); g != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, g, tc.want)
		}
	}
	for _, in := range []string{"yesterday", "2026-13-01", "30/11/2026", "2026-11-30T25:00:00Z"} {
		if _, err := parseTime(in, berlin); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// TestSinceUntilHelp: --help says what TestParseTime checks: a date, or a
// time without a zone, is in --tz, and --until is exclusive, so a date
// alone ends the window at that day's start.
func TestSinceUntilHelp(t *testing.T) {
	_, out, _ := mt(t, "", "analyze", "--help")
	for _, want := range []string{
		"only events at or after this time (RFC 3339; a date, or a date and time without zone, is in --tz)",
		"only events before this time (as --since; a date alone is that day's start, so --until 2026-11-28 ends with 27 November)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// TestTZHelp: --help's --tz names every stamp it applies to, as the
// README does: PowerMTA's timeLogged without a zone is read in it too
// (source/pmta), not only syslog's, RFC 3339's and Exim's.
func TestTZHelp(t *testing.T) {
	_, out, _ := mt(t, "", "analyze", "--help")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--tz ") {
			for _, want := range []string{"traditional syslog", "RFC 3339 without an offset", "Exim", "PowerMTA"} {
				if !strings.Contains(line, want) {
					t.Errorf("--tz's help %q does not name %s", strings.TrimSpace(line), want)
				}
			}
			return
		}
	}
	t.Error("--help has no --tz")
}

// TestReadmeJSONFields: the README's sentence "The JSON report's
// top-level fields are ..." names every top-level field of analyze
// --format json (those the sample's report has, and those only some
// runs add), and no field the report does not have.
func TestReadmeJSONFields(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(readme)), " ")
	start := strings.Index(text, "The JSON report's top-level fields are")
	if start < 0 {
		t.Fatal("README: no sentence on the JSON report's top-level fields")
	}
	sentence := text[start:]
	sentence = sentence[:strings.Index(sentence, ";")]
	var named []string
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(sentence, -1) {
		named = append(named, m[1])
	}
	var want []string
	for _, f := range reflect.VisibleFields(reflect.TypeOf(analysis.Result{})) {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			want = append(want, name)
		}
	}
	slices.Sort(named)
	slices.Sort(want)
	if !slices.Equal(named, want) {
		t.Errorf("README names %v\nthe report has %v", named, want)
	}
}
