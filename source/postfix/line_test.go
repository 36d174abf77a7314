package postfix

import (
	"hash/maphash"
	"reflect"
	"testing"

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
