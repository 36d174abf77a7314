// Package samplelog writes a realistic Postfix log of a multi-day incident:
// mail to Apple's iCloud domains deferred by Proofpoint ("421 4.7.0 Deferred
// - see Proofpoint DNSBL lookup"), while Gmail, Microsoft and Yahoo mostly
// accept. It simulates an outbound relay's queue: two sending hosts, a
// transactional stream that passes a content filter (amavis) and a
// marketing stream sent in campaigns; retries with Postfix's back-off,
// suspended destinations, expiry after the queue lifetime with the
// notifications the bounce daemon sends, permanent bounces, non-final MX
// replies, and the noise of a real mail.log.
//
// The sample in examples/ and the benchmark input come from it; the same
// seed and scale give the same bytes on every machine. Every line follows
// the formats of Postfix 3.x (global/log_adhoc.c and friends); the hosts,
// addresses and IPs are invented (example domains, documentation IPs) except
// the providers' real MX names.
package samplelog

import (
	"bufio"
	"container/heap"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Config says what to simulate.
type Config struct {
	Start time.Time // the first second of the log, UTC
	Days  int
	// Scale multiplies the volume: 1 is about 6,600 messages over four
	// days (the shipped sample); the benchmark uses more.
	Scale float64
	Seed  uint64
	// Lifetime is the queue lifetime (Postfix maximal_queue_lifetime);
	// the sample uses one day so expiries happen inside the log.
	Lifetime time.Duration
	// Traditional writes classic syslog stamps ("Nov 26 00:00:04", no year,
	// no zone) instead of RFC 3339 ones.
	Traditional bool
	// PflogsummReadable writes the log as Postfix before 3.11 logs it
	// (no tls= field in delivery lines) with one syslog name on both
	// hosts: pflogsumm 1.1.5, which skips a delivery line with tls= and
	// reads only the syslog name "postfix", then reads all of it. The
	// benchmark compares the two tools on such a log.
	PflogsummReadable bool
}

// Default is the shipped sample's configuration.
func Default() Config {
	return Config{
		Start:    time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Days:     4,
		Scale:    1,
		Seed:     2026,
		Lifetime: 24 * time.Hour,
	}
}

// Generate writes the log to w.
func Generate(w io.Writer, cfg Config) error {
	_, err := GenerateTruth(w, cfg)
	return err
}

// GenerateTruth writes the log to w, as Generate does, and returns what
// the simulation did: the truth an analysis of the log must find.
func GenerateTruth(w io.Writer, cfg Config) (*Truth, error) {
	g := newGen(w, cfg)
	g.run()
	g.truth.finish()
	return &g.truth, g.w.Flush()
}

type evKind uint8

const (
	evArrival evKind = iota
	evCampaign
	evAttempt
	evFilter
	evNoise
)

type event struct {
	at   int64 // unix microseconds
	seq  uint64
	kind evKind
	msg  *message
	rc   int // recipient index for evAttempt
	n    int // campaign size
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type message struct {
	host       *mta
	qid        string
	msgID      string
	sender     string
	size       int
	arrival    int64
	rcpts      []*rcpt
	open       int // recipients not yet final
	filtered   bool
	notify     bool
	expired    bool
	lastActive int64
}

type rcpt struct {
	addr     string
	dom      *domain
	final    bool
	tries    int
	nextWait int64 // seconds
	orig     string
}

type mta struct {
	name   string
	syslog string
	pids   map[string]int
	ip     string
}

type gen struct {
	cfg     Config
	w       *bufio.Writer
	rnd     *rand.Rand
	h       eventHeap
	seq     uint64
	end     int64
	hosts   []*mta
	qidN    uint64
	dead    map[string]int64 // lane -> suspended until (microseconds)
	line    []byte
	stampAt int64 // second of the cached stamp prefix
	stamp   []byte
	truth   Truth
}

func newGen(w io.Writer, cfg Config) *gen {
	if cfg.Scale <= 0 {
		cfg.Scale = 1
	}
	if cfg.Days <= 0 {
		cfg.Days = 4
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = 24 * time.Hour
	}
	g := &gen{
		cfg:  cfg,
		w:    bufio.NewWriterSize(w, 1<<20),
		rnd:  rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		dead: map[string]int64{},
		truth: Truth{
			Lanes: map[string]*Tally{},
			Hours: map[LaneHour]*Attempts{},
		},
	}
	g.hosts = []*mta{
		{name: "mta1", syslog: "postfix", ip: "203.0.113.25", pids: map[string]int{}},
		{name: "mta2", syslog: "postfix-mkt", ip: "203.0.113.26", pids: map[string]int{}},
	}
	if cfg.PflogsummReadable {
		g.hosts[1].syslog = "postfix"
	}
	start := cfg.Start.UnixMicro()
	g.end = cfg.Start.Add(time.Duration(cfg.Days) * 24 * time.Hour).UnixMicro()
	for day := 0; day < cfg.Days; day++ {
		base := start + int64(day)*86400e6
		for _, hour := range []int64{9, 15} {
			size := int(float64(450+g.rnd.IntN(150)) * cfg.Scale)
			g.push(&event{at: base + hour*3600e6, kind: evCampaign, n: size})
		}
	}
	g.push(&event{at: start + int64(g.rnd.IntN(20e6)), kind: evArrival})
	g.push(&event{at: start + 5e6, kind: evNoise})
	return g
}

func (g *gen) push(e *event) {
	g.seq++
	e.seq = g.seq
	heap.Push(&g.h, e)
}

func (g *gen) run() {
	for g.h.Len() > 0 {
		e := heap.Pop(&g.h).(*event)
		if e.at >= g.end {
			continue
		}
		switch e.kind {
		case evArrival:
			g.transactional(e.at)
			g.push(&event{at: e.at + g.interArrival(e.at), kind: evArrival})
		case evCampaign:
			g.campaign(e.at, e.n)
		case evAttempt:
			g.attempt(e.at, e.msg, e.rc)
		case evFilter:
			g.contentFilter(e.at, e.msg)
		case evNoise:
			g.noise(e.at)
			g.push(&event{at: e.at + int64(30e6+g.rnd.IntN(240e6)), kind: evNoise})
		}
	}
}

// interArrival spaces transactional messages: about 60 an hour at the
// daily peak, fewer at night.
func (g *gen) interArrival(at int64) int64 {
	hour := (at / 3600e6) % 24
	perHour := 10.0
	if hour >= 7 && hour <= 22 {
		perHour = 35
	}
	perHour *= g.cfg.Scale
	mean := 3600e6 / perHour
	return int64(g.rnd.ExpFloat64()*mean) + 1
}

func (g *gen) nextQID() string {
	g.qidN++
	v := g.qidN*2654435761 + 0x3A5B00000
	return hex10(v)
}

func hex10(v uint64) string {
	const digits = "0123456789ABCDEF"
	var b [10]byte
	for i := 9; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

func (g *gen) pid(m *mta, prog string) int {
	p, ok := m.pids[prog]
	if !ok || g.rnd.IntN(50) == 0 {
		p = 1000 + g.rnd.IntN(60000)
		m.pids[prog] = p
	}
	return p
}

// transactional receives one message from the application server on mta1;
// it goes through the content filter before delivery.
func (g *gen) transactional(at int64) {
	host := g.hosts[0]
	n := 1
	if g.rnd.IntN(10) == 0 {
		n = 2 + g.rnd.IntN(2)
	}
	m := &message{host: host, qid: g.nextQID(), sender: "noreply@shop.example.net", size: 4000 + g.rnd.IntN(30000), arrival: at}
	m.msgID = g.messageID(at, m.qid)
	for i := 0; i < n; i++ {
		r := &rcpt{dom: g.pickDomain()}
		r.addr = g.localPart() + "@" + r.dom.name
		if g.rnd.IntN(8) == 0 {
			r.orig = "customer-" + strconv.Itoa(g.rnd.IntN(99999)) + "@shop.example.net"
		}
		m.rcpts = append(m.rcpts, r)
	}
	m.open = n
	g.truth.queued(m)
	client := "app1.shop.example.net[198.51.100.10]"
	spid := g.pid(host, "smtpd")
	g.logf(at, host, "smtpd", spid, "", "connect from "+client)
	g.logf(at+2000, host, "smtpd", spid, m.qid, "client="+client+", sasl_method=PLAIN, sasl_username=app")
	g.logf(at+9000, host, "cleanup", g.pid(host, "cleanup"), m.qid, "message-id=<"+m.msgID+">")
	g.logf(at+12000, host, "qmgr", g.pid(host, "qmgr"), m.qid, g.fromLine(m))
	g.logf(at+40000, host, "smtpd", spid, "", "disconnect from "+client+" ehlo=2 starttls=1 auth=1 mail=1 rcpt="+strconv.Itoa(n)+" data=1 quit=1 commands="+strconv.Itoa(7+n))
	g.push(&event{at: at + 300000, kind: evFilter, msg: m})
}

// contentFilter hands the message to amavis on 127.0.0.1:10024, which
// re-injects a copy through the smtpd on 10025 under a new queue id.
func (g *gen) contentFilter(at int64, m *message) {
	host := m.host
	cp := &message{host: host, qid: g.nextQID(), msgID: m.msgID, sender: m.sender, size: m.size + 900, arrival: at + 1200000}
	for _, r := range m.rcpts {
		cp.rcpts = append(cp.rcpts, &rcpt{addr: r.addr, dom: r.dom, orig: r.orig})
	}
	cp.open = len(cp.rcpts)
	t := at + 1200000
	fpid := g.pid(host, "10025/smtpd")
	g.logfS(t, host, "postfix/10025", "smtpd", fpid, "", "connect from localhost[127.0.0.1]")
	g.logfS(t+1000, host, "postfix/10025", "smtpd", fpid, cp.qid, "client=localhost[127.0.0.1]")
	g.logf(t+3000, host, "cleanup", g.pid(host, "cleanup"), cp.qid, "message-id=<"+cp.msgID+">")
	g.logf(t+5000, host, "qmgr", g.pid(host, "qmgr"), cp.qid, g.fromLine(cp))
	apid := g.pid(host, "amavis/smtp")
	for _, r := range m.rcpts {
		d := float64(t+9000-m.arrival) / 1e6
		g.logfS(t+9000, host, "postfix/amavis", "smtp", apid, m.qid, "to=<"+r.addr+">"+origTo(r)+
			", relay=127.0.0.1[127.0.0.1]:10024, delay="+fmtDelay(d)+", delays="+g.delays(d)+
			", dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as "+cp.qid+")")
	}
	g.logfS(t+10000, host, "postfix/10025", "smtpd", fpid, "", "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
	g.logf(t+11000, host, "qmgr", g.pid(host, "qmgr"), m.qid, "removed")
	for i := range cp.rcpts {
		g.push(&event{at: t + 200000 + int64(g.rnd.IntN(800000)), kind: evAttempt, msg: cp, rc: i})
	}
}

func origTo(r *rcpt) string {
	if r.orig == "" {
		return ""
	}
	return ", orig_to=<" + r.orig + ">"
}

// campaign injects n marketing messages on mta2 over about 90 minutes.
func (g *gen) campaign(at int64, n int) {
	host := g.hosts[1]
	client := "mkt1.shop.example.net[198.51.100.20]"
	spread := int64(90 * 60e6)
	t := at
	step := spread / int64(max(n, 1))
	for i := 0; i < n; i++ {
		t += step/2 + int64(g.rnd.Int64N(step+1))
		m := &message{host: host, qid: g.nextQID(), sender: "news@news.shop.example.net", size: 30000 + g.rnd.IntN(60000), arrival: t}
		m.msgID = g.messageID(t, m.qid)
		r := &rcpt{dom: g.pickDomain()}
		r.addr = g.localPart() + "@" + r.dom.name
		m.rcpts = []*rcpt{r}
		m.open = 1
		g.truth.queued(m)
		spid := g.pid(host, "smtpd")
		if i%20 == 0 {
			g.logf(t, host, "smtpd", spid, "", "connect from "+client)
		}
		g.logf(t+1000, host, "smtpd", spid, m.qid, "client="+client)
		g.logf(t+4000, host, "cleanup", g.pid(host, "cleanup"), m.qid, "message-id=<"+m.msgID+">")
		g.logf(t+6000, host, "qmgr", g.pid(host, "qmgr"), m.qid, g.fromLine(m))
		g.push(&event{at: t + 100000 + int64(g.rnd.IntN(2e6)), kind: evAttempt, msg: m, rc: 0})
	}
}

func (g *gen) fromLine(m *message) string {
	return "from=<" + m.sender + ">, size=" + strconv.Itoa(m.size) + ", nrcpt=" + strconv.Itoa(len(m.rcpts)) + " (queue active)"
}

func (g *gen) messageID(at int64, qid string) string {
	t := time.UnixMicro(at).UTC()
	return t.Format("20060102150405") + "." + qid + "@shop.example.net"
}

var firstNames = []string{"jane", "john", "maria", "li", "ahmed", "sofia", "lucas", "emma", "noah", "olivia",
	"liam", "ava", "mia", "ethan", "zoe", "omar", "ines", "yuki", "anna", "paul", "nora", "ivan", "lea", "tom"}

func (g *gen) localPart() string {
	s := firstNames[g.rnd.IntN(len(firstNames))]
	switch g.rnd.IntN(3) {
	case 0:
		s += "." + firstNames[g.rnd.IntN(len(firstNames))]
	case 1:
		s += strconv.Itoa(g.rnd.IntN(9999))
	}
	return s
}

// attempt makes one delivery attempt for one recipient.
func (g *gen) attempt(at int64, m *message, ri int) {
	r := m.rcpts[ri]
	if r.final {
		return
	}
	host := m.host
	if at-m.arrival > g.cfg.Lifetime.Microseconds() && r.tries > 0 {
		g.expire(at, m)
		return
	}
	if r.tries > 0 {
		g.logf(at-3000, host, "qmgr", g.pid(host, "qmgr"), m.qid, g.fromLine(m))
	}
	if until, ok := g.dead[r.dom.lane]; ok && at < until && r.tries > 0 {
		// The destination is suspended after a greeting-time refusal:
		// Postfix's error agent defers without trying.
		d := float64(at-m.arrival) / 1e6
		g.logf(at, host, "error", g.pid(host, "error"), m.qid, "to=<"+r.addr+">"+origTo(r)+", relay=none, delay="+fmtDelay(d)+
			", delays="+g.delays(d)+", dsn=4.7.0, status=deferred (delivery temporarily suspended: "+g.lastRefusal(r.dom)+")")
		g.truth.localDeferral(m, r)
		g.retry(at, m, ri)
		return
	}
	r.tries++
	out := r.dom.outcome(g, at, m, r)
	d := float64(at-m.arrival) / 1e6
	mx := r.dom.mx[g.rnd.IntN(len(r.dom.mx))]
	relay := mx.name + "[" + mx.ip + "]:25"
	pid := g.pid(host, "smtp")
	tls := ""
	if host.name == "mta2" && !g.cfg.PflogsummReadable {
		tls = ", tls=may"
	}
	conn := ""
	if out.status == "sent" && g.rnd.IntN(3) == 0 {
		conn = ", conn_use=" + strconv.Itoa(2+g.rnd.IntN(8))
	}
	if out.prevMX != "" && len(r.dom.mx) > 1 {
		g.logf(at-400000, host, "smtp", pid, m.qid, "host "+r.dom.mx[0].name+"["+r.dom.mx[0].ip+"] said: "+out.prevMX+" (in reply to MAIL FROM command)")
		mx = r.dom.mx[1]
		relay = mx.name + "[" + mx.ip + "]:25"
	}
	var reason string
	switch out.form {
	case formSaid:
		reason = "host " + mx.name + "[" + mx.ip + "] said: " + out.reply + " (in reply to " + out.cmd + " command)"
	case formRefused:
		reason = "host " + mx.name + "[" + mx.ip + "] refused to talk to me: " + out.reply
		g.dead[r.dom.lane] = at + int64(60e6+g.rnd.IntN(120e6))
	case formConnect:
		reason = "connect to " + mx.name + "[" + mx.ip + "]:25: " + out.reply
		relay = "none"
	case formLost:
		reason = "lost connection with " + mx.name + "[" + mx.ip + "] while receiving the initial server greeting"
	case formDNS:
		reason = out.reply
		relay = "none"
	default:
		reason = out.reply
	}
	g.logf(at, host, "smtp", pid, m.qid, "to=<"+r.addr+">"+origTo(r)+", relay="+relay+conn+", delay="+fmtDelay(d)+
		", delays="+g.delays(d)+tls+", dsn="+out.dsn+", status="+out.status+" ("+reason+")")
	g.truth.attempt(at, m, r, out.status)
	switch out.status {
	case "sent":
		g.truth.ended(m, r, out.status)
		g.finish(at, m, r)
	case "bounced":
		g.truth.ended(m, r, out.status)
		g.finish(at, m, r)
		if !m.notify {
			g.notify(at+50000, m, "non-delivery")
		}
	default:
		g.retry(at, m, ri)
	}
}

func (g *gen) lastRefusal(d *domain) string {
	mx := d.mx[0]
	return "host " + mx.name + "[" + mx.ip + "] refused to talk to me: 421 4.7.0 Deferred - see Proofpoint DNSBL lookup"
}

// retry schedules the next attempt with Postfix's back-off: from
// minimal_backoff_time (300 s) doubling up to maximal_backoff_time (4000 s).
func (g *gen) retry(at int64, m *message, ri int) {
	r := m.rcpts[ri]
	if r.nextWait == 0 {
		r.nextWait = 300
	} else {
		r.nextWait = min(r.nextWait*2, 4000)
	}
	wait := r.nextWait*1e6 + int64(g.rnd.IntN(120e6))
	g.push(&event{at: at + wait, kind: evAttempt, msg: m, rc: ri})
}

func (g *gen) finish(at int64, m *message, r *rcpt) {
	r.final = true
	m.open--
	if m.open == 0 {
		g.logf(at+2000, m.host, "qmgr", g.pid(m.host, "qmgr"), m.qid, "removed")
	}
}

// expire ends a message whose queue lifetime ran out, and returns it to
// its sender.
func (g *gen) expire(at int64, m *message) {
	if m.expired {
		return
	}
	m.expired = true
	host := m.host
	g.logf(at, host, "qmgr", g.pid(host, "qmgr"), m.qid, "from=<"+m.sender+">, status=expired, returned to sender")
	for _, r := range m.rcpts {
		g.truth.expired(m, r)
		r.final = true
	}
	g.notify(at+20000, m, "non-delivery")
	g.logf(at+80000, host, "qmgr", g.pid(host, "qmgr"), m.qid, "removed")
}

// notify writes the bounce daemon's notification to the sender and its
// delivery to the sender's own MX.
func (g *gen) notify(at int64, m *message, kind string) {
	if m.sender == "" {
		return
	}
	g.truth.Notifications++
	host := m.host
	n := g.nextQID()
	g.logf(at, host, "cleanup", g.pid(host, "cleanup"), n, "message-id=<"+g.messageID(at, n)+">")
	g.logf(at+2000, host, "bounce", g.pid(host, "bounce"), m.qid, "sender "+kind+" notification: "+n)
	g.logf(at+4000, host, "qmgr", g.pid(host, "qmgr"), n, "from=<>, size="+strconv.Itoa(2000+g.rnd.IntN(3000))+", nrcpt=1 (queue active)")
	g.logf(at+300000, host, "smtp", g.pid(host, "smtp"), n, "to=<"+m.sender+">, relay=mx.shop.example.net[198.51.100.5]:25, delay=0.3, delays=0/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7F2"+n[3:]+")")
	g.logf(at+302000, host, "qmgr", g.pid(host, "qmgr"), n, "removed")
}

// delays splits a delay into Postfix's a/b/c/d.
func (g *gen) delays(d float64) string {
	c := 0.1 + g.rnd.Float64()*0.6
	dd := 0.05 + g.rnd.Float64()*0.5
	b := g.rnd.Float64() * 0.02
	a := d - b - c - dd
	if a < 0 {
		a = 0
	}
	return fmtDelay(a) + "/" + fmtDelay(b) + "/" + fmtDelay(c) + "/" + fmtDelay(dd)
}

// fmtDelay writes seconds as Postfix does: two significant digits below
// 100 s, whole seconds above.
func fmtDelay(d float64) string {
	switch {
	case d >= 100:
		return strconv.FormatInt(int64(d), 10)
	case d >= 10:
		return strconv.FormatFloat(d, 'f', 0, 64)
	case d >= 1:
		return strconv.FormatFloat(d, 'f', 1, 64)
	case d >= 0.01:
		return strconv.FormatFloat(d, 'f', 2, 64)
	}
	return "0"
}

// noise writes the lines of a busy mail.log that say nothing about
// delivery: inbound connections, statistics, warnings, other programs.
func (g *gen) noise(at int64) {
	host := g.hosts[g.rnd.IntN(2)]
	switch g.rnd.IntN(9) {
	case 0:
		g.logf(at, host, "anvil", g.pid(host, "anvil"), "", "statistics: max connection rate 12/60s for (smtp:198.51.100.20) at "+time.UnixMicro(at).UTC().Format("Jan _2 15:04:05"))
	case 1:
		g.logf(at, host, "scache", g.pid(host, "scache"), "", "statistics: domain lookup hits=41 miss=9 success=82%")
	case 2:
		g.logf(at, host, "smtpd", g.pid(host, "smtpd"), "", "warning: hostname unknown-198-51-100-77.example does not resolve to address 198.51.100.77: Name or service not known")
	case 3:
		g.logf(at, host, "smtpd", g.pid(host, "smtpd"), "", "NOQUEUE: reject: RCPT from unknown[198.51.100.77]: 554 5.7.1 <spam@shop.example.net>: Relay access denied; from=<x@spam.example> to=<spam@shop.example.net> proto=ESMTP helo=<spam.example>")
	case 4:
		g.raw(at, host.name+" dovecot: imap-login: Login: user=<support@shop.example.net>, method=PLAIN, rip=198.51.100.30, lip=198.51.100.5, mpid=4242, TLS")
	case 5:
		g.raw(at, host.name+" opendkim[812]: "+g.nextQID()+": DKIM-Signature field added (s=s2026, d=shop.example.net)")
	case 6:
		g.logf(at, host, "tlsmgr", g.pid(host, "tlsmgr"), "", "warning: request to update table btree:/var/lib/postfix/smtp_scache in non-postfix directory /var/lib/postfix")
	case 7:
		g.logf(at, host, "smtpd", g.pid(host, "smtpd"), "", "connect from unknown[198.51.100.77]")
	default:
		if g.rnd.IntN(40) == 0 {
			// A line cut short by a full disk or a crash: not a log line.
			g.w.WriteString("2026-11-2\x00\x00 mta1 postf\n")
		} else {
			g.logf(at, host, "smtpd", g.pid(host, "smtpd"), "", "lost connection after EHLO from unknown[198.51.100.77]")
		}
	}
}

// raw writes a line of another program.
func (g *gen) raw(at int64, rest string) {
	g.line = g.appendStamp(g.line[:0], at)
	g.line = append(g.line, ' ')
	g.line = append(g.line, rest...)
	g.line = append(g.line, '\n')
	g.w.Write(g.line)
}

func (g *gen) logf(at int64, m *mta, prog string, pid int, qid, text string) {
	g.logfS(at, m, m.syslog, prog, pid, qid, text)
}

func (g *gen) logfS(at int64, m *mta, syslog, prog string, pid int, qid, text string) {
	b := g.appendStamp(g.line[:0], at)
	b = append(b, ' ')
	b = append(b, m.name...)
	b = append(b, ' ')
	b = append(b, syslog...)
	b = append(b, '/')
	b = append(b, prog...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, "]: "...)
	if qid != "" {
		b = append(b, qid...)
		b = append(b, ": "...)
	}
	b = append(b, text...)
	b = append(b, '\n')
	g.line = b
	g.w.Write(b)
}

// appendStamp writes an RFC 3339 stamp with microseconds, as rsyslog's
// default template on Debian 12 does, or a traditional one.
func (g *gen) appendStamp(b []byte, at int64) []byte {
	sec := at / 1e6
	if g.cfg.Traditional {
		if sec != g.stampAt || g.stamp == nil {
			g.stampAt = sec
			g.stamp = time.Unix(sec, 0).UTC().AppendFormat(g.stamp[:0], time.Stamp)
		}
		return append(b, g.stamp...)
	}
	if sec != g.stampAt || g.stamp == nil {
		g.stampAt = sec
		g.stamp = time.Unix(sec, 0).UTC().AppendFormat(g.stamp[:0], "2006-01-02T15:04:05")
	}
	b = append(b, g.stamp...)
	us := at % 1e6
	b = append(b, '.')
	for div := int64(100000); div > 0; div /= 10 {
		b = append(b, byte('0'+us/div%10))
	}
	return append(b, "+00:00"...)
}
