//! What the archive sync just added, read back for the event bus: the newest row id before a
//! sync, and the rows after it (by primary key, so the read walks only the new rows). Only
//! reads; the sync's writes are `db::history`.

use sqlx::SqlitePool;

/// One newly archived ban with what an event about it carries.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArchivedBan {
    pub id: i64,
    pub host: String,
    pub jail: String,
    pub ip: String,
    pub timeofban: i64,
    pub bantime: i64,
    pub bancount: i64,
    pub origin: String,
    pub country_code: Option<String>,
    pub asn: Option<i64>,
}

/// The highest row id of the archive (0 when empty).
pub async fn newest_id(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM history")
        .fetch_one(pool)
        .await
}

/// Rows with an id above `after` and banned at or after `since`, oldest id first, at most
/// `limit`.
pub async fn bans_after(
    pool: &SqlitePool,
    after: i64,
    since: i64,
    limit: u32,
) -> Result<Vec<ArchivedBan>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, host, jail, ip, timeofban, bantime, bancount, origin, country_code, asn \
         FROM history WHERE id > ?1 AND timeofban >= ?2 ORDER BY id LIMIT ?3",
    )
    .bind(after)
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await
}
