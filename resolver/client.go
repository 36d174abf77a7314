package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Client asks live DNS servers. It is safe for concurrent use; lookups of
// the same name and type share one exchange and its answer for the rest of
// the run (a check is short: TTLs don't run out in it).
type Client struct {
	// Servers are tried in order, "host:port".
	Servers []string
	// Timeout bounds one exchange; Retries is how many more times a
	// timed-out query is sent (to the next server, if there is one).
	Timeout time.Duration
	Retries int
	// Trace, if set, is told of every lookup, answered or cached.
	Trace func(Query)

	mu    sync.Mutex
	cache map[cacheKey]*pending
	udp   *dns.Client
	tcp   *dns.Client
}

type cacheKey struct {
	name  string
	qtype uint16
}

// pending is a lookup in flight or done; done is closed when answer is set.
type pending struct {
	done   chan struct{}
	answer Answer
}

// NewClient returns a Client for the given servers ("host:port", or a host
// with port 53 implied); with none, the system's resolvers from
// /etc/resolv.conf.
func NewClient(servers ...string) (*Client, error) {
	if len(servers) == 0 {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("resolver: no server given and none in /etc/resolv.conf: %w", err)
		}
		for _, s := range conf.Servers {
			servers = append(servers, net.JoinHostPort(s, conf.Port))
		}
	}
	for i, s := range servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			servers[i] = net.JoinHostPort(s, "53")
		}
	}
	if len(servers) == 0 {
		return nil, errors.New("resolver: no DNS server")
	}
	return &Client{
		Servers: servers,
		Timeout: 2 * time.Second,
		Retries: 2,
		cache:   map[cacheKey]*pending{},
		udp:     &dns.Client{Net: "udp", UDPSize: dns.DefaultMsgSize},
		tcp:     &dns.Client{Net: "tcp"},
	}, nil
}

// DefaultServer is the first system resolver, or "" if none is configured.
func DefaultServer() string {
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(conf.Servers) == 0 {
		return ""
	}
	return net.JoinHostPort(conf.Servers[0], conf.Port)
}

// Lookup asks for name's records of qtype. Every wait is bounded by the
// timeout and the retries, and by ctx.
func (c *Client) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	key := cacheKey{fqdn(name), qtype}
	c.mu.Lock()
	if p, ok := c.cache[key]; ok {
		c.mu.Unlock()
		select {
		case <-p.done:
		case <-ctx.Done():
			return Answer{Name: key.name, Type: qtype, Status: Timeout, Err: ctx.Err()}
		}
		c.trace(Query{Name: key.name, Type: dns.TypeToString[qtype], Status: p.answer.Status, Cached: true})
		return p.answer
	}
	p := &pending{done: make(chan struct{})}
	c.cache[key] = p
	c.mu.Unlock()
	p.answer = c.exchange(ctx, key.name, qtype)
	close(p.done)
	if p.answer.Status == Timeout && ctx.Err() != nil {
		// Cancelled, not an answer: let a later lookup try again.
		c.mu.Lock()
		delete(c.cache, key)
		c.mu.Unlock()
	}
	return p.answer
}

func (c *Client) trace(q Query) {
	if c.Trace != nil {
		c.Trace(q)
	}
}

// exchange sends the query, retrying timeouts on the next server and
// truncated answers over TCP.
func (c *Client) exchange(ctx context.Context, name string, qtype uint16) Answer {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = true
	q.SetEdns0(dns.DefaultMsgSize, false)
	var last Answer
	for try := 0; try <= c.Retries; try++ {
		server := c.Servers[try%len(c.Servers)]
		a, retry := c.once(ctx, q, server, name, qtype)
		if !retry {
			return a
		}
		last = a
		if ctx.Err() != nil {
			break
		}
	}
	return last
}

// once makes one exchange with server, over TCP too if the UDP answer was
// truncated, and says whether it is worth trying again.
func (c *Client) once(ctx context.Context, q *dns.Msg, server, name string, qtype uint16) (Answer, bool) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	proto := "udp"
	m, rtt, err := c.udp.ExchangeContext(cctx, q, server)
	if err == nil && m.Truncated {
		proto = "tcp"
		m, rtt, err = c.tcp.ExchangeContext(cctx, q, server)
	}
	if err != nil {
		a := Answer{Name: name, Type: qtype, Status: Failed, Err: err, Server: server, RTT: rtt}
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			a.Status, a.Err = Timeout, ErrTimeout
		}
		c.trace(Query{Name: name, Type: dns.TypeToString[qtype], Server: server, Protocol: proto, Status: a.Status, RTT: rtt, Err: err})
		return a, a.Status == Timeout
	}
	a := fromMsg(name, qtype, m)
	a.Server, a.RTT = server, rtt
	c.trace(Query{Name: name, Type: dns.TypeToString[qtype], Server: server, Protocol: proto, Status: a.Status, RTT: rtt})
	// A SERVFAIL from one server may be another's answer.
	return a, a.Status == ServFail && len(c.Servers) > 1
}
