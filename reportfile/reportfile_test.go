package reportfile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/internal/dmarcgen"
	"golang.org/x/text/encoding/unicode"
)

// corpus is parsedmarc's samples (Apache-2.0): ../testdata/dmarc-reports/README.md.
const corpus = "../testdata/dmarc-reports"

// summary says what an item is, in a line a test can compare.
func summary(it Item) string {
	switch {
	case it.Aggregate != nil:
		a := it.Aggregate
		r := a.Records[0]
		return fmt.Sprintf("aggregate org=%s id=%s domain=%s records=%d messages=%d first=%s/%s/%s/%s",
			a.Org, a.ReportID, a.Policy.Domain, len(a.Records), a.Messages(), r.SourceIP, r.Disposition, r.DKIM, r.SPF)
	case it.Failure != nil:
		f := it.Failure
		return fmt.Sprintf("failure ip=%s auth-failure=%s domain=%s from=%s", f.SourceIP, strings.Join(f.AuthFailure, ","), f.ReportedDomain, f.From)
	case it.TLS != nil:
		var b strings.Builder
		fmt.Fprintf(&b, "tls org=%s id=%s", it.TLS.Org, it.TLS.ReportID)
		for _, p := range it.TLS.Policies {
			fmt.Fprintf(&b, " policy=%s/%s/%d/%d", p.Type, p.Domain, p.Success, p.Failure)
		}
		return b.String()
	}
	return "empty item"
}

// collect runs a walk and returns what it found and what it could not
// read, one line each, sources relative to base.
func collect(t *testing.T, w *Walker, base string, paths ...string) (found, bad []string) {
	t.Helper()
	err := w.Walk(context.Background(), paths, func(it Item) error {
		found = append(found, rel(base, it.Source)+" "+summary(it))
		return nil
	}, func(name string, err error) {
		bad = append(bad, rel(base, name)+": "+err.Error())
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, bad
}

func rel(base, name string) string {
	if r, err := filepath.Rel(base, name); err == nil && base != "" {
		return filepath.ToSlash(r)
	}
	return name
}

// TestWalkCorpus reads every file of the corpus, through the folder walk.
func TestWalkCorpus(t *testing.T) {
	found, bad := collect(t, &Walker{Workers: 4}, corpus, corpus)
	want := []string{
		"aggregate/!example.com!1538204542!1538463818.xml aggregate org=accurateplastics.com id=example.com:1538463741 domain=example.com records=1 messages=1 first=12.20.127.122/none/fail/fail",
		"aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml aggregate org=addisonfoods.com id=3ceb5548498640beaeb47327e202b0b9 domain=example.com records=1 messages=1 first=109.203.100.17/none/fail/fail",
		"aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz aggregate org=FastMail Pty Ltd id=102675056 domain=indemed.com records=1 messages=1 first=104.195.80.20/none/fail/fail",
		"aggregate/ikea.com!example.de!1538690400!1538776800.xml aggregate org=ikea.com id=aggr_report_2018_10_05_5bc7e9b4f3e8a domain=example.de records=1 messages=1 first=234.234.234.234/none/fail/fail",
		"aggregate/invalid_utf_8.xml aggregate org=accurateplastics.com id=example.com:1538463741 domain=example.com records=1 messages=1 first=12.20.127.122/none/fail/fail",
		"aggregate/invalid_xml.xml aggregate org=veeam.com id=sonexushealth.com:1530233361 domain=example.com records=1 messages=1 first=199.230.200.36/none/fail/fail",
		"aggregate/old_draft_from_wiki.xml aggregate org=acme.com id=9391651994964116463 domain=example.com records=1 messages=2 first=72.150.241.94/none/fail/pass",
		"aggregate/rfc9990-sample.xml aggregate org=Sample Reporter id=3v98abbp8ya9n3va8yr8oa3ya domain=example.com records=1 messages=123 first=192.0.2.123/pass/pass/fail",
		// An e-mail with a zipped report, base64.
		"aggregate/twilight.eml!google.com!twlnet.com!1549756800!1549843199.zip!google.com!twlnet.com!1549756800!1549843199.xml aggregate org=google.com id=1627703331531660819 domain=twlnet.com records=1 messages=1 first=87.106.127.28/none/pass/pass",
		"aggregate/usssa.com!example.com!1538784000!1538870399.xml aggregate org=usssa.com id=8953b4d4a4ee4218b6ac0e2cb2667ee1 domain=example.com records=2 messages=2 first=12.20.127.40/none/fail/fail",
		"failure/[Netease DMARC Failure Report] Rent Reminder.eml failure ip=167.89.69.24 auth-failure= domain=cardinal.com from=info@cardinal.com",
		"failure/dmarc_ruf_report_linkedin.eml#1 failure ip=10.10.10.10 auth-failure=dmarc domain=example.com from=sender@example.com",
		"smtp-tls/google.com_smtp_tls_report.eml!google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz tls org=Google Inc. id=2024-09-03T00:00:00Z_cardinalhealth.ca policy=no-policy-found/cardinalhealth.ca/48/0",
		"smtp-tls/rfc8460.json tls org=Company-X id=5065427c-23d3-47ca-b6e0-946ea0e8c4be policy=sts/company-y.example/5326/303",
	}
	if !slices.Equal(found, want) {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(found, "\n"), strings.Join(want, "\n"))
	}
	// The licence and the README are not reports.
	if len(bad) != 2 || !strings.HasPrefix(bad[0], "LICENSE: reportfile: not a report") || !strings.HasPrefix(bad[1], "README.md: reportfile: not a report") {
		t.Errorf("bad: %q", bad)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

type member struct {
	name string
	data []byte
}

func zipOf(members ...member) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, _ := zw.Create(m.name)
		w.Write(m.data)
	}
	zw.Close()
	return buf.Bytes()
}

// zeros writes prefix and n zero bytes to w, a MB at a time.
func zeros(w io.Writer, prefix string, n int) {
	io.WriteString(w, prefix)
	mb := make([]byte, 1<<20)
	for i := 0; i < n; i += len(mb) {
		w.Write(mb)
	}
}

// gzipBomb is a small gzip file that inflates to n bytes.
func gzipBomb(prefix string, n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zeros(zw, prefix, n)
	zw.Close()
	return buf.Bytes()
}

// zipBomb is a small zip file whose member inflates to n bytes, and says so.
func zipBomb(prefix string, n int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, _ := zw.Create("r.xml")
	zeros(w, prefix, n)
	zw.Close()
	return buf.Bytes()
}

// lyingZip is a zip whose one member says it inflates to 10 bytes and
// inflates to n, so only inflating can tell.
func lyingZip(prefix string, n int) []byte {
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	zeros(fw, prefix, n)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "report.xml", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte("x")),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: 10})
	w.Write(comp.Bytes())
	zw.Close()
	return buf.Bytes()
}

// aggregateXML is a small valid report; id names it.
func aggregateXML(id string, records ...string) []byte {
	if len(records) == 0 {
		records = []string{"<record><row><source_ip>192.0.2.1</source_ip><count>2</count><policy_evaluated><disposition>none</disposition>" +
			"<dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.com</header_from></identifiers></record>"}
	}
	return []byte(`<?xml version="1.0"?><feedback><report_metadata><org_name>example.net</org_name><report_id>` + id + `</report_id>` +
		`<date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>` +
		`<policy_published><domain>example.com</domain><p>none</p></policy_published>` + strings.Join(records, "") + `</feedback>`)
}

// reportMail is a message carrying one attachment, base64.
func reportMail(subject, ctype, filename string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: noreply-dmarc-support@google.com\r\nTo: dmarc@example.com\r\nSubject: %s\r\nMIME-Version: 1.0\r\n", subject)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nA report.\r\n--b1\r\n")
	fmt.Fprintf(&b, "Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", ctype, filename, filename)
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return b.Bytes()
}

// read runs Read on one input and returns what it found and could not read.
func read(t *testing.T, name string, data []byte) (found, bad []string) {
	t.Helper()
	err := Read(name, data, func(it Item) error {
		found = append(found, it.Source+" "+summary(it))
		return nil
	}, func(n string, err error) {
		bad = append(bad, n+": "+err.Error())
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, bad
}

// TestReadShapes reads the containers reporters send.
func TestReadShapes(t *testing.T) {
	one := aggregateXML("r1")
	x := " aggregate org=example.net id=%s domain=example.com records=1 messages=2 first=192.0.2.1/none/pass/pass"
	var twoMembers bytes.Buffer
	twoMembers.Write(gz(one[:100]))
	twoMembers.Write(gz(one[100:]))
	for _, tt := range []struct {
		name string
		data []byte
		want []string
	}{
		{"report.xml", one, []string{"report.xml" + fmt.Sprintf(x, "r1")}},
		// Any name: the content says what it is.
		{"report.bin", gz(one), []string{"report.bin" + fmt.Sprintf(x, "r1")}},
		// RFC 1952 §2.2: members concatenated are one stream.
		{"two-members.xml.gz", twoMembers.Bytes(), []string{"two-members.xml.gz" + fmt.Sprintf(x, "r1")}},
		// Garbage after a complete member is ignored.
		{"trailing.xml.gz", append(gz(one), "\x00\x00\x00\x00garbage"...), []string{"trailing.xml.gz" + fmt.Sprintf(x, "r1")}},
		// One item per member of a zip.
		{"many.zip", zipOf(member{"a.xml", aggregateXML("a")}, member{"dir/", nil}, member{"b.xml.gz", gz(aggregateXML("b"))}),
			[]string{"many.zip!a.xml" + fmt.Sprintf(x, "a"), "many.zip!b.xml.gz" + fmt.Sprintf(x, "b")}},
		// An e-mail with a zipped report.
		{"zipped.eml", reportMail("Report domain: example.com", "application/zip", "google.com!example.com!1700000000!1700086399.zip",
			zipOf(member{"google.com!example.com!1700000000!1700086399.xml", aggregateXML("z")})),
			[]string{"zipped.eml!google.com!example.com!1700000000!1700086399.zip!google.com!example.com!1700000000!1700086399.xml" + fmt.Sprintf(x, "z")}},
		// application/octet-stream with a file name; gzip inside.
		{"octet.eml", reportMail("Report", "application/octet-stream", "r.xml.gz", gz(aggregateXML("o"))),
			[]string{"octet.eml!r.xml.gz" + fmt.Sprintf(x, "o")}},
		// Unnamed, untyped: the content says it is gzip.
		{"unnamed.eml", reportMail("Report", "application/octet-stream", "", gz(aggregateXML("u"))),
			[]string{"unnamed.eml!part2" + fmt.Sprintf(x, "u")}},
		// RFC 8460 §5.3: application/tlsrpt+gzip and +json.
		{"tls.eml", reportMail("Report", "application/tlsrpt+json", "r.json", []byte(tlsJSON)),
			[]string{"tls.eml!r.json tls org=Example id=t1 policy=sts/example.com/10/1"}},
		// XML 1.0 §4.3.3: UTF-16 with its byte order mark is XML too.
		{"utf16.xml.gz", gz(utf16LE(aggregateXML("w"))), []string{"utf16.xml.gz" + fmt.Sprintf(x, "w")}},
		// A report forwarded as an attachment.
		{"forwarded.eml", append([]byte("From: me@example.com\r\nSubject: Fwd\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"+
			"Content-Type: message/rfc822\r\n\r\n"), append(reportMail("Report", "application/gzip", "r.xml.gz", gz(aggregateXML("f"))), "\r\n--o--\r\n"...)...),
			[]string{"forwarded.eml!part1!r.xml.gz" + fmt.Sprintf(x, "f")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			found, bad := read(t, tt.name, tt.data)
			if len(bad) > 0 {
				t.Errorf("bad: %q", bad)
			}
			if !slices.Equal(found, tt.want) {
				t.Errorf("found:\n%s\nwant:\n%s", strings.Join(found, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

const tlsJSON = `{"organization-name": "Example", "date-range": {"start-datetime": "2024-01-01T00:00:00Z", "end-datetime": "2024-01-01T23:59:59Z"},
	"report-id": "t1", "policies": [{"policy": {"policy-type": "sts", "policy-domain": "example.com"},
	"summary": {"total-successful-session-count": 10, "total-failure-session-count": 1}}]}`

// TestReadBad: the bad inputs of issue 7, each refused with a message
// naming the input and what is wrong.
func TestReadBad(t *testing.T) {
	truncated := gz(aggregateXML("t"))
	truncated = truncated[:len(truncated)-12]
	enormous := append(aggregateXML("e")[:200], bytes.Repeat([]byte("<x>y</x>"), MaxInput/8+1)...)
	for _, tt := range []struct {
		name string
		data []byte
		bad  string // the name reported and the start of the reason
		is   error
	}{
		{"bomb.xml.gz", gzipBomb("<feedback>", MaxDecompressed+1<<20), "bomb.xml.gz: reportfile: too large: inflates to more than 32 MB", ErrTooLarge},
		{"bomb.zip", zipBomb("<feedback>", MaxDecompressed+1<<20), "bomb.zip!r.xml: reportfile: too large: zip member declares 33 MB, more than 32 MB", ErrTooLarge},
		{"lying.zip", lyingZip("<feedback>", MaxDecompressed+1<<20), "lying.zip!report.xml: reportfile: too large: inflates to more than 32 MB", ErrTooLarge},
		// Zeros are refused on their first bytes, not read to the cap.
		{"zeros.xml.gz", gzipBomb("", MaxDecompressed+1<<20), "zeros.xml.gz: reportfile: not a report: inflates to data that is neither XML, JSON, gzip, zip nor a mail message (it begins with binary data)", ErrNotReport},
		{"zeros.zip", lyingZip("", MaxDecompressed+1<<20), "zeros.zip!report.xml: reportfile: not a report: inflates to data that is neither", ErrNotReport},
		{"spaces.xml.gz", gz(bytes.Repeat([]byte(" "), 10000)), "spaces.xml.gz: reportfile: not a report: inflates to 4096 bytes of white space", ErrNotReport},
		{"empty.xml.gz", gz(nil), "empty.xml.gz: reportfile: not a report: empty file", ErrNotReport},
		{"empty.xml", nil, "empty.xml: reportfile: not a report: empty file", ErrNotReport},
		{"truncated.xml.gz", truncated, "truncated.xml.gz: gzip: truncated", io.ErrUnexpectedEOF},
		{"corrupt.zip", []byte("PK\x03\x04 not really"), "corrupt.zip: zip: not a valid zip file", zip.ErrFormat},
		{"corrupt.xml.gz", []byte("\x1f\x8b\x09garbage"), "corrupt.xml.gz: gzip: invalid header", gzip.ErrHeader},
		{"nested.xml", aggregateXML("n", "<record>"+strings.Repeat("<x>", 50)+strings.Repeat("</x>", 50)+"</record>"), "nested.xml: dmarcreport: invalid report: elements nested deeper than 32", dmarcreport.ErrInvalid},
		{"enormous.xml", enormous, "enormous.xml: dmarcreport: too large: the report is larger than 32 MB", dmarcreport.ErrTooLarge},
		{"reversed.xml", bytes.Replace(aggregateXML("r"), []byte("<begin>1700000000</begin><end>1700086399</end>"), []byte("<begin>1700086399</begin><end>1700000000</end>"), 1),
			"reversed.xml: dmarcreport: invalid report: the date range is reversed", dmarcreport.ErrInvalid},
		{"minus.xml", bytes.Replace(aggregateXML("m"), []byte("<count>2</count>"), []byte("<count>-1</count>"), 1), "minus.xml: dmarcreport: invalid report: record 1: count -1 is negative", dmarcreport.ErrInvalid},
		{"notxml.xml", []byte("This is not XML at all.\n"), `notxml.xml: reportfile: not a report: neither XML, JSON, gzip, zip nor a mail message (it begins with "This is not XML "...)`, ErrNotReport},
		{"random.bin", []byte("\x00\x01\x02\x03"), "random.bin: reportfile: not a report: neither XML, JSON, gzip, zip nor a mail message (it begins with binary data)", ErrNotReport},
		{"broken.eml", []byte("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"gone\"\r\n\r\n--other\r\nContent-Type: application/gzip\r\n\r\nxx\r\n"),
			`broken.eml: dmarcreport: broken MIME tree: no part delimited by the boundary "gone"`, dmarcreport.ErrBrokenMIME},
		{"ordinary.eml", []byte("From: a@example.com\r\nSubject: lunch?\r\n\r\nAt noon.\r\n"), "ordinary.eml: reportfile: not a report: the message has no report attached (parts: text/plain)", ErrNotReport},
		{"bad-attachment.eml", reportMail("Report", "application/gzip", "r.xml.gz", []byte("not gzip")), "bad-attachment.eml!r.xml.gz: reportfile: not a report", ErrNotReport},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errs []error
			var bad []string
			err := Read(tt.name, tt.data, func(it Item) error {
				t.Errorf("found %s", summary(it))
				return nil
			}, func(n string, err error) {
				bad = append(bad, n+": "+err.Error())
				errs = append(errs, err)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) != 1 || !strings.HasPrefix(bad[0], tt.bad) || !errors.Is(errs[0], tt.is) {
				t.Errorf("bad: %q (%v)\nwant one starting %q, is %v", bad, errs, tt.bad, tt.is)
			}
		})
	}
}

// mbox joins messages into an mbox (RFC 4155).
func mbox(msgs ...[]byte) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString("From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n")
		b.Write(bytes.ReplaceAll(m, []byte("\r\n"), []byte("\n")))
		b.WriteString("\n")
	}
	return b.Bytes()
}

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMbox: an mbox of several report messages gives one item per
// message, named file#n, in order; through Walk and Read alike.
func TestMbox(t *testing.T) {
	box := mbox(
		reportMail("Report 1", "application/gzip", "a.xml.gz", gz(aggregateXML("a"))),
		readCorpus(t, "failure/[Netease DMARC Failure Report] Rent Reminder.eml"),
		readCorpus(t, "smtp-tls/google.com_smtp_tls_report.eml"),
		[]byte("From: someone@example.com\nSubject: hi\n\nnot a report\n"),
		reportMail("Report 2", "application/zip", "b.zip", zipOf(member{"b.xml", aggregateXML("b")})),
	)
	want := []string{
		"box#1!a.xml.gz aggregate org=example.net id=a domain=example.com records=1 messages=2 first=192.0.2.1/none/pass/pass",
		"box#2 failure ip=167.89.69.24 auth-failure= domain=cardinal.com from=info@cardinal.com",
		"box#3!google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz tls org=Google Inc. id=2024-09-03T00:00:00Z_cardinalhealth.ca policy=no-policy-found/cardinalhealth.ca/48/0",
		"box#5!b.zip!b.xml aggregate org=example.net id=b domain=example.com records=1 messages=2 first=192.0.2.1/none/pass/pass",
	}
	found, bad := read(t, "box", box)
	if !slices.Equal(found, want) || len(bad) != 1 || !strings.HasPrefix(bad[0], "box#4: reportfile: not a report") {
		t.Errorf("Read:\nfound %s\nbad %q", strings.Join(found, "\n"), bad)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "box"), box, 0o644); err != nil {
		t.Fatal(err)
	}
	found, bad = collect(t, &Walker{Workers: 2}, dir, filepath.Join(dir, "box"))
	if !slices.Equal(found, want) || len(bad) != 1 {
		t.Errorf("Walk:\nfound %s\nbad %q", strings.Join(found, "\n"), bad)
	}
}

// TestWalkOrder: many files parsed by several workers come out in input
// order: folders in name order, paths in the order given.
func TestWalkOrder(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 150 {
		id := fmt.Sprintf("r%03d", i)
		var data []byte
		switch i % 3 {
		case 0:
			data = aggregateXML(id)
		case 1:
			data = gz(aggregateXML(id))
		default:
			// A larger report, slower to parse, to shuffle the finishing order.
			recs := slices.Repeat([]string{"<record><row><source_ip>192.0.2.1</source_ip><count>2</count></row></record>"}, 300)
			data = aggregateXML(id, recs...)
		}
		if err := os.WriteFile(filepath.Join(dir, id), data, 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, id+" "+id)
	}
	// A Maildir: cur and new are read, tmp is not.
	md := filepath.Join(dir, "zz-maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(md, sub), 0o755)
		os.WriteFile(filepath.Join(md, sub, "1700000000.1.host"), reportMail("R", "application/gzip", "r.xml.gz", gz(aggregateXML(sub))), 0o644)
	}
	want = append(want, "zz-maildir/cur/1700000000.1.host!r.xml.gz cur", "zz-maildir/new/1700000000.1.host!r.xml.gz new", "r005 r005")
	for _, workers := range []int{1, 4} {
		var got []string
		progress := 0
		w := &Walker{Workers: workers, Progress: func(n int) { progress = n }}
		err := w.Walk(context.Background(), []string{dir, filepath.Join(dir, "r005")}, func(it Item) error {
			got = append(got, rel(dir, it.Source)+" "+it.Aggregate.ReportID)
			return nil
		}, func(name string, err error) { t.Errorf("bad %s: %v", name, err) })
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("workers=%d: got\n%s\nwant\n%s", workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if progress != len(want) {
			t.Errorf("workers=%d: progress %d, want %d", workers, progress, len(want))
		}
	}
}

// TestWalkStops: an error from found stops the walk and comes back; a
// missing path is reported and the rest read; standard input is "-".
func TestWalkStops(t *testing.T) {
	dir := t.TempDir()
	for i := range 100 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%03d.xml", i)), aggregateXML(fmt.Sprint(i)), 0o644)
	}
	stop := errors.New("enough")
	n := 0
	err := Walk(context.Background(), []string{dir}, func(Item) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	}, func(string, error) {})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("err %v after %d items", err, n)
	}

	var found, bad []string
	w := &Walker{Stdin: bytes.NewReader(gz(aggregateXML("stdin")))}
	err = w.Walk(context.Background(), []string{filepath.Join(dir, "missing"), "-"}, func(it Item) error {
		found = append(found, it.Source+" "+it.Aggregate.ReportID)
		return nil
	}, func(name string, err error) {
		bad = append(bad, rel(dir, name))
		if !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), dir) {
			t.Errorf("bad %s: %v", name, err)
		}
	})
	if err != nil || !slices.Equal(found, []string{"- stdin"}) || !slices.Equal(bad, []string{"missing"}) {
		t.Errorf("err %v, found %q, bad %q", err, found, bad)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Walk(ctx, []string{dir}, func(Item) error { return nil }, func(string, error) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{
		"aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz", "aggregate/twilight.eml",
		"aggregate/rfc9990-sample.xml", "failure/dmarc_ruf_report_linkedin.eml", "smtp-tls/google.com_smtp_tls_report.eml",
		"smtp-tls/rfc8460.json",
	} {
		if b, err := os.ReadFile(filepath.Join(corpus, name)); err == nil {
			f.Add(b)
		}
	}
	f.Add(zipOf(member{"a.xml", aggregateXML("a")}, member{"b.json", []byte(tlsJSON)}))
	f.Add(mbox(reportMail("R", "application/gzip", "r.xml.gz", gz(aggregateXML("m")))))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, bads := 0, 0
		err := Read("fuzz", data, func(it Item) error {
			items++
			kinds := 0
			for _, set := range []bool{it.Aggregate != nil, it.Failure != nil, it.TLS != nil} {
				if set {
					kinds++
				}
			}
			if kinds != 1 || it.Source == "" {
				t.Fatalf("malformed item %+v", it)
			}
			return nil
		}, func(name string, err error) {
			bads++
			if name == "" || err == nil {
				t.Fatalf("bad(%q, %v)", name, err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if items+bads == 0 {
			t.Fatal("an input neither found nor reported")
		}
	})
}

// BenchmarkWalk reads 1,000 generated reports (zip, gzip and XML; 1-40
// records each) from a folder, with the default workers.
func BenchmarkWalk(b *testing.B) {
	dir := b.TempDir()
	const n = 1000
	if err := dmarcgen.Write(dir, n, 1); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		found := 0
		err := Walk(context.Background(), []string{dir}, func(Item) error { found++; return nil },
			func(name string, err error) { b.Errorf("%s: %v", name, err) })
		if err != nil || found != n {
			b.Fatalf("%d reports, %v", found, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "reports/s")
}

// rawZip is a zip of n members that share one deflated body, comp, each
// declaring size bytes inflated: a large archive that costs little to make.
func rawZip(n int, comp []byte, size uint64) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("m%02d.xml", i+1), Method: zip.Deflate,
			CompressedSize64: uint64(len(comp)), UncompressedSize64: size})
		w.Write(comp)
	}
	zw.Close()
	return buf.Bytes()
}

func deflated(prefix string, n int) []byte {
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	zeros(fw, prefix, n)
	fw.Close()
	return comp.Bytes()
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBudget: once the members of one input have inflated to MaxInflated,
// the rest is not read, and one error says so for the input.
func TestBudget(t *testing.T) {
	const size = 20 << 20
	data := rawZip(8, deflated("<feedback>", size-10), size)
	var bad []string
	var last error
	n := allocated(func() {
		err := Read("big.zip", data, func(it Item) error {
			t.Errorf("found %s", summary(it))
			return nil
		}, func(name string, err error) {
			bad = append(bad, name+": "+err.Error())
			last = err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	want := []string{
		"big.zip!m01.xml: dmarcreport: not an aggregate report: binary data, not text",
		"big.zip!m02.xml: dmarcreport: not an aggregate report: binary data, not text",
		"big.zip!m03.xml: dmarcreport: not an aggregate report: binary data, not text",
		"big.zip: reportfile: too large: the archives of this input inflate to more than 64 MB together; not read from big.zip!m04.xml on",
	}
	if len(bad) != len(want) {
		t.Fatalf("bad:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(bad[i], want[i]) {
			t.Errorf("bad[%d] = %q; want it to start %q", i, bad[i], want[i])
		}
	}
	if !errors.Is(last, ErrTooLarge) {
		t.Errorf("the last error %v is not ErrTooLarge", last)
	}
	// Each member read is one buffer of its size; nothing is copied.
	if n > MaxInflated+MaxInflated/2 && !raceEnabled {
		t.Errorf("%d MB allocated to read %d MB", n>>20, MaxInflated>>20)
	}
	t.Logf("%d MB allocated", n>>20)
}

// TestGarbageCheap: the reviewer's inputs, three zips of 30 members of 60
// MB of zeros each and a file of 60 MB of NULs, are refused on their first
// bytes, in little memory, with one error per member or file.
func TestGarbageCheap(t *testing.T) {
	dir := t.TempDir()
	data := rawZip(30, deflated("", 60<<20), 1<<20) // members that declare 1 MB, so that only inflating can tell
	for _, name := range []string{"a.zip", "b.zip", "c.zip"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "nul.xml"), make([]byte, 60<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	var found, bad []string
	n := allocated(func() { found, bad = collect(t, &Walker{}, dir, dir) })
	if len(found) != 0 || len(bad) != 3*30+1 {
		t.Fatalf("found %d, bad %d:\n%s", len(found), len(bad), strings.Join(bad, "\n"))
	}
	for _, b := range bad {
		if !strings.Contains(b, "not a report") || !strings.Contains(b, "binary data") {
			t.Errorf("bad %q", b)
		}
	}
	// The zips are read whole (2 MB each); each member's first 4 KB and
	// the file's first 64 KB are.
	if n > 32<<20 {
		t.Errorf("%d MB allocated to refuse 5.4 GB of zeros", n>>20)
	}
	t.Logf("%d KB allocated", n>>10)
}

// TestWalkLinksAndEmpty: a symbolic link to a file is read as the file;
// one to a folder, a broken one and a folder with nothing to read are
// reported, not passed over in silence.
func TestWalkLinksAndEmpty(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	other := filepath.Join(dir, "other")
	empty := filepath.Join(dir, "empty")
	hidden := filepath.Join(dir, "hidden")
	for _, d := range []string{reports, other, empty, hidden} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Skipf("cannot make the files: %v", err)
		}
	}
	must(os.WriteFile(filepath.Join(other, "r.xml"), aggregateXML("linked"), 0o644))
	must(os.WriteFile(filepath.Join(hidden, ".r.xml"), aggregateXML("hidden"), 0o644))
	must(os.Symlink(filepath.Join(other, "r.xml"), filepath.Join(reports, "a-file")))
	must(os.Symlink(other, filepath.Join(reports, "b-folder")))
	must(os.Symlink(filepath.Join(dir, "gone.xml"), filepath.Join(reports, "c-broken")))

	found, bad := collect(t, &Walker{}, dir, reports, empty, hidden)
	if want := []string{"reports/a-file aggregate org=example.net id=linked"}; len(found) != 1 || !strings.HasPrefix(found[0], want[0]) {
		t.Errorf("found %q; want %q", found, want)
	}
	want := []string{
		"reports/b-folder: reportfile: not a report: a symbolic link to a folder, not followed",
		"reports/c-broken: symbolic link: stat: no such file or directory",
		"empty: reportfile: not a report: no files in the folder",
		"hidden: reportfile: not a report: no files in the folder",
	}
	if len(bad) != len(want) {
		t.Fatalf("bad:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(bad[i], want[i]) {
			t.Errorf("bad[%d] = %q; want it to start %q", i, bad[i], want[i])
		}
	}
}

// TestWalkWhiteSpace: files of white space are refused on their first
// bytes, saying what they hold.
func TestWalkWhiteSpace(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"a-short.xml": []byte(" \r\n"),
		"b-long.xml":  bytes.Repeat([]byte("\n"), 1<<20),
		"c-empty.xml": nil,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, bad := collect(t, &Walker{}, dir, dir)
	want := []string{
		"a-short.xml: reportfile: not a report: nothing but white space",
		"b-long.xml: reportfile: not a report: nothing but white space in its first 4 KB",
		"c-empty.xml: reportfile: not a report: empty file",
	}
	if !slices.Equal(bad, want) {
		t.Errorf("bad:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
}

// utf16LE encodes b in UTF-16, little-endian, with its byte order mark.
func utf16LE(b []byte) []byte {
	out, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(b)
	if err != nil {
		panic(err)
	}
	return out
}
