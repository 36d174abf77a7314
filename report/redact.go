package report

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"

	"github.com/mailtriage/mailtriage/analysis"
)

// address finds e-mail addresses in free text (reply texts quote them).
// The local part may not start with a quote, backquote or dot, so in
// "'jane@example.com'" the quote stays text and the address hashes as it
// does elsewhere.
var address = regexp.MustCompile(`[A-Za-z0-9!#$%&*+/=?^_{|}~-][A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)

// RedactText replaces the local part of every address in s with a stable
// hash, so a report can be shared without naming recipients while the same
// address still reads the same everywhere.
func RedactText(s string) string {
	return address.ReplaceAllStringFunc(s, func(a string) string {
		at := len(a) - 1
		for a[at] != '@' {
			at--
		}
		sum := sha256.Sum256([]byte(a[:at]))
		return "r-" + hex.EncodeToString(sum[:4]) + a[at:]
	})
}

// Redact rewrites r in place: every reply text, example and finding has
// its recipients' local parts hashed. Envelope senders (the stream names)
// are the sender's own and stay.
func Redact(r *analysis.Result) {
	for i := range r.Responses {
		r.Responses[i].Example = RedactText(r.Responses[i].Example)
	}
	for i := range r.Expired {
		r.Expired[i].LastReply.Text = RedactText(r.Expired[i].LastReply.Text)
	}
	for i := range r.Incidents {
		r.Incidents[i].Reply.Example = RedactText(r.Incidents[i].Reply.Example)
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message = RedactText(f.Message)
		for j := range f.Evidence {
			f.Evidence[j] = RedactText(f.Evidence[j])
		}
	}
}
