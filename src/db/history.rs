//! Repository of the `history` table: BanGUI's own archive of fail2ban's ban records. The
//! `history_sync` job fills it from fail2ban's database; the dashboard's aggregates read it, so
//! heavy queries never hold a lock on fail2ban's file and history outlives fail2ban's purge.
//!
//! `origin` is `None` for every origin, or `Some("selfblock" | "blocklist")`.

use sqlx::SqlitePool;

/// One archived ban.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub jail: String,
    pub ip: String,
    pub timeofban: i64,
    pub bantime: i64,
    pub bancount: i64,
    pub failures: Option<i64>,
    pub matches: Option<String>,
    pub origin: String,
}

/// A record to archive.
#[derive(Debug, Clone)]
pub struct NewHistory {
    pub jail: String,
    pub ip: String,
    pub timeofban: i64,
    pub bantime: i64,
    pub bancount: i64,
    pub failures: Option<i64>,
    /// JSON array of log lines.
    pub matches: Option<String>,
    pub origin: &'static str,
}

/// Rows per INSERT statement (9 parameters each, well under SQLite's limit).
const BATCH: usize = 500;

/// Inserts the records in one transaction, ignoring ones already archived; returns how many
/// were new.
pub async fn insert_batch(
    pool: &SqlitePool,
    rows: &[NewHistory],
    now: i64,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut inserted = 0;
    for chunk in rows.chunks(BATCH) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT OR IGNORE INTO history (jail, ip, action, timeofban, bantime, bancount, failures, matches, origin, archived_at) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(&r.jail)
                .push_bind(&r.ip)
                .push_bind("ban")
                .push_bind(r.timeofban)
                .push_bind(r.bantime)
                .push_bind(r.bancount)
                .push_bind(r.failures)
                .push_bind(&r.matches)
                .push_bind(r.origin)
                .push_bind(now);
        });
        inserted += qb.build().execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

/// The newest archived `timeofban`, the sync cursor.
pub async fn newest_timeofban(pool: &SqlitePool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(timeofban) FROM history")
        .fetch_one(pool)
        .await
}

// `?2` is the origin filter: NULL for every origin. One static statement per query keeps the
// SQL free of string assembly and lets SQLite cache the prepared statement.

/// Newest first, one page. Ordered by `timeofban` alone so that SQLite walks the time index
/// backwards and stops after the page instead of sorting the whole window.
pub async fn page(
    pool: &SqlitePool,
    since: i64,
    origin: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT jail, ip, timeofban, bantime, bancount, failures, matches, origin FROM history \
         WHERE timeofban >= ?1 AND (?2 IS NULL OR origin = ?2) ORDER BY timeofban DESC LIMIT ?3 OFFSET ?4",
    )
    .bind(since)
    .bind(origin)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

/// One page restricted to the given IPs (the map's country filter), with their total.
pub async fn page_for_ips(
    pool: &SqlitePool,
    since: i64,
    origin: Option<&str>,
    ips: &[String],
    limit: i64,
    offset: i64,
) -> Result<(Vec<HistoryRow>, i64), sqlx::Error> {
    if ips.is_empty() {
        return Ok((Vec::new(), 0));
    }
    // The IP set can be large: stage it in a temporary table on one connection.
    let mut conn = pool.acquire().await?;
    sqlx::query("CREATE TEMP TABLE IF NOT EXISTS filter_ips (ip TEXT PRIMARY KEY) WITHOUT ROWID")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM filter_ips")
        .execute(&mut *conn)
        .await?;
    for chunk in ips.chunks(BATCH) {
        let mut qb = sqlx::QueryBuilder::new("INSERT OR IGNORE INTO filter_ips (ip) ");
        qb.push_values(chunk, |mut b, ip| {
            b.push_bind(ip);
        });
        qb.build().execute(&mut *conn).await?;
    }
    let rows = sqlx::query_as(
        "SELECT h.jail, h.ip, h.timeofban, h.bantime, h.bancount, h.failures, h.matches, h.origin \
         FROM history h JOIN filter_ips f ON f.ip = h.ip \
         WHERE h.timeofban >= ?1 AND (?2 IS NULL OR h.origin = ?2) ORDER BY h.timeofban DESC LIMIT ?3 OFFSET ?4",
    )
    .bind(since)
    .bind(origin)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT COUNT(*) FROM history h JOIN filter_ips f ON f.ip = h.ip \
         WHERE h.timeofban >= ?1 AND (?2 IS NULL OR h.origin = ?2)",
    )
    .bind(since)
    .bind(origin)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM filter_ips")
        .execute(&mut *conn)
        .await?;
    Ok((rows, total))
}

/// Number of bans in the window.
pub async fn count(
    pool: &SqlitePool,
    since: i64,
    origin: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM history WHERE timeofban >= ?1 AND (?2 IS NULL OR origin = ?2)",
    )
    .bind(since)
    .bind(origin)
    .fetch_one(pool)
    .await
}

/// Bans per IP in the window (for the per-country aggregate), scanned in IP order over the
/// covering index so that no temporary sort is needed.
pub async fn count_by_ip(
    pool: &SqlitePool,
    since: i64,
    origin: Option<&str>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT ip, COUNT(*) FROM history INDEXED BY history_ip_time_origin \
         WHERE timeofban >= ?1 AND (?2 IS NULL OR origin = ?2) GROUP BY ip",
    )
    .bind(since)
    .bind(origin)
    .fetch_all(pool)
    .await
}

/// Bans per jail in the window, most first.
pub async fn count_by_jail(
    pool: &SqlitePool,
    since: i64,
    origin: Option<&str>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT jail, COUNT(*) AS n FROM history WHERE timeofban >= ?1 AND (?2 IS NULL OR origin = ?2) \
         GROUP BY jail ORDER BY n DESC, jail",
    )
    .bind(since)
    .bind(origin)
    .fetch_all(pool)
    .await
}

/// Bans per bucket of `bucket_seconds` counted from `since` (bucket index, count); empty buckets
/// are absent.
pub async fn trend(
    pool: &SqlitePool,
    since: i64,
    bucket_seconds: i64,
    origin: Option<&str>,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT (timeofban - ?1) / ?3 AS bucket, COUNT(*) FROM history \
         WHERE timeofban >= ?1 AND (?2 IS NULL OR origin = ?2) GROUP BY bucket ORDER BY bucket",
    )
    .bind(since)
    .bind(origin)
    .bind(bucket_seconds.max(1))
    .fetch_all(pool)
    .await
}

/// Every archived ban of one IP, newest first.
pub async fn ip_timeline(
    pool: &SqlitePool,
    ip: &str,
    limit: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT jail, ip, timeofban, bantime, bancount, failures, matches, origin FROM history \
         WHERE ip = ? ORDER BY timeofban DESC LIMIT ?",
    )
    .bind(ip)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Deletes archived bans older than `cutoff`; returns how many.
pub async fn purge_older_than(pool: &SqlitePool, cutoff: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM history WHERE timeofban < ?")
        .bind(cutoff)
        .execute(pool)
        .await?
        .rows_affected())
}
