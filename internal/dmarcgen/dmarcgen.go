// Package dmarcgen writes realistic DMARC aggregate reports (RFC 7489
// appendix C and RFC 9990) for benchmarks and tests: the reporters that
// send most reports (Google, Yahoo, Microsoft, Mail.ru), each in the
// container it uses (zip, gzip, plain XML), named as RFC 7489 §7.2.1.1
// says, with sources drawn from the address ranges of the services that
// send mail for a domain (Google Workspace, Microsoft 365, SendGrid,
// Amazon SES, Mailchimp) and from unknown ones, with the pass and fail
// patterns each typically shows.
//
// The output depends only on the count and the seed.
package dmarcgen

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Write writes n aggregate reports into dir, which it creates if needed.
func Write(dir string, n int, seed int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	g := newGen(seed)
	for i := range n {
		name, data, err := g.file(i)
		if err != nil {
			return fmt.Errorf("dmarcgen: report %d: %w", i, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

type container int

const (
	plainXML container = iota
	gzipXML
	zipXML
)

// reporter is a receiver that sends aggregate reports.
type reporter struct {
	org, email, contact string
	id                  func(r *rand.Rand, i int) string
	containers          []container // what it sends, drawn at random
	rfc9990             float64     // share of its reports in the RFC 9990 shape
	scale               int         // typical messages per record
}

func reporters() []reporter {
	return []reporter{
		{org: "google.com", email: "noreply-dmarc-support@google.com", contact: "https://support.google.com/a/answer/2466580",
			id:         func(r *rand.Rand, i int) string { return fmt.Sprintf("%d%07d", 1+r.Uint64N(9e11), i) },
			containers: []container{zipXML}, rfc9990: 0.3, scale: 400},
		{org: "Yahoo", email: "dmarchelp@yahooinc.com",
			id:         func(r *rand.Rand, i int) string { return fmt.Sprintf("%d.%d", 1700000000+r.IntN(1e8), i) },
			containers: []container{gzipXML}, rfc9990: 0.2, scale: 60},
		{org: "Enterprise Outlook", email: "dmarcreport@microsoft.com",
			id:         func(r *rand.Rand, i int) string { return fmt.Sprintf("%016x%016x", r.Uint64(), uint64(i)) },
			containers: []container{gzipXML}, rfc9990: 0.1, scale: 40},
		{org: "Mail.Ru", email: "dmarc_support@corp.mail.ru", contact: "http://help.mail.ru/mail-help",
			id:         func(r *rand.Rand, i int) string { return fmt.Sprintf("%d%d", 17000000+r.IntN(1e6), i) },
			containers: []container{plainXML, gzipXML, zipXML}, rfc9990: 0, scale: 10},
	}
}

// service is who sends for the domain, seen from the receiver: the
// addresses it sends from and how its mail authenticates.
type service struct {
	name     string
	prefixes []netip.Prefix
	// spfDomain and dkimDomain are the raw identities; "" means the
	// policy domain itself (aligned).
	spfDomain, dkimDomain string
	spfPass, dkimPass     float64 // chance of a pass
}

func services() []service {
	p := func(ss ...string) []netip.Prefix {
		out := make([]netip.Prefix, len(ss))
		for i, s := range ss {
			out[i] = netip.MustParsePrefix(s)
		}
		return out
	}
	return []service{
		{name: "google", prefixes: p("209.85.128.0/17", "209.85.192.0/19", "2607:f8b0:4864::/48"), spfPass: 0.99, dkimPass: 0.99},
		{name: "microsoft", prefixes: p("40.107.0.0/16", "52.100.0.0/16", "2a01:111:f400::/48"), spfPass: 0.97, dkimPass: 0.95},
		{name: "sendgrid", prefixes: p("167.89.0.0/17", "149.72.0.0/16"), spfDomain: "sendgrid.net", spfPass: 0.99, dkimPass: 0.97},
		{name: "amazonses", prefixes: p("54.240.0.0/18", "23.251.224.0/19"), spfDomain: "amazonses.com", spfPass: 0.99, dkimPass: 0.98},
		{name: "mailchimp", prefixes: p("198.2.128.0/18", "205.201.128.0/20"), spfDomain: "mcsv.net", dkimDomain: "mcsv.net", spfPass: 0.99, dkimPass: 0.99},
		// Mail forwarded by a mailing list or a university: SPF fails, the
		// DKIM signature mostly survives.
		{name: "forwarder", prefixes: p("128.59.0.0/16", "193.62.0.0/16"), spfDomain: "lists.example.edu", spfPass: 0.1, dkimPass: 0.7},
		// Nobody the domain knows: spoofing, or a forgotten platform.
		{name: "unknown", prefixes: p("185.220.0.0/16", "45.142.0.0/16", "103.21.0.0/16", "91.195.0.0/16"), spfDomain: "*", dkimDomain: "*", spfPass: 0.05, dkimPass: 0.02},
	}
}

type gen struct {
	r         *rand.Rand
	reporters []reporter
	services  []service
	// weights says how often each service appears among a report's
	// records, in the order of services.
	weights []int
	domains []string
	// epoch is the last day reported on; reports cover the 90 days
	// before it.
	epoch time.Time
}

func newGen(seed int64) *gen {
	return &gen{
		r:         rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		reporters: reporters(),
		services:  services(),
		weights:   []int{30, 20, 12, 10, 8, 6, 14},
		domains:   []string{"example.com", "example.org", "shop.example.net", "news.example.com", "example.co.uk"},
		epoch:     time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	}
}

// file builds report i: its file name and its bytes.
func (g *gen) file(i int) (string, []byte, error) {
	rep := g.reporters[g.pick([]int{45, 25, 20, 10})]
	domain := g.domains[g.r.IntN(len(g.domains))]
	day := g.epoch.AddDate(0, 0, -1-g.r.IntN(90))
	begin, end := day.Unix(), day.Add(24*time.Hour-time.Second).Unix()
	id := rep.id(g.r, i)
	xml := g.report(rep, domain, id, begin, end, g.r.Float64() < rep.rfc9990)
	// RFC 7489 §7.2.1.1: receiver "!" policy domain "!" begin "!" end,
	// with a unique part when needed.
	base := fmt.Sprintf("%s!%s!%d!%d!%d", strings.ToLower(strings.ReplaceAll(rep.org, " ", "")), domain, begin, end, i)
	switch rep.containers[g.r.IntN(len(rep.containers))] {
	case gzipXML:
		b, err := gzipped(base+".xml", xml)
		return base + ".xml.gz", b, err
	case zipXML:
		b, err := zipped(base+".xml", xml, g.epoch)
		return base + ".zip", b, err
	}
	return base + ".xml", xml, nil
}

func (g *gen) pick(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// report writes the XML: RFC 9990's shape (namespace, generator, np,
// testing, discovery_method, selectors always) or RFC 7489's (pct, fo).
func (g *gen) report(rep reporter, domain, id string, begin, end int64, v2 bool) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n")
	if v2 {
		b.WriteString("<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n  <version>1.0</version>\n")
	} else {
		b.WriteString("<feedback>\n")
		if g.r.IntN(2) == 0 {
			b.WriteString("  <version>1.0</version>\n")
		}
	}
	fmt.Fprintf(&b, "  <report_metadata>\n    <org_name>%s</org_name>\n    <email>%s</email>\n", rep.org, rep.email)
	if rep.contact != "" {
		fmt.Fprintf(&b, "    <extra_contact_info>%s</extra_contact_info>\n", rep.contact)
	}
	fmt.Fprintf(&b, "    <report_id>%s</report_id>\n    <date_range>\n      <begin>%d</begin>\n      <end>%d</end>\n    </date_range>\n", id, begin, end)
	if v2 {
		b.WriteString("    <generator>dmarcgen 1.0</generator>\n")
	}
	b.WriteString("  </report_metadata>\n")
	p := []string{"none", "quarantine", "reject"}[g.pick([]int{50, 30, 20})]
	fmt.Fprintf(&b, "  <policy_published>\n    <domain>%s</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>%s</p>\n    <sp>%s</sp>\n", domain, p, p)
	if v2 {
		fmt.Fprintf(&b, "    <np>%s</np>\n    <testing>n</testing>\n    <discovery_method>treewalk</discovery_method>\n", p)
	} else {
		b.WriteString("    <pct>100</pct>\n    <fo>0</fo>\n")
	}
	b.WriteString("  </policy_published>\n")
	for range 1 + g.r.IntN(40) {
		g.record(&b, rep, domain, p, v2)
	}
	b.WriteString("</feedback>\n")
	return b.Bytes()
}

// record writes one record from a service drawn by weight.
func (g *gen) record(b *bytes.Buffer, rep reporter, domain, p string, v2 bool) {
	s := g.services[g.pick(g.weights)]
	ip := g.addr(s.prefixes[g.r.IntN(len(s.prefixes))])
	count := 1 + g.r.IntN(rep.scale)
	if s.name == "unknown" {
		count = 1 + g.r.IntN(5)
	}
	spfDomain, dkimDomain := identity(s.spfDomain, domain, g.r), identity(s.dkimDomain, domain, g.r)
	spfOK, dkimOK := g.r.Float64() < s.spfPass, g.r.Float64() < s.dkimPass
	spfAligned := spfOK && aligned(spfDomain, domain)
	dkimAligned := dkimOK && aligned(dkimDomain, domain)
	disposition := "none"
	if !spfAligned && !dkimAligned {
		disposition = p
	}
	fmt.Fprintf(b, "  <record>\n    <row>\n      <source_ip>%s</source_ip>\n      <count>%d</count>\n", ip, count)
	fmt.Fprintf(b, "      <policy_evaluated>\n        <disposition>%s</disposition>\n        <dkim>%s</dkim>\n        <spf>%s</spf>\n",
		disposition, passFail(dkimAligned), passFail(spfAligned))
	if s.name == "forwarder" && disposition != "none" && g.r.IntN(2) == 0 {
		b.WriteString("        <reason>\n          <type>forwarded</type>\n        </reason>\n")
	}
	b.WriteString("      </policy_evaluated>\n    </row>\n    <identifiers>\n")
	if v2 || g.r.IntN(2) == 0 {
		fmt.Fprintf(b, "      <envelope_from>%s</envelope_from>\n", spfDomain)
	}
	fmt.Fprintf(b, "      <header_from>%s</header_from>\n    </identifiers>\n    <auth_results>\n", domain)
	if dkimDomain != "" && (v2 || g.r.IntN(10) > 0) {
		result := "pass"
		if !dkimOK {
			result = []string{"fail", "neutral", "temperror"}[g.r.IntN(3)]
		}
		fmt.Fprintf(b, "      <dkim>\n        <domain>%s</domain>\n        <selector>%s</selector>\n        <result>%s</result>\n      </dkim>\n",
			dkimDomain, []string{"google", "selector1", "s1", "k1", "mte1"}[g.r.IntN(5)], result)
	}
	result := "pass"
	if !spfOK {
		result = []string{"fail", "softfail", "neutral", "none"}[g.r.IntN(4)]
	}
	fmt.Fprintf(b, "      <spf>\n        <domain>%s</domain>\n        <scope>mfrom</scope>\n        <result>%s</result>\n      </spf>\n", spfDomain, result)
	b.WriteString("    </auth_results>\n  </record>\n")
}

// identity returns the raw SPF or DKIM domain: the policy domain for "",
// a made-up one for "*", the service's own otherwise.
func identity(spec, domain string, r *rand.Rand) string {
	switch spec {
	case "":
		return domain
	case "*":
		return fmt.Sprintf("mail%d.spoof-%c.example", r.IntN(100), 'a'+r.IntN(26))
	}
	return spec
}

// aligned is relaxed alignment, roughly: the same domain or a subdomain.
func aligned(id, domain string) bool {
	return id == domain || strings.HasSuffix(id, "."+domain) || strings.HasSuffix(domain, "."+id)
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

// addr draws an address inside a prefix.
func (g *gen) addr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		if g.r.IntN(2) == 1 {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func gzipped(name string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name = name
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	err := zw.Close()
	return buf.Bytes(), err
}

func zipped(name string, data []byte, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	err = zw.Close()
	return buf.Bytes(), err
}
