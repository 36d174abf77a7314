package starttls

import (
	"bytes"
	"strconv"
	"strings"
)

// reply is one SMTP reply (RFC 5321 §4.2): a code and one or more lines.
type reply struct {
	Code  int
	Lines []string // the text of each line, after the code and separator
}

// String gives the reply as the server sent it, without the CRLFs and with
// lines joined by "\n": "220-first line\n220 last line".
func (r reply) String() string {
	var b strings.Builder
	for i, line := range r.Lines {
		sep := "-"
		if i == len(r.Lines)-1 {
			sep = " "
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strconv.Itoa(r.Code) + sep + line)
	}
	return b.String()
}

// Text is the text of the reply without the codes, lines joined by "\n",
// as Go's net/textproto gives it.
func (r reply) Text() string {
	return strings.Join(r.Lines, "\n")
}

// parseReplies reads the complete replies at the start of b, which holds
// what a server sent. It stops at an incomplete reply or at the first line
// that is not part of one: the go-smtp client has already judged the
// session, and the bytes after STARTTLS's 220 are the TLS handshake.
func parseReplies(b []byte) []reply {
	var out []reply
	var cur reply
	for {
		end := bytes.IndexByte(b, '\n')
		if end < 0 {
			return out
		}
		// Like net/textproto, take a bare LF as a line end too.
		line := strings.TrimSuffix(string(b[:end]), "\r")
		b = b[end+1:]
		code, last, text, ok := splitLine(line)
		if !ok || (cur.Lines != nil && code != cur.Code) {
			return out
		}
		cur.Code = code
		cur.Lines = append(cur.Lines, text)
		if last {
			out = append(out, cur)
			cur = reply{}
		}
	}
}

// splitLine reads one reply line, "250-PIPELINING" or "250 OK" (RFC 5321
// §4.2.1). It demands what net/textproto does, which go-smtp reads replies
// with: three digits from 100 up and a space or hyphen after them.
func splitLine(line string) (code int, last bool, text string, ok bool) {
	if len(line) < 4 || (line[3] != ' ' && line[3] != '-') {
		return 0, false, "", false
	}
	for i := range 3 {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", false
		}
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if code < 100 {
		return 0, false, "", false
	}
	return code, line[3] == ' ', line[4:], true
}

// extensions gives the lines of an EHLO reply after the first, which names
// the server: each is a keyword and its parameters (RFC 5321 §4.1.1.1).
func extensions(ehlo reply) []string {
	if ehlo.Code != 250 || len(ehlo.Lines) < 2 {
		return nil
	}
	return append([]string(nil), ehlo.Lines[1:]...)
}

// offers reports whether the extension list holds keyword, which is
// case-insensitive (RFC 5321 §2.4).
func offers(exts []string, keyword string) bool {
	for _, e := range exts {
		if f := strings.Fields(e); len(f) > 0 && strings.EqualFold(f[0], keyword) {
			return true
		}
	}
	return false
}
