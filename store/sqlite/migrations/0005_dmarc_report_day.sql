-- A report counts on the UTC day that holds the middle of its period, no
-- longer on the day it begins: a receiver east of UTC begins its day before
-- midnight UTC (22:00 in UTC+2), and each of its reports counted a day
-- early. The reports move to their day, and the rollups are built again
-- from the records, as the import writes them. Sums stop at 2^60
-- (store.MaxSum), as the import's do.

UPDATE dmarc_reports SET day = (begin_unix + (end_unix - begin_unix) / 2) / 86400;

DELETE FROM dmarc_source_days;
INSERT INTO dmarc_source_days (domain, day, source_ip, reports, messages,
	both_pass, dkim_only, spf_only, none_pass, quarantined, rejected)
SELECT r.domain, r.day, c.source_ip, count(DISTINCT c.report),
	CAST(min(total(c.count), 1152921504606846976) AS INTEGER),
	CAST(min(total(CASE WHEN c.dkim_aligned = 'pass' AND c.spf_aligned = 'pass' THEN c.count ELSE 0 END), 1152921504606846976) AS INTEGER),
	CAST(min(total(CASE WHEN c.dkim_aligned = 'pass' AND c.spf_aligned <> 'pass' THEN c.count ELSE 0 END), 1152921504606846976) AS INTEGER),
	CAST(min(total(CASE WHEN c.dkim_aligned <> 'pass' AND c.spf_aligned = 'pass' THEN c.count ELSE 0 END), 1152921504606846976) AS INTEGER),
	CAST(min(total(CASE WHEN c.dkim_aligned <> 'pass' AND c.spf_aligned <> 'pass' THEN c.count ELSE 0 END), 1152921504606846976) AS INTEGER),
	CAST(min(total(CASE WHEN c.disposition = 'quarantine' THEN c.count ELSE 0 END), 1152921504606846976) AS INTEGER),
	CAST(min(total(CASE WHEN c.disposition = 'reject' THEN c.count ELSE 0 END), 1152921504606846976) AS INTEGER)
FROM dmarc_records c JOIN dmarc_reports r ON r.id = c.report
GROUP BY r.domain, r.day, c.source_ip;

DELETE FROM dmarc_days;
INSERT INTO dmarc_days (domain, day, reports, messages, dmarc_pass)
SELECT r.domain, r.day, r.reports, r.messages, coalesce(s.pass, 0)
FROM (SELECT domain, day, count(*) AS reports, CAST(min(total(messages), 1152921504606846976) AS INTEGER) AS messages
	FROM dmarc_reports GROUP BY domain, day) r
LEFT JOIN (SELECT domain, day, CAST(min(total(both_pass) + total(dkim_only) + total(spf_only), 1152921504606846976) AS INTEGER) AS pass
	FROM dmarc_source_days GROUP BY domain, day) s
ON s.domain = r.domain AND s.day = r.day;
