package journaljson

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// TestAppendLine turns entries in the Journal JSON Format (systemd
// docs/JOURNAL_EXPORT_FORMATS.md) into the syslog lines they stand for.
func TestAppendLine(t *testing.T) {
	tests := []struct {
		name, entry, want, err string
	}{
		{
			name:  "string message, SYSLOG_PID",
			entry: `{"__REALTIME_TIMESTAMP":"1795540801123456","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"4","_PID":"9","MESSAGE":"AB12CD34EF: to=<a@b>, status=sent (ok)"}`,
			want:  "2026-11-24T17:20:01.123456Z mx postfix/smtp[4]: AB12CD34EF: to=<a@b>, status=sent (ok)",
		},
		{
			name:  "no SYSLOG_PID: the _PID the journal saw",
			entry: `{ "MESSAGE" : "AB12CD34EF: removed", "_PID" : "1201", "SYSLOG_IDENTIFIER" : "postfix/qmgr", "_HOSTNAME" : "mx", "__REALTIME_TIMESTAMP" : "1795540800000000" }`,
			want:  "2026-11-24T17:20:00.000000Z mx postfix/qmgr[1201]: AB12CD34EF: removed",
		},
		{
			name:  "no pid",
			entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/qmgr","MESSAGE":"AB12CD34EF: removed"}`,
			want:  "2026-11-24T17:20:00.000000Z mx postfix/qmgr: AB12CD34EF: removed",
		},
		{
			// "A field that contains non-printable or non-UTF8 is
			// serialized as a number array instead."
			name:  "message not valid UTF-8: an array of its bytes",
			entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtp","MESSAGE":[65,66,58,32,255]}`,
			want:  "2026-11-24T17:20:00.000000Z mx postfix/smtp: AB: \xff",
		},
		{
			// "Journal fields may have multiple values assigned ... an
			// array of values": the first is the message.
			name:  "several values",
			entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtp","MESSAGE":["first", [65]]}`,
			want:  "2026-11-24T17:20:00.000000Z mx postfix/smtp: first",
		},
		{
			name:  "escapes, and a newline kept inside the line",
			entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix\/smtp","MESSAGE":"a\"b\u00e9\nc\r"}`,
			want:  "2026-11-24T17:20:00.000000Z mx postfix/smtp: a\"bé c ",
		},
		{
			name:  "no identifier, no host",
			entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","MESSAGE":"Linux version 6.1.0"}`,
			want:  "2026-11-24T17:20:00.000000Z - -: Linux version 6.1.0",
		},
		{
			// "If ... a data field is too large, the field name is still
			// included in the JSON object but assigned null."
			name:  "message left out as too large",
			entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/smtp","MESSAGE":null}`,
			err:   "MESSAGE left out",
		},
		{name: "no time", entry: `{"_HOSTNAME":"mx","MESSAGE":"x"}`, err: "__REALTIME_TIMESTAMP"},
		{name: "time not a number", entry: `{"__REALTIME_TIMESTAMP":"17955x","MESSAGE":"x"}`, err: "__REALTIME_TIMESTAMP"},
		{name: "no message", entry: `{"__REALTIME_TIMESTAMP":"1795540800000000"}`, err: "MESSAGE"},
		{name: "cut short", entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","MESSAGE":"x`, err: "not a JSON object"},
		{name: "not an object", entry: `[1,2]`, err: "not a JSON object"},
		{name: "byte out of range", entry: `{"__REALTIME_TIMESTAMP":"1795540800000000","MESSAGE":[65,256]}`, err: "MESSAGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendLine([]byte("x"), []byte(tt.entry))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q (line %q)", err, tt.err, got)
				}
				if string(got) != "x" {
					t.Errorf("dst changed on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "x"+tt.want {
				t.Errorf("got  %q\nwant %q", got[1:], tt.want)
			}
		})
	}
}

// TestReader reads the composed sample (testdata/SOURCE.md): one line per
// entry, another program's entry too, and the entry cut short counted.
func TestReader(t *testing.T) {
	data, err := os.ReadFile("testdata/postfix.json")
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-11-24T17:20:00.000001Z mx postfix/qmgr[1201]: AB12CD34EF: from=<news@shop.example.net>, size=48213, nrcpt=1 (queue active)\n" +
		"2026-11-24T17:20:01.000000Z mx sshd[811]: Accepted publickey for admin from 192.0.2.9 port 50022 ssh2\n" +
		"2026-11-24T17:20:01.123456Z mx postfix/smtp[4]: AB12CD34EF: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred. (in reply to MAIL FROM command))\n" +
		"2026-11-24T17:20:02.000000Z mx postfix/smtp[4]: CD34EFAB12: host x said: \xff\n" +
		"2026-11-24T17:20:03.000000Z mx postfix/qmgr[1201]: AB12CD34EF: removed\n"
	for name, r := range map[string]io.Reader{
		"json":          bytes.NewReader(data),
		"one byte a go": iotest.OneByteReader(bytes.NewReader(data)),
		"json-seq":      strings.NewReader("\x1e" + strings.ReplaceAll(strings.TrimSuffix(string(data), "\n"), "\n", "\n\x1e") + "\n"),
		"CRLF":          strings.NewReader(strings.ReplaceAll(string(data), "\n", "\r\n")),
	} {
		t.Run(name, func(t *testing.T) {
			jr := NewReader(r, 5)
			got, err := io.ReadAll(jr)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			st := jr.Stats()
			if st.Entries != 6 || st.Bad != 1 || len(st.Samples) != 1 || st.Samples[0].Entry != 6 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestOverlong: an entry longer than the limit is skipped and counted,
// and reading goes on at the next.
func TestOverlong(t *testing.T) {
	entry := `{"__REALTIME_TIMESTAMP":"1795540800000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"postfix/qmgr","MESSAGE":"AB12CD34EF: removed"}` + "\n"
	long := `{"MESSAGE":"` + strings.Repeat("x", MaxEntry) + `"}` + "\n"
	got, err := io.ReadAll(NewReader(strings.NewReader(entry+long+entry), 0))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\n"); n != 2 {
		t.Errorf("%d lines out, want 2: %q", n, got)
	}
}

func TestDetect(t *testing.T) {
	data, _ := os.ReadFile("testdata/postfix.json")
	for _, tc := range []struct {
		head string
		want bool
	}{
		{string(data), true},
		{"\x1e" + string(data), true},
		{string(data[:200]), true}, // a head that cuts the first entry
		{`{"type":"Delivery","id":"x"}`, false},
		{"Nov 30 10:00:01 mx postfix/qmgr[1]: AB12CD34EF: removed\n", false},
		{`{"MESSAGE":"x"}` + "\n", false},
	} {
		if got := Detect([]byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%.40q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

func FuzzAppendLine(f *testing.F) {
	data, _ := os.ReadFile("testdata/postfix.json")
	for _, l := range bytes.Split(data, []byte("\n")) {
		f.Add(l)
	}
	f.Add([]byte(`{"__REALTIME_TIMESTAMP":"1","MESSAGE":["a",[1,2],null]}`))
	f.Add([]byte(`{"__REALTIME_TIMESTAMP":"99999999999999999999","MESSAGE":"x"}`))
	f.Fuzz(func(t *testing.T, entry []byte) {
		line, err := AppendLine(nil, entry)
		if err != nil {
			return
		}
		if bytes.ContainsAny(line, "\n\r") {
			t.Errorf("line %q holds a line break", line)
		}
		if !json.Valid(entry) {
			t.Errorf("invalid JSON %q read as %q", entry, line)
		}
	})
}

// BenchmarkReader converts entries shaped like journalctl -o json's for
// Postfix (about 1 KiB each, most of it fields a syslog line leaves out).
func BenchmarkReader(b *testing.B) {
	entry := `{"__CURSOR":"s=6c7c6013a26343b29e964691ff25d04c;i=1f2a;b=3b1e2a6bd2c54f8f9a1b2c3d4e5f6071;m=4fc1a2b3;t=645a1e2c3d4e5;x=9a8b7c6d5e4f3a2b","__REALTIME_TIMESTAMP":"1795540801123456","__MONOTONIC_TIMESTAMP":"1337041555","_BOOT_ID":"3b1e2a6bd2c54f8f9a1b2c3d4e5f6071","_TRANSPORT":"syslog","PRIORITY":"6","SYSLOG_FACILITY":"2","SYSLOG_IDENTIFIER":"postfix/smtp","SYSLOG_PID":"4","MESSAGE":"AB12CD34EF: to=<jane@icloud.com>, relay=mx01.mail.icloud.com[17.57.154.6]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred. (in reply to MAIL FROM command))","SYSLOG_TIMESTAMP":"Nov 24 17:20:01 ","_PID":"4","_UID":"107","_GID":"114","_COMM":"smtp","_EXE":"/usr/lib/postfix/sbin/smtp","_CMDLINE":"smtp -t unix -u -c","_SYSTEMD_CGROUP":"/system.slice/system-postfix.slice/postfix@-.service","_SYSTEMD_UNIT":"postfix@-.service","_SYSTEMD_SLICE":"system-postfix.slice","_MACHINE_ID":"a91663387a90b89f185d4e860000001a","_HOSTNAME":"mx","_SOURCE_REALTIME_TIMESTAMP":"1795540801123000"}` + "\n"
	data := []byte(strings.Repeat(entry, 1000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, NewReader(bytes.NewReader(data), 0)); err != nil {
			b.Fatal(err)
		}
	}
}
