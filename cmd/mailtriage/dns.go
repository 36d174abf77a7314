package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
	"github.com/miekg/dns"
	"github.com/spf13/pflag"
)

// dnsOptions are the flags of every command that asks the DNS.
type dnsOptions struct {
	server  string
	zones   []string
	offline bool
	timeout time.Duration
}

// resolverFor builds the resolver the flags ask for: the system's DNS
// server or --resolver, with zone files in front of it, and counts and
// (with --verbose) logs every query.
func (o *dnsOptions) resolverFor(e *env, queries *atomic.Int64) (resolver.Resolver, error) {
	if o.offline && len(o.zones) == 0 {
		return nil, usagef("--offline needs --zone: without zone files there is nothing to answer from")
	}
	if o.timeout <= 0 {
		return nil, usagef("--dns-timeout %v: want a positive duration", o.timeout)
	}
	var live resolver.Resolver
	if !o.offline {
		server := o.server
		if server == "" {
			server = resolver.DefaultServer()
		}
		c, err := resolver.NewClient(server)
		if err != nil {
			return nil, usagef("--resolver %q: %v", o.server, err)
		}
		c.Timeout = o.timeout
		c.Trace = func(q resolver.Query) {
			if !q.Cached {
				queries.Add(1)
			}
			e.log.Debug("dns", "query", q.String())
		}
		live = c
	}
	if len(o.zones) == 0 {
		return live, nil
	}
	z := resolver.NewZone(live)
	for _, path := range o.zones {
		f, err := os.Open(path)
		if err != nil {
			return nil, &codeError{code: exitError, err: fmt.Errorf("--zone: %w", err)}
		}
		err = z.Load(f, "", path)
		f.Close()
		if err != nil {
			return nil, &codeError{code: exitError, err: err}
		}
	}
	return &countingZone{Zone: z, e: e, queries: queries}, nil
}

// countingZone logs and counts the questions a zone file answers.
type countingZone struct {
	*resolver.Zone
	e       *env
	queries *atomic.Int64
}

func (c *countingZone) Lookup(ctx context.Context, name string, qtype uint16) resolver.Answer {
	a := c.Zone.Lookup(ctx, name, qtype)
	if a.Server == resolver.ZoneServer {
		c.queries.Add(1)
		c.e.log.Debug("dns", "query", fmt.Sprintf("%s %s: %s (zone file)", a.Name, dns.TypeToString[qtype], a.Status))
	}
	return a
}

// describe names where answers come from, for reports.
func (o *dnsOptions) describe() string {
	switch {
	case o.offline:
		return "zone files"
	case o.server != "":
		return o.server
	}
	return resolver.DefaultServer()
}

// addDNSFlags adds the flags of dnsOptions to a command.
func addDNSFlags(f *pflag.FlagSet, o *dnsOptions) {
	f.StringVar(&o.server, "resolver", "", "DNS server to ask, HOST:PORT (default: the system's, from /etc/resolv.conf)")
	f.StringArrayVar(&o.zones, "zone", nil, "answer from this zone file (RFC 1035 master format) instead of live DNS, for a change not yet published; repeatable")
	f.BoolVar(&o.offline, "offline", false, "with --zone: no network at all: names outside the zone files are not looked up")
	f.DurationVar(&o.timeout, "dns-timeout", 2*time.Second, "wait this long for each DNS answer (a timed-out query is retried twice)")
}

// blindError is the error of exit status 1 for cmd, which can make nothing
// of the answers of a resolver that answered a lookup NXDOMAIN and denies
// the top-level domains too (resolver.NXWatch.Blind); nil otherwise.
func blindError(ctx context.Context, w *resolver.NXWatch, cmd string) error {
	if err := w.Blind(ctx); err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("%s: %w; ask a resolver that reaches the public DNS (--resolver HOST:PORT), or answer from zone files with --zone", cmd, err)}
	}
	return nil
}
