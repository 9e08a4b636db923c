//! Read-only access to fail2ban's own SQLite database (history of bans). fail2ban writes it with
//! a rollback journal: a reader that holds a transaction for seconds makes fail2ban lose ban
//! rows. So this module opens the file read-only, never changes the journal mode, runs only
//! short statements with LIMITs and fetches all rows before processing them. It must never write.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::domain::{BLOCKLIST_JAIL, BanIp, Origin, Page};

/// Most groups returned by a count query.
pub const MAX_GROUPS: i64 = 100_000;
/// Most rows of one IP's timeline.
pub const MAX_TIMELINE: i64 = 1_000;

/// One row of fail2ban's `bans` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BanRecord {
    pub jail: String,
    pub ip: String,
    pub timeofban: i64,
    pub bantime: i64,
    pub bancount: i64,
    pub failures: Option<u64>,
    pub matches: Vec<String>,
}

/// Why fail2ban's database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Fail2banDbError {
    #[error("fail2ban's database {path} cannot be opened: {source}")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("reading fail2ban's database failed: {0}")]
    Query(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct Row {
    jail: String,
    ip: Option<String>,
    timeofban: i64,
    bantime: i64,
    bancount: i64,
    data: Option<Vec<u8>>,
}

#[derive(sqlx::FromRow)]
struct RowWithId {
    rowid: i64,
    #[sqlx(flatten)]
    row: Row,
}

impl From<Row> for BanRecord {
    fn from(r: Row) -> Self {
        let (failures, matches) = parse_data(r.data.as_deref());
        BanRecord {
            jail: r.jail,
            ip: r.ip.unwrap_or_default(),
            timeofban: r.timeofban,
            bantime: r.bantime,
            bancount: r.bancount,
            failures,
            matches,
        }
    }
}

/// Reads `failures` and `matches` from the JSON stored as a BLOB. A match is a string or a
/// `[prefix, date, rest]` list, which is joined.
pub fn parse_data(data: Option<&[u8]>) -> (Option<u64>, Vec<String>) {
    let Some(value) = data.and_then(|d| serde_json::from_slice::<serde_json::Value>(d).ok()) else {
        return (None, Vec::new());
    };
    let failures = value.get("failures").and_then(serde_json::Value::as_u64);
    let matches = value
        .get("matches")
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|m| match m {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Array(parts) => Some(
                        parts
                            .iter()
                            .filter_map(serde_json::Value::as_str)
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    (failures, matches)
}

/// `?2` is always bound to the blocklist jail so every query has the same parameters.
fn origin_clause(origin: Origin) -> &'static str {
    match origin {
        Origin::All => "?2 = ?2",
        Origin::Selfblock => "jail <> ?2",
        Origin::Blocklist => "jail = ?2",
    }
}

/// Every dynamic statement here is assembled from the static fragments above; values are bound.
fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

const COLUMNS: &str = "jail, ip, timeofban, bantime, bancount, CAST(data AS BLOB) AS data";

/// A small read-only pool on fail2ban's database.
#[derive(Debug, Clone)]
pub struct Fail2banDb {
    pool: SqlitePool,
}

impl Fail2banDb {
    /// Opens `path` read-only (busy timeout 2 s, at most 2 connections, foreign keys off,
    /// journal mode untouched, never created).
    pub async fn open(path: &Path) -> Result<Fail2banDb, Fail2banDbError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(2))
            .foreign_keys(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await
            .map_err(|source| Fail2banDbError::Open {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Fail2banDb { pool })
    }

    /// Bans since `since` (epoch s), newest first, one page, with the total count.
    pub async fn bans_page(
        &self,
        since: i64,
        origin: Origin,
        page: Page,
    ) -> Result<(Vec<BanRecord>, u64), Fail2banDbError> {
        let clause = origin_clause(origin);
        let total: i64 = sqlx::query_scalar(sql(format!(
            "SELECT COUNT(*) FROM bans WHERE timeofban >= ?1 AND {clause}"
        )))
        .bind(since)
        .bind(BLOCKLIST_JAIL)
        .fetch_one(&self.pool)
        .await?;
        let rows: Vec<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM bans WHERE timeofban >= ?1 AND {clause} \
             ORDER BY timeofban DESC, rowid DESC LIMIT ?3 OFFSET ?4"
        )))
        .bind(since)
        .bind(BLOCKLIST_JAIL)
        .bind(i64::from(page.limit()))
        .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.into_iter().map(BanRecord::from).collect(),
            total.max(0) as u64,
        ))
    }

    async fn counts(
        &self,
        column: &'static str,
        since: i64,
        origin: Origin,
    ) -> Result<Vec<(String, u64)>, Fail2banDbError> {
        let clause = origin_clause(origin);
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(sql(format!(
            "SELECT {column}, COUNT(*) AS n FROM bans WHERE timeofban >= ?1 AND {clause} \
             GROUP BY {column} ORDER BY n DESC, {column} LIMIT ?3"
        )))
        .bind(since)
        .bind(BLOCKLIST_JAIL)
        .bind(MAX_GROUPS)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(k, n)| (k.unwrap_or_default(), n.max(0) as u64))
            .collect())
    }

    /// Number of bans per IP since `since`, most first.
    pub async fn count_by_ip(
        &self,
        since: i64,
        origin: Origin,
    ) -> Result<Vec<(String, u64)>, Fail2banDbError> {
        self.counts("ip", since, origin).await
    }

    /// Number of bans per jail since `since`, most first.
    pub async fn count_by_jail(
        &self,
        since: i64,
        origin: Origin,
    ) -> Result<Vec<(String, u64)>, Fail2banDbError> {
        self.counts("jail", since, origin).await
    }

    /// Bans per bucket of `bucket_seconds` starting at `since`; empty buckets are absent.
    pub async fn trend(
        &self,
        since: i64,
        bucket_seconds: i64,
        origin: Origin,
    ) -> Result<Vec<(i64, u64)>, Fail2banDbError> {
        let bucket = bucket_seconds.max(1);
        let clause = origin_clause(origin);
        let rows: Vec<(i64, i64)> = sqlx::query_as(sql(format!(
            "SELECT ?1 + ((timeofban - ?1) / ?3) * ?3 AS bucket, COUNT(*) FROM bans \
             WHERE timeofban >= ?1 AND {clause} GROUP BY bucket ORDER BY bucket LIMIT ?4"
        )))
        .bind(since)
        .bind(BLOCKLIST_JAIL)
        .bind(bucket)
        .bind(MAX_GROUPS)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(b, n)| (b, n.max(0) as u64))
            .collect())
    }

    /// Every recorded ban of one address, oldest first (at most [`MAX_TIMELINE`]).
    pub async fn ip_timeline(&self, ip: &BanIp) -> Result<Vec<BanRecord>, Fail2banDbError> {
        let rows: Vec<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM (SELECT rowid AS r, * FROM bans WHERE ip = ?1 \
             ORDER BY timeofban DESC, rowid DESC LIMIT ?2) ORDER BY timeofban, r"
        )))
        .bind(ip.to_string())
        .bind(MAX_TIMELINE)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(BanRecord::from).collect())
    }

    /// The newest row: `(rowid, timeofban)`.
    pub async fn newest(&self) -> Result<Option<(i64, i64)>, Fail2banDbError> {
        Ok(sqlx::query_as(
            "SELECT rowid, timeofban FROM bans ORDER BY timeofban DESC, rowid DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Rows with `timeofban >= cursor`, oldest first, for an incremental copy. Rows of the
    /// cursor's own second come again, so the caller must de-duplicate.
    pub async fn rows_after(
        &self,
        cursor: i64,
        limit: u32,
    ) -> Result<Vec<BanRecord>, Fail2banDbError> {
        let rows: Vec<Row> = sqlx::query_as(sql(format!(
            "SELECT {COLUMNS} FROM bans WHERE timeofban >= ?1 ORDER BY timeofban, rowid LIMIT ?2"
        )))
        .bind(cursor)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(BanRecord::from).collect())
    }

    /// Names in fail2ban's `jails` table (every jail that ever ran with this database).
    pub async fn jail_names(&self) -> Result<Vec<String>, Fail2banDbError> {
        Ok(sqlx::query_scalar("SELECT name FROM jails ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Rows of one jail in `(timeofban, rowid)` order (newest first or oldest first) after a
    /// cursor, within `[from, to)`, optionally of one address: `(rowid, record)`. One short
    /// statement on fail2ban's `(jail, timeofban)` (or `ip`) index, at most `limit` rows.
    #[allow(clippy::too_many_arguments)]
    pub async fn jail_rows(
        &self,
        jail: &str,
        from: Option<i64>,
        to: Option<i64>,
        ip: Option<&str>,
        newest_first: bool,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> Result<Vec<(i64, BanRecord)>, Fail2banDbError> {
        let (cmp, order) = if newest_first {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let rows: Vec<RowWithId> = sqlx::query_as(sql(format!(
            "SELECT rowid, {COLUMNS} FROM bans \
             WHERE jail = ?1 AND timeofban >= ?2 AND timeofban < ?3 AND (?4 IS NULL OR ip = ?4) \
             AND (?5 IS NULL OR timeofban {cmp} ?5 OR (timeofban = ?5 AND rowid {cmp} ?6)) \
             ORDER BY timeofban {order}, rowid {order} LIMIT ?7"
        )))
        .bind(jail)
        .bind(from.unwrap_or(i64::MIN))
        .bind(to.unwrap_or(i64::MAX))
        .bind(ip)
        .bind(after.map(|a| a.0))
        .bind(after.map_or(0, |a| a.1))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.rowid, BanRecord::from(r.row)))
            .collect())
    }

    /// Number of rows in `bans`.
    pub async fn count_all(&self) -> Result<u64, Fail2banDbError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bans")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
