// Package addrtext finds mail addresses in free text: the SMTP replies,
// bounce texts and log lines that quote a recipient ("550 5.1.1
// <jane@example.com>: user unknown"). It matches the Mailbox of RFC 5321
// §4.1.2, its local part a dot-atom or a quoted string, with the UTF-8
// local parts and domains of RFC 6531 (josé@exemplo.com.br), and in the
// angle brackets of a Path any domain ("<root@intranet>"), so no
// recipient slips through a report that promises to hide them.
package addrtext

import (
	"regexp"
	"strings"
)

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
	local  = `(?:` + quoted + `|` + first + atext + `*)`
	// In angle brackets, RFC 5321's Path ("<root@intranet>"), a domain of
	// one label is an address too; in open text "user@localhost" is as
	// likely prose or a host name, and a dotted domain is asked for.
	source = `<(` + local + `@` + label + `(?:\.` + label + `)*)>|` + local + `@` + label + `(?:\.` + label + `)+`
)

// Finder finds addresses. It is safe for concurrent use.
type Finder struct{ re *regexp.Regexp }

// New returns a Finder.
func New() *Finder { return &Finder{re: regexp.MustCompile(source)} }

// Replace returns s with every address a replaced by f(a); the brackets
// around a Path stay.
func (f *Finder) Replace(s string, fn func(addr string) string) string {
	var b strings.Builder
	last := 0
	for _, m := range f.re.FindAllStringSubmatchIndex(s, -1) {
		start, end := addrSpan(m)
		b.WriteString(s[last:start])
		b.WriteString(fn(s[start:end]))
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// All returns the addresses in s, in order.
func (f *Finder) All(s string) []string {
	var out []string
	for _, m := range f.re.FindAllStringSubmatchIndex(s, -1) {
		start, end := addrSpan(m)
		out = append(out, s[start:end])
	}
	return out
}

// addrSpan returns where the address of a match is: inside the brackets
// of a Path, else the whole match.
func addrSpan(m []int) (start, end int) {
	if m[2] >= 0 {
		return m[2], m[3]
	}
	return m[0], m[1]
}
