package dkim

import (
	"errors"
	"fmt"
	"strings"
)

// Tag is one tag=value pair of a tag-list (RFC 6376 §3.2).
type Tag struct {
	Name string
	// Value is without the whitespace around it; folding whitespace
	// inside is kept, for the reader of each tag to treat as its syntax
	// says.
	Value string
	// Start and End delimit the value in the text parsed, the whitespace
	// around it included: a verifier leaves the value of b= out of the
	// hash by them (RFC 6376 §3.7).
	Start, End int
}

// ErrDuplicateTag is wrapped by the error of ParseTagList when a tag is
// named twice, which makes a signature or key record invalid (RFC 6376
// §3.2).
var ErrDuplicateTag = errors.New("a tag appears twice")

// ParseTagList reads a tag-list (RFC 6376 §3.2), the syntax of both the
// DKIM-Signature field and the key record: tag=value pairs separated by
// semicolons, folding whitespace around names and values, an optional
// final semicolon. A part that breaks the grammar is skipped and named in
// the error (one error per part, joined); the tags that could be read are
// returned all the same, so a lenient reader can go on with them. Of a
// tag named twice the first is kept, and the error wraps ErrDuplicateTag.
func ParseTagList(text string) ([]Tag, error) {
	var tags []Tag
	var errs []error
	seen := map[string]bool{}
	for pos := 0; pos <= len(text); {
		end := strings.IndexByte(text[pos:], ';')
		if end < 0 {
			end = len(text)
		} else {
			end += pos
		}
		t, err := readTag(text, pos, end)
		pos = end + 1
		switch {
		case err != nil:
			errs = append(errs, err)
		case t == nil: // an empty part
			if rest := text[min(pos, len(text)):]; strings.TrimSpace(rest) != "" {
				errs = append(errs, fmt.Errorf("an empty tag before %q", clip(strings.TrimSpace(rest))))
			}
		case seen[t.Name]:
			errs = append(errs, fmt.Errorf("%w: %s=", ErrDuplicateTag, t.Name))
		default:
			seen[t.Name] = true
			tags = append(tags, *t)
		}
	}
	return tags, errors.Join(errs...)
}

// readTag reads the tag-spec in text[start:end]; nil when it is empty.
func readTag(text string, start, end int) (*Tag, error) {
	part := text[start:end]
	if strings.TrimSpace(part) == "" {
		return nil, nil
	}
	eq := strings.IndexByte(part, '=')
	if eq < 0 {
		return nil, fmt.Errorf("%q is not a tag=value pair", clip(strings.TrimSpace(part)))
	}
	name := strings.TrimSpace(part[:eq])
	if !tagName(name) {
		return nil, fmt.Errorf("%q is not a tag name", clip(name))
	}
	value := strings.TrimSpace(part[eq+1:])
	for _, c := range []byte(value) {
		// tval is VCHAR but ";" (§3.2), with FWS inside.
		if (c < 0x21 || c > 0x7e) && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return nil, fmt.Errorf("tag %s= holds a byte 0x%02x outside printable ASCII", name, c)
		}
	}
	return &Tag{Name: name, Value: value, Start: start + eq + 1, End: end}, nil
}

// tagName reports whether s is ALPHA *(ALPHA / DIGIT / "_") (§3.2).
func tagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// splitErrors returns the errors err joins, or err alone.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
