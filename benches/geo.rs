//! Benchmarks of the geolocation path on a synthetic MMDB the size of GeoLite2-Country
//! (~500,000 networks): MMDB misses with full decode and with the per-record memo, memory
//! hits, `lookup_batch_shared` of 100,000 distinct IPs, a flush of 100,000
//! dirty rows, the cost of the lookup metrics, and (printed at the end) resident memory with
//! 1,000,000 cached entries. Caches built for a cold iteration are dropped outside the timing
//! (`iter_batched_ref`): tearing down 100,000 entries is not part of a lookup or a flush.
//! Run: `cargo bench --bench geo`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/it/support/mmdb.rs"]
mod mmdb;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bangui::config::{Settings, Sources};
use bangui::geo::GeoCache;
use bangui::geo::mmdb::{MmdbKind, open_validated};
use bangui::metrics::Metrics;
use criterion::{BatchSize, Criterion, Throughput};

const EPOCH: u64 = 1_700_000_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct Fixture {
    _dir: tempfile::TempDir,
    mmdb: std::path::PathBuf,
    pool: sqlx::SqlitePool,
    rt: tokio::runtime::Runtime,
}

impl Fixture {
    fn cache(&self, max_entries: usize) -> GeoCache {
        let mut env = BTreeMap::new();
        env.insert(
            "BANGUI_GEOIP_DB_PATH".into(),
            self.mmdb.display().to_string(),
        );
        env.insert(
            "BANGUI_GEOIP_CACHE_MAX_ENTRIES".into(),
            max_entries.to_string(),
        );
        let settings = Settings::from_sources(&Sources { file: None, env }).expect("settings");
        GeoCache::new(
            &settings.geoip,
            self.pool.clone(),
            Arc::new(Metrics::new().expect("metrics")),
        )
    }

    fn clear_table(&self) {
        self.rt
            .block_on(sqlx::query("DELETE FROM geo_cache").execute(&self.pool))
            .expect("clear");
    }
}

fn main() {
    let shape = mmdb::Synthetic::geolite2_country_sized();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("synthetic-country.mmdb");
    let started = Instant::now();
    let bytes = mmdb::synthetic_country_bytes(&shape, EPOCH);
    std::fs::write(&path, &bytes).expect("write mmdb");
    eprintln!(
        "synthetic MMDB: {} networks, {:.1} MB, generated in {:.1?}",
        shape.v4 + shape.v6,
        bytes.len() as f64 / 1e6,
        started.elapsed()
    );
    drop(bytes);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pool = rt
        .block_on(bangui::db::connect(
            &dir.path().join("bangui.db"),
            Duration::from_secs(5),
        ))
        .expect("db");
    let fx = Fixture {
        mmdb: path.clone(),
        pool,
        rt,
        _dir: dir,
    };
    let ips = shape.sample_ips(100_000);
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let loaded = open_validated(MmdbKind::Country, &path).expect("valid mmdb");
    {
        let mut g = c.benchmark_group("mmdb_miss");
        g.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        g.bench_function("full_decode", |b| {
            b.iter(|| {
                i = (i + 1) % ips.len();
                black_box(loaded.lookup_country_decoded(ips[i]).ok().flatten())
            })
        });
        let mut i = 0usize;
        g.bench_function("record_memo", |b| {
            b.iter(|| {
                i = (i + 1) % ips.len();
                black_box(loaded.lookup_country(ips[i]).ok().flatten())
            })
        });
        g.finish();
    }

    {
        let geo = fx.cache(1_000_000);
        fx.rt.block_on(geo.lookup_batch_shared(&ips));
        let mut g = c.benchmark_group("cache_hit");
        g.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        g.bench_function("cached_shared", |b| {
            b.iter(|| {
                i = (i + 1) % ips.len();
                black_box(geo.cached_shared(ips[i]))
            })
        });
        let mut i = 0usize;
        g.bench_function("lookup_async_owned", |b| {
            b.iter(|| {
                i = (i + 1) % ips.len();
                black_box(fx.rt.block_on(geo.lookup(ips[i])))
            })
        });
        g.finish();
    }

    {
        let metrics = Metrics::new().expect("metrics");
        let mut g = c.benchmark_group("metrics_overhead");
        g.throughput(Throughput::Elements(1));
        g.bench_function("counter_inc", |b| {
            b.iter(|| metrics.geo_lookups.memory_hit.inc())
        });
        g.bench_function("timed_histogram_observe", |b| {
            b.iter(|| {
                let t = Instant::now();
                metrics
                    .geo_lookup_duration
                    .observe(black_box(t.elapsed().as_secs_f64()))
            })
        });
        g.finish();
    }

    {
        let mut g = c.benchmark_group("bulk");
        g.sample_size(10);
        g.throughput(Throughput::Elements(ips.len() as u64));
        g.bench_function("lookup_batch_shared_100k_distinct_cold", |b| {
            b.iter_batched_ref(
                || fx.cache(1_000_000),
                |geo| black_box(fx.rt.block_on(geo.lookup_batch_shared(&ips)).len()),
                BatchSize::PerIteration,
            )
        });
        g.bench_function("lookup_batch_shared_100k_distinct_warm", |b| {
            let geo = fx.cache(1_000_000);
            fx.rt.block_on(geo.lookup_batch_shared(&ips));
            b.iter(|| black_box(fx.rt.block_on(geo.lookup_batch_shared(&ips)).len()))
        });
        g.bench_function("flush_100k_dirty_rows", |b| {
            b.iter_batched_ref(
                || {
                    fx.clear_table();
                    let geo = fx.cache(1_000_000);
                    fx.rt.block_on(geo.lookup_batch_shared(&ips));
                    geo
                },
                |geo| black_box(fx.rt.block_on(geo.flush_dirty()).expect("flush")),
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }
    c.final_summary();

    // Resident memory of 1,000,000 cached entries (after the flush emptied the dirty set).
    fx.clear_table();
    let million: Vec<IpAddr> = shape.sample_ips(1_000_000);
    let before = rss_kib();
    let geo = fx.cache(1_000_000);
    fx.rt.block_on(geo.lookup_batch_shared(&million));
    let with_dirty = rss_kib();
    fx.rt.block_on(geo.flush_dirty()).expect("flush");
    let after = rss_kib();
    let stats = geo.stats();
    eprintln!(
        "resident memory for {} cached entries: +{:.1} MiB with the dirty set, +{:.1} MiB after the flush (VmRSS {} -> {} KiB)",
        stats.entries,
        (with_dirty.saturating_sub(before)) as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / 1024.0,
        before,
        after
    );
}
