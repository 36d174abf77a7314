package bounce

import (
	"regexp"
	"strings"

	"github.com/mailtriage/mailtriage/internal/ascii"
	"github.com/mailtriage/mailtriage/internal/literals"
)

// fieldGroups reads the fields of a delivery-status or feedback-report
// part (RFC 3464 §2.1): groups of "Name: value" lines, folded lines
// joined, separated by blank lines. A Final-Recipient in a group that
// already has one starts a new group, for the reports that leave the blank
// line out.
func fieldGroups(b []byte) []header {
	var groups []header
	cur := header{}
	var last string
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur, last = header{}, ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			v := cur[last]
			v[len(v)-1] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(strings.TrimSpace(name), " \t") {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "final-recipient" && cur.get("final-recipient") != "" {
			flush()
		}
		cur[name] = append(cur[name], strings.TrimSpace(value))
		last = name
	}
	flush()
	return groups
}

// readStatus reads a delivery-status part: the per-message fields, then a
// recipient per group with a Final-Recipient or Original-Recipient. The
// human-readable part fills in what the fields leave out: the command the
// reply answered, and the diagnostic when there is no Diagnostic-Code.
func readStatus(m *Message, p *parts) {
	var blocks blocks
	blocksRead := false
	groups := fieldGroups(p.status)
	recipients := 0
	for _, g := range groups {
		if g.get("final-recipient") != "" || g.get("original-recipient") != "" {
			recipients++
		}
	}
	for _, g := range groups {
		if v := g.get("reporting-mta"); v != "" && m.ReportingMTA == "" {
			m.ReportingMTA = typed(v)
		}
		addr := address(typed(g.get("final-recipient")))
		orig := address(typed(g.get("original-recipient")))
		if addr == "" {
			addr = orig
		}
		if addr == "" {
			continue
		}
		r := Recipient{
			Address: addr, Action: strings.ToLower(firstWord(g.get("action"))),
			Status: statusCode(g.get("status")), RemoteMTA: mtaName(typed(g.get("remote-mta"))),
		}
		if _, comment, ok := strings.Cut(g.get("status"), "("); ok {
			r.StatusText = strings.TrimSuffix(strings.TrimSpace(comment), ")")
		}
		if orig != addr {
			r.Original = orig
		}
		if d := g.get("diagnostic-code"); d != "" {
			r.DiagnosticType, r.Diagnostic = diagnostic(d)
		}
		if v := g.get("last-attempt-date"); v != "" && m.Date.IsZero() {
			if t, err := parseDate(v); err == nil {
				r.LastAttempt = t
			}
		}
		r.Command = commandOf(r.Diagnostic)
		// The prose says what the fields leave out: the command the reply
		// answered, or the diagnostic itself. Cutting it into blocks is the
		// dearest part of reading a report, so it is done only when needed.
		if r.Command == "" && recipients == 1 && len(r.Diagnostic) >= 8 {
			r.Command = commandOf(diagnosticProse(p))
		} else if r.Command == "" || len(r.Diagnostic) < 8 || r.Status == "" {
			if !blocksRead {
				blocks, blocksRead = textBlocks(p, m), true
			}
			if b, ok := blocks.find(addr, orig); ok {
				if r.Diagnostic == "" || len(r.Diagnostic) < 8 && len(b.text) > len(r.Diagnostic) {
					r.Diagnostic = b.text
				}
				r.Command = cmpOr(r.Command, commandOf(b.text))
				r.Status = cmpOr(r.Status, statusIn(b.text))
			}
		}
		if r.Diagnostic == "" && causeIn(r.StatusText) {
			// No Diagnostic-Code and no block of its own, but the status
			// comment names the cause: "4.0.0 (example.com: host name
			// lookup failure)".
			r.Diagnostic = r.StatusText
		}
		if r.Diagnostic == "" {
			// No Diagnostic-Code and no block of its own: the prose is
			// all the report says ("Your message wasn't delivered to ...
			// because the address couldn't be found").
			r.Diagnostic = firstLines(strings.TrimSpace(diagnosticProse(p)), 1000)
		}
		m.Recipients = append(m.Recipients, r)
	}
	if len(m.Recipients) == 0 {
		// A delivery-status part with no recipient field: the prose may
		// still name them.
		readText(m, nil, p)
	}
}

// causeIn reports whether a Status field's comment says more than the
// class of the status ("permanent failure", RFC 3463's "other or
// undefined ... status").
func causeIn(comment string) bool {
	c := ascii.Lower(comment)
	switch c {
	case "", "permanent failure", "temporary failure", "transient failure", "persistent transient failure", "failed", "delayed":
		return false
	}
	return !strings.HasPrefix(c, "other or undefined")
}

// firstLines is s up to n bytes, cut at a line end, folded onto one line.
func firstLines(s string, n int) string {
	if len(s) > n {
		if i := strings.LastIndexByte(s[:n], '\n'); i > 0 {
			n = i
		}
		s = s[:n]
	}
	return ascii.Squeeze(s)
}

// typed is the value of a typed field ("rfc822; jane@example.com",
// "dns; mx.example.com") without its type.
func typed(v string) string {
	if _, after, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(after)
	}
	return strings.TrimSpace(v)
}

// mtaName is the host name of an MTA field's value without the comment
// some reports write after it (RFC 3464 §2.3.5 gives the name alone;
// Google adds "(192.0.2.1, the server for the domain ...)", Oracle's
// Messaging Server "(TCP|...)") and without a final dot.
func mtaName(v string) string {
	if i := strings.IndexAny(v, " \t(["); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSuffix(v, ".")
}

// diagnostic splits a Diagnostic-Code into its type and text.
func diagnostic(v string) (typ, text string) {
	if t, after, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " \t") {
		return strings.ToLower(strings.TrimSpace(t)), joinContinuations(strings.TrimSpace(after))
	}
	return "", joinContinuations(strings.TrimSpace(v))
}

// address is a recipient field's address, lower-cased, without angle
// brackets or comments; "" when it holds none.
func address(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if as := findAddresses(v); len(as) > 0 {
		return as[0]
	}
	return ""
}

var statusRE = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)

// statusCode is the X.Y.Z of a Status field ("5.1.1 (user unknown)").
func statusCode(v string) string { return statusRE.FindString(v) }

// statusIn finds a status code in prose: an enhanced code after a reply
// code, or qmail's "(#5.1.1)" ("(#5.1.1 - chkusr)").
func statusIn(text string) string {
	// qmail's "(#5.1.1)" first: it is the one qmail means.
	for i := 0; ; {
		j := strings.Index(text[i:], "(#")
		if j < 0 {
			break
		}
		i += j + 2
		// The chkusr patch adds its name: "(#5.1.1 - chkusr)".
		if n := enhancedAt(text[i:]); n > 0 && i+n < len(text) && (text[i+n] == ')' || text[i+n] == ' ') {
			return text[i : i+n]
		}
	}
	// Else the first after a reply code: "550 5.1.1", "421-4.7.0".
	for i := 0; i+9 <= len(text); i++ {
		if replyCodeAt(text, i) {
			if n := enhancedAt(text[i+4:]); n > 0 && !isWordByte(text, i+4+n) {
				return text[i+4 : i+4+n]
			}
		}
	}
	return ""
}

// replyCodeAt reports whether a reply code and its separator start at
// text[i] as a word of its own: "550 " or "421-", not "1550 ".
func replyCodeAt(text string, i int) bool {
	if i+4 > len(text) || isWordByte(text, i-1) {
		return false
	}
	c := text[i]
	return (c == '2' || c == '4' || c == '5') && isDigit(text[i+1]) && isDigit(text[i+2]) && (text[i+3] == ' ' || text[i+3] == '-')
}

// enhancedAt is the length of the enhanced status code (RFC 3463 §2:
// class.subject.detail, up to three digits each after the class) that s
// starts with, or 0.
func enhancedAt(s string) int {
	if len(s) < 5 || s[0] != '2' && s[0] != '4' && s[0] != '5' || s[1] != '.' {
		return 0
	}
	i := 2
	for part := 0; part < 2; part++ {
		n := 0
		for i < len(s) && n < 4 && isDigit(s[i]) {
			i++
			n++
		}
		if n == 0 || n > 3 {
			return 0
		}
		if part == 0 {
			if i >= len(s) || s[i] != '.' {
				return 0
			}
			i++
		}
	}
	return i
}

// isWordByte reports whether text[i] is a letter, digit or underscore
// (what \b in a regular expression sees as a word), false out of range.
func isWordByte(text string, i int) bool {
	if i < 0 || i >= len(text) {
		return false
	}
	c := text[i]
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// joinContinuations folds a multi-line reply onto one line without the
// repeated codes of its continuation lines ("550-5.7.26 … 550-5.7.26 …"),
// as RFC 5321 §4.2.1 writes them and Gmail splits at 80 characters.
func joinContinuations(s string) string {
	if !hasContinuation(s) {
		return ascii.Squeeze(s)
	}
	m := continuation.FindAllStringSubmatchIndex(s, -1)
	if len(m) < 2 {
		return ascii.Squeeze(s)
	}
	first := s[m[0][2]:m[0][3]]
	var b strings.Builder
	b.WriteString(s[:m[0][1]])
	for i := range m {
		end := len(s)
		if i+1 < len(m) {
			end = m[i+1][0]
		}
		seg := s[m[i][1]:end]
		if i > 0 && s[m[i][2]:m[i][3]] != first {
			seg = s[m[i][0]:end]
		}
		b.WriteString(seg)
		b.WriteByte(' ')
	}
	return ascii.Squeeze(b.String())
}

// hasContinuation reports whether s holds a continued reply line's code,
// three digits and a hyphen: only then is the expression worth running.
func hasContinuation(s string) bool {
	for i := 3; i < len(s); i++ {
		if s[i] == '-' && isDigit(s[i-1]) && isDigit(s[i-2]) && isDigit(s[i-3]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// continuation matches a reply line's code: "550-5.7.26 ", "550 ".
var continuation = regexp.MustCompile(`(?:^|\s)(\d{3}[- ](?:[245]\.\d{1,3}\.\d{1,3} )?)`)

// commandOf finds the SMTP command a reply answered in the prose around
// it: Postfix's "(in reply to RCPT TO command)", a transcript's last
// ">>> RCPT To:" before the first error reply ("<<< 550 ..."), Exim's
// "after RCPT TO:", qmail's "most progress was RCPT TO response",
// DragonFly's "did not like our final DATA".
func commandOf(text string) string {
	lower := ascii.Lower(text)
	if i := strings.Index(lower, "in reply to "); i >= 0 {
		if c := phraseCommand(lower[i:], "in reply to "); c != "" {
			return c
		}
	}
	if i := transcriptErrorAt(lower); i >= 0 {
		// The client's last command before it: Sendmail's ">>> DATA",
		// Postfix's "In:  DATA".
		j, prefix := strings.LastIndex(lower[:i], ">>> "), ">>> "
		if k := strings.LastIndex(lower[:i], "in: "); k > j {
			j, prefix = k, "in: "
		}
		if j >= 0 {
			if c := phraseCommand(strings.TrimLeft(lower[j+len(prefix):], " "), ""); c != "" {
				return c
			}
		}
	}
	found := commands.index.Scan(lower)
	best, at := "", len(lower)+1
	for k, c := range commandPhrases {
		if !found.Has(commands.ids[k]) {
			continue
		}
		if i := strings.Index(lower, c.phrase); i >= 0 && i < at {
			best, at = c.command, i
		}
	}
	return best
}

// transcriptErrorAt finds where a transcript's first error reply begins
// in lower, or -1: Sendmail's "<<< 550", Postfix's "Out: 550" ("out:" not
// inside a word, then white space, then a 4yz or 5yz code).
func transcriptErrorAt(lower string) int {
	first := -1
	for _, mark := range []string{"<<<", "out:"} {
		for from := 0; from < len(lower); {
			i := strings.Index(lower[from:], mark)
			if i < 0 {
				break
			}
			i += from
			from = i + len(mark)
			if mark == "out:" && isWordByte(lower, i-1) {
				continue
			}
			j := from
			for j < len(lower) && (lower[j] == ' ' || lower[j] == '\t' || lower[j] == '\n' || lower[j] == '\r' || lower[j] == '\f') {
				j++
			}
			if j+3 <= len(lower) && (lower[j] == '4' || lower[j] == '5') && isDigit(lower[j+1]) && isDigit(lower[j+2]) {
				if first < 0 || i < first {
					first = i
				}
				break
			}
		}
	}
	return first
}

// phraseCommand names the command after prefix at the start of s.
func phraseCommand(s, prefix string) string {
	s = strings.TrimPrefix(s, prefix)
	for _, c := range []struct{ word, command string }{
		{"end of data", "DATA"}, {"data", "DATA"}, {".", "DATA"}, {"rcpt", "RCPT"}, {"mail", "MAIL"},
		{"ehlo", "EHLO"}, {"helo", "EHLO"}, {"starttls", "STARTTLS"}, {"initial", "CONN"},
	} {
		if strings.HasPrefix(s, c.word) {
			return c.command
		}
	}
	return ""
}

// commands finds which commandPhrases a text holds in one pass; ids are
// the phrases' ids in the index.
var commands = func() (c struct {
	index literals.Index
	ids   []int
}) {
	for _, p := range commandPhrases {
		c.ids = append(c.ids, c.index.ID(p.phrase))
	}
	c.index.Compile()
	return c
}()

var commandPhrases = []struct{ phrase, command string }{
	{"in reply to end of data", "DATA"},
	{"in reply to data", "DATA"},
	{"in reply to rcpt to", "RCPT"},
	{"in reply to mail from", "MAIL"},
	{"in reply to ehlo", "EHLO"},
	{"in reply to helo", "EHLO"},
	{"in reply to starttls", "STARTTLS"},
	{"in reply to initial", "CONN"},
	{"while receiving the initial server greeting", "CONN"},
	{"after end of data", "DATA"},
	{"after data", "DATA"},
	{"after rcpt to", "RCPT"},
	{"after mail from", "MAIL"},
	{"after ehlo", "EHLO"},
	{"after helo", "EHLO"},
	{"after initial connection", "CONN"},
	{"after pipelined", "DATA"},
	{"most progress was rcpt to", "RCPT"},
	{"did not like our rcpt to", "RCPT"},
	{"did not like our mail from", "MAIL"},
	{"did not like our final data", "DATA"},
	{"did not like our data", "DATA"},
	{">>> rcpt to", "RCPT"},
	{">>> mail from", "MAIL"},
	{">>> data", "DATA"},
	{">>> .", "DATA"},
	{"smtp command data", "DATA"},
	{"smtp command rcpt", "RCPT"},
	// A command with its argument in brackets; "RCPT TO: jane@example.org"
	// among a message's details (Apache James) names no failed command.
	{"rcpt to:<", "RCPT"},
	{"rcpt to: <", "RCPT"},
	{"mail from:<", "MAIL"},
	{"mail from: <", "MAIL"},
	{"after rcpt command", "RCPT"}, // GMX
	{"after mail command", "MAIL"},
	{"after data command", "DATA"},
	// qmail-remote's own sentences for a refusal before any recipient:
	// "Connected to 192.0.2.1 but sender was rejected." (MAIL FROM), "...
	// but my name was rejected." (HELO), "... but greeting failed.".
	{"but sender was rejected", "MAIL"},
	{"but my name was rejected", "EHLO"},
	{"but greeting failed", "CONN"},
	{"smtp:rcpt host", "RCPT"}, // "SMTP:RCPT host 192.0.2.8: 553 ..."
	{"smtp:mail host", "MAIL"},
	{"smtp:data host", "DATA"},
	{"[rcpt_to]", "RCPT"}, // Yahoo's old bounces
	{"[mail_from]", "MAIL"},
}
