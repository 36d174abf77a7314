package check

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/resolver"
)

// MXSummary is the MX part of a report.
type MXSummary struct {
	Null     bool     `json:"null"`
	Implicit bool     `json:"implicit"`
	Hosts    []MXHost `json:"hosts"`
}

// MXHost is one mail exchanger.
type MXHost struct {
	Preference uint16       `json:"preference"`
	Host       string       `json:"host"`
	Addrs      []netip.Addr `json:"addresses"`
	Status     string       `json:"status"`
}

var mxFixes = map[mailhost.Kind]string{
	mailhost.NullMXPreference: "publish the null MX as \"MX 0 .\"",
	mailhost.NullMXMixed:      "remove the null MX if the domain takes mail, or the other MX records if it does not",
	mailhost.MXIPLiteral:      "point the MX at a host name that has the address",
	mailhost.MXAlias:          "point the MX at the host's own name, not an alias",
	mailhost.MXNoAddress:      "give the host an A or AAAA record, or remove the MX",
	mailhost.MXPrivateAddress: "publish the host's public address",
	mailhost.MXUnreachable:    "publish at least one MX host with a public address",
	mailhost.NoAddress:        "publish MX records for the hosts that take the domain's mail, or a null MX (MX 0 .) if it takes none",
}

func mxFindings(set mailhost.MXSet, domain string, p *part) *MXSummary {
	ev := fmt.Sprintf("%s MX: %s", domain, set.Status)
	if !set.Status.Known() {
		p.find("mx.unknown", fmt.Sprintf("the MX records of %s could not be looked up: %v", domain, set.Err), "check again, or with another --resolver", ev)
		return nil
	}
	if set.Status == resolver.NXDomain {
		p.find("domain.nxdomain", fmt.Sprintf("%s does not exist in the DNS (NXDOMAIN): it has no records at all, so there is nothing else to check", domain),
			"check the spelling; if the domain is new, check its delegation (whois, the parent zone's NS records)", ev)
		return nil
	}
	s := &MXSummary{Null: set.Null, Implicit: set.Implicit}
	for _, h := range set.Hosts {
		s.Hosts = append(s.Hosts, MXHost{Preference: h.Preference, Host: h.Host, Addrs: h.Addrs, Status: h.Status.String()})
	}
	var unknown []string
	for _, h := range set.Hosts {
		if h.Host != "" && !h.Status.Known() {
			unknown = append(unknown, fmt.Sprintf("%s (%s)", h.Host, h.Status))
		}
	}
	if len(unknown) > 0 {
		// A host whose address could not be looked up may be fine: the
		// check is made only if a problem shows anyway.
		p.find("mx.unknown", "the addresses of MX "+strings.Join(unknown, ", ")+" could not be looked up", "check again, or with another --resolver", ev)
	} else {
		p.check("mx.hosts")
	}
	if set.Null {
		p.find("mx.null", domain+" publishes a null MX: it accepts no mail (RFC 7505), so bounces and replies to it are lost", "nothing to do if the domain only sends; otherwise publish its MX hosts", ev)
	}
	if set.Implicit && len(set.Problems) == 0 {
		p.find("mx.implicit", fmt.Sprintf("%s has no MX record: senders deliver to its address (RFC 5321 §5.1), often a web server", domain),
			"publish MX records for the hosts that take its mail, or a null MX (MX 0 .) if it takes none", ev)
	}
	for _, pr := range set.Problems {
		p.find("mx."+string(pr.Kind), pr.Message, mxFixes[pr.Kind], ev)
	}
	return s
}
