package classify

import (
	"testing"

	"github.com/mailtriage/mailtriage/provider"
)

// BenchmarkNew is the start-up cost every command pays: the catalogue
// and the rules read and compiled.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		cat, err := provider.Builtin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := New(cat, nil); err != nil {
			b.Fatal(err)
		}
	}
}
