-- History state and search (issue 13).
--
-- 1. A ban that was unbanned before its end is `lifted`: `lifted_at` is when (epoch seconds),
--    `lifted_by` who or what: `bangui:<user>` for an unban through BanGUI, `fail2ban` for an
--    unban made elsewhere and noticed by the `history_lifts` job (the time it was seen).
--    State is derived on read: lifted_at set → lifted; else permanent (bantime < 0) or
--    timeofban + bantime in the future → active; else expired.
-- 2. Indexes for the history filters that drive an index-ordered read. Each costs the archive
--    sync one more b-tree insert per row except the partial ones (empty at insert time).

ALTER TABLE history ADD COLUMN lifted_at INTEGER;
ALTER TABLE history ADD COLUMN lifted_by TEXT;

-- `jail=` and `origin=blocklist` (one jail), newest or oldest first.
CREATE INDEX history_jail_time ON history(jail, timeofban);
-- `asn=`, newest or oldest first.
CREATE INDEX history_asn_time ON history(asn, timeofban);
-- `state=lifted`: only lifted rows are in it.
CREATE INDEX history_lifted_time ON history(timeofban) WHERE lifted_at IS NOT NULL;
-- `state=active` and the lift detector: bans whose end is in the future, and permanent bans
-- not lifted.
CREATE INDEX history_end ON history(timeofban + bantime);
CREATE INDEX history_permanent ON history(timeofban) WHERE bantime < 0 AND lifted_at IS NULL;
