-- Delivery events (mailtriage.Event), the batches they came in (the
-- idempotency ledger of AppendEvents), and the hourly per-lane rollup the
-- incident queries read (scale-clickhouse.md §4.1, §4.2, §6).

CREATE TABLE event_batches (
	id            TEXT PRIMARY KEY,
	events        INTEGER NOT NULL,
	appended_unix INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE delivery_events (
	time_unix     INTEGER NOT NULL,
	kind          INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 5),
	status        INTEGER NOT NULL CHECK (status BETWEEN 0 AND 6),
	source        TEXT NOT NULL,
	host          TEXT NOT NULL,
	queue_id      TEXT NOT NULL,
	message_id    TEXT NOT NULL,
	sender        TEXT NOT NULL,
	recipient     TEXT NOT NULL,
	domain        TEXT NOT NULL,
	lane          TEXT NOT NULL,
	remote_host   TEXT NOT NULL,
	remote_ip     TEXT NOT NULL,
	local_ip      TEXT NOT NULL,
	reply_code    INTEGER NOT NULL,
	enhanced_code TEXT NOT NULL,
	detail        TEXT NOT NULL, -- the delivery agent's report as logged
	class         TEXT NOT NULL,
	reason        TEXT NOT NULL,
	provider      TEXT NOT NULL,
	filter        TEXT NOT NULL,
	rule          TEXT NOT NULL,
	attempts      INTEGER NOT NULL,
	queued_unix   INTEGER NOT NULL, -- 0 when unknown
	batch         TEXT NOT NULL
);
CREATE INDEX delivery_events_lane_time ON delivery_events (lane, time_unix);

-- Per lane and hour (Unix hour: seconds / 3600): remote attempts by status,
-- and the recipients that expired.
CREATE TABLE lane_hours (
	lane      TEXT NOT NULL,
	hour      INTEGER NOT NULL,
	attempts  INTEGER NOT NULL,
	delivered INTEGER NOT NULL,
	deferred  INTEGER NOT NULL,
	bounced   INTEGER NOT NULL,
	expired   INTEGER NOT NULL,
	PRIMARY KEY (lane, hour)
) WITHOUT ROWID;
