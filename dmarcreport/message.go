package dmarcreport

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"strings"

	"github.com/mailtriage/mailtriage/internal/errtext"
)

// Reports travel by mail: aggregate reports as a gzip, zip or XML attachment
// (RFC 7489 §7.2.1.1, RFC 9990 §5), failure reports as the ARF message of
// RFC 5965 (RFC 9991 §4), TLS reports as a JSON or gzip attachment (RFC 8460
// §5.3). MessageParts gives the parts such a message carries; ParseFailure
// and reading reports out of mail stores both use it, so the MIME tree is
// walked by one piece of code.

// Limits on the MIME tree of a message.
const (
	maxMIMEDepth = 8    // multipart inside multipart
	maxParts     = 1000 // leaves of one message
)

// ErrBrokenMIME means a message's MIME structure could not be read.
var ErrBrokenMIME = errors.New("dmarcreport: broken MIME tree")

// Part is one leaf of a message's MIME tree (RFC 2046), its body decoded
// from its transfer encoding. An attached message (message/rfc822) is a
// leaf too: its Body is that whole message.
type Part struct {
	Type     string // media type, lower case, e.g. "application/gzip"
	Filename string // the Content-Disposition filename, or the Content-Type name
	Body     []byte
}

// MessageParts returns the leaves of a message's MIME tree in order. A
// message that is not multipart is one part. On a broken tree (a multipart
// without boundary or parts, a part whose header or body cannot be read)
// it returns the parts read before the break and an error wrapping
// ErrBrokenMIME. A last part that lacks the closing delimiter is kept.
func MessageParts(msg []byte) ([]Part, error) {
	h, body := readHeader(msg)
	var w partWalker
	err := w.entity(h.get("content-type"), h.get("content-disposition"), h.get("content-transfer-encoding"), body, 0)
	return w.parts, err
}

type partWalker struct {
	parts []Part
}

func (w *partWalker) entity(ctype, disp, cte string, body []byte, depth int) error {
	mt, params := mediaType(ctype)
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxMIMEDepth {
			return fmt.Errorf("%w: multiparts nested deeper than %d", ErrBrokenMIME, maxMIMEDepth)
		}
		return w.multipart(params["boundary"], body, depth)
	}
	if len(w.parts) >= maxParts {
		return fmt.Errorf("%w: more than %d parts", ErrBrokenMIME, maxParts)
	}
	dec, err := decodeTransfer(cte, body)
	if err != nil {
		return fmt.Errorf("%w: part %d (%s): %w", ErrBrokenMIME, len(w.parts)+1, mt, err)
	}
	name := params["name"]
	if _, dp, err := mime.ParseMediaType(disp); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	w.parts = append(w.parts, Part{Type: mt, Filename: name, Body: dec})
	return nil
}

func (w *partWalker) multipart(boundary string, body []byte, depth int) error {
	if boundary == "" {
		return fmt.Errorf("%w: a multipart without a boundary", ErrBrokenMIME)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	n := 0
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break // the close delimiter, or no delimiter at all (n == 0)
		}
		if err != nil {
			if n > 0 && errors.Is(err, io.ErrUnexpectedEOF) {
				break // the close delimiter is missing after the last part
			}
			return fmt.Errorf("%w: multipart with boundary %s: %w", ErrBrokenMIME, errtext.Quote(boundary), err)
		}
		n++
		data, err := io.ReadAll(p)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: part %d: %w", ErrBrokenMIME, n, err)
		}
		if err := w.entity(p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"),
			p.Header.Get("Content-Transfer-Encoding"), data, depth+1); err != nil {
			return err
		}
		if err != nil {
			break // the last part, unclosed
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: no part delimited by the boundary %s", ErrBrokenMIME, errtext.Quote(boundary))
	}
	return nil
}

// mediaType reads a Content-Type; one that does not parse is read as far as
// it goes, and none is text/plain (RFC 2045 §5.2).
func mediaType(ctype string) (string, map[string]string) {
	if strings.TrimSpace(ctype) == "" {
		return "text/plain", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil && mt == "" {
		t, _, _ := strings.Cut(ctype, ";")
		mt = strings.ToLower(strings.TrimSpace(t))
	}
	if params == nil {
		params = map[string]string{}
	}
	return mt, params
}

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 §6).
func decodeTransfer(cte string, body []byte) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable: %w", err)
		}
		return out, nil
	}
	return body, nil
}

// decodeBase64 decodes base64 split into lines, with or without padding.
func decodeBase64(body []byte) ([]byte, error) {
	clean := make([]byte, 0, len(body))
	for _, c := range body {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			clean = append(clean, c)
		}
	}
	clean = bytes.TrimRight(clean, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	return out[:n], nil
}

// header is a message header as read by readHeader: fields in order, names
// lower case, folded lines joined.
type header []field

type field struct{ name, value string }

// get returns the first value of a field, or "".
func (h header) get(name string) string {
	for _, f := range h {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// all returns every value of a field.
func (h header) all(name string) []string {
	var out []string
	for _, f := range h {
		if f.name == name {
			out = append(out, f.value)
		}
	}
	return out
}

// readHeader splits a message (or a block of fields, such as a
// message/feedback-report body) into its header and its body. It is more
// lenient than net/textproto: an mbox "From " line first, lines without a
// colon, and a header that runs to the end of the data are all accepted.
func readHeader(b []byte) (header, []byte) {
	if bytes.HasPrefix(b, []byte("From ")) {
		_, b, _ = bytes.Cut(b, []byte("\n"))
	}
	var h header
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return h, rest
		}
		b = rest
		if (line[0] == ' ' || line[0] == '\t') && len(h) > 0 {
			last := &h[len(h)-1]
			last.value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(bytes.TrimSpace(name)) == 0 {
			continue
		}
		h = append(h, field{strings.ToLower(string(bytes.TrimSpace(name))), string(bytes.TrimSpace(value))})
	}
	return h, nil
}
