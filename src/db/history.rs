//! Repository of the `history` table: BanGUI's own archive of fail2ban's ban records, each
//! with the host it came from and the geolocation resolved when it was archived. Every write
//! here changes the hour cells of `db::rollup` in the same transaction, and returns the cell
//! changes so that the in-memory copy can follow after the commit.
//!
//! Reads are index-ordered: the ban list walks `history_time` (or `history_country_time` for a
//! country) backwards and stops after the page; nothing here scans a whole time window.

use std::collections::BTreeMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::domain::rollup::{RollupDelta, RollupKey, hour_of, merge_deltas};
use crate::domain::{GeoSource, Origin};

use super::rollup::{self, origin_of, origin_text};

/// One archived ban as lists, searches and exports show it (everything but the matched lines).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    pub id: i64,
    pub host: String,
    pub jail: String,
    pub ip: String,
    pub timeofban: i64,
    pub bantime: i64,
    pub bancount: i64,
    pub failures: Option<i64>,
    pub origin: String,
    pub country_code: Option<String>,
    pub asn: Option<i64>,
    /// How the stored geolocation was found and by which MMDB build: read by the dashboard's
    /// ban list only (searches and exports leave them out, see [`SEARCH_COLUMNS`]).
    #[sqlx(default)]
    pub geo_source: Option<String>,
    #[sqlx(default)]
    pub geo_build: Option<i64>,
    /// When the ban was lifted before its end, and by whom (migration 0005).
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<String>,
}

/// The columns of a [`HistoryRow`].
const ROW_COLUMNS: &str = "id, host, jail, ip, timeofban, bantime, bancount, failures, origin, \
                           country_code, asn, geo_source, geo_build, lifted_at, lifted_by";

/// The columns of a [`HistoryRow`] without the geolocation's provenance (which then reads as
/// `None`): what searches and exports read, a million rows at a time.
pub(super) const SEARCH_COLUMNS: &str = "id, host, jail, ip, timeofban, bantime, bancount, \
                                         failures, origin, country_code, asn, lifted_at, lifted_by";

/// The geolocation stored on a row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowGeo {
    pub country_code: Option<String>,
    pub asn: Option<u32>,
    pub source: Option<GeoSource>,
    /// Build epoch of the MMDB that answered.
    pub build: Option<u64>,
}

/// A record to archive.
#[derive(Debug, Clone)]
pub struct NewHistory {
    pub host: String,
    pub jail: String,
    pub ip: String,
    pub timeofban: i64,
    pub bantime: i64,
    pub bancount: i64,
    pub failures: Option<i64>,
    /// JSON array of log lines.
    pub matches: Option<String>,
    pub origin: Origin,
    pub geo: RowGeo,
}

/// Rows per INSERT statement (one JSON parameter) and per re-geolocation read.
const BATCH: usize = 5_000;

fn build_i64(build: Option<u64>) -> Option<i64> {
    build.map(|b| i64::try_from(b).unwrap_or(i64::MAX))
}

fn key(
    host: String,
    timeofban: i64,
    jail: String,
    origin: &str,
    country: Option<String>,
) -> RollupKey {
    RollupKey {
        host,
        hour: hour_of(timeofban),
        jail,
        origin: origin_of(origin),
        country,
    }
}

/// Inserts the records in one transaction, ignoring ones already archived, with their hour
/// cells and the sync cursor of each (host, jail); returns how many rows were new and the
/// cell changes.
pub async fn insert_batch(
    pool: &SqlitePool,
    rows: &[NewHistory],
    now: i64,
) -> Result<(u64, Vec<RollupDelta>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (inserted, deltas) = insert_rows(&mut tx, rows, now).await?;
    let deltas = merge_deltas(deltas);
    finish_rows(&mut tx, &deltas, &cursors_of(rows)).await?;
    tx.commit().await?;
    Ok((inserted, deltas))
}

/// The newest `timeofban` per (host, jail) of the records: where each sync cursor moves.
pub fn cursors_of(rows: &[NewHistory]) -> BTreeMap<(String, String), i64> {
    let mut cursors: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in rows {
        match cursors.get_mut(&(r.host.clone(), r.jail.clone())) {
            Some(c) => *c = (*c).max(r.timeofban),
            None => {
                cursors.insert((r.host.clone(), r.jail.clone()), r.timeofban);
            }
        }
    }
    cursors
}

/// Inserts the records inside the caller's transaction, ignoring ones already archived;
/// returns how many were new and their (unmerged) cell changes. The caller applies those with
/// [`finish_rows`] in the same transaction.
///
/// Each statement carries [`BATCH`] rows as one JSON array unpacked by SQLite's `json_each`
/// (one bound parameter instead of fourteen per row: binding dominated the cost of a million-row
/// first sync). When a statement inserts every row it carries, the cell changes are counted
/// from the records themselves; when it ignored some (already archived), they are counted over
/// the rows it added (ids above the largest before it; `AUTOINCREMENT` never reuses ids).
pub async fn insert_rows(
    conn: &mut SqliteConnection,
    rows: &[NewHistory],
    now: i64,
) -> Result<(u64, Vec<RollupDelta>), sqlx::Error> {
    let mut inserted = 0u64;
    let mut deltas = Vec::new();
    for chunk in rows.chunks(BATCH) {
        let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM history")
            .fetch_one(&mut *conn)
            .await?;
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    r.host.as_str(),
                    r.jail.as_str(),
                    r.ip.as_str(),
                    r.timeofban,
                    r.bantime,
                    r.bancount,
                    r.failures,
                    r.matches.as_deref(),
                    origin_text(r.origin),
                    r.geo.country_code.as_deref(),
                    r.geo.asn,
                    r.geo.source.map(GeoSource::as_str),
                    build_i64(r.geo.build),
                )
            })
            .collect();
        let json = serde_json::to_string(&values).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let n = sqlx::query(
            "INSERT OR IGNORE INTO history (host, jail, ip, timeofban, bantime, bancount, failures, \
             matches, origin, country_code, asn, geo_source, geo_build, archived_at) \
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
             j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, \
             j.value ->> 10, j.value ->> 11, j.value ->> 12, ?2 FROM json_each(?1) AS j",
        )
        .bind(json)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        inserted += n;
        if n == chunk.len() as u64 {
            deltas.extend(chunk.iter().map(|r| RollupDelta {
                key: key(
                    r.host.clone(),
                    r.timeofban,
                    r.jail.clone(),
                    origin_text(r.origin),
                    r.geo.country_code.clone(),
                ),
                bans: 1,
            }));
        } else if n > 0 {
            let added: Vec<(String, i64, String, String, Option<String>, i64)> = sqlx::query_as(
                "SELECT host, timeofban / 3600, jail, origin, country_code, COUNT(*) FROM history \
                 WHERE id > ? GROUP BY 1, 2, 3, 4, 5",
            )
            .bind(before)
            .fetch_all(&mut *conn)
            .await?;
            deltas.extend(
                added
                    .into_iter()
                    .map(|(host, hour, jail, origin, country, n)| RollupDelta {
                        key: RollupKey {
                            host,
                            hour,
                            jail,
                            origin: origin_of(&origin),
                            country,
                        },
                        bans: n,
                    }),
            );
        }
    }
    Ok((inserted, deltas))
}

/// Applies merged cell changes and moves the sync cursors, inside the caller's transaction.
pub async fn finish_rows(
    conn: &mut SqliteConnection,
    deltas: &[RollupDelta],
    cursors: &BTreeMap<(String, String), i64>,
) -> Result<(), sqlx::Error> {
    rollup::apply(&mut *conn, deltas).await?;
    for ((host, jail), newest) in cursors {
        sqlx::query(
            "INSERT INTO history_cursor (host, jail, timeofban) VALUES (?1, ?2, ?3) \
             ON CONFLICT (host, jail) DO UPDATE SET timeofban = MAX(timeofban, excluded.timeofban)",
        )
        .bind(host)
        .bind(jail)
        .bind(newest)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Page cache of the connection that writes a large backlog (KiB): the indexes' pages that
/// a large transaction touches stay in memory instead of being written to the WAL repeatedly.
const BULK_CACHE_KIB: i64 = 65_536;

/// Gives `conn` the large page cache of a bulk write (`on`), or back the pool's 8 MiB, freeing
/// what the large cache held (`off`), before the connection returns to the pool.
pub async fn bulk_cache(conn: &mut SqliteConnection, on: bool) -> Result<(), sqlx::Error> {
    if on {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA cache_size = -{BULK_CACHE_KIB}"
        )))
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query("PRAGMA cache_size = -8192")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA shrink_memory")
            .execute(&mut *conn)
            .await?;
        trim_heap();
    }
    Ok(())
}

/// Hands the heap pages the large cache freed back to the system: glibc keeps freed memory
/// in its arenas, so the resident size would otherwise stay at its peak for the life of the
/// process.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is already free inside glibc's heaps; it
    // neither moves nor frees any live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The newest archived `timeofban` of a jail: where its next sync starts.
pub async fn cursor(pool: &SqlitePool, host: &str, jail: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT timeofban FROM history_cursor WHERE host = ? AND jail = ?")
        .bind(host)
        .bind(jail)
        .fetch_optional(pool)
        .await
}

/// Deletes archived bans of hours before `hour` and their cells; returns how many rows.
pub async fn purge_before_hour(pool: &SqlitePool, hour: i64) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query("DELETE FROM history WHERE timeofban < ?")
        .bind(hour.saturating_mul(crate::domain::rollup::HOUR))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    rollup::delete_before(&mut tx, hour).await?;
    tx.commit().await?;
    Ok(n)
}

/// A page of the ban list: bans since `since`, newest first (id breaks ties), optionally of one
/// origin and one country.
pub async fn page(
    pool: &SqlitePool,
    since: i64,
    origin: Option<Origin>,
    country: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let origin = origin.filter(|o| *o != Origin::All).map(origin_text);
    let sql = match country {
        None => sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM history INDEXED BY history_time \
             WHERE timeofban >= ?1 AND (?2 IS NULL OR origin = ?2) \
             ORDER BY timeofban DESC, id DESC LIMIT ?4 OFFSET ?5"
        )),
        Some(_) => sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM history INDEXED BY history_country_time \
             WHERE country_code = ?3 AND timeofban >= ?1 AND (?2 IS NULL OR origin = ?2) \
             ORDER BY timeofban DESC, id DESC LIMIT ?4 OFFSET ?5"
        )),
    };
    sqlx::query_as(sql)
        .bind(since)
        .bind(origin)
        .bind(country)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await
}

/// Rows the re-geolocation job looks at, in id order after `after_id`: unresolved rows, and
/// (with `build`) rows an MMDB of another build resolved.
pub async fn regeo_candidates(
    pool: &SqlitePool,
    after_id: i64,
    build: Option<u64>,
    limit: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    match build {
        Some(b) => {
            sqlx::query_as(
                "SELECT id, ip FROM history WHERE id > ?1 AND (country_code IS NULL \
                 OR (geo_source = 'mmdb' AND geo_build IS NOT ?2)) ORDER BY id LIMIT ?3",
            )
            .bind(after_id)
            .bind(build_i64(Some(b)))
            .bind(limit)
            .fetch_all(pool)
            .await
        }
        None => {
            sqlx::query_as(
                "SELECT id, ip FROM history INDEXED BY history_unresolved \
                 WHERE country_code IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
            )
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        }
    }
}

/// Stores new geolocations (row id → answer) and moves the counted bans between country
/// cells, in one transaction. Rows whose stored answer is already equal, or that are gone,
/// are left alone. Returns the rows changed and the cell changes.
pub async fn set_geo(
    pool: &SqlitePool,
    updates: &[(i64, RowGeo)],
) -> Result<(u64, Vec<RollupDelta>), sqlx::Error> {
    if updates.is_empty() {
        return Ok((0, Vec::new()));
    }
    let mut tx = pool.begin().await?;
    let mut deltas = Vec::new();
    let mut changed = 0u64;
    for chunk in updates.chunks(BATCH / 2) {
        // Read the rows as they are inside this transaction, so the cell moves are exact.
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT id, host, timeofban, jail, origin, country_code, asn, geo_source, geo_build \
             FROM history WHERE id IN (",
        );
        let mut sep = qb.separated(", ");
        for (id, _) in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        type Current = (
            i64,
            String,
            i64,
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let current: Vec<Current> = qb.build_query_as().fetch_all(&mut *tx).await?;
        let wanted: std::collections::HashMap<i64, &RowGeo> =
            chunk.iter().map(|(id, g)| (*id, g)).collect();
        let mut rows: Vec<(i64, &RowGeo)> = Vec::new();
        for (id, host, t, jail, origin, cc, asn, source, build) in current {
            let Some(new) = wanted.get(&id) else { continue };
            let same = cc == new.country_code
                && asn == new.asn.map(i64::from)
                && source.as_deref() == new.source.map(GeoSource::as_str)
                && build == build_i64(new.build);
            if same {
                continue;
            }
            if cc != new.country_code {
                deltas.push(RollupDelta {
                    key: key(host.clone(), t, jail.clone(), &origin, cc),
                    bans: -1,
                });
                deltas.push(RollupDelta {
                    key: key(host, t, jail, &origin, new.country_code.clone()),
                    bans: 1,
                });
            }
            rows.push((id, new));
        }
        if rows.is_empty() {
            continue;
        }
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("WITH v(id, cc, asn, src, build) AS (");
        qb.push_values(&rows, |mut b, (id, g)| {
            b.push_bind(*id)
                .push_bind(g.country_code.as_deref())
                .push_bind(g.asn.map(i64::from))
                .push_bind(g.source.map(GeoSource::as_str))
                .push_bind(build_i64(g.build));
        });
        qb.push(
            ") UPDATE history SET country_code = v.cc, asn = v.asn, geo_source = v.src, \
             geo_build = v.build FROM v WHERE history.id = v.id",
        );
        changed += qb.build().execute(&mut *tx).await?.rows_affected();
    }
    let deltas = merge_deltas(deltas);
    rollup::apply(&mut tx, &deltas).await?;
    tx.commit().await?;
    Ok((changed, deltas))
}

/// The largest row id (0 for an empty archive).
pub async fn max_id(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM history")
        .fetch_one(pool)
        .await
}

/// Number of archived rows.
pub async fn count_all(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM history")
        .fetch_one(pool)
        .await
}
