package bounce

import (
	"errors"
	"regexp"
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

// TestCommandOf: the SMTP command a reply answered, in the words of the
// MTAs that say it.
func TestCommandOf(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"host mx.example.org[192.0.2.1] said: 550 5.1.1 unknown (in reply to RCPT TO command)", "RCPT"},
		{"550 5.7.1 spam (in reply to end of DATA command)", "DATA"},
		{"SMTP error from remote mail server after RCPT TO:<jane@example.org>: 550 unknown", "RCPT"},
		{"... while talking to mx.example.org.:\n>>> DATA\n<<< 550 Unknown user jane@example.org", "DATA"},
		{"SMTP:RCPT host 192.0.2.8: 553 5.3.0 <jane@example.org>... No such user here", "RCPT"},
		{"SMTP:MAIL host 192.0.2.8: 553 5.1.8 sender domain does not exist", "MAIL"},
		{"Connected to 192.0.2.225 but sender was rejected.\nRemote host said: 550 5.7.1 <jane@example.jp>... Access denied", "MAIL"},
		{"Connected to 192.0.2.225 but my name was rejected.\nRemote host said: 501 5.0.0 Invalid domain name", "EHLO"},
		{"550 User unknown", ""},
		{" In:  RCPT TO:<jane@example.org>\n Out: 250 2.1.5 Ok\n In:  DATA\n Out: 354 End data\n Out: 451 4.3.0 Error: queue file write error", "DATA"},
	} {
		if got := commandOf(tc.text); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestMTAName: a Remote-MTA's name without the comment after it.
func TestMTAName(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"mx.example.org", "mx.example.org"},
		{"lsean.ezweb.ne.jp. (192.0.2.1, the server for the domain ezweb.ne.jp.)", "lsean.ezweb.ne.jp"},
		{"mx.example.jp (TCP|192.0.2.1|34042|198.51.100.225|25)", "mx.example.jp"},
		{"mx.example.co.jp [192.0.2.95]", "mx.example.co.jp"},
		{"", ""},
	} {
		if got := mtaName(tc.value); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.value, got, tc.want)
		}
	}
}

// TestSendmailV5Transcript: Sendmail 5 sums a refusal up as "554
// <jane@example.org>... Remote protocol error" below the transcript that
// holds the server's own reply; the reply and its command are the
// recipient's (the corpus's lhost-v5sendmail-07.eml). A summary with a
// reply of its own keeps it.
func TestSendmailV5Transcript(t *testing.T) {
	raw := "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>\nTo: joe@example.co.jp\nSubject: Returned mail: Remote protocol error\n\n" +
		"   ----- Transcript of session follows -----\n" +
		"While talking to mailin1.example.org:\n" +
		">>> MAIL From:<joe@example.co.jp>\n" +
		"<<< 501 <joe@example.co.jp>... no access from mail server [192.0.2.55] which is an open relay.\n" +
		"554 <jane@example.org>... Remote protocol error\n" +
		"550 example.net (smtp)... 550 Host unknown\n" +
		"554 <mike@example.net>... 550 Host unknown (Authoritative answer from name server)\n\n" +
		"   ----- Unsent message follows -----\nFrom: joe@example.co.jp\nTo: jane@example.org\nSubject: hi\n\nhi\n"
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []Recipient{
		{Address: "jane@example.org", Command: "MAIL", Diagnostic: "501 <joe@example.co.jp>... no access from mail server [192.0.2.55] which is an open relay."},
		{Address: "mike@example.net", Diagnostic: "550 Host unknown (Authoritative answer from name server)"},
	}
	if len(m.Recipients) != len(want) {
		t.Fatalf("recipients %+v", m.Recipients)
	}
	for i, w := range want {
		r := m.Recipients[i]
		if r.Address != w.Address || r.Command != w.Command || r.Diagnostic != w.Diagnostic {
			t.Errorf("recipient %d: %q %q %q, want %q %q %q", i, r.Address, r.Command, r.Diagnostic, w.Address, w.Command, w.Diagnostic)
		}
	}
}

// TestPostfixTranscript: Postfix's transcript of a session to the
// postmaster ("In:" the client's commands, "Out:" its replies) fails on
// its first error reply, not on the 250 that accepted the recipient, and
// the command is the last "In:" before it (the corpus's
// lhost-postfix-75.eml).
func TestPostfixTranscript(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\nTo: postmaster@mx.example.com\nSubject: Postfix SMTP server: errors from localhost[127.0.0.1]\n\n" +
		"Transcript of session follows.\n\n Out: 220 mx.example.com ESMTP\n In:  EHLO mx.example.com\n Out: 250 mx.example.com\n" +
		" In:  MAIL FROM:<joe@example.net>\n Out: 250 2.1.0 Ok\n In:  RCPT TO:<jane@example.org> ORCPT=rfc822;jane@example.org\n Out: 250 2.1.5 Ok\n" +
		" In:  DATA\n Out: 354 End data with <CR><LF>.<CR><LF>\n Out: 451 4.3.0 Error: queue file write error\n In:  QUIT\n Out: 221 2.0.0 Bye\n\n" +
		"For other details, see the local mail logfile\n"
	r := oneRecipient(t, raw)
	if r.Address != "jane@example.org" || r.Status != "4.3.0" || r.Command != "DATA" || !strings.HasPrefix(r.Diagnostic, "451 4.3.0 Error: queue file write error") {
		t.Errorf("recipient %+v", r)
	}
}

// TestActiveHunter: Active!Hunter lists each failed recipient as ">>>
// jane@example.org <jane@example.org>" (the corpus's
// lhost-activehunter-01.eml); the bounce's own X-Original-To is the
// address the bounce was delivered to, the sender's, never a recipient.
func TestActiveHunter(t *testing.T) {
	raw := "X-Original-To: joe@example.co.jp\nFrom: \"MAILER-DAEMON\" <MAILER-DAEMON@example.org>\nTo: <joe@example.co.jp>\nSubject: FAILURE NOTICE : hi\n\n" +
		"The original message was received at Thu, 29 Apr 2011 23:34:45 +0900\nfrom example.co.jp\n\n" +
		"  ----- The following addresses had permanent fatal errors -----\n\n>>> jane@example.org <jane@example.org>\n\n" +
		"  ----- Transcript of session follows -----\n550 sorry, no mailbox here by that name (#5.1.1 - chkusr)\n"
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Recipients) != 1 || m.Recipients[0].Address != "jane@example.org" {
		t.Fatalf("recipients %+v", m.Recipients)
	}
	if r := m.Recipients[0]; r.Status != "5.1.1" || !strings.HasPrefix(r.Diagnostic, "550 sorry, no mailbox here") {
		t.Errorf("recipient %+v", r)
	}
	m, err = Parse([]byte(strings.Replace(raw, ">>> jane@example.org <jane@example.org>", "", 1)))
	if !errors.Is(err, ErrNoRecipient) {
		t.Errorf("a bounce that names no recipient: %v, recipients %+v", err, m.Recipients)
	}
}

// TestReplyAboveDetails: Apache James gives the reply above a list of the
// message's details, where "RCPT TO:" names the recipient (the corpus's
// lhost-apachejames-01.eml): the reply is the recipient's, written "550 -
// text", and the details name no command.
func TestReplyAboveDetails(t *testing.T) {
	raw := "From: post_master@vtext.example.com\nTo: joe@example.com\nSubject: Re:Test message\n\n" +
		"Error: Invalid user address\n\nError message below:\n550 - Requested action not taken: no such user here\n\n" +
		"Message details:\n  Subject: Test message\n  Sent date: Wed Jun 12 02:21:53 GMT 2013\n  MAIL FROM: joe@example.com\n" +
		"  RCPT TO: 0123456789@vtext.example.com\n  From: joe@example.com\n  Size (in bytes): 39\n  Number of lines: 2\n"
	r := oneRecipient(t, raw)
	if r.Address != "0123456789@vtext.example.com" || !strings.HasPrefix(r.Diagnostic, "550 - Requested action not taken: no such user here") || r.Command != "" {
		t.Errorf("recipient %+v", r)
	}
}

// oneRecipient parses raw, a bounce that names one recipient, and returns
// it.
func oneRecipient(t *testing.T, raw string) Recipient {
	t.Helper()
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Recipients) != 1 {
		t.Fatalf("recipients %+v", m.Recipients)
	}
	return m.Recipients[0]
}

// TestTranscriptErrorAt: a transcript's first error reply is found as the
// expression `(?:<<<|\bout:)\s*[45]\d\d` finds it, without running one on
// every bounce.
func TestTranscriptErrorAt(t *testing.T) {
	re := regexp.MustCompile(`(?:<<<|\bout:)\s*[45]\d\d`)
	for _, s := range []string{
		"", "out: 550 x", "timeout: 550", "time out: 450", " out:\t451", "<<< 250 ok\n<<< 550 no",
		"in: data\n out: 354 go\n out: 451 4.3.0", "<<<550", "out:55", "aout: 550 <<< 421", "out: 250 ok out: 552 full",
	} {
		want := -1
		if m := re.FindStringIndex(s); m != nil {
			want = m[0]
		}
		if got := transcriptErrorAt(s); got != want {
			t.Errorf("%q: at %d, want %d", s, got, want)
		}
	}
}
