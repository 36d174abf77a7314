package fieldlist

import (
	"slices"
	"testing"
)

// TestSplit: RFC 8461 §3.1 and RFC 8460 §3: the version first, WSP around
// fields, one trailing delimiter.
func TestSplit(t *testing.T) {
	for _, c := range []struct {
		txt     string
		fields  []string
		leading bool
		ok      bool
	}{
		{"v=STSv1; id=20260101;", []string{"id=20260101"}, false, true},
		{" v=STSv1 ;id=1 ; x=y", []string{"id=1", "x=y"}, true, true},
		{"v=STSv1;;id=1", []string{"", "id=1"}, false, true},
		{"v=STSv2; id=1", nil, false, false},
		{"id=1; v=STSv1", nil, false, false},
	} {
		f, lead, ok := Split(c.txt, "v=STSv1")
		if !slices.Equal(f, c.fields) || lead != c.leading || ok != c.ok {
			t.Errorf("Split(%q) = %q %v %v", c.txt, f, lead, ok)
		}
	}
	for name, want := range map[string]bool{"id": true, "rua": true, "x_1.a-b": true, "-x": false, "": false, "a b": false} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) != %v", name, want)
		}
	}
	for value, want := range map[string]bool{"abc": true, "": false, "a b": false, "a;b": false, "a=b": false, "é": false} {
		if ValidValue(value) != want {
			t.Errorf("ValidValue(%q) != %v", value, want)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("v=TLSRPTv1; rua=mailto:a@b.c;")
	f.Fuzz(func(t *testing.T, txt string) {
		fields, _, ok := Split(txt, "v=TLSRPTv1")
		if !ok && fields != nil {
			t.Fatal("fields without the version")
		}
		for _, x := range fields {
			if x != TrimWSP(x) {
				t.Fatalf("field %q not trimmed", x)
			}
		}
	})
}
