-- Reported-Domain is optional in a failure report (RFC 5965 §3.2). Those
-- kept without one are about the domain of their message's From, the domain
-- DMARC was evaluated for (RFC 7489 §3.1), as failureDomain says for the
-- reports imported from now on.

UPDATE dmarc_failures
SET reported_domain = lower(rtrim(trim(substr(f, instr(f, '@') + 1)), '.'))
FROM (SELECT id AS fid, coalesce(json_extract(report, '$.From'), '') AS f FROM dmarc_failures WHERE reported_domain = '')
WHERE id = fid
	AND instr(f, '@') > 0
	AND instr(substr(f, instr(f, '@') + 1), '@') = 0
	AND instr(substr(f, instr(f, '@') + 1), ' ') = 0
	AND instr(substr(f, instr(f, '@') + 1), '<') = 0
	AND instr(substr(f, instr(f, '@') + 1), '>') = 0;
