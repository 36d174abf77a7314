package check

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRubricDoc keeps docs/checks.md the rubric's own words: go test
// ./check -update rewrites it.
func TestRubricDoc(t *testing.T) {
	got := RubricMarkdown()
	path := filepath.Join("..", "docs", "checks.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go test ./check -update", path)
	}
}

func TestRubricConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range codeDefs {
		if seen[d.Code] {
			t.Errorf("%s: twice", d.Code)
		}
		seen[d.Code] = true
		if d.Check != "" {
			if _, ok := lookupCheck(d.Check); !ok {
				t.Errorf("%s: unknown check %s", d.Code, d.Check)
			}
		}
		if d.Points < 0 || d.Points >= maxPoints {
			t.Errorf("%s: %d points; a finding takes something away", d.Code, d.Points)
		}
		if d.Severity == unkSev && d.Check != "" {
			t.Errorf("%s: a check that could not be made is not scored", d.Code)
		}
		if prefixCategory[prefix(d.Code)] == "" {
			t.Errorf("%s: no category for its prefix", d.Code)
		}
	}
	for _, c := range checkDefs {
		n := 0
		for _, d := range codeDefs {
			if d.Check == c.ID {
				n++
			}
		}
		if n == 0 {
			t.Errorf("check %s: no finding lowers it", c.ID)
		}
	}
}

// TestScore follows internet.nl's arithmetic: categories are averaged
// plainly, checks not made are left out.
func TestScore(t *testing.T) {
	var r Report
	r.score(map[string]int{
		"dmarc.record": 10, "dmarc.policy": 2, "dmarc.reports": 10, // 22/30
		"dkim.key": 10, "dkim.strength": 10, "dkim.mode": 10, // 30/30
		"mx.hosts": 10,
	}, map[string]bool{"tlsrpt.record": true}, []string{"dmarc.record", "dmarc.policy", "dmarc.reports", "dkim.key", "dkim.strength", "dkim.mode", "mx.hosts", "mtasts.policy", "tlsrpt.record"})
	// (73.33 + 100 + 100) / 3 = 91.1
	if r.Score != 91 || r.Grade != "A" || r.Coverage.Made != 7 || r.Coverage.Applied != 8 {
		t.Errorf("score %d grade %s coverage %+v", r.Score, r.Grade, r.Coverage)
	}
	if c := r.Categories[2]; c.Name != CatTransport || c.Made != 1 || c.Total != 2 || c.Score != 100 {
		t.Errorf("transport %+v", c)
	}
	for _, tt := range []struct {
		score int
		want  string
	}{{100, "A"}, {90, "A"}, {89, "B"}, {80, "B"}, {70, "C"}, {60, "D"}, {59, "F"}, {0, "F"}} {
		if g := grade(tt.score, 1); g != tt.want {
			t.Errorf("grade(%d) = %s, want %s", tt.score, g, tt.want)
		}
	}
	if g := grade(0, 0); g != "-" {
		t.Errorf("nothing checked: grade %s", g)
	}
}

func TestPartKeepsWorstPoints(t *testing.T) {
	p := newPart()
	p.find("dkim.key-weak", "m", "f", "e")      // 5
	p.find("dkim.key-too-short", "m", "f", "e") // 0
	p.find("dkim.key-weak", "m", "f", "e")      // still 0
	p.check("dkim.strength")                    // made already: unchanged
	if p.made["dkim.strength"] != 0 {
		t.Errorf("points %d", p.made["dkim.strength"])
	}
	if s := fmt.Sprint(p.findings[0].Category); !strings.EqualFold(s, CatDKIM) {
		t.Errorf("category %s", s)
	}
}

func TestDomain(t *testing.T) {
	for _, tt := range []struct {
		in, ascii, unicode string
		ok                 bool
	}{
		{"Example.COM.", "example.com", "", true},
		{" example.com ", "example.com", "", true},
		{"bücher.example", "xn--bcher-kva.example", "bücher.example", true},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example", true},
		{"198.51.100.21", "", "", false},
		{"[2001:db8::1]", "", "", false},
		{"localhost", "", "", false},
		{"a..example", "", "", false},
		{strings.Repeat("a", 64) + ".example", "", "", false},
		{"", "", "", false},
		{"_spf.example.com", "_spf.example.com", "", true},
		{"example.com..", "", "", false},
		{"a b.example", "", "", false},
	} {
		a, u, err := Domain(tt.in)
		if (err == nil) != tt.ok || a != tt.ascii || u != tt.unicode {
			t.Errorf("Domain(%q) = %q, %q, %v", tt.in, a, u, err)
		}
	}
}
