package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/store"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PutAggregateReport keeps r in one transaction: its ledger row, its
// records and its share of the per-day rollup. A report whose key is
// already there adds nothing.
func (s *Store) PutAggregateReport(ctx context.Context, r *dmarcreport.Aggregate, rdns map[netip.Addr]string) (added bool, err error) {
	if r == nil {
		return false, fmt.Errorf("%w: no report", store.ErrInvalid)
	}
	if r.End.Before(r.Begin) {
		return false, fmt.Errorf("%w: report %q of %s: its period ends (%s) before it begins (%s)", store.ErrInvalid, r.ReportID, r.Org, r.End.UTC().Format("2006-01-02T15:04:05Z"), r.Begin.UTC().Format("2006-01-02T15:04:05Z"))
	}
	domain := normDomain(r.Policy.Domain)
	day := unixDay(r.Begin)
	now := s.now().Unix()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("database %s: %w", s.path, err)
	}
	defer tx.Rollback()

	errs, _ := json.Marshal(nonNil(r.Errors))
	p := r.Policy
	res, err := tx.StmtContext(ctx, s.put.report).ExecContext(ctx,
		r.Org, r.ReportID, domain, r.Begin.Unix(), r.End.Unix(), day,
		r.Email, r.ExtraContact, r.Version, r.Namespace, r.Generator, string(errs),
		p.ADKIM, p.ASPF, p.P, p.SP, p.NP, p.PCT, p.FO, p.Testing, p.DiscoveryMethod,
		len(r.Records), r.Messages(), now)
	if err != nil {
		return false, s.writeErr("report", r.ReportID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return false, err
	}

	ins := tx.StmtContext(ctx, s.put.record)
	sums := map[netip.Addr]*sourceSum{}
	var order []netip.Addr
	for i := range r.Records {
		rec := &r.Records[i]
		ip := rec.SourceIP.Unmap().WithZone("")
		if !ip.IsValid() {
			return false, fmt.Errorf("%w: report %q of %s: record %d has no source address", store.ErrInvalid, r.ReportID, r.Org, i+1)
		}
		dk, _ := json.Marshal(dkimJSON(rec.DKIMResults))
		sp, _ := json.Marshal(spfJSON(rec.SPFResults))
		rs, _ := json.Marshal(reasonJSON(rec.Reasons))
		_, err := ins.ExecContext(ctx, id, i, ip.String(), rdns[ip], rec.Count, strings.ToLower(rec.Disposition),
			strings.ToLower(rec.DKIM), strings.ToLower(rec.SPF), rec.HeaderFrom, rec.EnvelopeFrom, rec.EnvelopeTo,
			string(dk), string(sp), string(rs))
		if err != nil {
			return false, s.writeErr(fmt.Sprintf("report %q of %s: record %d", r.ReportID, r.Org, i+1), "", err)
		}
		sum := sums[ip]
		if sum == nil {
			sum = &sourceSum{}
			sums[ip] = sum
			order = append(order, ip)
		}
		sum.add(rec)
	}

	up := tx.StmtContext(ctx, s.put.rollup)
	name := tx.StmtContext(ctx, s.put.name)
	for _, ip := range order {
		m := sums[ip]
		if _, err := up.ExecContext(ctx, domain, day, ip.String(), m.messages, m.both, m.dkimOnly, m.spfOnly, m.none, m.quarantined, m.rejected); err != nil {
			return false, s.writeErr("report", r.ReportID, err)
		}
		if rdnsName := rdns[ip]; rdnsName != "" {
			if _, err := name.ExecContext(ctx, ip.String(), rdnsName, now); err != nil {
				return false, s.writeErr("report", r.ReportID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return false, s.writeErr("report", r.ReportID, err)
	}
	return true, nil
}

// putStmts are the statements of PutAggregateReport, prepared once: a
// report is a few dozen statements, and parsing them again for each report
// cost more than running them.
type putStmts struct {
	report, record, rollup, name *sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.put.report, `INSERT INTO dmarc_reports (org, report_id, domain, begin_unix, end_unix, day,
		email, extra_contact, version, namespace, generator, errors,
		adkim, aspf, p, sp, np, pct, fo, testing, discovery_method, records, messages, imported_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org, report_id, domain, begin_unix, end_unix) DO NOTHING`},
		{&s.put.record, `INSERT INTO dmarc_records (report, seq, source_ip, rdns, count, disposition,
		dkim_aligned, spf_aligned, header_from, envelope_from, envelope_to, dkim_results, spf_results, reasons)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&s.put.rollup, `INSERT INTO dmarc_source_days (domain, day, source_ip, reports, messages,
		both_pass, dkim_only, spf_only, none_pass, quarantined, rejected)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, day, source_ip) DO UPDATE SET
		reports = reports + 1, messages = messages + excluded.messages,
		both_pass = both_pass + excluded.both_pass, dkim_only = dkim_only + excluded.dkim_only,
		spf_only = spf_only + excluded.spf_only, none_pass = none_pass + excluded.none_pass,
		quarantined = quarantined + excluded.quarantined, rejected = rejected + excluded.rejected`},
		{&s.put.name, `INSERT INTO ip_names (ip, rdns, looked_unix) VALUES (?, ?, ?)
		ON CONFLICT (ip) DO UPDATE SET rdns = excluded.rdns, looked_unix = excluded.looked_unix`},
	} {
		st, err := s.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("database %s: %w", s.path, err)
		}
		*p.stmt = st
	}
	return nil
}

// sourceSum is one report's records from one address, summed.
type sourceSum struct {
	messages, both, dkimOnly, spfOnly, none, quarantined, rejected int64
}

func (m *sourceSum) add(rec *dmarcreport.Record) {
	dkim, spf := pass(rec.DKIM), pass(rec.SPF)
	m.messages += rec.Count
	switch {
	case dkim && spf:
		m.both += rec.Count
	case dkim:
		m.dkimOnly += rec.Count
	case spf:
		m.spfOnly += rec.Count
	default:
		m.none += rec.Count
	}
	switch strings.ToLower(rec.Disposition) {
	case "quarantine":
		m.quarantined += rec.Count
	case "reject":
		m.rejected += rec.Count
	}
}

// pass reads a policy_evaluated result; reporters vary the case ("Pass").
func pass(result string) bool { return strings.EqualFold(strings.TrimSpace(result), "pass") }

// writeErr says which write failed, marking the report's own faults (a
// CHECK constraint: a negative count) as store.ErrInvalid.
func (s *Store) writeErr(what, id string, err error) error {
	if id != "" {
		what = fmt.Sprintf("%s %q", what, id)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_CHECK || se.Code() == sqlite3.SQLITE_CONSTRAINT_NOTNULL) {
		return fmt.Errorf("%w: %s: %v", store.ErrInvalid, what, describeCheck(se))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("database %s: %s: %w", s.path, what, err)
}

// describeCheck turns "CHECK constraint failed: count >= 0" into what a
// user can act on.
func describeCheck(se *sqlite.Error) string {
	msg := se.Error()
	switch {
	case strings.Contains(msg, "count >= 0"), strings.Contains(msg, "messages >= 0"):
		return "a negative message count"
	case strings.Contains(msg, "sessions >= 0"), strings.Contains(msg, "successes >= 0"), strings.Contains(msg, "failures >= 0"):
		return "a negative session count"
	}
	return msg
}

func normDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// The JSON columns' shapes: snake_case names, stable for other readers.
type dkimRow struct {
	Domain      string `json:"domain"`
	Selector    string `json:"selector,omitempty"`
	Result      string `json:"result"`
	HumanResult string `json:"human_result,omitempty"`
}

type spfRow struct {
	Domain      string `json:"domain"`
	Scope       string `json:"scope,omitempty"`
	Result      string `json:"result"`
	HumanResult string `json:"human_result,omitempty"`
}

type reasonRow struct {
	Type    string `json:"type"`
	Comment string `json:"comment,omitempty"`
}

func dkimJSON(in []dmarcreport.DKIMResult) []dkimRow {
	out := make([]dkimRow, len(in))
	for i, d := range in {
		out[i] = dkimRow{d.Domain, d.Selector, d.Result, d.HumanResult}
	}
	return out
}

func spfJSON(in []dmarcreport.SPFResult) []spfRow {
	out := make([]spfRow, len(in))
	for i, d := range in {
		out[i] = spfRow{d.Domain, d.Scope, d.Result, d.HumanResult}
	}
	return out
}

func reasonJSON(in []dmarcreport.Reason) []reasonRow {
	out := make([]reasonRow, len(in))
	for i, d := range in {
		out[i] = reasonRow{d.Type, d.Comment}
	}
	return out
}

// PutFailureReport keeps f, once: its identity is a hash of its content.
func (s *Store) PutFailureReport(ctx context.Context, f *dmarcreport.Failure) (bool, error) {
	if f == nil {
		return false, fmt.Errorf("%w: no report", store.ErrInvalid)
	}
	body, err := json.Marshal(f)
	if err != nil {
		return false, fmt.Errorf("failure report: %w", err)
	}
	hash := sha256.Sum256(body)
	now := s.now().Unix()
	arrival := now
	if !f.Arrival.IsZero() {
		arrival = f.Arrival.Unix()
	}
	src := ""
	if f.SourceIP.IsValid() {
		src = f.SourceIP.Unmap().WithZone("").String()
	}
	af, _ := json.Marshal(nonNil(f.AuthFailure))
	res, err := s.db.ExecContext(ctx, `INSERT INTO dmarc_failures (hash, reported_domain, arrival_unix, source_ip,
		delivery_result, auth_failure, report, imported_unix) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO NOTHING`,
		hash[:], normDomain(f.ReportedDomain), arrival, src, strings.ToLower(f.DeliveryResult), string(af), string(body), now)
	if err != nil {
		return false, s.writeErr("failure report", f.MessageID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DMARCSources reads the rollup: thousands of rows, whatever the number
// of reports.
func (s *Store) DMARCSources(ctx context.Context, q store.DMARCQuery) ([]store.SourceStat, error) {
	// Sum first, then name: the join runs once per address, not per row.
	where, args := dayWhere(q)
	rows, err := s.db.QueryContext(ctx, `SELECT g.source_ip, coalesce(n.rdns, ''), g.reports, g.messages,
		g.both_pass, g.dkim_only, g.spf_only, g.none_pass, g.quarantined, g.rejected
		FROM (SELECT source_ip, sum(reports) AS reports, sum(messages) AS messages, sum(both_pass) AS both_pass,
			sum(dkim_only) AS dkim_only, sum(spf_only) AS spf_only, sum(none_pass) AS none_pass,
			sum(quarantined) AS quarantined, sum(rejected) AS rejected
			FROM dmarc_source_days`+where+` GROUP BY source_ip) g
		LEFT JOIN ip_names n ON n.ip = g.source_ip`, args...)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []store.SourceStat
	for rows.Next() {
		var st store.SourceStat
		var ip string
		if err := rows.Scan(&ip, &st.RDNS, &st.Reports, &st.Messages, &st.BothPass, &st.DKIMOnly, &st.SPFOnly, &st.NonePass, &st.Quarantined, &st.Rejected); err != nil {
			return nil, err
		}
		if st.IP, err = netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("database %s: source address %q: %w", s.path, ip, err)
		}
		st.DKIMAlignedPass = st.BothPass + st.DKIMOnly
		st.SPFAlignedPass = st.BothPass + st.SPFOnly
		st.DMARCPass = st.BothPass + st.DKIMOnly + st.SPFOnly
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.SourceStat) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), a.IP.Compare(b.IP))
	})
	return out, nil
}

// dayWhere is the WHERE clause (with its leading " WHERE ", or empty) of
// a DMARCQuery over a table with domain and day columns. Open sides are
// left out, so a query over everything scans the table instead of walking
// the day index.
func dayWhere(q store.DMARCQuery) (string, []any) {
	var conds []string
	var args []any
	if q.Domain != "" {
		conds = append(conds, "domain = ?")
		args = append(args, normDomain(q.Domain))
	}
	from, to := dayRange(q.Since, q.Until)
	if !q.Since.IsZero() {
		conds = append(conds, "day >= ?")
		args = append(args, from)
	}
	if !q.Until.IsZero() {
		conds = append(conds, "day < ?")
		args = append(args, to)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// DMARCDaily sums the rollup per day, with the reports of each day from
// the ledger (a report without records counts there too).
func (s *Store) DMARCDaily(ctx context.Context, q store.DMARCQuery) ([]store.DMARCDay, error) {
	byDay := map[int64]*store.DMARCDay{}
	get := func(day int64) *store.DMARCDay {
		d := byDay[day]
		if d == nil {
			d = &store.DMARCDay{Day: dayTime(day)}
			byDay[day] = d
		}
		return d
	}
	where, args := dayWhere(q)
	err := s.each(ctx, `SELECT day, sum(messages), sum(both_pass + dkim_only + spf_only) FROM dmarc_source_days`+where+` GROUP BY day`, args, func(rows *sql.Rows) error {
		var day, msgs, pass int64
		if err := rows.Scan(&day, &msgs, &pass); err != nil {
			return err
		}
		d := get(day)
		d.Messages, d.DMARCPass = msgs, pass
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT day, count(*) FROM dmarc_reports`+where+` GROUP BY day`, args, func(rows *sql.Rows) error {
		var day, n int64
		if err := rows.Scan(&day, &n); err != nil {
			return err
		}
		get(day).Reports = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]store.DMARCDay, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b store.DMARCDay) int { return a.Day.Compare(b.Day) })
	return out, nil
}

// DMARCCounts counts reports and messages from the ledger, failure
// reports by arrival.
func (s *Store) DMARCCounts(ctx context.Context, q store.DMARCQuery) (store.DMARCCounts, error) {
	var c store.DMARCCounts
	where, args := dayWhere(q)
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(messages), 0) FROM dmarc_reports`+where, args...).Scan(&c.Reports, &c.Messages); err != nil {
		return c, fmt.Errorf("database %s: %w", s.path, err)
	}
	from, to := dayRange(q.Since, q.Until)
	fq := `SELECT count(*) FROM dmarc_failures WHERE arrival_unix >= ? AND arrival_unix < ?`
	fargs := []any{from * 86400, to * 86400}
	if q.Domain != "" {
		fq += ` AND reported_domain = ?`
		fargs = append(fargs, normDomain(q.Domain))
	}
	if err := s.db.QueryRowContext(ctx, fq, fargs...).Scan(&c.Failures); err != nil {
		return c, fmt.Errorf("database %s: %w", s.path, err)
	}
	return c, nil
}

// each runs a query and calls f on every row.
func (s *Store) each(ctx context.Context, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return fmt.Errorf("database %s: %w", s.path, err)
		}
	}
	return rows.Err()
}
