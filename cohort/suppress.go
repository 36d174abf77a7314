package cohort

import (
	"bufio"
	"io"
	"strings"
)

// ReadSuppression reads the addresses not to mail: a list, one a line
// ("#" starts a comment line), or an export in any shape (any separator,
// the address in any column, with a display name, a spreadsheet's byte
// order mark): every address on a line is suppressed, in lower case.
func ReadSuppression(r io.Reader) (map[string]bool, error) {
	set := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.FieldsFunc(line, isSeparator) {
			if a, ok := Address(w); ok {
				set[a] = true
			}
		}
	}
	return set, sc.Err()
}

// isSeparator tells the characters around an address in an export: CSV
// and TSV separators, quotes, and the brackets of a display name.
func isSeparator(r rune) bool { return strings.ContainsRune(" \t,;\"'<>()[]", r) }
