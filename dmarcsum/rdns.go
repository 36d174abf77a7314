package dmarcsum

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtriage/mailtriage/mailhost"
	"github.com/mailtriage/mailtriage/resolver"
)

// Namer looks up the reverse DNS names of source addresses at import, for
// the store to keep with the records. A name counts only when it is
// forward-confirmed (RFC 8601 §3's iprev; FCrDNS): its A or AAAA records
// hold the address. Anyone can set the PTR of their own address to
// mail-x.google.com; only Google can make that name point back.
//
// Lookups run at most Limit at once, each address once per run (a Namer
// remembers its answers, failures included, so a folder of reports from
// the same sources asks the DNS once per address). It is safe for
// concurrent use.
type Namer struct {
	Resolver resolver.Resolver
	// Limit bounds the lookups in flight; 0 means 16.
	Limit int
	// Timeout bounds the lookups of one address; 0 means 3 seconds.
	Timeout time.Duration
	// GiveUpAfter is how many lookups in a row may get no answer at all
	// (a timeout, a network error) before the Namer stops asking for the
	// rest of the run: a DNS server that is down would otherwise cost
	// Timeout for every address. 0 means 32. OnGiveUp, if set, is told
	// when it does.
	GiveUpAfter int
	OnGiveUp    func()

	unanswered atomic.Int64
	gaveUp     atomic.Bool

	once  sync.Once
	slots chan struct{}
	mu    sync.Mutex
	names map[netip.Addr]*pending
}

// pending is an address's lookup: done closes when name is set.
type pending struct {
	done chan struct{}
	name string
}

func (n *Namer) init() {
	n.once.Do(func() {
		limit := n.Limit
		if limit <= 0 {
			limit = 16
		}
		n.slots = make(chan struct{}, limit)
		n.names = map[netip.Addr]*pending{}
	})
}

// Names returns the forward-confirmed names of the addresses that have
// one. Lookups that fail leave the address out: a missing name is only
// less to go on, never a reason to refuse a report.
func (n *Namer) Names(ctx context.Context, ips []netip.Addr) map[netip.Addr]string {
	n.init()
	var wg sync.WaitGroup
	waits := make([]*pending, len(ips))
	for i, ip := range ips {
		ip = ip.Unmap().WithZone("")
		n.mu.Lock()
		p, ok := n.names[ip]
		if !ok {
			p = &pending{done: make(chan struct{})}
			n.names[ip] = p
		}
		n.mu.Unlock()
		waits[i] = p
		if !ok {
			wg.Go(func() {
				defer close(p.done)
				select {
				case n.slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-n.slots }()
				p.name = n.lookup(ctx, ip)
			})
		}
	}
	out := map[netip.Addr]string{}
	for i, p := range waits {
		select {
		case <-p.done:
		case <-ctx.Done():
			return out
		}
		if p.name != "" {
			out[ips[i].Unmap().WithZone("")] = p.name
		}
	}
	wg.Wait()
	return out
}

// lookup returns ip's first forward-confirmed PTR name, "" for none.
func (n *Namer) lookup(ctx context.Context, ip netip.Addr) string {
	if n.gaveUp.Load() {
		return ""
	}
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rev := mailhost.LookupReverse(ctx, n.Resolver, ip)
	n.note(rev.Status)
	for _, name := range rev.Confirmed {
		if name = normName(name); name != "" {
			return name
		}
	}
	return ""
}

// note counts lookups without an answer in a row, and gives up after
// GiveUpAfter. A server failure or a refusal is an answer: reverse zones of
// spammers' addresses are often broken, and say so.
func (n *Namer) note(s resolver.Status) {
	if s != resolver.Timeout && s != resolver.Failed {
		n.unanswered.Store(0)
		return
	}
	limit := int64(n.GiveUpAfter)
	if limit <= 0 {
		limit = 32
	}
	if n.unanswered.Add(1) >= limit && n.gaveUp.CompareAndSwap(false, true) && n.OnGiveUp != nil {
		n.OnGiveUp()
	}
}
