package classify

import (
	"fmt"
	"testing"

	"github.com/mailtriage/mailtriage/smtpreply"
)

func TestScratch(t *testing.T) {
	for _, s := range []string{
		"#550 4.4.7 QUEUE.Expired; message expired",
		"554- (RTR:BL) http://postmaster.info.aol.com/errors/554rtrbl.html 554  Connecting IP: 111.111.111.111",
		"550-Blacklisted in dnsbl-3.uceprotect.net: 550-Your ISP AMAZON-02 - Amazon.com Inc. US/AS16509 is UCEPROTECT-Level3 550-listed for hosting a total of 1234 abusers. See: 550 http://www.uceprotect.net/rblcheck.php?ipr=203.0.113.25",
		"521 5.2.1 :  (CON:B1)  https://postmaster.aol.com/error-codes#554conb1",
		"421 4.7.1 : (DYN:T1) http://postmaster.info.aol.com/errors/421dynt1.html",
		"553 Message filtered. Refer to the Troubleshooting page at http://www.symanteccloud.com/troubleshooting for more information. (#5.7.1)",
		"550 5.7.1 Service unavailable, MailFrom domain is listed in Spamhaus. To request removal from this list see https://www.spamhaus.org/query/lookup/ (S8002) [#.eop-nam02.prod.protection.outlook.com]",
		"450 4.7.1 [EAB] 554 IP=203.0.113.25 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to clarify.) (BL)",
		"550 SC-001 (SNT004-MC10F3) Unfortunately, messages from 148.251.246.136 weren't sent.",
		"554 5.7.1 <jane@example.com>: Recipient address rejected: BLOCK-SEND-ER.",
		"Connection timed out",
	} {
		d := smtpreply.ParseDetail(s)
		fmt.Printf("%q\n  kind=%s code=%d enh=%q tags=%q text=%q\n", s, d.Kind, d.Reply.Code, d.Reply.Enhanced, d.Reply.Tags, d.Reply.Text)
	}
}
