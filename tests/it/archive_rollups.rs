//! The dashboard's aggregates come from hour cells kept beside the archive. These tests fill a
//! real SQLite archive with random bans and check that every aggregate (per country, per jail,
//! per trend bucket, per country and jail, for every range and origin) equals a plain
//! `GROUP BY` over the raw archive rows — after inserts, after re-geolocation moved bans
//! between countries, after the retention purge, and after a restart rebuilt the in-memory
//! copy from the table.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::SqlitePool;

use bangui::db::{self, history, rollup};
use bangui::domain::rollup::{ORIGINS, RANGES, Window};
use bangui::domain::{GeoSource, Origin};
use bangui::services::rollups::RollupStore;

const COUNTRIES: [Option<&str>; 6] = [
    Some("DE"),
    Some("FR"),
    Some("US"),
    Some("BH"),
    Some("SG"),
    None,
];
const JAILS: [&str; 3] = ["sshd", "nginx-http-auth", "blocklist-import"];

fn random_rows(rng: &mut StdRng, n: usize, now: i64) -> Vec<history::NewHistory> {
    (0..n)
        .map(|_| {
            let jail = JAILS[rng.random_range(0..JAILS.len())];
            let country = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
            history::NewHistory {
                host: "local".into(),
                jail: jail.into(),
                ip: format!("198.51.100.{}", rng.random_range(0..64)),
                timeofban: now - rng.random_range(0..400 * 86_400),
                bantime: 600,
                bancount: 1,
                failures: Some(5),
                matches: None,
                origin: Origin::of_jail(jail),
                geo: history::RowGeo {
                    country_code: country.map(str::to_string),
                    asn: None,
                    source: country.map(|_| GeoSource::Mmdb),
                    build: country.map(|_| 1),
                },
            }
        })
        .collect()
}

type Counts = BTreeMap<String, u64>;

async fn grouped(
    pool: &SqlitePool,
    select: &str,
    since: i64,
    origin: Origin,
    country: Option<&str>,
) -> Counts {
    let origin = match origin {
        Origin::All => None,
        Origin::Selfblock => Some("selfblock"),
        Origin::Blocklist => Some("blocklist"),
    };
    let sql = format!(
        "SELECT CAST({select} AS TEXT), COUNT(*) FROM history WHERE timeofban >= ?1 \
         AND (?2 IS NULL OR origin = ?2) AND (?3 IS NULL OR country_code = ?3) GROUP BY 1"
    );
    let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(since)
        .bind(origin)
        .bind(country)
        .fetch_all(pool)
        .await
        .expect("group by");
    rows.into_iter().map(|(k, n)| (k, n as u64)).collect()
}

/// Every aggregate of the published snapshot against GROUP BY over the raw rows.
async fn assert_aggregates_equal_group_by(pool: &SqlitePool, store: &Arc<RollupStore>) {
    let snapshot = store.snapshot();
    let now = snapshot.hour * 3_600;
    let archived: i64 = history::count_all(pool).await.expect("count");
    assert_eq!(
        store.total(),
        archived as u64,
        "cells count every archived row"
    );
    for range in RANGES {
        for origin in ORIGINS {
            let agg = snapshot
                .window(range, origin)
                .expect("every window is published");
            let w = Window::of(range, now);
            assert_eq!(agg.window, w);
            let ctx = format!("{range} {origin:?}");

            let mut by_country =
                grouped(pool, "COALESCE(country_code, '')", w.start, origin, None).await;
            let unresolved = by_country.remove("").unwrap_or(0);
            let got: Counts = agg
                .countries
                .iter()
                .map(|(c, s)| (c.clone(), s.total))
                .collect();
            assert_eq!(got, by_country, "{ctx}: per country");
            assert_eq!(agg.unresolved, unresolved, "{ctx}: unresolved");
            assert_eq!(
                agg.all.total,
                by_country.values().sum::<u64>() + unresolved,
                "{ctx}: total"
            );

            let by_jail = grouped(pool, "jail", w.start, origin, None).await;
            assert_eq!(agg.all.jails, by_jail, "{ctx}: per jail");

            let bucket = format!("(timeofban - {}) / {}", w.start, w.bucket_seconds);
            let trend = grouped(pool, &bucket, w.start, origin, None).await;
            let got: Counts = agg
                .all
                .trend
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (i.to_string(), *n))
                .collect();
            assert_eq!(got, trend, "{ctx}: trend");

            for cc in COUNTRIES.iter().flatten() {
                let jails = grouped(pool, "jail", w.start, origin, Some(cc)).await;
                let got = agg
                    .countries
                    .get(*cc)
                    .map(|s| s.jails.clone())
                    .unwrap_or_default();
                assert_eq!(got, jails, "{ctx}: per jail in {cc}");
                let trend = grouped(pool, &bucket, w.start, origin, Some(cc)).await;
                let got: Counts = agg
                    .countries
                    .get(*cc)
                    .map(|s| {
                        s.trend
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| **n > 0)
                            .map(|(i, n)| (i.to_string(), *n))
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(got, trend, "{ctx}: trend in {cc}");
            }
        }
    }
}

#[tokio::test]
async fn every_aggregate_equals_group_by_over_the_archive_across_inserts_regeolocation_purges_and_restarts()
 {
    let (_dir, pool) = crate::support::archive::temp_database().await;
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let now = db::now_epoch();
    let store = RollupStore::load(&pool).await.expect("empty store");

    for _ in 0..4 {
        let rows = random_rows(&mut rng, 1_500, now);
        let (_, deltas) = history::insert_batch(&pool, &rows, now)
            .await
            .expect("insert");
        store.apply(&deltas);
    }
    // The same rows again are duplicates: nothing is counted twice.
    let again = random_rows(&mut StdRng::seed_from_u64(0x5eed), 1_500, now);
    let (added, deltas) = history::insert_batch(&pool, &again, now)
        .await
        .expect("insert");
    assert_eq!((added, deltas.len()), (0, 0));
    // Half archived, half new (a re-read second beside new rows): only the new half counts.
    let mut mixed = again[..750].to_vec();
    mixed.extend(random_rows(&mut rng, 750, now));
    let (added, deltas) = history::insert_batch(&pool, &mixed, now)
        .await
        .expect("insert");
    assert!(added > 0 && added <= 750, "{added} of 750 new rows");
    store.apply(&deltas);
    store.publish().await;
    assert_aggregates_equal_group_by(&pool, &store).await;

    // Re-geolocation: a third of the rows move to another country (or become unresolved).
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM history WHERE id % 3 = 0")
        .fetch_all(&pool)
        .await
        .expect("ids");
    let updates: Vec<(i64, history::RowGeo)> = ids
        .into_iter()
        .map(|id| {
            let cc = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
            (
                id,
                history::RowGeo {
                    country_code: cc.map(str::to_string),
                    asn: Some(64_500),
                    source: cc.map(|_| GeoSource::Mmdb),
                    build: cc.map(|_| 2),
                },
            )
        })
        .collect();
    let (changed, deltas) = history::set_geo(&pool, &updates).await.expect("regeo");
    assert!(changed > 0);
    store.apply(&deltas);
    store.publish().await;
    assert_aggregates_equal_group_by(&pool, &store).await;

    // Retention: everything older than 200 days goes, rows and cells together.
    let cutoff = (now - 200 * 86_400).div_euclid(3_600);
    let purged = history::purge_before_hour(&pool, cutoff)
        .await
        .expect("purge");
    assert!(purged > 0);
    store.drop_before(cutoff);
    store.publish().await;
    assert_aggregates_equal_group_by(&pool, &store).await;

    // A restart rebuilds the in-memory copy from the table alone.
    let restarted = RollupStore::load(&pool).await.expect("reload");
    assert_aggregates_equal_group_by(&pool, &restarted).await;
}

#[tokio::test]
async fn cells_that_disagree_with_the_archive_are_rebuilt_at_start() {
    let (_dir, pool) = crate::support::archive::temp_database().await;
    let now = db::now_epoch();
    let rows = random_rows(&mut StdRng::seed_from_u64(7), 500, now);
    history::insert_batch(&pool, &rows, now)
        .await
        .expect("insert");
    // A crash between two writers cannot do this (they share a transaction), but a hand edit can.
    sqlx::query(
        "DELETE FROM history_rollup WHERE hour IN (SELECT hour FROM history_rollup LIMIT 5)",
    )
    .execute(&pool)
    .await
    .expect("corrupt");
    sqlx::query("UPDATE history_rollup SET bans = bans + 1 WHERE country = 'DE'")
        .execute(&pool)
        .await
        .expect("corrupt");
    assert!(!rollup::matches_archive(&pool).await.expect("check"));
    let store = RollupStore::load(&pool).await.expect("load");
    assert!(rollup::matches_archive(&pool).await.expect("check"));
    assert_aggregates_equal_group_by(&pool, &store).await;
}
