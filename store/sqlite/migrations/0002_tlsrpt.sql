-- SMTP TLS reports (RFC 8460 §4): one row per report, per policy and per
-- failure detail.

CREATE TABLE tls_reports (
	id            INTEGER PRIMARY KEY,
	org           TEXT NOT NULL,
	report_id     TEXT NOT NULL,
	begin_unix    INTEGER NOT NULL,
	end_unix      INTEGER NOT NULL,
	contact       TEXT NOT NULL,
	imported_unix INTEGER NOT NULL,
	UNIQUE (org, report_id, begin_unix, end_unix)
);
CREATE INDEX tls_reports_begin ON tls_reports (begin_unix);

CREATE TABLE tls_policies (
	report      INTEGER NOT NULL REFERENCES tls_reports (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	policy_type TEXT NOT NULL,
	domain      TEXT NOT NULL,
	strings     TEXT NOT NULL, -- JSON array
	mx_hosts    TEXT NOT NULL, -- JSON array
	successes   INTEGER NOT NULL CHECK (successes >= 0),
	failures    INTEGER NOT NULL CHECK (failures >= 0),
	PRIMARY KEY (report, seq)
) WITHOUT ROWID;
CREATE INDEX tls_policies_domain ON tls_policies (domain);

CREATE TABLE tls_failures (
	report          INTEGER NOT NULL,
	policy_seq      INTEGER NOT NULL,
	seq             INTEGER NOT NULL,
	result_type     TEXT NOT NULL,
	sending_ip      TEXT NOT NULL,
	receiving_mx    TEXT NOT NULL,
	receiving_helo  TEXT NOT NULL,
	receiving_ip    TEXT NOT NULL,
	sessions        INTEGER NOT NULL CHECK (sessions >= 0),
	additional_info TEXT NOT NULL,
	reason_code     TEXT NOT NULL,
	PRIMARY KEY (report, policy_seq, seq),
	FOREIGN KEY (report, policy_seq) REFERENCES tls_policies (report, seq) ON DELETE CASCADE
) WITHOUT ROWID;
