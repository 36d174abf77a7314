package report

import (
	"io"
	"strings"

	"github.com/mailtriage/mailtriage/internal/numfmt"
)

// What other renderers (dmarcsum) share with this package, so that every
// mailtriage table, page and count reads the same.

// Printable shows the control characters of s as \xNN, so that text from
// outside (DNS, a log, a file or attachment name) cannot drive the
// terminal it is printed on.
func Printable(s string) string { return printable(s) }

// Plural is n, with separators, and the word, plural unless n is 1.
func Plural(n int64, word string) string { return numfmt.Count(n, word) }

// Percent writes a share as a percentage with one decimal: 0.4167 is
// "41.7%".
func Percent(share float64) string { return rate(share) }

// PageCSS is the style every mailtriage page shares: a template defining
// "css", to parse into a page's template and place with
// {{template "css"}} inside its <style>.
const PageCSS = pageCSS

// Table lays out rows in aligned columns for a terminal. A header ending
// in ">" marks a right-aligned (numeric) column; colour codes take no
// width.
type Table struct{ t *table }

// NewTable starts a table with its header.
func NewTable(head ...string) *Table { return &Table{newTable(head...)} }

// Row adds a row, one cell per column.
func (t *Table) Row(cells ...string) { t.t.row(cells...) }

// Write writes the header and the rows, each line indented and without
// trailing blanks.
func (t *Table) Write(w io.Writer, indent string) error {
	var b strings.Builder
	t.t.write(&b, indent)
	lines := strings.SplitAfter(b.String(), "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = strings.TrimRight(l, " \n") + "\n"
		}
	}
	_, err := io.WriteString(w, strings.Join(lines, ""))
	return err
}
