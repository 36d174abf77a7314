package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mailtriage/mailtriage/resolver/dnstest"
)

// TestHelpExamples runs the examples of every command's --help, as a new
// user would, with the placeholder file names (mail.log, received.eml,
// ~/Maildir/.DMARC...) put to the repository's own files. Examples that
// ask the DNS are pointed at an in-process server holding the shipped
// example.com zone, so the test needs no network. An example must not
// use a flag its command lacks, end in a usage error or an error, and a
// command chained with && must not be one that exits 3 when it finds
// problems (the next command would not run exactly when it is needed).
func TestHelpExamples(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	zone, err := os.ReadFile(exampleZone)
	if err != nil {
		t.Fatal(err)
	}
	dns := dnstest.Start(t, string(zone))
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("MAILTRIAGE_DB", filepath.Join(dir, "dmarc.db"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("MAILTRIAGE_SPAMHAUS_KEY", "")

	abs := func(p string) string { return filepath.Join(repo, p) }
	agg := abs("testdata/dmarc-reports/aggregate")
	// Placeholder names in the examples → files of the repository. Files
	// the examples write (report.json, plan.json...) stay in dir.
	files := map[string]string{
		"/var/log/mail.log*": abs("examples/incident-postfix.log.gz"),
		"/var/log/mail.log":  abs("examples/incident-postfix.log.gz"),
		"mail.log*":          abs("examples/incident-postfix.log.gz"),
		"mail.log":           abs("examples/incident-postfix.log.gz"),
		"mail.log.*.gz":      abs("examples/incident-postfix.log.gz"),
		"~/Maildir/.Bounces": abs("testdata/sisimai/eml"),
		"bounces.mbox":       abs("testdata/sisimai/eml/arf-01.eml"),
		"returned.eml":       abs("testdata/sisimai/eml/arf-01.eml"),
		"received.eml":       abs("cmd/mailtriage/testdata/verify/signed.eml"),
		"~/Maildir/.DMARC":   agg,
		"reports/":           abs("testdata/dmarc-reports/smtp-tls"),
		"report.xml.gz":      filepath.Join(agg, "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz"),
		"/srv/dmarc.db":      filepath.Join(dir, "srv.db"),
		"my-zones.toml":      filepath.Join(dir, "my-zones.toml"),
		"google.com!example.com!1700000000!1700086399.zip": filepath.Join(agg, "usssa.com!example.com!1538784000!1538870399.xml"),
	}
	// Files a user would have made before.
	var report bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "--format", "json", abs("examples/incident-postfix.log.gz")}, strings.NewReader(""), &report, io.Discard); code != exitProblems {
		t.Fatalf("analyze of the sample: exit %d", code)
	}
	for name, body := range map[string]string{
		"before.json":   report.String(),
		"done.txt":      "slowed the apple lane to 1 connection\n",
		"senders.txt":   "ip 192.0.2.123\nservice SendGrid\n",
		"my-zones.toml": "",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		cmds = append(cmds, c)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	root := newRoot(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	walk(root)
	for _, c := range cmds {
		for _, line := range strings.Split(c.Example, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			t.Run(c.CommandPath()+": "+line, func(t *testing.T) {
				runExample(t, root, line, files, repo, dns.Addr)
			})
		}
	}
}

// exampleTokens splits a shell line into words and the operators
// |, &&, ;, > and <, undoing single and double quotes and dropping a
// comment.
func exampleTokens(line string) []string {
	var toks []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		ch := line[i]
		if ch == '#' && !inWord {
			break // a comment to the end of the line
		}
		switch {
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(line[i+1:], ch)
			if end < 0 {
				end = len(line) - i - 1
			}
			cur.WriteString(line[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case ch == ' ' || ch == '\t':
			flush()
		case ch == '|' || ch == ';' || ch == '>' || ch == '<':
			flush()
			toks = append(toks, string(ch))
		case ch == '&' && i+1 < len(line) && line[i+1] == '&':
			flush()
			toks = append(toks, "&&")
			i++
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	flush()
	return toks
}

// exitsThree: the command's help says it exits 3 when it finds problems.
var exitsThree = regexp.MustCompile(`[;:,]\s+3\s`)

func exitStatusText(c *cobra.Command) string {
	for ; c != nil; c = c.Parent() {
		if i := strings.Index(c.Long, "Exit status:"); i >= 0 {
			return c.Long[i:]
		}
	}
	return ""
}

func runExample(t *testing.T, root *cobra.Command, line string, files map[string]string, repo, dnsAddr string) {
	toks := exampleTokens(line)
	// Split into commands joined by && or ;, each a pipeline.
	type step struct {
		pipeline [][]string
		and      bool // joined to the next by &&
	}
	var steps []step
	var pipe [][]string
	var words []string
	for _, tok := range toks {
		switch tok {
		case "|":
			pipe = append(pipe, words)
			words = nil
		case "&&", ";":
			pipe = append(pipe, words)
			steps = append(steps, step{pipeline: pipe, and: tok == "&&"})
			pipe, words = nil, nil
		default:
			words = append(words, tok)
		}
	}
	pipe = append(pipe, words)
	steps = append(steps, step{pipeline: pipe})

	for i, st := range steps {
		var stdin []byte
		var haveStdin bool
		var code int
		for j, cmdWords := range st.pipeline {
			if len(cmdWords) == 0 {
				t.Fatalf("empty command in %q", line)
			}
			name, args := cmdWords[0], cmdWords[1:]
			switch name {
			case "mkdir":
				for _, a := range args {
					if a != "-p" {
						if err := os.MkdirAll(a, 0o755); err != nil {
							t.Fatal(err)
						}
					}
				}
				continue
			case "cat", "zcat":
				if j != 0 || len(args) != 1 {
					t.Skipf("%s in a form this test does not run", name)
				}
				b, err := os.ReadFile(mapFile(args[0], files, repo))
				if err != nil {
					t.Fatal(err)
				}
				if name == "zcat" {
					zr, err := gzip.NewReader(bytes.NewReader(b))
					if err != nil {
						t.Fatal(err)
					}
					if b, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				stdin, haveStdin = b, true
				continue
			case "grep", "sed", "cut":
				b, err := filterText(name, args, stdin, haveStdin, files, repo)
				if err != nil {
					t.Skipf("%s in a form this test does not run: %v", name, err)
				}
				stdin, haveStdin = b, true
				continue
			case "jq":
				if !json.Valid(stdin) {
					t.Errorf("%q: the output piped to jq is not JSON: %.200s", line, stdin)
				}
				continue
			case "mailtriage":
			default:
				t.Skipf("runs %s, which this test does not", name)
			}
			// Redirections.
			var out string
			var argv []string
			for k := 0; k < len(args); k++ {
				switch args[k] {
				case ">":
					k++
					out = args[k]
				case "<":
					k++
					b, err := os.ReadFile(mapFile(args[k], files, repo))
					if err != nil {
						t.Fatal(err)
					}
					stdin, haveStdin = b, true
				default:
					argv = append(argv, args[k])
				}
			}
			c, rest, err := root.Find(argv)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			for _, a := range rest {
				if !strings.HasPrefix(a, "-") || a == "-" {
					continue
				}
				n := strings.TrimLeft(a, "-")
				n, _, _ = strings.Cut(n, "=")
				var f *pflag.Flag
				if strings.HasPrefix(a, "--") {
					f = c.Flags().Lookup(n)
					if f == nil {
						f = c.InheritedFlags().Lookup(n)
					}
				} else {
					f = c.Flags().ShorthandLookup(n)
					if f == nil {
						f = c.InheritedFlags().ShorthandLookup(n)
					}
				}
				if f == nil {
					t.Errorf("%q: %s has no flag %s", line, c.CommandPath(), a)
				}
			}
			if st.and && j == len(st.pipeline)-1 && exitsThree.MatchString(exitStatusText(c)) {
				t.Errorf("%q: %s exits 3 when it finds problems, so what follows && does not run then", line, c.CommandPath())
			}
			for k, a := range argv {
				if k > 0 && !strings.HasPrefix(a, "-") {
					argv[k] = mapFile(a, files, repo)
				}
			}
			if slices.Contains(argv, "--smtp-probe") {
				t.Skip("connects to port 25 of the domain's MX hosts")
			}
			dnsNeeded := needsDNS(c.CommandPath(), argv)
			if dnsNeeded {
				if k := slices.Index(argv, "--resolver"); k >= 0 {
					argv[k+1] = dnsAddr
				} else {
					argv = append(argv, "--resolver", dnsAddr)
				}
				argv = append(argv, "--dns-timeout", "200ms")
			}
			if !haveStdin {
				stdin = nil
			}
			var stdout, stderr bytes.Buffer
			code = run(context.Background(), argv, bytes.NewReader(stdin), &stdout, &stderr)
			if code == exitError && dnsNeeded && strings.TrimSpace(stderr.String()) != "" {
				// Lookups the in-process server cannot answer (the
				// blocklists): an error that says so is right.
				t.Logf("%q: exit 1: %s", line, stderr.String())
			} else if code == exitUsage || code == exitError {
				t.Errorf("%q: exit %d: %s", line, code, stderr.String())
			}
			if out != "" {
				if err := os.WriteFile(out, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				stdout.Reset()
			}
			if c.CommandPath() == "mailtriage classify" && slices.Contains(argv, "json") {
				// Replies cut from a log, one a line, give one verdict
				// each: a line left with an open parenthesis would fold
				// every line after it into one reply.
				if j > 0 {
					in := strings.Count(strings.TrimSpace(string(stdin)), "\n") + 1
					got := strings.Count(strings.TrimSpace(stdout.String()), "\n") + 1
					if got != in {
						t.Errorf("%q: %d replies in, %d verdicts out", line, in, got)
					}
				}
				// They keep the host that gave them and lose Postfix's
				// "(in reply to ...)", read as the command (which a
				// parenthesis left over from the log line spoils).
				for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
					var v struct {
						Host    string
						Command string
						Reply   struct{ Text string }
					}
					if err := json.Unmarshal([]byte(l), &v); err != nil {
						t.Fatalf("%q: %v: %s", line, err, l)
					}
					if v.Host == "" || strings.Contains(v.Reply.Text, "in reply to") || strings.ContainsAny(v.Command, "()") {
						t.Errorf("%q: a reply without its host, or with Postfix's wrapping: %.300s", line, l)
						break
					}
				}
			}
			stdin, haveStdin = stdout.Bytes(), true
		}
		if st.and && code != 0 && i < len(steps)-1 {
			t.Errorf("%q: exit %d before &&: the rest does not run", line, code)
			return
		}
	}
}

func mapFile(a string, files map[string]string, repo string) string {
	if f, ok := files[a]; ok {
		return f
	}
	if strings.Contains(a, "/") && !filepath.IsAbs(a) {
		if _, err := os.Stat(a); err == nil {
			return a // made by the example itself (mkdir -p plan)
		}
		if _, err := os.Stat(filepath.Join(repo, a)); err == nil {
			return filepath.Join(repo, a)
		}
	}
	return a
}

// filterText runs the forms of grep (-o, -a, one pattern, one file or
// standard input), sed (one s/RE/TEXT/) and cut (-cN-) the examples use,
// with Go's regular expressions, the basic ones translated (basicRE).
func filterText(name string, args []string, stdin []byte, haveStdin bool, files map[string]string, repo string) ([]byte, error) {
	var opts, words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			opts = append(opts, a)
		} else {
			words = append(words, a)
		}
	}
	in := stdin
	readFile := func(p string) error {
		b, err := os.ReadFile(mapFile(p, files, repo))
		if err != nil {
			return err
		}
		if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) { // the sample stands for a plain log
			zr, zerr := gzip.NewReader(bytes.NewReader(b))
			if zerr != nil {
				return zerr
			}
			b, err = io.ReadAll(zr)
		}
		in = b
		return err
	}
	var out bytes.Buffer
	switch name {
	case "grep":
		only := false
		for _, o := range opts {
			for _, f := range o[1:] {
				switch f {
				case 'o':
					only = true
				case 'a':
				default:
					return nil, fmt.Errorf("option %s", o)
				}
			}
		}
		if len(words) == 2 {
			if err := readFile(words[1]); err != nil {
				return nil, err
			}
		} else if len(words) != 1 || !haveStdin {
			return nil, fmt.Errorf("arguments %q", words)
		}
		re, err := regexp.Compile(basicRE(words[0]))
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(in), "\n") {
			if m := re.FindString(l); re.MatchString(l) {
				if only {
					l = m
				}
				out.WriteString(l + "\n")
			}
		}
	case "sed":
		parts := strings.Split(strings.Join(words, " "), "/")
		if len(opts) > 0 || len(parts) != 4 || parts[0] != "s" || parts[3] != "" {
			return nil, fmt.Errorf("arguments %q", args)
		}
		re, err := regexp.Compile(basicRE(parts[1]))
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(in), "\n"), "\n") {
			out.WriteString(re.ReplaceAllLiteralString(l, parts[2]) + "\n")
		}
	case "cut":
		var n int
		if len(opts) != 1 || len(words) != 0 {
			return nil, fmt.Errorf("arguments %q", args)
		}
		if _, err := fmt.Sscanf(opts[0], "-c%d-", &n); err != nil || n < 1 {
			return nil, fmt.Errorf("option %s", opts[0])
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(in), "\n"), "\n") {
			if len(l) >= n {
				l = l[n-1:]
			} else {
				l = ""
			}
			out.WriteString(l + "\n")
		}
	}
	return out.Bytes(), nil
}

// basicRE turns a POSIX basic regular expression, the kind grep and sed
// read without -E, into Go's syntax: there a bare ( ) { } + ? | is a
// literal character and the backslashed one the operator (GNU's reading
// of \+ \? \|), the other way round from Go.
func basicRE(bre string) string {
	var b strings.Builder
	for i := 0; i < len(bre); i++ {
		ch := bre[i]
		switch {
		case ch == '\\' && i+1 < len(bre) && strings.IndexByte("(){}+?|", bre[i+1]) >= 0:
			i++
			b.WriteByte(bre[i])
		case ch == '\\' && i+1 < len(bre):
			i++
			b.WriteByte(ch)
			b.WriteByte(bre[i])
		case strings.IndexByte("(){}+?|", ch) >= 0:
			b.WriteByte('\\')
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// needsDNS: the example would ask the DNS or a network service.
func needsDNS(path string, argv []string) bool {
	has := func(flag string) bool {
		for _, a := range argv {
			if a == flag || strings.HasPrefix(a, flag+"=") {
				return true
			}
		}
		return false
	}
	if has("--offline") {
		return false
	}
	switch path {
	case "mailtriage check", "mailtriage spf", "mailtriage blocklist", "mailtriage verify":
		return true
	case "mailtriage evidence":
		return has("--check")
	case "mailtriage analyze":
		return has("--blocklists")
	case "mailtriage dmarc import":
		return !has("--no-rdns")
	}
	return false
}
