// Package addrtext finds mail addresses in free text: the SMTP replies,
// bounce texts and log lines that quote a recipient ("550 5.1.1
// <jane@example.com>: user unknown"). It matches the Mailbox of RFC 5321
// §4.1.2, its local part a dot-atom or a quoted string, with the UTF-8
// local parts and domains of RFC 6531 (josé@exemplo.com.br), so no
// recipient slips through a report that promises to hide them.
package addrtext

import "regexp"

// atext is RFC 5322 §3.2.3 atext, with any letter or digit (RFC 6531
// §3.3 extends atext to UTF-8). A leading quote, backquote or dot is left
// out, so in "'jane@example.com'" the quote stays text.
const (
	first = `[\p{L}\p{N}!#$%&*+/=?^_{|}~-]`
	atext = `[\p{L}\p{N}!#$%&'*+/=?^_` + "`" + `{|}~.-]`
	label = `[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?`
	// quoted is RFC 5321's Quoted-string local part ("john q"@example.com),
	// quoted pairs included: rare, but a recipient all the same.
	quoted = `"(?:[^"\\\r\n]|\\.)*"`
	source = `(?:` + quoted + `|` + first + atext + `*)@` + label + `(?:\.` + label + `)+`
)

// Finder finds addresses. It is safe for concurrent use.
type Finder struct{ re *regexp.Regexp }

// New returns a Finder.
func New() *Finder { return &Finder{re: regexp.MustCompile(source)} }

// Replace returns s with every address a replaced by f(a).
func (f *Finder) Replace(s string, fn func(addr string) string) string {
	return f.re.ReplaceAllStringFunc(s, fn)
}

// All returns the addresses in s, in order.
func (f *Finder) All(s string) []string { return f.re.FindAllString(s, -1) }
