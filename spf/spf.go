// Package spf implements the Sender Policy Framework (SPF, RFC 7208): it
// parses "v=spf1" records (§4.5-§7, §12), evaluates check_host() (§4, §5)
// for an IP address and a sender, and diagnoses a domain's record as a
// whole: the tree of includes and redirects, the DNS-lookup and
// void-lookup counts a receiver would see (counted past the limits, so a
// user sees how far over they are), and the problems worth a finding.
//
// All DNS goes through a resolver.Resolver, which keeps "the name does not
// exist" apart from "the lookup failed": a failed lookup is a temperror or
// an unknown, never a missing record.
//
// Reference: https://www.rfc-editor.org/rfc/rfc7208
package spf

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage/resolver"
)

// Status is the result of check_host() (RFC 7208 §2.6).
type Status string

const (
	// None: no syntactically valid domain, or no SPF record at it (§2.6.1).
	None Status = "none"
	// Neutral: the domain owner states nothing about the IP (§2.6.2); also
	// the result when no mechanism matches and there is no redirect (§4.7).
	Neutral Status = "neutral"
	// Pass: the IP is authorized to use the domain (§2.6.3).
	Pass Status = "pass"
	// Fail: the IP is not authorized to use the domain (§2.6.4).
	Fail Status = "fail"
	// Softfail: the IP is probably not authorized; a weak fail (§2.6.5).
	Softfail Status = "softfail"
	// Temperror: a transient error, usually DNS, stopped the check; a later
	// retry may succeed (§2.6.6).
	Temperror Status = "temperror"
	// Permerror: the published records cannot be interpreted correctly
	// (§2.6.7): a syntax error, a limit exceeded, an include without record.
	Permerror Status = "permerror"
)

// Limits of RFC 7208 §4.6.4.
const (
	// MaxLookups is the most terms that cause DNS lookups (include, a,
	// mx, ptr, exists, redirect) one check may evaluate.
	MaxLookups = 10
	// MaxVoidLookups is the most of those lookups that may come back empty
	// (NODATA or NXDOMAIN).
	MaxVoidLookups = 2
	// MaxNames is the most MX names an "mx" mechanism may have, and the
	// most PTR names a "ptr" mechanism or the %{p} macro validates.
	MaxNames = 10
	// Timeout bounds a whole check when the context sets no deadline
	// ("at least 20 seconds").
	Timeout = 20 * time.Second
)

// Errors that say why a result is none, temperror or permerror. Syntax
// errors are *SyntaxError; DNS failures wrap ErrDNS.
var (
	ErrInvalidDomain    = errors.New("spf: domain is not a valid multi-label domain name")
	ErrNoRecord         = errors.New("spf: no SPF record")
	ErrMultipleRecords  = errors.New("spf: several SPF records")
	ErrNotSPF           = errors.New("spf: not an SPF record (no v=spf1)")
	ErrDNS              = errors.New("spf: DNS lookup failed")
	ErrTooManyLookups   = errors.New("spf: more than 10 DNS-querying terms")
	ErrTooManyVoid      = errors.New("spf: more than 2 void lookups")
	ErrTooManyMX        = errors.New("spf: more than 10 MX names")
	ErrIncludeNoRecord  = errors.New("spf: include target has no SPF record")
	ErrRedirectNoRecord = errors.New("spf: redirect target has no SPF record")
	ErrInvalidIP        = errors.New("spf: invalid IP address")
)

// Result is the outcome of CheckHost.
type Result struct {
	Status Status
	// Explanation is the text of the exp= modifier of the record that
	// gave a fail, macro-expanded (§6.2); "" when there is none or it
	// could not be had. Receivers may put a default text in its place.
	Explanation string
	// Domain is the domain whose record gave the result: the one checked,
	// or a redirect's target.
	Domain string
	// Term is the mechanism that matched, as written; "" when none did.
	Term string
	// Err says why the result is none, temperror or permerror.
	Err error
	// Lookups and VoidLookups are the DNS-querying terms evaluated and
	// those whose lookup came back empty, as counted against the limits.
	Lookups     int
	VoidLookups int
}

// CheckHost evaluates the SPF policy of domain for a message from ip
// (check_host(), RFC 7208 §4). sender is the MAIL FROM address, or
// "postmaster@" + the HELO name when the identity checked is the HELO
// (see SenderIdentity); helo is the HELO/EHLO name, for the %{h} macro.
// An IPv4-mapped IPv6 address is checked as IPv4 (§5). Without a deadline
// on ctx, the check is bounded by Timeout, after which it is temperror.
func CheckHost(ctx context.Context, r resolver.Resolver, ip netip.Addr, domain, sender, helo string) Result {
	if !ip.IsValid() {
		return Result{Status: Permerror, Err: ErrInvalidIP}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	c := newChecker(r, ip.Unmap(), domain, sender, helo)
	o := c.checkHost(ctx, domain, false)
	res := Result{Status: o.status, Err: o.err, Domain: o.domain, Lookups: c.lookups, VoidLookups: c.voids}
	if o.term != nil {
		res.Term = o.term.Raw
	}
	if o.status == Fail && o.rec != nil {
		res.Explanation = c.explain(ctx, o.rec, o.domain)
	}
	return res
}

// SenderIdentity returns the domain and sender that check the MAIL FROM
// identity (RFC 7208 §2.4): the domain of mailFrom, or for the null
// reverse-path, the HELO name with "postmaster" as the local part.
func SenderIdentity(mailFrom, helo string) (domain, sender string) {
	mailFrom = strings.TrimSuffix(strings.TrimPrefix(mailFrom, "<"), ">")
	if mailFrom == "" {
		return helo, "postmaster@" + helo
	}
	if i := strings.LastIndexByte(mailFrom, '@'); i >= 0 {
		return mailFrom[i+1:], mailFrom
	}
	return mailFrom, "postmaster@" + mailFrom
}
