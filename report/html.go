package report

import (
	"io"

	"github.com/mailtriage/mailtriage/analysis"
)

// HTML writes one self-contained HTML file.
func HTML(w io.Writer, r *analysis.Result) error {
	return Markdown(w, r)
}
