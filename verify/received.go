package verify

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/mailhost"
)

// Received is one Received field, a hop of the message's path (RFC 5321
// §4.4 Stamp: "from" the client, "by" the server that wrote it, then
// "with", "id", "for" and the date after the semicolon).
type Received struct {
	// Index is the field's place, 0 for the topmost (the last hop).
	Index int `json:"index"`
	// From is the name after "from" as written: the HELO name for
	// Postfix, Sendmail, Gmail and Microsoft, the reverse DNS name for
	// Exim and qmail. HELO and RDNS are what the comments say each is.
	From string `json:"from,omitempty"`
	HELO string `json:"helo,omitempty"`
	RDNS string `json:"rdns,omitempty"`
	// IP is the client's address, from the comment or an address literal.
	IP netip.Addr `json:"ip,omitzero"`
	// Public is set when IP is an address a receiver on the Internet can
	// have seen (not private, loopback or reserved).
	Public bool   `json:"public,omitempty"`
	By     string `json:"by,omitempty"`
	With   string `json:"with,omitempty"`
	ID     string `json:"id,omitempty"`
	For    string `json:"for,omitempty"`
	// Date is the time stamp after the semicolon; DateRaw when it
	// does not parse.
	Date    time.Time `json:"date,omitzero"`
	DateRaw string    `json:"date_raw,omitempty"`

	pos int // the field's place in the header
}

// ErrReceived is wrapped by the reasons ParseReceived gives up.
var ErrReceived = errors.New("Received field")

// ParseReceived reads the value of a Received field in the forms MTAs
// write: Postfix and Sendmail "from helo (rdns [ip])", Exim "from rdns
// ([ip]:port helo=name)", qmail "from rdns (HELO name) (ip)", Gmail
// "(rdns. [ip])", Microsoft "from helo (ip)", IPv6 with or without an
// "IPv6:" tag. An error means neither a from nor a by clause was found;
// what could be read is returned all the same.
func ParseReceived(value string) (Received, error) {
	var r Received
	// A line break, folded or stray, separates words.
	value = strings.NewReplacer("\r", " ", "\n", " ").Replace(value)
	stamp, date := value, ""
	if i := lastTopLevelSemicolon(value); i >= 0 {
		stamp, date = value[:i], strings.TrimSpace(value[i+1:])
	}
	if date != "" {
		if t, err := mail.ParseDate(date); err == nil {
			r.Date = t
		} else {
			r.DateRaw = date
		}
	}
	clauses := splitClauses(stamp)
	if len(clauses["from"]) == 0 && len(clauses["by"]) == 0 {
		return r, fmt.Errorf("%w: no from or by clause in %q", ErrReceived, clip(value))
	}
	r.readFrom(clauses["from"])
	r.By = strings.TrimSuffix(word(clauses["by"]), ".")
	r.With = word(clauses["with"])
	r.ID = word(clauses["id"])
	r.For = strings.Trim(word(clauses["for"]), "<>")
	return r, nil
}

// readFrom reads the from clause: the name, and in the comments the
// address, the HELO name and the reverse DNS name.
func (r *Received) readFrom(toks []token) {
	if len(toks) == 0 {
		return
	}
	if !toks[0].comment {
		r.From = toks[0].text
	}
	var comments []string
	for _, t := range toks {
		if t.comment {
			comments = append(comments, t.text)
		}
	}
	// The address: the first one in a comment, which is what the server
	// saw; else a literal as the name. Postfix, Sendmail and Exchange
	// write the client's HELO as the name, and a client behind NAT gives
	// its own private address as a literal.
	for _, c := range comments {
		for _, w := range commentWords(c) {
			if ip, ok := parseIPToken(w); ok && !r.IP.IsValid() {
				r.IP = ip
			}
		}
	}
	if ip, ok := parseIPToken(r.From); ok && !r.IP.IsValid() {
		r.IP = ip
	}
	if r.IP.IsValid() {
		r.Public = mailhost.Public(r.IP)
	}
	name := hostName(r.From)
	for _, c := range comments {
		words := commentWords(c)
		for i, w := range words {
			switch lw := strings.ToLower(w); {
			case strings.HasPrefix(lw, "helo="): // Exim
				r.HELO = strings.Trim(w[len("helo="):], "[]")
				r.RDNS = name
			case lw == "helo" && i+1 < len(words): // qmail
				r.HELO = strings.Trim(words[i+1], "[]")
				r.RDNS = name
			}
		}
	}
	if r.HELO != "" {
		return
	}
	r.HELO = strings.Trim(r.From, "[]")
	// Postfix, Sendmail, Gmail: "(rdns [ip])", the name first.
	for _, c := range comments {
		words := commentWords(c)
		if len(words) >= 2 {
			if _, ok := parseIPToken(words[1]); ok {
				r.RDNS = hostName(words[0])
				return
			}
		}
	}
}

// hostName returns s as a host name: without the final dot, and "" for
// an address literal or "unknown".
func hostName(s string) string {
	s = strings.TrimSuffix(s, ".")
	if _, ok := parseIPToken(s); ok || strings.EqualFold(s, "unknown") || !strings.Contains(s, ".") && !strings.EqualFold(s, "localhost") {
		return ""
	}
	return s
}

// parseIPToken reads an address as Received fields write it: bare,
// "[192.0.2.1]", "[IPv6:2001:db8::1]", "[192.0.2.1]:2525", with a
// trailing dot, comma or colon.
func parseIPToken(s string) (netip.Addr, bool) {
	s = strings.TrimRight(s, ".,;:")
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		s = s[1:end]
	}
	if len(s) > 5 && strings.EqualFold(s[:5], "ipv6:") {
		s = s[5:]
	}
	if !strings.ContainsAny(s, ".:") {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// commentWords splits a comment's text into words.
func commentWords(c string) []string {
	return strings.FieldsFunc(c, func(r rune) bool { return r == ' ' || r == '\t' || r == '(' || r == ')' })
}

type token struct {
	text    string
	comment bool
}

// clauseNames are the keywords of a Received stamp (RFC 5321 §4.4).
var clauseNames = map[string]bool{"from": true, "by": true, "via": true, "with": true, "id": true, "for": true}

// splitClauses groups the words and comments of a stamp under the
// keyword before them. Only the first clause of each name counts.
func splitClauses(stamp string) map[string][]token {
	out := map[string][]token{}
	current := ""
	for _, t := range tokenize(stamp) {
		if !t.comment && clauseNames[strings.ToLower(t.text)] {
			current = strings.ToLower(t.text)
			if _, ok := out[current]; ok {
				current = "" // a repeated clause: ignored
			} else {
				out[current] = []token{}
			}
			continue
		}
		if current != "" {
			out[current] = append(out[current], t)
		}
	}
	return out
}

// word returns the first word of a clause.
func word(toks []token) string {
	for _, t := range toks {
		if !t.comment {
			return t.text
		}
	}
	return ""
}

// tokenize splits a stamp into words and comments (RFC 5322 §3.2.2:
// comments nest and may quote characters with a backslash).
func tokenize(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			text, next := readComment(s, i)
			out = append(out, token{text: text, comment: true})
			i = next
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '(' {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out
}

// readComment reads the comment that opens at s[i], nested comments
// included, and returns its text and the index past its end (the end of
// s when it is not closed).
func readComment(s string, i int) (string, int) {
	var b strings.Builder
	depth := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			continue
		case c == '(':
			depth++
			if depth == 1 {
				continue
			}
		case c == ')':
			depth--
			if depth == 0 {
				return b.String(), i + 1
			}
		}
		b.WriteByte(c)
	}
	return b.String(), i
}

// lastTopLevelSemicolon finds the semicolon before the date, outside
// comments.
func lastTopLevelSemicolon(s string) int {
	last, depth := -1, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case ';':
			if depth == 0 {
				last = i
			}
		}
	}
	return last
}
