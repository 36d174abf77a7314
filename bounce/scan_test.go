package bounce

import (
	"bytes"
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

// The scanners statusIn and replyStart replaced regular expressions that
// cost a sixth of Parse's time; these are those expressions, kept as the
// specification the scanners must agree with.
var (
	specQmailStatus = regexp.MustCompile(`\(#([245]\.\d{1,3}\.\d{1,3})\)`)
	specReplyStatus = regexp.MustCompile(`\b[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b`)
	specReplyStart  = regexp.MustCompile(`(?:^|[\s:;(\[])([245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\b|[A-Za-z<'"]))`)
)

func specStatusIn(text string) string {
	if m := specQmailStatus.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	if m := specReplyStatus.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

func specReplyStartIndex(text string) int {
	if loc := specReplyStart.FindStringSubmatchIndex(text); loc != nil {
		return loc[2]
	}
	return -1
}

var scanSeeds = []string{
	"550 5.1.1 <jane@example.org>... User unknown",
	"host mx[192.0.2.1] said: 550-5.7.1 blocked",
	"Sorry, I couldn't find any host (#5.1.2)",
	"192.0.2.225 550 but 4.4.1",
	"1550 5.1.1 no", "550 5.1.1234 no", "550 5.1234.1", "(#5.1.1", "x550 5.1.1", ":421 4.7.0 [TSS04]",
	"550 'jane' is unknown", "(#4.4.3)I'm not going", "550 5.1.1_x", "250 2.0.0 ok", "550 <a@b>", "",
}

func TestScannersMatchSpec(t *testing.T) {
	for _, s := range scanSeeds {
		if got, want := statusIn(s), specStatusIn(s); got != want {
			t.Errorf("statusIn(%q) = %q, want %q", s, got, want)
		}
		if got, want := replyStart(s), specReplyStartIndex(s); got != want {
			t.Errorf("replyStart(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzScannersMatchSpec(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := statusIn(s), specStatusIn(s); got != want {
			t.Errorf("statusIn(%q) = %q, want %q", s, got, want)
		}
		if got, want := replyStart(s), specReplyStartIndex(s); got != want {
			t.Errorf("replyStart(%q) = %d, want %d", s, got, want)
		}
	})
}

// TestDecodeQP: RFC 2045 §6.7 rules 1 (=XY), 5 (soft line breaks), and
// leniency where a strict decoder stops.
func TestDecodeQP(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"caf=C3=A9", "café"},
		{"a=3db", "a=b"},                      // lower-case hex, as some writers send
		{"long line=\nnext", "long linenext"}, // rule 5
		{"soft with space= \nnext", "soft with spacenext"},
		{"crlf=\r\nnext", "crlfnext"},
		{"100% =ZZ sure", "100% =ZZ sure"}, // not an escape: kept
		{"ends with =", "ends with "},
		{"no escapes", "no escapes"},
	} {
		if got := string(decodeQP([]byte(c.in))); got != c.want {
			t.Errorf("decodeQP(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

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

// specSplitParts is splitParts as it was before it searched for the
// boundary without its leading dashes: the two must agree.
func specSplitParts(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	start := -1 // where the current part's content starts
	for i := 0; i < len(body); {
		j := bytes.Index(body[i:], delim)
		if j < 0 {
			break
		}
		j += i
		i = j + len(delim)
		if j > 0 && body[j-1] != '\n' {
			continue // not at the start of a line
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

func FuzzSplitPartsMatchSpec(f *testing.F) {
	f.Add([]byte("pre\n--b\nh: 1\n\none\n--b\n\ntwo\n--b--\n"), "b")
	f.Add([]byte("----=_P\n------=_P\nx\n------=_P--"), "----=_P")
	f.Add([]byte("--\n----\n--"), "")
	f.Add([]byte("a\n--bb\n--b\nx\n--b--"), "b")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		got, gotClosed := splitParts(body, boundary)
		want, wantClosed := specSplitParts(body, boundary)
		if gotClosed != wantClosed || len(got) != len(want) {
			t.Fatalf("splitParts(%q, %q) = %q %v, want %q %v", body, boundary, got, gotClosed, want, wantClosed)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("part %d: %q, want %q", i, got[i], want[i])
			}
		}
	})
}

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

// TestDecodeCharset: RFC 2046 §4.1.2 text parts in other charsets read as
// UTF-8; unknown ones and undecodable bytes stay as they are.
func TestDecodeCharset(t *testing.T) {
	for _, c := range []struct{ charset, in, want string }{
		{"ISO-2022-JP", "\x1b$B%(%i!<\x1b(B", "エラー"},
		{"iso-8859-1", "caf\xe9", "café"},
		{"utf-8", "café", "café"},
		{"x-no-such-charset", "abc", "abc"},
	} {
		if got := string(decodeCharset(c.charset, []byte(c.in))); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.charset, c.in, got, c.want)
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
