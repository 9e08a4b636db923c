-- Blocklists (issue 16): what each source is, what it put into fail2ban, and every run.
-- `import_runs` and `import_log` of 0001 were never written by any code, so they are rebuilt
-- with the columns a run needs; `blocklist_sources` keeps its rows and gains columns.

ALTER TABLE blocklist_sources ADD COLUMN jail TEXT NOT NULL DEFAULT 'blocklist-import';
ALTER TABLE blocklist_sources ADD COLUMN schedule TEXT NOT NULL DEFAULT 'daily';
ALTER TABLE blocklist_sources ADD COLUMN allow_internal INTEGER NOT NULL DEFAULT 0;
-- Conditional fetch: validators of the last body that was imported.
ALTER TABLE blocklist_sources ADD COLUMN etag TEXT;
ALTER TABLE blocklist_sources ADD COLUMN last_modified TEXT;
-- SHA-256 of the last body whose import completed (an equal body is a no-op).
ALTER TABLE blocklist_sources ADD COLUMN content_hash TEXT;
ALTER TABLE blocklist_sources ADD COLUMN next_run_at INTEGER;

DROP TABLE import_log;
DROP TABLE import_runs;

CREATE TABLE import_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id      INTEGER NOT NULL REFERENCES blocklist_sources(id) ON DELETE CASCADE,
    trigger        TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    state          TEXT NOT NULL CHECK (state IN ('running', 'completed', 'unchanged', 'failed')),
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    http_status    INTEGER,
    fetched_bytes  INTEGER NOT NULL DEFAULT 0,
    content_hash   TEXT,
    entries        INTEGER NOT NULL DEFAULT 0,
    added          INTEGER NOT NULL DEFAULT 0,
    removed        INTEGER NOT NULL DEFAULT 0,
    invalid        INTEGER NOT NULL DEFAULT 0,
    refused        INTEGER NOT NULL DEFAULT 0,
    error_code     TEXT,
    error          TEXT
);
CREATE INDEX import_runs_source ON import_runs(source_id, id);

-- The per-source log: notable lines of each run (invalid-line examples, refused entries, errors).
CREATE TABLE import_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,
    source_id  INTEGER NOT NULL REFERENCES blocklist_sources(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message    TEXT NOT NULL
);
CREATE INDEX import_log_source ON import_log(source_id, id);
CREATE INDEX import_log_run ON import_log(run_id);

-- The entries a source put into its jail (claimed before they are banned, so a crash leaves a
-- superset that the next run reconciles against fail2ban's live list).
CREATE TABLE blocklist_members (
    source_id  INTEGER NOT NULL REFERENCES blocklist_sources(id) ON DELETE CASCADE,
    entry      TEXT NOT NULL,
    PRIMARY KEY (source_id, entry)
) WITHOUT ROWID;
CREATE INDEX blocklist_members_entry ON blocklist_members(entry);
