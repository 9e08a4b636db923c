-- Dashboard data path v2 (issue 10).
--
-- 1. Archive rows carry the fail2ban host they came from (`local` until several hosts exist)
--    and the geolocation resolved when the row was archived: country code, ASN, which resolver
--    answered and the MMDB build that did. NULL country = not resolved (yet); the
--    re-geolocation job retries those and re-resolves rows of an older MMDB build.
-- 2. `history_rollup` holds ban counts per (host, hour, jail, origin, country), kept in the
--    same transaction as every insert, purge and re-geolocation of the archive. The dashboard's
--    aggregates read only these cells.
-- 3. `history_cursor` is the sync position per (host, jail), written with each batch.
--
-- The `action` column is gone: every archived row is a ban (fail2ban's `bans` table).

CREATE TABLE history_v3 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    host         TEXT NOT NULL DEFAULT 'local',
    jail         TEXT NOT NULL,
    ip           TEXT NOT NULL,
    timeofban    INTEGER NOT NULL,
    bantime      INTEGER NOT NULL,
    bancount     INTEGER NOT NULL DEFAULT 1,
    failures     INTEGER,
    matches      TEXT,                             -- JSON array of log lines
    origin       TEXT NOT NULL DEFAULT 'selfblock' CHECK (origin IN ('selfblock', 'blocklist')),
    archived_at  INTEGER NOT NULL,
    country_code TEXT,                             -- ISO 3166-1 alpha-2; NULL = unresolved
    asn          INTEGER,
    geo_source   TEXT CHECK (geo_source IN ('mmdb', 'ipapi')),
    geo_build    INTEGER,                          -- build epoch of the MMDB that answered
    -- Time before IP: the sync inserts each jail's rows in time order, so this index grows at
    -- its end instead of at random places.
    UNIQUE (host, jail, timeofban, ip)
);

INSERT INTO history_v3 (id, host, jail, ip, timeofban, bantime, bancount, failures, matches,
                        origin, archived_at)
SELECT id, 'local', jail, ip, timeofban, bantime, bancount, failures, matches,
       CASE WHEN origin = 'blocklist' THEN 'blocklist' ELSE 'selfblock' END, archived_at
FROM history WHERE action = 'ban';

DROP TABLE history;
ALTER TABLE history_v3 RENAME TO history;

-- The ban list, newest first (rowid breaks ties), and its country filter.
CREATE INDEX history_time ON history(timeofban);
CREATE INDEX history_country_time ON history(country_code, timeofban);
-- One IP's story (history page, IP investigation).
CREATE INDEX history_ip_time ON history(ip, timeofban);
-- Rows the re-geolocation job retries.
CREATE INDEX history_unresolved ON history(id) WHERE country_code IS NULL;

CREATE TABLE history_rollup (
    host     TEXT NOT NULL,
    hour     INTEGER NOT NULL,                     -- timeofban / 3600
    jail     TEXT NOT NULL,
    origin   TEXT NOT NULL,
    country  TEXT NOT NULL,                        -- '' when unresolved
    bans     INTEGER NOT NULL,                      -- > 0: empty cells are deleted
    PRIMARY KEY (host, hour, jail, origin, country)
) WITHOUT ROWID;

INSERT INTO history_rollup (host, hour, jail, origin, country, bans)
SELECT host, timeofban / 3600, jail, origin, COALESCE(country_code, ''), COUNT(*)
FROM history GROUP BY 1, 2, 3, 4, 5;

CREATE TABLE history_cursor (
    host       TEXT NOT NULL,
    jail       TEXT NOT NULL,
    timeofban  INTEGER NOT NULL,                   -- newest archived ban of this jail
    PRIMARY KEY (host, jail)
) WITHOUT ROWID;

INSERT INTO history_cursor (host, jail, timeofban)
SELECT host, jail, MAX(timeofban) FROM history GROUP BY host, jail;
