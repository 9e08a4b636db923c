-- Initial schema of BanGUI's own database. Times are epoch seconds (UTC).
-- A landed migration is never edited; later changes go into new numbered files.

-- Geolocation cache (seeds 003/004): one row per canonical IP. country_code NULL marks a
-- negative result that the re-resolve job retries.
CREATE TABLE geo_cache (
    ip            TEXT PRIMARY KEY NOT NULL,
    country_code  TEXT,
    country_name  TEXT,
    geoname_id    INTEGER,
    continent     TEXT,
    asn           INTEGER,
    org           TEXT,
    network       TEXT,
    source        TEXT,              -- 'mmdb' | 'ipapi' | NULL for a negative row
    db_version    INTEGER,           -- build epoch of the MMDB that answered
    cached_at     INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX geo_cache_last_seen ON geo_cache(last_seen);
CREATE INDEX geo_cache_unresolved ON geo_cache(country_code) WHERE country_code IS NULL;

-- Key/value settings (setup state, map thresholds, ...).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT NOT NULL,                 -- argon2id PHC string
    role           TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT NOT NULL UNIQUE,             -- SHA-256 of the cookie token, keyed with the secret
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    client_ip   TEXT,
    user_agent  TEXT
);
CREATE INDEX sessions_expires_at ON sessions(expires_at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    token_prefix  TEXT NOT NULL,                  -- first characters, shown in lists
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,                    -- username, or 'anonymous' / 'system'
    auth        TEXT,                             -- 'session' | 'token' | NULL
    client_ip   TEXT,
    action      TEXT NOT NULL,                    -- e.g. 'ban', 'unban', 'jail.stop'
    target      TEXT,
    result      TEXT NOT NULL,                    -- 'ok' or an error code
    details     TEXT                              -- JSON
);
CREATE INDEX audit_log_at ON audit_log(at);

-- Archive of fail2ban's ban history (fail2ban purges its own rows after dbpurgeage).
CREATE TABLE history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    jail        TEXT NOT NULL,
    ip          TEXT NOT NULL,
    action      TEXT NOT NULL DEFAULT 'ban' CHECK (action IN ('ban', 'unban')),
    timeofban   INTEGER NOT NULL,
    bantime     INTEGER NOT NULL,
    bancount    INTEGER NOT NULL DEFAULT 1,
    failures    INTEGER,
    matches     TEXT,                             -- JSON array of log lines
    origin      TEXT NOT NULL DEFAULT 'selfblock',
    archived_at INTEGER NOT NULL,
    UNIQUE (jail, ip, action, timeofban)
);
CREATE INDEX history_timeofban ON history(timeofban);
CREATE INDEX history_ip ON history(ip);

CREATE TABLE blocklist_sources (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    url         TEXT NOT NULL UNIQUE,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE import_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id     INTEGER NOT NULL REFERENCES blocklist_sources(id) ON DELETE CASCADE,
    content_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'completed', 'failed')),
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    UNIQUE (source_id, content_hash)
);

CREATE TABLE import_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id     INTEGER REFERENCES blocklist_sources(id) ON DELETE SET NULL,
    source_url    TEXT NOT NULL,
    at            INTEGER NOT NULL,
    ips_imported  INTEGER NOT NULL DEFAULT 0,
    ips_skipped   INTEGER NOT NULL DEFAULT 0,
    errors        TEXT
);
CREATE INDEX import_log_at ON import_log(at);
