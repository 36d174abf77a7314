package classify

import (
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/smtpreply"
)

// FuzzGrams: the byte-pair filter never turns away a substring the text
// holds (it may let through ones it does not).
func FuzzGrams(f *testing.F) {
	f.Add("550 5.1.1 the recipient name is not recognized by this server at all, sorry", "not recognized")
	f.Add("ab", "ab")
	f.Add("x", "")
	f.Fuzz(func(t *testing.T, text, sub string) {
		var g grams
		g.fill(text)
		if strings.Contains(text, sub) && !g.mayContain(gramKeys(sub)) {
			t.Errorf("%q holds %q, but the filter says it cannot", text, sub)
		}
	})
}

// BenchmarkClassifyProse classifies a prose bounce's long diagnostic, where
// the byte-pair filter saves most substring searches.
func BenchmarkClassifyProse(b *testing.B) {
	c := newClassifier(b)
	d := smtpreply.ParseDetail(strings.Repeat("This message was created automatically by mail delivery software. ", 6) +
		"550 The recipient name is not recognized MSEXCH:IMS:NNN:KIJITORACAT:NEKO 0 (000C05A6) Unknown Recipient")
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(d)
	}
}
