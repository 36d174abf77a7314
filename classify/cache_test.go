package classify

import (
	"testing"

	"github.com/mailtriage/mailtriage/smtpreply"
)

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 <nobody@me.com>: user does not exist":             "550 5.1.1 <#>: user does not exist",
		"421 4.7.0 [HCM1] Your mail from 203.0.113.25 was deferred.": "421 4.7.0 [HCM1] Your mail from # was deferred.",
		"550 5.7.1 blocked (S3150) AS(508) 4.7.650":                  "550 5.7.1 blocked (S3150) AS(508) 4.7.650",
		"250 2.0.0 OK 1764497000 a598780si845448qkb.12 - gsmtp":      "250 2.0.0 OK 1764497000 # - gsmtp",
		// bounces.md §2.10: the open-resolver error must not share a key
		// with a real listing.
		"554 5.7.1 blocked using zen.spamhaus.org; https://www.spamhaus.org/returnc/pub/172.70.1.1": "554 5.7.1 blocked using zen.spamhaus.org; https://www.spamhaus.org/returnc/pub/172.70.1.1",
		"host mx01.mail.icloud.com[17.57.154.6] said: 421 4.7.0 x (in reply to)":                    "host mx01.mail.icloud.com[#] said: 421 4.7.0 x (in reply to)",
	} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCacheAgrees checks that the cache gives the classifier's own verdict
// for every rule example, asked twice and with a varied address.
func TestCacheAgrees(t *testing.T) {
	c := newClassifier(t)
	k := NewCache(c, 1<<10)
	for _, r := range c.Rules() {
		for _, ex := range r.Examples {
			d := smtpreply.ParseDetail(ex)
			d.Host = r.ExampleHost
			want := c.Classify(d)
			for i := 0; i < 2; i++ {
				if got := k.Classify(d); got != want {
					t.Errorf("%s: cached verdict %+v, classifier %+v", ex, got, want)
				}
			}
		}
	}
}
