// Package smtpreply parses SMTP server replies as mail systems log and quote
// them: the basic reply code (RFC 5321 §4.2), the enhanced status code
// (RFC 3463, registry of RFC 5248), the text, the provider tags that carry
// the real reason ([CS01], (S3150), [TSS04], AS(508)), URLs, and the inner
// reply that a queue timeout wraps ("last transfail: 421 4.7.0 ...").
//
// It also decodes the wrappers a delivery agent puts around a reply, such as
// Postfix's "host X[ip] said: ... (in reply to RCPT TO command)" or
// "connect to X[ip]:25: Connection timed out": see ParseDetail.
//
// The package knows nothing of who sent the reply or what it means; that is
// the classifier's job.
package smtpreply

import (
	"strings"

	"github.com/mailtriage/mailtriage/internal/ascii"
)

// Reply is one SMTP reply, folded onto one line.
type Reply struct {
	// Code is the basic reply code (RFC 5321 §4.2), 0 when the text has none.
	Code int `json:"code,omitempty"`
	// Enhanced is the enhanced status code "class.subject.detail"
	// (RFC 3463 §2), "" when the text has none.
	Enhanced string `json:"enhanced,omitempty"`
	// Text is the reply text without the codes, with the continuation
	// prefixes of a multi-line reply (RFC 5321 §4.2.1) removed.
	Text string `json:"text"`
	// Tags are the provider tokens found in the text, as written:
	// "[CS01]", "(S3150)", "AS(508)", "[TSS04]", "RP-001".
	Tags []string `json:"tags,omitempty"`
	// URLs are the http and https links in the text.
	URLs []string `json:"urls,omitempty"`
	// Inner is the reply a wrapper quotes, such as the last transfer
	// failure inside a queue timeout.
	Inner *Reply `json:"inner,omitempty"`
}

// Class returns the class digit of the reply: 2, 4 or 5 from the basic code,
// else from the enhanced code, else 0. RFC 3463 §3.1 lets the two disagree
// (Exchange sends "550 4.4.7"); the basic code decides what the client does.
func (r Reply) Class() int {
	if r.Code >= 200 && r.Code < 600 {
		return r.Code / 100
	}
	if r.Enhanced != "" {
		return int(r.Enhanced[0] - '0')
	}
	return 0
}

// String gives the reply in the usual one-line form.
func (r Reply) String() string {
	var b strings.Builder
	if r.Code != 0 {
		b.WriteString(itoa3(r.Code))
	}
	if r.Enhanced != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.Enhanced)
	}
	if r.Text != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.Text)
	}
	return b.String()
}

func itoa3(n int) string {
	if n < 100 || n > 999 {
		return ""
	}
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

// Parse reads one reply. It never fails: text without codes becomes a Reply
// with Code 0 and the whole input as Text.
func Parse(s string) Reply {
	s = strings.TrimSpace(s)
	// Exchange 2007/2010 writes "#550 4.4.7 QUEUE.Expired; message expired".
	if len(s) > 4 && s[0] == '#' && isDigit(s[1]) {
		s = s[1:]
	}
	var r Reply
	rest := s
	if i := laterFailure(s); i > 0 {
		// "220-banner 421 4.2.1 ...": a greeting's continuation line, then
		// the failure that ended the session. The failure is the reply.
		rest = s[i:]
		s = rest
	}
	if code, n := replyCode(rest); n > 0 {
		r.Code = code
		rest = rest[n:]
	}
	rest = strings.TrimLeft(rest, " -")
	if enh, n := enhancedCode(rest); n > 0 {
		r.Enhanced = enh
		rest = strings.TrimLeft(rest[n:], " ")
	}
	if r.Code != 0 {
		rest = unfold(rest, s[:3], r.Enhanced, len(s) > 3 && s[3] == '-')
	}
	r.Text = ascii.Squeeze(rest)
	if r.Code/100 == 2 {
		// Acceptances carry queue and transaction ids, not the tags,
		// links and quoted failures worth finding in a rejection.
		return r
	}
	if r.Enhanced == "" {
		r.Enhanced = trailingEnhanced(r.Text)
	}
	r.Tags = tags(r.Text)
	r.URLs = urls(r.Text)
	r.Inner = inner(r.Text)
	return r
}

// laterFailure finds, in a multi-line reply that starts with a success
// code ("220-..."), the position of a 4yz or 5yz line that follows, or 0.
// RFC 5321 §4.2.1 wants one code per reply, but servers that reject right
// after their banner produce this.
func laterFailure(s string) int {
	if len(s) < 8 || (s[0] != '2' && s[0] != '3') || s[3] != '-' {
		return 0
	}
	for i := 4; i+4 <= len(s); i++ {
		if s[i-1] == ' ' && (s[i] == '4' || s[i] == '5') {
			if _, n := replyCode(s[i:]); n > 0 && i+3 < len(s) && s[i+3] == ' ' {
				return i
			}
		}
	}
	return 0
}

// replyCode reads a basic reply code at the start of s: three digits, the
// first 2 to 5, followed by a space, a hyphen or the end.
func replyCode(s string) (int, int) {
	if len(s) < 3 || s[0] < '2' || s[0] > '5' || !isDigit(s[1]) || !isDigit(s[2]) {
		return 0, 0
	}
	if len(s) > 3 && s[3] != ' ' && s[3] != '-' {
		return 0, 0
	}
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'), 3
}

// IsEnhanced reports whether s is an enhanced status code, and only that
// (RFC 3463 §2: class "." subject "." detail).
func IsEnhanced(s string) bool {
	_, n := enhancedCode(s)
	return n > 0 && n == len(s)
}

// enhancedCode reads "class.subject.detail" at the start of s (RFC 3463 §2:
// class 2, 4 or 5; subject and detail up to three digits each), optionally
// after a '#' as Exchange and MessageLabs write it.
func enhancedCode(s string) (string, int) {
	start := 0
	if strings.HasPrefix(s, "#") {
		start = 1
	}
	i := start
	if i >= len(s) || (s[i] != '2' && s[i] != '4' && s[i] != '5') {
		return "", 0
	}
	i++
	for part := 0; part < 2; part++ {
		if i >= len(s) || s[i] != '.' {
			return "", 0
		}
		i++
		j := i
		for j < len(s) && j-i < 4 && isDigit(s[j]) {
			j++
		}
		if j == i || j-i > 3 {
			return "", 0
		}
		i = j
	}
	if i < len(s) && s[i] != ' ' && s[i] != ',' && s[i] != ';' && s[i] != ')' && s[i] != ']' && s[i] != ':' {
		return "", 0
	}
	return s[start:i], i
}

// trailingEnhanced finds an enhanced code written at the end in parentheses,
// as in MessageLabs' "... (#5.7.1)".
func trailingEnhanced(text string) string {
	i := strings.LastIndex(text, "(#")
	if i < 0 {
		return ""
	}
	enh, n := enhancedCode(text[i+1:])
	if n == 0 {
		return ""
	}
	return enh
}

// unfold removes the continuation prefixes that remain when a multi-line
// reply (RFC 5321 §4.2.1: "550-5.7.1 ...", last line "550 5.7.1 ...") is
// logged on one line, as Postfix and most MTAs do. multi says the first
// line was a continuation ("550-"): then the last line's "550 " is a
// prefix even without an enhanced code.
func unfold(text, code, enhanced string, multi bool) string {
	if !strings.Contains(text, code) {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, code)
		if i < 0 {
			break
		}
		n := continuation(text[i:], code, enhanced, multi)
		if n == 0 || (i > 0 && text[i-1] != ' ') {
			b.WriteString(text[:i+len(code)])
			text = text[i+len(code):]
			continue
		}
		if text[i+len(code)] == ' ' {
			// The last line: what follows is text.
			multi = false
		}
		b.WriteString(text[:i])
		text = text[i+n:]
	}
	b.WriteString(text)
	return b.String()
}

// continuation returns the length of a repeated reply prefix at the start of
// s ("550-5.7.1 ", "550 5.7.1 ", "550-"), or 0. A line may carry another
// enhanced code of the same class than the first (RFC 2034 §4 asks for one
// on every line, not for the same one).
func continuation(s, code, enhanced string, multi bool) int {
	n := len(code)
	if len(s) <= n {
		return 0
	}
	sep := s[n]
	if sep != '-' && sep != ' ' {
		return 0
	}
	rest := s[n+1:]
	if enhanced != "" {
		e, m := enhancedCode(rest)
		if m == 0 || e[0] != enhanced[0] || (e != enhanced && sep == ' ' && !multi) {
			return 0
		}
		if m < len(rest) && rest[m] != ' ' {
			return 0
		}
		return n + 1 + m + min(1, len(rest)-m)
	}
	if sep == '-' || multi {
		return n + 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// inner returns the reply quoted after "last transfail:" in a queue timeout
// (Momentum/SparkPost: "554 5.4.7 [internal] message timeout (exceeded max
// time, last transfail: 421 4.7.0 ...)"), or after "last error:" as other
// MTAs write it. RFC 3463 §3.5 (X.4.7) asks for the actual problem; this is it.
func inner(text string) *Reply {
	if !strings.Contains(text, "ast ") && !strings.Contains(text, "AST ") {
		return nil // the quick test: no "last" at all
	}
	for _, marker := range []string{"last transfail:", "last error:", "last failure:"} {
		i := indexFold(text, marker)
		if i < 0 {
			continue
		}
		q := strings.TrimSpace(text[i+len(marker):])
		q = strings.TrimSpace(untilUnbalancedParen(q))
		if q == "" {
			return nil
		}
		r := Parse(q)
		return &r
	}
	return nil
}

// untilUnbalancedParen cuts s at the first ')' that closes a '(' opened
// before s began.
func untilUnbalancedParen(s string) string {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return s[:i]
			}
			depth--
		}
	}
	return s
}

// indexFold is strings.Index for an ASCII lower-case needle, ignoring ASCII
// case in s. Unlike strings.ToLower it keeps byte offsets valid in any input.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		j := 0
		for j < len(needle) {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
			j++
		}
		if j == len(needle) {
			return i
		}
	}
	return -1
}
