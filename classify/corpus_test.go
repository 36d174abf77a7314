package classify

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

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

// TestCorpus classifies the first Diagnostic-Code of every bounce in the
// corpus and compares the reason with the one Sisimai expects. Sisimai names
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
		diag, host, ok := firstDiagnostic(data)
		if !ok {
			continue
		}
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

// firstDiagnostic returns the first Diagnostic-Code of a bounce's
// delivery-status part, without its diagnostic type ("smtp;"), and the host
// of the Remote-MTA field of the same recipient, if any. Some MTAs put the
// status fields in a text part instead (Amazon WorkMail, quoted-printable),
// some forward the whole bounce as an attachment, and old ones write a
// multipart/report without boundaries: when the delivery-status parts have
// no Diagnostic-Code, the text parts are searched, then the whole message.
func firstDiagnostic(msg []byte) (diag, host string, ok bool) {
	status, texts := reportParts(msg)
	for _, parts := range [][][]byte{status, texts, {msg}} {
		for _, p := range parts {
			if diag, host, ok := diagnosticField(p); ok {
				return diag, host, true
			}
		}
	}
	return "", "", false
}

// reportParts returns the decoded bodies of the message/delivery-status parts
// of a message and of its text parts, leaving out the returned message.
func reportParts(msg []byte) (status, texts [][]byte) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return nil, nil
	}
	w := partWalker{}
	w.walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, 0)
	return w.status, w.texts
}

type partWalker struct {
	status, texts [][]byte
}

func (w *partWalker) walk(ctype, encoding string, body io.Reader, depth int) {
	if depth > 5 {
		return
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return
	}
	switch {
	case mt == "message/delivery-status":
		if data, err := io.ReadAll(decodeTransfer(encoding, body)); err == nil {
			w.status = append(w.status, data)
		}
	case mt == "text/plain" && depth > 0:
		if data, err := io.ReadAll(decodeTransfer(encoding, body)); err == nil {
			w.texts = append(w.texts, data)
		}
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			w.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
		}
	}
}

// diagnosticField finds the first Diagnostic-Code field in the text of a
// delivery-status part, with its folded lines joined, and the Remote-MTA of
// the same recipient block (fields up to a blank line, RFC 3464 §2.1).
func diagnosticField(text []byte) (diag, host string, ok bool) {
	lines := strings.Split(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n")
	var remote string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			if ok {
				break
			}
			remote = ""
			continue
		}
		name, value, found := strings.Cut(line, ":")
		if !found || strings.ContainsAny(name, " \t") {
			continue
		}
		for i+1 < len(lines) && lines[i+1] != "" && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			i++
			value += " " + strings.TrimSpace(lines[i])
		}
		switch strings.ToLower(name) {
		case "diagnostic-code":
			if !ok {
				diag, ok = stripType(value), true
			}
		case "remote-mta":
			remote = stripType(value)
		}
	}
	if !ok {
		return "", "", false
	}
	if f := strings.Fields(remote); len(f) > 0 {
		host = strings.Trim(f[0], "[]")
	}
	return strings.TrimSpace(diag), host, true
}

// stripType removes the type of a DSN field value ("smtp; 550 ...",
// "dns; mx.example.com").
func stripType(v string) string {
	v = strings.TrimSpace(v)
	if t, rest, ok := strings.Cut(v, ";"); ok && t != "" && !strings.ContainsAny(t, " \t") {
		return strings.TrimSpace(rest)
	}
	return v
}

func decodeTransfer(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}
