package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailtriage/mailtriage/dmarcreport"
	"github.com/mailtriage/mailtriage/store"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PutAggregateReport keeps r in one transaction: its ledger row, its
// records and its share of the per-day rollups. A report whose key is
// already there adds nothing.
func (s *Store) PutAggregateReport(ctx context.Context, r *dmarcreport.Aggregate, rdns map[netip.Addr]string) (added bool, err error) {
	res, err := s.PutAggregateReports(ctx, []store.AggregateInput{{Report: r, RDNS: rdns}})
	if err != nil {
		return false, err
	}
	return res[0].Added, res[0].Err
}

// PutAggregateReports keeps the reports in one transaction, each in a
// savepoint of its own: a report the schema refuses half-way is rolled back
// to its savepoint, alone, and the rest commit together. One commit for
// many reports writes each page they share once, where a commit per report
// writes it again every time.
func (s *Store) PutAggregateReports(ctx context.Context, batch []store.AggregateInput) ([]store.PutResult, error) {
	results := make([]store.PutResult, len(batch))
	ready := make([]*readyReport, len(batch))
	for i, in := range batch {
		p, err := s.readyReport(ctx, in.Report, in.RDNS)
		if errors.Is(err, store.ErrInvalid) {
			results[i].Err = err
			continue
		}
		if err != nil {
			return nil, err
		}
		ready[i] = p
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.writeErr("reports", "", err)
	}
	defer tx.Rollback()
	for i, p := range ready {
		if p == nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT report"); err != nil {
			return nil, s.writeErr(p.what, "", err)
		}
		added, err := s.writeReport(ctx, tx, p)
		if errors.Is(err, store.ErrInvalid) {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO report"); err != nil {
				return nil, s.writeErr(p.what, "", err)
			}
			results[i].Err = err
		} else if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "RELEASE report"); err != nil {
			return nil, s.writeErr(p.what, "", err)
		}
		results[i].Added = added && err == nil
	}
	if err := tx.Commit(); err != nil {
		return nil, s.writeErr("reports", "", err)
	}
	return results, nil
}

// readyReport is a report checked, summed per source, and with its
// statements prepared: all that can be done before the transaction.
type readyReport struct {
	r                   *dmarcreport.Aggregate
	rdns                map[netip.Addr]string
	what                string
	ips                 []netip.Addr // per record
	messages            int64        // all records'
	sums                map[netip.Addr]*sourceSum
	order               []netip.Addr // the sources, in report order
	recStmts, rollStmts map[int]*sql.Stmt
}

func (s *Store) readyReport(ctx context.Context, r *dmarcreport.Aggregate, rdns map[netip.Addr]string) (*readyReport, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: no report", store.ErrInvalid)
	}
	p := &readyReport{r: r, rdns: rdns, what: fmt.Sprintf("report %q of %s", r.ReportID, r.Org), sums: map[netip.Addr]*sourceSum{}}
	if r.End.Before(r.Begin) {
		return nil, fmt.Errorf("%w: %s: its period ends (%s) before it begins (%s)", store.ErrInvalid, p.what, r.End.UTC().Format(time.RFC3339), r.Begin.UTC().Format(time.RFC3339))
	}
	p.ips = make([]netip.Addr, len(r.Records))
	for i := range r.Records {
		ip := r.Records[i].SourceIP.Unmap().WithZone("")
		if !ip.IsValid() {
			return nil, fmt.Errorf("%w: %s: record %d has no source address", store.ErrInvalid, p.what, i+1)
		}
		p.ips[i] = ip
		n := r.Records[i].Count
		if n < 0 || n > store.MaxCount {
			return nil, fmt.Errorf("%w: %s: record %d counts %d messages: want 0 to %d", store.ErrInvalid, p.what, i+1, n, int64(store.MaxCount))
		}
		if p.messages > math.MaxInt64-n {
			return nil, fmt.Errorf("%w: %s: its %d records count more messages than a sum can hold", store.ErrInvalid, p.what, len(r.Records))
		}
		p.messages += n
		sum := p.sums[ip]
		if sum == nil {
			sum = &sourceSum{}
			p.sums[ip] = sum
			p.order = append(p.order, ip)
		}
		sum.add(&r.Records[i])
	}
	// Prepared before the transaction takes the one connection.
	var err error
	if p.recStmts, err = s.put.records.stmts(ctx, s.db, len(r.Records)); err != nil {
		return nil, fmt.Errorf("database %s: %w", s.path, err)
	}
	if p.rollStmts, err = s.put.rollup.stmts(ctx, s.db, len(p.order)); err != nil {
		return nil, fmt.Errorf("database %s: %w", s.path, err)
	}
	return p, nil
}

// writeReport writes a report's rows within tx.
func (s *Store) writeReport(ctx context.Context, tx *sql.Tx, p *readyReport) (added bool, err error) {
	r, what := p.r, p.what
	domain := normDomain(r.Policy.Domain)
	day := reportDay(r.Begin, r.End)
	now := s.now().Unix()
	errs, _ := json.Marshal(nonNil(r.Errors))
	pol := r.Policy
	res, err := tx.StmtContext(ctx, s.put.report).ExecContext(ctx,
		r.Org, r.ReportID, domain, r.Begin.Unix(), r.End.Unix(), day,
		r.Email, r.ExtraContact, r.Version, r.Namespace, r.Generator, string(errs),
		pol.ADKIM, pol.ASPF, pol.P, pol.SP, pol.NP, pol.PCT, pol.FO, pol.Testing, pol.DiscoveryMethod,
		len(r.Records), p.messages, now)
	if err != nil {
		return false, s.writeErr(what, "", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.writeErr(what, "", err)
	}
	if n == 0 {
		return false, nil // already there
	}
	id, err := res.LastInsertId()
	if err != nil {
		return false, s.writeErr(what, "", err)
	}

	for start := 0; start < len(r.Records); start += rowsPerInsert {
		chunk := r.Records[start:min(start+rowsPerInsert, len(r.Records))]
		args := make([]any, 0, 14*len(chunk))
		for i := range chunk {
			rec := &chunk[i]
			dk, _ := json.Marshal(dkimJSON(rec.DKIMResults))
			sp, _ := json.Marshal(spfJSON(rec.SPFResults))
			rs, _ := json.Marshal(reasonJSON(rec.Reasons))
			ip := p.ips[start+i]
			args = append(args, id, start+i, ip.String(), p.rdns[ip], rec.Count, strings.ToLower(rec.Disposition),
				strings.ToLower(rec.DKIM), strings.ToLower(rec.SPF), rec.HeaderFrom, rec.EnvelopeFrom, rec.EnvelopeTo,
				string(dk), string(sp), string(rs))
		}
		if _, err := tx.StmtContext(ctx, p.recStmts[len(chunk)]).ExecContext(ctx, args...); err != nil {
			// Name the record a CHECK refused: the first negative count.
			w := what
			if i := slices.IndexFunc(chunk, func(rec dmarcreport.Record) bool { return rec.Count < 0 }); i >= 0 {
				w += fmt.Sprintf(": record %d", start+i+1)
			}
			return false, s.writeErr(w, "", err)
		}
	}

	var dmarcPass int64
	for start := 0; start < len(p.order); start += rowsPerInsert {
		chunk := p.order[start:min(start+rowsPerInsert, len(p.order))]
		args := make([]any, 0, 10*len(chunk))
		for _, ip := range chunk {
			m := p.sums[ip]
			dmarcPass += m.both + m.dkimOnly + m.spfOnly
			args = append(args, domain, day, ip.String(), m.messages, m.both, m.dkimOnly, m.spfOnly, m.none, m.quarantined, m.rejected)
		}
		if _, err := tx.StmtContext(ctx, p.rollStmts[len(chunk)]).ExecContext(ctx, args...); err != nil {
			return false, s.writeErr(what, "", err)
		}
	}
	name := tx.StmtContext(ctx, s.put.name)
	for _, ip := range p.order {
		if rdnsName := p.rdns[ip]; rdnsName != "" {
			if _, err := name.ExecContext(ctx, ip.String(), rdnsName, now); err != nil {
				return false, s.writeErr(what, "", err)
			}
		}
	}
	if _, err := tx.StmtContext(ctx, s.put.day).ExecContext(ctx, domain, day, p.messages, dmarcPass); err != nil {
		return false, s.writeErr(what, "", err)
	}
	return true, nil
}

// putStmts are the statements of PutAggregateReport, prepared once: a
// report is a few dozen statements, and parsing them again for each report
// cost more than running them.
type putStmts struct {
	report, name, day *sql.Stmt
	// Records and rollup rows go many to a statement: the driver's cost
	// of one Exec is more than SQLite's of one row.
	records, rollup multiInsert
}

// rowsPerInsert is the most rows one multi-row INSERT writes.
const rowsPerInsert = 32

// multiInsert is an INSERT of one to rowsPerInsert rows, prepared for
// each number of rows as it is first needed.
type multiInsert struct {
	head, row, tail string
	mu              sync.Mutex
	byRows          map[int]*sql.Stmt
}

// stmts returns the statements that write rows rows in chunks of
// rowsPerInsert, by their number of rows, preparing those not yet
// prepared. It must be called outside a transaction: preparing takes the
// store's one connection.
func (m *multiInsert) stmts(ctx context.Context, db *sql.DB, rows int) (map[int]*sql.Stmt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byRows == nil {
		m.byRows = map[int]*sql.Stmt{}
	}
	for _, n := range []int{min(rows, rowsPerInsert), rows % rowsPerInsert} {
		if n == 0 || m.byRows[n] != nil {
			continue
		}
		st, err := db.PrepareContext(ctx, m.head+strings.Repeat(m.row+", ", n-1)+m.row+m.tail)
		if err != nil {
			return nil, err
		}
		m.byRows[n] = st
	}
	// A copy: the caller reads it while others may add to the map.
	return maps.Clone(m.byRows), nil
}

func (m *multiInsert) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.byRows {
		st.Close()
	}
}

func (s *Store) prepare(ctx context.Context) error {
	s.put.records = multiInsert{
		head: `INSERT INTO dmarc_records (report, seq, source_ip, rdns, count, disposition,
		dkim_aligned, spf_aligned, header_from, envelope_from, envelope_to, dkim_results, spf_results, reasons) VALUES `,
		row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	}
	s.put.rollup = multiInsert{
		head: `INSERT INTO dmarc_source_days (domain, day, source_ip, reports, messages,
		both_pass, dkim_only, spf_only, none_pass, quarantined, rejected) VALUES `,
		row: "(?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
		// SQLite turns an integer sum that overflows into a REAL, which
		// no int64 can be read from: addTo keeps the rollups integers.
		tail: ` ON CONFLICT (domain, day, source_ip) DO UPDATE SET
		reports = reports + 1, ` + addTo("messages") + `,
		` + addTo("both_pass") + `, ` + addTo("dkim_only") + `,
		` + addTo("spf_only") + `, ` + addTo("none_pass") + `,
		` + addTo("quarantined") + `, ` + addTo("rejected"),
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.put.report, `INSERT INTO dmarc_reports (org, report_id, domain, begin_unix, end_unix, day,
		email, extra_contact, version, namespace, generator, errors,
		adkim, aspf, p, sp, np, pct, fo, testing, discovery_method, records, messages, imported_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org, report_id, domain, begin_unix, end_unix) DO NOTHING`},

		{&s.put.name, `INSERT INTO ip_names (ip, rdns, looked_unix) VALUES (?, ?, ?)
		ON CONFLICT (ip) DO UPDATE SET rdns = excluded.rdns, looked_unix = excluded.looked_unix`},
		{&s.put.day, `INSERT INTO dmarc_days (domain, day, reports, messages, dmarc_pass) VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (domain, day) DO UPDATE SET reports = reports + 1,
		` + addTo("messages") + `, ` + addTo("dmarc_pass")},
	} {
		st, err := s.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("database %s: %w", s.path, err)
		}
		*p.stmt = st
	}
	return nil
}

// addTo is the SET clause of an upsert adding excluded.col to col, held
// at store.MaxSum.
func addTo(col string) string {
	return fmt.Sprintf("%s = min(%s + excluded.%s, %d)", col, col, col, int64(store.MaxSum))
}

// sumOf is an aggregate sum of col that never fails: SQLite's sum()
// stops the query with "integer overflow", and a rollup written before
// addTo may hold a REAL. total() adds in floating point (exact to 2^53),
// and the result is held at store.MaxSum and read back as an integer, so
// one bad row shows as a large number instead of failing the summary for
// good.
func sumOf(col string) string {
	return fmt.Sprintf("CAST(min(total(%s), %d) AS INTEGER)", col, int64(store.MaxSum))
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
	// The identity leaves out the fields read since reports were first
	// kept, so that a report imported before is still the same report.
	id := *f
	id.AuthenticationResults, id.OriginalEnvelopeID = nil, ""
	idJSON, err := json.Marshal(&id)
	if err != nil {
		return false, fmt.Errorf("failure report: %w", err)
	}
	hash := sha256.Sum256(idJSON)
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
		hash[:], failureDomain(f), arrival, src, strings.ToLower(f.DeliveryResult), string(af), string(body), now)
	if err != nil {
		return false, s.writeErr("failure report", f.MessageID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.writeErr("failure report", f.MessageID, err)
	}
	return n > 0, nil
}

// failureDomain is the domain a failure report is about: its
// Reported-Domain, which is optional (RFC 5965 §3.2), else the domain of
// the reported message's From, the domain DMARC was evaluated for (RFC
// 7489 §3.1). Migration 6 says the same in SQL.
func failureDomain(f *dmarcreport.Failure) string {
	if d := normDomain(f.ReportedDomain); d != "" {
		return d
	}
	if _, d, ok := strings.Cut(f.From, "@"); ok && !strings.ContainsAny(d, "@ <>") {
		return normDomain(d)
	}
	return ""
}

// DMARCSources reads the rollup: thousands of rows, whatever the number
// of reports.
func (s *Store) DMARCSources(ctx context.Context, q store.DMARCQuery) ([]store.SourceStat, error) {
	// Sum first, then name: the join runs once per address, not per row.
	where, args := dayWhere(q)
	// none_pass is what the others leave of messages: every column read
	// costs, with a hundred thousand rows.
	rows, err := s.db.QueryContext(ctx, `SELECT g.source_ip, coalesce(n.rdns, ''), g.reports, g.messages,
		g.both_pass, g.dkim_only, g.spf_only, g.quarantined, g.rejected
		FROM (SELECT source_ip, `+sumOf("reports")+` AS reports, `+sumOf("messages")+` AS messages,
			`+sumOf("both_pass")+` AS both_pass, `+sumOf("dkim_only")+` AS dkim_only, `+sumOf("spf_only")+` AS spf_only,
			`+sumOf("quarantined")+` AS quarantined, `+sumOf("rejected")+` AS rejected
			FROM dmarc_source_days`+where+` GROUP BY source_ip) g
		LEFT JOIN ip_names n ON n.ip = g.source_ip`, args...)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", s.path, err)
	}
	defer rows.Close()
	// Rows collect in chunks, copied once into a slice of the right size: a
	// domain can have a hundred thousand sources, and growing one slice
	// by doubling copies them over and over.
	var chunks [][]store.SourceStat
	cur := make([]store.SourceStat, 0, 256)
	n := 0
	for rows.Next() {
		if len(cur) == cap(cur) {
			chunks = append(chunks, cur)
			cur = make([]store.SourceStat, 0, min(2*cap(cur), 16384))
		}
		cur = cur[:len(cur)+1]
		st := &cur[len(cur)-1]
		n++
		var ip string
		if err := rows.Scan(&ip, &st.RDNS, &st.Reports, &st.Messages, &st.BothPass, &st.DKIMOnly, &st.SPFOnly, &st.Quarantined, &st.Rejected); err != nil {
			return nil, fmt.Errorf("database %s: reading sources: %w", s.path, err)
		}
		if st.IP, err = netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("database %s: source address %q: %w", s.path, ip, err)
		}
		st.DKIMAlignedPass = st.BothPass + st.DKIMOnly
		st.SPFAlignedPass = st.BothPass + st.SPFOnly
		st.DMARCPass = st.BothPass + st.DKIMOnly + st.SPFOnly
		// Only a damaged rollup has more passes than messages.
		st.NonePass = max(st.Messages-st.DMARCPass, 0)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("database %s: reading sources: %w", s.path, err)
	}
	out := make([]store.SourceStat, 0, n)
	for _, c := range append(chunks, cur) {
		out = append(out, c...)
	}
	if n == 0 {
		out = nil
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

// DMARCDaily reads the per-day rollup.
func (s *Store) DMARCDaily(ctx context.Context, q store.DMARCQuery) ([]store.DMARCDay, error) {
	where, args := dayWhere(q)
	var out []store.DMARCDay
	err := s.each(ctx, `SELECT day, `+sumOf("reports")+`, `+sumOf("messages")+`, `+sumOf("dmarc_pass")+` FROM dmarc_days`+where+` GROUP BY day ORDER BY day`, args, func(rows *sql.Rows) error {
		var d store.DMARCDay
		var day int64
		if err := rows.Scan(&day, &d.Reports, &d.Messages, &d.DMARCPass); err != nil {
			return err
		}
		d.Day = dayTime(day)
		out = append(out, d)
		return nil
	})
	return out, err
}

// DMARCCounts counts reports and messages from the per-day rollup,
// failure reports by arrival.
func (s *Store) DMARCCounts(ctx context.Context, q store.DMARCQuery) (store.DMARCCounts, error) {
	var c store.DMARCCounts
	where, args := dayWhere(q)
	if err := s.db.QueryRowContext(ctx, `SELECT `+sumOf("reports")+`, `+sumOf("messages")+` FROM dmarc_days`+where, args...).Scan(&c.Reports, &c.Messages); err != nil {
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
	if err := rows.Err(); err != nil {
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	return nil
}
