-- A per-day rollup of whole reports, for the summary's chart and counts:
-- a few rows a day, where dmarc_source_days has one per source.

CREATE TABLE dmarc_days (
	domain     TEXT NOT NULL,
	day        INTEGER NOT NULL,
	reports    INTEGER NOT NULL,
	messages   INTEGER NOT NULL,
	dmarc_pass INTEGER NOT NULL,
	PRIMARY KEY (domain, day)
) WITHOUT ROWID;

INSERT INTO dmarc_days (domain, day, reports, messages, dmarc_pass)
SELECT r.domain, r.day, r.reports, r.messages, coalesce(s.pass, 0)
FROM (SELECT domain, day, count(*) AS reports, sum(messages) AS messages FROM dmarc_reports GROUP BY domain, day) r
LEFT JOIN (SELECT domain, day, sum(both_pass + dkim_only + spf_only) AS pass FROM dmarc_source_days GROUP BY domain, day) s
ON s.domain = r.domain AND s.day = r.day;
