package cohort

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

var asOf = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func opts() Options {
	apple := map[string]bool{"icloud.com": true, "me.com": true, "mac.com": true}
	return Options{
		Columns: DefaultColumns(), Windows: []int{30, 90, 180}, AsOf: asOf,
		LaneOf: func(d string) string {
			if apple[d] {
				return "apple"
			}
			if d == "yahoo.com" {
				return "yahoo"
			}
			return ""
		},
		OpensIgnored: apple,
		Suppressed:   func(a string) bool { return a == "gone@icloud.com" },
	}
}

type row struct{ lane, cohort, addr string }

func split(t *testing.T, csv string) ([]row, *Summary, error) {
	t.Helper()
	var rows []row
	s, err := Split(strings.NewReader(csv), "list.csv", opts(), func(lane, cohort, addr string, _ time.Time) error {
		rows = append(rows, row{lane, cohort, addr})
		return nil
	})
	return rows, s, err
}

func TestSplit(t *testing.T) {
	rows, s, err := split(t, `Email,Last_Open,Last_Click,Last_Purchase
clicker@icloud.com,,2026-11-20,
opener@icloud.com,2026-11-30,,
buyer@icloud.com,,,2026-07-01
yopen@yahoo.com,2026-11-25,,
yclick@yahoo.com,2026-11-25,2026-11-25,
old@icloud.com,,2025-01-01,
never@icloud.com,,,
gone@icloud.com,,2026-11-29,
CLICKER@icloud.com,,2026-11-21,
x@gmail.com,,2026-11-29,
no-at-sign,,2026-11-29,
bad@icloud.com,,30/11/2026,
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"apple", "engaged-30d", "clicker@icloud.com"},
		// Apple's opens are not counted at all (Mail Privacy Protection).
		{"apple", "inactive", "opener@icloud.com"},
		{"apple", "engaged-180d", "buyer@icloud.com"},
		// Elsewhere an open alone counts one window later.
		{"yahoo", "engaged-90d", "yopen@yahoo.com"},
		{"yahoo", "engaged-30d", "yclick@yahoo.com"},
		{"apple", "inactive", "old@icloud.com"},
		{"apple", "inactive", "never@icloud.com"},
		{"apple", "suppressed", "gone@icloud.com"},
		{"apple", "inactive", "bad@icloud.com"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("got\n%v\nwant\n%v", rows, want)
	}
	if s.Rows != 12 || s.Duplicates != 1 || s.NoAddress != 1 || s.OtherLanes != 1 || s.BadDates != 1 || !strings.Contains(s.Samples[0], "line 13") {
		t.Errorf("summary %+v", s)
	}
	if s.Cohorts["apple"]["inactive"] != 4 || s.Cohorts["yahoo"]["engaged-90d"] != 1 {
		t.Errorf("counts %v", s.Cohorts)
	}
}

func TestSplitErrors(t *testing.T) {
	for _, tt := range []struct{ csv, want string }{
		{"name,phone\nx,1\n", "address column"},
		{"email,phone\nx@y.com,1\n", "no engagement date column (last open"},
		{"", "empty: no header"},
		{"\ufeff", "empty: no header"},
	} {
		_, _, err := split(t, tt.csv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.csv, err, tt.want)
		}
	}
	if _, _, err := split(t, "name\nx\n"); !errors.Is(err, ErrColumns) {
		t.Errorf("ErrColumns not wrapped: %v", err)
	}
	// A column named for it that the header lacks is an error, even when
	// another date column is there: its dates would be silently lost.
	o := opts()
	o.Columns.Click, o.Columns.Required = []string{"clicked"}, []string{"clicked"}
	if _, err := Split(strings.NewReader("email,last_open,last_click\n"), "x", o, nil); !errors.Is(err, ErrColumns) || !strings.Contains(err.Error(), `"clicked"`) {
		t.Errorf("a named column missing: %v", err)
	}
	o = opts()
	o.Windows = []int{90, 30}
	if _, err := Split(strings.NewReader("email,last_click\n"), "x", o, nil); err == nil {
		t.Error("windows out of order accepted")
	}
}

// TestSplitRough: what real exports hold. A byte order mark before a
// quoted header; a row with a stray quote (counted, the rest still read);
// basic ISO 8601 dates and Unix milliseconds; a date in the future (not
// engagement); a click last week beside a newer open (the click decides).
func TestSplitRough(t *testing.T) {
	rows, s, err := split(t, "\ufeff\"Email\",\"Last_Open\",\"Last_Click\"\n"+
		"a@yahoo.com,,20261120\n"+
		"b\"ad@yahoo.com,,2026-11-20\n"+
		"c@yahoo.com,,1795000000000\n"+
		"d@yahoo.com,,2027-06-01\n"+
		"e@yahoo.com,2026-11-30,2026-11-24\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"yahoo", "engaged-30d", "a@yahoo.com"},
		{"yahoo", "engaged-30d", "c@yahoo.com"},
		{"yahoo", "inactive", "d@yahoo.com"},
		{"yahoo", "engaged-30d", "e@yahoo.com"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("got\n%v\nwant\n%v", rows, want)
	}
	if s.BadRows != 1 || len(s.RowSamples) != 1 || !strings.Contains(s.RowSamples[0], "line 3") || s.BadDates != 1 {
		t.Errorf("summary %+v", s)
	}
}

// TestBoundedMemory splits a million rows: the summary holds counts, and
// the sink sees each row once.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows")
	}
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintln(pw, "email,last_click")
		for i := range 1_000_000 {
			fmt.Fprintf(pw, "user%d@icloud.com,2026-11-%02d\n", i, 1+i%28)
		}
		pw.Close()
	}()
	n := 0
	s, err := Split(pr, "big.csv", opts(), func(string, string, string, time.Time) error { n++; return nil })
	if err != nil || n != 1_000_000 || s.Cohorts["apple"]["engaged-30d"] != 1_000_000 {
		t.Fatalf("%d rows, %v, %+v", n, err, s)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("email,last_open,last_click\na@icloud.com,2026-01-01,\nb@yahoo.com,,1700000000\n")
	f.Add("email,last_click\n\"a,b\n")
	f.Fuzz(func(t *testing.T, csv string) {
		Split(strings.NewReader(csv), "fuzz.csv", opts(), func(lane, cohort, addr string, _ time.Time) error {
			if lane == "" || cohort == "" || !strings.Contains(addr, "@") {
				t.Errorf("bad row %q %q %q", lane, cohort, addr)
			}
			return nil
		})
	})
}

func TestHashSet(t *testing.T) {
	var s hashSet
	for i := uint64(0); i < 5000; i++ {
		if s.add(i * 0x9e3779b97f4a7c15) {
			t.Fatalf("%d: already there", i)
		}
	}
	for i := uint64(0); i < 5000; i++ {
		if !s.add(i * 0x9e3779b97f4a7c15) {
			t.Fatalf("%d: lost", i)
		}
	}
	if s.n != 4999 || !s.hasZero {
		t.Errorf("n %d zero %v", s.n, s.hasZero)
	}
}

// TestSplitSeparators: exports from spreadsheets in much of Europe use
// semicolons, and some ESPs write tab-separated files; the header tells
// which (a comma inside a quoted header name does not).
func TestSplitSeparators(t *testing.T) {
	for _, list := range []string{
		"\"Email, or not\";last_click\r\na@yahoo.com;2026-11-20\r\n",
		"email\tlast_click\na@yahoo.com\t2026-11-20\n",
		"\"email; primary\",last_click\na@yahoo.com,2026-11-20\n",
	} {
		o := opts()
		o.Columns.Address = append(o.Columns.Address, "email, or not", "email; primary")
		var rows []row
		_, err := Split(strings.NewReader(list), "list.csv", o, func(lane, cohort, addr string, _ time.Time) error {
			rows = append(rows, row{lane, cohort, addr})
			return nil
		})
		want := []row{{"yahoo", "engaged-30d", "a@yahoo.com"}}
		if err != nil || fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("%q: %v %v", list, rows, err)
		}
	}
}

// TestSplitAddressForms: exports write an address with its display name,
// in angle brackets, or padded; each is the recipient at its domain, not
// a recipient outside the lanes. An address with a space inside is none.
func TestSplitAddressForms(t *testing.T) {
	rows, s, err := split(t, `email,last_click
Jane Doe <Jane@Yahoo.com>,2026-11-20
"""Doe, Jane"" <jane@yahoo.com>",2026-11-20
<k@yahoo.com>,2026-11-20
 l@yahoo.com ,2026-11-20
j doe@yahoo.com,2026-11-20
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"yahoo", "engaged-30d", "jane@yahoo.com"},
		{"yahoo", "engaged-30d", "k@yahoo.com"},
		{"yahoo", "engaged-30d", "l@yahoo.com"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("got\n%v\nwant\n%v", rows, want)
	}
	if s.Duplicates != 1 || s.NoAddress != 1 || s.OtherLanes != 0 || s.BadRows != 0 {
		t.Errorf("summary %+v", s)
	}
}

// TestParseDate: the forms exports write (Klaviyo's "2021-09-15 13:34"
// and "2021-09-15 13:34:08+00:00", HubSpot's and databases' with a zone
// after a space, ISO 8601 offsets without a colon).
func TestParseDate(t *testing.T) {
	want := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, v := range []string{
		"2026-11-25T09:00:00Z",
		"2026-11-25T10:00:00+01:00",
		"2026-11-25T10:00:00+0100",
		"2026-11-25T09:00:00.123Z",
		"2026-11-25 09:00:00",
		"2026-11-25 09:00",
		"2026-11-25T09:00",
		"2026-11-25 10:00:00+01:00",
		"2026-11-25 09:00:00 +0000",
		"2026-11-25 09:00:00 UTC",
		"1795597200",
		"1795597200000",
	} {
		got, err := parseDate(v)
		if err != nil || !got.Truncate(time.Second).Equal(want) {
			t.Errorf("%q: %v %v, want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"11/25/2026", "25/11/2026", "0000-00-00 00:00:00", "NULL", "0", "-1"} {
		if got, err := parseDate(v); err == nil {
			t.Errorf("%q: %v, want an error", v, got)
		}
	}
}

// TestSplitUnclosedQuote: a quote opened and never closed swallows every
// row after it; that is an error naming the file and the line, not one
// row "that could not be read".
func TestSplitUnclosedQuote(t *testing.T) {
	_, _, err := split(t, "email,last_click\na@yahoo.com,2026-11-20\nb@yahoo.com,\"2026-11-20\nc@yahoo.com,2026-11-20\nd@yahoo.com,2026-11-20\n")
	if err == nil || !strings.Contains(err.Error(), "list.csv: line 3") {
		t.Errorf("got %v, want an error at list.csv: line 3", err)
	}
}

// TestSplitHeaderSpelling: Mailchimp heads its export "Email Address",
// Salesforce Marketing Cloud "EmailAddress"; spaces, underscores and
// hyphens in a header name do not matter.
func TestSplitHeaderSpelling(t *testing.T) {
	for _, header := range []string{"Email Address,Last Click", "EmailAddress,LastClick", "E-mail_Address,last-click"} {
		rows, _, err := split(t, header+"\na@yahoo.com,2026-11-20\n")
		if want := []row{{"yahoo", "engaged-30d", "a@yahoo.com"}}; err != nil || fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("%q: %v %v", header, rows, err)
		}
	}
}
