package report

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/internal/addrtext"
)

// Redactor hides recipients in a report: the local part of every address
// becomes a keyed hash (HMAC-SHA256), so the same address reads the same
// everywhere in one report while nobody can test guesses against the
// tokens without the key. A report made with a fresh random key each time,
// as the command line does, links nothing across reports.
type Redactor struct {
	key   []byte
	addrs *addrtext.Finder
}

// NewRedactor returns a Redactor with the given secret key.
func NewRedactor(key []byte) *Redactor {
	return &Redactor{key: append([]byte(nil), key...), addrs: addrtext.New()}
}

// Text replaces the local part of every address in s with its token,
// "r-" and 12 hexadecimal digits.
func (rd *Redactor) Text(s string) string {
	return rd.addrs.Replace(s, rd.addr)
}

// addr replaces the local part of a, an address on its own (a listed
// recipient, a hard bounce), whatever it holds: Text finds in free text
// only dot-atom addresses with a dotted domain, so a quoted local part
// ("john q"@example.com) or a domain without a dot (root@intranet)
// would pass it whole. An address without "@" is all local part.
func (rd *Redactor) addr(a string) string {
	if a == "" {
		return a
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		at = len(a)
	}
	mac := hmac.New(sha256.New, rd.key)
	mac.Write([]byte(a[:at]))
	return "r-" + hex.EncodeToString(mac.Sum(nil)[:6]) + a[at:]
}

// Result rewrites r in place: every reply text, example, finding and listed
// recipient has its recipients' local parts hashed. Envelope senders (the
// stream names) are the sender's own and stay, but without the tags that
// name a recipient (VERP's bounces+jane=example.com@), as streams show
// them.
func (rd *Redactor) Result(r *analysis.Result) {
	for i := range r.Responses {
		r.Responses[i].Example = rd.Text(r.Responses[i].Example)
	}
	for i := range r.Expired {
		r.Expired[i].LastReply.Text = rd.Text(r.Expired[i].LastReply.Text)
	}
	for i := range r.Incidents {
		r.Incidents[i].Reply.Example = rd.Text(r.Incidents[i].Reply.Example)
	}
	for i := range r.Domains {
		r.Domains[i].Reply.Example = rd.Text(r.Domains[i].Reply.Example)
	}
	for _, list := range [][]analysis.RecipientOutcome{r.ExpiredRecipients, r.PendingRecipients} {
		for i := range list {
			list[i].Recipient = rd.addr(list[i].Recipient)
			list[i].Sender = analysis.FoldSender(list[i].Sender)
			list[i].LastReply = rd.Text(list[i].LastReply)
		}
	}
	for i := range r.HardBounces {
		r.HardBounces[i] = rd.addr(r.HardBounces[i])
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message = rd.Text(f.Message)
		for j := range f.Evidence {
			f.Evidence[j] = rd.Text(f.Evidence[j])
		}
	}
}
