package check

import (
	"bytes"
	"fmt"
)

// RubricMarkdown renders the rubric: every check with its points, and
// every finding code with the points its check keeps.
func RubricMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString(`# The checks of ` + "`mailtriage check`" + ` and their points

This file is generated from check/rubric.go by ` + "`go test ./check -update`" + `.

Scoring follows internet.nl. Every scored check is worth 10 points. A check that
was made keeps 10 points unless a finding lowers it: to the points the finding's
row gives, the worst finding counting (with several addresses, selectors or MX
hosts, the worst one counts). A category scores the points of its checks made
over their maximum, as a percentage; the total score is the plain mean of the
categories checked. A check that could not be made (a DNS timeout, a SERVFAIL)
is left out of both, and the coverage shows how many of the checks that apply
were made. Findings of severity "unknown" say which. Grades: A ≥ 90, B ≥ 80,
C ≥ 70, D ≥ 60, F below. BIMI is reported but not scored.

Which checks apply: SPF, DKIM, DMARC, MX, MTA-STS and TLS-RPT always; ` + "`spf.ip`" + ` and
the reverse DNS checks with ` + "`--ip`" + `; the HELO checks with ` + "`--helo`" + `; the TLS checks
with ` + "`--smtp-probe`" + `; the blocklist checks unless ` + "`--no-blocklists`" + ` (` + "`blocklist.ip`" + `
with ` + "`--ip`" + `). DKIM checks are made when a key is found, or when a
selector given with ` + "`--selector`" + ` has none. A blocklist check is made when at
least one scored list answered its test entries and the target.

## Checks

| check | category | what earns the 10 points |
|---|---|---|
`)
	for _, c := range checkDefs {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.ID, c.Category, c.Title)
	}
	b.WriteString(`
## Findings

| code | severity | owner | check | points kept | meaning |
|---|---|---|---|---|---|
`)
	for _, d := range codeDefs {
		check, pts := "–", "–"
		if d.Check != "" {
			check, pts = "`"+d.Check+"`", fmt.Sprintf("%d of %d", d.Points, maxPoints)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", d.Code, d.Severity, d.Owner, check, pts, d.Title)
	}
	return b.Bytes()
}
