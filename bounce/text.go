package bounce

import (
	"bytes"
	"regexp"
	"strings"
	"sync"

	"github.com/mailtriage/mailtriage/internal/ascii"
	"github.com/mailtriage/mailtriage/internal/pairs"
)

// A prose bounce names each recipient on a line of its own or at the
// start of one, and says what happened below it:
//
//	Exim:      "  jane@example.com" then indented lines
//	qmail:     "<jane@example.com>:" then the remote host's words
//	Postfix:   "<jane@example.com>: host mx[ip] said: 550 ..."
//	Sendmail:  "jane@example.com... User unknown", or the address alone
//	           under "The following addresses had permanent fatal errors"
//	others:    "... delivering your mail to <jane@example.com>."
//
// textBlocks cuts the human-readable text into such blocks, one per
// recipient, each with its text up to the next recipient or the start of
// the returned message.

// block is one recipient's part of a prose bounce.
type block struct {
	addr string
	text string
}

type blocks []block

// find returns the block of addr (or of orig).
func (bs blocks) find(addr, orig string) (block, bool) {
	for _, b := range bs {
		if b.addr == addr || orig != "" && b.addr == orig {
			return b, true
		}
	}
	return block{}, false
}

// readText reads a bounce in prose. Recipients come from the text's
// blocks; failing those from Exim's X-Failed-Recipients, then from the
// returned message's To.
func readText(m *Message, h header, p *parts) {
	bs := textBlocks(p, m)
	for _, b := range bs {
		m.Recipients = append(m.Recipients, fromBlock(b.addr, b.text))
	}
	if len(m.Recipients) > 0 {
		return
	}
	body := strings.TrimSpace(diagnosticProse(p))
	var addrs []string
	if h != nil {
		for _, v := range h["x-failed-recipients"] {
			addrs = append(addrs, findAddresses(v)...)
		}
	}
	if len(addrs) == 0 && p.original.To == "" {
		p.original = originalInProse(p)
	}
	if len(addrs) == 0 && p.original.To != "" {
		addrs = []string{p.original.To}
	}
	for _, a := range dedupe(addrs) {
		m.Recipients = append(m.Recipients, fromBlock(a, body))
	}
}

// fromBlock is a recipient read from prose.
func fromBlock(addr, text string) Recipient {
	text = joinContinuations(text)
	r := Recipient{Address: addr, Action: "failed", Command: commandOf(text), Status: statusIn(text)}
	r.Diagnostic = text
	if d, ok := zohoReply(text); ok {
		r.Diagnostic = d
	} else if d := replyIn(text); d != "" {
		r.Diagnostic = d
	}
	if strings.HasPrefix(r.Status, "2.") {
		// A transcript's "250 2.1.5 Ok" came before the failure.
		r.Status = statusIn(r.Diagnostic)
	}
	return r
}

// zohoReply reads the reply Zoho Mail quotes in its bounces, "Invalid
// Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <jane@example.com>... User
// Unknown": the code, then the text (which may be empty, the rest of the
// line saying it instead: "ERROR_CODE :421, ERROR_CODE :, Host not
// reachable."), then Zoho's label in brackets.
func zohoReply(text string) (string, bool) {
	label, rest, ok := strings.Cut(text, "ERROR_CODE :")
	if !ok {
		return "", false
	}
	code, rest, _ := strings.Cut(rest, ",")
	code = strings.TrimSpace(code)
	if len(code) != 3 || !replyCodeAt(code+" ", 0) {
		return "", false
	}
	if _, after, ok := strings.Cut(rest, "ERROR_CODE :"); ok {
		rest = after
	}
	reply := code + " " + strings.Trim(strings.TrimSpace(firstLines(rest, 400)), ", ")
	// Zoho's own label ("Invalid Address") says what Zoho made of it.
	if label = strings.Trim(strings.TrimSpace(label), ", "); label != "" && label != "Error" {
		reply += " (" + label + ")"
	}
	return reply, true
}

// replyIn is the part of a block from its first SMTP reply on ("host mx
// said: 550 5.1.1 ..." keeps "550 5.1.1 ..."), or "" when it has none. In
// a transcript the first error reply is the one: the 250 that took the
// recipient and the 354 that took the data went well.
func replyIn(text string) string {
	first := replyStart(text)
	for i := first; i >= 0; {
		if text[i] == '4' || text[i] == '5' {
			return strings.TrimSpace(text[i:])
		}
		j := replyStart(text[i+3:])
		if j < 0 {
			break
		}
		i += 3 + j
	}
	if first >= 0 {
		return strings.TrimSpace(text[first:])
	}
	return ""
}

// replyStart finds a reply code: three digits at the start of a word
// (not the last octet of "192.0.2.225 but ..."), then a space or hyphen,
// then an enhanced code, a word or a bracket. It returns the code's index,
// or -1.
func replyStart(text string) int {
	for i := 0; i+5 <= len(text); i++ {
		if i > 0 && !strings.ContainsRune(" \t\n\r\f:;([", rune(text[i-1])) {
			continue
		}
		if !replyCodeAt(text, i) {
			continue
		}
		if n := enhancedAt(text[i+4:]); n > 0 && !isWordByte(text, i+4+n) {
			return i
		}
		if c := text[i+4]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '<' || c == '\'' || c == '"' {
			return i
		}
		if text[i+4] == '-' && i+5 < len(text) && text[i+5] == ' ' {
			return i // Apache James: "550 - Requested action not taken"
		}
	}
	return -1
}

// diagnosticProse is the human-readable text before the returned message.
func diagnosticProse(p *parts) string {
	var b strings.Builder
	for _, t := range p.prose() {
		b.WriteString(t)
		b.WriteByte('\n')
	}
	return b.String()
}

// textBlocks cuts the human-readable parts into recipient blocks.
// Addresses of the report's own sender and receiver are not recipients.
func textBlocks(p *parts, m *Message) blocks {
	not := map[string]bool{m.From: true, m.To: true, p.original.From: true, "": true}
	var out blocks
	for _, t := range p.prose() {
		lines := strings.Split(t, "\n")
		cur := -1
		first := len(out)
		var preamble []string
		// exchange is the transcript's last command and reply (">>> MAIL
		// From:", "<<< 501 ...") not yet told of a recipient.
		var exchange []string
		for _, line := range lines {
			if addr, rest, ok := recipientLine(line, not); ok {
				summary := sendmailLine(line)
				if summary && len(exchange) > 0 && replyStart(rest[min(4, len(rest)):]) < 0 {
					// Sendmail 5 sums a refusal up in its own words ("554
					// <jane@example.org>... Remote protocol error"): the
					// server's reply is the transcript's.
					rest = strings.Join(exchange, "\n")
				}
				exchange = nil
				i := indexOf(out, addr)
				if i >= 0 {
					out[i].text += " " + rest
				} else {
					out = append(out, block{addr: addr, text: rest})
					i = len(out) - 1
				}
				cur = i
				if summary {
					// Sendmail's "550 <jane@example.com>... User unknown"
					// closes what it says of the recipient; the transcript
					// lines after it are the next recipient's.
					cur = -1
				}
				continue
			}
			if t := strings.TrimSpace(line); strings.HasPrefix(t, ">>> ") {
				exchange = []string{t}
			} else if strings.HasPrefix(t, "<<< ") && len(exchange) == 1 && replyStart(t) == 4 && t[4] != '2' && t[4] != '3' {
				exchange = append(exchange, t)
			} else if len(exchange) == 1 || len(exchange) > 0 && strings.Contains(ascii.Lower(t), "while talking to") {
				exchange = nil
			}
			if cur >= 0 {
				// What a recipient's failure says fits in its first lines;
				// the rest of a long prose bounce is boilerplate.
				if len(out[cur].text) < maxBlock {
					out[cur].text += "\n" + line
				}
			} else {
				preamble = append(preamble, line)
			}
		}
		// Some bounces give the reason above the addresses ("The user(s)
		// account is disabled." then the list): blocks with nothing of
		// their own take the last paragraph above them.
		reason, start := lastParagraph(preamble)
		if strings.HasSuffix(reason, ":") {
			// "The following recipients did not receive this message:"
			// introduces the list; the reason is the paragraph above it.
			if above, _ := lastParagraph(preamble[:start]); above != "" {
				reason = above + " " + reason
			}
		}
		above, aboveRead := "", false
		for i := first; i < len(out); i++ {
			switch {
			case strings.TrimSpace(out[i].text) == "":
				out[i].text = reason
			case replyStart(out[i].text) < 0:
				// Apache James gives the reply above the message's
				// details ("Error message below: 550 - ...", then "RCPT
				// TO: jane@example.org" among the details).
				if !aboveRead {
					above, aboveRead = replyParagraph(preamble), true
				}
				if above != "" {
					out[i].text = above + "\n" + out[i].text
				}
			}
		}
	}
	for i := range out {
		out[i].text = strings.TrimSpace(out[i].text)
	}
	return out
}

// replyParagraph is the paragraph of lines from the first SMTP reply that
// starts a line, or "" when no line starts with one.
func replyParagraph(lines []string) string {
	for i, l := range lines {
		if replyStart(l) != 0 {
			continue
		}
		end := i
		for end < len(lines) && strings.TrimSpace(lines[end]) != "" {
			end++
		}
		return strings.Join(lines[i:end], "\n")
	}
	return ""
}

// maxBlock bounds the text kept for one recipient.
const maxBlock = 2048

// lastParagraph is the last run of non-blank lines, joined, and the index
// of its first line.
func lastParagraph(lines []string) (string, int) {
	end := len(lines)
	for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	start := end
	for start > 0 && strings.TrimSpace(lines[start-1]) != "" {
		start--
	}
	return strings.TrimSpace(strings.Join(lines[start:end], " ")), start
}

func indexOf(bs blocks, addr string) int {
	for i, b := range bs {
		if b.addr == addr {
			return i
		}
	}
	return -1
}

// recipientLine reports whether a line names a recipient, and returns the
// address with the rest of the line.
func recipientLine(line string, not map[string]bool) (addr, rest string, ok bool) {
	t := strings.TrimSpace(line)
	if len(t) < 3 || len(t) > 400 || strings.IndexByte(t, '@') < 0 {
		return "", "", false
	}
	if name, _, ok := strings.Cut(t, ":"); ok && isHeaderName(name) {
		return "", "", false // a quoted header line
	}
	from, to := findAddr(t)
	if from < 0 {
		return "", "", false
	}
	loc := [2]int{from, to}
	a := strings.ToLower(t[loc[0]:loc[1]])
	if not[a] || isRole(a) {
		return "", "", false
	}
	rest, ok = shape(t[:loc[0]], t[loc[1]:])
	if !ok {
		return "", "", false
	}
	if strings.Contains(strings.ToLower(t[:loc[0]]), "mail from") {
		// A transcript's "MAIL FROM:<joe@example.net>" names the sender.
		return "", "", false
	}
	if strings.Contains(strings.ToLower(t[:loc[0]]), "rcpt to") {
		// Exim's "SMTP error from remote mail server after RCPT
		// TO:<jane@example.com>:": the line names the command answered.
		rest = t
	}
	return a, rest, true
}

// shape decides, from the text before and after an address, whether a
// line is a recipient's, and returns what the line says of it. One
// address search and a few checks of its surroundings cost much less
// than a regular expression per form.
func shape(pre, post string) (string, bool) {
	// Active!Hunter lists a recipient as ">>> jane@example.org
	// <jane@example.org>"; a transcript's ">>> RCPT To:<" is not bare.
	lead := strings.TrimRight(strings.TrimLeft(strings.TrimPrefix(pre, ">>> "), "*•- \t"), `"<`)
	switch {
	case lead == "":
		// The address starts the line, bracketed, quoted or bulleted.
		post = strings.TrimPrefix(strings.TrimPrefix(post, ">"), `"`)
		switch {
		case post == "" || post == ":":
			return "", true
		case strings.HasPrefix(post, "..."):
			return strings.TrimSpace(post[3:]), true
		case post[0] == ':' || post[0] == ' ' || post[0] == '\t':
			return strings.TrimSpace(post[1:]), true
		}
		return "", false
	case strings.HasPrefix(post, ">...") && sendmailSummary.MatchString(pre):
		// "554 <jane@example.com>... Remote protocol error": the code
		// is the recipient's too.
		return pre[:3] + " " + strings.TrimSpace(post[4:]), true
	case recipientField.MatchString(pre):
		return strings.TrimSpace(strings.TrimPrefix(post, ">")), true
	case post == "" || post == ">" || post == "." || post == ">.":
		if m := reasonLabel.FindStringSubmatch(pre); m != nil && !isHeaderName(m[1]) {
			return m[1], true
		}
	}
	if strings.HasSuffix(pre, "<") && strings.HasPrefix(post, ">") && proseLead.MatchString(pre) {
		return strings.TrimSpace(strings.TrimLeft(post[1:], ".:,")), true
	}
	return "", false
}

// sendmailLine reports whether a line is a Sendmail summary line: "550
// <jane@example.com>... User unknown".
func sendmailLine(line string) bool {
	t := strings.TrimSpace(line)
	i := strings.Index(t, ">...")
	j := strings.IndexByte(t, '<')
	return i > 0 && j > 0 && j < i && sendmailSummary.MatchString(t[:j+1])
}

var (
	// Sendmail's summary lines: "550 <jane@example.com>... User unknown".
	sendmailSummary = regexp.MustCompile(`^[245]\d\d\s+<$`)
	// A recipient field written out, or an SMTP transcript's RCPT TO.
	recipientField = regexp.MustCompile(`(?i)^(?:(?:Original-|Final-)?Recipient(?: address)?:\s*(?:rfc822;\s*)?|RCPT TO:\s*)<?$`)
	// The reason before the address: "Unknown user: jane@example.com".
	reasonLabel = regexp.MustCompile(`^([A-Za-z][A-Za-z '-]{2,60}):\s*<?$`)
	// Prose that names the recipient it could not deliver to: "... delivering
	// your mail to <jane@example.com>."
	proseLead = regexp.MustCompile(`(?i)(?:deliver(?:ing|ed)?|sent|send|message|mail|recipient|address(?:ee)?|to)\b[^<@]{0,60}<$`)
)

// isHeaderName reports whether a word is a header field's name ("To",
// "From", "Reply-To"): a quoted header line names no recipient.
func isHeaderName(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "to", "from", "cc", "bcc", "reply-to", "sender", "return-path", "delivered-to", "x-original-to", "envelope-to", "errors-to", "resent-to", "resent-from", "x-sender", "x-receiver",
		"message-id", "in-reply-to", "references", "original-envelope-id", "subject", "date":
		return true
	}
	return false
}

// isRole reports whether an address is a mail system's own (the
// postmaster, the daemon that wrote the bounce): never a recipient.
func isRole(a string) bool {
	local, _, _ := strings.Cut(a, "@")
	switch strings.ToLower(local) {
	case "postmaster", "mailer-daemon", "mail-daemon", "maildaemon", "root", "nobody", "noreply", "no-reply", "daemon":
		return true
	}
	return false
}

// originalInProse reads the header of the returned message that a prose
// bounce appends after its marker line.
func originalInProse(p *parts) Original {
	for i, t := range p.texts {
		rest := string(t[len(p.prose()[i]):])
		// Skip the marker and any blank lines to the first field.
		lines := strings.Split(rest, "\n")
		for i, l := range lines {
			if name, _, ok := strings.Cut(l, ":"); ok && name != "" && !strings.ContainsAny(name, " \t") {
				h, _ := splitHeader([]byte(strings.Join(lines[i:], "\n")))
				if o := originalOf(h); o.To != "" {
					return o
				}
				break
			}
		}
	}
	return Original{}
}

// cutOriginal cuts prose at the start of the returned message, which a
// text bounce appends after a marker line.
func cutOriginal(t []byte) string {
	// The prose of a bounce comes first; past its first 32 KB is the
	// returned message.
	if len(t) > 32<<10 {
		t = t[:32<<10]
	}
	// ASCII lower case, so that offsets in lower are offsets in t; into a
	// pooled buffer, as every message needs one this size.
	bp := lowerPool.Get().(*[]byte)
	lower := ascii.AppendLower((*bp)[:0], t)
	defer func() { *bp = lower; lowerPool.Put(bp) }()
	var ps pairs.Set
	ps.FillBytes(lower)
	end := len(t)
	for k, mk := range markerBytes {
		if !ps.MayContain(markerKeys[k]) {
			continue
		}
		if i := bytes.Index(lower[:end], mk); i >= 0 {
			// Cut at the start of the marker's line.
			j := bytes.LastIndexByte(lower[:i], '\n') + 1
			if len(bytes.TrimSpace(t[:j])) > 0 {
				end = j
			}
		}
	}
	return string(t[:end])
}

var lowerPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

var originalMarkers = []string{
	"this is a copy of the message",
	"below this line is a copy of the message",
	"message headers follow",
	"original message follows",
	"original message headers",
	"original message ---",
	"original message-",
	"original message:",
	"headers of the original message",
	"header of the original message",
	"returned message follows",
	"unsent message below",
	"unsent message follows",
	"undelivered message",
	"the text you sent follows",
	"your message reads",
	"included is the original",
	"content-type: message/rfc822",
	"return-path: <",
	"\nreceived: from ",
	"\nreceived:from ",
}

// markerKeys are the byte pairs of originalMarkers, for package pairs.
var markerKeys = keysOf(originalMarkers)

var markerBytes = func() [][]byte {
	out := make([][]byte, len(originalMarkers))
	for i, m := range originalMarkers {
		out[i] = []byte(m)
	}
	return out
}()

func keysOf(subs []string) []pairs.Keys {
	out := make([]pairs.Keys, len(subs))
	for i, s := range subs {
		out[i] = pairs.KeysOf(s)
	}
	return out
}

// findAddresses returns the addresses in s, lower-cased, in order.
func findAddresses(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		a, b := findAddr(s[i:])
		if a < 0 {
			break
		}
		out = append(out, strings.ToLower(strings.Trim(s[i+a:i+b], ".")))
		i += b
	}
	return out
}

// findAddr finds the first address in s: the run of characters an address
// may hold, and in it the last "@" followed by a domain of two labels or
// more. It returns the address's bounds, or -1, -1. It runs on every line
// of a bounce that holds an "@", where the regular expression it replaced
// (kept in the tests as its specification) cost a tenth of reading one.
func findAddr(s string) (start, end int) {
	for i := 0; i < len(s); {
		for i < len(s) && !localByte(s[i]) {
			i++
		}
		run := i
		for i < len(s) && localByte(s[i]) {
			i++
		}
		for at := i - 1; at > run; at-- {
			if s[at] != '@' {
				continue
			}
			if e := domainEnd(s, at+1); e > 0 {
				return run, e
			}
		}
	}
	return -1, -1
}

// localByte reports whether c may be in an address's local part as the
// bounces quote it: not white space, nor a bracket, quote or separator.
func localByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '<', '>', '(', ')', '"', '\'', ':', ';', ',':
		return false
	}
	return true
}

// domainEnd is where the domain that starts at s[q] ends: labels of
// letters, digits and hyphens that start and end with a letter or digit,
// joined by dots, at least two of them; -1 when there is none.
func domainEnd(s string, q int) int {
	end, labels := -1, 0
	for i := q; i < len(s) && isAlnum(s[i]); {
		last := i
		j := i
		for j < len(s) && (isAlnum(s[j]) || s[j] == '-') {
			if isAlnum(s[j]) {
				last = j
			}
			j++
		}
		if labels++; labels >= 2 {
			end = last + 1
		}
		if last+1 >= len(s) || s[last+1] != '.' {
			break
		}
		i = last + 2
	}
	return end
}

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
