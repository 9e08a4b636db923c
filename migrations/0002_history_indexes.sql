-- Covering indexes for the dashboard aggregates over the history archive:
-- time windows (page, trend, per jail) and per-IP counts (by country).
CREATE INDEX history_time_jail_origin ON history(timeofban, jail, origin);
CREATE INDEX history_ip_time_origin ON history(ip, timeofban, origin);
-- The history_sync cursor per jail.
CREATE INDEX history_jail_time ON history(jail, timeofban);
