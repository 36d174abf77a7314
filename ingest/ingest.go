// Package ingest runs the analysis of delivery logs: it opens the inputs,
// puts them in time order, reads each with its format's reader into one
// message tracker, and feeds the events to the analyzer. An input that
// cannot be read is reported with what is wrong, and the others are still
// analysed.
package ingest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/analysis"
	"github.com/mailtriage/mailtriage/classify"
	"github.com/mailtriage/mailtriage/internal/numfmt"
	"github.com/mailtriage/mailtriage/journaljson"
	"github.com/mailtriage/mailtriage/source"
	"github.com/mailtriage/mailtriage/source/bounces"
	"github.com/mailtriage/mailtriage/source/esp"
	"github.com/mailtriage/mailtriage/source/exim"
	"github.com/mailtriage/mailtriage/source/kumo"
	"github.com/mailtriage/mailtriage/source/lifecycle"
	"github.com/mailtriage/mailtriage/source/pmta"
	"github.com/mailtriage/mailtriage/source/postfix"
	"github.com/mailtriage/mailtriage/source/postqueue"
	"github.com/mailtriage/mailtriage/source/sendmail"
	"github.com/mailtriage/mailtriage/syslogstamp"
)

// Config is what an analysis needs.
type Config struct {
	Classifier *classify.Classifier
	Lanes      postfix.Lanes
	// Location and Year apply to stamps without zone and year (nil is
	// UTC); Now is the clock for year inference.
	Location *time.Location
	Year     int
	Now      time.Time
	Analysis analysis.Options
	// Format reads every input as this format (one of Formats); ""
	// detects each input's format from its content.
	Format  string
	Workers int
	// Samples is how many unreadable lines per input to keep (--verbose).
	Samples int
	// Progress, if set, is told the bytes read of the current input, its
	// name, and its size when that is known (0 for compressed and standard
	// input, whose reading counts decompressed bytes).
	Progress func(name string, read, size int64)
	Log      *slog.Logger
}

// InputError is an input that could not be read, or not all of it.
type InputError struct {
	Name string
	Err  error
}

// Error is the input's error, which names the input first; standard
// input, "-" on the command line, is named as people call it.
func (e *InputError) Error() string {
	s := e.Err.Error()
	if e.Name == source.Stdin {
		if rest, ok := strings.CutPrefix(s, source.Stdin+": "); ok {
			return "standard input: " + rest
		}
	}
	return s
}

func (e *InputError) Unwrap() error { return e.Err }

// Report is an analysis with the problems its inputs had.
type Report struct {
	Result  *analysis.Result
	Samples map[string][]postfix.Sample // unreadable lines by input
	Errors  []*InputError
}

// Logs analyses the named inputs ("-" is stdin).
func Logs(ctx context.Context, names []string, stdin io.Reader, cfg Config) *Report {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	rep := &Report{Samples: map[string][]postfix.Sample{}}
	inputs, failed, errs := openInputs(ctx, names, stdin, log)
	rep.Errors = errs
	source.Order(inputs, firstStamp(cfg))

	an := analysis.New(cfg.Analysis)
	var classifier postfix.Classifier
	if cfg.Classifier != nil {
		classifier = cfg.Classifier
	}
	formats := make([]string, len(inputs))
	snapshot := false
	for i, in := range inputs {
		formats[i] = formatOf(in, cfg.Format)
		snapshot = snapshot || formats[i] == PostQueue
	}
	logEmit, recordEmit := an.Add, an.Add
	var merge *withSnapshot
	if snapshot {
		merge = newWithSnapshot(an.Add)
		logEmit, recordEmit = merge.logEmit, merge.recordEmit
	}
	tr := postfix.NewTracker(cfg.Lanes, classifier, logEmit)
	tr.StopAt(cfg.Analysis.Until)
	var lt *lifecycle.Tracker // for the record-based formats, made on first use
	var infos []analysis.Input
	var last time.Time
	for i, in := range inputs {
		readCtx := ctx
		if ctx.Err() != nil {
			if !in.Buffered() {
				// Interrupted: the inputs not reached are listed, not dropped.
				ie := &InputError{Name: in.Name, Err: fmt.Errorf("%s: not read: interrupted before it", in.Name)}
				rep.Errors = append(rep.Errors, ie)
				infos = append(infos, analysis.Input{Name: in.Name, Error: ie.Error()})
				continue
			}
			// A pipe interrupted while silent, before it gave the head
			// read ahead (Order): what it gave is read, up to the
			// interrupt, which its reading then reports.
			readCtx = context.WithoutCancel(ctx)
		}
		format := formats[i]
		if format != Postfix && format != JournalJSON {
			if lt == nil {
				lt = lifecycle.NewTracker(cfg.Lanes, classifier, recordEmit)
				lt.StopAt(cfg.Analysis.Until)
			}
			info, err := readRecords(readCtx, in, format, lt, cfg)
			if err != nil && interrupted(ctx, err) {
				err = fmt.Errorf("%s: interrupted; the records read before were analysed", in.Name)
			}
			if err != nil {
				ie := &InputError{Name: in.Name, Err: err}
				rep.Errors = append(rep.Errors, ie)
				info.Error = ie.Error()
			}
			an.AddUnparsed(info.Unparsed)
			if info.Last.After(last) {
				last = info.Last
			}
			infos = append(infos, inUTC(info))
			continue
		}
		info, samples, err := readOne(readCtx, in, format, tr, cfg)
		if len(samples) > 0 {
			rep.Samples[in.Name] = samples
		}
		if err != nil {
			switch {
			case interrupted(ctx, err):
				err = fmt.Errorf("%s: interrupted; the %s Postfix lines read before were analysed", in.Name, numfmt.Thousands(info.MatchedLines))
			case info.MatchedLines > 0:
				err = fmt.Errorf("%w (the %s Postfix lines read were analysed)", err, numfmt.Thousands(info.MatchedLines))
			}
			ie := &InputError{Name: in.Name, Err: err}
			rep.Errors = append(rep.Errors, ie)
			info.Error = ie.Error()
		}
		an.AddUnparsed(info.Unparsed + info.Overlong)
		if info.Last.After(last) {
			last = info.Last
		}
		infos = append(infos, inUTC(info))
	}
	end := windowEnd(last, cfg.Analysis.Until)
	an.Closing()
	tr.Finish(end)
	if lt != nil {
		lt.Finish(end) // after tr's: a snapshot's events come last
	}
	if merge != nil {
		merge.flush()
	}
	dropNoTRecords(infos)
	res := an.Result()
	res.Inputs = append(infos, failed...)
	res.TimeZone = cfg.Location.String()
	if !cfg.Analysis.Since.IsZero() {
		res.Since = cfg.Analysis.Since.UTC().Format(time.RFC3339Nano)
	}
	if !cfg.Analysis.Until.IsZero() {
		res.Until = cfg.Analysis.Until.UTC().Format(time.RFC3339Nano)
	}
	rep.Result = res
	return rep
}

// openInputs opens the named inputs, each file once however often it is
// named, and lists those that cannot be opened, in the order given.
func openInputs(ctx context.Context, names []string, stdin io.Reader, log *slog.Logger) (inputs []*source.Input, failed []analysis.Input, errs []*InputError) {
	seen := map[string]bool{}
	for _, name := range names {
		if id := source.Identity(name); id != "" {
			if seen[id] {
				log.Warn("input given twice; read once", "input", name)
				continue
			}
			seen[id] = true
		}
		in, err := source.Open(ctx, name, stdin)
		if err != nil {
			ie := &InputError{Name: name, Err: err}
			errs = append(errs, ie)
			failed = append(failed, analysis.Input{Name: name, Error: ie.Error()})
			continue
		}
		inputs = append(inputs, in)
	}
	return inputs, failed, errs
}

// windowEnd is when what is still queued at the end is pending: the end
// of the inputs (their last stamp), or of the window if they go on past
// it, since the analysis is then of the inputs cut at until.
func windowEnd(last, until time.Time) time.Time {
	if !until.IsZero() && !last.Before(until) {
		return until
	}
	return last
}

// withSnapshot merges the Postfix logs' events with a postqueue -j
// snapshot's, when one is among the inputs: the snapshot's messages and
// recipients that the logs followed are left out, so each counts once, and
// the logs' account of them wins (it knows their attempts; with the
// snapshot taken at the logs' end it names the same last reason). The
// snapshot names no host, so queue ids match across hosts. A snapshot's
// events all come at its tracker's Finish, after the logs' tracker has
// finished.
type withSnapshot struct {
	add        func(*mailtriage.Event)
	messages   map[string]bool // queue ids of the logs' messages
	recipients map[snapshotRcpt]bool
	// unnamed holds the logs' Message events of messages still queued
	// with recipients the logs only counted (nrcpt=), until the snapshot
	// has said whether it lists them: if it does, it names those that
	// are left, and none is unnamed any more. Messages of two hosts, or
	// of a reused queue id, may share one.
	unnamed map[string][]*mailtriage.Event
}

type snapshotRcpt struct{ queueID, recipient string }

func newWithSnapshot(add func(*mailtriage.Event)) *withSnapshot {
	return &withSnapshot{add: add, messages: map[string]bool{}, recipients: map[snapshotRcpt]bool{}, unnamed: map[string][]*mailtriage.Event{}}
}

// logEmit takes the logs' tracker's events.
func (w *withSnapshot) logEmit(e *mailtriage.Event) {
	switch e.Kind {
	case mailtriage.Message:
		w.messages[e.QueueID] = true
		if e.Unnamed > 0 {
			held := *e // the tracker reuses e
			w.unnamed[e.QueueID] = append(w.unnamed[e.QueueID], &held)
			return
		}
	case mailtriage.Final:
		w.recipients[snapshotRcpt{e.QueueID, e.Recipient}] = true
	}
	w.add(e)
}

// recordEmit takes the record-based sources' tracker's events, the
// snapshot's among them.
func (w *withSnapshot) recordEmit(e *mailtriage.Event) {
	if e.Source == postqueue.Source {
		switch e.Kind {
		case mailtriage.Message:
			if w.messages[e.QueueID] {
				for _, held := range w.unnamed[e.QueueID] {
					held.Unnamed = 0
				}
				return
			}
		case mailtriage.Final:
			if w.recipients[snapshotRcpt{e.QueueID, e.Recipient}] {
				return
			}
		}
	}
	w.add(e)
}

// flush adds the Message events held back, once the snapshot's events are
// in, in queue order as the tracker closed them.
func (w *withSnapshot) flush() {
	held := slices.Concat(slices.Collect(maps.Values(w.unnamed))...)
	slices.SortFunc(held, func(x, y *mailtriage.Event) int {
		return cmp.Or(x.Queued.Compare(y.Queued), cmp.Compare(x.Host, y.Host), cmp.Compare(x.QueueID, y.QueueID))
	})
	for _, e := range held {
		w.add(e)
	}
	clear(w.unnamed)
}

// interrupted reports whether err is ctx's end: the user's ^C.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, ctx.Err())
}

// firstStamp finds the first timestamp in an input's head, so files are
// read in time order whatever their names, as its format's reader reads
// it. For syslog stamps it infers the year as the reading will, from the
// file's modification time.
func firstStamp(cfg Config) func(in *source.Input, head []byte) (time.Time, bool) {
	return func(in *source.Input, head []byte) (time.Time, bool) {
		switch formatOf(in, cfg.Format) {
		case Exim:
			return exim.FirstStamp(head, cfg.Location)
		case PowerMTA:
			return pmta.FirstStamp(head, cfg.Location)
		}
		if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
			head = head[:i+1] // not a line cut by the end of the head
		}
		clock := &syslogstamp.Clock{Location: cfg.Location, Year: cfg.Year, Now: cfg.Now, Modified: in.Modified}
		if journaljson.Detect(head) {
			// The time of the first entry that reads.
			for _, entry := range bytes.Split(head, []byte("\n")) {
				if line, err := journaljson.AppendLine(nil, bytes.TrimLeft(entry, "\x1e")); err == nil {
					return clock.FirstStamp(line)
				}
			}
			return time.Time{}, false
		}
		return clock.FirstStamp(head)
	}
}

// readOne reads one input of Postfix lines (a log, or a journal export in
// JSON) into the tracker and says what is wrong with it.
func readOne(ctx context.Context, in *source.Input, format string, tr *postfix.Tracker, cfg Config) (analysis.Input, []postfix.Sample, error) {
	info := analysis.Input{Name: in.Name, Format: format}
	head, err := in.Head(4096)
	if err != nil {
		return info, nil, err
	}
	// Compressed standard input or pipe can't show its head without
	// consuming it; the line count after reading tells then.
	headKnown := !in.Stream() || in.Compression == source.Plain
	if headKnown && len(head) == 0 {
		return info, nil, fmt.Errorf("%s: empty, nothing to analyse", in.Name)
	}
	if binary(head) {
		return info, nil, fmt.Errorf("%s: binary data, not a text log (compressed with something other than gzip, zstd or bzip2?)", in.Name)
	}
	if postqueue.Text(head) {
		return info, nil, errMailq(in)
	}
	if mode := journalMode(head); mode != "" {
		return info, nil, errJournalMode(in, mode)
	}
	if programCut(head) {
		return info, nil, errProgramCut(in)
	}
	clock := &syslogstamp.Clock{Location: cfg.Location, Year: cfg.Year, Now: cfg.Now, Modified: in.Modified}
	opts := postfix.Options{Workers: cfg.Workers, Samples: cfg.Samples, MaxLine: maxLine}
	if cfg.Classifier != nil {
		c := cfg.Classifier
		opts.NewClassifier = func() postfix.Classifier { return classify.NewCache(c, 1<<16) }
	}
	if cfg.Progress != nil {
		size := in.Size
		if in.Compression != source.Plain {
			size = 0
		}
		opts.Progress = func(n int64) { cfg.Progress(in.Name, n, size) }
	}
	var st postfix.Stats
	if format == JournalJSON {
		st, err = readJournal(ctx, in, clock, tr, opts, cfg.Samples)
	} else {
		st, err = read(ctx, in, clock, tr, opts)
	}
	info.Bytes, info.Lines, info.MatchedLines = st.Bytes, st.Lines, st.Postfix
	info.OtherLines, info.Unparsed, info.Overlong = st.Other, st.Unparsed, st.Overlong
	info.First, info.Last = st.First, st.Last
	info.Zoneless, info.Year = st.Zoneless, st.Year
	if err != nil {
		return info, st.Samples, err
	}
	switch {
	case st.Overlong > 0:
		what := fmt.Sprintf("%d lines", st.Overlong)
		if st.Overlong == 1 {
			what = "1 line"
		}
		return info, st.Samples, fmt.Errorf("%s: %s longer than %d KiB skipped, the first at line %d (Postfix writes no such lines; is the file damaged?)",
			in.Name, what, maxLine>>10, st.FirstOverlong)
	case st.Lines == 0:
		return info, st.Samples, fmt.Errorf("%s: empty, nothing to analyse", in.Name)
	case st.Postfix == 0 && format == JournalJSON:
		return info, st.Samples, fmt.Errorf("%s: no Postfix entries among %d journal entries", in.Name, st.Lines)
	case st.Postfix == 0:
		return info, st.Samples, fmt.Errorf("%s: no Postfix log lines among %s%s", in.Name, numfmt.Count(st.Lines, "line"), guessFormat(head))
	}
	return info, st.Samples, nil
}

// firstLine returns the first line of head that is not blank.
func firstLine(head []byte) []byte {
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return line
		}
	}
	return nil
}

// maxLine is the longest line read: far above Postfix's own line limit
// (syslog lines of a few KiB), far below what would hurt memory.
const maxLine = 64 << 10

// read reads an input into the tracker: a plain file mapped into memory
// and parsed in place, anything else through its reader.
func read(ctx context.Context, in *source.Input, clock *syslogstamp.Clock, tr *postfix.Tracker, opts postfix.Options) (postfix.Stats, error) {
	if m, err := in.Map(); err == nil {
		defer m.Close()
		st, err := postfix.ReadBytes(ctx, m.Data, m.Release, clock, tr, opts)
		if err != nil {
			err = fmt.Errorf("%s: %w", in.Name, err)
		}
		return st, err
	}
	r, err := in.Reader()
	if err != nil {
		return postfix.Stats{}, err
	}
	defer r.Close()
	return postfix.Read(ctx, r, clock, tr, opts)
}

// readJournal reads a journalctl JSON export into the tracker: each entry
// becomes the syslog line it stands for, which the Postfix reader reads.
// Lines are entries, and the unreadable entries count as unparsed lines.
func readJournal(ctx context.Context, in *source.Input, clock *syslogstamp.Clock, tr *postfix.Tracker, opts postfix.Options, samples int) (postfix.Stats, error) {
	r, err := in.Reader()
	if err != nil {
		return postfix.Stats{}, err
	}
	defer r.Close()
	body := &progressReader{r: r, report: func(int64) {}}
	if opts.Progress != nil {
		body.report = opts.Progress
		opts.Progress = nil // the lines made are not the input's bytes
	}
	jr := journaljson.NewReader(body, samples)
	st, err := postfix.Read(ctx, jr, clock, tr, opts)
	js := jr.Stats()
	st.Lines, st.Bytes = js.Entries, body.n
	st.Unparsed += js.Bad
	for _, smp := range js.Samples {
		if len(st.Samples) < samples {
			st.Samples = append(st.Samples, postfix.Sample{Line: smp.Entry, Text: smp.Text, Err: smp.Err})
		}
	}
	if err != nil {
		err = fmt.Errorf("%s: %w", in.Name, err)
	}
	return st, err
}

// binary reports whether data looks like something other than text: many
// bytes that are not UTF-8, or control characters that text has no use
// for. NUL bytes are not counted: syslog leaves runs of them in a log
// where writes were lost in a crash, and the lines around are good.
func binary(head []byte) bool {
	bad := 0
	for len(head) > 0 {
		r, size := utf8.DecodeRune(head)
		switch {
		case r == utf8.RuneError && size == 1 && len(head) > 3:
			bad++
		case r < 0x20 && r != 0 && r != '\t' && r != '\n' && r != '\v' && r != '\f' && r != '\r' && r != 0x1b:
			bad++
		}
		head = head[size:]
	}
	return bad > 64
}

// guessFormat names the log format head looks like, for the message about
// an input with no Postfix lines.
func guessFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")) || bytes.HasPrefix(bytes.TrimSpace(head), []byte("[")):
		return "; it looks like JSON (ESP events?), which this version does not read yet"
	}
	return "; is it a Postfix mail log?"
}

// The formats read.
const (
	Postfix = "postfix"
	// JournalJSON is journalctl -o json or -o json-seq: the journal's
	// entries, of which Postfix's are read.
	JournalJSON = "journal-json"
	PostQueue   = "postqueue" // postqueue -j: the Postfix queue now
	PowerMTA    = "powermta"
	KumoMTA     = "kumomta"
	Exim        = "exim"
	Sendmail    = "sendmail"
	ESP         = "esp"
	Bounces     = "bounces" // returned messages: a message file or an mbox
)

// Formats are the formats --source takes.
var Formats = []string{Postfix, JournalJSON, PostQueue, Exim, Sendmail, PowerMTA, KumoMTA, ESP, Bounces}

// formatOf is the format to read in with: the one forced, else the one
// its head shows, else Postfix (whose reader says what else it might be).
func formatOf(in *source.Input, forced string) string {
	if in.Dir {
		return Bounces // a folder is a mailbox of returned messages
	}
	if forced != "" {
		return forced
	}
	head, err := in.Head(4096)
	if err != nil {
		return Postfix
	}
	switch {
	case journaljson.Detect(head):
		return JournalJSON
	case postqueue.Detect(head):
		return PostQueue
	case pmta.Detect(head):
		return PowerMTA
	case kumo.Detect(head):
		return KumoMTA
	case esp.Detect(head):
		return ESP
	case exim.Detect(head):
		return Exim
	case sendmail.Detect(head):
		return Sendmail
	case bounces.Detect(head):
		return Bounces
	}
	return Postfix
}

// SendingMTAs names the MTAs whose logs inputs are, each once in the order
// first seen: "postfix" for Postfix's logs, journal exports and queue
// snapshots; "exim", "sendmail", "powermta", "kumomta" and "esp" (an ESP's
// events) otherwise. Returned messages, and inputs not read, say nothing of
// the MTA that sent.
func SendingMTAs(inputs []analysis.Input) []string {
	var mtas []string
	for _, in := range inputs {
		mta := in.Format
		switch mta {
		case Postfix, JournalJSON, PostQueue:
			mta = Postfix
		case Bounces, "":
			continue
		}
		if !slices.Contains(mtas, mta) {
			mtas = append(mtas, mta)
		}
	}
	return mtas
}

// noTRecords is the limit of a PowerMTA accounting file without t rows.
const noTRecords = "the accounting file has no t records: PowerMTA writes them only with 'records d,b,t' in <acct-file>, and without them no deferral shows"

// dropNoTRecords drops noTRecords from the inputs when another PowerMTA
// input of the run has t rows: the record types are set per <acct-file>,
// so a rotated file without them had no deferral to write.
func dropNoTRecords(infos []analysis.Input) {
	sawT := false
	for _, in := range infos {
		if in.Format == PowerMTA && in.Error == "" && in.MatchedLines > 0 && !slices.Contains(in.Limits, noTRecords) {
			sawT = true
		}
	}
	if !sawT {
		return
	}
	for i := range infos {
		infos[i].Limits = slices.DeleteFunc(infos[i].Limits, func(l string) bool { return l == noTRecords })
	}
}

// readRecords reads an input of a record-based format into lt.
func readRecords(ctx context.Context, in *source.Input, format string, lt *lifecycle.Tracker, cfg Config) (info analysis.Input, err error) {
	info = analysis.Input{Name: in.Name, Format: format}
	if in.Dir {
		return readMailbox(ctx, in, lt, cfg)
	}
	r, err := in.Reader()
	if err != nil {
		return info, err
	}
	defer r.Close()
	// The bytes read, decompressed, are the input's size in the report.
	body := &progressReader{r: r, report: func(int64) {}}
	defer func() { info.Bytes = body.n }()
	if cfg.Progress != nil {
		size := in.Size
		if in.Compression != source.Plain {
			size = 0
		}
		body.report = func(n int64) { cfg.Progress(in.Name, n, size) }
	}
	var used, bad int64
	var samples []string
	switch format {
	case PowerMTA:
		var st pmta.Stats
		st, err = pmta.Read(ctx, body, in.Name, cfg.Location, lt)
		info.Lines, used, bad, samples, info.First, info.Last = st.Records+1, st.Used, st.Bad, st.Samples, st.First, st.Last
		info.OtherLines, info.Zoneless = st.Skipped, st.Zoneless
		if st.ByQueueTime && err == nil {
			info.Limits = append(info.Limits, "no row names its message (no header_Message-Id or envId field, which 'acct-file' record-fields can add): messages are told apart by sender and queue time, so one sender's messages queued in the same second count as one; recipients and attempts are exact")
		}
		if st.NoDefers && err == nil {
			info.Limits = append(info.Limits, noTRecords)
		}
	case Exim:
		var st exim.Stats
		st, err = exim.Read(ctx, body, in.Name, cfg.Location, lt)
		info.Lines, used, bad, samples, info.First, info.Last = st.Lines, st.Used, st.Bad, st.Samples, st.First, st.Last
		info.OtherLines, info.Zoneless = st.Other, st.Zoneless
	case Sendmail:
		var st sendmail.Stats
		clock := &syslogstamp.Clock{Location: cfg.Location, Year: cfg.Year, Now: cfg.Now, Modified: in.Modified}
		st, err = sendmail.Read(ctx, body, in.Name, clock, lt)
		info.Lines, used, bad, samples, info.First, info.Last = st.Lines, st.Used, st.Bad, st.Samples, st.First, st.Last
		info.OtherLines = st.Other
		info.Zoneless, info.Year = st.Zoneless, st.Year
	case ESP:
		var st esp.Stats
		st, err = esp.Read(ctx, body, in.Name, lt)
		info.Lines, used, bad, samples, info.First, info.Last = st.Events, st.Used, st.Bad, st.Samples, st.First, st.Last
		info.OtherLines, info.Limits = st.Skipped+st.Duplicates, st.Limits
	case KumoMTA:
		var st kumo.Stats
		st, err = kumo.Read(ctx, body, in.Name, lt)
		info.Lines, used, bad, samples, info.First, info.Last = st.Lines, st.Used, st.Bad, st.Samples, st.First, st.Last
		info.OtherLines = st.Skipped
	case PostQueue:
		if head, err := in.Head(4096); err == nil && postqueue.Text(head) {
			return info, errMailq(in)
		}
		var st postqueue.Stats
		st, err = postqueue.Read(ctx, body, in.Name, snapshotTime(in, cfg), lt)
		// A snapshot covers its instant: the oldest arrival, days before
		// perhaps, is no start of what it shows (its limits name it).
		info.Lines, used, bad, samples, info.First, info.Last = st.Lines, st.Used, st.Bad, st.Samples, st.Last, st.Last
		if err == nil {
			info.Limits = append(info.Limits, queueLimits(st)...)
		}
		if until := cfg.Analysis.Until; err == nil && used > 0 && !until.IsZero() && !st.Last.Before(until) {
			// The window is the logs cut at --until, of which a snapshot
			// made later is no part: its limits above would say its
			// recipients are pending, and none is counted.
			info.Limits = append([]string{fmt.Sprintf("made at or after --until %s: left out, as the window is the logs cut there",
				until.UTC().Format("2006-01-02 15:04 MST"))}, info.Limits...)
		}
		if used == 0 && bad == 0 && err == nil {
			// An empty queue is an answer, not a broken input: postqueue -j
			// prints nothing then.
			return info, nil
		}
	case Bounces:
		if cfg.Classifier == nil {
			return info, fmt.Errorf("%s: returned messages need a classifier", in.Name)
		}
		var st bounces.Stats
		st, err = bounces.Read(ctx, body, in.Name, snapshotTime(in, cfg), cfg.Classifier, lt)
		used, bad, samples = bounceInfo(&info, st)
	default:
		return info, fmt.Errorf("%s: unknown format %q", in.Name, format)
	}
	info.MatchedLines, info.Unparsed = used, bad
	for _, s := range samples {
		cfg.log().Info("unreadable record", "input", in.Name, "at", s)
	}
	switch {
	case err != nil:
		return info, err
	case used == 0:
		return info, fmt.Errorf("%s: no delivery records among %d lines of %s", in.Name, info.Lines, format)
	case bad > 0:
		// Counted in the analysis's unparsed lines; the run goes on.
		cfg.log().Warn("records could not be read", "input", in.Name, "count", bad, "first", samples[0])
	}
	return info, nil
}

// bounceInfo fills an input's description from what reading returned
// messages found, and returns the counts readRecords judges by.
func bounceInfo(info *analysis.Input, st bounces.Stats) (used, bad int64, samples []string) {
	info.Lines, info.First, info.Last = st.Messages, st.First, st.Last
	info.OtherLines = st.NotReports + st.AutoReplies
	info.Limits = append(info.Limits, "returned messages: only the recipients that failed, were delayed or complained show, not the mail that went through; times are the reports' dates")
	return st.Recipients + st.Complaints, st.NoRecipient, st.Samples
}

// readMailbox reads a folder of returned messages (message files, mbox
// files, Maildir) into lt. A folder with none is most likely a folder of
// logs, and the error says to name them.
func readMailbox(ctx context.Context, in *source.Input, lt *lifecycle.Tracker, cfg Config) (analysis.Input, error) {
	info := analysis.Input{Name: in.Name, Format: Bounces}
	if cfg.Classifier == nil {
		return info, fmt.Errorf("%s: returned messages need a classifier", in.Name)
	}
	st, err := bounces.ReadDir(ctx, in.Name, snapshotTime(in, cfg), cfg.Classifier, lt)
	used, bad, samples := bounceInfo(&info, st)
	info.Bytes = st.Bytes
	info.MatchedLines, info.Unparsed = used, bad
	for _, s := range samples {
		cfg.log().Info("unreadable message", "input", in.Name, "at", s)
	}
	var files string // the files that could not be read, and why
	if st.Unreadable > 0 {
		more := ""
		if n := int64(len(st.UnreadableFiles)); st.Unreadable > n {
			more = fmt.Sprintf("; and %d more", st.Unreadable-n)
		}
		files = strings.Join(st.UnreadableFiles, "; ") + more
	}
	switch {
	case err != nil:
		return info, err
	case used == 0:
		// Most likely a folder of logs, a compressed one cut short among
		// them, say.
		unread := ""
		if st.Unreadable > 0 {
			unread = fmt.Sprintf(" (%d %s could not be read: %s)", st.Unreadable, plural(st.Unreadable, "file", "files"), files)
		}
		return info, fmt.Errorf("%s: is a directory with no returned messages among its %d files%s; to read logs, name the log files in it (for example %s/mail.log*)", in.Name, st.Messages, unread, in.Name)
	case st.Unreadable > 0:
		return info, fmt.Errorf("%s: %d %s could not be read, the rest was analysed: %s", in.Name, st.Unreadable,
			plural(st.Unreadable, "file", "files"), files)
	}
	return info, nil
}

// inUTC gives an input's first and last times in UTC, as every time of a
// report is: a bounce's Date keeps the zone it was written in.
func inUTC(info analysis.Input) analysis.Input {
	info.First, info.Last = info.First.UTC(), info.Last.UTC()
	return info
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// errMailq says an input is mailq's text listing, and what to give.
func errMailq(in *source.Input) error {
	return fmt.Errorf("%s: a mailq (postqueue -p) text listing, which is not read: list the queue as JSON with postqueue -j (Postfix 3.1 and later), as in postqueue -j | mailtriage analyze -", in.Name)
}

// snapshotTime is when a postqueue -j listing was made, which it does not
// say: the file's modification time (when the redirect finished
// writing it), the time of reading for standard input.
func snapshotTime(in *source.Input, cfg Config) time.Time {
	switch {
	case !in.Modified.IsZero():
		return in.Modified
	case !cfg.Now.IsZero():
		return cfg.Now
	}
	return time.Now()
}

// queueLimits say what a queue listing cannot show, and what it holds.
func queueLimits(st postqueue.Stats) []string {
	at := st.Last.UTC().Format("2006-01-02 15:04 MST")
	switch {
	case st.Used == 0 && st.Bad == 0:
		return []string{fmt.Sprintf("a snapshot of the Postfix queue at %s, and the queue was empty", at)}
	case st.Used == 0:
		return nil // not a listing: the error says so
	}
	limits := []string{fmt.Sprintf("a snapshot of the Postfix queue at %s (%s; oldest arrival %s): no attempts or deliveries, only what is queued now; "+
		"every recipient still queued is pending with the reason of its last deferral, which counts as no attempt or deferral, as the listing does not say when it was made",
		at, st.QueueSummary(), st.First.UTC().Format("2006-01-02 15:04 MST"))}
	if st.ForcedExpire > 0 {
		limits = append(limits, fmt.Sprintf("%s forced to expire (postsuper -e or -f): returned to the sender at the next delivery attempt",
			count(st.ForcedExpire, "message is", "messages are")))
	}
	if st.Repeated > 0 {
		limits = append(limits, fmt.Sprintf("%s listed twice (moved between queues while postqueue listed them); deferrals counted once",
			count(st.Repeated, "message was", "messages were")))
	}
	return limits
}

func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (c Config) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// progressReader reports how much was read.
type progressReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	p.report(p.n)
	return n, err
}

// Failed reports whether any input had a problem.
func (r *Report) Failed() bool { return len(r.Errors) > 0 }
