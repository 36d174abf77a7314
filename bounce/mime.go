package bounce

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"strings"

	"github.com/mailtriage/mailtriage/internal/ascii"
	"golang.org/x/text/encoding/htmlindex"
)

// parts are the pieces of a report that matter, decoded.
type parts struct {
	// status is the message/delivery-status part (RFC 3464 §2), or
	// message/global-delivery-status (RFC 6533).
	status []byte
	// feedback is the message/feedback-report part (RFC 5965 §3.1).
	feedback []byte
	// texts are the human-readable parts, or the body of a message that
	// is not MIME.
	texts [][]byte
	// original is what the returned message's header says.
	original Original
	// originalHeader is the header of the returned message, for a bounce
	// that names its recipient nowhere else.
	originalHeader header
	// malformed is set when a multipart part could not be read (a bad
	// boundary): what came before it is kept.
	malformed bool
	// proses are the texts cut before the returned message, once asked.
	proses []string
}

// prose returns each text part up to the returned message it quotes.
func (p *parts) prose() []string {
	if p.proses == nil {
		p.proses = make([]string, len(p.texts))
		for i, t := range p.texts {
			p.proses[i] = cutOriginal(t)
		}
	}
	return p.proses
}

// maxDepth bounds nesting: a bounce of a bounce of a forwarded bounce.
const maxDepth = 6

// walk decodes the body of a message with header h.
func walk(h header, body []byte) *parts {
	p := &parts{}
	p.part(h, body, 0)
	return p
}

func (p *parts) part(h header, body []byte, depth int) {
	ctype := h.get("content-type")
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt, params = fallbackType(ctype)
	}
	if !readable(mt) {
		return // an image, an attachment: nothing a report says is there
	}
	body = decodeTransfer(h.get("content-transfer-encoding"), body)
	switch {
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		if p.status == nil {
			p.status = body
		}
	case mt == "message/feedback-report":
		if p.feedback == nil {
			p.feedback = body
		}
	case mt == "message/rfc822" || mt == "text/rfc822-headers" || mt == "message/global" || mt == "message/global-headers":
		oh, ob := splitHeader(body)
		if p.originalHeader == nil {
			p.originalHeader = oh
			p.original = originalOf(oh)
		}
		// A report forwarded as an attachment carries its substance
		// inside; read it when the outer message has none.
		if depth < maxDepth && mt == "message/rfc822" && p.status == nil && isReportType(oh) {
			p.part(oh, ob, depth+1)
		}
	case strings.HasPrefix(mt, "multipart/"):
		if params["boundary"] == "" || depth >= maxDepth {
			p.texts = append(p.texts, body)
			return
		}
		p.multipart(body, params["boundary"], depth)
	case mt == "" || strings.HasPrefix(mt, "text/"):
		if b := hiddenBoundary(body); b != "" && depth < maxDepth {
			// A multipart/report whose header lost its Content-Type.
			p.multipart(body, b, depth)
			return
		}
		if !strings.HasPrefix(mt, "text/html") || len(p.texts) == 0 {
			p.texts = append(p.texts, textOf(mt, decodeCharset(params["charset"], body)))
		}
	}
}

// multipart reads the parts of a multipart body (RFC 2046 §5.1.1). The
// body is in memory, so the parts are cut out of it where the delimiter
// lines are, without copies; a closing delimiter that never comes ends the
// last part at the end of the body (reports are often cut short), and a
// body with no delimiter at all is read by the delimiter above its
// delivery-status part, if it has one, else as text.
func (p *parts) multipart(body []byte, boundary string, depth int) {
	bodies, closed := splitParts(body, boundary)
	if bodies == nil {
		if b := hiddenBoundary(body); b != "" && b != boundary {
			// The declared boundary never comes, but a delimiter line
			// opens a delivery-status part: the header lost the real one.
			p.multipart(body, b, depth)
			return
		}
		p.texts = append(p.texts, body)
		return
	}
	if !closed {
		p.malformed = true
	}
	for _, b := range bodies {
		h, rest := splitHeader(b)
		p.part(h, rest, depth+1)
	}
}

// splitParts returns the parts between the delimiter lines of boundary,
// and whether the closing delimiter was there.
func splitParts(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	// Search for the boundary without the dashes it may start with: a
	// search anchors on its first byte, and bounces are full of dashes.
	core := bytes.TrimLeft(delim, "-")
	if len(core) == 0 {
		core = delim
	}
	lead := len(delim) - len(core)
	start := -1 // where the current part's content starts
	for i := 0; i < len(body); {
		k := bytes.Index(body[i:], core)
		if k < 0 {
			break
		}
		k += i
		i = k + len(core)
		j := k - lead // where the delimiter would start
		if j < 0 || !bytes.Equal(body[j:k], delim[:lead]) {
			continue
		}
		if j = lineStart(body, j); j < 0 {
			continue // not a delimiter at the start of a line
		}
		lineEnd := bytes.IndexByte(body[i:], '\n')
		if lineEnd < 0 {
			lineEnd = len(body) - i
		}
		after := body[i : i+lineEnd]
		last := bytes.HasPrefix(after, []byte("--"))
		if !last && len(bytes.TrimSpace(after)) > 0 {
			continue // a longer boundary that starts with this one
		}
		if start >= 0 {
			end := j
			if end > start && body[end-1] == '\n' {
				end-- // the line break before a delimiter belongs to it
			}
			parts = append(parts, body[start:end])
		}
		if last {
			return parts, true
		}
		start = min(i+lineEnd+1, len(body))
		i = start
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// lineStart returns where the line that holds body[j] starts when only
// white space comes before j on it, or -1. A delimiter belongs at the
// start of a line (RFC 2046 §5.1.1), but some MTAs indent one (" --b"),
// and missing it loses the part it opens.
func lineStart(body []byte, j int) int {
	for j > 0 && (body[j-1] == ' ' || body[j-1] == '\t') {
		j--
	}
	if j > 0 && body[j-1] != '\n' {
		return -1
	}
	return j
}

// hiddenBoundary finds the boundary of a MIME report in a body whose
// header does not declare it: the "--" line before the first part
// header that names a report part.
func hiddenBoundary(body []byte) string {
	// The common case, without lower-casing the body; "-status" starts
	// with a byte rarer in prose than the "e" of "delivery".
	if !bytes.Contains(body, []byte("-status")) && !bytes.Contains(body, []byte("-Status")) && !bytes.Contains(body, []byte("-STATUS")) {
		return ""
	}
	lower := bytes.ToLower(body)
	i := bytes.Index(lower, []byte("\ncontent-type: message/delivery-status"))
	if i < 0 {
		return ""
	}
	lines := bytes.Split(body[:i], []byte("\n"))
	for j := len(lines) - 1; j >= 0; j-- {
		l := bytes.TrimSpace(lines[j])
		if bytes.HasPrefix(l, []byte("--")) && len(l) > 4 && !bytes.ContainsAny(l, " \t") {
			return string(l[2:])
		}
	}
	return ""
}

// fallbackType reads a Content-Type that mime.ParseMediaType refuses (a
// stray semicolon, an unquoted boundary with spaces): the media type and
// the boundary, if any.
func fallbackType(ctype string) (string, map[string]string) {
	mt, rest, _ := strings.Cut(ctype, ";")
	params := map[string]string{}
	// ASCII folding keeps offsets: strings.ToLower would not, on invalid
	// UTF-8, and the index is used in rest.
	if i := strings.Index(ascii.Lower(rest), "boundary="); i >= 0 {
		b := strings.TrimSpace(rest[i+len("boundary="):])
		if strings.HasPrefix(b, `"`) {
			b, _, _ = strings.Cut(b[1:], `"`)
		} else if j := strings.IndexAny(b, "; "); j >= 0 {
			b = b[:j]
		}
		params["boundary"] = b
	}
	return strings.ToLower(strings.TrimSpace(mt)), params
}

// isReportType reports whether a header is a report's: a multipart/report,
// or a bounce's subject and sender.
func isReportType(h header) bool {
	ct := strings.ToLower(h.get("content-type"))
	return strings.Contains(ct, "multipart/report") || strings.Contains(ct, "delivery-status")
}

// decodeTransfer undoes a Content-Transfer-Encoding; bodies that do not
// decode are kept as they are.
func decodeTransfer(enc string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil && n == 0 {
			return body
		}
		return normalize(out[:n])
	case "quoted-printable":
		return normalize(decodeQP(body))
	}
	return body
}

// readable reports whether a part of media type mt can hold what a
// report says: its fields, its prose or the returned message.
func readable(mt string) bool {
	return mt == "" || strings.HasPrefix(mt, "text/") || strings.HasPrefix(mt, "multipart/") || strings.HasPrefix(mt, "message/")
}

// decodeQP decodes quoted-printable (RFC 2045 §6.7) leniently: "=XY" is
// the byte XY (either case), "=" before the end of a line joins the line
// to the next, and anything else stays as written, where a strict decoder
// would stop at the first mistake and lose the rest of the report.
func decodeQP(b []byte) []byte {
	if bytes.IndexByte(b, '=') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case j == len(b):
			return out // "=" at the very end
		case b[j] == '\n':
			i = j // a soft line break
		case b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n':
			i = j + 1
		case i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// decodeCharset turns a text part written in another charset than UTF-8
// into UTF-8 (RFC 2046 §4.1.2): Japanese providers write their bounces in
// ISO-2022-JP, European ones in ISO-8859-1. An unknown charset, or
// bytes the decoder refuses, leave the text as it is.
func decodeCharset(charset string, body []byte) []byte {
	switch strings.ToLower(charset) {
	case "", "us-ascii", "utf-8", "utf8", "ascii":
		return body
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return body
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return body
	}
	return out
}

// textOf is a text part's text: HTML with its tags taken out, so the
// diagnostic a webmail provider puts in a table still reads.
func textOf(mt string, body []byte) []byte {
	if mt != "text/html" {
		return body
	}
	var b bytes.Buffer
	in := false
	for _, c := range body {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteByte(c)
		}
	}
	return b.Bytes()
}

// originalOf is what a returned message's header says.
func originalOf(h header) Original {
	return Original{
		From:      headerAddress(h.get("from")),
		To:        headerAddress(h.get("to")),
		Subject:   decodeWords(h.get("subject")),
		MessageID: strings.Trim(h.get("message-id"), "<> "),
	}
}

// decodeWords decodes RFC 2047 encoded words; text it cannot decode stays.
func decodeWords(s string) string {
	d := mime.WordDecoder{CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil }}
	if out, err := d.DecodeHeader(s); err == nil {
		return out
	}
	return s
}
