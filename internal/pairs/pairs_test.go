package pairs

import (
	"strings"
	"testing"
)

// FuzzMayContain: the filter never turns away a substring the text holds
// (it may let through ones it does not).
func FuzzMayContain(f *testing.F) {
	f.Add("550 5.1.1 the recipient name is not recognized by this server", "not recognized")
	f.Add("ab", "ab")
	f.Add("x", "")
	f.Fuzz(func(t *testing.T, text, sub string) {
		var s Set
		s.Fill(text)
		if strings.Contains(text, sub) && !s.MayContain(KeysOf(sub)) {
			t.Errorf("%q holds %q, but the filter says it cannot", text, sub)
		}
	})
}

func TestMayContain(t *testing.T) {
	var s Set
	s.Fill("message headers follow")
	if !s.MayContain(KeysOf("headers follow")) || s.MayContain(KeysOf("copy of the message")) {
		t.Error("wrong answer")
	}
}
