package mtasts

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailtriage/mailtriage/internal/fieldlist"
)

// hasProblem reports whether problems holds one for tag at the level isErr.
func hasProblem(problems []Problem, tag string, isErr bool) bool {
	for _, p := range problems {
		if p.Tag == tag && p.Error == isErr {
			return true
		}
	}
	return false
}

func TestParseRecord(t *testing.T) {
	for _, tt := range []struct {
		txt  string
		want Record
	}{
		// RFC 8461 §3.1, the example.
		{"v=STSv1; id=20160831085700Z;", Record{ID: "20160831085700Z"}},
		// No final delimiter, no spaces: both allowed by the grammar.
		{"v=STSv1;id=abc", Record{ID: "abc"}},
		// White space around delimiters (sts-field-delim = *WSP ";" *WSP).
		{"v=STSv1 ;\tid=abc ; ", Record{ID: "abc"}},
		// Extension fields are allowed and ignored (§3.1).
		{"v=STSv1; id=1; ext.a-b_c=x,y:z", Record{ID: "1", Extensions: []Extension{{"ext.a-b_c", "x,y:z"}}}},
		// 32 characters is the longest id (sts-id = 1*32(ALPHA / DIGIT)).
		{"v=STSv1; id=" + strings.Repeat("a", 32), Record{ID: strings.Repeat("a", 32)}},
	} {
		r, err := ParseRecord(tt.txt)
		if err != nil {
			t.Errorf("ParseRecord(%q): %v", tt.txt, err)
			continue
		}
		if !reflect.DeepEqual(*r, tt.want) {
			t.Errorf("ParseRecord(%q):\ngot  %+v\nwant %+v", tt.txt, *r, tt.want)
		}
	}
}

func TestParseRecordProblems(t *testing.T) {
	for _, tt := range []struct {
		txt, tag string
		isErr    bool
	}{
		// sts-id = 1*32(ALPHA / DIGIT) (§3.1).
		{"v=STSv1; id=" + strings.Repeat("a", 33), "id", true},
		{"v=STSv1; id=2016-08-31", "id", true},
		{"v=STSv1; id=", "id", true},
		// The record needs an id (§3.1).
		{"v=STSv1;", "id", true},
		{"v=STSv1", "id", true},
		{"v=STSv1; ID=abc", "id", true},
		// Records that do not begin with "v=STSv1;" are discarded (§3.1).
		{" v=STSv1; id=abc", "v", true},
		{"v=STSv1; id=abc; id=def", "id", false},
		// sts-ext-value excludes space, ";" and "=" (§3.1).
		{"v=STSv1; id=abc; x=a=b", "x", true},
		{"v=STSv1; id=abc; x=", "x", true},
		// The grammar has no empty fields, names or pairs without "=".
		{"v=STSv1;; id=abc", "", true},
		{"v=STSv1; id=abc; x", "", true},
		{"v=STSv1; id=abc; _x=1", "", true},
	} {
		r, err := ParseRecord(tt.txt)
		if err != nil {
			t.Errorf("ParseRecord(%q): %v", tt.txt, err)
			continue
		}
		if !hasProblem(r.Problems, tt.tag, tt.isErr) {
			t.Errorf("ParseRecord(%q): problems %+v, want one for %q (error %v)", tt.txt, r.Problems, tt.tag, tt.isErr)
		}
	}
}

func TestParseRecordNotRecord(t *testing.T) {
	// §3.1: "v=STSv1" comes first and is case-sensitive (%s).
	for _, txt := range []string{"", "id=abc; v=STSv1", "v=STSv2; id=abc", "v=stsv1; id=abc", "v = STSv1; id=abc", "v=STSv1 id=abc", "v=spf1 -all"} {
		if r, err := ParseRecord(txt); !errors.Is(err, ErrNotRecord) {
			t.Errorf("ParseRecord(%q) = %+v, %v; want ErrNotRecord", txt, r, err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{"v=STSv1; id=20160831085700Z;", "v=STSv1;id=a;x=y", " v=STSv1;;", "v=STSv1; id=\x00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, txt string) {
		r, err := ParseRecord(txt)
		if (r == nil) == (err == nil) {
			t.Fatalf("ParseRecord(%q) = %v, %v: want a record or an error", txt, r, err)
		}
		if err != nil {
			return
		}
		if !strings.HasPrefix(fieldlist.TrimWSP(txt), recordVersion) {
			t.Fatalf("ParseRecord(%q) accepted a record not beginning with v=STSv1", txt)
		}
		clean := true
		for _, p := range r.Problems {
			if p.Message == "" {
				t.Fatalf("ParseRecord(%q): empty problem %+v", txt, p)
			}
			clean = clean && !p.Error
		}
		// A record without errors has a valid id (§3.1).
		if clean && !validID(r.ID) {
			t.Fatalf("ParseRecord(%q): id %q is invalid, but no error says so", txt, r.ID)
		}
	})
}
