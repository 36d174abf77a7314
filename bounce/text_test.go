package bounce

import (
	"strings"
	"testing"
)

// TestZohoReply: Zoho Mail's "ERROR_CODE :" form gives the reply it quotes.
func TestZohoReply(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <jane@example.org>... User Unknown", "550 5.1.1 <jane@example.org>... User Unknown (Invalid Address)"},
		{"Error, ERROR_CODE :421, ERROR_CODE :, Host not reachable.", "421 Host not reachable."},
		{"ERROR_CODE :5x0, nothing", ""},
		{"no code here", ""},
	} {
		got, ok := zohoReply(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("zohoReply(%q) = %q %v, want %q", c.in, got, ok, c.want)
		}
	}
}

// TestReasonAboveList: a bounce that gives its reason above a list of
// addresses, the list introduced by a line ending in ":", gives each
// address both paragraphs.
func TestReasonAboveList(t *testing.T) {
	raw := "From: MAILER-DAEMON@example.org\nSubject: Undeliverable\nContent-Type: text/plain\n\n" +
		"Your message was not delivered within 0 days and 1 hours.\nRemote host is not responding.\n\n" +
		"The following recipients did not receive this message:\n\n<jane@example.com>\n"
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Recipients) != 1 || !strings.Contains(m.Recipients[0].Diagnostic, "not delivered within") {
		t.Fatalf("recipients %+v", m.Recipients)
	}
}
