package bounce

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/mailbox"
)

// corpusDir is the Sisimai corpus (sisimai/set-of-emails, BSD-2-Clause)
// with the results go-sisimai's tests expect: ../testdata/sisimai/SOURCE.md.
const corpusDir = "../testdata/sisimai"

// expectedRows reads expected.tsv: per file, one row per recipient.
func expectedRows(t *testing.T) map[string][][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) < 6 || col[0] == "file" {
			continue
		}
		out[col[0]] = append(out[col[0]], col)
	}
	return out
}

// TestCorpusRecipients reads every message of the corpus and checks that
// as many recipients come out as Sisimai's tests expect. A file is read as
// the product reads it: it may be an mbox of several messages
// (rhost-cox-01.eml holds two).
func TestCorpusRecipients(t *testing.T) {
	want := expectedRows(t)
	files, _ := filepath.Glob(filepath.Join(corpusDir, "eml", "*.eml"))
	if len(files) < 300 {
		t.Fatalf("corpus: %d files", len(files))
	}
	agree, total := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		rows, ok := want[name]
		if !ok {
			continue
		}
		total++
		got := 0
		var errs []error
		err := mailbox.File(path, func(_ string, data []byte) error {
			m, err := Parse(data)
			if m != nil {
				got += len(m.Recipients)
			}
			if err != nil {
				errs = append(errs, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got == len(rows) {
			agree++
			continue
		}
		t.Logf("%s: %d recipients, want %d (%v)", name, got, len(rows), errs)
	}
	t.Logf("recipient count agrees on %d/%d files", agree, total)
	if float64(agree) < 0.97*float64(total) {
		t.Errorf("recipient count agrees on only %d/%d files", agree, total)
	}
}

// TestLineEndings: the corpus's messages read the same with CRLF and CR
// line endings as with LF.
func TestLineEndings(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "eml", "*.eml"))
	for _, path := range files[:60] {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.ReplaceAll(string(data), "\r\n", "\n"))
		want, _ := Parse(data)
		for _, nl := range []string{"\r\n", "\r"} {
			got, _ := Parse([]byte(strings.ReplaceAll(string(data), "\n", nl)))
			if len(got.Recipients) != len(want.Recipients) {
				t.Errorf("%s with %q: %d recipients, want %d", filepath.Base(path), nl, len(got.Recipients), len(want.Recipients))
				continue
			}
			for i := range want.Recipients {
				if got.Recipients[i].Address != want.Recipients[i].Address || got.Recipients[i].Status != want.Recipients[i].Status {
					t.Errorf("%s with %q: %+v, want %+v", filepath.Base(path), nl, got.Recipients[i], want.Recipients[i])
				}
			}
		}
	}
}

// FuzzParse: whatever the bytes, Parse returns a message or an error,
// never panics, and every recipient it returns has an address.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "eml", "*.eml"))
	for _, path := range files[:40] {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.c\n--"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err == nil && m == nil {
			t.Fatal("no message and no error")
		}
		if m != nil && err == nil {
			for _, r := range m.Recipients {
				if r.Address == "" && m.Kind != Feedback {
					t.Errorf("a recipient without an address: %+v", r)
				}
			}
		}
	})
}

// BenchmarkParse reads the whole corpus once per iteration.
func BenchmarkParse(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "eml", "*.eml"))
	var msgs [][]byte
	size := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, data)
		size += len(data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			Parse(m)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(msgs)), "µs/msg")
}
