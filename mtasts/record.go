// Package mtasts reads SMTP MTA Strict Transport Security (MTA-STS,
// RFC 8461): the TXT record at _mta-sts.<domain> that announces a policy
// (§3.1), the policy file served at
// https://mta-sts.<domain>/.well-known/mta-sts.txt (§3.2, §3.3), and the
// matching of MX host names against the policy's mx patterns (§4.1).
//
// Parsing is lenient and says what it forgave in Problems. A sending MTA
// that follows the RFC to the letter treats a record or policy with an
// error-level Problem as no policy at all, so a check can tell a domain
// owner what strict senders will do.
package mtasts

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mailtriage/mailtriage/internal/fieldlist"
)

// Problem is something wrong or noteworthy in a record or policy.
type Problem struct {
	Tag     string `json:"tag,omitempty"` // the field concerned, if any
	Error   bool   `json:"error"`         // true: strict senders ignore the record or policy; false: a note
	Message string `json:"message"`
}

// Extension is a field this package does not know. RFC 8461 §3.1 and §3.2
// allow them; senders ignore them.
type Extension struct {
	Name, Value string
}

// Record is a parsed _mta-sts TXT record.
type Record struct {
	ID         string // id=: changes whenever the policy does; as written, even when invalid
	Extensions []Extension
	Problems   []Problem
}

// ErrNotRecord means the text is not an MTA-STS record: it does not begin
// with "v=STSv1" (RFC 8461 §3.1), so senders discard it.
var ErrNotRecord = errors.New("mtasts: not an MTA-STS record")

const recordVersion = "v=STSv1"

// ParseRecord reads the TXT record at _mta-sts.<domain>, the strings of a
// multi-string record joined. It fails only when the text does not begin
// with v=STSv1; everything else is a Problem.
func ParseRecord(txt string) (*Record, error) {
	fields, leadingWSP, ok := fieldlist.Split(txt, recordVersion)
	if !ok {
		return nil, fmt.Errorf("%w: it begins %q, not %q", ErrNotRecord, clip(txt), recordVersion)
	}
	r := &Record{}
	if leadingWSP {
		r.problem("v", true, "the record begins with white space; senders discard records that do not begin with \"v=STSv1;\" (RFC 8461 §3.1)")
	}
	seen := map[string]bool{}
	for _, f := range fields {
		r.field(f, seen)
	}
	if !seen["id"] {
		r.problem("id", true, "no id= field; senders ignore a record without one (RFC 8461 §3.1)")
	}
	return r, nil
}

func (r *Record) problem(tag string, isErr bool, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Tag: tag, Error: isErr, Message: fmt.Sprintf(format, args...)})
}

// field reads one name=value field of the record (RFC 8461 §3.1).
func (r *Record) field(f string, seen map[string]bool) {
	if f == "" {
		r.problem("", true, "empty field (\";;\"), which the grammar of RFC 8461 §3.1 does not allow")
		return
	}
	name, value, ok := strings.Cut(f, "=")
	if !ok {
		r.problem("", true, "%q is not a name=value field (RFC 8461 §3.1)", f)
		return
	}
	if !fieldlist.ValidName(name) {
		r.problem("", true, "%q is not a valid field name: a letter or digit, then at most 31 letters, digits, _, - or . (RFC 8461 §3.1)", name)
		return
	}
	dup := seen[name]
	seen[name] = true
	if name != "id" {
		if !fieldlist.ValidValue(value) {
			r.problem(name, true, "the value of %s= is empty or holds spaces, control characters, ; or = (RFC 8461 §3.1)", name)
		}
		r.Extensions = append(r.Extensions, Extension{name, value})
		return
	}
	if dup {
		r.problem("id", false, "id= appears more than once; the first counts")
		return
	}
	r.ID = value
	if !validID(value) {
		r.problem("id", true, "id=%q is not 1 to 32 letters and digits (RFC 8461 §3.1); senders ignore the record", value)
	}
}

func validID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !fieldlist.IsAlnum(s[i]) {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
