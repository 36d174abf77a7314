package bounce

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
// as many recipients come out as Sisimai's tests expect.
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
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(data)
		got := 0
		if m != nil {
			got = len(m.Recipients)
		}
		if got == len(rows) {
			agree++
			continue
		}
		t.Logf("%s: %d recipients, want %d (%v)", name, got, len(rows), err)
	}
	t.Logf("recipient count agrees on %d/%d files", agree, total)
	if float64(agree) < 0.97*float64(total) {
		t.Errorf("recipient count agrees on only %d/%d files", agree, total)
	}
}
