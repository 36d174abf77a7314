// Package syslogstamp reads the stamps at the start of log lines: the
// traditional syslog stamp ("Nov 30 10:00:01", RFC 3164 section 4.1.2, no
// year or zone), RFC 3339 ("2026-11-30T10:00:01.123456+01:00", rsyslog's
// high-precision format, with or without an offset), journalctl's seconds
// since the epoch (-o short-unix), and the "<PRI>" that RFC 5424 (section
// 6.2.1) and network collectors put before them. A Clock gives stamps
// without a year or zone theirs (the year inferred from the file's
// modification time); a Rollover carries the year over New Year and
// settles the hour a zone repeats when its clocks go back.
//
// The package knows nothing of what follows the stamp: postfixlog, and the
// readers of other MTAs' logs, use it.
package syslogstamp

import (
	"bytes"
	"cmp"
	"math"
	"time"
)

// Clock turns syslog timestamps into times. Stamps with a zone (RFC 3339, as
// rsyslog writes them by default on Debian 12) are exact, and so are Unix
// stamps (journalctl -o short-unix), which are UTC. Traditional stamps
// ("Nov 30 10:00:01", RFC 3164 §4.1.2) have neither year nor zone: the zone is
// Location and the year is Year, or inferred.
//
// A Clock decides the year once, at the first traditional stamp it reads;
// Fixed returns a copy with that year for other goroutines. A Clock does not
// carry the year over a December to January rollover: that needs the lines
// in order, which is Rollover's job.
type Clock struct {
	// Location is the zone of stamps that carry none. Nil means UTC.
	Location *time.Location
	// Year is the year of stamps that carry none. Zero means infer it: the
	// year of Now, unless that puts the first stamp more than a day after
	// Modified (the file's modification time), in which case the latest
	// year that does not.
	Year     int
	Now      time.Time
	Modified time.Time

	year      int     // the year in use, once decided
	cacheKey  [9]byte // "Mon DD HH" of the cached hour
	cacheHour time.Time
	// The minute of the last RFC 3339 stamp: "YYYY-MM-DDTHH:MM" and its
	// seconds since the epoch as if in UTC; log lines come in bursts
	// within a minute.
	isoKey    [16]byte
	isoMinute int64
	zoneless  bool // the last stamp read named no zone (see Zoneless)
}

// Fixed returns a copy of c for another goroutine, with the year c has
// decided (or Year) fixed.
func (c *Clock) Fixed() *Clock {
	year := cmp.Or(c.year, c.Year)
	return &Clock{Location: c.Location, Year: year, Now: c.Now, Modified: c.Modified, year: year}
}

// Traditional reports whether line starts with a traditional stamp, whose
// year the Clock supplied.
func Traditional(line []byte) bool {
	return len(line) >= 15 && line[3] == ' ' && line[9] == ':' && line[12] == ':'
}

// Zoneless reports whether the stamp Parse read last named no zone, so
// that the Clock's Location applied: a traditional stamp, or RFC 3339
// without an offset ("2026-11-30T10:00:01", no "Z" or "+01:00").
func (c *Clock) Zoneless() bool { return c.zoneless }

// FirstStamp returns the time of the first line of buf that starts with a
// stamp the clock reads; its year, if inferred, is decided by it.
func (c *Clock) FirstStamp(buf []byte) (time.Time, bool) {
	for len(buf) > 0 {
		line := buf
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			buf = nil
		}
		if t, _, ok := c.Parse(line); ok {
			return t, true
		}
		if rest, ok := CutPRI(line); ok {
			// A line that keeps its syslog priority (see Parse).
			if t, _, ok := c.Parse(bytes.TrimPrefix(rest, []byte("1 "))); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// Rollover carries the year forward when traditional stamps pass from
// December to January inside one file, and back when they return from
// January to December (rotated files concatenated out of order, two
// hosts' logs one after the other). Feed it the times of one file in line
// order.
//
// It also settles the hour a zone repeats when its clocks go back
// (Europe/Berlin's 02:00-03:00 on the last Sunday of October): a stamp in
// it could be either. It takes the first reading, unless that goes back
// more than a few minutes from the line before: then the line is in the
// second pass, which follows the first instead of landing on it.
type Rollover struct {
	// Location is the zone the stamps were read in; nil means UTC.
	Location *time.Location
	prev     time.Time
	years    int
	// In [safeFrom, safeUntil) (Unix seconds) no wall-clock time
	// repeats: the middle of the last zone period seen.
	safeFrom, safeUntil int64
}

// Fix returns t moved by the years carried so far, and carries one more
// when t falls back by more than half a year, one less when it jumps
// ahead by more than half a year.
func (r *Rollover) Fix(t time.Time) time.Time {
	if r.years != 0 {
		t = t.AddDate(r.years, 0, 0)
	}
	if !r.prev.IsZero() {
		switch {
		case t.Before(r.prev.AddDate(0, -6, 0)):
			r.years++
			t = t.AddDate(1, 0, 0)
		case t.After(r.prev.AddDate(0, 6, 0)):
			r.years--
			t = t.AddDate(-1, 0, 0)
		}
	}
	return r.Settle(t)
}

// Settle returns t, or, when t is in the hour repeated when clocks go
// back, the reading of it that follows the line before (see Rollover).
// Fix settles traditional stamps; Settle alone is for stamps that carry
// their year but no zone (RFC 3339 without an offset, Exim's local time),
// fed in line order through the same Rollover.
func (r *Rollover) Settle(t time.Time) time.Time {
	if alt, ok := r.otherReading(t); ok {
		earlier, later := t, alt
		if alt.Before(t) {
			earlier, later = alt, t
		}
		t = earlier
		if !r.prev.IsZero() && earlier.Before(r.prev.Add(-outOfOrder)) {
			t = later
		}
	}
	r.prev = t
	return t
}

// clockChange is longer than any change of a zone's offset.
const clockChange = 3 * time.Hour

// outOfOrder is how far a line may go back from the one before in a log
// merged from several hosts; a stamp in a repeated hour whose first
// reading goes back further is in the second pass.
const outOfOrder = 5 * time.Minute

// otherReading returns the other instant that has t's wall-clock time in
// r.Location, when there is one: t is in the hour repeated when clocks go
// back.
func (r *Rollover) otherReading(t time.Time) (time.Time, bool) {
	if r.Location == nil || r.Location == time.UTC {
		return time.Time{}, false
	}
	sec := t.Unix()
	if sec >= r.safeFrom && sec < r.safeUntil {
		return time.Time{}, false
	}
	lt := t.In(r.Location)
	start, end := lt.ZoneBounds()
	from, until := int64(math.MinInt64), int64(math.MaxInt64)
	if !start.IsZero() {
		from = start.Add(clockChange).Unix()
	}
	if !end.IsZero() {
		until = end.Add(-clockChange).Unix()
	}
	if sec >= from && sec < until {
		r.safeFrom, r.safeUntil = from, until
		return time.Time{}, false
	}
	_, off := lt.Zone()
	if _, after := lt.Add(clockChange).Zone(); after < off {
		// Clocks go back soon: t may be the first reading.
		if u := lt.Add(time.Duration(off-after) * time.Second); sameWallClock(lt, u) {
			return u, true
		}
	}
	if _, before := lt.Add(-clockChange).Zone(); before > off {
		// Clocks went back shortly before: t may be the second reading.
		if u := lt.Add(-time.Duration(before-off) * time.Second); sameWallClock(lt, u) {
			return u, true
		}
	}
	return time.Time{}, false
}

func sameWallClock(a, b time.Time) bool {
	y1, m1, d1 := a.Date()
	y2, m2, d2 := b.Date()
	h1, n1, s1 := a.Clock()
	h2, n2, s2 := b.Clock()
	return y1 == y2 && m1 == m2 && d1 == d2 && h1 == h2 && n1 == n2 && s1 == s2
}

// Parse reads the timestamp at the start of line and returns it with the
// number of bytes it used, or ok false when the line does not start with a
// timestamp this package knows: RFC 3339, traditional, or seconds since
// the epoch (journalctl -o short-unix).
func (c *Clock) Parse(line []byte) (t time.Time, n int, ok bool) {
	if len(line) >= 19 && line[4] == '-' && line[7] == '-' && (line[10] == 'T' || line[10] == ' ') {
		return c.parseISO(line)
	}
	if len(line) >= 15 && line[3] == ' ' && line[9] == ':' && line[12] == ':' {
		c.zoneless = true
		return c.parseTraditional(line)
	}
	if len(line) >= unixMinDigits && line[0] >= '1' && line[0] <= '9' {
		c.zoneless = false
		return parseUnix(line)
	}
	return time.Time{}, 0, false
}

// The digits of the seconds of a Unix stamp: from 2001-09-09 (nine
// digits) to the year 5138 (eleven), which keeps a number at the start
// of some other line from passing for a time.
const (
	unixMinDigits = 9
	unixMaxDigits = 11
)

// parseUnix reads journalctl -o short-unix's "1795540801.123456": the
// seconds since the epoch, with an optional fraction. It is UTC and
// carries its year.
func parseUnix(line []byte) (time.Time, int, bool) {
	var sec int64
	n := 0
	for n < len(line) && n <= unixMaxDigits && line[n] >= '0' && line[n] <= '9' {
		sec = sec*10 + int64(line[n]-'0')
		n++
	}
	if n < unixMinDigits || n > unixMaxDigits {
		return time.Time{}, 0, false
	}
	var nsec int
	if n < len(line) && line[n] == '.' {
		var m int
		nsec, m = fraction(line[n:])
		if m < 2 {
			return time.Time{}, 0, false
		}
		n += m
	}
	if n < len(line) && line[n] != ' ' {
		return time.Time{}, 0, false
	}
	return time.Unix(sec, int64(nsec)).UTC(), n, true
}

// Monotonic reports whether line starts with journalctl -o
// short-monotonic's stamp, "[ 1234.567890]": the seconds since the
// system booted, from which no wall-clock time can be made.
func Monotonic(line []byte) bool {
	if len(line) < 4 || line[0] != '[' {
		return false
	}
	i := 1
	for i < len(line) && line[i] == ' ' {
		i++
	}
	digits := i
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == digits || i >= len(line) || line[i] != '.' {
		return false
	}
	i++
	frac := i
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > frac && i < len(line) && line[i] == ']'
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func monthOf(b []byte) int {
	for i, m := range months {
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			return i + 1
		}
	}
	return 0
}

// parseTraditional reads "Mmm dd hh:mm:ss" with an optional fraction.
func (c *Clock) parseTraditional(line []byte) (time.Time, int, bool) {
	month := monthOf(line)
	if month == 0 {
		return time.Time{}, 0, false
	}
	day, ok1 := twoDigits(line[4], line[5])
	hour, ok2 := twoDigits(line[7], line[8])
	minute, ok3 := twoDigits(line[10], line[11])
	sec, ok4 := twoDigits(line[13], line[14])
	if !ok1 || !ok2 || !ok3 || !ok4 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	n := 15
	nsec, m := fraction(line[n:])
	n += m
	if c.year == 0 {
		c.year = c.inferYear(month, day, hour, minute, sec)
	}
	var key [9]byte
	copy(key[:], line[:9])
	if key != c.cacheKey || c.cacheHour.IsZero() {
		c.cacheKey = key
		c.cacheHour = time.Date(c.year, time.Month(month), day, hour, 0, 0, 0, c.location())
	}
	return c.cacheHour.Add(time.Duration(minute*60+sec)*time.Second + time.Duration(nsec)), n, true
}

func (c *Clock) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// inferYear returns the year of Now, unless that puts the stamp more than
// a day after Modified: then the latest year that does not, so a file last
// written years ago gets the year it was written in.
func (c *Clock) inferYear(month, day, hour, minute, sec int) int {
	if c.Year != 0 {
		return c.Year
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	year := now.In(c.location()).Year()
	if c.Modified.IsZero() {
		return leapFor(year, month, day)
	}
	if y := c.Modified.In(c.location()).Year() + 1; y < year {
		year = y // the loop below then runs at most twice
	}
	limit := c.Modified.Add(24 * time.Hour)
	for time.Date(year, time.Month(month), day, hour, minute, sec, 0, c.location()).After(limit) {
		year--
	}
	return leapFor(year, month, day)
}

// leapFor returns year, or for 29 February the latest leap year before
// it: the stamp was written in one, and time.Date would make 1 March of
// any other.
func leapFor(year, month, day int) int {
	if month != 2 || day != 29 {
		return year
	}
	for year%4 != 0 || year%100 == 0 && year%400 != 0 {
		year--
	}
	return year
}

// parseISO reads RFC 3339 "2026-11-30T10:00:01.123456+01:00", also with a
// space for the T, a "+0100" zone, or no zone (then Location applies).
func (c *Clock) parseISO(line []byte) (time.Time, int, bool) {
	if c.isoMinute != 0 && string(line[:16]) == string(c.isoKey[:]) && line[16] == ':' {
		// Same minute as the line before: only the seconds and the zone.
		if sec, ok := twoDigits(line[17], line[18]); ok && sec <= 60 && line[10] == 'T' {
			n := 19
			nsec, m := fraction(line[n:])
			n += m
			offset, m, zoned := zone(line[n:])
			if zoned && m > 0 {
				c.zoneless = false
				return time.Unix(c.isoMinute+int64(sec)-int64(offset), int64(nsec)).UTC(), n + m, true
			}
		}
	}
	y1, ok1 := twoDigits(line[0], line[1])
	y2, ok2 := twoDigits(line[2], line[3])
	month, ok3 := twoDigits(line[5], line[6])
	day, ok4 := twoDigits(line[8], line[9])
	hour, ok5 := twoDigits(line[11], line[12])
	minute, ok6 := twoDigits(line[14], line[15])
	sec, ok7 := twoDigits(line[17], line[18])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || line[13] != ':' || line[16] != ':' ||
		month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, 0, false
	}
	year := y1*100 + y2
	n := 19
	nsec, m := fraction(line[n:])
	n += m
	offset, m, zoned := zone(line[n:])
	if m < 0 {
		return time.Time{}, 0, false
	}
	n += m
	c.zoneless = !zoned
	if !zoned {
		t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, c.location())
		return t, n, true
	}
	c.isoMinute = daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60)
	copy(c.isoKey[:], line[:16])
	return time.Unix(c.isoMinute+int64(sec)-int64(offset), int64(nsec)).UTC(), n, true
}

// zone reads "Z", "+hh:mm" or "+hhmm". It returns the offset in seconds, the
// bytes used (-1 when malformed) and whether a zone was present.
func zone(b []byte) (offset, n int, zoned bool) {
	if len(b) == 0 || b[0] == ' ' {
		return 0, 0, false
	}
	if b[0] == 'Z' {
		return 0, 1, true
	}
	if b[0] != '+' && b[0] != '-' || len(b) < 5 {
		return 0, -1, false
	}
	h, ok1 := twoDigits(b[1], b[2])
	i := 3
	if b[i] == ':' {
		i++
	}
	if len(b) < i+2 {
		return 0, -1, false
	}
	m, ok2 := twoDigits(b[i], b[i+1])
	if !ok1 || !ok2 {
		return 0, -1, false
	}
	offset = h*3600 + m*60
	if b[0] == '-' {
		offset = -offset
	}
	return offset, i + 2, true
}

// fraction reads ".123456" and returns nanoseconds and bytes used.
func fraction(b []byte) (int, int) {
	if len(b) < 2 || b[0] != '.' {
		return 0, 0
	}
	nsec, scale, i := 0, 100000000, 1
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		nsec += int(b[i]-'0') * scale
		scale /= 10
		i++
	}
	return nsec, i
}

func twoDigits(a, b byte) (int, bool) {
	if a == ' ' {
		a = '0' // a space-padded day: "Nov  1"
	}
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

// daysFromCivil counts days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (Howard Hinnant's algorithm), so a zoned stamp needs no
// time.Date call.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// TrimPRI returns line without the "<PRI>" it starts with, if any: what
// follows is the stamp of a traditional line, or RFC 5424's version.
func TrimPRI(line []byte) []byte {
	if rest, ok := CutPRI(line); ok {
		return rest
	}
	return line
}

// CutPRI returns line after its "<PRI>" (one to three digits, RFC 5424
// section 6.2.1), or false when it starts with none.
func CutPRI(line []byte) ([]byte, bool) {
	if len(line) == 0 || line[0] != '<' {
		return nil, false
	}
	i := 1
	for i < len(line) && i <= 3 && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == 1 || i >= len(line) || line[i] != '>' {
		return nil, false
	}
	return line[i+1:], true
}
