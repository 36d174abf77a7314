// Package cohort splits a recipient list into the cohorts a recovery
// restarts with: the recently engaged first, then older cohorts, and the
// inactive and suppressed left out. It reads a CSV export (an address and
// the dates of last open, click, purchase, reply and login; the column
// names are configurable) as a stream, so a list of millions of rows is
// split in bounded memory.
//
// Opens count less than the other signals: Apple Mail Privacy Protection
// loads every image, so an open says little (the seed story says not to
// trust it alone). An open-only recipient falls one window later than a
// click of the same date, and at Apple's domains opens are not counted.
package cohort

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Columns names the CSV columns; each holds the header names tried, any
// case, spaces, underscores and hyphens ignored ("Email Address" is
// email_address).
type Columns struct {
	Address, Open, Click, Purchase, Reply, Login []string
	// Required are names the header must hold (the columns a user named):
	// one that is missing is an error, not a signal silently left out.
	Required []string
}

// DefaultColumns are the names exports commonly use.
func DefaultColumns() Columns {
	return Columns{
		Address:  []string{"email", "address", "email_address", "recipient"},
		Open:     []string{"last_open", "last_opened", "opened_at", "last_open_date"},
		Click:    []string{"last_click", "last_clicked", "clicked_at", "last_click_date"},
		Purchase: []string{"last_purchase", "purchased_at", "last_order", "last_order_date"},
		Reply:    []string{"last_reply", "replied_at"},
		Login:    []string{"last_login", "logged_in_at", "last_seen"},
	}
}

// Options shape a split.
type Options struct {
	Columns Columns
	// Windows are the ages, in days, that bound the cohorts: 30, 90, 180
	// make engaged-30d, engaged-90d, engaged-180d; older is inactive.
	Windows []int
	// AsOf is the day the ages are counted from.
	AsOf time.Time
	// LaneOf gives a recipient domain's lane; "" leaves it out of the
	// cohorts (it is not a lane being restarted).
	LaneOf func(domain string) string
	// OpensIgnored are domains whose opens are not counted at all
	// (Apple's: icloud.com, me.com, mac.com).
	OpensIgnored map[string]bool
	// Suppressed says whether an address must not be mailed (hard
	// bounces, complaints, unsubscribes).
	Suppressed func(address string) bool
}

// Names of the cohorts that are not engagement windows.
const (
	Inactive   = "inactive"
	Suppressed = "suppressed"
)

// Sink receives each recipient with its lane and cohort, in input order.
type Sink func(lane, cohort, address string, last time.Time) error

// Summary counts what a split saw.
type Summary struct {
	Rows       int                       `json:"rows"`
	Duplicates int                       `json:"duplicates"`
	NoAddress  int                       `json:"no_address"`
	OtherLanes int                       `json:"other_lanes"` // recipients outside the lanes restarted
	BadDates   int                       `json:"bad_dates"`
	Samples    []string                  `json:"bad_date_samples,omitempty"` // the first few, with their line
	BadRows    int                       `json:"bad_rows"`                   // rows the CSV reader could not read: not mailed
	RowSamples []string                  `json:"bad_row_samples,omitempty"`
	Cohorts    map[string]map[string]int `json:"cohorts"`      // lane → cohort → recipients
	Order      []string                  `json:"cohort_order"` // cohort names, first to send first
}

// Names returns the cohort names in sending order.
func Names(windows []int) []string {
	var out []string
	for _, w := range windows {
		out = append(out, fmt.Sprintf("engaged-%dd", w))
	}
	return append(out, Inactive, Suppressed)
}

// ErrColumns is wrapped by the error for a CSV without the columns needed.
var ErrColumns = errors.New("cohort: missing columns")

// Split reads the CSV from r (named name in errors) and hands each
// recipient of a restarted lane to sink.
func Split(r io.Reader, name string, o Options, sink Sink) (*Summary, error) {
	if len(o.Windows) == 0 || !slices.IsSorted(o.Windows) || o.Windows[0] <= 0 {
		return nil, fmt.Errorf("cohort: windows %v: want increasing numbers of days", o.Windows)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	// Spreadsheets start their CSV exports with a byte order mark, which
	// would hide a quoted first header from the CSV reader.
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = separator(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty: no header, no rows", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	cols, err := locate(header, o.Columns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &Summary{Cohorts: map[string]map[string]int{}, Order: Names(o.Windows)}
	seen := &hashSet{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && pe.Line > pe.StartLine && errors.Is(pe.Err, csv.ErrQuote) {
			// A quote that never closes takes the rows after it into
			// one field: they would all be lost.
			return s, fmt.Errorf("%s: line %d: a quoted field opens here and does not close properly (it reads on to line %d, taking the rows between with it); fix the quote", name, pe.StartLine, pe.Line)
		}
		if errors.As(err, &pe) {
			// One mangled row (a stray quote) must not lose the rest of
			// the list; it is counted and shown, and not mailed.
			s.BadRows++
			if len(s.RowSamples) < 5 {
				s.RowSamples = append(s.RowSamples, pe.Error())
			}
			continue
		}
		if err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		s.Rows++
		if err := s.row(rec, line, cols, o, seen, sink); err != nil {
			return s, err
		}
	}
	return s, nil
}

// separator tells the header's separator: a comma, or the semicolon of
// spreadsheets set to a European locale, or a tab, whichever the first
// line holds most of outside quotes.
func separator(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	counts := map[byte]int{}
	quoted := false
	for _, b := range head {
		if b == '"' {
			quoted = !quoted
		} else if b == '\n' && !quoted {
			break
		} else if !quoted {
			counts[b]++
		}
	}
	sep := byte(',')
	for _, b := range []byte{';', '\t'} {
		if counts[b] > counts[sep] {
			sep = b
		}
	}
	return rune(sep)
}

// columns are the indexes of the columns found; -1 for absent.
type columns struct {
	address int
	dates   [5]int // open, click, purchase, reply, login
}

// locate finds the columns by header name.
func locate(header []string, c Columns) (columns, error) {
	// "Email Address", "EmailAddress" and "email_address" are one name.
	norm := func(h string) string {
		return strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "", "\ufeff", "").Replace(h))
	}
	find := func(names []string) int {
		for i, h := range header {
			h = norm(h)
			for _, n := range names {
				if h == norm(n) {
					return i
				}
			}
		}
		return -1
	}
	cols := columns{address: find(c.Address)}
	for i, names := range [][]string{c.Open, c.Click, c.Purchase, c.Reply, c.Login} {
		cols.dates[i] = find(names)
	}
	var missing []string
	for _, n := range c.Required {
		if find([]string{n}) < 0 {
			missing = append(missing, fmt.Sprintf("%q column", n))
		}
	}
	if cols.address < 0 {
		missing = append(missing, fmt.Sprintf("address column (%s)", strings.Join(c.Address, ", ")))
	}
	if cols.dates == [5]int{-1, -1, -1, -1, -1} {
		missing = append(missing, "engagement date column (last open, click, purchase, reply or login)")
	}
	if len(missing) > 0 {
		return cols, fmt.Errorf("%w: no %s; the header has %s", ErrColumns, strings.Join(missing, ", nor "), strings.Join(header, ", "))
	}
	return cols, nil
}

// row files one recipient.
func (s *Summary) row(rec []string, line int, cols columns, o Options, seen *hashSet, sink Sink) error {
	addr, ok := Address(field(rec, cols.address))
	if !ok {
		s.NoAddress++
		return nil
	}
	at := strings.LastIndexByte(addr, '@')
	// A 64-bit hash per address, not the address: 5 million rows take
	// 64 MB (a collision, one in about 10^12 pairs, would count a
	// recipient as a duplicate).
	h := fnv.New64a()
	h.Write([]byte(addr))
	if seen.add(h.Sum64()) {
		s.Duplicates++
		return nil
	}
	domain := addr[at+1:]
	lane := ""
	if o.LaneOf != nil {
		lane = o.LaneOf(domain)
	}
	if lane == "" {
		s.OtherLanes++
		return nil
	}
	last, best := s.engagement(rec, line, cols, o, o.OpensIgnored[domain])
	cohort := Suppressed
	if o.Suppressed == nil || !o.Suppressed(addr) {
		cohort = o.cohortName(best)
	}
	if s.Cohorts[lane] == nil {
		s.Cohorts[lane] = map[string]int{}
	}
	s.Cohorts[lane][cohort]++
	return sink(lane, cohort, addr, last)
}

// Address returns the address in an export's field, lower-cased: the
// part in angle brackets when there is a display name ("Jane Doe
// <jane@example.com>"); ok is false when the field holds no address (no
// "@" with text on both sides, or a space inside).
func Address(v string) (addr string, ok bool) {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, '<'); i >= 0 && strings.HasSuffix(v, ">") {
		v = strings.TrimSpace(v[i+1 : len(v)-1])
	}
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || strings.ContainsAny(v, " \t\r\n<>") {
		return "", false
	}
	return strings.ToLower(v), true
}

func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// engagement is the latest engagement date and the best window a signal
// earns: each signal places the recipient by its own age, an open alone
// one window later (opens are the weakest signal), and the best of them
// wins, so a recent open does not demote last week's click.
func (s *Summary) engagement(rec []string, line int, cols columns, o Options, ignoreOpens bool) (last time.Time, best int) {
	best = len(o.Windows) // inactive
	for i, c := range cols.dates {
		v := field(rec, c)
		if v == "" || (i == 0 && ignoreOpens) {
			continue
		}
		t, err := parseDate(v)
		if err == nil && t.After(o.AsOf.Add(24*time.Hour)) {
			err = fmt.Errorf("in the future")
		}
		if err != nil {
			s.BadDates++
			if len(s.Samples) < 5 {
				s.Samples = append(s.Samples, fmt.Sprintf("line %d: %q is not a date it can use (want a past 2026-11-30, 2026-11-30T10:00:00Z, 20261130 or Unix seconds)", line, v))
			}
			continue
		}
		if t.After(last) {
			last = t
		}
		w := o.window(t)
		if i == 0 {
			w++
		}
		best = min(best, w)
	}
	return last, best
}

// window is the index of the first window an engagement date's age fits;
// len(Windows) when none does.
func (o Options) window(t time.Time) int {
	age := int(o.AsOf.Sub(t).Hours() / 24)
	for i, w := range o.Windows {
		if age <= w {
			return i
		}
	}
	return len(o.Windows)
}

// cohortName names a window index.
func (o Options) cohortName(i int) string {
	if i >= len(o.Windows) {
		return Inactive
	}
	return fmt.Sprintf("engaged-%dd", o.Windows[i])
}

// parseDate reads the date forms exports use; day-first and month-first
// forms are refused, as they can't be told apart.
func parseDate(v string) (time.Time, error) {
	if strings.Trim(v, "0123456789") == "" {
		return parseNumber(v)
	}
	// ISO 8601's "T" and the space databases write are one form here.
	if len(v) > 10 && v[10] == 'T' {
		v = v[:10] + " " + v[11:]
	}
	// The common forms first: each form tried costs an error.
	for _, layout := range []string{
		"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04",
		"2006-01-02 15:04:05Z0700", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST",
	} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", v)
}

// parseNumber reads a date of digits only.
func parseNumber(v string) (time.Time, error) {
	// Eight digits are a basic ISO 8601 date (20261130), not a second of
	// 1970; thirteen are Unix milliseconds.
	if len(v) == 8 {
		if t, err := time.Parse("20060102", v); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		switch {
		case n < 1e11:
			return time.Unix(n, 0).UTC(), nil
		case n < 1e14:
			return time.UnixMilli(n).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", v)
}
