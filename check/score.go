package check

import (
	"fmt"
	"math"
	"slices"

	"github.com/mailtriage/mailtriage"
)

// part collects what one group of checks found; the groups run at once,
// each with its own part, and Run merges them in a fixed order.
type part struct {
	findings []mailtriage.Finding
	// made holds the points of each check made: maxPoints, lowered by
	// findings; a check absent from it was not made.
	made map[string]int
	// moot are checks that do not apply after all: what they judge is not
	// there (no reverse name to confirm, no MX to secure). They are left
	// out of the score and of the coverage.
	moot map[string]bool
}

func newPart() *part { return &part{made: map[string]int{}, moot: map[string]bool{}} }

// notApplicable marks checks that do not apply to this domain.
func (p *part) notApplicable(ids ...string) {
	for _, id := range ids {
		p.moot[id] = true
	}
}

// made marks checks as made, with full marks unless a finding lowers them.
func (p *part) check(ids ...string) {
	for _, id := range ids {
		if _, ok := p.made[id]; !ok {
			p.made[id] = maxPoints
		}
	}
}

// fail marks checks as made with no points: what they judge is absent
// (no DMARC record has no policy to judge).
func (p *part) fail(ids ...string) {
	for _, id := range ids {
		p.made[id] = 0
	}
}

// find reports a finding of code; its check, if scored, is made and keeps
// at most the code's points.
func (p *part) find(code, message, fix string, evidence ...string) {
	def := lookupCode(code)
	p.findings = append(p.findings, mailtriage.Finding{
		Code: code, Severity: def.Severity, Category: categoryOf(def), Message: message, Fix: fix,
		Owner: def.Owner, Evidence: evidence,
	})
	if def.Check != "" {
		p.check(def.Check)
		p.made[def.Check] = min(p.made[def.Check], def.Points)
	}
}

// merge adds q's findings and checks to p, the worse points winning.
func (p *part) merge(q *part) {
	p.findings = append(p.findings, q.findings...)
	for id := range q.moot {
		p.moot[id] = true
	}
	for id, pts := range q.made {
		if old, ok := p.made[id]; !ok || pts < old {
			p.made[id] = pts
		}
	}
}

// lookupCode returns the definition of code. An unknown code is a bug
// that the rubric test catches; it scores as an unscored error.
func lookupCode(code string) codeDef {
	for _, d := range codeDefs {
		if d.Code == code {
			return d
		}
	}
	return codeDef{Code: code, Severity: errSev, Owner: sender}
}

func lookupCheck(id string) (checkDef, bool) {
	for _, c := range checkDefs {
		if c.ID == id {
			return c, true
		}
	}
	return checkDef{}, false
}

// categoryOf is the score category of a code: its check's, or for an
// unscored code, the category its prefix names.
func categoryOf(d codeDef) string {
	if c, ok := lookupCheck(d.Check); ok {
		return c.Category
	}
	return prefixCategory[prefix(d.Code)]
}

var prefixCategory = map[string]string{
	"spf": CatSPF, "dkim": CatDKIM, "dmarc": CatDMARC, "mx": CatTransport, "tls": CatTransport,
	"mtasts": CatTransport, "tlsrpt": CatTransport, "rdns": CatIdentity, "helo": CatIdentity, "bimi": CatBIMI,
	"blocklist": CatBlocklist, "domain": CatTransport,
}

func prefix(code string) string {
	for i := range code {
		if code[i] == '.' {
			return code[:i]
		}
	}
	return code
}

// Check is one scored check in a report.
type Check struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Title    string `json:"title"`
	Made     bool   `json:"made"`
	Points   int    `json:"points"`
	Max      int    `json:"max"`
}

// Category is the score of one category: the points of its checks made
// over their maximum.
type Category struct {
	Name    string `json:"name"`
	Score   int    `json:"score"`   // 0-100; 0 when not checked
	Checked bool   `json:"checked"` // at least one of its checks was made
	Made    int    `json:"checks_made"`
	Total   int    `json:"checks_total"`
}

// Coverage says how many of the checks that apply could be made.
type Coverage struct {
	Made    int `json:"made"`
	Applied int `json:"applied"`
	// Percent is Made over Applied.
	Percent int `json:"percent"`
}

// score fills in the checks, categories, score, grade and coverage from
// the points of the checks made. applied lists the checks that apply to
// this run (tls.* only with --smtp-probe, identity only with --ip or
// --helo); those not made are left out of the score and counted in the
// coverage, unless moot (they turned out not to apply).
func (r *Report) score(made map[string]int, moot map[string]bool, applied []string) {
	r.Checks = r.Checks[:0]
	type sum struct{ points, max, made, total int }
	sums := map[string]*sum{}
	for _, c := range checkDefs {
		if !slices.Contains(applied, c.ID) {
			continue
		}
		pts, ok := made[c.ID]
		if moot[c.ID] && !ok {
			continue
		}
		r.Checks = append(r.Checks, Check{ID: c.ID, Category: c.Category, Title: c.Title, Made: ok, Points: pts, Max: maxPoints})
		s := sums[c.Category]
		if s == nil {
			s = &sum{}
			sums[c.Category] = s
		}
		s.total++
		r.Coverage.Applied++
		if ok {
			s.points += pts
			s.max += maxPoints
			s.made++
			r.Coverage.Made++
		}
	}
	var total float64
	n := 0
	r.Categories = r.Categories[:0]
	for _, name := range categoryOrder {
		s := sums[name]
		if s == nil {
			continue
		}
		c := Category{Name: name, Made: s.made, Total: s.total, Checked: s.made > 0}
		if c.Checked {
			pct := 100 * float64(s.points) / float64(s.max)
			c.Score = int(math.Round(pct))
			total += pct
			n++
		}
		r.Categories = append(r.Categories, c)
	}
	if n > 0 {
		// internet.nl: the plain mean of the categories checked.
		r.Score = int(math.Round(total / float64(n)))
	}
	r.Grade = grade(r.Score, n)
	if r.Coverage.Applied > 0 {
		r.Coverage.Percent = 100 * r.Coverage.Made / r.Coverage.Applied
	}
}

// grade maps a score to a letter; "-" when nothing could be checked.
func grade(score, categories int) string {
	switch {
	case categories == 0:
		return "-"
	case score >= 90:
		return "A"
	case score >= 80:
		return "B"
	case score >= 70:
		return "C"
	case score >= 60:
		return "D"
	}
	return "F"
}

func (c Coverage) String() string {
	return fmt.Sprintf("%d of %d checks made (%d%%)", c.Made, c.Applied, c.Percent)
}
