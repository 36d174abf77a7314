package samplelog

import (
	"strconv"
)

type mxHost struct{ name, ip string }

type domain struct {
	name   string
	lane   string // the lane the simulation suspends after a refusal
	weight float64
	mx     []mxHost
	kind   string // how the receiving side behaves
}

type replyForm uint8

const (
	formPlain replyForm = iota
	formSaid
	formRefused
	formConnect
	formLost
	formDNS
)

type outcome struct {
	status, dsn string
	form        replyForm
	reply       string
	cmd         string
	prevMX      string // a non-final MX's reply before this one
}

var (
	appleMX     = []mxHost{{"mx01.mail.icloud.com", "17.57.154.6"}, {"mx02.mail.icloud.com", "17.57.155.9"}}
	gmailMX     = []mxHost{{"gmail-smtp-in.l.google.com", "142.250.102.26"}, {"alt1.gmail-smtp-in.l.google.com", "142.250.153.27"}}
	workspaceMX = []mxHost{{"aspmx.l.google.com", "142.250.102.27"}, {"alt1.aspmx.l.google.com", "142.250.153.26"}}
	yahooMX     = []mxHost{{"mta5.am0.yahoodns.net", "67.195.204.72"}, {"mta6.am0.yahoodns.net", "98.136.96.75"}, {"mta7.am0.yahoodns.net", "67.195.228.106"}}
)

var domains = []*domain{
	{name: "gmail.com", lane: "google", weight: 26, mx: gmailMX, kind: "google"},
	{name: "icloud.com", lane: "apple", weight: 13, mx: appleMX, kind: "apple"},
	{name: "me.com", lane: "apple", weight: 4, mx: appleMX, kind: "apple"},
	{name: "mac.com", lane: "apple", weight: 2, mx: appleMX, kind: "apple"},
	{name: "outlook.com", lane: "microsoft", weight: 7, mx: []mxHost{{"outlook-com.olc.protection.outlook.com", "52.101.42.10"}}, kind: "microsoft"},
	{name: "hotmail.com", lane: "microsoft", weight: 8, mx: []mxHost{{"hotmail-com.olc.protection.outlook.com", "52.101.40.2"}}, kind: "microsoft"},
	{name: "live.com", lane: "microsoft", weight: 2, mx: []mxHost{{"live-com.olc.protection.outlook.com", "52.101.41.7"}}, kind: "microsoft"},
	{name: "yahoo.com", lane: "yahoo", weight: 8, mx: yahooMX, kind: "yahoo"},
	{name: "aol.com", lane: "yahoo", weight: 2, mx: yahooMX, kind: "yahoo"},
	{name: "att.net", lane: "yahoo", weight: 1, mx: []mxHost{{"mx-att.mail.am0.yahoodns.net", "67.195.176.151"}}, kind: "yahoo"},
	{name: "comcast.net", lane: "comcast", weight: 1, mx: []mxHost{{"mx1a1.comcast.net", "96.114.157.80"}}, kind: "plain"},
	{name: "acme-corp.example", lane: "google", weight: 3, mx: workspaceMX, kind: "google"},
	{name: "globex.example", lane: "google", weight: 3, mx: workspaceMX, kind: "google"},
	{name: "initech.example", lane: "microsoft", weight: 3, mx: []mxHost{{"initech-example.mail.protection.outlook.com", "52.101.8.36"}}, kind: "microsoft"},
	{name: "hooli.example", lane: "microsoft", weight: 2, mx: []mxHost{{"hooli-example.mail.protection.outlook.com", "52.101.9.12"}}, kind: "microsoft"},
	{name: "umbrella.example", lane: "proofpoint", weight: 3, mx: []mxHost{{"mx0a-00123456.pphosted.com", "148.163.150.1"}, {"mx0b-00123456.pphosted.com", "148.163.152.1"}}, kind: "proofpoint"},
	{name: "wayne.example", lane: "mimecast", weight: 2, mx: []mxHost{{"eu-smtp-inbound-1.mimecast.com", "195.130.217.1"}}, kind: "mimecast"},
	{name: "smallshop.example", lane: "other", weight: 2, mx: []mxHost{{"mail.smallshop.example", "192.0.2.40"}}, kind: "greylist"},
	{name: "oldcompany.example", lane: "other", weight: 0.15, mx: []mxHost{{"mx.oldcompany.example", "192.0.2.99"}}, kind: "dead"},
	{name: "gmai.example", lane: "other", weight: 0.4, mx: []mxHost{{"gmai.example", "192.0.2.1"}}, kind: "nxdomain"},
}

var totalWeight = func() float64 {
	t := 0.0
	for _, d := range domains {
		t += d.weight
	}
	return t
}()

func (g *gen) pickDomain() *domain {
	x := g.rnd.Float64() * totalWeight
	for _, d := range domains {
		x -= d.weight
		if x < 0 {
			return d
		}
	}
	return domains[0]
}

// incident is how hard Proofpoint presses on the Apple lane at a time: 0
// before the second day's morning, up to 1 within two hours, easing off on
// the third day after the sender throttled and cleaned the list.
func (g *gen) incident(at int64) float64 {
	h := float64(at-g.cfg.Start.UnixMicro()) / 3600e6
	switch {
	case h < 32:
		return 0
	case h < 34:
		return (h - 32) / 2
	case h < 52:
		return 1
	case h < 68:
		return 1 - 0.9*(h-52)/16
	}
	return 0.03
}

func (g *gen) chance(p float64) bool { return g.rnd.Float64() < p }

func sent(reply string) outcome {
	return outcome{status: "sent", dsn: "2.0.0", form: formPlain, reply: reply}
}

func deferSaid(dsn, reply, cmd string) outcome {
	return outcome{status: "deferred", dsn: dsn, form: formSaid, reply: reply, cmd: cmd}
}

func bounceSaid(dsn, reply, cmd string) outcome {
	return outcome{status: "bounced", dsn: dsn, form: formSaid, reply: reply, cmd: cmd}
}

// outcome decides what the receiving side answers to one attempt.
func (d *domain) outcome(g *gen, at int64, m *message, r *rcpt) outcome {
	marketing := m.host.name == "mta2"
	switch d.kind {
	case "apple":
		return g.apple(at, m, r, marketing)
	case "google":
		return g.google(at, m, r, marketing)
	case "microsoft":
		return g.microsoft(m, r)
	case "yahoo":
		return g.yahoo(at, m, r, marketing)
	case "proofpoint":
		if g.chance(0.25 * g.incident(at)) {
			return deferSaid("4.7.0", "421 4.7.0 Deferred - see https://ipcheck.proofpoint.com/?ip="+m.host.ip, "MAIL FROM")
		}
		return sent("250 2.0.0 " + strconv.Itoa(100000+g.rnd.IntN(900000)) + " Message accepted for delivery")
	case "mimecast":
		if r.tries == 1 && g.chance(0.4) {
			return deferSaid("4.0.0", "451 Internal resource(s) temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451 [Ab3dEf6hIjKlMnOpQrStUv.uk42]", "RCPT TO")
		}
		return sent("250 Ok " + strconv.Itoa(g.rnd.IntN(1e9)) + "-" + strconv.Itoa(g.rnd.IntN(1e4)))
	case "greylist":
		if r.tries == 1 {
			return deferSaid("4.2.0", "450 4.2.0 <"+r.addr+">: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/"+d.name+".html", "RCPT TO")
		}
		return sent("250 2.0.0 Ok: queued as " + hex10(uint64(g.rnd.Int64()))[:8])
	case "dead":
		return outcome{status: "deferred", dsn: "4.4.1", form: formConnect, reply: "Connection timed out"}
	case "nxdomain":
		return outcome{status: "bounced", dsn: "5.4.4", form: formDNS, reply: "Host or domain name not found. Name service error for name=" + d.name + " type=MX: Host not found"}
	}
	return sent("250 2.0.0 Ok: queued")
}

func (g *gen) apple(at int64, m *message, r *rcpt, marketing bool) outcome {
	in := g.incident(at)
	pDefer := 0.012 + in*0.45
	if marketing {
		pDefer = 0.012 + in*0.97
	}
	switch {
	case g.chance(0.005):
		return bounceSaid("5.1.1", "550 5.1.1 <"+r.addr+">: user does not exist", "RCPT TO")
	case g.chance(0.002):
		return bounceSaid("5.1.1", "550 5.1.1 <"+r.addr+">: inactive email address", "RCPT TO")
	case marketing && g.chance(0.012*in):
		return bounceSaid("5.7.1", "550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137", "end of DATA")
	case g.chance(pDefer):
		if in == 0 {
			return deferSaid("4.7.1", "451 4.7.1 [BS02] Temporary server error. Please try again later", "MAIL FROM")
		}
		switch x := g.rnd.Float64(); {
		case x < 0.55:
			o := deferSaid("4.7.0", "421 4.7.0 Deferred - see Proofpoint DNSBL lookup", "MAIL FROM")
			if g.chance(0.06) {
				o.prevMX = "421 4.7.0 Deferred - see Proofpoint DNSBL lookup"
			}
			return o
		case x < 0.72:
			return outcome{status: "deferred", dsn: "4.7.0", form: formRefused, reply: "421 4.7.0 Deferred - see Proofpoint DNSBL lookup"}
		case x < 0.93:
			return deferSaid("4.7.0", "421 4.7.0 [HCM1] Your mail from "+m.host.ip+" was deferred.", "MAIL FROM")
		default:
			return outcome{status: "deferred", dsn: "4.4.2", form: formLost}
		}
	}
	return sent("250 2.0.0 Ok: queued as " + strconv.Itoa(g.rnd.IntN(1e9)))
}

func (g *gen) google(at int64, m *message, r *rcpt, marketing bool) outcome {
	day := int((at - g.cfg.Start.UnixMicro()) / 86400e6)
	id := "a" + strconv.Itoa(g.rnd.IntN(1e6)) + "si" + strconv.Itoa(g.rnd.IntN(1e7)) + "qkb.12"
	switch {
	case g.chance(0.011):
		return bounceSaid("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser "+id+" - gsmtp", "RCPT TO")
	case marketing && day == 2 && g.chance(0.06):
		return deferSaid("4.7.28", "421-4.7.28 ["+m.host.ip+"      15] Gmail has detected an unusual rate of unsolicited mail originating 421-4.7.28 from your IP address. To protect our users from spam, mail sent from your IP 421-4.7.28 address has been temporarily rate limited. For more information, go to 421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to review 421 4.7.28 our Bulk Email Senders Guidelines. "+id+" - gsmtp", "end of DATA")
	case g.chance(0.004):
		return deferSaid("4.2.1", "450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please 450-4.2.1 resend your message at a later time. 450 4.2.1  https://support.google.com/mail/?p=ReceivingRate "+id+" - gsmtp", "RCPT TO")
	}
	return sent("250 2.0.0 OK  " + strconv.FormatInt(at/1e6, 10) + " " + id + " - gsmtp")
}

func (g *gen) microsoft(m *message, r *rcpt) outcome {
	switch {
	case g.chance(0.008):
		return bounceSaid("5.5.0", "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]", "RCPT TO")
	case g.chance(0.02):
		return deferSaid("4.7.650", "451 4.7.650 The mail server ["+m.host.ip+"] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]", "RCPT TO")
	}
	return sent("250 2.6.0 <" + m.msgID + "> [InternalId=" + strconv.Itoa(g.rnd.IntN(1e9)) + ", Hostname=DM6PR11MB4316.namprd11.prod.outlook.com] Queued mail for delivery")
}

func (g *gen) yahoo(at int64, m *message, r *rcpt, marketing bool) outcome {
	h := float64(at-g.cfg.Start.UnixMicro()) / 3600e6
	complaints := h >= 63 && h < 68
	switch {
	case g.chance(0.008):
		return bounceSaid("5.0.0", "554 delivery error: dd This user doesn't have a "+r.dom.name+" account ("+r.addr+") [0] - mta4160.mail.bf1.yahoo.com", "end of DATA")
	case marketing && complaints && g.chance(0.35):
		return deferSaid("4.7.0", "421 4.7.0 [TSS04] Messages from "+m.host.ip+" temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", "MAIL FROM")
	}
	return sent("250 ok dirdel")
}
