package report

import (
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// table lays out rows in aligned columns. A header ending in ">" marks a
// right-aligned (numeric) column.
type table struct {
	head  []string
	right []bool
	rows  [][]string
}

func newTable(head ...string) *table {
	t := &table{}
	for _, h := range head {
		r := strings.HasSuffix(h, ">")
		t.head = append(t.head, strings.TrimSuffix(h, ">"))
		t.right = append(t.right, r)
	}
	return t
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// visible is the printed width of s: runes, without colour codes.
func visible(s string) int {
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = ansi.ReplaceAllString(s, "")
	}
	return utf8.RuneCountInString(s)
}

func (t *table) widths() []int {
	w := make([]int, len(t.head))
	for i, h := range t.head {
		w[i] = visible(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			w[i] = max(w[i], visible(c))
		}
	}
	return w
}

func (t *table) line(b *strings.Builder, cells []string, w []int, indent string) {
	b.WriteString(indent)
	for i, c := range cells {
		pad := strings.Repeat(" ", w[i]-visible(c))
		if i > 0 {
			b.WriteString("  ")
		}
		if t.right[i] {
			b.WriteString(pad + c)
		} else if i == len(cells)-1 {
			b.WriteString(c)
		} else {
			b.WriteString(c + pad)
		}
	}
	b.WriteByte('\n')
}

func (t *table) write(w io.Writer, indent string) {
	var b strings.Builder
	wd := t.widths()
	t.line(&b, t.head, wd, indent)
	for _, r := range t.rows {
		t.line(&b, r, wd, indent)
	}
	io.WriteString(w, b.String())
}

// writeWithNotes writes each row followed by a dimmed note line (the
// example reply), indented under the row.
func (t *table) writeWithNotes(w io.Writer, indent string, notes []string, tw *textWriter) {
	var b strings.Builder
	wd := t.widths()
	t.line(&b, t.head, wd, indent)
	for i, r := range t.rows {
		t.line(&b, r, wd, indent)
		if i < len(notes) && notes[i] != "" {
			// The note sits under the text columns, clear of the counts.
			pad := indent + strings.Repeat(" ", wd[0]+2)
			b.WriteString(pad + tw.paint(dim, tw.wrap(notes[i], len(pad))) + "\n")
		}
	}
	io.WriteString(w, b.String())
}
