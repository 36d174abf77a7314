package smtpreply

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Reply
	}{
		{
			name: "RFC 5321 §4.2: code, RFC 3463 §2: enhanced code",
			in:   "421 4.7.0 Deferred - see Proofpoint DNSBL lookup",
			want: Reply{Code: 421, Enhanced: "4.7.0", Text: "Deferred - see Proofpoint DNSBL lookup"},
		},
		{
			name: "RFC 5321 §4.2.1: multi-line reply folded by Postfix",
			in:   "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550 5.1.1 unnecessary spaces. - gsmtp",
			want: Reply{Code: 550, Enhanced: "5.1.1", Text: "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. - gsmtp"},
		},
		{
			name: "Gmail's continuation with padded IP",
			in:   "421-4.7.0 [1.2.3.4      15] Our system has detected an unusual rate of 421-4.7.0 unsolicited mail originating from your IP address. 421-4.7.0  https://support.google.com/mail/answer/81126 to review 421 4.7.0 our guidelines. - gsmtp",
			want: Reply{Code: 421, Enhanced: "4.7.0", Text: "[1.2.3.4 15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. https://support.google.com/mail/answer/81126 to review our guidelines. - gsmtp",
				URLs: []string{"https://support.google.com/mail/answer/81126"}},
		},
		{
			// RFC 2034 §4 puts an enhanced code on every line, and nothing
			// makes them equal: the prefix of a line with another detail
			// is a prefix all the same. The first line's code is the one
			// Postfix logs as dsn=.
			name: "RFC 5321 §4.2.1: continuation lines with another enhanced code",
			in:   "550-5.7.1 [203.0.113.25] Message rejected. 550-5.7.26 Unauthenticated email is not accepted 550 5.7.26 from this domain.",
			want: Reply{Code: 550, Enhanced: "5.7.1", Text: "[203.0.113.25] Message rejected. Unauthenticated email is not accepted from this domain."},
		},
		{
			// GMX answers without enhanced codes (postmaster.gmx.com/en/
			// error-messages): the last line's "554 " is a prefix too.
			name: "RFC 5321 §4.2.1: multi-line reply without enhanced codes",
			in:   "554-gmx.net (mxgmx104) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=198.51.100.42",
			want: Reply{Code: 554, Text: "gmx.net (mxgmx104) Nemesis ESMTP Service not available No SMTP service IP address is block listed. For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=198.51.100.42",
				URLs: []string{"https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=198.51.100.42"}},
		},
		{
			// A one-line reply that quotes another code keeps it: T-Online's
			// 450 around its own 554 (bounces.md §2.11).
			name: "single-line reply quoting another reply",
			in:   "450 4.7.1 [EAB] 554 IP=203.0.113.25 - A problem occurred. (BL)",
			want: Reply{Code: 450, Enhanced: "4.7.1", Text: "[EAB] 554 IP=203.0.113.25 - A problem occurred. (BL)"},
		},
		{
			name: "Apple tag and URL",
			in:   "550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
			want: Reply{Code: 550, Enhanced: "5.7.1", Text: "[CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
				Tags: []string{"[CS01]"}, URLs: []string{"https://support.apple.com/en-us/HT204137"}},
		},
		{
			name: "Microsoft consumer tag (S3150)",
			in:   "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
			want: Reply{Code: 550, Enhanced: "5.7.1", Text: "Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
				Tags: []string{"(S3150)"}},
		},
		{
			name: "Microsoft extended enhanced code 4.7.650 and (S3113)",
			in:   "451 4.7.650 The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation. (S3113)",
			want: Reply{Code: 451, Enhanced: "4.7.650", Text: "The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation. (S3113)",
				Tags: []string{"(S3113)"}},
		},
		{
			name: "EOP AS(508) and (AS16012609)",
			in:   "550 5.7.511 Access denied, banned sender [203.0.113.5]. AS(508) (AS16012609)",
			want: Reply{Code: 550, Enhanced: "5.7.511", Text: "Access denied, banned sender [203.0.113.5]. AS(508) (AS16012609)",
				Tags: []string{"AS(508)", "(AS16012609)"}},
		},
		{
			name: "Yahoo bracket tag",
			in:   "421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
			want: Reply{Code: 421, Enhanced: "4.7.0", Text: "[TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
				Tags: []string{"[TSS04]"}, URLs: []string{"https://postmaster.yahooinc.com/error-codes"}},
		},
		{
			// A log or export that lower-cased the reply keeps its tags,
			// as written.
			name: "tags in lower case",
			in:   "553 5.7.2 [tss09] all messages from 203.0.113.5 will be permanently deferred; retrying will not succeed. (s3150) as(508) rtr:bb ou-001",
			want: Reply{Code: 553, Enhanced: "5.7.2", Text: "[tss09] all messages from 203.0.113.5 will be permanently deferred; retrying will not succeed. (s3150) as(508) rtr:bb ou-001",
				Tags: []string{"[tss09]", "(s3150)", "as(508)", "rtr:bb", "ou-001"}},
		},
		{
			name: "RFC 3463 §3.5: queue timeout wrapping the last transfer failure",
			in:   "554 5.4.7 [internal] message timeout (exceeded max time, last transfail: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup)",
			want: Reply{Code: 554, Enhanced: "5.4.7", Text: "[internal] message timeout (exceeded max time, last transfail: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup)",
				Inner: &Reply{Code: 421, Enhanced: "4.7.0", Text: "Deferred - see Proofpoint DNSBL lookup"}},
		},
		{
			name: "MessageLabs enhanced code at the end",
			in:   "553 Message filtered. Refer to the Troubleshooting page at http://www.symanteccloud.com/troubleshooting for more information. (#5.7.1)",
			want: Reply{Code: 553, Enhanced: "5.7.1", Text: "Message filtered. Refer to the Troubleshooting page at http://www.symanteccloud.com/troubleshooting for more information. (#5.7.1)",
				URLs: []string{"http://www.symanteccloud.com/troubleshooting"}},
		},
		{
			name: "Exchange '#' form",
			in:   "550 #5.1.0 Address rejected.",
			want: Reply{Code: 550, Enhanced: "5.1.0", Text: "Address rejected."},
		},
		{
			name: "Exchange 2007 '#' before the code",
			in:   "#550 4.4.7 QUEUE.Expired; message expired",
			want: Reply{Code: 550, Enhanced: "4.4.7", Text: "QUEUE.Expired; message expired"},
		},
		{
			name: "a banner continuation, then the failure",
			in:   "220-laposte 421 4.2.1 Service refuse. Veuillez essayer plus tard. LPN007_510",
			want: Reply{Code: 421, Enhanced: "4.2.1", Text: "Service refuse. Veuillez essayer plus tard. LPN007_510"},
		},
		{
			name: "code only",
			in:   "421 Service not available",
			want: Reply{Code: 421, Text: "Service not available"},
		},
		{
			name: "no code at all",
			in:   "Connection timed out",
			want: Reply{Text: "Connection timed out"},
		},
		{
			name: "Outlook.com legacy code",
			in:   "421 RP-001 (BAY004-MC1F2) Unfortunately, some messages from 203.0.113.5 weren't sent.",
			want: Reply{Code: 421, Text: "RP-001 (BAY004-MC1F2) Unfortunately, some messages from 203.0.113.5 weren't sent.", Tags: []string{"RP-001"}},
		},
		{
			name: "a number that is not a code",
			in:   "4210 is not a code",
			want: Reply{Text: "4210 is not a code"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReplyClass(t *testing.T) {
	// RFC 3463 §3.1: the enhanced class may disagree; the basic code wins.
	if c := Parse("550 4.4.7 QUEUE.Expired; message expired").Class(); c != 5 {
		t.Errorf("class = %d, want 5", c)
	}
	if c := Parse("5.1.1 user unknown").Class(); c != 5 {
		t.Errorf("enhanced-only class = %d, want 5", c)
	}
	if c := Parse("Connection refused").Class(); c != 0 {
		t.Errorf("no-code class = %d, want 0", c)
	}
}

func TestReplyString(t *testing.T) {
	in := "421 4.7.0 Deferred - see Proofpoint DNSBL lookup"
	if got := Parse(in).String(); got != in {
		t.Errorf("String() = %q, want %q", got, in)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"421 4.7.0 Deferred - see Proofpoint DNSBL lookup",
		"550-5.1.1 a 550-5.1.1 b 550 5.1.1 c",
		"554 5.4.7 [internal] message timeout (exceeded max time, last transfail: 421 4.7.0 x)",
		"553 filtered (#5.7.1)", "AS(508) (S3150) [CS01] RP-001 OFR006_102 (DYN:T1) RTR:BB",
		"", "5", "550", "550-", "4.7.", "http://", "last transfail: (((",
		"host mx.example.com said: 421 4.7.0 x", "host  said: ", "host x refused to talk to me: ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Parse(s)
		if r.Code != 0 && (r.Code < 200 || r.Code > 599) {
			t.Fatalf("code %d out of range for %q", r.Code, s)
		}
		if len(r.Text) > len(s) {
			t.Fatalf("text longer than input: %q from %q", r.Text, s)
		}
		_ = r.String()
		_ = ParseDetail(s)
	})
}

// TestIsEnhanced: RFC 3463 §2, class "." subject "." detail, nothing else.
func TestIsEnhanced(t *testing.T) {
	for s, want := range map[string]bool{
		"5.1.1": true, "4.7.650": true, "2.0.0": true, "5.1.10": true,
		"": false, "5.1": false, "3.1.1": false, "5.1.1 ": false, "5.1.1x": false, "X.X.X": false, "5.1000.1": false,
	} {
		if got := IsEnhanced(s); got != want {
			t.Errorf("IsEnhanced(%q) = %v, want %v", s, got, want)
		}
	}
}
