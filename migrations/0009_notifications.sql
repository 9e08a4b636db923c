-- Notification channels (issue 17): configuration and rules as JSON documents owned by
-- domain::notification, secrets apart so that no read path returns them by accident.
CREATE TABLE notification_channels (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    config     TEXT    NOT NULL,
    secrets    TEXT    NOT NULL DEFAULT '{}',
    rules      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per message to a channel: queued, retrying, sent, dead (after the last attempt) or
-- dropped (pushed out of the full queue). Pruned to the newest rows per channel.
CREATE TABLE notification_deliveries (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    notices    INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX notification_deliveries_channel ON notification_deliveries (channel_id, id);
