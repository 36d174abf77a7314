package classify

import (
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// replyCase is a reply as Postfix logs it (the text in parentheses after
// status=), with the verdict a deliverability engineer expects. Empty
// fields are not checked; "-" wants an empty provider or filter.
type replyCase struct {
	text     string
	class    mailtriage.Class
	reason   string
	provider string
	filter   string
	owner    mailtriage.Owner
}

func checkReplies(t *testing.T, cases []replyCase) {
	t.Helper()
	c := newClassifier(t)
	for _, tc := range cases {
		v := c.Classify(smtpreply.ParseDetail(tc.text))
		want := func(field, got, want string) {
			t.Helper()
			if want == "-" {
				want = ""
			} else if want == "" {
				return
			}
			if got != want {
				t.Errorf("%q:\n%s %q, want %q (rule %s)", tc.text, field, got, want, v.Rule)
			}
		}
		want("class", string(v.Class), string(tc.class))
		want("reason", v.Reason, tc.reason)
		want("provider", v.Provider, tc.provider)
		want("filter", v.Filter, tc.filter)
		want("owner", string(v.Owner), string(tc.owner))
	}
}

// TestProviderReplies: replies of mailbox providers and filters as they
// were published (the source is cited above each), seen through Postfix.
func TestProviderReplies(t *testing.T) {
	checkReplies(t, []replyCase{
		// Postfix's own reply while reject_unverified_recipient probes the
		// address (smtpd_check.c, ADDRESS_VERIFICATION_README): any
		// Postfix-based MX sends it, not only Proofpoint's (where the
		// SMTP Field Manual, data/codes/421.json, saw it).
		{text: "host mx.example.org[192.0.2.10] said: 450 4.1.1 <jane@example.org>: Recipient address rejected: unverified address: Address verification in progress (in reply to RCPT TO command)",
			class: mailtriage.Temporary, reason: "systemerror", provider: "-", filter: "-"},
		{text: "host mx0a-00123456.pphosted.com[148.163.156.1] said: 421 4.1.1 <jane@example.com>: Recipient address rejected: unverified address: Address verification in progress (in reply to RCPT TO command)",
			class: mailtriage.Temporary, reason: "systemerror", provider: "proofpoint", filter: "proofpoint"},

		// GMX and WEB.DE (United Internet) answer without enhanced codes;
		// the example of postmaster.gmx.com/en/error-messages, and the
		// WEB.DE/GMX refusal quoted by hilfe.udmedia.de ("Blacklisting bei
		// GMX, Web.de, 1&1 Ionos").
		{text: "host mx00.gmx.net[212.227.15.9] refused to talk to me: 554-gmx.net (mxgmx104) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=198.51.100.42&r=1MNcgj-1ue23t3pyV-00S2YR",
			class: mailtriage.Permanent, reason: "blocked", provider: "gmx", owner: mailtriage.OwnerESP},
		{text: "554-gmx.net (mxgmx014) Nemesis ESMTP Service not available 554-No SMTP service 554-Reject due to policy restrictions. 554 For explanation visit http://postmaster.gmx.com/en/error-messages?ip=198.51.100.42&c=sp",
			class: mailtriage.Permanent, reason: "blocked", provider: "gmx", owner: mailtriage.OwnerESP},
		{text: "host mx-ha03.web.de[212.227.17.8] said: 554-web.de (mxweb110) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is block listed. 554 For explanation visit https://postmaster.web.de/en/case?c=r0201&i=ip&v=198.51.100.42&r=1MNcgj (in reply to RCPT TO command)",
			class: mailtriage.Permanent, reason: "blocked", provider: "gmx", owner: mailtriage.OwnerESP},

		// QQ Mail and Tencent Exmail refuse content with "550 Mail content
		// denied" and a help link (github.com/YMFE/yapi#1964,
		// github.com/Jinnrry/PMail#220).
		{text: "host mx3.qq.com[203.205.219.57] said: 550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726 (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "spamdetected", provider: "tencent", owner: mailtriage.OwnerSender},
		{text: "550 Mail content denied [MJ8vvB3Z9HILDyk+wodtP4MX11azy2kRSERV7gfPvneArAnaGVv31DttVmD2vtJv1Q== IP: 203.0.113.25]. https://service.mail.qq.com/detail/122/171.",
			class: mailtriage.Permanent, reason: "spamdetected", provider: "tencent", owner: mailtriage.OwnerSender},
		{text: "host mxbiz1.qq.com[183.57.48.34] said: 550 Mail content denied. http://service.exmail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726 (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "spamdetected", provider: "tencent", owner: mailtriage.OwnerSender},

		// Gmail refuses mail sent straight from an IP it takes for a
		// consumer or unassigned one (support.google.com/a/answer/3726730,
		// "550 5.7.1 The IP you're using to send mail is not authorized to
		// send email directly to our servers"); as logged in
		// github.com/iredmail/iRedMail#264. The sending IP is the problem,
		// not the sender's SMTP AUTH.
		{text: "host aspmx.l.google.com[142.250.1.26] said: 550-5.7.1 [203.0.113.25] The IP you're using to send mail is not authorized to 550-5.7.1 send email directly to our servers. Please use the SMTP relay at your 550-5.7.1 service provider instead. For more information, go to 550 5.7.1  https://support.google.com/mail/?p=NotAuthorizedError d2e1a72fcca58-715e57a0f50si1104d2710b3a.328 - gsmtp (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "blocked", provider: "google", owner: mailtriage.OwnerESP},
	})
}

// TestPostfixOwnFailures: failures the Postfix SMTP client writes itself,
// with the status it gives them (postfix/src/smtp/smtp_proto.c,
// smtp_connect.c).
func TestPostfixOwnFailures(t *testing.T) {
	checkReplies(t, []replyCase{
		// smtp_proto.c: the server announced a SIZE smaller than the
		// message; Postfix does not try and bounces it (5.3.4).
		{text: "message size 31457280 exceeds size limit 10240000 of server mx.example.org[192.0.2.10]",
			class: mailtriage.Permanent, reason: "mesgtoobig", provider: "-", owner: mailtriage.OwnerSender},
		// smtp_addr.c: the destination's best MX is this host itself;
		// Postfix bounces with 5.4.6 ("dsn=5.4.6, status=bounced (mail for
		// mail.example.co.id loops back to myself)" in published logs).
		{text: "mail for mail.example.co.id loops back to myself",
			class: mailtriage.Permanent, reason: "networkerror", provider: "-", owner: mailtriage.OwnerESP},
	})
}

// TestTagsAnyCase: a reply lower-cased by a log pipeline or an ESP's
// export is decided as the provider wrote it; the tags carry the reason
// (bounces.md §2.2, §2.3, §2.5).
func TestTagsAnyCase(t *testing.T) {
	checkReplies(t, []replyCase{
		{text: "554 5.7.1 [cs01] message rejected due to local policy. please visit https://support.apple.com/en-us/ht204137",
			class: mailtriage.Permanent, reason: "blocked", provider: "apple"},
		{text: "host mx01.mail.icloud.com[17.57.154.6] said: 554 5.7.1 [hm08] message rejected due to local policy (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "spamdetected", provider: "apple"},
		{text: "421 4.7.0 [tss04] messages from 203.0.113.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
			class: mailtriage.Temporary, reason: "badreputation", provider: "yahoo"},
		{text: "553 5.7.2 [tss09] all messages from 203.0.113.25 will be permanently deferred; retrying will not succeed.",
			class: mailtriage.Permanent, reason: "badreputation", provider: "yahoo"},
		{text: "550 5.7.1 unfortunately, messages from [203.0.113.25] weren't sent. please contact your internet service provider since part of their network is on our block list (s3150).",
			class: mailtriage.Permanent, reason: "blocked", provider: "microsoft"},
		{text: "550 ou-001 (snt004-mc1f43) unfortunately, messages from 203.0.113.25 weren't sent.",
			class: mailtriage.Permanent, reason: "blocked", provider: "microsoft"},
		{text: "554 rtr:bb http://postmaster.info.aol.com/errors/554rtrbb.html",
			class: mailtriage.Permanent, reason: "blocked", provider: "yahoo"},
	})
}

// TestSenderDomainNotRecipient: a reply that opens with the words of an
// unknown mailbox but names the sender's domain as the cause must not have
// the recipient suppressed.
func TestSenderDomainNotRecipient(t *testing.T) {
	checkReplies(t, []replyCase{
		// GMX/WEB.DE sender verification (postmaster.gmx.com error
		// messages; as refused by web.de on the git mailing list, 2020).
		{text: "host mx00.gmx.net[212.227.15.9] said: 550-Requested action not taken: mailbox unavailable 550 invalid DNS MX or A/AAAA resource record (in reply to MAIL FROM command)",
			class: mailtriage.Permanent, reason: "rejected", provider: "gmx", owner: mailtriage.OwnerSender},
		{text: "host mx-ha03.web.de[212.227.17.8] said: 550-Requested action not taken: mailbox unavailable 550 invalid DNS MX or A/AAAA resource record (in reply to RCPT TO command)",
			class: mailtriage.Permanent, reason: "rejected", provider: "gmx", owner: mailtriage.OwnerSender},
	})
}

// TestZohoOutgoingBlock: Zoho's anti-abuse block on a sender's own account
// reuses X.4.6; it is not a mail loop at the recipient.
func TestZohoOutgoingBlock(t *testing.T) {
	checkReplies(t, []replyCase{
		{text: "host smtp.zoho.com[204.141.32.56] said: 550 5.4.6 Unusual sending activity detected. Please try after sometime. (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "rejected", provider: "zoho", owner: mailtriage.OwnerSender},
		{text: "550 5.4.6 Unusual sending activity detected. Click UnblockMe.",
			class: mailtriage.Permanent, reason: "rejected", provider: "zoho", owner: mailtriage.OwnerSender},
		// A real loop keeps its reason.
		{text: "host mx.zoho.com[204.141.33.44] said: 554 5.4.6 Hop count exceeded - possible mail loop (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "networkerror", provider: "zoho"},
	})
}

// TestComcast: Comcast's block of the sending IP is a block list entry, not
// a content rejection; its session limits are connection limits
// (postmaster.comcast.net/smtp-error-codes.php; Sisimai's samples).
func TestComcast(t *testing.T) {
	checkReplies(t, []replyCase{
		{text: "host mx1.comcast.net[96.114.157.80] said: 554 imta14.emeryville.ca.mail.comcast.net comcast 192.254.113.140 Comcast block for spam.  Please see http://postmaster.comcast.net/smtp-error-codes.php#BL000000 (in reply to MAIL FROM command)",
			class: mailtriage.Permanent, reason: "blocked", provider: "comcast", owner: mailtriage.OwnerESP},
		{text: "554 resimta-po-12v.sys.comcast.net comcast 198.51.100.7 COMCAST BLOCK FOR SPAM. Please see http://postmaster.comcast.net/smtp-error-codes.php#BL000000",
			class: mailtriage.Permanent, reason: "blocked", provider: "comcast", owner: mailtriage.OwnerESP},
		{text: "host mx2.mxge.comcast.net[96.114.1.1] said: 421 Too many sessions opened (in reply to EHLO command)",
			class: mailtriage.Temporary, reason: "toomanyconn", provider: "comcast", owner: mailtriage.OwnerESP},
		{text: "host mx2.mxge.comcast.net[96.114.1.1] said: 421 Too many emails sent on this session (in reply to MAIL FROM command)",
			class: mailtriage.Temporary, reason: "toomanyconn", provider: "comcast", owner: mailtriage.OwnerESP},
		{text: "host mx2.mxge.comcast.net[96.114.1.1] said: 421 4.1.0 203.0.113.25 Throttled - try again later. Please see https://postmaster.comcast.net/smtp-error-codes.php#RL000003 (in reply to MAIL FROM command)",
			class: mailtriage.Temporary, reason: "speeding", provider: "comcast"},
	})
}

// TestRecipientRulesAndHeaders: replies the generic 5.7.x rule took for a
// sender block although the provider names the cause.
func TestRecipientRulesAndHeaders(t *testing.T) {
	checkReplies(t, []replyCase{
		// Exchange: a mail flow rule's reject action with its default code
		// (learn.microsoft.com, Exchange Online NDR table; Exchange 2019
		// Q&A 1651579).
		{text: "host example-com.mail.protection.outlook.com[52.101.68.10] said: 550 5.7.1 TRANSPORT.RULES.RejectMessage; the message was rejected by organization policy (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "policyviolation", provider: "microsoft", owner: mailtriage.OwnerRecipient},
		// Gmail: no valid From address (support.google.com/a/answer/3726730).
		{text: "host gmail-smtp-in.l.google.com[142.250.102.27] said: 550-5.7.1 [203.0.113.25] Messages missing a valid address in From: header, or having no From: header, are not accepted. abc - gsmtp (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "notcompliantrfc", provider: "google", owner: mailtriage.OwnerSender},
	})
}

// TestAOLRefusal: AOL's generic refusal carries the mailbox-disabled code
// but says nothing of the mailbox; the address must not be suppressed.
func TestAOLRefusal(t *testing.T) {
	checkReplies(t, []replyCase{
		{text: "host mailin-01.mx.aol.com[64.12.88.131] said: 521 5.2.1 :  AOL will not accept delivery of this message. (in reply to end of DATA command)",
			class: mailtriage.Permanent, reason: "spamdetected", provider: "yahoo", owner: mailtriage.OwnerSender},
		{text: "521 5.2.1 : AOL will not accept delivery of this message",
			class: mailtriage.Permanent, reason: "spamdetected", provider: "yahoo"},
	})
}
