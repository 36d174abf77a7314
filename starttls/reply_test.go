package starttls

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseReplies(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []reply
	}{
		{
			// RFC 5321 §4.2.1: a multi-line reply, hyphens until the last line.
			name: "greeting and EHLO reply",
			in:   "220 mx.example.com ESMTP\r\n250-mx.example.com\r\n250-SIZE 35882577\r\n250 STARTTLS\r\n",
			want: []reply{
				{Code: 220, Lines: []string{"mx.example.com ESMTP"}},
				{Code: 250, Lines: []string{"mx.example.com", "SIZE 35882577", "STARTTLS"}},
			},
		},
		{
			name: "bare LF, as net/textproto takes it",
			in:   "220 hi\n",
			want: []reply{{Code: 220, Lines: []string{"hi"}}},
		},
		{
			name: "an empty text",
			in:   "220 \r\n",
			want: []reply{{Code: 220, Lines: []string{""}}},
		},
		{
			name: "the TLS handshake after STARTTLS's 220",
			in:   "220 go ahead\r\n\x16\x03\x03\x00\x7a\x02\n\x00",
			want: []reply{{Code: 220, Lines: []string{"go ahead"}}},
		},
		{name: "an incomplete line", in: "220 mx.example.com", want: nil},
		{name: "an incomplete reply", in: "250-mx.example.com\r\n250-SIZE\r\n", want: nil},
		{name: "a code change inside a reply", in: "250-mx.example.com\r\n220 x\r\n", want: nil},
		{name: "a code without text", in: "220\r\n", want: nil},
		{name: "a code below 100", in: "099 x\r\n", want: nil},
		{name: "a sign in the code", in: "+22 x\r\n", want: nil},
		{name: "not SMTP", in: "SSH-2.0-OpenSSH_9.6\r\n", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseReplies([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseReplies(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReplyString(t *testing.T) {
	r := reply{Code: 554, Lines: []string{"mx.example.com", "blocked"}}
	if got, want := r.String(), "554-mx.example.com\n554 blocked"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := r.Text(), "mx.example.com\nblocked"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}

func TestExtensions(t *testing.T) {
	ehlo := reply{Code: 250, Lines: []string{"mx.example.com", "PIPELINING", "", "starttls", "SIZE 1000"}}
	exts := extensions(ehlo)
	if want := []string{"PIPELINING", "", "starttls", "SIZE 1000"}; !reflect.DeepEqual(exts, want) {
		t.Errorf("extensions = %q, want %q", exts, want)
	}
	// RFC 5321 §2.4: keywords are case-insensitive.
	if !offers(exts, "STARTTLS") || offers(exts, "SMTPUTF8") || offers(exts, "SIZE 1000") {
		t.Error("offers gets STARTTLS, SMTPUTF8 or the parameters wrong")
	}
	// A HELO reply or a refusal has no extensions.
	if got := extensions(reply{Code: 250, Lines: []string{"mx.example.com"}}); got != nil {
		t.Errorf("extensions of a one-line reply = %q", got)
	}
	if got := extensions(reply{Code: 550, Lines: []string{"no", "STARTTLS"}}); got != nil {
		t.Errorf("extensions of a 550 = %q", got)
	}
}

// FuzzParseReplies feeds arbitrary server output to the reply parser and
// to beforeTLS, which reads a failed session from it: neither may panic,
// what parses must survive a round trip, and a failed session must always
// give an error.
func FuzzParseReplies(f *testing.F) {
	f.Add([]byte("220 mx.example.com ESMTP\r\n250-mx.example.com\r\n250 STARTTLS\r\n454 4.7.0 no TLS\r\n"))
	f.Add([]byte("421-busy\r\n421 4.3.2 try later\r\n"))
	f.Add([]byte("220 x\n502 what\n250 x\n"))
	f.Add([]byte("220 go ahead\r\n\x16\x03\x03\x00\x7a\x02\n"))
	f.Add([]byte("250-\r\n250 \r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		replies := parseReplies(b)
		var again strings.Builder
		for _, r := range replies {
			if r.Code < 100 || r.Code > 999 || len(r.Lines) == 0 {
				t.Fatalf("bad reply %#v from %q", r, b)
			}
			again.WriteString(strings.ReplaceAll(r.String(), "\n", "\r\n") + "\r\n")
		}
		if got := parseReplies([]byte(again.String())); !reflect.DeepEqual(got, replies) {
			t.Fatalf("round trip of %q: %#v, then %#v", b, replies, got)
		}
		if err := beforeTLS(context.Background(), replies, io.EOF); err == nil {
			t.Fatalf("beforeTLS(%q) = nil", b)
		}
		var res Result
		readPlaintext(&res, replies)
		if res.STARTTLS && len(res.Extensions) == 0 {
			t.Fatalf("STARTTLS without extensions from %q", b)
		}
	})
}

// TestBeforeTLS checks how a session that failed before TLS is read from
// the replies, including a reply of 220 to STARTTLS that go-smtp would
// not fail on.
func TestBeforeTLS(t *testing.T) {
	greet := reply{Code: 220, Lines: []string{"mx"}}
	ehlo := reply{Code: 250, Lines: []string{"mx", "STARTTLS"}}
	tests := []struct {
		name    string
		replies []reply
		want    error
	}{
		{"nothing", nil, ErrLost},
		{"greeting only", []reply{greet}, ErrLost},
		{"no answer to STARTTLS", []reply{greet, ehlo}, ErrLost},
		{"220 to STARTTLS", []reply{greet, ehlo, {Code: 220, Lines: []string{"go"}}}, ErrLost},
		{"421 to STARTTLS", []reply{greet, ehlo, {Code: 421, Lines: []string{"bye"}}}, ErrUnavailable},
		{"421 to EHLO", []reply{greet, {Code: 421, Lines: []string{"bye"}}}, ErrUnavailable},
		{"HELO refused", []reply{greet, {Code: 500, Lines: []string{"?"}}, {Code: 550, Lines: []string{"no"}}}, ErrRefused},
	}
	for _, tt := range tests {
		if err := beforeTLS(context.Background(), tt.replies, io.EOF); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
