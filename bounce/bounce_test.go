package bounce

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
)

// TestPlainAddress: the fast path agrees with net/mail where it answers,
// and leaves the rest to it.
func TestPlainAddress(t *testing.T) {
	for _, v := range []string{
		"jane@example.org", "Jane Doe <Jane@Example.org>", " <jane@example.org> ", `"Doe, Jane" <jane@example.org>`,
		"jane@example.org (Jane)", `"jane doe"@example.org`, "a@b.c, d@e.f", "A <a@b.c>, B <d@e.f>", "<>", "jane", "@x", "x@", "a@b@c",
	} {
		got, ok := plainAddress(v)
		if !ok {
			continue
		}
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != got {
			t.Errorf("plainAddress(%q) = %q; net/mail says %v %v", v, got, a, err)
		}
	}
}

// TestParseNotReports: an empty message and an ordinary one are not
// reports, and the error says which.
func TestParseNotReports(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", "the message is empty"},
		{"\r\n\r\n", "the message is empty"},
		{"From: jane@example.com\nSubject: lunch?\n\nat noon\n", `From "jane@example.com", Subject "lunch?"`},
	} {
		_, err := Parse([]byte(tc.raw))
		if !errors.Is(err, ErrNotReport) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v, want ErrNotReport saying %q", tc.raw, err, tc.want)
		}
	}
}
