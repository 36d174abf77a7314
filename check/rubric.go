package check

import "github.com/mailtriage/mailtriage"

// The categories of the score. BIMI is shown but not scored.
const (
	CatSPF       = "spf"
	CatDKIM      = "dkim"
	CatDMARC     = "dmarc"
	CatTransport = "transport"
	CatIdentity  = "identity"
	CatBIMI      = "bimi"
	CatBlocklist = "blocklists"
)

// Categories in the order reports show them.
var categoryOrder = []string{CatSPF, CatDKIM, CatDMARC, CatTransport, CatIdentity, CatBlocklist, CatBIMI}

// maxPoints is what every scored check is worth, as in internet.nl: full
// marks 10, half 5, "less" 2, none 0.
const maxPoints = 10

// A checkDef is one scored check. A check that was made scores
// maxPoints, less what its worst finding takes away; a check that could
// not be made (a DNS timeout) is left out of the score.
type checkDef struct {
	ID, Category, Title string
}

// A codeDef is one finding code: its severity, owner, and the points the
// check it concerns keeps when it is found ("" Check: not scored).
type codeDef struct {
	Code     string
	Severity mailtriage.Severity
	Owner    mailtriage.Owner
	Check    string
	Points   int
	Title    string
}

// checkDefs are the scored checks.
var checkDefs = []checkDef{
	{"spf.record", CatSPF, "an SPF record is published, once, and parses"},
	{"spf.policy", CatSPF, "the record ends in -all or ~all"},
	{"spf.lookups", CatSPF, "evaluation stays within 10 DNS lookups and 2 void lookups (RFC 7208 §4.6.4)"},
	{"spf.ip", CatSPF, "SPF passes for each --ip (worst address counts)"},
	{"dkim.key", CatDKIM, "a DKIM key is published for the selectors"},
	{"dkim.strength", CatDKIM, "every key is RSA ≥ 2048 bits or ed25519 (RFC 8301; worst key counts)"},
	{"dkim.mode", CatDKIM, "no key is in testing (t=y) or limited to sha1"},
	{"dmarc.record", CatDMARC, "a DMARC policy is found and parses (RFC 9989)"},
	{"dmarc.policy", CatDMARC, "the policy is quarantine or reject, for subdomains too, and not in testing"},
	{"dmarc.reports", CatDMARC, "aggregate reports go to an authorized address"},
	{"mx.hosts", CatTransport, "MX hosts are named, resolve, and have public addresses"},
	{"tls.starttls", CatTransport, "every MX offers STARTTLS (--smtp-probe)"},
	{"tls.certificate", CatTransport, "every MX certificate is valid for its name, with TLS 1.2 or later (--smtp-probe)"},
	{"mtasts.policy", CatTransport, "an MTA-STS policy in enforce mode covers every MX (RFC 8461)"},
	{"tlsrpt.record", CatTransport, "a TLS-RPT record asks for reports (RFC 8460)"},
	{"rdns.ptr", CatIdentity, "each --ip has reverse DNS"},
	{"rdns.fcrdns", CatIdentity, "the reverse name resolves back to the address"},
	{"rdns.name", CatIdentity, "the reverse name is not a generic one"},
	{"helo.name", CatIdentity, "the --helo name is a fully qualified name that exists"},
	{"helo.match", CatIdentity, "the --helo name resolves to the sending address"},
	{"blocklist.ip", CatBlocklist, "no --ip is on a scored blocklist (worst address counts)"},
	{"blocklist.mx", CatBlocklist, "no MX address is on a scored blocklist"},
	{"blocklist.domain", CatBlocklist, "the domain is on no scored domain list"},
}

const (
	errSev  = mailtriage.SeverityError
	warnSev = mailtriage.SeverityWarning
	infoSev = mailtriage.SeverityInfo
	unkSev  = mailtriage.SeverityUnknown

	sender = mailtriage.OwnerSender
	esp    = mailtriage.OwnerESP
)

// codeDefs are every finding code check reports; docs/checks.md is made
// from this table and a test keeps the two the same.
var codeDefs = []codeDef{
	// The codes of package spf's diagnosis, "spf-" read as "spf.".
	{"spf.dns-failure", unkSev, sender, "", 0, "an SPF record (the domain's or an include's) could not be looked up"},
	{"spf.none", errSev, sender, "spf.record", 0, "no SPF record"},
	{"spf.multiple", errSev, sender, "spf.record", 0, "more than one SPF record (permerror, RFC 7208 §4.5)"},
	{"spf.syntax", errSev, sender, "spf.record", 0, "the record or one it includes does not parse (permerror)"},
	{"spf.target-missing", errSev, sender, "spf.record", 0, "an include or redirect names a domain that does not exist (permerror)"},
	{"spf.target-no-record", errSev, sender, "spf.record", 0, "an include or redirect names a domain without an SPF record (permerror)"},
	{"spf.target-invalid", errSev, sender, "spf.record", 0, "an include or redirect target is not a valid name (permerror)"},
	{"spf.loop", errSev, sender, "spf.record", 0, "includes or redirects loop"},
	{"spf.pass-all", errSev, sender, "spf.policy", 0, "+all: anyone may send as the domain"},
	{"spf.neutral-all", warnSev, sender, "spf.policy", 2, "?all: SPF asserts nothing about other senders"},
	{"spf.no-all", warnSev, sender, "spf.policy", 2, "no all and no redirect: other senders get neutral"},
	{"spf.deprecated", warnSev, sender, "spf.policy", 2, "default=, from drafts before RFC 4408: ignored, so other senders get neutral"},
	{"spf.lookup-limit", errSev, sender, "spf.lookups", 0, "more than 10 DNS lookups (permerror, RFC 7208 §4.6.4)"},
	{"spf.void-limit", errSev, sender, "spf.lookups", 0, "more than 2 lookups that find nothing (permerror, RFC 7208 §4.6.4)"},
	{"spf.mx-limit", errSev, sender, "spf.lookups", 0, "an mx term with more than 10 MX names (permerror, RFC 7208 §4.6.4)"},
	{"spf.lookup-limit-near", infoSev, sender, "", 0, "8 to 10 lookups: little room for one more include"},
	{"spf.void-lookups", warnSev, sender, "", 0, "lookups that find nothing, within the limit of 2"},
	{"spf.void-term", warnSev, sender, "", 0, "a term whose lookup finds nothing"},
	{"spf.after-all", warnSev, sender, "", 0, "terms after all, never evaluated"},
	{"spf.redirect-ignored", warnSev, sender, "", 0, "a redirect ignored because the record has all (RFC 7208 §6.1)"},
	{"spf.ptr", warnSev, sender, "", 0, "the ptr mechanism, which RFC 7208 §5.5 says not to use"},
	{"spf.duplicate-include", warnSev, sender, "", 0, "the same include twice"},
	{"spf.length", warnSev, sender, "", 0, "the record is over 450 bytes: answers may not fit in UDP"},
	{"spf.strings", infoSev, sender, "", 0, "the record is split into several strings, joined without spaces"},
	{"spf.unknown-modifier", infoSev, sender, "", 0, "an unknown modifier, ignored"},
	{"spf.macro-target", infoSev, sender, "", 0, "an include whose target depends on the message: not followed"},
	{"spf.not-followed", infoSev, sender, "", 0, "part of the tree too deep or too large to diagnose"},
	{"spf.rr-type", infoSev, sender, "", 0, "records of the obsolete SPF RR type (99)"},
	// check_host() for each --ip.
	{"spf.ip-fail", errSev, esp, "spf.ip", 0, "SPF fails for a sending address"},
	{"spf.ip-softfail", warnSev, esp, "spf.ip", 5, "SPF soft-fails for a sending address"},
	{"spf.ip-neutral", warnSev, esp, "spf.ip", 2, "SPF is neutral or none for a sending address"},
	{"spf.ip-permerror", errSev, sender, "spf.ip", 0, "SPF evaluation for a sending address ends in permerror"},
	{"spf.ip-temperror", unkSev, sender, "", 0, "SPF evaluation for a sending address ends in temperror"},

	{"dkim.unknown", unkSev, sender, "", 0, "a DKIM key could not be looked up"},
	{"dkim.not-found", infoSev, sender, "", 0, "none of the common selectors has a key, though some selector does; give --selector to check yours"},
	{"dkim.none", errSev, sender, "dkim.key", 0, "_domainkey.<domain> does not exist: no selector has a key"},
	{"dkim.ed25519-only", warnSev, sender, "", 0, "only ed25519 keys, which many verifiers do not check yet"},
	{"dkim.selector-missing", errSev, sender, "dkim.key", 0, "a selector given has no key record"},
	{"dkim.revoked", warnSev, sender, "dkim.key", 0, "a selector given has a revoked key (empty p=)"},
	{"dkim.syntax", errSev, sender, "dkim.strength", 0, "a key record does not parse, or its key can't be read"},
	{"dkim.key-too-short", errSev, sender, "dkim.strength", 0, "an RSA key under 1024 bits: receivers ignore the signature (RFC 8301 §3.2)"},
	{"dkim.key-weak", warnSev, sender, "dkim.strength", 5, "an RSA key under 2048 bits"},
	{"dkim.sha1-only", errSev, sender, "dkim.mode", 0, "a key limited to sha1 (h=sha1), which RFC 8301 forbids"},
	{"dkim.testing", warnSev, sender, "dkim.mode", 5, "a key in testing mode (t=y)"},
	{"dkim.key-type-case", warnSev, sender, "dkim.key", 5, "k= not in lower case (k=RSA): tag values are case-sensitive (RFC 6376 §3.2), so verifiers may refuse the key"},
	{"dkim.pkcs1", warnSev, sender, "", 0, "a key published as bare PKCS #1 rather than SubjectPublicKeyInfo"},
	{"dkim.delegated", infoSev, esp, "", 0, "a selector is a CNAME to an email service, which owns the key"},

	{"dmarc.unknown", unkSev, sender, "", 0, "the DMARC policy could not be looked up"},
	{"dmarc.missing", errSev, sender, "dmarc.record", 0, "no DMARC policy for the domain or its organization"},
	{"dmarc.invalid", errSev, sender, "dmarc.record", 0, "the DMARC record has errors receivers act on"},
	{"dmarc.multiple", errSev, sender, "dmarc.record", 0, "more than one DMARC record at a name"},
	{"dmarc.tag-warning", warnSev, sender, "", 0, "a tag receivers ignore or read differently (pct, rf, ri were removed by RFC 9989)"},
	{"dmarc.policy-none", warnSev, sender, "dmarc.policy", 2, "p=none: failing mail is delivered as if there were no policy"},
	{"dmarc.policy-testing", warnSev, sender, "dmarc.policy", 5, "t=y: receivers apply the policy one step weaker (RFC 9989)"},
	{"dmarc.subdomain-weaker", warnSev, sender, "dmarc.policy", 5, "sp= or np= is none under a stricter p="},
	{"dmarc.no-rua", warnSev, sender, "dmarc.reports", 5, "no rua=: nobody will see who sends as the domain"},
	{"dmarc.rua-unauthorized", warnSev, sender, "dmarc.reports", 5, "a report address outside the domain has not authorized the reports"},
	{"dmarc.ruf-unauthorized", warnSev, sender, "", 0, "a failure-report address outside the domain has not authorized the reports"},
	{"dmarc.inherited", infoSev, sender, "", 0, "the policy comes from a parent domain"},
	{"dmarc.psl-differs", warnSev, sender, "", 0, "RFC 7489's public-suffix lookup finds another policy, or none"},

	{"domain.nxdomain", errSev, sender, "mx.hosts", 0, "the domain does not exist"},
	{"mx.unknown", unkSev, sender, "", 0, "the MX records could not be looked up"},
	{"domain.resolver-blind", unkSev, sender, "", 0, "the resolver does not reach the public DNS"},
	{"mx.null-sender", errSev, sender, "mx.hosts", 0, "a null MX on a domain that sends mail (RFC 7505 §4.2)"},
	{"mx.null", infoSev, sender, "", 0, "a null MX: the domain accepts no mail (RFC 7505)"},
	{"mx.implicit", warnSev, sender, "mx.hosts", 5, "no MX record: senders fall back to the domain's address"},
	{"mx.null-mx-preference", warnSev, sender, "mx.hosts", 5, "a null MX with a preference other than 0"},
	{"mx.null-mx-mixed", errSev, sender, "mx.hosts", 0, "a null MX beside other MX records"},
	{"mx.mx-ip-literal", errSev, sender, "mx.hosts", 0, "an MX that names an IP address"},
	{"mx.mx-alias", warnSev, sender, "mx.hosts", 5, "an MX that names a CNAME (RFC 2181 §10.3)"},
	{"mx.mx-no-address", errSev, sender, "mx.hosts", 0, "an MX host without an address"},
	{"mx.mx-private-address", errSev, sender, "mx.hosts", 0, "an MX host at a non-public address"},
	{"mx.mx-unreachable", errSev, sender, "mx.hosts", 0, "no MX host has a public address"},
	{"mx.no-address", errSev, sender, "mx.hosts", 0, "no MX record and no address: the domain takes no mail"},

	{"tls.unreachable", unkSev, sender, "", 0, "an MX could not be reached on port 25"},
	{"tls.no-starttls", errSev, sender, "tls.starttls", 0, "an MX does not offer STARTTLS"},
	{"tls.starttls-failed", errSev, sender, "tls.starttls", 0, "STARTTLS is offered, but the TLS handshake fails"},
	{"tls.certificate-invalid", warnSev, sender, "tls.certificate", 2, "an MX certificate is not valid for its name, expired, or not trusted"},
	{"tls.certificate-invalid-enforced", errSev, sender, "tls.certificate", 0, "an MX certificate is not valid while the MTA-STS policy is enforced: senders will not deliver"},
	{"tls.old-version", warnSev, sender, "tls.certificate", 5, "an MX negotiates a TLS version below 1.2"},

	{"mtasts.unknown", unkSev, sender, "", 0, "the MTA-STS record or policy could not be fetched for a reason outside the domain"},
	{"mtasts.missing", warnSev, sender, "mtasts.policy", 2, "no MTA-STS: senders deliver even when TLS is stripped"},
	{"mtasts.invalid", errSev, sender, "mtasts.policy", 0, "the MTA-STS record or policy is invalid or can't be fetched"},
	{"mtasts.testing", warnSev, sender, "mtasts.policy", 5, "the MTA-STS policy is in testing mode"},
	{"mtasts.none", warnSev, sender, "mtasts.policy", 2, "the MTA-STS policy is mode none"},
	{"mtasts.mx-not-covered", errSev, sender, "mtasts.policy", 0, "an MX host is not covered by the enforced policy: senders will not deliver to it"},
	{"mtasts.mx-not-covered-testing", warnSev, sender, "mtasts.policy", 5, "an MX host is not covered by the policy in testing mode"},
	{"tlsrpt.missing", warnSev, sender, "tlsrpt.record", 5, "no TLS-RPT record: TLS failures at senders go unreported"},
	{"tlsrpt.invalid", errSev, sender, "tlsrpt.record", 0, "the TLS-RPT record is invalid"},
	{"tlsrpt.unknown", unkSev, sender, "", 0, "the TLS-RPT record could not be looked up"},

	{"rdns.unknown", unkSev, esp, "", 0, "the reverse DNS of an address could not be looked up"},
	{"rdns.no-ptr", errSev, esp, "rdns.ptr", 0, "an address without reverse DNS"},
	{"rdns.not-confirmed", errSev, esp, "rdns.fcrdns", 0, "the reverse name does not resolve back to the address"},
	{"rdns.many-ptr", warnSev, esp, "", 0, "an address with several PTR records"},
	{"rdns.generic-ptr", warnSev, esp, "rdns.name", 5, "a generic reverse name"},
	{"helo.unknown", unkSev, esp, "", 0, "the HELO name could not be looked up"},
	{"helo.helo-literal", warnSev, esp, "helo.name", 5, "the HELO is an address literal"},
	{"helo.helo-bare-ip", errSev, esp, "helo.name", 0, "the HELO is a bare IP address"},
	{"helo.helo-not-fqdn", errSev, esp, "helo.name", 0, "the HELO is not a fully qualified name"},
	{"helo.helo-not-found", errSev, esp, "helo.name", 0, "the HELO name does not exist"},
	{"helo.helo-generic", warnSev, esp, "helo.name", 5, "the HELO name is generic"},
	{"helo.helo-mismatch", warnSev, esp, "helo.match", 5, "the HELO name does not resolve to the sending address"},
	{"helo.rdns-differs", infoSev, esp, "", 0, "the HELO name is not the reverse name of the address"},

	{"blocklist.unavailable", unkSev, sender, "", 0, "lists that refused the resolver, failed their test entries or did not answer"},
	{"blocklist.listed-ip", errSev, esp, "blocklist.ip", 0, "a sending address is on a scored blocklist"},
	{"blocklist.listed-mx", errSev, sender, "blocklist.mx", 0, "an MX address is on a scored blocklist"},
	{"blocklist.listed-domain", errSev, sender, "blocklist.domain", 0, "the domain is on a scored domain list"},
	{"blocklist.policy-ip", warnSev, esp, "blocklist.ip", 5, "a sending address is on a policy list (PBL-like) or a lesser code"},
	{"blocklist.policy-mx", warnSev, sender, "blocklist.mx", 5, "an MX address is on a policy list or a lesser code"},
	{"blocklist.policy-domain", warnSev, sender, "blocklist.domain", 5, "the domain has a lesser listing (URIBL grey, say)"},
	{"blocklist.informational", infoSev, esp, "", 0, "a listing on an informational (tier 2) list"},
	{"blocklist.allowed", infoSev, esp, "", 0, "an allowlist lists a target: a positive signal"},

	{"bimi.missing", infoSev, sender, "", 0, "no BIMI record"},
	{"bimi.invalid", warnSev, sender, "", 0, "the BIMI record is invalid"},
	{"bimi.declined", infoSev, sender, "", 0, "the BIMI record declines to publish a logo"},
	{"bimi.no-certificate", infoSev, sender, "", 0, "a logo without a mark certificate (a=), which Gmail and Apple require"},
	{"bimi.dmarc-not-enforced", warnSev, sender, "", 0, "a BIMI logo while DMARC is not at quarantine or reject"},
	{"bimi.unknown", unkSev, sender, "", 0, "the BIMI record could not be looked up"},
}
