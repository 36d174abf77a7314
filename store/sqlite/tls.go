package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/mailtriage/mailtriage/store"
	"github.com/mailtriage/mailtriage/tlsrpt"
)

// topFailures is how many failure result types TLSSummary names per policy.
const topFailures = 5

// PutTLSReport keeps r whole in one transaction, once per Key.
func (s *Store) PutTLSReport(ctx context.Context, r *tlsrpt.Report) (bool, error) {
	if r == nil {
		return false, fmt.Errorf("%w: no report", store.ErrInvalid)
	}
	if r.End.Before(r.Begin) {
		return false, fmt.Errorf("%w: TLS report %q of %s: its period ends before it begins", store.ErrInvalid, r.ReportID, r.Org)
	}
	if err := checkSessions(r); err != nil {
		return false, fmt.Errorf("%w: TLS report %q of %s: %s", store.ErrInvalid, r.ReportID, r.Org, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("database %s: %w", s.path, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO tls_reports (org, report_id, begin_unix, end_unix, contact, imported_unix)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org, report_id, begin_unix, end_unix) DO NOTHING`,
		r.Org, r.ReportID, r.Begin.Unix(), r.End.Unix(), r.Contact, s.now().Unix())
	if err != nil {
		return false, s.writeErr("TLS report", r.ReportID, err)
	}
	what := fmt.Sprintf("TLS report %q of %s", r.ReportID, r.Org)
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
	for i, p := range r.Policies {
		strs, _ := json.Marshal(nonNil(p.Strings))
		mx, _ := json.Marshal(nonNil(p.MXHosts))
		if _, err := tx.ExecContext(ctx, `INSERT INTO tls_policies (report, seq, policy_type, domain, strings, mx_hosts, successes, failures)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, i, strings.ToLower(p.Type), normDomain(p.Domain), string(strs), string(mx), p.Success, p.Failure); err != nil {
			return false, s.writeErr(fmt.Sprintf("%s: policy %d", what, i+1), "", err)
		}
		for j, f := range p.Failures {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tls_failures (report, policy_seq, seq, result_type, sending_ip,
				receiving_mx, receiving_helo, receiving_ip, sessions, additional_info, reason_code)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, i, j, strings.ToLower(f.ResultType), addr(f.SendingMTAIP),
				f.ReceivingMX, f.ReceivingHELO, addr(f.ReceivingIP), f.Sessions, f.AdditionalInfo, f.ReasonCode); err != nil {
				return false, s.writeErr(fmt.Sprintf("%s: policy %d, failure %d", what, i+1, j+1), "", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return false, s.writeErr("TLS report", r.ReportID, err)
	}
	return true, nil
}

// checkSessions finds a session count outside 0 to store.MaxCount.
func checkSessions(r *tlsrpt.Report) error {
	bad := func(n int64) bool { return n < 0 || n > store.MaxCount }
	for i, p := range r.Policies {
		if bad(p.Success) || bad(p.Failure) {
			return fmt.Errorf("policy %d counts %d successful and %d failed sessions: want 0 to %d each", i+1, p.Success, p.Failure, int64(store.MaxCount))
		}
		for j, f := range p.Failures {
			if bad(f.Sessions) {
				return fmt.Errorf("policy %d, failure %d counts %d sessions: want 0 to %d", i+1, j+1, f.Sessions, int64(store.MaxCount))
			}
		}
	}
	return nil
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().WithZone("").String()
}

// TLSSummary sums the policies of the matching reports; reports are few
// (one per sending organisation a day), so it reads them directly.
func (s *Store) TLSSummary(ctx context.Context, q store.TLSQuery) ([]store.TLSPolicyStat, error) {
	from, to := dayRange(q.Since, q.Until)
	where := `r.begin_unix >= ? AND r.begin_unix < ?`
	args := []any{from * 86400, to * 86400}
	if q.Domain != "" {
		where += ` AND p.domain = ?`
		args = append(args, normDomain(q.Domain))
	}
	type key struct{ domain, typ string }
	byKey := map[key]*store.TLSPolicyStat{}
	var out []*store.TLSPolicyStat
	err := s.each(ctx, `SELECT p.domain, p.policy_type, count(DISTINCT p.report), `+sumOf("p.successes")+`, `+sumOf("p.failures")+`
		FROM tls_policies p JOIN tls_reports r ON r.id = p.report
		WHERE `+where+` GROUP BY p.domain, p.policy_type`, args, func(rows *sql.Rows) error {
		st := &store.TLSPolicyStat{}
		if err := rows.Scan(&st.Domain, &st.PolicyType, &st.Reports, &st.Successes, &st.Failures); err != nil {
			return err
		}
		byKey[key{st.Domain, st.PolicyType}] = st
		out = append(out, st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, `SELECT p.domain, p.policy_type, f.result_type, `+sumOf("f.sessions")+`
		FROM tls_failures f
		JOIN tls_policies p ON p.report = f.report AND p.seq = f.policy_seq
		JOIN tls_reports r ON r.id = f.report
		WHERE `+where+` GROUP BY p.domain, p.policy_type, f.result_type`, args, func(rows *sql.Rows) error {
		var k key
		var fc store.TLSFailureCount
		if err := rows.Scan(&k.domain, &k.typ, &fc.ResultType, &fc.Sessions); err != nil {
			return err
		}
		if st := byKey[k]; st != nil {
			st.TopFailures = append(st.TopFailures, fc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := make([]store.TLSPolicyStat, len(out))
	for i, st := range out {
		slices.SortFunc(st.TopFailures, func(a, b store.TLSFailureCount) int {
			return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.ResultType, b.ResultType))
		})
		if len(st.TopFailures) > topFailures {
			st.TopFailures = st.TopFailures[:topFailures]
		}
		res[i] = *st
	}
	slices.SortFunc(res, func(a, b store.TLSPolicyStat) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.PolicyType, b.PolicyType))
	})
	return res, nil
}
