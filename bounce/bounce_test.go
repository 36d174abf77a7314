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

// TestStatusComment: a recipient with no Diagnostic-Code and no prose
// block of its own takes the comment of its Status field when it names a
// cause ("4.0.0 (cat.example.net: host name lookup failure)", the
// corpus's rfc3464-35.eml), not the prose, which is about the others; a
// comment that only restates the class ("permanent failure") does not.
func TestStatusComment(t *testing.T) {
	dsn := func(status string) string {
		return "From: MAILER-DAEMON@example.org\nSubject: Returned mail\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n" +
			"--b\ncontent-type: text/plain\n\nThe following addresses had delivery problems:\n<joe@example.net> (unrecoverable error)\n\n" +
			"--b\ncontent-type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n" +
			"Final-Recipient: rfc822;joe@example.net\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 user unknown\n\n" +
			"Final-Recipient: rfc822;jane@example.com\nAction: delayed\nStatus: " + status + "\n\n--b--\n"
	}
	for _, tc := range []struct{ status, want string }{
		{"4.0.0 (example.com: host name lookup failure)", "example.com: host name lookup failure"},
		{"4.0.0 (temporary failure)", "The following addresses had delivery problems: <joe@example.net> (unrecoverable error)"},
	} {
		m, err := Parse([]byte(dsn(tc.status)))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Recipients) != 2 || m.Recipients[1].Diagnostic != tc.want {
			t.Errorf("Status: %s: recipients %+v, want the second's diagnostic %q", tc.status, m.Recipients, tc.want)
		}
	}
}
