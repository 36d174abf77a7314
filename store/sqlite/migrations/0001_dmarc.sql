-- DMARC aggregate reports (RFC 9990), their records, a per-day rollup for
-- the summary, the names of source addresses, and failure reports (RFC 9991).
-- Times are Unix seconds, UTC; day is the Unix day (seconds / 86400).

-- One row per report: the idempotency ledger. The UNIQUE key is the report
-- key parsedmarc uses too.
CREATE TABLE dmarc_reports (
	id               INTEGER PRIMARY KEY,
	org              TEXT NOT NULL,
	report_id        TEXT NOT NULL,
	domain           TEXT NOT NULL,
	begin_unix       INTEGER NOT NULL,
	end_unix         INTEGER NOT NULL,
	day              INTEGER NOT NULL,
	email            TEXT NOT NULL,
	extra_contact    TEXT NOT NULL,
	version          TEXT NOT NULL,
	namespace        TEXT NOT NULL,
	generator        TEXT NOT NULL,
	errors           TEXT NOT NULL, -- JSON array of strings
	adkim            TEXT NOT NULL,
	aspf             TEXT NOT NULL,
	p                TEXT NOT NULL,
	sp               TEXT NOT NULL,
	np               TEXT NOT NULL,
	pct              TEXT NOT NULL,
	fo               TEXT NOT NULL,
	testing          TEXT NOT NULL,
	discovery_method TEXT NOT NULL,
	records          INTEGER NOT NULL,
	messages         INTEGER NOT NULL CHECK (messages >= 0),
	imported_unix    INTEGER NOT NULL,
	UNIQUE (org, report_id, domain, begin_unix, end_unix)
);
CREATE INDEX dmarc_reports_domain_day ON dmarc_reports (domain, day);
CREATE INDEX dmarc_reports_day ON dmarc_reports (day);

-- One row per record, in report order. The raw DKIM and SPF results and the
-- override reasons are JSON arrays: they are read whole, never searched.
CREATE TABLE dmarc_records (
	report        INTEGER NOT NULL REFERENCES dmarc_reports (id) ON DELETE CASCADE,
	seq           INTEGER NOT NULL,
	source_ip     TEXT NOT NULL CHECK (source_ip <> ''),
	rdns          TEXT NOT NULL,
	count         INTEGER NOT NULL CHECK (count >= 0),
	disposition   TEXT NOT NULL,
	dkim_aligned  TEXT NOT NULL,
	spf_aligned   TEXT NOT NULL,
	header_from   TEXT NOT NULL,
	envelope_from TEXT NOT NULL,
	envelope_to   TEXT NOT NULL,
	dkim_results  TEXT NOT NULL, -- [{"domain","selector","result","human_result"}]
	spf_results   TEXT NOT NULL, -- [{"domain","scope","result","human_result"}]
	reasons       TEXT NOT NULL, -- [{"type","comment"}]
	PRIMARY KEY (report, seq)
) WITHOUT ROWID;

-- The summary's rollup: per policy domain, day and source address, the
-- messages by aligned result and disposition. Written in the report's own
-- transaction, so it always agrees with dmarc_records.
CREATE TABLE dmarc_source_days (
	domain      TEXT NOT NULL,
	day         INTEGER NOT NULL,
	source_ip   TEXT NOT NULL,
	reports     INTEGER NOT NULL,
	messages    INTEGER NOT NULL,
	both_pass   INTEGER NOT NULL,
	dkim_only   INTEGER NOT NULL,
	spf_only    INTEGER NOT NULL,
	none_pass   INTEGER NOT NULL,
	quarantined INTEGER NOT NULL,
	rejected    INTEGER NOT NULL,
	PRIMARY KEY (domain, day, source_ip)
) WITHOUT ROWID;
CREATE INDEX dmarc_source_days_day ON dmarc_source_days (day);

-- The reverse DNS name of a source address as last looked up.
CREATE TABLE ip_names (
	ip          TEXT PRIMARY KEY,
	rdns        TEXT NOT NULL,
	looked_unix INTEGER NOT NULL
) WITHOUT ROWID;

-- Failure reports have no id: hash is a SHA-256 of their content.
CREATE TABLE dmarc_failures (
	id              INTEGER PRIMARY KEY,
	hash            BLOB NOT NULL UNIQUE,
	reported_domain TEXT NOT NULL,
	arrival_unix    INTEGER NOT NULL, -- Arrival-Date, or the import time when absent
	source_ip       TEXT NOT NULL,
	delivery_result TEXT NOT NULL,
	auth_failure    TEXT NOT NULL, -- JSON array
	report          TEXT NOT NULL, -- the whole report, JSON
	imported_unix   INTEGER NOT NULL
);
CREATE INDEX dmarc_failures_domain_arrival ON dmarc_failures (reported_domain, arrival_unix);
CREATE INDEX dmarc_failures_arrival ON dmarc_failures (arrival_unix);
