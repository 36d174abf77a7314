package classify

import (
	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Cache remembers verdicts by remote host and reply, because a log repeats
// the same few replies many thousand times. It is not safe for concurrent
// use: give each goroutine its own.
type Cache struct {
	c     *Classifier
	m     map[cacheKey]mailtriage.Verdict
	limit int
}

type cacheKey struct {
	host, text string
	kind       smtpreply.Kind
	suspended  bool
}

// NewCache returns a cache of at most limit verdicts in front of c; when it
// is full it starts again empty, which costs little and bounds memory.
func NewCache(c *Classifier, limit int) *Cache {
	return &Cache{c: c, m: make(map[cacheKey]mailtriage.Verdict), limit: limit}
}

// Classify is Classifier.Classify, remembered.
func (k *Cache) Classify(d smtpreply.Detail) mailtriage.Verdict {
	key := cacheKey{host: d.Host, text: d.Text, kind: d.Kind, suspended: d.Suspended}
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
