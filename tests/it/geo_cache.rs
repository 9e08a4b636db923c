//! The `GeoCache` service against real MMDB files written by the tests and a real SQLite
//! database: lookup order and fields, negative results, persistence through the dirty set,
//! warm start, re-resolve, retention cleanup, eviction, and hot reload (atomic rename under
//! load, a truncated file, the file watcher).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::support::mmdb::{self, CountryNet};
use bangui::config::{GeoipSettings, Settings, Sources};
use bangui::db::geo_cache as repo;
use bangui::geo::watcher::MmdbWatcher;
use bangui::geo::{GeoCache, GeoSource, MmdbState};
use bangui::metrics::Metrics;
use sqlx::SqlitePool;

const V1: u64 = 1_700_000_000;
const V2: u64 = 1_800_000_000;

struct World {
    dir: tempfile::TempDir,
    pool: SqlitePool,
    metrics: Arc<Metrics>,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = bangui::db::connect(&dir.path().join("bangui.db"), Duration::from_secs(5))
            .await
            .expect("database opens");
        Self {
            dir,
            pool,
            metrics: Arc::new(Metrics::new().expect("metrics")),
        }
    }

    fn country_path(&self) -> PathBuf {
        self.dir.path().join("GeoLite2-Country.mmdb")
    }

    fn asn_path(&self) -> PathBuf {
        self.dir.path().join("GeoLite2-ASN.mmdb")
    }

    fn write_demo(&self, epoch: u64) {
        mmdb::write_atomically(
            &self.country_path(),
            &mmdb::country_bytes(&mmdb::demo_countries(), epoch),
        );
    }

    fn settings(&self, extra: &[(&str, &str)]) -> GeoipSettings {
        let mut env = BTreeMap::new();
        env.insert(
            "BANGUI_GEOIP_DB_PATH".to_string(),
            self.country_path().display().to_string(),
        );
        for (k, v) in extra {
            env.insert((*k).to_string(), (*v).to_string());
        }
        Settings::from_sources(&Sources { file: None, env })
            .expect("valid settings")
            .geoip
    }

    fn cache(&self, extra: &[(&str, &str)]) -> Arc<GeoCache> {
        Arc::new(GeoCache::new(
            &self.settings(extra),
            self.pool.clone(),
            Arc::clone(&self.metrics),
        ))
    }

    async fn rows(&self) -> i64 {
        repo::count(&self.pool).await.expect("count")
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn one_net(network: &str, iso: &str, name: &str) -> Vec<CountryNet> {
    vec![CountryNet::new(network, iso, name, "EU", 42)]
}

#[tokio::test]
async fn ipv4_ipv6_and_ipv4_mapped_addresses_resolve_from_the_mmdb_with_asn_and_network() {
    let w = World::new().await;
    w.write_demo(V1);
    mmdb::write_atomically(&w.asn_path(), &mmdb::asn_bytes(&mmdb::demo_asns(), V1));
    let asn = w.asn_path().display().to_string();
    let geo = w.cache(&[("BANGUI_GEOIP_ASN_DB_PATH", asn.as_str())]);

    let v4 = geo.lookup(ip("203.0.113.7")).await.expect("IPv4 found");
    assert_eq!(v4.country_code.as_deref(), Some("DE"));
    assert_eq!(v4.country_name.as_deref(), Some("Germany"));
    assert_eq!(v4.geoname_id, Some(2_921_044));
    assert_eq!(v4.continent.as_deref(), Some("EU"));
    assert_eq!(v4.network.as_deref(), Some("203.0.113.0/24"));
    assert_eq!(v4.source, GeoSource::Mmdb);
    assert_eq!(v4.db_version, Some(V1));
    assert_eq!(v4.asn, Some(64_496));
    assert_eq!(v4.org.as_deref(), Some("Example DE Hosting 1"));

    let v6 = geo
        .lookup(ip("2001:db8:abcd::42"))
        .await
        .expect("IPv6 found");
    assert_eq!(v6.country_code.as_deref(), Some("FR"));
    assert_eq!(v6.network.as_deref(), Some("2001:db8:abcd::/48"));

    let mapped = geo
        .lookup(ip("::ffff:198.51.100.9"))
        .await
        .expect("mapped found");
    assert_eq!(mapped.country_code.as_deref(), Some("US"));
    assert_eq!(mapped.network.as_deref(), Some("198.51.100.0/24"));
}

#[tokio::test]
async fn an_unknown_public_ip_is_not_found_and_persisted_as_a_negative_row_by_the_flush() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    assert_eq!(geo.lookup(ip("8.8.8.8")).await, None);
    assert_eq!(geo.stats().negative_entries, 1);
    assert_eq!(w.rows().await, 0, "a lookup never writes to the database");
    assert_eq!(geo.flush_dirty().await.expect("flush"), 1);
    let row = repo::get(&w.pool, "8.8.8.8")
        .await
        .expect("get")
        .expect("row");
    assert!(row.info.is_none(), "negative rows have a NULL country_code");
}

#[tokio::test]
async fn private_ranges_are_not_found_and_never_persisted() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    for private in ["10.0.0.1", "192.168.1.1", "127.0.0.1", "fd00::1", "::1"] {
        assert_eq!(geo.lookup(ip(private)).await, None, "{private}");
    }
    assert!(
        geo.lookup_batch_shared(&[ip("172.16.0.1")])
            .await
            .is_empty()
    );
    assert_eq!(geo.flush_dirty().await.expect("flush"), 0);
    assert_eq!(w.rows().await, 0);
}

#[tokio::test]
async fn lookup_batch_shared_returns_only_resolvable_ips_under_canonical_keys() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    let ips = [
        ip("203.0.113.1"),
        ip("::ffff:192.0.2.5"),
        ip("2001:db8:beef::1"),
        ip("8.8.4.4"),
        ip("203.0.113.1"),
    ];
    let found = geo.lookup_batch_shared(&ips).await;
    assert_eq!(found.len(), 3);
    assert_eq!(
        found[&ip("203.0.113.1")].country_code.as_deref(),
        Some("DE")
    );
    assert_eq!(found[&ip("192.0.2.5")].country_code.as_deref(), Some("GB"));
    assert_eq!(
        found[&ip("2001:db8:beef::1")].country_code.as_deref(),
        Some("JP")
    );
    assert!(!found.contains_key(&ip("8.8.4.4")));
}

#[tokio::test]
async fn batch_local_and_single_lookups_give_the_same_answers_and_a_batch_shares_them_per_network()
{
    let w = World::new().await;
    w.write_demo(V1);
    let ips = [
        ip("5.1.2.3"),
        ip("5.9.9.9"),
        ip("::ffff:192.0.2.5"),
        ip("2001:db8:beef::1"),
        ip("8.8.4.4"),
        ip("10.0.0.1"),
    ];
    let shared = w.cache(&[]).lookup_batch_shared(&ips).await;
    let local = w.cache(&[]).lookup_batch_local(&ips);
    let single = w.cache(&[]);
    assert_eq!(shared.len(), 4);
    assert_eq!(local.len(), 4);
    for ip in ips {
        let one = single.lookup(ip).await;
        let key = ip.to_canonical();
        assert_eq!(shared.get(&key).map(|i| i.as_ref()), one.as_ref(), "{ip}");
        assert_eq!(local.get(&key).map(|i| i.as_ref()), one.as_ref(), "{ip}");
    }
    assert!(
        Arc::ptr_eq(&shared[&ip("5.1.2.3")], &shared[&ip("5.9.9.9")]),
        "two IPs of 5.0.0.0/8 resolved in one batch share one answer"
    );
}

#[tokio::test]
async fn cached_shared_answers_from_memory_and_never_resolves() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    assert!(geo.cached_shared(ip("203.0.113.1")).is_none());
    assert_eq!(geo.stats().entries, 0);
    geo.lookup(ip("203.0.113.1")).await;
    assert!(geo.cached_shared(ip("198.51.100.1")).is_none());
    assert_eq!(
        geo.cached_shared(ip("203.0.113.1"))
            .and_then(|i| i.country_code.clone())
            .as_deref(),
        Some("DE")
    );
}

#[tokio::test]
async fn the_flush_persists_exactly_the_dirty_set_in_one_go_and_then_nothing() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    geo.lookup_batch_shared(&[
        ip("203.0.113.1"),
        ip("198.51.100.2"),
        ip("2001:db8:abcd::3"),
    ])
    .await;
    geo.lookup(ip("203.0.113.1")).await; // a hit does not dirty the entry again
    assert_eq!(geo.stats().dirty_entries, 3);
    assert_eq!(geo.flush_dirty().await.expect("flush"), 3);
    assert_eq!(w.rows().await, 3);
    let row = repo::get(&w.pool, "2001:db8:abcd::3")
        .await
        .expect("get")
        .expect("row");
    let info = row.info.expect("positive row");
    assert_eq!(info.country_code.as_deref(), Some("FR"));
    assert_eq!(info.network.as_deref(), Some("2001:db8:abcd::/48"));
    assert_eq!(info.db_version, Some(V1));
    assert_eq!(geo.flush_dirty().await.expect("flush"), 0);
    assert_eq!(geo.stats().dirty_entries, 0);
}

#[tokio::test]
async fn accesses_refresh_last_seen_at_the_next_flush_not_per_request() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    geo.lookup(ip("203.0.113.1")).await;
    geo.flush_dirty().await.expect("flush");
    sqlx::query("UPDATE geo_cache SET last_seen = 1")
        .execute(&w.pool)
        .await
        .expect("age row");
    geo.lookup(ip("203.0.113.1")).await;
    let row = repo::get(&w.pool, "203.0.113.1")
        .await
        .expect("get")
        .expect("row");
    assert_eq!(row.last_seen, 1, "the access itself does not write");
    geo.flush_dirty().await.expect("flush");
    let row = repo::get(&w.pool, "203.0.113.1")
        .await
        .expect("get")
        .expect("row");
    assert!(row.last_seen > 1);
}

#[tokio::test]
async fn load_from_db_warms_memory_of_a_new_cache_even_without_an_mmdb() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    geo.lookup_batch_shared(&[ip("203.0.113.1"), ip("198.51.100.1")])
        .await;
    geo.lookup(ip("8.8.8.8")).await;
    geo.flush_dirty().await.expect("flush");
    std::fs::remove_file(w.country_path()).expect("remove mmdb");
    let fresh = w.cache(&[]);
    assert_eq!(fresh.mmdb_status().state, MmdbState::Absent);
    assert_eq!(
        fresh.load_from_db().await.expect("load"),
        2,
        "negative rows stay on disk"
    );
    assert_eq!(
        fresh
            .cached_shared(ip("198.51.100.1"))
            .and_then(|i| i.country_code.clone())
            .as_deref(),
        Some("US")
    );
}

#[tokio::test]
async fn re_resolve_fills_negative_rows_once_the_database_appears() {
    let w = World::new().await;
    let geo = w.cache(&[]);
    geo.load_from_db().await.expect("warm (start-up)");
    assert_eq!(geo.mmdb_status().state, MmdbState::Absent);
    assert!(
        geo.lookup_batch_shared(&[ip("5.1.2.3"), ip("31.4.5.6"), ip("8.8.8.8")])
            .await
            .is_empty()
    );
    geo.flush_dirty().await.expect("flush");
    assert_eq!(w.rows().await, 3);

    w.write_demo(V1);
    geo.reload().expect("reload");
    let outcome = geo.re_resolve_unresolved().await.expect("re-resolve");
    assert_eq!((outcome.resolved, outcome.total), (2, 3));
    let row = repo::get(&w.pool, "31.4.5.6")
        .await
        .expect("get")
        .expect("row");
    assert_eq!(row.info.and_then(|i| i.country_code).as_deref(), Some("RU"));
    assert_eq!(
        geo.lookup(ip("5.1.2.3"))
            .await
            .and_then(|i| i.country_code)
            .as_deref(),
        Some("DE")
    );
}

#[tokio::test]
async fn the_first_re_resolve_waits_until_the_warm_load_has_finished() {
    let w = World::new().await;
    w.write_demo(V1);
    let earlier = w.cache(&[]);
    earlier
        .lookup_batch_shared(&[ip("203.0.113.1"), ip("8.8.8.8")])
        .await;
    earlier.flush_dirty().await.expect("flush");
    // A restart: a new cache over the same database, the re-resolve job firing first.
    let geo = w.cache(&[]);
    let job = tokio::spawn({
        let geo = Arc::clone(&geo);
        async move { geo.re_resolve_unresolved().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!job.is_finished(), "re-resolve ran before the warm load");
    assert_eq!(geo.stats().entries, 0);
    assert_eq!(geo.load_from_db().await.expect("warm"), 1);
    let outcome = tokio::time::timeout(Duration::from_secs(5), job)
        .await
        .expect("re-resolve goes on once warmed")
        .expect("task")
        .expect("re-resolve");
    assert_eq!(
        (outcome.resolved, outcome.total),
        (0, 1),
        "only the negative row"
    );
    // A failed warm load opens the gate too: re-resolve is never blocked for good.
    let broken = w.cache(&[]);
    w.pool.close().await;
    assert!(broken.load_from_db().await.is_err());
    assert!(
        tokio::time::timeout(Duration::from_secs(5), broken.re_resolve_unresolved())
            .await
            .is_ok_and(|r| r.is_err()),
        "answers (with the database error) instead of waiting"
    );
}

#[tokio::test]
async fn re_resolve_also_retries_rows_of_an_older_database() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    geo.load_from_db().await.expect("warm (start-up)");
    geo.lookup(ip("203.0.113.1")).await;
    geo.flush_dirty().await.expect("flush");
    mmdb::write_atomically(
        &w.country_path(),
        &mmdb::country_bytes(&one_net("203.0.113.0/24", "NL", "Netherlands"), V2),
    );
    geo.reload().expect("reload");
    let outcome = geo.re_resolve_unresolved().await.expect("re-resolve");
    assert_eq!((outcome.resolved, outcome.total), (1, 1));
    let info = repo::get(&w.pool, "203.0.113.1")
        .await
        .expect("get")
        .expect("row")
        .info;
    let info = info.expect("positive");
    assert_eq!(info.country_code.as_deref(), Some("NL"));
    assert_eq!(info.db_version, Some(V2));
}

#[tokio::test]
async fn entries_of_an_older_database_are_re_resolved_on_their_next_access() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    assert_eq!(
        geo.lookup(ip("203.0.113.9"))
            .await
            .and_then(|i| i.country_code)
            .as_deref(),
        Some("DE")
    );
    mmdb::write_atomically(
        &w.country_path(),
        &mmdb::country_bytes(&one_net("203.0.113.0/24", "NL", "Netherlands"), V2),
    );
    geo.reload().expect("reload");
    assert!(geo.cached_shared(ip("203.0.113.9")).is_none());
    let info = geo.lookup(ip("203.0.113.9")).await.expect("found");
    assert_eq!(info.country_code.as_deref(), Some("NL"));
    assert_eq!(info.db_version, Some(V2));
}

#[tokio::test]
async fn cleanup_deletes_only_rows_not_seen_within_the_retention() {
    let w = World::new().await;
    let geo = w.cache(&[]);
    let now = 1_900_000_000;
    assert_eq!(geo.delete_stale(90, now).await.expect("empty table"), 0);
    for (ip, last_seen) in [
        ("1.1.1.1", now - 91 * 86_400),
        ("2.2.2.2", now - 89 * 86_400),
        ("3.3.3.3", now),
    ] {
        sqlx::query("INSERT INTO geo_cache (ip, cached_at, last_seen) VALUES (?, ?, ?)")
            .bind(ip)
            .bind(last_seen)
            .bind(last_seen)
            .execute(&w.pool)
            .await
            .expect("insert");
    }
    assert_eq!(geo.delete_stale(90, now).await.expect("cleanup"), 1);
    assert!(repo::get(&w.pool, "1.1.1.1").await.expect("get").is_none());
    assert!(repo::get(&w.pool, "2.2.2.2").await.expect("get").is_some());
    assert_eq!(geo.delete_stale(90, now).await.expect("all recent"), 0);
    assert_eq!(w.rows().await, 2);
}

#[tokio::test]
async fn the_memory_tier_stays_within_its_bound() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[("BANGUI_GEOIP_CACHE_MAX_ENTRIES", "1000")]);
    let ips: Vec<IpAddr> = (0..5000u32)
        .map(|i| IpAddr::V4(std::net::Ipv4Addr::from(0x0500_0000 + i * 97)))
        .collect();
    assert_eq!(geo.lookup_batch_shared(&ips).await.len(), 5000);
    let stats = geo.stats();
    assert!(stats.entries <= 1000, "{stats:?}");
    assert!(stats.evictions >= 4000, "{stats:?}");
    assert_eq!(
        geo.flush_dirty().await.expect("flush"),
        5000,
        "evicted results are still persisted"
    );
}

fn lookup_answer(geo: &GeoCache, rt: &tokio::runtime::Handle, ip: IpAddr) -> Option<String> {
    rt.block_on(geo.lookup(ip)).and_then(|i| i.country_code)
}

#[test]
fn swaps_by_atomic_rename_under_concurrent_lookups_never_fail_and_switch_to_the_new_data() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let w = rt.block_on(World::new());
    let a = mmdb::country_bytes(&one_net("203.0.113.0/24", "DE", "Germany"), V1);
    let b = mmdb::country_bytes(&one_net("203.0.113.0/24", "NL", "Netherlands"), V2);
    mmdb::write_atomically(&w.country_path(), &a);
    let geo = w.cache(&[]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let geo = Arc::clone(&geo);
            let stop = Arc::clone(&stop);
            let rt = rt.handle().clone();
            std::thread::spawn(move || {
                let (mut ok, mut errors) = (0u64, 0u64);
                let mut i = 0u8;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || ok < 1000 {
                    i = i.wrapping_add(1);
                    let target = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, i ^ t));
                    match lookup_answer(&geo, &rt, target).as_deref() {
                        Some("DE") | Some("NL") => ok += 1,
                        _ => errors += 1,
                    }
                }
                (ok, errors)
            })
        })
        .collect();
    for swap in 0..50 {
        let bytes = if swap % 2 == 0 { &b } else { &a };
        mmdb::write_atomically(&w.country_path(), bytes);
        geo.reload().expect("every swap validates");
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for t in threads {
        let (ok, errors) = t.join().expect("lookup thread");
        assert_eq!(errors, 0);
        total += ok;
    }
    assert!(total >= 4000);
    // 50 swaps end on `a`.
    assert_eq!(geo.mmdb_status().build_epoch, Some(V1));
    assert_eq!(
        lookup_answer(&geo, rt.handle(), ip("203.0.113.200")).as_deref(),
        Some("DE")
    );
    let text = w.metrics.render();
    assert!(
        text.contains("geo_mmdb_reloads_total{result=\"success\"} 50"),
        "{text}"
    );
}

#[tokio::test]
async fn a_truncated_file_dropped_in_place_keeps_the_old_database_serving() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    let good = mmdb::country_bytes(&mmdb::demo_countries(), V2);
    mmdb::write_atomically(&w.country_path(), &good[..good.len() / 2]);
    let err = geo.reload().expect_err("a truncated file is rejected");
    assert!(!err.chain().is_empty());
    let status = geo.mmdb_status();
    assert_eq!(status.state, MmdbState::Loaded);
    assert_eq!(status.build_epoch, Some(V1));
    assert!(status.error.is_some(), "the failure is reported");
    assert_eq!(
        geo.lookup(ip("198.51.100.1"))
            .await
            .and_then(|i| i.country_code)
            .as_deref(),
        Some("US")
    );
    assert!(
        w.metrics
            .render()
            .contains("geo_mmdb_reloads_total{result=\"failure\"} 1")
    );
}

/// Country code of `ip` from memory or the MMDB (never the network), off any runtime.
fn local_answer(geo: &GeoCache, ip: IpAddr) -> Option<String> {
    geo.lookup_batch_local(&[ip])
        .remove(&ip)
        .and_then(|i| i.country_code.clone())
}

#[test]
fn a_slow_copy_over_the_file_in_place_never_crashes_lookups_and_the_previous_build_serves_until_it_is_complete()
 {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let w = rt.block_on(World::new());
    let old = mmdb::country_bytes(&mmdb::many_networks(4096, "DE", "Germany"), V1);
    let new = mmdb::country_bytes(&mmdb::many_networks(4096, "NL", "Netherlands"), V2);
    assert!(old.len() > 16 * 4096, "several pages: {}", old.len());
    mmdb::write_atomically(&w.country_path(), &old);
    let geo = w.cache(&[("BANGUI_GEOIP_CACHE_MAX_ENTRIES", "1000")]);
    let swapped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Each thread walks distinct IPs of the 4096 networks, so nearly every lookup misses the
    // memory tier and reads the database.
    let threads: Vec<_> = (0..3u32)
        .map(|t| {
            let (geo, swapped, stop) = (Arc::clone(&geo), Arc::clone(&swapped), Arc::clone(&stop));
            std::thread::spawn(move || {
                let (mut answered, mut wrong) = (0u64, Vec::new());
                let mut i = t;
                while !stop.load(std::sync::atomic::Ordering::Acquire) {
                    i = i.wrapping_add(7919);
                    let net = i % 4096;
                    let target = IpAddr::V4(std::net::Ipv4Addr::new(
                        16,
                        ((net >> 8) & 0xff) as u8,
                        (net & 0xff) as u8,
                        (i >> 12) as u8,
                    ));
                    match local_answer(&geo, target).as_deref() {
                        Some("DE") => answered += 1,
                        // The new build only after the main thread announced the swap.
                        Some("NL") if swapped.load(std::sync::atomic::Ordering::Acquire) => {
                            answered += 1
                        }
                        other => wrong.push(format!("{target}: {other:?}")),
                    }
                }
                (answered, wrong)
            })
        })
        .collect();
    let mut refused = 0;
    mmdb::overwrite_in_place_slowly(&w.country_path(), &new, new.len() / 8 + 1, |written| {
        std::thread::sleep(Duration::from_millis(20));
        if written < new.len() {
            // What the watcher would do if its quiet period passed mid-copy.
            assert!(
                geo.reload().is_err(),
                "a partial file ({written} bytes) is refused"
            );
            refused += 1;
            let status = geo.mmdb_status();
            assert_eq!(status.state, MmdbState::Loaded);
            assert_eq!(status.build_epoch, Some(V1));
            assert!(
                status.error.is_some() && status.error_at.is_some(),
                "{status:?}"
            );
        }
    });
    assert_eq!(refused, 8, "the truncation and 7 partial states");
    std::thread::sleep(Duration::from_millis(50));
    swapped.store(true, std::sync::atomic::Ordering::Release);
    geo.reload().expect("the complete file validates");
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, std::sync::atomic::Ordering::Release);
    for t in threads {
        let (answered, wrong) = t.join().expect("a lookup thread survived");
        assert!(wrong.is_empty(), "{:?}", &wrong[..wrong.len().min(5)]);
        assert!(answered > 100, "{answered}");
    }
    let status = geo.mmdb_status();
    assert_eq!((status.build_epoch, status.error), (Some(V2), None));
    assert_eq!(local_answer(&geo, ip("16.0.9.9")).as_deref(), Some("NL"));
}

#[test]
fn a_file_truncated_in_place_and_left_so_keeps_the_previous_data_for_uncached_ips() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let w = rt.block_on(World::new());
    mmdb::write_atomically(
        &w.country_path(),
        &mmdb::country_bytes(&mmdb::many_networks(256, "DE", "Germany"), V1),
    );
    let geo = w.cache(&[]);
    assert_eq!(local_answer(&geo, ip("16.0.1.1")).as_deref(), Some("DE"));
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(w.country_path())
        .expect("truncate in place");
    // Never looked up before: answered by the database held in memory, not the file.
    assert_eq!(local_answer(&geo, ip("16.0.200.1")).as_deref(), Some("DE"));
    assert!(geo.reload().is_err());
    assert_eq!(local_answer(&geo, ip("16.0.201.1")).as_deref(), Some("DE"));
    let status = geo.mmdb_status();
    assert_eq!(
        (status.state, status.build_epoch),
        (MmdbState::Loaded, Some(V1))
    );
    assert!(
        status
            .error
            .is_some_and(|e| e.contains("GeoLite2-Country.mmdb"))
    );
}

#[tokio::test]
async fn garbage_truncated_empty_or_deleted_files_never_replace_a_good_database_and_a_valid_one_does()
 {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    let good = mmdb::country_bytes(&mmdb::demo_countries(), V2);
    let mut garbage = vec![0x5au8; 4096];
    garbage.extend_from_slice(b"\xab\xcd\xefMaxMind.com not really metadata");
    let broken: [(&str, Vec<u8>); 4] = [
        ("garbage", garbage),
        ("truncated", good[..good.len() - 40].to_vec()),
        ("half", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in broken {
        std::fs::write(w.country_path(), &bytes).expect("write in place");
        let err = geo.reload().expect_err(what);
        let status = geo.mmdb_status();
        assert_eq!(status.state, MmdbState::Loaded, "{what}");
        assert_eq!(status.build_epoch, Some(V1), "{what}");
        assert_eq!(
            status.error.as_deref(),
            Some(err.chain().as_str()),
            "{what}"
        );
        assert!(
            status
                .error_at
                .as_deref()
                .is_some_and(|t| t > "2020-" && t.ends_with('Z')),
            "{what}"
        );
        assert_eq!(
            local_answer(&geo, ip("198.51.100.77")).as_deref(),
            Some("US"),
            "{what}"
        );
    }
    std::fs::remove_file(w.country_path()).expect("delete");
    assert!(geo.reload().is_err());
    let status = geo.mmdb_status();
    assert_eq!(
        (status.state, status.build_epoch),
        (MmdbState::Loaded, Some(V1))
    );
    assert!(status.error.is_some_and(|e| e.contains("does not exist")));
    assert_eq!(local_answer(&geo, ip("192.0.2.77")).as_deref(), Some("GB"));

    mmdb::write_atomically(&w.country_path(), &good);
    let status = geo
        .reload()
        .expect("a valid file of another build replaces it");
    assert_eq!(status.build_epoch, Some(V2));
    assert_eq!((status.error, status.error_at), (None, None));
    assert!(
        w.metrics
            .render()
            .contains("geo_mmdb_reloads_total{result=\"failure\"} 5")
    );
}

#[tokio::test]
async fn a_refused_file_is_a_typed_error_that_keeps_its_cause() {
    use bangui::geo::mmdb::MmdbError;
    use std::error::Error as _;
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    std::fs::write(w.country_path(), b"not a database").expect("write in place");
    let err = geo.reload().expect_err("garbage");
    assert!(matches!(err, MmdbError::Invalid { .. }), "{err:?}");
    let cause = err.source().expect("the decoder's error is kept");
    assert!(err.chain().ends_with(&cause.to_string()), "{}", err.chain());
    std::fs::remove_file(w.country_path()).expect("delete");
    assert!(matches!(geo.reload(), Err(MmdbError::Missing { .. })));
    mmdb::write_atomically(&w.country_path(), &mmdb::asn_bytes(&mmdb::demo_asns(), V2));
    assert!(matches!(geo.reload(), Err(MmdbError::WrongType { .. })));
    let unconfigured = GeoCache::new(
        &Settings::from_sources(&Sources::default())
            .expect("defaults")
            .geoip,
        w.pool.clone(),
        Arc::clone(&w.metrics),
    );
    assert!(matches!(
        unconfigured.reload(),
        Err(MmdbError::NotConfigured)
    ));
}

#[tokio::test]
async fn a_database_of_the_wrong_type_is_rejected() {
    let w = World::new().await;
    w.write_demo(V1);
    let geo = w.cache(&[]);
    mmdb::write_atomically(&w.country_path(), &mmdb::asn_bytes(&mmdb::demo_asns(), V2));
    assert!(geo.reload().is_err());
    assert_eq!(geo.mmdb_status().build_epoch, Some(V1));
}

async fn wait_for_epoch(geo: &GeoCache, epoch: u64) -> bool {
    for _ in 0..200 {
        if geo.mmdb_status().build_epoch == Some(epoch) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn the_watcher_loads_a_file_that_appears_later_and_picks_up_replacements() {
    let w = World::new().await;
    let geo = w.cache(&[]);
    assert_eq!(geo.mmdb_status().state, MmdbState::Absent);
    let watcher = MmdbWatcher::start(Arc::clone(&geo), Duration::from_millis(100));
    w.write_demo(V1);
    assert!(wait_for_epoch(&geo, V1).await, "{:?}", geo.mmdb_status());
    w.write_demo(V2);
    assert!(wait_for_epoch(&geo, V2).await, "{:?}", geo.mmdb_status());
    // Unrelated files in the directory do not matter.
    std::fs::write(w.dir.path().join("notes.txt"), b"hello").expect("write");
    watcher.stop().await;
    w.write_demo(V1 + 5);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        geo.mmdb_status().build_epoch,
        Some(V2),
        "a stopped watcher reloads nothing"
    );
}
