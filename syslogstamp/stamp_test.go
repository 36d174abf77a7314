package syslogstamp

import (
	"testing"
	"time"
)

func TestClockYear(t *testing.T) {
	utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	t.Run("current year when the file is recent", func(t *testing.T) {
		c := &Clock{Now: utc("2026-12-04T10:00:00Z"), Modified: utc("2026-12-04T09:00:00Z")}
		got, _, _ := c.Parse([]byte("Dec  3 10:00:00"))
		if !got.Equal(utc("2026-12-03T10:00:00Z")) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("year before when the stamp would be after the modification time", func(t *testing.T) {
		c := &Clock{Now: utc("2027-01-02T10:00:00Z"), Modified: utc("2027-01-01T23:00:00Z")}
		var r Rollover
		got, _, _ := c.Parse([]byte("Dec 30 10:00:00"))
		if got = r.Fix(got); !got.Equal(utc("2026-12-30T10:00:00Z")) {
			t.Errorf("got %v", got)
		}
		// December to January inside the file carries the year forward...
		got, _, _ = c.Fixed().Parse([]byte("Jan  1 00:10:00"))
		if got = r.Fix(got); !got.Equal(utc("2027-01-01T00:10:00Z")) {
			t.Errorf("after rollover got %v", got)
		}
		// ...for the rest of the file.
		got, _, _ = c.Parse([]byte("Jan  2 00:10:00"))
		if got = r.Fix(got); !got.Equal(utc("2027-01-02T00:10:00Z")) {
			t.Errorf("after rollover got %v", got)
		}
	})
	t.Run("fixed year and zone", func(t *testing.T) {
		loc, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Skip("no tzdata")
		}
		c := &Clock{Year: 2025, Location: loc}
		got, _, _ := c.Parse([]byte("Jul  4 12:00:00"))
		if !got.Equal(utc("2025-07-04T10:00:00Z")) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("Unix stamps carry their zone and year", func(t *testing.T) {
		c := &Clock{Year: 2020, Location: time.FixedZone("X", 3600)}
		for _, tc := range []struct{ stamp, want string }{
			{"1795540801.123456 mx", "2026-11-24T17:20:01.123456Z"},
			{"1795540801 mx", "2026-11-24T17:20:01Z"},
			{"999999999.5 mx", "2001-09-09T01:46:39.5Z"},
		} {
			got, n, ok := c.Parse([]byte(tc.stamp))
			want, _ := time.Parse(time.RFC3339Nano, tc.want)
			if !ok || !got.Equal(want) || tc.stamp[n] != ' ' {
				t.Errorf("%s: got %v %d %v, want %s", tc.stamp, got, n, ok, tc.want)
			}
			if Traditional([]byte(tc.stamp)) {
				t.Errorf("%s: read as traditional", tc.stamp)
			}
		}
		for _, s := range []string{"12345 mx", "1795540801x mx", "1795540801. mx", "17955408011234567 mx"} {
			if _, _, ok := c.Parse([]byte(s)); ok {
				t.Errorf("%q read as a stamp", s)
			}
		}
	})
	t.Run("zone forms", func(t *testing.T) {
		c := &Clock{}
		for _, s := range []string{"2026-11-30T10:00:01+01:00", "2026-11-30T10:00:01+0100", "2026-11-30T09:00:01Z", "2026-11-30 09:00:01"} {
			got, _, ok := c.Parse([]byte(s))
			if !ok || !got.Equal(utc("2026-11-30T09:00:01Z")) {
				t.Errorf("%s: got %v %v", s, got, ok)
			}
		}
	})
}

// TestClockInferYear checks the year given to traditional stamps (RFC 3164
// §4.1.2: "Mmm dd hh:mm:ss", no year): the current year, unless that puts
// the stamp more than a day after the file's modification time; then the
// latest year that does not, however old the file.
func TestClockInferYear(t *testing.T) {
	utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	now := utc("2026-12-05T06:00:00Z")
	for _, tc := range []struct {
		name     string
		modified string
		stamp    string
		want     string
	}{
		{"recent file", "2026-12-04T09:00:00Z", "Dec  3 10:00:00", "2026-12-03T10:00:00Z"},
		{"no modification time", "", "Nov 30 10:00:00", "2026-11-30T10:00:00Z"},
		{"last year's December", "2026-01-01T02:00:00Z", "Dec 31 23:00:00", "2025-12-31T23:00:00Z"},
		{"file written two years ago", "2024-03-04T02:00:00Z", "Mar  3 10:15:00", "2024-03-03T10:15:00Z"},
		{"file written three years ago", "2023-07-01T00:00:00Z", "Jun 30 08:00:00", "2023-06-30T08:00:00Z"},
		{"a day after the modification time", "2026-12-04T06:30:00Z", "Dec  5 06:30:00", "2026-12-05T06:30:00Z"},
		// 06:50 on the 5th is more than a day after 06:30 on the 4th,
		// though its hour is not.
		{"within the hour past a day after", "2026-12-04T06:30:00Z", "Dec  5 06:50:00", "2025-12-05T06:50:00Z"},
		// 2026 has no 29 February: the stamp was written in 2024.
		{"29 February in a common year", "2027-03-01T00:00:00Z", "Feb 29 10:00:00", "2024-02-29T10:00:00Z"},
		{"29 February without a modification time", "", "Feb 29 10:00:00", "2024-02-29T10:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{Now: now}
			if tc.modified != "" {
				c.Modified = utc(tc.modified)
			}
			got, _, ok := c.Parse([]byte(tc.stamp))
			if !ok || !got.Equal(utc(tc.want)) {
				t.Errorf("%s modified %s: got %v, want %s", tc.stamp, tc.modified, got, tc.want)
			}
		})
	}
}

// TestSettleKeepsTheYear: Settle, for stamps that carry their year, moves
// none across a new year, which Fix would: files concatenated out of order
// go back in time without a year of their own to lose.
func TestSettleKeepsTheYear(t *testing.T) {
	var r Rollover
	dec, jan := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	if got := r.Settle(dec); !got.Equal(dec) {
		t.Errorf("Settle(%v) = %v", dec, got)
	}
	if got := r.Settle(jan); !got.Equal(jan) {
		t.Errorf("Settle(%v) after December = %v, want it unmoved", jan, got)
	}
}

// TestLeapFor: the Gregorian leap years, which 29 February needs.
func TestLeapFor(t *testing.T) {
	for _, tc := range []struct{ year, month, day, want int }{
		{2026, 2, 29, 2024},
		{2024, 2, 29, 2024},
		{2100, 2, 29, 2096}, // divisible by 100, not by 400
		{2000, 2, 29, 2000}, // divisible by 400
		{2026, 2, 28, 2026},
		{2026, 3, 29, 2026},
	} {
		if got := leapFor(tc.year, tc.month, tc.day); got != tc.want {
			t.Errorf("leapFor(%d, %d, %d) = %d, want %d", tc.year, tc.month, tc.day, got, tc.want)
		}
	}
}

// TestRollover feeds traditional stamps (no year, RFC 3164 §4.1.2) in line
// order: a fall of more than half a year is December to January, and a
// rise of more than half a year is January back to December, as when
// rotated files are concatenated out of order (zcat mail.log.*.gz lists
// mail.log.1.gz before mail.log.2.gz) or two hosts' logs one after the
// other.
func TestRollover(t *testing.T) {
	utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, tc := range []struct {
		name   string
		year   int
		stamps []string
		want   []string
	}{
		{"December to January", 2025,
			[]string{"Dec 31 23:50:00", "Jan  1 00:10:00", "Jan  2 00:10:00"},
			[]string{"2025-12-31T23:50:00Z", "2026-01-01T00:10:00Z", "2026-01-02T00:10:00Z"}},
		{"back to December after the rollover", 2025,
			[]string{"Dec 31 23:50:00", "Jan  1 00:10:00", "Dec 30 10:00:00", "Dec 31 10:00:00", "Jan  1 00:20:00"},
			[]string{"2025-12-31T23:50:00Z", "2026-01-01T00:10:00Z", "2025-12-30T10:00:00Z", "2025-12-31T10:00:00Z", "2026-01-01T00:20:00Z"}},
		{"January first, then December", 2026,
			[]string{"Jan  1 00:10:00", "Dec 31 23:50:00"},
			[]string{"2026-01-01T00:10:00Z", "2025-12-31T23:50:00Z"}},
		{"a few seconds out of order", 2026,
			[]string{"Nov 30 10:00:05", "Nov 30 10:00:01"},
			[]string{"2026-11-30T10:00:05Z", "2026-11-30T10:00:01Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{Year: tc.year}
			var r Rollover
			for i, s := range tc.stamps {
				got, _, _ := c.Parse([]byte(s))
				if got = r.Fix(got); !got.Equal(utc(tc.want[i])) {
					t.Errorf("%s: got %v, want %s", s, got.UTC(), tc.want[i])
				}
			}
		})
	}
}

// TestRolloverRepeatedHour reads traditional stamps in a zone whose clocks
// go back: the wall-clock hour before the change comes twice (Europe/Berlin
// 02:00-03:00 on the last Sunday of October, first in CEST then in CET;
// America/New_York 01:00-02:00 on the first Sunday of November, EDT then
// EST). Read in order, a stamp in that hour takes the first reading unless
// that goes back more than a few minutes from the line before.
func TestRolloverRepeatedHour(t *testing.T) {
	utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, tc := range []struct {
		name   string
		zone   string
		stamps []string
		want   []string
	}{
		{"Berlin, both passes", "Europe/Berlin",
			[]string{"Oct 25 01:59:00", "Oct 25 02:40:01", "Oct 25 02:59:59", "Oct 25 02:00:00", "Oct 25 02:10:02", "Oct 25 03:00:00"},
			[]string{"2026-10-24T23:59:00Z", "2026-10-25T00:40:01Z", "2026-10-25T00:59:59Z", "2026-10-25T01:00:00Z", "2026-10-25T01:10:02Z", "2026-10-25T02:00:00Z"}},
		{"Berlin, a log starting in the hour", "Europe/Berlin",
			[]string{"Oct 25 02:40:01", "Oct 25 02:10:02"},
			[]string{"2026-10-25T00:40:01Z", "2026-10-25T01:10:02Z"}},
		{"Berlin, a few seconds out of order", "Europe/Berlin",
			[]string{"Oct 25 02:40:05", "Oct 25 02:40:01"},
			[]string{"2026-10-25T00:40:05Z", "2026-10-25T00:40:01Z"}},
		{"New York, both passes", "America/New_York",
			[]string{"Nov  1 01:40:00", "Nov  1 01:10:00", "Nov  1 02:10:00"},
			[]string{"2026-11-01T05:40:00Z", "2026-11-01T06:10:00Z", "2026-11-01T07:10:00Z"}},
		{"New York, second pass only after a gap", "America/New_York",
			[]string{"Nov  1 01:59:00", "Nov  1 01:05:00", "Nov  1 01:30:00"},
			[]string{"2026-11-01T05:59:00Z", "2026-11-01T06:05:00Z", "2026-11-01T06:30:00Z"}},
		{"Berlin, clocks forward", "Europe/Berlin",
			[]string{"Mar 29 01:59:59", "Mar 29 03:00:00"},
			[]string{"2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z"}},
		{"Kolkata, no change", "Asia/Kolkata",
			[]string{"Nov 30 10:15:00", "Nov 30 10:31:00"},
			[]string{"2026-11-30T04:45:00Z", "2026-11-30T05:01:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Skip("no tzdata")
			}
			c := &Clock{Year: 2026, Location: loc}
			r := Rollover{Location: loc}
			for i, s := range tc.stamps {
				got, _, _ := c.Parse([]byte(s))
				if got = r.Fix(got); !got.Equal(utc(tc.want[i])) {
					t.Errorf("%s: got %v, want %s", s, got.UTC(), tc.want[i])
				}
			}
		})
	}
}

// TestMonotonic: journalctl -o short-monotonic starts each line with the
// seconds since boot in brackets ("[%5llu.%06llu]", systemd
// src/shared/logs-show.c), which no wall-clock time can be made of.
func TestMonotonic(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"[ 1234.567890] mx postfix/smtp[4]: AB12CD34EF: to=<a@b>", true},
		{"[    5.000001] mx kernel: Linux version", true},
		{"[123456789.000001] mx postfix/qmgr[1]: AB12CD34EF: removed", true},
		{"[ 1234.567890]", true},
		{"[ID 197553 mail.info] mx", false},
		{"[ 1234] mx", false},
		{"Nov 30 10:00:01 mx postfix/qmgr[1]: AB12CD34EF: removed", false},
		{"[{\"a\": 1}]", false},
		{"", false},
	} {
		if got := Monotonic([]byte(tc.line)); got != tc.want {
			t.Errorf("Monotonic(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// TestTrimPRI: only a "<PRI>" of one to three digits (RFC 5424 section
// 6.2.1) is trimmed; a line that merely has digits and '>' near its
// start is left whole.
func TestTrimPRI(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"<22>Nov 30 10:00:03 mta1", "Nov 30 10:00:03 mta1"},
		{"<1>1 2026-11-30T10:00:00Z", "1 2026-11-30T10:00:00Z"},
		{"<191>x", "x"},
		{"<1912>x", "<1912>x"}, // four digits
		{"<>x", "<>x"},
		{"<22", "<22"},
		{"x22>Nov 30 10:00:03 mta1", "x22>Nov 30 10:00:03 mta1"}, // no '<'
		{"", ""},
	} {
		if got := string(TrimPRI([]byte(tt.line))); got != tt.want {
			t.Errorf("TrimPRI(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// FuzzParse feeds the stamp readers any line: they must not panic, and a
// stamp they read lies within the line.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Nov 30 10:00:01 mx", "Feb 29 10:00:00.123 mx", "2026-11-30T10:00:01.123456+01:00 mx", "2026-11-30 10:00:01 mx",
		"2026-11-30T10:00:01Z", "1795540801.123456 mx", "[ 1234.567890] mx", "<22>1 2026-11-30T10:00:01Z mx", "<22>Nov 30 10:00:01 mx",
		"9999-99-99T99:99:99", "Jan 99 99:99:99 x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := &Clock{Now: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}
		if _, n, ok := c.Parse([]byte(s)); ok && (n <= 0 || n > len(s)) {
			t.Errorf("Parse(%q) used %d bytes", s, n)
		}
		c.FirstStamp([]byte(s))
		Monotonic([]byte(s))
		TrimPRI([]byte(s))
		var r Rollover
		r.Fix(time.Now())
	})
}

// TestFraction: RFC 3339's time-secfrac (§5.6) has any number of digits;
// past nine, nanoseconds, they are read and dropped.
func TestFraction(t *testing.T) {
	for _, tc := range []struct {
		in         string
		nsec, used int
	}{
		{".5", 500000000, 2},
		{".123456+00:00", 123456000, 7},
		{".123456789", 123456789, 10},
		{".1234567891234Z", 123456789, 14},
		{".x", 0, 1},
		{"Z", 0, 0},
		{"", 0, 0},
	} {
		if nsec, used := fraction([]byte(tc.in)); nsec != tc.nsec || used != tc.used {
			t.Errorf("fraction(%q) = %d, %d; want %d, %d", tc.in, nsec, used, tc.nsec, tc.used)
		}
	}
}
