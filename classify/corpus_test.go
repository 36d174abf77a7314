package classify

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/bounce"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// The Sisimai corpus (sisimai/set-of-emails, BSD-2-Clause) and the reasons
// go-sisimai's tests expect for it: ../testdata/sisimai/SOURCE.md (shared with package bounce).
const (
	corpusDir      = "../testdata/sisimai/eml"
	corpusExpected = "../testdata/sisimai/expected.tsv"

	// corpusFloor is the lowest share of agreeing reasons the test accepts,
	// a few points under what the rules reach, so that a rule change that
	// makes real bounces worse fails the build.
	corpusFloor = 0.70
)

// TestCorpus classifies, alone, the first Diagnostic-Code of every standard
// bounce (RFC 3464) in the corpus and compares the reason with the one Sisimai expects. Sisimai names
// some things differently on purpose (it has no "throttling" category, and
// decides some replies by the MTA that wrote the bounce), so agreement is a
// yardstick, not a specification: the test fails only when it drops below
// corpusFloor. Run with -v to see the disagreements.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus not found at %s", corpusDir)
	}
	want, err := readExpected(corpusExpected)
	if err != nil {
		t.Skipf("expected reasons: %v", err)
	}
	c := newClassifier(t)
	var agree, total, unlabelled int
	var diffs []string
	for _, path := range files {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The first recipient of a standard report with a Diagnostic-Code.
		m, err := bounce.Parse(data)
		if err != nil || m.Format != "rfc3464" || m.Recipients[0].DiagnosticType == "" {
			continue
		}
		diag, host := m.Recipients[0].Diagnostic, m.Recipients[0].RemoteMTA
		reason, ok := want[name]
		if !ok {
			unlabelled++
			continue
		}
		d := smtpreply.ParseDetail(diag)
		if host != "" {
			d.Host = host
		}
		v := c.Classify(d)
		total++
		if v.Reason == reason {
			agree++
			continue
		}
		diffs = append(diffs, name+": got "+v.Reason+" ("+v.Rule+"), want "+reason+": "+diag)
	}
	if total == 0 {
		t.Skip("no labelled bounce with a Diagnostic-Code in the corpus")
	}
	sort.Strings(diffs)
	for _, s := range diffs {
		t.Log(s)
	}
	share := float64(agree) / float64(total)
	t.Logf("reason agrees on %d/%d (%.1f%%); %d files without a label", agree, total, 100*share, unlabelled)
	if share < corpusFloor {
		t.Errorf("agreement %.1f%% is below the floor of %.1f%%", 100*share, 100*corpusFloor)
	}
}

// readExpected reads the reason expected for the first recipient (index 1)
// of each file.
func readExpected(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) < 5 || col[0] == "file" || col[1] != "1" {
			continue
		}
		m[col[0]] = col[4]
	}
	return m, sc.Err()
}
