// Package kumo reads KumoMTA's log records: JSON, one record a line, as
// kumod writes its log segments (zstd-compressed on disk; package source
// decompresses them). Record types Delivery, TransientFailure, Bounce,
// Expiration and AdminBounce become delivery records; Delayed and the
// TransientFailures whose response begins "KumoMTA internal:" (a
// suspension, a throttle) are KumoMTA's own deferrals, not a receiver's,
// except "failed to connect to any candidate hosts", a try at the
// receiver that failed (unless KumoMTA blames its proxy or its source
// address), which is an attempt, deferred. A Bounce whose response
// begins "KumoMTA internal:" is KumoMTA's own permanent failure, no
// receiver tried: a final bounce with no attempt (an expiry when it is
// about the message's age: 5.4.7, max_age); Reception, Feedback,
// Rejection, OOB and the transfer records carry no delivery attempt and
// are counted. The sending IP is source_address's address (since
// 2024.09.02), with the egress source's name beside it; records without
// it have the egress source (or pool) name for the sending host.
package kumo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
)

// record is the part of a log record read.
type record struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Sender    string          `json:"sender"`
	Recipient json.RawMessage `json:"recipient"`
	Response  struct {
		Code     int `json:"code"`
		Enhanced *struct {
			Class, Subject, Detail int
		} `json:"enhanced_code"`
		Content string  `json:"content"`
		Command *string `json:"command"`
	} `json:"response"`
	Peer *struct {
		Name string `json:"name"`
		Addr string `json:"addr"`
	} `json:"peer_address"`
	Timestamp   json.Number `json:"timestamp"`
	EventTime   string      `json:"event_time"`
	Created     json.Number `json:"created"`
	CreatedTime string      `json:"created_time"`
	Attempts    int         `json:"num_attempts"`
	Source      string      `json:"egress_source"`
	// SourceAddress is the address (and port) the delivery left from,
	// since 2024.09.02; through a proxy the port may be 0, and the
	// proxy's own address is in "server", not read.
	SourceAddress *struct {
		Address string `json:"address"`
	} `json:"source_address"`
	Pool    string                     `json:"egress_pool"`
	Node    string                     `json:"nodeid"`
	Headers map[string]json.RawMessage `json:"headers"`
}

// Stats says what a read saw.
type Stats struct {
	Lines   int64
	Used    int64 // records that became events
	Skipped int64 // records that carry no delivery
	Bad     int64 // lines that are not a log record
	Samples []string
	First   time.Time
	Last    time.Time
}

// Detect reports whether head looks like KumoMTA log records: a JSON
// object with a type KumoMTA writes and a spool id.
func Detect(head []byte) bool {
	line, _, _ := bytes.Cut(bytes.TrimSpace(head), []byte("\n"))
	var r struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(line, &r) != nil || r.ID == "" {
		return false
	}
	_, ok := types[r.Type]
	return ok
}

// types maps KumoMTA's record types to what they are.
var types = map[string]mailtriage.Status{
	"Delivery": mailtriage.Delivered, "TransientFailure": mailtriage.Deferred, "Bounce": mailtriage.Bounced,
	"Expiration": mailtriage.Expired, "AdminBounce": mailtriage.Deleted, "Delayed": mailtriage.Deferred,
	"Reception": 0, "Feedback": 0, "Rejection": 0, "OOB": 0, "AdminRebind": 0, "DeferredInjectionRebind": 0, "XferOut": 0, "XferIn": 0,
}

// maxLine bounds a record: headers are logged only when configured, and
// a record of megabytes is a damaged file.
const maxLine = 1 << 20

// Read reads log records into the tracker.
func Read(ctx context.Context, r io.Reader, name string, t *lifecycle.Tracker) (Stats, error) {
	var st Stats
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		st.Lines++
		if st.Lines%4096 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		recs, skip, err := parse(line)
		switch {
		case err != nil:
			st.bad(fmt.Sprintf("%s: line %d: %v", name, st.Lines, err))
		case skip:
			st.Skipped++
		default:
			st.Used++
			for i := range recs {
				st.seen(recs[i].Time)
				t.Add(&recs[i])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("%s: line %d: %w", name, st.Lines+1, err)
	}
	return st, nil
}

func (st *Stats) bad(sample string) {
	st.Bad++
	if len(st.Samples) < 5 {
		st.Samples = append(st.Samples, sample)
	}
}

func (st *Stats) seen(t time.Time) {
	if st.First.IsZero() || t.Before(st.First) {
		st.First = t
	}
	if t.After(st.Last) {
		st.Last = t
	}
}

// parse reads one line: the records for its recipients (one, or several
// since recipients became a list), or skip for a record with no delivery.
func parse(line []byte) ([]lifecycle.Record, bool, error) {
	var k record
	if err := json.Unmarshal(line, &k); err != nil {
		return nil, false, fmt.Errorf("not a JSON log record: %w", err)
	}
	status, known := types[k.Type]
	switch {
	case !known:
		return nil, false, fmt.Errorf("unknown record type %q", k.Type)
	case status == 0:
		return nil, true, nil
	case k.ID == "":
		return nil, false, fmt.Errorf("a %s record without id", k.Type)
	}
	at, err := stamp(k.EventTime, k.Timestamp)
	if err != nil {
		return nil, false, err
	}
	queued, _ := stamp(k.CreatedTime, k.Created)
	rcpts, err := recipients(k.Recipient)
	if err != nil {
		return nil, false, err
	}
	base := lifecycle.Record{Time: at, Source: "kumomta", Host: nonEmpty(k.Node, "kumomta"), Key: k.ID, Sender: k.Sender, NullSender: k.Sender == "",
		Status: status, Queued: queued, Attempts: k.Attempts, LocalIP: nonEmpty(k.Source, k.Pool), MessageID: messageID(k.Headers)}
	if ip, ok := sourceIP(&k); ok {
		// The sending IP, with the source's name beside it.
		base.LocalIP, base.LocalName = ip, nonEmpty(k.Source, k.Pool)
	}
	if k.Peer != nil {
		base.RemoteHost, base.RemoteIP = strings.TrimSuffix(k.Peer.Name, "."), k.Peer.Addr
	}
	base.Detail, base.Local = detail(&k, base.RemoteHost, base.RemoteIP)
	if k.Type == "Bounce" && base.Local {
		// KumoMTA's own permanent failure, no receiver tried: a final
		// bounce with no attempt, or an expiry when it is about the
		// message's age.
		base.NoTry = true
		if aboutAge(&k) {
			base.Status = mailtriage.Expired
		}
	}
	out := make([]lifecycle.Record, len(rcpts))
	for i, rc := range rcpts {
		out[i] = base
		out[i].Recipient = rc
	}
	return out, false, nil
}

// sourceIP reads the address of source_address ("203.0.113.25:53210",
// "[2001:db8::25]:40000").
func sourceIP(k *record) (string, bool) {
	if k.SourceAddress == nil {
		return "", false
	}
	a := k.SourceAddress.Address
	if ap, err := netip.ParseAddrPort(a); err == nil {
		return ap.Addr().Unmap().String(), true
	}
	if ip, err := netip.ParseAddr(a); err == nil {
		return ip.Unmap().String(), true
	}
	return "", false
}

// recipients reads "recipient": a string, or a list since 2025.12.
func recipients(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, fmt.Errorf("no recipient")
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, fmt.Errorf("no recipient")
	}
	return many, nil
}

// detail decodes the response; an internal one is KumoMTA's own.
func detail(k *record, host, ip string) (smtpreply.Detail, bool) {
	resp := k.Response
	if rest, ok := strings.CutPrefix(resp.Content, "KumoMTA internal: failed to connect to any candidate hosts: "); ok && !localConnect(rest) {
		// A try at the receiver that failed: an attempt, deferred.
		d := smtpreply.Detail{Kind: smtpreply.ConnectFailed, Text: resp.Content, Host: host, IP: ip, Reply: smtpreply.Reply{Text: rest}}
		if strings.Contains(rest, "TLS handshake") || strings.Contains(rest, "STARTTLS") {
			d.Kind = smtpreply.TLS
		}
		return d, false
	}
	if strings.HasPrefix(resp.Content, "KumoMTA internal:") || k.Type == "Delayed" {
		return smtpreply.Detail{Kind: smtpreply.Local, Text: resp.Content}, true
	}
	text := resp.Content
	if resp.Enhanced != nil {
		text = fmt.Sprintf("%d.%d.%d %s", resp.Enhanced.Class, resp.Enhanced.Subject, resp.Enhanced.Detail, text)
	}
	if resp.Code != 0 {
		text = fmt.Sprintf("%d %s", resp.Code, text)
	}
	d := smtpreply.Detail{Kind: smtpreply.Said, Text: text, Host: host, IP: ip, Reply: smtpreply.Parse(text)}
	if resp.Command != nil {
		d.Command = strings.TrimSpace(*resp.Command)
	}
	if host == "" && k.Type == "Expiration" {
		d.Kind = smtpreply.Local // KumoMTA's own words on giving up
	}
	return d, false
}

// aboutAge says whether KumoMTA's own failure is about the message's
// time in the queue: status 5.4.7 (delivery time expired, RFC 3463) or
// its max_age and expiry wording.
func aboutAge(k *record) bool {
	if e := k.Response.Enhanced; e != nil && e.Class == 5 && e.Subject == 4 && e.Detail == 7 {
		return true
	}
	low := strings.ToLower(k.Response.Content)
	return strings.Contains(low, "max_age") || strings.Contains(low, "expiry time")
}

// localConnect says whether KumoMTA's summary of its failed connections
// puts them all on its own side (the proxy, a source address that is not
// plumbed), so that no receiver was tried.
func localConnect(s string) bool {
	return strings.HasPrefix(s, "All failures are related to proxy connection issues") ||
		strings.HasPrefix(s, "All failures are related to having an unplumbed source address")
}

// stamp reads RFC 3339 event_time, else the Unix timestamp.
func stamp(rfc string, unix json.Number) (time.Time, error) {
	if rfc != "" {
		t, err := time.Parse(time.RFC3339Nano, rfc)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", rfc, err)
		}
		return t.UTC(), nil
	}
	if unix == "" {
		return time.Time{}, fmt.Errorf("no time")
	}
	f, err := unix.Float64()
	if err != nil || f <= 0 {
		return time.Time{}, fmt.Errorf("timestamp %q is not a time", unix)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
}

// messageID finds the Message-ID among the logged headers, if any.
func messageID(h map[string]json.RawMessage) string {
	for k, v := range h {
		if strings.EqualFold(k, "Message-ID") {
			var s string
			if json.Unmarshal(v, &s) == nil {
				return strings.Trim(strings.TrimSpace(s), "<>")
			}
		}
	}
	return ""
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
