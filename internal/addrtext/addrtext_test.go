package addrtext

import (
	"slices"
	"testing"
)

func TestAll(t *testing.T) {
	f := New()
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"550 5.1.1 <jane@example.com>: Recipient address rejected", []string{"jane@example.com"}},
		// RFC 5322 §3.2.3 atext: & and ' are allowed in a local part.
		{"550 5.1.1 o&brien@example.com unknown", []string{"o&brien@example.com"}},
		{"user o'brien@example.org unknown", []string{"o'brien@example.org"}},
		{"user 'jane@example.org' unknown", []string{"jane@example.org"}},
		// RFC 6531 §3.3: UTF-8 local parts and domains.
		{"550 josé@exemplo.com.br não existe", []string{"josé@exemplo.com.br"}},
		{"mailbox 用户@例子.中国 full", []string{"用户@例子.中国"}},
		{"(sofia@yahoo.com) and <bob+tag@mail.example.net>", []string{"sofia@yahoo.com", "bob+tag@mail.example.net"}},
		{`552 5.2.2 <"john q.public"@example.com> Mailbox full`, []string{`"john q.public"@example.com`}},
		{`550 <"a\"b@c"@example.com> unknown`, []string{`"a\"b@c"@example.com`}},
		{`said "hello" to jane@example.com`, []string{"jane@example.com"}},
		{`"Jane Doe" <jane@example.com>`, []string{"jane@example.com"}},
		{"no address here, just 4.7.0 and user@localhost", nil},
		// RFC 5321 §4.1.2 Path: in angle brackets, a one-label domain.
		{"550 5.1.1 <root@intranet>: Recipient address rejected", []string{"root@intranet"}},
		{`550 <"q r"@mailhost> unknown, and <a@b.example>`, []string{`"q r"@mailhost`, "a@b.example"}},
	} {
		if got := f.All(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("All(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func FuzzReplace(f *testing.F) {
	f.Add("550 <jane@example.com> unknown")
	f.Add("josé@exemplo.com.br")
	fi := New()
	f.Fuzz(func(t *testing.T, s string) {
		out := fi.Replace(s, func(string) string { return "(recipient)" })
		if len(fi.All(out)) != 0 {
			t.Errorf("an address survived: %q -> %q", s, out)
		}
	})
}

// TestReplace: an address is replaced where it stands; a Path keeps its
// brackets, and text without an address comes back as it was.
func TestReplace(t *testing.T) {
	f := New()
	for _, tt := range []struct{ in, want string }{
		{"550 <root@intranet> unknown", "550 <(r)> unknown"},
		{"to jane@example.com and <bob@example.net>.", "to (r) and <(r)>."},
		{"nothing to hide", "nothing to hide"},
	} {
		if got := f.Replace(tt.in, func(string) string { return "(r)" }); got != tt.want {
			t.Errorf("Replace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
