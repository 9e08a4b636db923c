//! Repository of the `config_recoveries` table: automatic rollbacks of jail configuration
//! changes, kept visible until an admin dismisses them.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecoveryRow {
    pub id: i64,
    pub at: i64,
    pub jail: String,
    pub file: String,
    pub backup: Option<String>,
    pub message: String,
    pub fail2ban_running: bool,
    pub jail_running: bool,
}

pub struct NewRecovery<'a> {
    pub at: i64,
    pub jail: &'a str,
    pub file: &'a str,
    pub backup: Option<&'a str>,
    pub message: &'a str,
    pub fail2ban_running: bool,
    pub jail_running: bool,
}

pub async fn insert(pool: &SqlitePool, r: &NewRecovery<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO config_recoveries (at, jail, file, backup, message, fail2ban_running, jail_running) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.at)
    .bind(r.jail)
    .bind(r.file)
    .bind(r.backup)
    .bind(r.message)
    .bind(r.fail2ban_running)
    .bind(r.jail_running)
    .execute(pool)
    .await
    .map(|res| res.last_insert_rowid())
}

/// Recoveries not dismissed yet, newest first (at most 100).
pub async fn open(pool: &SqlitePool) -> Result<Vec<RecoveryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, jail, file, backup, message, fail2ban_running, jail_running \
         FROM config_recoveries WHERE dismissed_at IS NULL ORDER BY at DESC, id DESC LIMIT 100",
    )
    .fetch_all(pool)
    .await
}

/// Dismisses one recovery; `false` when there is no such open recovery.
pub async fn dismiss(pool: &SqlitePool, id: i64, at: i64, by: &str) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE config_recoveries SET dismissed_at = ?, dismissed_by = ? \
         WHERE id = ? AND dismissed_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1)
}
