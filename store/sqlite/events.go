package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/mailtriage/mailtriage"
	"github.com/mailtriage/mailtriage/store"
)

// eventStmts are AppendEvents' statements.
type eventStmts struct {
	batch         *sql.Stmt
	events, hours multiInsert
}

func (s *Store) prepareEvents(ctx context.Context) error {
	var err error
	s.ev.batch, err = s.db.PrepareContext(ctx, `INSERT INTO event_batches (id, events, appended_unix) VALUES (?, ?, ?)
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	s.ev.events = multiInsert{
		head: `INSERT INTO delivery_events (time_unix, kind, status, source, host, queue_id, message_id, sender,
		recipient, domain, lane, remote_host, remote_ip, local_ip, reply_code, enhanced_code, detail,
		class, reason, provider, filter, rule, attempts, queued_unix, batch) VALUES `,
		row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	}
	s.ev.hours = multiInsert{
		head: `INSERT INTO lane_hours (lane, hour, attempts, delivered, deferred, bounced, expired) VALUES `,
		row:  "(?, ?, ?, ?, ?, ?, ?)",
		tail: ` ON CONFLICT (lane, hour) DO UPDATE SET attempts = attempts + excluded.attempts,
		delivered = delivered + excluded.delivered, deferred = deferred + excluded.deferred,
		bounced = bounced + excluded.bounced, expired = expired + excluded.expired`,
	}
	return nil
}

func (s *Store) closeEvents() {
	if s.ev.batch != nil {
		s.ev.batch.Close()
	}
	s.ev.events.close()
	s.ev.hours.close()
}

// laneHour keys the hourly rollup.
type laneHour struct {
	lane string
	hour int64
}

// hourCounts is one lane's hour in a batch.
type hourCounts struct {
	attempts, delivered, deferred, bounced, expired int64
}

// AppendEvents keeps a batch in one transaction: its ledger row, its
// events and their share of the hourly rollup.
func (s *Store) AppendEvents(ctx context.Context, b store.EventBatch) (bool, error) {
	if b.ID == "" {
		return false, fmt.Errorf("%w: a batch of events without an id", store.ErrInvalid)
	}
	what := fmt.Sprintf("batch %q", b.ID)
	hours := map[laneHour]*hourCounts{}
	var order []laneHour
	for i := range b.Events {
		e := &b.Events[i]
		if e.Kind != mailtriage.Attempt && !(e.Kind == mailtriage.Final && e.Status == mailtriage.Expired) {
			continue
		}
		k := laneHour{e.Lane, unitOf(e.Time, hourSeconds)}
		c := hours[k]
		if c == nil {
			c = &hourCounts{}
			hours[k] = c
			order = append(order, k)
		}
		if e.Kind == mailtriage.Final {
			c.expired++
			continue
		}
		c.attempts++
		switch e.Status {
		case mailtriage.Delivered:
			c.delivered++
		case mailtriage.Deferred:
			c.deferred++
		case mailtriage.Bounced:
			c.bounced++
		}
	}
	evStmts, err := s.ev.events.stmts(ctx, s.db, len(b.Events))
	if err != nil {
		return false, fmt.Errorf("database %s: %w", s.path, err)
	}
	hourStmts, err := s.ev.hours.stmts(ctx, s.db, len(order))
	if err != nil {
		return false, fmt.Errorf("database %s: %w", s.path, err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, s.writeErr(what, "", err)
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, s.ev.batch).ExecContext(ctx, b.ID, len(b.Events), s.now().Unix())
	if err != nil {
		return false, s.writeErr(what, "", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	for start := 0; start < len(b.Events); start += rowsPerInsert {
		chunk := b.Events[start:min(start+rowsPerInsert, len(b.Events))]
		args := make([]any, 0, 25*len(chunk))
		for i := range chunk {
			e := &chunk[i]
			var queued int64
			if !e.Queued.IsZero() {
				queued = e.Queued.Unix()
			}
			v := e.Verdict
			args = append(args, e.Time.Unix(), int(e.Kind), int(e.Status), e.Source, e.Host, e.QueueID, e.MessageID, e.Sender,
				e.Recipient, e.Domain, e.Lane, e.RemoteHost, e.RemoteIP, e.LocalIP, e.Detail.Reply.Code, e.Detail.Reply.Enhanced, e.Detail.Text,
				string(v.Class), v.Reason, v.Provider, v.Filter, v.Rule, e.Attempts, queued, b.ID)
		}
		if _, err := tx.StmtContext(ctx, evStmts[len(chunk)]).ExecContext(ctx, args...); err != nil {
			w := what
			if i := slices.IndexFunc(chunk, badEvent); i >= 0 {
				w += fmt.Sprintf(": event %d has kind %d, status %d", start+i+1, chunk[i].Kind, chunk[i].Status)
			}
			return false, s.writeErr(w, "", err)
		}
	}
	for start := 0; start < len(order); start += rowsPerInsert {
		chunk := order[start:min(start+rowsPerInsert, len(order))]
		args := make([]any, 0, 7*len(chunk))
		for _, k := range chunk {
			c := hours[k]
			args = append(args, k.lane, k.hour, c.attempts, c.delivered, c.deferred, c.bounced, c.expired)
		}
		if _, err := tx.StmtContext(ctx, hourStmts[len(chunk)]).ExecContext(ctx, args...); err != nil {
			return false, s.writeErr(what, "", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, s.writeErr(what, "", err)
	}
	return true, nil
}

// badEvent reports an event the schema's CHECKs refuse.
func badEvent(e mailtriage.Event) bool {
	return e.Kind < mailtriage.Attempt || e.Kind > mailtriage.Complaint || e.Status > mailtriage.Discarded
}

// LaneHourly reads the hourly rollup.
func (s *Store) LaneHourly(ctx context.Context, q store.Window) ([]store.LaneHour, error) {
	var conds []string
	var args []any
	if q.Lane != "" {
		conds = append(conds, "lane = ?")
		args = append(args, q.Lane)
	}
	from, to := unitRange(q.Since, q.Until, hourSeconds)
	if !q.Since.IsZero() {
		conds = append(conds, "hour >= ?")
		args = append(args, from)
	}
	if !q.Until.IsZero() {
		conds = append(conds, "hour < ?")
		args = append(args, to)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var out []store.LaneHour
	err := s.each(ctx, `SELECT lane, hour, attempts, delivered, deferred, bounced, expired FROM lane_hours`+where, args, func(rows *sql.Rows) error {
		var h store.LaneHour
		var hour int64
		if err := rows.Scan(&h.Lane, &hour, &h.Attempts, &h.Delivered, &h.Deferred, &h.Bounced, &h.Expired); err != nil {
			return err
		}
		h.Hour = hourTime(hour)
		out = append(out, h)
		return nil
	})
	slices.SortFunc(out, func(a, b store.LaneHour) int { return cmp.Or(cmp.Compare(a.Lane, b.Lane), a.Hour.Compare(b.Hour)) })
	return out, err
}
