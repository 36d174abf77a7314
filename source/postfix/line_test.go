package postfix

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"reflect"
	"slices"
	"testing"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/postfixlog"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// TestEntrySetsEveryField: chunk.entry fills a reused entry field by
// field, so it must set every one; an entry full of another line's values
// comes out as a fresh one does.
func TestEntrySetsEveryField(t *testing.T) {
	c := &chunk{buf: []byte("2026-11-30T10:00:12+00:00 mta1 postfix/smtp[1]: 4F1A22C0B3: to=<jane@icloud.com>, relay=mx02.mail.icloud.com[17.57.155.9]:25, delay=1.9, delays=0/0/0.9/0.95, dsn=4.7.0, status=deferred (host mx02.mail.icloud.com[17.57.155.9] said: 421 4.7.0 Deferred (in reply to MAIL FROM command))\n")}
	c.clock = (&syslogstamp.Clock{Year: 2026}).Fixed()
	parseChunk(c, newWorker(nil, maphash.MakeSeed()), 0, 1<<16)
	if len(c.lines) != 1 {
		t.Fatalf("%d lines kept", len(c.lines))
	}
	var fresh entry
	c.entry(0, &fresh)

	// Every field of the reused entry holds something else first.
	var reused entry
	v := reflect.ValueOf(&reused).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // unexported
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(!reflect.ValueOf(fresh).Field(i).Bool())
		case reflect.Uint8, reflect.Uint64:
			f.SetUint(99)
		case reflect.Int, reflect.Int64:
			f.SetInt(99)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]byte("stale")))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(fresh.time.Add(99)))
		default:
			t.Fatalf("field %s: no stale value for kind %s", v.Type().Field(i).Name, f.Kind())
		}
	}
	c.entry(0, &reused)
	if !reflect.DeepEqual(fresh, reused) {
		t.Errorf("a field keeps its stale value:\nfresh  %+v\nreused %+v", fresh, reused)
	}
}

// codeKind names a reply by its codes and kind, judging each by itself.
type codeKind struct{}

func (codeKind) Classify(d smtpreply.Detail) mailtriage.Verdict {
	return mailtriage.Verdict{Rule: fmt.Sprintf("%d/%s/%s", d.Reply.Code, d.Reply.Enhanced, d.Kind)}
}

// TestAcceptanceVerdicts: a worker judges a server's acceptances once
// only for a classifier that judges them by the server alone, a
// classify.Cache, and then where the cache would: another classifier
// judges every acceptance, and a cache tells a 2xx of another kind than a
// bare reply from the acceptances.
func TestAcceptanceVerdicts(t *testing.T) {
	const head = "2026-11-30T10:00:12+00:00 mta1 postfix/smtp[1]: 4F1A22C0B3: to=<jane@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0/1, "
	log := []byte(head + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 5A2B33D1C4)\n" +
		head + "dsn=2.0.0, status=sent (250 Ok)\n" +
		// A mangled report: the server's name lost, a 2xx of its greeting.
		head + "dsn=4.0.0, status=deferred (connect to : server refused to talk to me: 220 hello)\n")
	rules, err := classify.ParseRules("test.toml", []byte(`
[[rule]]
id = "greeting"
reply_class = [2]
kinds = ["refused"]
reason = "undefined"
category = "other"
owner = "esp"
action = "Test."
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := classify.New(nil, rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cl   Classifier
		want []string
	}{
		{"codes", codeKind{}, []string{"250/2.0.0/reply", "250//reply", "220//refused"}},
		{"cache", classify.NewCache(cl, 100), []string{"success", "success", "greeting"}},
	} {
		c := &chunk{buf: log, clock: (&syslogstamp.Clock{Year: 2026}).Fixed()}
		parseChunk(c, newWorker(tc.cl, maphash.MakeSeed()), 0, 1<<16)
		var got []string
		for _, l := range c.lines {
			got = append(got, c.reports[l.detail].verdict.Rule)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: verdicts %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestKeyHashes: the workers hash a line's message key and Message-ID as
// the tracker does, with its seed, whatever host the line before named
// (the worker keeps the last host's hash), an empty host included.
func TestKeyHashes(t *testing.T) {
	tr := NewTracker(nil, nil, func(*mailtriage.Event) {})
	w := newWorker(nil, tr.seed)
	for _, host := range []string{"", "mta1", "mta1", "mta2", "", "", "mta1"} {
		qid := []byte("4F1A22C0B3")
		if got, want := keyHash(w.seed, w.hostHash([]byte(host)), qid), tr.hash([]byte(host), qid); got != want {
			t.Errorf("host %q: the worker's hash %x, the tracker's %x", host, got, want)
		}
	}
	if w.hostHash(nil) != w.hostHash([]byte{}) {
		t.Error("a nil and an empty host hash apart")
	}

	c := &chunk{buf: []byte("" +
		"2026-11-30T10:00:12+00:00 mta1 postfix/cleanup[1]: 4F1A22C0B3: message-id=<a@example.com>\n" +
		"2026-11-30T10:00:12+00:00 mta2 postfix/cleanup[1]: 4F1A22C0B3: message-id=<b@example.com>\n" +
		"2026-11-30T10:00:13+00:00 mta2 postfix/qmgr[2]: 5A0B11D2C4: removed\n" +
		"2026-11-30T10:00:13+00:00 mta1 postfix/qmgr[2]: 5A0B11D2C4: removed\n")}
	c.clock = (&syslogstamp.Clock{Year: 2026}).Fixed()
	parseChunk(c, newWorker(nil, tr.seed), 0, 1<<16)
	if len(c.lines) != 4 {
		t.Fatalf("%d lines kept", len(c.lines))
	}
	var e entry
	for i := range c.lines {
		c.entry(i, &e)
		if want := tr.hash(e.host, e.qid); e.msg != want {
			t.Errorf("line %d (%s %s): key hash %x, the tracker's %x", i+1, e.host, e.qid, e.msg, want)
		}
		if e.kind == postfixlog.MessageID {
			if want := maphash.Bytes(tr.seed, e.id); e.idHash != want {
				t.Errorf("line %d: Message-ID hash %x, the tracker's %x", i+1, e.idHash, want)
			}
		}
	}
	if c.lines[0].msg == c.lines[1].msg || c.lines[2].msg == c.lines[3].msg {
		t.Error("one queue id on two hosts: one hash")
	}
}

// FuzzQueuedAs: the id after the last "queued as ", as a content filter
// quotes the reply of the MTA it handed the message to.
func FuzzQueuedAs(f *testing.F) {
	for _, s := range []string{
		"250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as AE09FF75F9",
		"250 2.0.0 Ok: queued as 4F1A22C0B3 (queued as 5A2B33D1C4)",
		"queued as queued as X", "queued as ", "250 Ok", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []byte
		if i := bytes.LastIndex([]byte(s), []byte("queued as ")); i >= 0 {
			want = leadingID([]byte(s)[i+len("queued as "):])
		}
		if got := queuedAs([]byte(s)); !bytes.Equal(got, want) {
			t.Errorf("queuedAs(%q) = %q, want %q", s, got, want)
		}
	})
}
