// Package reportimport puts the reports a reportfile walk finds into a
// store: DMARC aggregate reports (RFC 7489, RFC 9990) with the reverse DNS
// names of their source addresses, DMARC failure reports (RFC 6591,
// RFC 9991) and SMTP TLS reports (RFC 8460). Each report goes in whole or
// not at all; one already stored is a duplicate, left alone.
package reportimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/dmarcsum"
	"github.com/mailtriage/mailtriage/reportfile"
	"github.com/mailtriage/mailtriage/store"
)

// Counts say what became of the reports an import found.
type Counts struct {
	Imported   int64 `json:"imported"`
	Aggregate  int64 `json:"aggregate"`
	Failure    int64 `json:"failure"`
	TLS        int64 `json:"tls"`
	Duplicates int64 `json:"duplicates"`
	Failed     int64 `json:"failed"`
}

// Store is the part of a store an import writes to.
type Store interface {
	store.DMARCWriter
	store.TLSWriter
}

// Importer writes the reports of a walk into a store and counts them.
type Importer struct {
	Store Store
	// Namer looks up the names of aggregate reports' source addresses;
	// nil imports them without.
	Namer *dmarcsum.Namer
	// Failed, if set, is told each input that could not be read and each
	// report the store refused as invalid, one call at a time; the import
	// goes on.
	Failed func(name string, err error)
	Log    *slog.Logger

	mu sync.Mutex
	c  Counts
}

// Counts returns the counts so far.
func (im *Importer) Counts() Counts {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.c
}

// lookups is how many reports have their sources' names looked up at
// once: the lookups wait on the DNS, not on this machine.
const lookups = 16

// maxBatch is the most reports written in one commit.
const maxBatch = 64

// Run walks the inputs args with w and writes their reports. The walk
// hands reports on in input order; the name lookups run for several
// reports at once; one writer takes what is ready, as many as are
// waiting, in one batch, which the store commits once. It returns the
// walk's error, and the error that stopped the writer (a store that
// cannot write: a full disk, a damaged file), which ends the walk too.
func (im *Importer) Run(ctx context.Context, w *reportfile.Walker, args []string) (walkErr, fatal error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan named, maxBatch)
	items := make(chan reportfile.Item, lookups)
	var looking sync.WaitGroup
	if im.Namer != nil {
		for range lookups {
			looking.Go(func() {
				for it := range items {
					r := named{Item: it}
					if it.Aggregate != nil {
						r.names = im.Namer.Names(ctx, sourceIPs(it.Aggregate))
					}
					send(ctx, ready, r)
				}
			})
		}
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		if fatal = im.writeAll(ctx, ready); fatal != nil {
			cancel()
			for range ready {
				// Drained, so that nobody waits on the writer.
			}
		}
	}()
	walkErr = w.Walk(ctx, args,
		func(it reportfile.Item) error {
			if im.Namer != nil {
				return send(ctx, items, it)
			}
			return send(ctx, ready, named{Item: it})
		},
		im.failed)
	close(items)
	looking.Wait()
	close(ready)
	<-written
	return walkErr, fatal
}

// named is a report found, with its sources' names when looked up.
type named struct {
	reportfile.Item
	names map[netip.Addr]string
}

// send sends v on c, unless ctx ends first.
func send[T any](ctx context.Context, c chan<- T, v T) error {
	select {
	case c <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeAll writes what arrives on ready until it is closed, in batches of
// what is waiting. It returns the first error that stops the import.
func (im *Importer) writeAll(ctx context.Context, ready <-chan named) error {
	for first := range ready {
		batch := []named{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case it, ok := <-ready:
				if !ok {
					break fill
				}
				batch = append(batch, it)
			default:
				break fill
			}
		}
		if err := im.write(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// write stores a batch: its aggregate reports together, the failure and
// TLS reports (few) one by one. A report the store refuses as invalid is a
// failed input; any other store error stops the import.
func (im *Importer) write(ctx context.Context, batch []named) error {
	var aggs []store.AggregateInput
	var aggItems []named
	for _, it := range batch {
		var added bool
		var err error
		var kind *int64
		switch {
		case it.Aggregate != nil:
			aggs = append(aggs, store.AggregateInput{Report: it.Aggregate, RDNS: it.names})
			aggItems = append(aggItems, it)
			continue
		case it.Failure != nil:
			added, err = im.Store.PutFailureReport(ctx, it.Failure)
			kind = &im.c.Failure
		case it.TLS != nil:
			added, err = im.Store.PutTLSReport(ctx, it.TLS)
			kind = &im.c.TLS
		default:
			continue
		}
		if err := im.count(it.Source, added, err, kind); err != nil {
			return err
		}
	}
	if len(aggs) == 0 {
		return nil
	}
	res, err := im.Store.PutAggregateReports(ctx, aggs)
	if err != nil {
		return fmt.Errorf("writing %d reports, from %s on: %w", len(aggs), aggItems[0].Source, err)
	}
	for i, r := range res {
		if err := im.count(aggItems[i].Source, r.Added, r.Err, &im.c.Aggregate); err != nil {
			return err
		}
	}
	return nil
}

// count counts one report's fate.
func (im *Importer) count(source string, added bool, err error, kind *int64) error {
	if errors.Is(err, store.ErrInvalid) {
		im.failed(source, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if added {
		im.c.Imported++
		*kind++
	} else {
		im.c.Duplicates++
		if im.Log != nil {
			im.Log.Debug("duplicate", "source", source)
		}
	}
	return nil
}

// failed counts an input that could not be read, and tells Failed.
func (im *Importer) failed(name string, err error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.c.Failed++
	if im.Failed != nil {
		im.Failed(name, err)
	}
}

// sourceIPs lists a report's source addresses, each once.
func sourceIPs(a *dmarcreport.Aggregate) []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, r := range a.Records {
		ip := r.SourceIP.Unmap()
		if ip.IsValid() && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	return out
}
