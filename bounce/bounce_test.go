package bounce

import (
	"net/mail"
	"testing"
)

// TestPlainAddress: the fast path agrees with net/mail where it answers,
// and leaves the rest to it.
func TestPlainAddress(t *testing.T) {
	for _, v := range []string{
		"jane@example.org", "Jane Doe <Jane@Example.org>", " <jane@example.org> ", `"Doe, Jane" <jane@example.org>`,
		"jane@example.org (Jane)", `"jane doe"@example.org`, "a@b.c, d@e.f", "A <a@b.c>, B <d@e.f>", "<>", "jane", "@x", "x@", "a@b@c",
	} {
		got, ok := plainAddress(v)
		if !ok {
			continue
		}
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != got {
			t.Errorf("plainAddress(%q) = %q; net/mail says %v %v", v, got, a, err)
		}
	}
}
