package smtpreply

import "strings"

// Kind says what a delivery agent's report describes.
type Kind uint8

const (
	// Plain is a bare reply, as Postfix logs the answer to a successful
	// delivery ("250 2.0.0 Ok: queued as 4F1A22C0B3").
	Plain Kind = iota
	// Said is a server's reply to a command:
	// "host X[ip] said: REPLY (in reply to RCPT TO command)".
	Said
	// Refused is a server that rejected the session at the greeting or
	// HELO: "host X[ip] refused to talk to me: REPLY".
	Refused
	// ConnectFailed is a TCP connection that failed:
	// "connect to X[ip]:25: Connection timed out"; in Postfix 2.x also
	// "connect to X[ip]: server refused to talk to me: REPLY".
	ConnectFailed
	// LostConnection is a session that dropped:
	// "lost connection with X[ip] while sending RCPT TO".
	LostConnection
	// TimedOut is a session that stalled:
	// "conversation with X[ip] timed out while receiving the initial server greeting".
	TimedOut
	// NameService is a DNS failure for the destination:
	// "Host or domain name not found. Name service error for name=... type=MX: Host not found".
	NameService
	// TLS is a TLS failure: "TLS is required, but was not offered by host X[ip]",
	// "Cannot start TLS: handshake failure".
	TLS
	// Local is any other text the local MTA wrote.
	Local
)

var kindNames = [...]string{"reply", "said", "refused", "connect", "lost-connection", "timeout", "dns", "tls", "local"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MarshalText makes a Kind read as its name in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Detail is a delivery agent's report on one attempt, decoded.
type Detail struct {
	Kind Kind `json:"kind"`
	// Suspended is set when the agent did not try at all and quotes an
	// earlier failure: Postfix's "delivery temporarily suspended: ...".
	Suspended bool `json:"suspended,omitempty"`
	// Host and IP name the remote server, when the text names one.
	Host string `json:"host,omitempty"`
	IP   string `json:"ip,omitempty"`
	// Command is what the server answered ("RCPT TO", "MAIL FROM", "end of
	// DATA") or the stage a session failed in ("initial server greeting").
	Command string `json:"command,omitempty"`
	// Reply is the server's reply; its Code is 0 when no server answered.
	Reply Reply `json:"reply"`
	// Text is the whole report as logged.
	Text string `json:"text"`
	// DSN is the enhanced status code the local MTA gave an attempt no
	// server answered (Postfix's dsn=), which the MTA's own failure texts
	// do not carry: "User unknown in virtual alias table" is 5.1.1.
	DSN string `json:"dsn,omitempty"`
}

// Answered says whether a remote server gave a reply code.
func (d Detail) Answered() bool {
	return d.Reply.Code != 0 && (d.Kind == Said || d.Kind == Refused || d.Kind == Plain)
}

// Summary is the reply when a server answered, else the failure text: the
// form a report shows for one attempt.
func (d Detail) Summary() string {
	if d.Answered() {
		return d.Reply.String()
	}
	if d.Reply.Text != "" {
		return d.Reply.Text
	}
	return d.Text
}

// ParseDetail decodes the text a delivery agent wrote about one attempt: the
// part of a Postfix status line in parentheses after "status=deferred", the
// Diagnostic-Code of a DSN, or a bare reply.
func ParseDetail(text string) Detail {
	text = strings.TrimSpace(text)
	if len(text) > 4 && text[0] == '2' && startsWithCode(text) {
		// An acceptance, the most common report by far: a reply and
		// nothing around it.
		return Detail{Text: text, Kind: Plain, Reply: Parse(text)}
	}
	d := Detail{Text: text}
	s := text
	if rest, ok := cutPrefixFold(s, "delivery temporarily suspended: "); ok {
		d.Suspended = true
		s = rest
	}
	switch {
	case strings.HasPrefix(s, "host "):
		parseHost(&d, s)
	case strings.HasPrefix(s, "connect to "):
		d.Kind = ConnectFailed
		rest := s[len("connect to "):]
		d.Host, d.IP, rest = serverOf(rest)
		rest = strings.TrimSpace(strings.TrimPrefix(skipPort(rest), ":"))
		if greeting, ok := strings.CutPrefix(rest, "server refused to talk to me: "); ok {
			// Postfix 2.x: the server answered the connection with a
			// refusal, which is a reply, not a failure to connect.
			d.Kind, d.Command = Refused, "initial server greeting"
			d.Reply = Parse(greeting)
			break
		}
		d.Reply = Reply{Text: rest}
	case strings.HasPrefix(s, "lost connection with "):
		d.Kind = LostConnection
		rest := s[len("lost connection with "):]
		d.Host, d.IP, rest = serverOf(rest)
		d.Command = stage(rest)
		d.Reply = Reply{Text: withStage("lost connection", d.Command)}
	case strings.HasPrefix(s, "conversation with "):
		d.Kind = TimedOut
		rest := s[len("conversation with "):]
		d.Host, d.IP, rest = serverOf(rest)
		d.Command = stage(strings.TrimPrefix(strings.TrimSpace(rest), "timed out "))
		d.Reply = Reply{Text: withStage("conversation timed out", d.Command)}
	case strings.HasPrefix(s, "Host or domain name not found"), strings.HasPrefix(s, "Name service error"),
		strings.Contains(s, "Name service error for name="):
		d.Kind = NameService
		d.Reply = Reply{Text: s}
	case !startsWithCode(s) && (strings.Contains(s, "TLS is required") || strings.HasPrefix(s, "Cannot start TLS") ||
		strings.Contains(s, "Server certificate not") || strings.HasPrefix(s, "TLS handshake")):
		d.Kind = TLS
		d.Host, d.IP, _ = findHostIP(s)
		d.Reply = Reply{Text: s}
	default:
		r := Parse(s)
		if r.Code != 0 || r.Enhanced != "" {
			d.Kind = Plain
		} else {
			d.Kind = Local
			d.Host, d.IP, _ = findHostIP(s)
		}
		d.Reply = r
	}
	return d
}

// startsWithCode reports whether s starts with a reply code: then it is a
// reply, even if its text talks about TLS ("450 4.4.317 STARTTLS is required").
func startsWithCode(s string) bool {
	_, n := replyCode(s)
	return n > 0
}

// parseHost decodes "host X[ip] said: REPLY (in reply to C command)" and
// "host X[ip] refused to talk to me: REPLY"; other text after "host " is
// the local MTA's own.
func parseHost(d *Detail, text string) {
	s := text[len("host "):]
	host, ip, rest := hostIP(s)
	if host == "" {
		// "host mx.example.com said: ...": Postfix always writes the
		// address, but texts pasted from forums and tickets often lose it.
		host, rest = bareHost(s)
	}
	d.Host, d.IP = host, ip
	switch {
	case strings.HasPrefix(rest, " said: "):
		d.Kind = Said
		rest = rest[len(" said: "):]
	case strings.HasPrefix(rest, " refused to talk to me: "):
		d.Kind = Refused
		rest = rest[len(" refused to talk to me: "):]
		d.Command = "initial server greeting"
	default:
		d.Kind = Local
		if host == "" {
			rest = text // "host not found": not a server's words
		}
		d.Reply = Reply{Text: strings.TrimSpace(rest)}
		return
	}
	if i := strings.LastIndex(rest, " (in reply to "); i >= 0 {
		cmd := rest[i+len(" (in reply to "):]
		cmd = strings.TrimSuffix(strings.TrimSuffix(cmd, ")"), " command")
		d.Command = cmd
		rest = rest[:i]
	}
	d.Reply = Parse(rest)
}

// hostIP reads "name[ip]" at the start of s and returns the rest.
func hostIP(s string) (host, ip, rest string) {
	open := strings.IndexByte(s, '[')
	if open <= 0 || strings.IndexByte(s[:open], ' ') >= 0 {
		return "", "", s
	}
	end := strings.IndexByte(s[open:], ']')
	if end < 0 {
		return "", "", s
	}
	return s[:open], s[open+1 : open+end], s[open+end+1:]
}

// bareHost reads a host name without an address at the start of s, when
// what follows it is a server's words: " said: " or " refused to talk to
// me: ".
func bareHost(s string) (host, rest string) {
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 || !strings.HasPrefix(s[sp:], " said: ") && !strings.HasPrefix(s[sp:], " refused to talk to me: ") {
		return "", s
	}
	return s[:sp], s[sp:]
}

// serverOf reads the server at the start of s: "name[ip]", or a bare name,
// as reports read once anonymised or pasted into a ticket ("lost connection
// with mx.example.com while ...", "connect to example.com: ...").
func serverOf(s string) (host, ip, rest string) {
	if host, ip, rest = hostIP(s); host != "" {
		return host, ip, rest
	}
	end := strings.IndexAny(s, " :")
	if end < 0 {
		end = len(s)
	}
	if !isHostName(s[:end]) {
		return "", "", s
	}
	return s[:end], "", s[end:]
}

// isHostName reports whether s has the shape of a DNS name with a dot.
func isHostName(s string) bool {
	if !strings.Contains(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// findHostIP finds the first "name[ip]" anywhere in s.
func findHostIP(s string) (host, ip, rest string) {
	for i := 0; i < len(s); i++ {
		if s[i] != '[' || i == 0 || s[i-1] == ' ' {
			continue
		}
		start := strings.LastIndexByte(s[:i], ' ') + 1
		if h, p, r := hostIP(s[start:]); h != "" && p != "" && looksLikeIP(p) {
			return h, p, r
		}
	}
	return "", "", s
}

func looksLikeIP(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && c != '.' && c != ':' && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func skipPort(s string) string {
	if !strings.HasPrefix(s, ":") {
		return s
	}
	i := 1
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[i:]
}

// withStage writes "lost connection while sending RCPT TO": the stage says
// whether the receiver cut the session at the greeting (a throttle) or later.
func withStage(what, stage string) string {
	if stage == "" {
		return what
	}
	return what + " while " + stage
}

// stage reads " while sending RCPT TO" into "sending RCPT TO".
func stage(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "while "); ok {
		return rest
	}
	return s
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
