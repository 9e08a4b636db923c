//! Repository of the blocklist tables (migration `0007_blocklists.sql`): `blocklist_sources`
//! (what to fetch, where to ban, when, and the validators of the last imported body),
//! `blocklist_members` (the entries each source put into its jail), `import_runs` (one row per
//! run) and `import_log` (notable lines of each run). Plain reads and writes; the rules of an
//! import live in `services::blocklists`.

use std::collections::HashSet;

use sqlx::SqlitePool;

/// Rows per statement when entries are written (SQLite allows 32,766 bound values).
const CHUNK: usize = 5_000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SourceRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub enabled: bool,
    pub jail: String,
    pub schedule: String,
    pub allow_internal: bool,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
    pub next_run_at: Option<i64>,
    /// When every member was last checked against fail2ban's live ban list (migration 0011).
    pub verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! source_columns {
    () => {
        "id, name, url, enabled, jail, schedule, allow_internal, etag, last_modified, \
         content_hash, next_run_at, verified_at, created_at, updated_at"
    };
}

/// The fields an administrator sets.
#[derive(Debug, Clone)]
pub struct SourceFields<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub enabled: bool,
    pub jail: &'a str,
    pub schedule: &'a str,
    pub allow_internal: bool,
    pub next_run_at: Option<i64>,
}

pub async fn list_sources(pool: &SqlitePool) -> Result<Vec<SourceRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        source_columns!(),
        " FROM blocklist_sources ORDER BY id"
    ))
    .fetch_all(pool)
    .await
}

pub async fn get_source(pool: &SqlitePool, id: i64) -> Result<Option<SourceRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        source_columns!(),
        " FROM blocklist_sources WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn insert_source(
    pool: &SqlitePool,
    f: &SourceFields<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO blocklist_sources \
         (name, url, enabled, jail, schedule, allow_internal, next_run_at, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(f.name)
    .bind(f.url)
    .bind(f.enabled)
    .bind(f.jail)
    .bind(f.schedule)
    .bind(f.allow_internal)
    .bind(f.next_run_at)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?
    .last_insert_rowid())
}

/// Updates the administrator's fields; a changed URL or jail forgets the validators and the
/// content hash, so the next run fetches and applies the list in full. `false` if no such row.
pub async fn update_source(
    pool: &SqlitePool,
    id: i64,
    f: &SourceFields<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE blocklist_sources SET \
           etag = CASE WHEN url = ?2 AND jail = ?4 THEN etag END, \
           last_modified = CASE WHEN url = ?2 AND jail = ?4 THEN last_modified END, \
           content_hash = CASE WHEN url = ?2 AND jail = ?4 THEN content_hash END, \
           verified_at = CASE WHEN url = ?2 AND jail = ?4 THEN verified_at END, \
           name = ?1, url = ?2, enabled = ?3, jail = ?4, schedule = ?5, allow_internal = ?6, \
           next_run_at = ?7, updated_at = ?8 \
         WHERE id = ?9",
    )
    .bind(f.name)
    .bind(f.url)
    .bind(f.enabled)
    .bind(f.jail)
    .bind(f.schedule)
    .bind(f.allow_internal)
    .bind(f.next_run_at)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete_source(pool: &SqlitePool, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM blocklist_sources WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Remembers the validators and hash of a body whose import completed, and when its members
/// were checked against fail2ban's live list (`None` keeps the previous time).
pub async fn set_applied(
    pool: &SqlitePool,
    id: i64,
    etag: Option<&str>,
    last_modified: Option<&str>,
    content_hash: Option<&str>,
    verified_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE blocklist_sources SET etag = ?, last_modified = ?, content_hash = ?, \
         verified_at = COALESCE(?, verified_at) WHERE id = ?",
    )
    .bind(etag)
    .bind(last_modified)
    .bind(content_hash)
    .bind(verified_at)
    .bind(id)
    .execute(pool)
    .await
    .map(drop)
}

/// Records that every member of `id` was found banned in its jail at `at`.
pub async fn set_verified(pool: &SqlitePool, id: i64, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE blocklist_sources SET verified_at = ? WHERE id = ?")
        .bind(at)
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

pub async fn set_next_run(pool: &SqlitePool, id: i64, at: Option<i64>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE blocklist_sources SET next_run_at = ? WHERE id = ?")
        .bind(at)
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

/// Enabled sources whose next scheduled run is due at `now`.
pub async fn due_sources(pool: &SqlitePool, now: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM blocklist_sources \
         WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at",
    )
    .bind(now)
    .fetch_all(pool)
    .await
}

/// The entries `source` put into its jail.
pub async fn members(pool: &SqlitePool, source: i64) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT entry FROM blocklist_members WHERE source_id = ?")
            .bind(source)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

pub async fn member_count(pool: &SqlitePool, source: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM blocklist_members WHERE source_id = ?")
        .bind(source)
        .fetch_one(pool)
        .await
}

/// How many distinct entries all sources of `jail` put there: what fail2ban's
/// "currently banned" count of the jail must at least be if every one is still banned.
pub async fn jail_member_count(pool: &SqlitePool, jail: &str) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT m.entry) FROM blocklist_members m \
         JOIN blocklist_sources s ON s.id = m.source_id WHERE s.jail = ?",
    )
    .bind(jail)
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The entries other sources of the same jail put there.
pub async fn claimed_by_others(
    pool: &SqlitePool,
    source: i64,
    jail: &str,
) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT m.entry FROM blocklist_members m \
         JOIN blocklist_sources s ON s.id = m.source_id \
         WHERE s.jail = ? AND m.source_id != ?",
    )
    .bind(jail)
    .bind(source)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

fn placeholders(n: usize, each: &str) -> String {
    let mut s = String::with_capacity(n * (each.len() + 1));
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(each);
    }
    s
}

/// Adds entries to `source`'s members (one transaction; existing ones are kept).
pub async fn add_members(
    pool: &SqlitePool,
    source: i64,
    entries: &[String],
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for chunk in entries.chunks(CHUNK) {
        let sql = format!(
            "INSERT OR IGNORE INTO blocklist_members (source_id, entry) VALUES {}",
            placeholders(chunk.len(), "(?,?)")
        );
        // Only placeholders are formatted in; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q.bind(source).bind(e);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Removes entries from `source`'s members (one transaction).
pub async fn remove_members(
    pool: &SqlitePool,
    source: i64,
    entries: &[String],
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for chunk in entries.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM blocklist_members WHERE source_id = ? AND entry IN ({})",
            placeholders(chunk.len(), "?")
        );
        // Only placeholders are formatted in; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(source);
        for e in chunk {
            q = q.bind(e);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub source_id: i64,
    pub trigger: String,
    pub state: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub http_status: Option<i64>,
    pub fetched_bytes: i64,
    pub content_hash: Option<String>,
    pub entries: i64,
    pub added: i64,
    pub removed: i64,
    pub invalid: i64,
    pub refused: i64,
    pub error_code: Option<String>,
    pub error: Option<String>,
}

macro_rules! run_columns {
    () => {
        "id, source_id, trigger, state, started_at, finished_at, http_status, fetched_bytes, \
         content_hash, entries, added, removed, invalid, refused, error_code, error"
    };
}

/// How a run ended.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome<'a> {
    pub state: &'a str,
    pub http_status: Option<u16>,
    pub fetched_bytes: u64,
    pub content_hash: Option<&'a str>,
    pub entries: usize,
    pub added: usize,
    pub removed: usize,
    pub invalid: usize,
    pub refused: usize,
    pub error_code: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub async fn start_run(
    pool: &SqlitePool,
    source: i64,
    trigger: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO import_runs (source_id, trigger, state, started_at) VALUES (?, ?, 'running', ?)",
    )
    .bind(source)
    .bind(trigger)
    .bind(now)
    .execute(pool)
    .await?
    .last_insert_rowid())
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub async fn finish_run(
    pool: &SqlitePool,
    run: i64,
    o: &RunOutcome<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE import_runs SET state = ?, finished_at = ?, http_status = ?, fetched_bytes = ?, \
         content_hash = ?, entries = ?, added = ?, removed = ?, invalid = ?, refused = ?, \
         error_code = ?, error = ? WHERE id = ?",
    )
    .bind(o.state)
    .bind(now)
    .bind(o.http_status.map(i64::from))
    .bind(i64::try_from(o.fetched_bytes).unwrap_or(i64::MAX))
    .bind(o.content_hash)
    .bind(count(o.entries))
    .bind(count(o.added))
    .bind(count(o.removed))
    .bind(count(o.invalid))
    .bind(count(o.refused))
    .bind(o.error_code)
    .bind(o.error)
    .bind(run)
    .execute(pool)
    .await
    .map(drop)
}

/// Runs left `running` by a process that stopped mid-import become `failed`.
pub async fn fail_interrupted_runs(pool: &SqlitePool, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE import_runs SET state = 'failed', finished_at = ?, error_code = 'interrupted', \
         error = 'the import was interrupted (BanGUI stopped); the next run repairs the jail' \
         WHERE state = 'running'",
    )
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected())
}

pub async fn runs(pool: &SqlitePool, source: i64, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        run_columns!(),
        " FROM import_runs WHERE source_id = ? ORDER BY id DESC LIMIT ?"
    ))
    .bind(source)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn get_run(pool: &SqlitePool, run: i64) -> Result<Option<RunRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        run_columns!(),
        " FROM import_runs WHERE id = ?"
    ))
    .bind(run)
    .fetch_optional(pool)
    .await
}

/// The newest run of every source.
pub async fn last_runs(pool: &SqlitePool) -> Result<Vec<RunRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        run_columns!(),
        " FROM import_runs WHERE id IN (SELECT MAX(id) FROM import_runs GROUP BY source_id)"
    ))
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogRow {
    pub id: i64,
    pub run_id: i64,
    pub source_id: i64,
    pub at: i64,
    pub level: String,
    pub message: String,
}

pub async fn add_log(
    pool: &SqlitePool,
    run: i64,
    source: i64,
    level: &str,
    message: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO import_log (run_id, source_id, at, level, message) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(run)
    .bind(source)
    .bind(now)
    .bind(level)
    .bind(message)
    .execute(pool)
    .await
    .map(drop)
}

pub async fn log(pool: &SqlitePool, source: i64, limit: i64) -> Result<Vec<LogRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, run_id, source_id, at, level, message FROM import_log \
         WHERE source_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(source)
    .bind(limit)
    .fetch_all(pool)
    .await
}
