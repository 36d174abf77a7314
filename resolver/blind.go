package resolver

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// BlindError says that a resolver which answered NXDOMAIN for Name also
// denies Name's top-level domain, and com: it does not reach the public
// DNS (a sandbox's, a captive portal's), so its NXDOMAIN means nothing.
type BlindError struct {
	Name string
}

func (e *BlindError) Error() string {
	return fmt.Sprintf("the resolver answers that even %s does not exist: it does not reach the public DNS, so its NXDOMAIN for %s means nothing", TLD(e.Name), e.Name)
}

// knownTLD is a top-level domain every resolver that reaches the public
// DNS finds.
const knownTLD = "com"

// Blind tells whether r is blind, asked after r answered NXDOMAIN for
// name: it returns a *BlindError when r answers NXDOMAIN for the SOA of
// name's top-level domain and of com too, nil otherwise. Only the two
// together make r blind: a name under a top-level domain that does not
// exist (a typo, example.cmo; a reserved one, .test, .invalid) does not
// exist, and r is right to say so.
func Blind(ctx context.Context, r Resolver, name string) error {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	top := TLD(name)
	if r.Lookup(ctx, top+".", dns.TypeSOA).Status != NXDomain {
		return nil
	}
	if top != knownTLD && r.Lookup(ctx, knownTLD+".", dns.TypeSOA).Status != NXDomain {
		return nil
	}
	return &BlindError{Name: name}
}

// TLD is the last label of a domain name, its top-level domain.
func TLD(name string) string {
	name = strings.TrimSuffix(name, ".")
	return name[strings.LastIndexByte(name, '.')+1:]
}

// NXWatch passes lookups to Resolver and keeps the first name it answered
// NXDOMAIN for, so that a command can ask, once it is done, whether the
// resolver is blind (Blind): one that answers NXDOMAIN for every name
// makes every domain, record and key "not exist". It is safe for
// concurrent use.
type NXWatch struct {
	Resolver
	mu   sync.Mutex
	name string
}

// Lookup asks Resolver, and remembers name if it is the first answered
// NXDOMAIN.
func (w *NXWatch) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	a := w.Resolver.Lookup(ctx, name, qtype)
	if a.Status == NXDomain {
		w.mu.Lock()
		if w.name == "" {
			w.name = name
		}
		w.mu.Unlock()
	}
	return a
}

// Blind returns the *BlindError of Resolver if it answered a lookup
// NXDOMAIN and denies the top-level domains too (see Blind); nil when it
// answered none NXDOMAIN, or is not blind.
func (w *NXWatch) Blind(ctx context.Context) error {
	w.mu.Lock()
	name := w.name
	w.mu.Unlock()
	if name == "" {
		return nil
	}
	return Blind(ctx, w.Resolver, name)
}
