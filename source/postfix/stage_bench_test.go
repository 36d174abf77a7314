package postfix

import (
	"bytes"
	"hash/maphash"
	"sync"
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/provider"
	"github.com/mailtriage/mailtriage/samplelog"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// The stage benchmarks time the two halves of Read apart, on the
// incident sample at twice its volume: BenchmarkParseChunks the workers'
// (parse, decode, classify a MiB of lines), BenchmarkTrack the tracker's
// (follow the parsed lines in order). Read runs them at once, the first
// on every core but one's share, so each bounds the whole.

var benchLog = sync.OnceValues(func() ([]byte, error) {
	cfg := samplelog.Default()
	cfg.Scale = 2
	var b bytes.Buffer
	err := samplelog.Generate(&b, cfg)
	return b.Bytes(), err
})

// benchChunks cuts the log into chunks as byteSplitter does.
func benchChunks(b *testing.B) []*chunk {
	data, err := benchLog()
	if err != nil {
		b.Fatal(err)
	}
	s := &byteSplitter{data: data}
	var cs []*chunk
	for {
		c := &chunk{
			clock:   &syslogstamp.Clock{Year: 2026},
			lines:   make([]line, 0, linesPerChunk),
			reports: make([]*decoded, 0, reportsPerChunk),
			decodes: make([]decoded, 0, reportsPerChunk),
		}
		end, _ := s.fill(c)
		cs = append(cs, c)
		if end {
			return cs
		}
	}
}

func benchClassifier(b *testing.B) func() Classifier {
	cat, err := provider.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	cl, err := classify.New(cat, nil)
	if err != nil {
		b.Fatal(err)
	}
	return func() Classifier { return classify.NewCache(cl, 1<<16) }
}

func BenchmarkParseChunks(b *testing.B) {
	cs := benchChunks(b)
	newCl := benchClassifier(b)
	var n int64
	for _, c := range cs {
		n += int64(len(c.buf))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		w := newWorker(newCl(), maphash.MakeSeed())
		for _, c := range cs {
			c.lines, c.reports, c.decodes, c.stats = c.lines[:0], c.reports[:0], c.decodes[:0], Stats{}
			parseChunk(c, w, 0, 64<<10)
		}
	}
}

func BenchmarkTrack(b *testing.B) {
	cs := benchChunks(b)
	newCl := benchClassifier(b)
	var n int64
	seed := maphash.MakeSeed()
	w := newWorker(newCl(), seed)
	for _, c := range cs {
		n += int64(len(c.buf))
		parseChunk(c, w, 0, 64<<10)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	lanes := fixedLanes{"icloud.com": "apple", "gmail.com": "google", "yahoo.com": "yahoo", "outlook.com": "microsoft", "hotmail.com": "microsoft"}
	for b.Loop() {
		t := NewTracker(lanes, nil, func(*mailtriage.Event) {})
		t.seed = seed
		var e entry
		for _, c := range cs {
			for i := range c.lines {
				t.prefetch(c.lines, i) // as Read's tracking loop does
				c.entry(i, &e)
				t.add(&e)
			}
		}
	}
}

func BenchmarkLineKinds(b *testing.B) {
	newCl := benchClassifier(b)
	for _, tc := range []struct{ name, line string }{
		{"removed", "2026-11-26T06:42:16.263879+00:00 mta1 postfix/qmgr[6293]: AD6BC7FC48: removed"},
		{"active", "2026-11-26T06:42:16.257879+00:00 mta1 postfix/qmgr[6293]: AE09FF75F9: from=<noreply@shop.example.net>, size=25287, nrcpt=1 (queue active)"},
		{"connect", "2026-11-26T06:42:30.379442+00:00 mta1 postfix/smtpd[50691]: connect from app1.shop.example.net[198.51.100.10]"},
		{"disconnect", "2026-11-26T06:42:30.419442+00:00 mta1 postfix/smtpd[50691]: disconnect from app1.shop.example.net[198.51.100.10] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8"},
		{"client", "2026-11-26T06:42:30.381442+00:00 mta1 postfix/smtpd[50691]: AEA836EFAA: client=app1.shop.example.net[198.51.100.10], sasl_method=PLAIN, sasl_username=app"},
		{"msgid", "2026-11-26T06:42:30.388442+00:00 mta1 postfix/cleanup[3161]: AEA836EFAA: message-id=<20261126064230.AEA836EFAA@shop.example.net>"},
		{"hop", "2026-11-26T06:42:16.261879+00:00 mta1 postfix/amavis/smtp[47409]: AD6BC7FC48: to=<nora4609@gmail.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=1.5, delays=0.97/0/0.46/0.07, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as AE09FF75F9)"},
		{"sent", "2026-11-26T06:42:16.453232+00:00 mta1 postfix/smtp[7164]: AE09FF75F9: to=<nora4609@gmail.com>, relay=alt1.gmail-smtp-in.l.google.com[142.250.153.27]:25, delay=0.20, delays=0/0/0.67/0.16, dsn=2.0.0, status=sent (250 2.0.0 OK  1795675336 a663543si2821411qkb.12 - gsmtp)"},
		{"deferred", "2026-11-26T06:42:16.453232+00:00 mta1 postfix/smtp[7164]: AE09FF75F9: to=<jane@icloud.com>, relay=mx02.mail.icloud.com[17.57.155.9]:25, delay=1.9, delays=0.04/0.01/0.9/0.95, dsn=4.7.0, status=deferred (host mx02.mail.icloud.com[17.57.155.9] said: 421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred. (in reply to MAIL FROM command))"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var buf []byte
			for len(buf) < chunkSize-1024 {
				buf = append(append(buf, tc.line...), '\n')
			}
			c := &chunk{buf: buf, clock: &syslogstamp.Clock{Year: 2026}, lines: make([]line, 0, 16384), reports: make([]*decoded, 0, 16384), decodes: make([]decoded, 0, 16384)}
			n := bytes.Count(buf, []byte("\n"))
			w := newWorker(newCl(), maphash.MakeSeed())
			b.ResetTimer()
			for b.Loop() {
				c.lines, c.reports, c.decodes, c.stats = c.lines[:0], c.reports[:0], c.decodes[:0], Stats{}
				parseChunk(c, w, 0, 64<<10)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
		})
	}
}
