//! `GeoCache`: the one service that owns all geolocation state, built once at start-up and
//! injected through the application state. This file holds the lookup order — memory, then the
//! local MMDB, then (only when `geoip.allow_http_fallback` is on) ip-api.com — and the public
//! methods production code calls; each part lives in a module of its own:
//! [`memory`] (bounded map, eviction, touch queue), [`databases`] (MMDB readers, versioning,
//! reload), [`persist`] (dirty set, flush, warm load), [`remote`] (single-flight ip-api),
//! [`stats`] and [`public_ip`]. It never writes to the database on a lookup and knows nothing
//! about HTTP routes or the scheduler.
//!
//! Invariants across the parts:
//! - A batch reads the generation and the readers once, so its answers come from one build.
//! - Every answer that enters memory from the MMDB also enters the dirty set (the flush
//!   persists it); negative answers do so only for public IPs.
//! - Start-up order: [`GeoCache::re_resolve_unresolved`] waits until [`GeoCache::load_from_db`]
//!   has finished (or failed, or was dropped), so the first re-resolve run works on a warm
//!   memory tier instead of resolving rows the warm load is about to bring in. The start-up
//!   calls `load_from_db` once, in the background; without it, re-resolve waits forever.

mod databases;
mod memory;
mod persist;
mod public_ip;
mod remote;
mod stats;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use tokio::sync::{broadcast, watch};

use crate::config::GeoipSettings;
use crate::db::geo_cache as repo;
use crate::domain::GeoInfo;
use crate::metrics::Metrics;

use super::key::{IpKey, KeyHasherBuilder};
use super::mmdb::{MmdbError, MmdbStatus};
use super::model::{ReResolveOutcome, ReloadFailure};
use databases::{Databases, NetMemo, Readers};
use memory::MemoryTier;
use persist::WriteBehind;
pub use public_ip::is_public;
use remote::{IPAPI_TTL, SingleFlight};

/// How long a negative result (not found, fallback failure) is served from memory.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(300);
/// Batches with more distinct IPs than this leave the async worker (`block_in_place`) while
/// the memory and MMDB passes run, so other tasks on a multi-threaded runtime move on.
const BLOCKING_BATCH: usize = 5_000;

pub struct GeoCache {
    dbs: Databases,
    memory: MemoryTier,
    store: WriteBehind,
    remote: Option<SingleFlight>,
    /// Memory-tier misses (no metric series exists for them).
    misses: AtomicU64,
    metrics: Arc<Metrics>,
    /// `true` once the warm load has ended (see the start-up order in the module docs).
    warmed: watch::Sender<bool>,
    /// Refused reloads, for whoever listens (the event bus); dropped when nobody does.
    reload_failures: broadcast::Sender<ReloadFailure>,
}

/// Opens the warm-up gate when the warm load ends, however it ends.
struct WarmedOnDrop<'a>(&'a watch::Sender<bool>);

impl Drop for WarmedOnDrop<'_> {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

impl GeoCache {
    /// Opens the configured MMDB files (missing ones are reported by [`Self::mmdb_status`],
    /// not fatal). No other I/O.
    pub fn new(settings: &GeoipSettings, db: SqlitePool, metrics: Arc<Metrics>) -> Self {
        let remote = if settings.allow_http_fallback {
            tracing::warn!(
                base_url = %settings.ipapi_base_url,
                "geoip.allow_http_fallback is on: IPs the MMDB cannot resolve will leave this host over plain HTTP to ip-api"
            );
            Some(SingleFlight::new(&settings.ipapi_base_url))
        } else {
            None
        };
        Self {
            dbs: Databases::open(settings, &metrics),
            memory: MemoryTier::new(settings.cache_max_entries),
            store: WriteBehind::new(db),
            remote,
            misses: AtomicU64::new(0),
            metrics,
            warmed: watch::channel(false).0,
            reload_failures: broadcast::channel(16).0,
        }
    }

    /// Every refused reload from now on (the file watcher's, SIGHUP's and the API's alike).
    pub fn reload_failures(&self) -> broadcast::Receiver<ReloadFailure> {
        self.reload_failures.subscribe()
    }

    /// State of the country database, for health and stats.
    pub fn mmdb_status(&self) -> MmdbStatus {
        self.dbs.country_status()
    }

    /// Whether IPs may be sent to ip-api.
    pub fn http_fallback_enabled(&self) -> bool {
        self.remote.is_some()
    }

    /// Paths of the configured database files (for the watcher).
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        self.dbs.paths()
    }

    /// Re-reads the configured database file(s). A file that fails validation leaves the old
    /// reader serving; the error is logged, counted and shown by [`Self::mmdb_status`]. Returns
    /// the country database's state.
    ///
    /// When the country database's build changes, negative answers are forgotten: the new
    /// build may know those addresses (the archive's re-geolocation relies on this).
    pub fn reload(&self) -> Result<MmdbStatus, MmdbError> {
        let before = self.dbs.generation();
        let status = self.dbs.reload(&self.metrics, &|failure| {
            // An error only means nobody listens.
            let _ = self.reload_failures.send(failure);
        })?;
        if self.dbs.generation() != before {
            self.memory.forget_negatives();
            self.refresh_gauges();
        }
        Ok(status)
    }

    /// One IP: memory, MMDB, then ip-api if allowed. `None` when nothing knows it.
    pub async fn lookup(&self, ip: IpAddr) -> Option<GeoInfo> {
        let ip = ip.to_canonical();
        let key = IpKey::of(ip);
        let generation = self.dbs.generation();
        match self.probe_counted(key, generation) {
            Some(Some(info)) => return Some(info.as_ref().clone()),
            Some(None) => return None,
            None => {}
        }
        let started = Instant::now();
        let readers = self.dbs.readers();
        let out = match readers.resolve(ip, None) {
            Some(info) => {
                self.metrics.geo_lookups.mmdb_hit.inc();
                self.memory
                    .insert(key, Some(Arc::clone(&info)), generation, generation);
                self.store.mark(key, Some(Arc::clone(&info)));
                Some(info.as_ref().clone())
            }
            None => {
                if readers.country.is_some() {
                    self.metrics.geo_lookups.mmdb_miss.inc();
                }
                if self.fallback_allowed(ip) {
                    let found = self.resolve_remote(&[ip]).await;
                    found.get(&ip).and_then(|i| i.as_deref().cloned())
                } else {
                    self.store_negative(ip);
                    None
                }
            }
        };
        self.metrics
            .geo_lookup_duration
            .observe(started.elapsed().as_secs_f64());
        out
    }

    /// Many IPs at once: the path lists and maps use. IPs of one network share one `Arc`.
    /// Unresolvable IPs are absent; keys are canonical IPs. Memory and MMDB passes run in tight
    /// synchronous loops (metrics and the dirty set are updated once per batch); only the
    /// ip-api remainder awaits.
    pub async fn lookup_batch_shared(&self, ips: &[IpAddr]) -> HashMap<IpAddr, Arc<GeoInfo>> {
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let (mut out, remote) = if ips.len() > BLOCKING_BATCH && multi_thread {
            tokio::task::block_in_place(|| self.batch_local(ips))
        } else {
            self.batch_local(ips)
        };
        if !remote.is_empty() {
            let started = Instant::now();
            let found = self.resolve_remote(&remote).await;
            self.metrics
                .geo_lookup_duration
                .observe(started.elapsed().as_secs_f64());
            out.extend(found.into_iter().filter_map(|(ip, info)| Some((ip, info?))));
        }
        out
    }

    /// Memory and MMDB only, never the network: the archive sync geolocates each new batch
    /// with this so that an ip-api outage or rate limit cannot stall it. IPs left unresolved
    /// are absent; the archive's re-geolocation job retries them through
    /// [`Self::lookup_batch_shared`] (which may ask ip-api).
    pub fn lookup_batch_local(&self, ips: &[IpAddr]) -> HashMap<IpAddr, Arc<GeoInfo>> {
        self.batch_local(ips).0
    }

    /// Memory only, without copying the result: the cheapest read. Never resolves.
    pub fn cached_shared(&self, ip: IpAddr) -> Option<Arc<GeoInfo>> {
        self.probe_counted(IpKey::of(ip), self.dbs.generation())
            .flatten()
    }

    /// The synchronous part of [`Self::lookup_batch_shared`]: the answers so far and the IPs
    /// left for ip-api.
    fn batch_local(&self, ips: &[IpAddr]) -> (HashMap<IpAddr, Arc<GeoInfo>>, Vec<IpAddr>) {
        let generation = self.dbs.generation();
        let mut out: HashMap<IpAddr, Arc<GeoInfo>> = HashMap::with_capacity(ips.len());
        let mut missing: Vec<(IpAddr, IpKey)> = Vec::new();
        let mut hits = 0u64;
        for ip in ips {
            let ip = ip.to_canonical();
            // A repeated IP that already has an answer costs one probe of `out`.
            let std::collections::hash_map::Entry::Vacant(slot) = out.entry(ip) else {
                continue;
            };
            let key = IpKey::of(ip);
            match self
                .memory
                .probe(key, generation, |info| info.map(Arc::clone))
            {
                Some(Some(info)) => {
                    hits += 1;
                    slot.insert(info);
                }
                Some(None) => hits += 1,
                None => missing.push((ip, key)),
            }
        }
        self.metrics.geo_lookups.memory_hit.inc_by(hits);
        let mut remote = Vec::new();
        if missing.is_empty() {
            return (out, remote);
        }
        // Key order dedupes repeated misses and walks the MMDB trie with better locality.
        missing.sort_unstable_by_key(|(_, key)| *key);
        missing.dedup_by_key(|(_, key)| *key);
        self.misses
            .fetch_add(missing.len() as u64, Ordering::Relaxed);
        let started = Instant::now();
        let readers = self.dbs.readers();
        let mut dirty: Vec<(IpKey, Option<Arc<GeoInfo>>)> = Vec::with_capacity(missing.len());
        let (mut found, mut not_found) = (0u64, 0u64);
        let negative = self.memory.expiring(NEGATIVE_TTL);
        let mut memo = NetMemo::with_hasher(KeyHasherBuilder::new());
        for (ip, key) in missing {
            match readers.resolve(ip, Some(&mut memo)) {
                Some(info) => {
                    found += 1;
                    out.insert(ip, Arc::clone(&info));
                    self.memory
                        .insert(key, Some(Arc::clone(&info)), generation, generation);
                    dirty.push((key, Some(info)));
                }
                None => {
                    not_found += 1;
                    if self.fallback_allowed(ip) {
                        remote.push(ip);
                    } else if is_public(ip) {
                        self.memory.insert(key, None, negative, generation);
                        dirty.push((key, None));
                    }
                }
            }
        }
        self.store.mark_all(dirty);
        let l = &self.metrics.geo_lookups;
        l.mmdb_hit.inc_by(found);
        if readers.country.is_some() {
            l.mmdb_miss.inc_by(not_found);
        }
        self.metrics
            .geo_lookup_duration
            .observe(started.elapsed().as_secs_f64());
        (out, remote)
    }

    /// The memory tier plus the hit and miss counters: `Some(answer)` on a hit (`None` inside:
    /// negative), `None` on a miss.
    fn probe_counted(&self, key: IpKey, generation: u32) -> Option<Option<Arc<GeoInfo>>> {
        let probe = self
            .memory
            .probe(key, generation, |info| info.map(Arc::clone));
        match probe {
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => self.metrics.geo_lookups.memory_hit.inc(),
        }
        probe
    }

    /// MMDB lookup through the serving readers; a found result goes to memory and the dirty
    /// set. Returns whether the IP was found.
    fn resolve_local(&self, ip: IpAddr, readers: &Readers, generation: u32) -> bool {
        if readers.country.is_none() {
            return false;
        }
        let Some(info) = readers.resolve(ip, None) else {
            self.metrics.geo_lookups.mmdb_miss.inc();
            return false;
        };
        self.metrics.geo_lookups.mmdb_hit.inc();
        let key = IpKey::of(ip);
        self.memory
            .insert(key, Some(Arc::clone(&info)), generation, generation);
        self.store.mark(key, Some(info));
        true
    }

    fn fallback_allowed(&self, ip: IpAddr) -> bool {
        self.remote.is_some() && is_public(ip)
    }

    /// A negative result: [`NEGATIVE_TTL`] in memory, and a NULL row for the re-resolve job
    /// (private and reserved addresses are never persisted).
    fn store_negative(&self, ip: IpAddr) {
        if !is_public(ip) {
            return;
        }
        let key = IpKey::of(ip);
        let validity = self.memory.expiring(NEGATIVE_TTL);
        self.memory
            .insert(key, None, validity, self.dbs.generation());
        self.store.mark(key, None);
    }

    /// ip-api for IPs the MMDB did not know (see [`remote`]); answers are kept in memory for
    /// [`IPAPI_TTL`], failures and unknowns as negatives. Every IP of `ips` is in the answer.
    async fn resolve_remote(&self, ips: &[IpAddr]) -> HashMap<IpAddr, Option<Arc<GeoInfo>>> {
        let Some(remote) = &self.remote else {
            return HashMap::new();
        };
        remote
            .resolve(
                ips,
                &self.metrics,
                |ip| self.memory.peek(ip),
                |ip, info| match info {
                    Some(info) => self.memory.insert(
                        IpKey::of(ip),
                        Some(Arc::clone(info)),
                        self.memory.expiring(IPAPI_TTL),
                        self.dbs.generation(),
                    ),
                    None => self.store_negative(ip),
                },
            )
            .await
    }

    /// Writes the dirty set and the pending `last_seen` refreshes in one transaction; returns
    /// the number of result rows written. On failure everything stays queued.
    pub async fn flush_dirty(&self) -> Result<usize, sqlx::Error> {
        let result = self.store.flush(&self.memory).await;
        self.refresh_gauges();
        result
    }

    /// Deletes stored rows not seen for `retention_days` before `now` (epoch seconds); returns
    /// how many. Memory keeps its entries (they age out through eviction).
    pub async fn delete_stale(&self, retention_days: u32, now: i64) -> Result<u64, sqlx::Error> {
        let cutoff = now - i64::from(retention_days) * 86_400;
        crate::db::geo_cache::delete_stale(self.store.pool(), cutoff).await
    }

    /// Warms memory with the most recently seen rows (at most `cache_max_entries`). Rows of an
    /// older MMDB are loaded too and re-resolved on access. Returns the number loaded. When it
    /// ends, re-resolve runs may start (see the module docs).
    pub async fn load_from_db(&self) -> Result<usize, sqlx::Error> {
        let _gate = WarmedOnDrop(&self.warmed);
        let loaded = self
            .store
            .warm(&self.memory, self.dbs.version(), self.dbs.generation())
            .await;
        self.refresh_gauges();
        loaded
    }

    /// Retries negative rows and rows of an older MMDB: MMDB first, then ip-api if allowed.
    /// Waits for the warm load to end first. Results are written at once (one flush). `resolved` counts retried IPs that now have a
    /// country.
    pub async fn re_resolve_unresolved(&self) -> Result<ReResolveOutcome, sqlx::Error> {
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = self.warmed.subscribe().wait_for(|warmed| *warmed).await;
        let candidates =
            repo::retry_candidates(self.store.pool(), self.dbs.country_epoch()).await?;
        let total = candidates.len();
        let mut resolved = 0;
        let mut remote = Vec::new();
        let generation = self.dbs.generation();
        let readers = self.dbs.readers();
        for text in candidates {
            let Ok(ip) = text.parse::<IpAddr>() else {
                continue;
            };
            let ip = ip.to_canonical();
            self.memory.remove_negative(IpKey::of(ip));
            if self.resolve_local(ip, &readers, generation) {
                resolved += 1;
            } else if self.fallback_allowed(ip) {
                remote.push(ip);
            } else {
                self.store_negative(ip);
            }
        }
        if !remote.is_empty() {
            let found = self.resolve_remote(&remote).await;
            resolved += found.values().filter(|v| v.is_some()).count();
        }
        self.flush_dirty().await?;
        Ok(ReResolveOutcome { resolved, total })
    }
}
