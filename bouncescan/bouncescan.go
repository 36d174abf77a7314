// Package bouncescan reads returned messages from mail stores (message
// files, mbox, Maildir) and says, for each recipient they report, what
// happened and what it means: the report read by package bounce, the
// diagnostic judged by package classify. It is what `mailtriage bounce`
// prints, and what analyze turns into events.
package bouncescan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/bounce"
	"github.com/mailtriage/mailtriage/mailbox"
	"github.com/mailtriage/mailtriage/smtpreply"
)

// Record is one recipient of one returned message.
type Record struct {
	File      string `json:"file"`
	Kind      string `json:"kind"`   // dsn, feedback, autoreply
	Format    string `json:"format"` // rfc3464, text, arf, rfc3834, ses
	Recipient string `json:"recipient"`
	// DSNAction is the report's action: failed, delayed, delivered, ...
	DSNAction string `json:"dsn_action,omitempty"`
	Status    string `json:"status"`
	Code      int    `json:"code"`
	Reason    string `json:"reason"`
	Class     string `json:"class"`
	Category  string `json:"category"`
	Provider  string `json:"provider"`
	Filter    string `json:"filter,omitempty"`
	// Diagnostic is the reply or text the report gives.
	Diagnostic   string    `json:"diagnostic"`
	Command      string    `json:"command,omitempty"`
	RemoteMTA    string    `json:"remote_mta,omitempty"`
	FeedbackType string    `json:"feedback_type,omitempty"`
	SourceIP     string    `json:"source_ip,omitempty"`
	Date         time.Time `json:"date,omitzero"`
	Sender       string    `json:"sender,omitempty"` // the returned message's From
	MessageID    string    `json:"original_message_id,omitempty"`
	Rule         string    `json:"rule"`
	Advice       string    `json:"advice"`
	Owner        string    `json:"owner"`

	detail  smtpreply.Detail
	verdict mailtriage.Verdict
}

// Detail and Verdict are the record's diagnostic decoded and judged.
func (r *Record) Detail() smtpreply.Detail    { return r.detail }
func (r *Record) Verdict() mailtriage.Verdict { return r.verdict }

// Skipped is a message that gave no record, and why.
type Skipped struct {
	File string `json:"file"`
	Why  string `json:"why"`
}

// Result is what a scan found.
type Result struct {
	Messages int      `json:"messages"`
	Records  []Record `json:"records"`
	// NotReports are ordinary messages among the inputs; NoRecipient
	// reports that named nobody recoverable; Unreadable inputs that could
	// not be read at all.
	NotReports  []Skipped `json:"not_reports"`
	NoRecipient []Skipped `json:"no_recipient"`
	Unreadable  []Skipped `json:"unreadable"`
}

// Classifier judges a recipient of a report, whose diagnostic
// r.Reply() decoded; see package classify.
type Classifier interface {
	BounceDetail(m *bounce.Message, r bounce.Recipient, d smtpreply.Detail) mailtriage.Verdict
}

// Scanner scans inputs.
type Scanner struct {
	// Classifier judges each recipient. If it is nil, NewClassifier
	// builds one while the first messages are read and parsed: compiling
	// the rules takes as long as reading a few hundred bounces.
	Classifier    Classifier
	NewClassifier func() (Classifier, error)
	// Workers parse in parallel; 0 means one per CPU.
	Workers int
	// Progress, if set, is called as messages are read.
	Progress func(messages int)
}

type job struct {
	name string
	data []byte
}

// batch is messages handed to a worker together, with what it made of
// them.
type batch struct {
	jobs []job
	out  []outcome
}

// A batch holds up to batchMessages messages or batchBytes bytes.
const (
	batchMessages = 16
	batchBytes    = 256 << 10
)

type outcome struct {
	records []Record
	skipped *Skipped
	kind    int // 0 records, 1 not a report, 2 no recipient
}

// Scan reads every path ("-" for stdin: one message, or an mbox) and
// returns the records in input order.
func (s *Scanner) Scan(ctx context.Context, paths []string, stdin io.Reader) (*Result, error) {
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if s.Classifier == nil && s.NewClassifier == nil {
		return nil, errors.New("bouncescan: a Scanner needs a Classifier or a NewClassifier")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cl := s.classifier(cancel)
	// Messages go to the workers in batches: one hand-over per message
	// cost more in scheduling than a small bounce costs to read. Each
	// batch keeps its outcomes, and the batches their order.
	work := make(chan *batch, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.out = make([]outcome, len(b.jobs))
				msgs := make([]*bounce.Message, len(b.jobs))
				for i, j := range b.jobs {
					msgs[i], b.out[i] = parse(j.name, j.data)
				}
				c := cl()
				for i, j := range b.jobs {
					if msgs[i] != nil && c != nil {
						b.out[i].records = records(c, j.name, msgs[i])
					}
				}
				// The records have what they need of the messages:
				// the batch waits for its turn without them.
				b.jobs = nil
			}
		}()
	}
	res := &Result{Records: []Record{}, NotReports: []Skipped{}, NoRecipient: []Skipped{}, Unreadable: []Skipped{}}
	var batches []*batch
	cur, size := &batch{}, 0
	flush := func() {
		if len(cur.jobs) > 0 {
			batches = append(batches, cur)
			work <- cur
			cur, size = &batch{}, 0
		}
	}
	seq := 0
	send := func(name string, data []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur.jobs = append(cur.jobs, job{name, data}) // the handler's to keep: no copy
		if size += len(data); len(cur.jobs) == batchMessages || size >= batchBytes {
			flush()
		}
		seq++
		if s.Progress != nil && seq%256 == 0 {
			s.Progress(seq)
		}
		return nil
	}
	bad := func(name string, err error) {
		// The name is the File: the reason need not say it again.
		why := strings.TrimPrefix(err.Error(), name+": ")
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == name {
			why = pe.Err.Error()
		}
		res.Unreadable = append(res.Unreadable, Skipped{File: name, Why: why})
	}
	var walker mailbox.Walker // a file reached twice is read once
	for _, p := range paths {
		var err error
		if p == "-" {
			err = readStdin(stdin, send)
		} else {
			err = walker.Walk(p, send, bad)
		}
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			bad(p, err)
		}
	}
	flush()
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return res, context.Cause(ctx)
	}
	res.Messages = seq
	for _, b := range batches {
		for _, o := range b.out {
			res.Records = append(res.Records, o.records...)
			switch o.kind {
			case 1:
				res.NotReports = append(res.NotReports, *o.skipped)
			case 2:
				res.NoRecipient = append(res.NoRecipient, *o.skipped)
			}
		}
	}
	return res, nil
}

// readStdin hands standard input on: an mbox, or one message.
func readStdin(r io.Reader, send mailbox.Handler) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(5); string(head) == "From " {
		return mailbox.Mbox(br, "-", send)
	}
	data, err := io.ReadAll(io.LimitReader(br, mailbox.MaxMessage))
	if err != nil {
		return fmt.Errorf("standard input: %w", err)
	}
	return send("-", data)
}

// classifier returns a function that waits for the scan's classifier:
// s.Classifier, or the one s.NewClassifier builds meanwhile. If building
// fails, the scan is cancelled with the error and the function returns
// nil.
func (s *Scanner) classifier(cancel context.CancelCauseFunc) func() Classifier {
	if s.Classifier != nil || s.NewClassifier == nil {
		return func() Classifier { return s.Classifier }
	}
	var c Classifier
	ready := make(chan struct{})
	go func() {
		defer close(ready)
		var err error
		if c, err = s.NewClassifier(); err != nil {
			c = nil
			cancel(err)
		}
	}()
	return func() Classifier {
		<-ready
		return c
	}
}

// parse reads one message; a message that gives no record is an outcome
// already.
func parse(name string, data []byte) (*bounce.Message, outcome) {
	m, err := bounce.Parse(data)
	switch {
	case errors.Is(err, bounce.ErrNotReport):
		return nil, outcome{kind: 1, skipped: &Skipped{File: name, Why: err.Error()}}
	case err != nil:
		return nil, outcome{kind: 2, skipped: &Skipped{File: name, Why: err.Error()}}
	}
	return m, outcome{}
}

// records judges the recipients of a message.
func records(c Classifier, name string, m *bounce.Message) []Record {
	out := make([]Record, 0, len(m.Recipients))
	for _, r := range m.Recipients {
		d := r.Reply()
		v := c.BounceDetail(m, r, d)
		rec := Record{
			File: name, Kind: string(m.Kind), Format: m.Format, Recipient: r.Address, DSNAction: r.Action,
			Status: cmpOr(r.Status, d.Reply.Enhanced), Code: d.Reply.Code, Reason: v.Reason, Class: string(v.Class), Category: v.Category,
			Provider: v.Provider, Filter: v.Filter, Diagnostic: r.Diagnostic, Command: r.Command, RemoteMTA: r.RemoteMTA,
			FeedbackType: m.FeedbackType, SourceIP: m.SourceIP, Date: cmpTime(r.LastAttempt, m.Date), Sender: m.Original.From,
			MessageID: m.Original.MessageID, Rule: v.Rule, Advice: v.Action, Owner: string(v.Owner),
			detail: d, verdict: v,
		}
		out = append(out, rec)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func cmpTime(a, b time.Time) time.Time {
	if !a.IsZero() {
		return a
	}
	return b
}
