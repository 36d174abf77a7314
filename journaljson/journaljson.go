// Package journaljson reads the systemd journal's JSON export, as
// journalctl -o json and -o json-seq write it: one JSON object per entry
// and line (json-seq puts an RS byte before each, RFC 7464), field names
// mapped to values. The format is systemd's "Journal JSON Format"
// (docs/JOURNAL_EXPORT_FORMATS.md, https://systemd.io/JOURNAL_EXPORT_FORMATS/):
// a value is a string, or an array of byte values when it is not
// printable UTF-8, or null when journalctl left a large field out, or an
// array of those when the field has several values; __REALTIME_TIMESTAMP
// is a string of microseconds since the epoch.
//
// A Reader turns each entry into the syslog line it stands for,
//
//	<RFC 3339 UTC stamp> <_HOSTNAME> <SYSLOG_IDENTIFIER>[<pid>]: <MESSAGE>
//
// so a reader of syslog lines reads the export. The package knows nothing
// of the programs whose entries it converts.
package journaljson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// MaxEntry is the longest entry read; a longer one is skipped and
// counted as unreadable. journalctl leaves out fields over 4096 bytes
// unless told --all, so an entry is a few KiB.
const MaxEntry = 1 << 20

// Stats describe what a Reader read.
type Stats struct {
	Entries int64 // entries, readable or not
	Bad     int64 // entries that could not be read
	// Samples are some unreadable entries.
	Samples []Sample
}

// Sample is an entry that could not be read.
type Sample struct {
	Entry int64 // its number, from 1
	Text  string
	Err   string
}

// ErrNotEntry means a line is not a JSON object.
var ErrNotEntry = errors.New("journaljson: not a JSON object")

// ErrLeftOut means journalctl wrote a field as null: it was larger than
// its limit (4096 bytes; --all lifts it).
var ErrLeftOut = errors.New("journaljson: MESSAGE left out as too large (export with journalctl --all)")

// Reader reads an export and gives the syslog lines of its entries, one
// per line.
type Reader struct {
	in      *bufio.Reader
	samples int
	out     []byte // converted lines not yet read
	off     int
	long    []byte // an entry longer than the bufio buffer, being put together
	st      Stats
	err     error
}

// NewReader returns a Reader of r that keeps up to samples unreadable
// entries.
func NewReader(r io.Reader, samples int) *Reader {
	return &Reader{in: bufio.NewReaderSize(r, 256<<10), samples: samples}
}

// Stats returns what was read so far.
func (r *Reader) Stats() Stats { return r.st }

// Read gives the lines of the entries read. A damaged entry is counted
// and skipped; only an error of the underlying reader ends reading.
func (r *Reader) Read(p []byte) (int, error) {
	for r.off == len(r.out) {
		if r.err != nil {
			return 0, r.err
		}
		r.out, r.off = r.out[:0], 0
		// Convert entries until there is a good amount to hand out.
		for len(r.out) < 64<<10 && r.err == nil {
			r.next()
		}
	}
	n := copy(p, r.out[r.off:])
	r.off += n
	return n, nil
}

// next converts the next entry into r.out.
func (r *Reader) next() {
	line, err := r.in.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.in.ReadSlice('\n')
			if len(r.long) <= MaxEntry {
				r.long = append(r.long, line...)
			}
		}
		line = r.long
	}
	if err != nil {
		r.err = err
	}
	line = bytes.TrimSpace(bytes.TrimLeft(line, "\x1e"))
	if len(line) == 0 {
		return
	}
	r.st.Entries++
	if len(line) > MaxEntry {
		r.bad(line, fmt.Errorf("journaljson: entry longer than %d KiB", MaxEntry>>10))
		return
	}
	out, cerr := AppendLine(r.out, line)
	if cerr != nil {
		r.bad(line, cerr)
		return
	}
	r.out = append(out, '\n')
}

func (r *Reader) bad(line []byte, err error) {
	r.st.Bad++
	if len(r.st.Samples) < r.samples {
		if len(line) > 200 {
			line = line[:200]
		}
		r.st.Samples = append(r.st.Samples, Sample{Entry: r.st.Entries, Text: string(line), Err: err.Error()})
	}
}

// entry holds the fields a syslog line needs, as written.
type entry struct {
	Realtime   json.RawMessage `json:"__REALTIME_TIMESTAMP"`
	Host       json.RawMessage `json:"_HOSTNAME"`
	Identifier json.RawMessage `json:"SYSLOG_IDENTIFIER"`
	SyslogPID  json.RawMessage `json:"SYSLOG_PID"`
	PID        json.RawMessage `json:"_PID"`
	Message    json.RawMessage `json:"MESSAGE"`
}

// AppendLine appends to dst the syslog line of one entry, without a
// newline: its time in RFC 3339 UTC with microseconds, the host, the
// identifier with SYSLOG_PID (else _PID) in brackets, and the message,
// whose line breaks become spaces. A missing host or identifier is "-".
// On error dst is returned as it was.
func AppendLine(dst, line []byte) ([]byte, error) {
	var e entry
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
		return dst, ErrNotEntry
	}
	usec, err := strconv.ParseInt(string(text(e.Realtime)), 10, 64)
	if err != nil || usec < 0 {
		return dst, errors.New("journaljson: no __REALTIME_TIMESTAMP of microseconds")
	}
	if len(e.Message) == 0 {
		return dst, errors.New("journaljson: no MESSAGE")
	}
	msg, err := value(e.Message)
	if err != nil {
		return dst, err
	}
	out := time.UnixMicro(usec).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z07:00")
	out = append(out, ' ')
	out = appendOr(out, text(e.Host))
	out = append(out, ' ')
	out = appendOr(out, text(e.Identifier))
	pid := text(e.SyslogPID)
	if len(pid) == 0 {
		pid = text(e.PID)
	}
	if len(pid) > 0 {
		out = append(out, '[')
		out = appendText(out, pid)
		out = append(out, ']')
	}
	out = append(out, ": "...)
	return appendText(out, msg), nil
}

// text is a field's value as text, or nil when it has none that reads.
func text(raw json.RawMessage) []byte {
	v, err := value(raw)
	if err != nil {
		return nil
	}
	return v
}

// value decodes a field's value: a string, an array of bytes, or the
// first of several values.
func value(raw json.RawMessage) ([]byte, error) {
	switch {
	case len(raw) == 0:
		return nil, nil
	case raw[0] == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return raw[1 : len(raw)-1], nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, ErrNotEntry
		}
		return []byte(s), nil
	case raw[0] == '[':
		var vs []json.RawMessage
		if err := json.Unmarshal(raw, &vs); err != nil || len(vs) == 0 {
			return nil, errors.New("journaljson: MESSAGE neither text nor bytes")
		}
		if c := vs[0][0]; c == '"' || c == '[' || c == 'n' {
			return value(vs[0]) // several values: the first
		}
		b := make([]byte, len(vs))
		for i, v := range vs {
			n, err := strconv.ParseUint(string(v), 10, 8)
			if err != nil {
				return nil, errors.New("journaljson: MESSAGE neither text nor bytes")
			}
			b[i] = byte(n)
		}
		return b, nil
	case raw[0] == 'n':
		return nil, ErrLeftOut
	}
	return nil, errors.New("journaljson: MESSAGE neither text nor bytes")
}

func appendOr(dst, v []byte) []byte {
	if len(v) == 0 {
		return append(dst, '-')
	}
	return appendText(dst, v)
}

// appendText appends v with its line breaks as spaces, so an entry stays
// one line.
func appendText(dst, v []byte) []byte {
	start := len(dst)
	dst = append(dst, v...)
	for i := start; i < len(dst); i++ {
		if dst[i] == '\n' || dst[i] == '\r' {
			dst[i] = ' '
		}
	}
	return dst
}

// Detect reports whether head starts like a journalctl JSON export: an
// object naming __REALTIME_TIMESTAMP and __CURSOR or MESSAGE. The head may
// end inside the first entry.
func Detect(head []byte) bool {
	head = bytes.TrimLeft(head, "\x1e \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	return bytes.Contains(first, []byte(`"__REALTIME_TIMESTAMP"`)) &&
		(bytes.Contains(first, []byte(`"__CURSOR"`)) || bytes.Contains(first, []byte(`"MESSAGE"`)))
}
