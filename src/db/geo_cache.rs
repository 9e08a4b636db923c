//! Repository of the `geo_cache` table: batched upserts in one transaction, `last_seen`
//! refreshes, loading for the warm start, the rows the re-resolve job retries and the
//! retention cleanup. It maps rows to and from [`GeoInfo`]; it never decides what to cache.

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::domain::{GeoInfo, GeoSource};

/// Rows per multi-row statement: 12 parameters each stays below SQLite's 32,766 limit.
const UPSERT_CHUNK: usize = 1_000;
const TOUCH_CHUNK: usize = 900;

/// One row to write: the canonical IP text and its result (`None` = negative row).
pub struct UpsertRow<'a> {
    pub ip: String,
    pub info: Option<&'a GeoInfo>,
}

/// One stored row as read back.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub ip: String,
    pub info: Option<GeoInfo>,
    pub last_seen: i64,
}

/// Writes `rows` (insert or replace, `cached_at` and `last_seen` = `now`) and refreshes
/// `last_seen` of `touched`, all in ONE transaction.
pub async fn flush(
    pool: &SqlitePool,
    rows: &[UpsertRow<'_>],
    touched: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() && touched.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(UPSERT_CHUNK) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO geo_cache (ip, country_code, country_name, geoname_id, continent, asn, \
             org, network, source, db_version, cached_at, last_seen) ",
        );
        qb.push_values(chunk, |mut b, row| {
            let info = row.info;
            b.push_bind(row.ip.as_str())
                .push_bind(info.and_then(|i| i.country_code.as_deref()))
                .push_bind(info.and_then(|i| i.country_name.as_deref()))
                .push_bind(info.and_then(|i| i.geoname_id).map(i64::from))
                .push_bind(info.and_then(|i| i.continent.as_deref()))
                .push_bind(info.and_then(|i| i.asn).map(i64::from))
                .push_bind(info.and_then(|i| i.org.as_deref()))
                .push_bind(info.and_then(|i| i.network.as_deref()))
                .push_bind(info.map(|i| i.source.as_str()))
                .push_bind(
                    info.and_then(|i| i.db_version)
                        .map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
                )
                .push_bind(now)
                .push_bind(now);
        });
        qb.push(
            " ON CONFLICT(ip) DO UPDATE SET country_code = excluded.country_code, \
             country_name = excluded.country_name, geoname_id = excluded.geoname_id, \
             continent = excluded.continent, asn = excluded.asn, org = excluded.org, \
             network = excluded.network, source = excluded.source, \
             db_version = excluded.db_version, cached_at = excluded.cached_at, \
             last_seen = excluded.last_seen",
        );
        qb.build().execute(&mut *tx).await?;
    }
    for chunk in touched.chunks(TOUCH_CHUNK) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("UPDATE geo_cache SET last_seen = ");
        qb.push_bind(now).push(" WHERE ip IN (");
        let mut sep = qb.separated(", ");
        for ip in chunk {
            sep.push_bind(ip.as_str());
        }
        qb.push(")");
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await
}

fn stored(row: &sqlx::sqlite::SqliteRow) -> Result<StoredRow, sqlx::Error> {
    let ip: String = row.try_get("ip")?;
    let country_code: Option<String> = row.try_get("country_code")?;
    let source: Option<String> = row.try_get("source")?;
    let last_seen: i64 = row.try_get("last_seen")?;
    let info = match (country_code, source.as_deref().and_then(GeoSource::parse)) {
        (Some(code), Some(source)) => Some(GeoInfo {
            country_code: Some(code),
            country_name: row.try_get("country_name")?,
            geoname_id: row
                .try_get::<Option<i64>, _>("geoname_id")?
                .and_then(|v| u32::try_from(v).ok()),
            continent: row.try_get("continent")?,
            asn: row
                .try_get::<Option<i64>, _>("asn")?
                .and_then(|v| u32::try_from(v).ok()),
            org: row.try_get("org")?,
            network: row.try_get("network")?,
            source,
            db_version: row
                .try_get::<Option<i64>, _>("db_version")?
                .and_then(|v| u64::try_from(v).ok()),
        }),
        _ => None,
    };
    Ok(StoredRow {
        ip,
        info,
        last_seen,
    })
}

/// The most recently seen rows, newest first, at most `limit`.
pub async fn load_recent(pool: &SqlitePool, limit: usize) -> Result<Vec<StoredRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT ip, country_code, country_name, geoname_id, continent, asn, org, network, \
         source, db_version, last_seen FROM geo_cache ORDER BY last_seen DESC LIMIT ?",
    )
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.iter().map(stored).collect()
}

/// One row by IP.
pub async fn get(pool: &SqlitePool, ip: &str) -> Result<Option<StoredRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT ip, country_code, country_name, geoname_id, continent, asn, org, network, \
         source, db_version, last_seen FROM geo_cache WHERE ip = ?",
    )
    .bind(ip)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(stored).transpose()
}

/// IPs the re-resolve job retries: negative rows, and MMDB rows of an older database than
/// `current_version` (when one is loaded).
pub async fn retry_candidates(
    pool: &SqlitePool,
    current_version: Option<u64>,
) -> Result<Vec<String>, sqlx::Error> {
    let version = current_version.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
    sqlx::query_scalar(
        "SELECT ip FROM geo_cache WHERE country_code IS NULL \
         OR (? IS NOT NULL AND source = 'mmdb' AND (db_version IS NULL OR db_version < ?))",
    )
    .bind(version)
    .bind(version)
    .fetch_all(pool)
    .await
}

/// Deletes rows whose `last_seen` is older than `cutoff` (epoch seconds); returns how many.
pub async fn delete_stale(pool: &SqlitePool, cutoff: i64) -> Result<u64, sqlx::Error> {
    let res = sqlx::query("DELETE FROM geo_cache WHERE last_seen < ?")
        .bind(cutoff)
        .execute(pool)
        .await?;
    Ok(res.rows_affected())
}

/// Number of rows (stats and tests).
pub async fn count(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM geo_cache")
        .fetch_one(pool)
        .await
}

/// Country code → English name, as the cached answers carry them.
pub async fn country_names(pool: &SqlitePool) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT country_code, MAX(country_name) FROM geo_cache \
         WHERE country_code IS NOT NULL AND country_name IS NOT NULL GROUP BY country_code",
    )
    .fetch_all(pool)
    .await
}
