//! Repository of `history_rollup`: ban counts per (host, hour, jail, origin, country). Every
//! function that changes cells takes the caller's transaction, so the cells change together
//! with the archive rows they count (`db::history`). An empty country is stored as `''`.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::domain::Origin;
use crate::domain::rollup::{RollupDelta, RollupKey};

/// Cells per multi-row statement (6 parameters each).
const CHUNK: usize = 1_000;

/// The text stored for an origin (`All` never reaches a cell).
pub fn origin_text(origin: Origin) -> &'static str {
    match origin {
        Origin::Blocklist => "blocklist",
        Origin::Selfblock | Origin::All => "selfblock",
    }
}

/// The origin of a stored text; anything but `blocklist` is self-detected.
pub fn origin_of(text: &str) -> Origin {
    if text == "blocklist" {
        Origin::Blocklist
    } else {
        Origin::Selfblock
    }
}

/// Adds `deltas` to the cells (creating them) and deletes cells that reach zero.
pub async fn apply(conn: &mut SqliteConnection, deltas: &[RollupDelta]) -> Result<(), sqlx::Error> {
    if deltas.is_empty() {
        return Ok(());
    }
    for chunk in deltas.chunks(CHUNK) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO history_rollup (host, hour, jail, origin, country, bans) ",
        );
        qb.push_values(chunk, |mut b, d| {
            b.push_bind(d.key.host.as_str())
                .push_bind(d.key.hour)
                .push_bind(d.key.jail.as_str())
                .push_bind(origin_text(d.key.origin))
                .push_bind(d.key.country.as_deref().unwrap_or(""))
                .push_bind(d.bans);
        });
        qb.push(" ON CONFLICT (host, hour, jail, origin, country) DO UPDATE SET bans = bans + excluded.bans");
        qb.build().execute(&mut *conn).await?;
    }
    // Only a removal can empty a cell: delete exactly those cells that reached zero (a scan of
    // the whole table here would cost more than the insert of the rows it counts).
    let removals: Vec<&RollupDelta> = deltas.iter().filter(|d| d.bans < 0).collect();
    for chunk in removals.chunks(CHUNK) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "DELETE FROM history_rollup WHERE bans <= 0 AND (host, hour, jail, origin, country) IN (",
        );
        qb.push_values(chunk, |mut b, d| {
            b.push_bind(d.key.host.as_str())
                .push_bind(d.key.hour)
                .push_bind(d.key.jail.as_str())
                .push_bind(origin_text(d.key.origin))
                .push_bind(d.key.country.as_deref().unwrap_or(""));
        });
        qb.push(")");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Deletes the cells before `hour`.
pub async fn delete_before(conn: &mut SqliteConnection, hour: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM history_rollup WHERE hour < ?")
        .bind(hour)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Every cell, for the in-memory copy built at start.
pub async fn load_all(pool: &SqlitePool) -> Result<Vec<RollupDelta>, sqlx::Error> {
    let rows: Vec<(String, i64, String, String, String, i64)> =
        sqlx::query_as("SELECT host, hour, jail, origin, country, bans FROM history_rollup")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(to_delta).collect())
}

fn to_delta(
    (host, hour, jail, origin, country, bans): (String, i64, String, String, String, i64),
) -> RollupDelta {
    RollupDelta {
        key: RollupKey {
            host,
            hour,
            jail,
            origin: origin_of(&origin),
            country: (!country.is_empty()).then_some(country),
        },
        bans,
    }
}

/// Whether the cells count exactly the archive's rows (checked at start; cheap: two scans of
/// narrow indexes/tables).
pub async fn matches_archive(pool: &SqlitePool) -> Result<bool, sqlx::Error> {
    let (rows, cells): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM history), (SELECT COALESCE(SUM(bans), 0) FROM history_rollup)",
    )
    .fetch_one(pool)
    .await?;
    Ok(rows == cells)
}

/// Recomputes every cell from the archive in one transaction (repair after a mismatch).
pub async fn rebuild(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM history_rollup")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO history_rollup (host, hour, jail, origin, country, bans) \
         SELECT host, timeofban / 3600, jail, origin, COALESCE(country_code, ''), COUNT(*) \
         FROM history GROUP BY 1, 2, 3, 4, 5",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
