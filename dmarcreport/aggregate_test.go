package dmarcreport

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"
)

// corpus is parsedmarc's samples (Apache-2.0): ../testdata/dmarc-reports/README.md.
const corpus = "../testdata/dmarc-reports"

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus, name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestAggregateCorpus reads every XML sample of the corpus and checks what
// it says.
func TestAggregateCorpus(t *testing.T) {
	type rec struct {
		ip                  string
		count               int64
		disposition         string
		dkim, spf, from     string
		nDKIM, nSPF         int
		firstDKIM, firstSPF string // result of the first auth_results entry
	}
	for _, tt := range []struct {
		file, org, id, domain, ns, version string
		begin, end                         int64
		messages                           int64
		records                            int
		first                              rec
		warnings                           int
	}{
		{file: "aggregate/!example.com!1538204542!1538463818.xml", org: "accurateplastics.com", id: "example.com:1538463741", domain: "example.com",
			begin: 1538413632, end: 1538413632, messages: 1, records: 1, warnings: 1, // org_name empty: named by the email's domain
			first: rec{"12.20.127.122", 1, "none", "fail", "fail", "example.com", 0, 1, "", "none"}},
		{file: "aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml", org: "addisonfoods.com", id: "3ceb5548498640beaeb47327e202b0b9", domain: "example.com", version: "1.0",
			begin: 1536105600, end: 1536191999, messages: 1, records: 1,
			first: rec{"109.203.100.17", 1, "none", "fail", "fail", "example.com", 1, 0, "pass", ""}},
		{file: "aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz", org: "FastMail Pty Ltd", id: "102675056", domain: "indemed.com", version: "1.0",
			begin: 1516060800, end: 1516147199, messages: 1, records: 1,
			first: rec{"104.195.80.20", 1, "none", "fail", "fail", "example.com", 0, 1, "", "softfail"}},
		// An unclosed <xs:schema> around <feedback>.
		{file: "aggregate/ikea.com!example.de!1538690400!1538776800.xml", org: "ikea.com", id: "aggr_report_2018_10_05_5bc7e9b4f3e8a", domain: "example.de",
			begin: 1538690400, end: 1538776800, messages: 1, records: 1,
			first: rec{"234.234.234.234", 1, "none", "fail", "fail", "example.de", 1, 1, "pass", "none"}},
		// A windows-1252 byte in a document declared UTF-8.
		{file: "aggregate/invalid_utf_8.xml", org: "accurateplastics.com", id: "example.com:1538463741", domain: "example.com",
			begin: 1538413632, end: 1538413632, messages: 1, records: 1, warnings: 2,
			first: rec{"12.20.127.122", 1, "none", "fail", "fail", "bad_byte\ufffd", 0, 1, "", "none"}},
		// "<email><bad-xml@bad-xml.net></email>", "bad<xml.net".
		{file: "aggregate/invalid_xml.xml", org: "veeam.com", id: "sonexushealth.com:1530233361", domain: "example.com",
			begin: 1530133200, end: 1530219600, messages: 1, records: 1, warnings: 1,
			first: rec{"199.230.200.36", 1, "none", "fail", "fail", "bad<xml.net", 0, 1, "", "none"}},
		{file: "aggregate/old_draft_from_wiki.xml", org: "acme.com", id: "9391651994964116463", domain: "example.com",
			begin: 1335571200, end: 1335657599, messages: 2, records: 1,
			first: rec{"72.150.241.94", 2, "none", "fail", "pass", "example.com", 1, 1, "fail", "pass"}},
		{file: "aggregate/rfc9990-sample.xml", org: "Sample Reporter", id: "3v98abbp8ya9n3va8yr8oa3ya", domain: "example.com", ns: Namespace2, version: "1.0",
			begin: 302832000, end: 302918399, messages: 123, records: 1,
			first: rec{"192.0.2.123", 123, "pass", "pass", "fail", "example.com", 1, 1, "pass", "fail"}},
		{file: "aggregate/usssa.com!example.com!1538784000!1538870399.xml", org: "usssa.com", id: "8953b4d4a4ee4218b6ac0e2cb2667ee1", domain: "example.com", version: "1.0",
			begin: 1538784000, end: 1538870399, messages: 2, records: 2,
			first: rec{"12.20.127.40", 1, "none", "fail", "fail", "example.com", 0, 0, "", ""}},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			a, err := ParseAggregate(bytes.NewReader(readCorpus(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(a.Org, "|", a.ReportID, "|", a.Policy.Domain, "|", a.Namespace, "|", a.Version, "|", a.Begin.Unix(), "|", a.End.Unix(), "|", a.Messages(), "|", len(a.Records), "|", len(a.Warnings))
			want := fmt.Sprint(tt.org, "|", tt.id, "|", tt.domain, "|", tt.ns, "|", tt.version, "|", tt.begin, "|", tt.end, "|", tt.messages, "|", tt.records, "|", tt.warnings)
			if got != want {
				t.Errorf("report:\ngot  %s\nwant %s\nwarnings: %q", got, want, a.Warnings)
			}
			r := a.Records[0]
			g := rec{r.SourceIP.String(), r.Count, r.Disposition, r.DKIM, r.SPF, r.HeaderFrom, len(r.DKIMResults), len(r.SPFResults), "", ""}
			if len(r.DKIMResults) > 0 {
				g.firstDKIM = r.DKIMResults[0].Result
			}
			if len(r.SPFResults) > 0 {
				g.firstSPF = r.SPFResults[0].Result
			}
			if g != tt.first {
				t.Errorf("first record:\ngot  %+v\nwant %+v", g, tt.first)
			}
		})
	}
}

// TestAggregateRFC9990 reads RFC 9990's sample whole: the namespace and
// the new fields (generator, np, testing, discovery_method, selector).
func TestAggregateRFC9990(t *testing.T) {
	a, err := ParseAggregate(bytes.NewReader(readCorpus(t, "aggregate/rfc9990-sample.xml")))
	if err != nil {
		t.Fatal(err)
	}
	want := &Aggregate{
		Version: "1.0", Namespace: Namespace2,
		Org: "Sample Reporter", Email: "report_sender@example-reporter.com", ExtraContact: "...",
		ReportID: "3v98abbp8ya9n3va8yr8oa3ya", Generator: "Example DMARC Aggregate Reporter v1.2",
		Begin: time.Unix(302832000, 0).UTC(), End: time.Unix(302918399, 0).UTC(),
		Policy: PublishedPolicy{Domain: "example.com", P: "quarantine", SP: "none", NP: "none", Testing: "n", DiscoveryMethod: "treewalk"},
		Records: []Record{{
			SourceIP: netip.MustParseAddr("192.0.2.123"), Count: 123,
			Disposition: "pass", DKIM: "pass", SPF: "fail",
			HeaderFrom: "example.com", EnvelopeFrom: "example.com",
			DKIMResults: []DKIMResult{{Domain: "example.com", Selector: "abc123", Result: "pass"}},
			SPFResults:  []SPFResult{{Domain: "example.com", Result: "fail"}},
		}},
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
}

// report builds a report around a record, for the cases below.
func report(feedbackOpen, metadata, record string) string {
	if metadata == "" {
		metadata = `<org_name>example.net</org_name><report_id>r1</report_id>
			<date_range><begin>1700000000</begin><end>1700086399</end></date_range>`
	}
	return feedbackOpen + `<report_metadata>` + metadata + `</report_metadata>
		<policy_published><domain>example.com</domain><p>none</p></policy_published>` + record + `</feedback>`
}

const okRecord = `<record><row><source_ip>192.0.2.1</source_ip><count>3</count>
	<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
	<identifiers><header_from>example.com</header_from></identifiers>
	<auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim></auth_results></record>`

// TestAggregateShapes reads what reporters send beyond the corpus.
func TestAggregateShapes(t *testing.T) {
	for _, tt := range []struct {
		name, xml string
		check     func(*Aggregate) string // "" when right
	}{
		{"RFC 9990 namespace with a prefix", strings.NewReplacer("<feedback", "<d:feedback", "</feedback", "</d:feedback").
			Replace(report(`<feedback xmlns:d="urn:ietf:params:xml:ns:dmarc-2.0">`, "", okRecord)),
			func(a *Aggregate) string {
				return want(a.Namespace, Namespace2) + want(a.Records[0].DKIMResults[0].Selector, "s1")
			}},
		// RFC 9990 fields without the namespace: the same code path.
		{"RFC 9990 shape without namespace", report(`<feedback><version>1.0</version>`, "",
			`<record><row><source_ip>2001:db8::1</source_ip><count>1</count><policy_evaluated><disposition>quarantine</disposition>
			<dkim>fail</dkim><spf>fail</spf><reason><type>policy_test_mode</type><comment>t=y</comment></reason></policy_evaluated></row>
			<identifiers><header_from>Example.COM</header_from></identifiers><auth_results/></record>`),
			func(a *Aggregate) string {
				r := a.Records[0]
				return want(a.Namespace, "") + want(r.SourceIP.String(), "2001:db8::1") + want(r.HeaderFrom, "example.com") +
					want(fmt.Sprint(r.Reasons), "[{policy_test_mode t=y}]")
			}},
		// parsedmarc #288: "Pass" in upper case; values in white space.
		{"odd casing and white space", report(`<feedback>`, "", `<record><row><source_ip> 192.0.2.9 </source_ip><count>
			7 </count><policy_evaluated><disposition> None</disposition><dkim>Pass</dkim><spf>FAIL</spf></policy_evaluated></row>
			<identifiers><header_from>Example.com</header_from></identifiers><auth_results><spf><domain>Bounce.Example.com</domain>
			<scope>MFROM</scope><result>SoftFail</result></spf></auth_results></record>`),
			func(a *Aggregate) string {
				r := a.Records[0]
				return want(fmt.Sprintln(r.SourceIP, r.Count, r.Disposition, r.DKIM, r.SPF, r.DMARCPass()), "192.0.2.9 7 none pass fail true\n") +
					want(fmt.Sprint(r.SPFResults), "[{bounce.example.com mfrom softfail }]")
			}},
		// Several DKIM signatures, an IPv4-mapped address, an extension.
		{"several results", report(`<feedback>`, "", `<record><row><source_ip>::ffff:192.0.2.5</source_ip><count>0</count>
			<policy_evaluated><disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
			<identifiers><header_from>example.com</header_from><envelope_to>example.org</envelope_to></identifiers>
			<auth_results><dkim><domain>a.example</domain><result>fail</result><human_result>bad sig</human_result></dkim>
			<dkim><domain>b.example</domain><result>pass</result></dkim></auth_results>
			<extensions><x:ext xmlns:x="urn:x"><x:domain>not.this</x:domain></x:ext></extensions></record>`),
			func(a *Aggregate) string {
				r := a.Records[0]
				return want(r.SourceIP.String(), "192.0.2.5") + want(r.EnvelopeTo, "example.org") +
					want(fmt.Sprint(r.DKIMResults), "[{a.example  fail bad sig} {b.example  pass }]")
			}},
		// An XML declaration naming latin1: org_name "Société".
		{"latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" + report(`<feedback>`,
			"<org_name>Soci\xe9t\xe9</org_name><report_id>r1</report_id><date_range><begin>1</begin><end>2</end></date_range>", okRecord),
			func(a *Aggregate) string { return want(a.Org, "Société") + want(fmt.Sprint(len(a.Warnings)), "0") }},
		{"windows-1252", "<?xml version='1.0' encoding='windows-1252'?>" + report(`<feedback>`,
			"<org_name>\x93Q\x94</org_name><report_id>r1</report_id><date_range><begin>1</begin><end>2</end></date_range>", okRecord),
			func(a *Aggregate) string { return want(a.Org, "“Q”") }},
		// A BOM, a float timestamp, errors, no records.
		{"BOM and no records", "\xef\xbb\xbf" + report(`<feedback>`,
			"<org_name>x</org_name><report_id>r1</report_id><error>too many</error><date_range><begin>1.0</begin><end>2</end></date_range>", ""),
			func(a *Aggregate) string {
				return want(fmt.Sprintln(len(a.Records), a.Errors, a.Begin.Unix()), "0 [too many] 1\n")
			}},
		// XML 1.0 §4.3.3: every processor reads UTF-16; the byte order
		// mark tells it (appendix F.1). Reporters on Windows write it.
		{"UTF-16LE with BOM", utf16LE("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n" + report(`<feedback>`,
			"<org_name>Soci\u00e9t\u00e9</org_name><report_id>r16</report_id><date_range><begin>1</begin><end>2</end></date_range>", okRecord)),
			func(a *Aggregate) string {
				return want(a.Org, "Société") + want(a.ReportID, "r16") + want(fmt.Sprint(len(a.Records), a.Records[0].Count), "1 3")
			}},
		{"UTF-16BE with BOM, no declaration", utf16BE(report(`<feedback>`, "", okRecord)),
			func(a *Aggregate) string { return want(a.Org, "example.net") + want(fmt.Sprint(len(a.Records)), "1") }},
		// Trailing garbage after </feedback> is not the report's.
		{"trailing garbage", report(`<feedback>`, "", okRecord) + "\x00\x00garbage<",
			func(a *Aggregate) string { return want(fmt.Sprint(len(a.Records)), "1") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAggregate(strings.NewReader(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(a); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func want(got, want string) string {
	if got != want {
		return fmt.Sprintf("got %q, want %q; ", got, want)
	}
	return ""
}

// deepXML is a report with an element nested n deep inside a record.
func deepXML(n int) string {
	return report(`<feedback>`, "", "<record>"+strings.Repeat("<x>", n)+strings.Repeat("</x>", n)+"</record>")
}

// endless is an aggregate report that never ends: a record repeated
// without bound, produced as it is read, so that the test holds none of it.
type endless struct {
	head, rec []byte
	off       int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		src := e.rec
		if e.head != nil {
			src = e.head
		}
		c := copy(p[n:], src[e.off:])
		n += c
		e.off += c
		if e.off == len(src) {
			e.off, e.head = 0, nil
		}
	}
	return n, nil
}

// TestAggregateBad: each input is refused with an error that says why
// (the bad inputs of issue 7).
func TestAggregateBad(t *testing.T) {
	meta := func(begin, end string) string {
		return "<org_name>x</org_name><report_id>r1</report_id><date_range><begin>" + begin + "</begin><end>" + end + "</end></date_range>"
	}
	row := func(ip, count string) string {
		return "<record><row><source_ip>" + ip + "</source_ip><count>" + count + "</count></row></record>"
	}
	for _, tt := range []struct {
		name string
		r    io.Reader
		is   error
		msg  string
	}{
		{"empty", strings.NewReader(""), ErrNotAggregate, "empty file"},
		{"only white space", strings.NewReader(" \r\n\t "), ErrNotAggregate, "nothing but white space"},
		{"text", strings.NewReader("Hello,\nthis is not a report.\n"), ErrNotAggregate, `not XML: it begins with "Hello,\nthis is not a rep"...`},
		{"zeros", strings.NewReader(strings.Repeat("\x00", 1000)), ErrNotAggregate, "not XML: it begins with binary data"},
		{"binary after <", strings.NewReader("<" + strings.Repeat("\x00\xff", 1000)), ErrNotAggregate, "binary data, not text"},
		{"not XML in a .xml file", strings.NewReader("Hello,\nthis is not a report.\n"), ErrNotAggregate, "not XML"},
		{"binary", strings.NewReader("\x00\x01\x02PK"), ErrNotAggregate, "not XML"},
		{"root not feedback", strings.NewReader("<?xml version='1.0'?><html><body/></html>"), ErrNotAggregate, "root element is <html>"},
		{"mismatched end tag", strings.NewReader(report("<feedback>", "", strings.Replace(okRecord, "</count>", "</row>", 1))), ErrInvalid, "<count> closed by </row>"},
		{"truncated", strings.NewReader(report("<feedback>", "", okRecord)[:200]), ErrInvalid, "XML"},
		// RFC 9990 §3: report_id and org_name are required.
		{"no report_id", strings.NewReader(report("<feedback>", "<org_name>x</org_name><date_range><begin>1</begin><end>2</end></date_range>", okRecord)), ErrInvalid, "no report_metadata/report_id"},
		{"no org_name nor email", strings.NewReader(report("<feedback>", "<report_id>r</report_id><date_range><begin>1</begin><end>2</end></date_range>", okRecord)), ErrInvalid, "no report_metadata/org_name"},
		{"no date_range", strings.NewReader(report("<feedback>", "<org_name>x</org_name><report_id>r</report_id>", okRecord)), ErrInvalid, "no report_metadata/date_range/begin"},
		{"reversed date range", strings.NewReader(report("<feedback>", meta("1700086399", "1700000000"), okRecord)), ErrInvalid, "date range is reversed"},
		{"date not a number", strings.NewReader(report("<feedback>", meta("yesterday", "1700000000"), okRecord)), ErrInvalid, `date_range/begin "yesterday"`},
		{"count -1", strings.NewReader(report("<feedback>", "", row("192.0.2.1", "-1"))), ErrInvalid, "record 1: count -1 is negative"},
		// MaxCount: counts near int64's limit would overflow any sum.
		{"count past MaxCount", strings.NewReader(report("<feedback>", "", okRecord+row("192.0.2.1", "1099511627777"))), ErrInvalid, "record 2: count 1099511627777 is more than 1099511627776"},
		{"count near int64 max", strings.NewReader(report("<feedback>", "", row("192.0.2.1", "9223372036854775000"))), ErrInvalid, "record 1: count 9223372036854775000 is more than"},
		{"count past int64", strings.NewReader(report("<feedback>", "", row("192.0.2.1", "99999999999999999999"))), ErrInvalid, "record 1: count 99999999999999999999 is more than"},
		{"count below int64 min", strings.NewReader(report("<feedback>", "", row("192.0.2.1", "-99999999999999999999"))), ErrInvalid, "record 1: count -99999999999999999999 is negative"},
		{"count not a number", strings.NewReader(report("<feedback>", "", okRecord+row("192.0.2.1", "many"))), ErrInvalid, `record 2: count "many" is not a number`},
		{"count missing", strings.NewReader(report("<feedback>", "", "<record><row><source_ip>192.0.2.1</source_ip></row></record>")), ErrInvalid, "record 1: no count"},
		{"invalid source_ip", strings.NewReader(report("<feedback>", "", row("192.0.2.300", "1"))), ErrInvalid, `source_ip "192.0.2.300" is not an IP address`},
		// Bytes that are not text are summarised, not shown as U+FFFD.
		{"binary source_ip", strings.NewReader(report("<feedback>", "", row("\x80\x81\x82\x83", "1"))), ErrInvalid, "record 1: source_ip binary data (12 bytes) is not an IP address"},
		{"binary before the root", strings.NewReader("<?xml version='1.0'?>\x01\x02\x03" + report("<feedback>", "", okRecord)), ErrNotAggregate, "not XML: text binary data (9 bytes) before the first element"},
		{"no source_ip", strings.NewReader(report("<feedback>", "", "<record><row><count>1</count></row></record>")), ErrInvalid, "record 1: no source_ip"},
		{"unknown encoding", strings.NewReader(`<?xml version="1.0" encoding="x-klingon"?>` + report("<feedback>", "", okRecord)), ErrInvalid, "unknown encoding"},
		{"deeply nested", strings.NewReader(deepXML(100)), ErrInvalid, "nested deeper than 32"},
		{"deeply nested, a million", strings.NewReader(deepXML(1_000_000)), ErrInvalid, "nested deeper than 32"},
		{"enormous", &endless{head: []byte(strings.TrimSuffix(report("<feedback>", "", ""), "</feedback>")), rec: []byte(okRecord)}, ErrTooLarge, "larger than 32 MB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAggregate(tt.r)
			if err == nil {
				t.Fatalf("no error; got %+v", a)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q; want %v containing %q", err, tt.is, tt.msg)
			}
		})
	}
}

func FuzzParseAggregate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpus, "aggregate", "*.xml*"))
	for _, name := range files {
		f.Add(readCorpus(f, filepath.Join("aggregate", filepath.Base(name))))
	}
	f.Add([]byte(report("<feedback>", "", okRecord)))
	f.Add([]byte(deepXML(40)))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAggregate(bytes.NewReader(data))
		if err != nil {
			if a != nil {
				t.Fatal("a report and an error")
			}
			return
		}
		// What is accepted keeps the rules.
		if a.ReportID == "" || a.Org == "" || a.End.Before(a.Begin) {
			t.Fatalf("accepted a report that breaks a rule: %+v", a)
		}
		for _, r := range a.Records {
			if r.Count < 0 || !r.SourceIP.IsValid() {
				t.Fatalf("accepted a bad record: %+v", r)
			}
		}
	})
}

// benchReport builds a realistic report of n records.
func benchReport(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>
    <report_id>10639531271937617453</report_id>
    <date_range><begin>1700006400</begin><end>1700092799</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>quarantine</p><sp>quarantine</sp><pct>100</pct><np>quarantine</np>
  </policy_published>
`)
	for i := range n {
		fmt.Fprintf(&b, `  <record>
    <row>
      <source_ip>209.85.%d.%d</source_ip>
      <count>%d</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>example.com</header_from></identifiers>
    <auth_results>
      <dkim><domain>example.com</domain><result>pass</result><selector>google</selector></dkim>
      <spf><domain>example.com</domain><result>pass</result></spf>
    </auth_results>
  </record>
`, i/256%256, i%256, i%17+1)
	}
	b.WriteString("</feedback>\n")
	return []byte(b.String())
}

func BenchmarkParseAggregate(b *testing.B) {
	for _, n := range []int{10, 1000} {
		data := benchReport(n)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseAggregate(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzScanAggregate: what the fast path accepts, encoding/xml accepts
// too, with the same result.
func FuzzScanAggregate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpus, "aggregate", "*.xml*"))
	for _, name := range files {
		f.Add(readCorpus(f, filepath.Join("aggregate", filepath.Base(name))))
	}
	f.Add([]byte(report(`<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><!-- c --><?pi x?>`, "", okRecord+"<record/>")))
	f.Add([]byte(strings.NewReplacer("<feedback", "<d:feedback", "</feedback", "</d:feedback").
		Replace(report(`<feedback xmlns:d='urn:ietf:params:xml:ns:dmarc-2.0'>`, "", strings.ReplaceAll(okRecord, "example.com", "a&amp;b&#x41;&#66;\r\nc")))))
	f.Fuzz(func(t *testing.T, data []byte) {
		data, _, err := sanitize(data)
		if err != nil {
			return
		}
		fast, err := scanAggregate(data)
		if err != nil {
			return
		}
		slow, err := decodeAggregate(data, true)
		if err != nil {
			t.Fatalf("the fast path accepts what encoding/xml refuses (%v)", err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast path\n%+v\nencoding/xml\n%+v", fast, slow)
		}
	})
}

// TestAggregateMaxCount checks that counts up to MaxCount are read and
// sum without overflow, and that Messages saturates on counts no parsed
// report has.
func TestAggregateMaxCount(t *testing.T) {
	row := "<record><row><source_ip>192.0.2.1</source_ip><count>1099511627776</count></row></record>"
	a, err := ParseAggregate(strings.NewReader(report("<feedback>", "", row+row)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Messages(), int64(2*MaxCount); got != want {
		t.Errorf("Messages() = %d; want %d", got, want)
	}
	huge := &Aggregate{Records: []Record{{Count: 1<<63 - 1000}, {Count: 1<<63 - 1000}}}
	if got := huge.Messages(); got != 1<<63-1 {
		t.Errorf("Messages() of two near-max counts = %d; want math.MaxInt64", got)
	}
}

// TestAggregateGarbageCheap: garbage the size of the cap is refused on its
// first bytes, without being read whole or copied.
func TestAggregateGarbageCheap(t *testing.T) {
	const size = MaxAggregateSize - 1
	zeros := make([]byte, size)
	lt := append([]byte("<"), zeros[1:]...)
	for _, tt := range []struct {
		name  string
		parse func() error
	}{
		{"reader of zeros", func() error { _, err := ParseAggregate(io.LimitReader(zeroReader{}, size)); return err }},
		{"zeros", func() error { _, err := ParseAggregateBytes(zeros); return err }},
		{"< and zeros", func() error { _, err := ParseAggregateBytes(lt); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tt.parse()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrNotAggregate) {
				t.Errorf("error %v; want ErrNotAggregate", err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("%d MB allocated to refuse %d MB of garbage", n>>20, size>>20)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// utf16LE and utf16BE encode s in UTF-16 with its byte order mark.
func utf16LE(s string) string { return utf16Of(s, unicode.LittleEndian) }
func utf16BE(s string) string { return utf16Of(s, unicode.BigEndian) }

func utf16Of(s string, order unicode.Endianness) string {
	out, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return out
}
