-- Jail configuration from the browser (issue 14): automatic rollbacks that an admin has not
-- dismissed yet. A row is written when a configuration change BanGUI applied was undone
-- because the jail did not start or fail2ban stopped answering within the watch window.
CREATE TABLE config_recoveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Epoch seconds.
    at               INTEGER NOT NULL,
    jail             TEXT    NOT NULL,
    -- The file BanGUI restored (absolute path) and the copy of what it held before the change.
    file             TEXT    NOT NULL,
    backup           TEXT,
    message          TEXT    NOT NULL,
    -- Whether fail2ban answered after the restore (0: it is down and reads the restored file
    -- when it starts again).
    fail2ban_running INTEGER NOT NULL,
    jail_running     INTEGER NOT NULL,
    dismissed_at     INTEGER,
    dismissed_by     TEXT
);
CREATE INDEX config_recoveries_open ON config_recoveries(at) WHERE dismissed_at IS NULL;
