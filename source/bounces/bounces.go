// Package bounces reads returned messages (package bounce: RFC 3464 DSNs,
// prose bounces, ARF feedback reports, RFC 3834 auto-replies) from a
// message file or an mbox into the lifecycle tracker, so that a mailbox of
// bounces, often the only evidence a sender has, feeds the same analysis
// as an MTA's log: each failed recipient a bounce (or an expiry), each
// delay notice a deferral, each delivery report a delivery, each feedback
// report a complaint.
package bounces

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/bounce"
	"github.com/mailtriage/mailtriage/mailbox"
	"github.com/mailtriage/mailtriage/smtpreply"
	"github.com/mailtriage/mailtriage/source/lifecycle"
)

// Classifier judges a recipient of a report in its context, its
// diagnostic decoded by r.Reply(); see package classify.
type Classifier interface {
	BounceDetail(m *bounce.Message, r bounce.Recipient, d smtpreply.Detail) mailtriage.Verdict
}

// Stats says what a read saw.
type Stats struct {
	Messages    int64
	Recipients  int64
	Complaints  int64
	AutoReplies int64
	NotReports  int64 // ordinary messages
	NoRecipient int64 // reports that named nobody recoverable
	Samples     []string
	// Unreadable counts the files of a folder that could not be read,
	// and UnreadableFiles names the first of them, with why.
	Unreadable      int64
	UnreadableFiles []string
	// Bytes is the size of the messages ReadDir read.
	Bytes       int64
	First, Last time.Time
}

// Detect reports whether head is a mail message or an mbox: a "From "
// separator line, or a header block whose first field is one every
// message has and no log line starts with. The space after the colon is
// usual, not required (RFC 5322 §2.2): Outlook.com writes
// "x-store-info:..." first.
func Detect(head []byte) bool {
	if bytes.HasPrefix(head, []byte("From ")) {
		_, rest, _ := bytes.Cut(head, []byte("\n"))
		head = rest
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return headerLine.Match(line)
}

var headerLine = regexp.MustCompile(`^(?i:Return-Path|Received|Delivered-To|X-Original-To|From|To|Date|Subject|Message-I[Dd]|MIME-Version|Content-Type|DKIM-Signature|ARC-Seal|Authentication-Results|X-[A-Za-z0-9-]+):`)

// Read reads one message, or an mbox of them, from r into the tracker. A
// report that gives no date is taken to be from undated (the input's
// modification time, say).
func Read(ctx context.Context, r io.Reader, name string, undated time.Time, c Classifier, t *lifecycle.Tracker) (Stats, error) {
	var st Stats
	br := bufio.NewReaderSize(r, 64<<10)
	handle := func(msgName string, data []byte) error {
		if st.Messages%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		st.Messages++
		st.message(msgName, data, undated, c, t)
		return nil
	}
	if head, _ := br.Peek(5); string(head) == "From " {
		if err := mailbox.Mbox(br, name, handle); err != nil {
			return st, err
		}
		return st, nil
	}
	data, err := io.ReadAll(io.LimitReader(br, mailbox.MaxMessage))
	if err != nil {
		return st, fmt.Errorf("%s: %w", name, err)
	}
	return st, handle(name, data)
}

// ReadDir reads every message under dir (message files, mbox files,
// Maildir folders, as package mailbox walks them) into the tracker. A file
// that cannot be read is counted and named in the Stats, and the walk
// goes on.
func ReadDir(ctx context.Context, dir string, undated time.Time, c Classifier, t *lifecycle.Tracker) (Stats, error) {
	var st Stats
	err := mailbox.Walk(dir, func(name string, data []byte) error {
		if st.Messages%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		st.Messages++
		st.Bytes += int64(len(data))
		st.message(name, data, undated, c, t)
		return nil
	}, func(name string, err error) {
		st.Unreadable++
		if len(st.UnreadableFiles) < 5 {
			st.UnreadableFiles = append(st.UnreadableFiles, err.Error())
		}
	})
	return st, err
}

func (st *Stats) message(name string, data []byte, undated time.Time, c Classifier, t *lifecycle.Tracker) {
	m, err := bounce.Parse(data)
	switch {
	case errors.Is(err, bounce.ErrNotReport):
		st.NotReports++
		st.sample(name, err)
		return
	case err != nil:
		st.NoRecipient++
		st.sample(name, err)
		return
	}
	if m.Date.IsZero() {
		m.Date = undated
	}
	for _, r := range m.Recipients {
		st.recipient(name, m, r, c, t)
	}
}

func (st *Stats) sample(name string, err error) {
	if len(st.Samples) < 5 {
		st.Samples = append(st.Samples, fmt.Sprintf("%s: %v", name, err))
	}
}

// recipient hands one recipient to the tracker.
func (st *Stats) recipient(name string, m *bounce.Message, r bounce.Recipient, c Classifier, t *lifecycle.Tracker) {
	d := r.Reply()
	v := c.BounceDetail(m, r, d)
	at := r.LastAttempt
	if at.IsZero() {
		at = m.Date
	}
	if !at.IsZero() {
		if st.First.IsZero() || at.Before(st.First) {
			st.First = at
		}
		if at.After(st.Last) {
			st.Last = at
		}
	}
	rec := &lifecycle.Record{
		Time: at, Source: "bounces", Host: cmpOr(m.ReportingMTA, "bounces"), Key: cmpOr(m.Original.MessageID, name),
		MessageID: m.Original.MessageID, Sender: m.Original.From, Recipient: r.Address,
		Detail: d, RemoteHost: d.Host, RemoteIP: d.IP, Verdict: &v,
	}
	switch {
	case m.Kind == bounce.Feedback:
		st.Complaints++
		rec.LocalIP = m.SourceIP
		t.Complaint(rec)
		return
	case m.Kind == bounce.AutoReply:
		st.AutoReplies++
		return // a delivery the auto-reply proves, not a delivery record
	case r.Action == "delayed":
		rec.Status = mailtriage.Deferred
	case r.Action == "delivered" || r.Action == "relayed" || r.Action == "expanded":
		rec.Status = mailtriage.Delivered
	case v.Reason == "expired":
		rec.Status = mailtriage.Expired
	default:
		rec.Status = mailtriage.Bounced
	}
	st.Recipients++
	t.Add(rec)
}

func cmpOr(a, b string) string {
	if a = strings.TrimSpace(a); a != "" {
		return a
	}
	return b
}
