package classify

import (
	"strings"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Cache remembers verdicts by remote host and reply, because a log repeats
// the same few replies many thousand times. It is not safe for concurrent
// use: give each goroutine its own.
//
// To find repeats among replies that quote an address, an IP or a
// transaction id, the cache key masks them (see mask); a rule that tells
// replies apart only by such a token would be blurred by the cache, and no
// rule needs to. Accepted (2xx) replies from a known host differ only in
// such ids, so they are remembered by host alone.
type Cache struct {
	c     *Classifier
	m     map[cacheKey]mailtriage.Verdict
	limit int
}

type cacheKey struct {
	host, text, dsn string
	kind            smtpreply.Kind
	suspended       bool
}

// NewCache returns a cache of at most limit verdicts in front of c; when it
// is full it starts again empty, which costs little and bounds memory.
func NewCache(c *Classifier, limit int) *Cache {
	return &Cache{c: c, m: make(map[cacheKey]mailtriage.Verdict), limit: limit}
}

// AcceptancesByHost reports that the cache judges a host's bare 2xx
// replies by the host alone, so that a caller may remember the verdict per
// host itself.
func (k *Cache) AcceptancesByHost() bool { return true }

// Classify is Classifier.Classify, remembered.
func (k *Cache) Classify(d smtpreply.Detail) mailtriage.Verdict {
	key := cacheKey{host: d.Host, dsn: d.DSN, kind: d.Kind, suspended: d.Suspended}
	if d.Answered() && d.Reply.Class() == 2 && d.Host != "" {
		key.text = "2xx"
	} else {
		key.text = mask(d.Text)
	}
	if v, ok := k.m[key]; ok {
		return v
	}
	v := k.c.Classify(d)
	if len(k.m) >= k.limit {
		clear(k.m)
	}
	k.m[key] = v
	return v
}

// mask replaces the tokens of a reply that vary between otherwise equal
// replies: addresses (anything with an '@') and long tokens with digits in
// them (IPs, queue and transaction ids, server names with numbers). Short
// tokens stay, so tags such as [CS01], (S3150) and codes such as 4.7.650 do,
// and so do URLs, whose paths carry meaning.
func mask(s string) string {
	var b strings.Builder
	start := 0
	changed := false
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !isSeparator(s[i]) {
			continue
		}
		tok := s[start:i]
		if maskable(tok) {
			if !changed {
				b.Grow(len(s))
				b.WriteString(s[:start])
				changed = true
			}
			b.WriteByte('#')
		} else if changed {
			b.WriteString(tok)
		}
		if changed && i < len(s) {
			b.WriteByte(s[i])
		}
		start = i + 1
	}
	if !changed {
		return s
	}
	return b.String()
}

func isSeparator(c byte) bool {
	switch c {
	case ' ', '<', '>', '(', ')', '[', ']', ';', ',', '"', '\'', '=':
		return true
	}
	return false
}

func maskable(tok string) bool {
	if strings.IndexByte(tok, '/') >= 0 {
		// A URL says which page the receiver points to: an open-resolver
		// error (…/returnc/pub/IP) is not a listing (…/query/ip/IP).
		return false
	}
	if strings.IndexByte(tok, '@') >= 0 {
		return true
	}
	if len(tok) < 11 {
		return false
	}
	digits := 0
	for i := 0; i < len(tok); i++ {
		if tok[i] >= '0' && tok[i] <= '9' {
			digits++
		}
	}
	return digits >= 3
}
