-- The recipient outcome Discarded (mailtriage.Discarded, 7): dropped on the
-- sending host by a content filter or discard(8). SQLite cannot change a
-- CHECK in place, so delivery_events is rebuilt with the wider one.

CREATE TABLE delivery_events_new (
	time_unix     INTEGER NOT NULL,
	kind          INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 5),
	status        INTEGER NOT NULL CHECK (status BETWEEN 0 AND 7),
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
INSERT INTO delivery_events_new SELECT * FROM delivery_events;
DROP TABLE delivery_events;
ALTER TABLE delivery_events_new RENAME TO delivery_events;
CREATE INDEX delivery_events_lane_time ON delivery_events (lane, time_unix);
