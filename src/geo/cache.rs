//! `GeoCache`: the one service that owns all geolocation state, built once at start-up and
//! injected through the application state. Lookup order: memory, then the local MMDB, then
//! (only when `geoip.allow_http_fallback` is on) ip-api.com. It keeps the bounded memory tier,
//! the dirty set and the `last_seen` refreshes that the flush job persists, the single-flight
//! table for HTTP lookups, and the database readers. It never writes to the database on a
//! lookup and knows nothing about HTTP routes or the scheduler.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;
use sqlx::SqlitePool;
use tokio::sync::watch;

use crate::config::GeoipSettings;
use crate::db::geo_cache as repo;
use crate::metrics::Metrics;

use super::ipapi::{IpApiClient, MAX_BATCH};
use super::key::{IpKey, KeyHasherBuilder};
use super::mmdb::{LoadedMmdb, MmdbError, MmdbKind, MmdbSlot, MmdbStatus, geo_info, network_text};
use super::model::{GeoStats, ReResolveOutcome};
use crate::domain::{GeoInfo, GeoSource};

/// How long a negative result (not found, fallback failure) is served from memory.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(300);
/// How long an ip-api answer is served from memory.
pub const IPAPI_TTL: Duration = Duration::from_secs(300);
const IPAPI_TIMEOUT: Duration = Duration::from_secs(5);
/// Batches with more distinct IPs than this leave the async worker (`block_in_place`) while
/// the memory and MMDB passes run, so other tasks on a multi-threaded runtime move on.
const BLOCKING_BATCH: usize = 5_000;

/// `Entry::validity` with this bit set: the entry expires at the cache-clock second in the
/// other 31 bits. Without it: the MMDB generation the entry is valid for.
const EXPIRES: u32 = 1 << 31;
/// A generation no database ever has: the entry is re-resolved on its next access.
const STALE: u32 = 0;
/// `Entry::state` bit: already queued for a `last_seen` refresh since the last flush. The other
/// 31 bits hold the cache tick of the last access (eviction order).
const TOUCHED: u32 = 1 << 31;

/// One IP in memory: 16 bytes next to its 16-byte key. IPs of one network share the `Arc`.
struct Entry {
    /// `None`: negative result.
    info: Option<Arc<GeoInfo>>,
    /// See [`EXPIRES`] and [`STALE`].
    validity: u32,
    /// See [`TOUCHED`].
    state: AtomicU32,
}

enum Probe {
    Hit(Arc<GeoInfo>),
    Negative,
    Miss,
}

type Shared = Arc<HashMap<IpAddr, Option<Arc<GeoInfo>>>>;
type DirtyMap = HashMap<IpKey, Option<Arc<GeoInfo>>, KeyHasherBuilder>;
/// Per-batch sharing of results: (network address, prefix length, ASN record offset or MAX).
type NetMemo = HashMap<(IpKey, u8, usize), Arc<GeoInfo>, KeyHasherBuilder>;

pub struct GeoCache {
    country: MmdbSlot,
    asn: MmdbSlot,
    /// Build epoch of the serving country database, 0 when none.
    version: AtomicU64,
    /// Bumped whenever the serving country database changes; MMDB entries of another
    /// generation are misses (read on every hit instead of the entry's `db_version`).
    generation: AtomicU32,
    /// Origin of the coarse seconds clock that expiring entries are stamped with.
    clock: Instant,
    memory: DashMap<IpKey, Entry, KeyHasherBuilder>,
    len: AtomicUsize,
    max_entries: usize,
    /// Results (or negatives) waiting for the flush job; taken as a whole by the flush.
    dirty: Mutex<DirtyMap>,
    /// IPs whose `last_seen` waits for the flush job (each at most once per flush, guarded by
    /// the entry's [`TOUCHED`] bit).
    touched: Mutex<Vec<IpKey>>,
    tick: AtomicU32,
    evicting: AtomicBool,
    evictions: AtomicU64,
    misses: AtomicU64,
    ipapi: Option<IpApiClient>,
    inflight: DashMap<IpAddr, watch::Receiver<Option<Shared>>>,
    db: SqlitePool,
    metrics: Arc<Metrics>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GeoCache {
    /// Opens the configured MMDB files (missing ones are reported by [`Self::mmdb_status`],
    /// not fatal). No other I/O.
    pub fn new(settings: &GeoipSettings, db: SqlitePool, metrics: Arc<Metrics>) -> Self {
        let country = MmdbSlot::open_kind(MmdbKind::Country, settings.db_path.as_deref());
        let asn = MmdbSlot::open_kind(MmdbKind::Asn, settings.asn_db_path.as_deref());
        for (slot, what) in [(&country, "country"), (&asn, "ASN")] {
            let status = slot.status();
            if let Some(err) = &status.error {
                tracing::error!(database = what, error = %err, "cannot open GeoIP database");
            } else if status.state != super::MmdbState::Loaded
                && let Some(path) = &status.path
            {
                tracing::warn!(database = what, path = %path, "GeoIP database file not found; lookups are degraded until it appears");
            }
        }
        let ipapi = if settings.allow_http_fallback {
            tracing::warn!(
                base_url = %settings.ipapi_base_url,
                "geoip.allow_http_fallback is on: IPs the MMDB cannot resolve will leave this host over plain HTTP to ip-api"
            );
            Some(IpApiClient::new(&settings.ipapi_base_url, IPAPI_TIMEOUT))
        } else {
            None
        };
        let version = country.build_epoch().unwrap_or(0);
        metrics
            .geo_mmdb_build_epoch
            .set(i64::try_from(version).unwrap_or(i64::MAX));
        Self {
            country,
            asn,
            version: AtomicU64::new(version),
            generation: AtomicU32::new(1),
            clock: Instant::now(),
            memory: DashMap::with_hasher(KeyHasherBuilder::new()),
            len: AtomicUsize::new(0),
            max_entries: settings.cache_max_entries.max(1),
            dirty: Mutex::new(HashMap::with_hasher(KeyHasherBuilder::new())),
            touched: Mutex::new(Vec::new()),
            tick: AtomicU32::new(0),
            evicting: AtomicBool::new(false),
            evictions: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            ipapi,
            inflight: DashMap::new(),
            db,
            metrics,
        }
    }

    /// State of the country database, for health and stats.
    pub fn mmdb_status(&self) -> MmdbStatus {
        self.country.status()
    }

    /// State of the optional ASN database.
    pub fn asn_status(&self) -> MmdbStatus {
        self.asn.status()
    }

    /// Whether IPs may be sent to ip-api.
    pub fn http_fallback_enabled(&self) -> bool {
        self.ipapi.is_some()
    }

    // ---------------------------------------------------------------- clocks and stamps

    /// Seconds since the cache was built (31 bits are plenty: 68 years).
    fn now_secs(&self) -> u32 {
        u32::try_from(self.clock.elapsed().as_secs())
            .unwrap_or(!EXPIRES)
            .min(!EXPIRES)
    }

    /// `validity` of an entry that expires `ttl` from now.
    fn expiring(&self, ttl: Duration) -> u32 {
        let secs = u32::try_from(ttl.as_secs()).unwrap_or(!EXPIRES);
        EXPIRES | self.now_secs().saturating_add(secs).min(!EXPIRES)
    }

    fn generation(&self) -> u32 {
        self.generation.load(Ordering::Acquire)
    }

    fn current_tick(&self) -> u32 {
        self.tick.load(Ordering::Relaxed) & !TOUCHED
    }

    /// Whether an entry may still be served (`generation` of the serving database).
    fn is_valid(&self, entry: &Entry, generation: u32) -> bool {
        if entry.validity & EXPIRES != 0 {
            self.now_secs() < entry.validity & !EXPIRES
        } else {
            entry.validity == generation
        }
    }

    // ---------------------------------------------------------------- lookups

    /// One IP: memory, MMDB, then ip-api if allowed. `None` when nothing knows it.
    pub async fn lookup(&self, ip: IpAddr) -> Option<GeoInfo> {
        let ip = ip.to_canonical();
        let key = IpKey::of(ip);
        let generation = self.generation();
        match self.probe_counted(key, generation) {
            Probe::Hit(info) => return Some(info.as_ref().clone()),
            Probe::Negative => return None,
            Probe::Miss => {}
        }
        let started = Instant::now();
        let country = self.country.current();
        let asn = self.asn.current();
        let found = country
            .as_deref()
            .and_then(|db| self.resolve_with(db, asn.as_deref(), ip, None));
        let out = match found {
            Some(info) => {
                self.metrics.geo_lookups.mmdb_hit.inc();
                self.insert(key, Some(Arc::clone(&info)), generation);
                locked(&self.dirty).insert(key, Some(Arc::clone(&info)));
                Some(info.as_ref().clone())
            }
            None => {
                if country.is_some() {
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

    /// Many IPs at once: the only path lists and maps use. Unresolvable IPs are absent; keys
    /// are canonical IPs. Memory and MMDB passes run in tight synchronous loops (metrics and
    /// the dirty set are updated once per batch); only the ip-api remainder awaits.
    pub async fn lookup_batch(&self, ips: &[IpAddr]) -> HashMap<IpAddr, GeoInfo> {
        self.batch(ips, |info| info.as_ref().clone()).await
    }

    /// [`Self::lookup_batch`] without copying the answers: IPs of one network share one
    /// `Arc`. Several times cheaper for big batches, where the owned variant's cost is the
    /// four string allocations per IP.
    pub async fn lookup_batch_shared(&self, ips: &[IpAddr]) -> HashMap<IpAddr, Arc<GeoInfo>> {
        self.batch(ips, Arc::clone).await
    }

    /// Memory and MMDB only, never the network: the archive sync geolocates each new batch
    /// with this so that an ip-api outage or rate limit cannot stall it. IPs left unresolved
    /// are absent; the archive's re-geolocation job retries them through
    /// [`Self::lookup_batch_shared`] (which may ask ip-api).
    pub fn lookup_batch_local(&self, ips: &[IpAddr]) -> HashMap<IpAddr, Arc<GeoInfo>> {
        self.batch_local(ips, &Arc::clone).0
    }

    async fn batch<V>(
        &self,
        ips: &[IpAddr],
        make: impl Fn(&Arc<GeoInfo>) -> V,
    ) -> HashMap<IpAddr, V> {
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let (mut out, remote) = if ips.len() > BLOCKING_BATCH && multi_thread {
            tokio::task::block_in_place(|| self.batch_local(ips, &make))
        } else {
            self.batch_local(ips, &make)
        };
        if !remote.is_empty() {
            let started = Instant::now();
            let found = self.resolve_remote(&remote).await;
            self.metrics
                .geo_lookup_duration
                .observe(started.elapsed().as_secs_f64());
            for (ip, info) in found {
                if let Some(info) = info {
                    out.insert(ip, make(&info));
                }
            }
        }
        out
    }

    /// The synchronous part of [`Self::lookup_batch`]: the answers so far and the IPs left for
    /// ip-api.
    fn batch_local<V>(
        &self,
        ips: &[IpAddr],
        make: &impl Fn(&Arc<GeoInfo>) -> V,
    ) -> (HashMap<IpAddr, V>, Vec<IpAddr>) {
        let generation = self.generation();
        let mut out: HashMap<IpAddr, V> = HashMap::with_capacity(ips.len());
        let mut missing: Vec<(IpAddr, IpKey)> = Vec::new();
        let mut hits = 0u64;
        for ip in ips {
            let ip = ip.to_canonical();
            // A repeated IP that already has an answer costs one probe of `out`.
            let std::collections::hash_map::Entry::Vacant(slot) = out.entry(ip) else {
                continue;
            };
            let key = IpKey::of(ip);
            match self.probe_with(key, generation, |info| info.map(make)) {
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
        let country = self.country.current();
        let asn = self.asn.current();
        let mut dirty: Vec<(IpKey, Option<Arc<GeoInfo>>)> = Vec::with_capacity(missing.len());
        let (mut found, mut not_found) = (0u64, 0u64);
        let negative = self.expiring(NEGATIVE_TTL);
        let mut memo = NetMemo::with_hasher(KeyHasherBuilder::new());
        for (ip, key) in missing {
            let resolved = country
                .as_deref()
                .and_then(|db| self.resolve_with(db, asn.as_deref(), ip, Some(&mut memo)));
            match resolved {
                Some(info) => {
                    found += 1;
                    out.insert(ip, make(&info));
                    self.insert(key, Some(Arc::clone(&info)), generation);
                    dirty.push((key, Some(info)));
                }
                None => {
                    not_found += 1;
                    if self.fallback_allowed(ip) {
                        remote.push(ip);
                    } else if is_public(ip) {
                        self.insert(key, None, negative);
                        dirty.push((key, None));
                    }
                }
            }
        }
        if !dirty.is_empty() {
            locked(&self.dirty).extend(dirty);
        }
        let l = &self.metrics.geo_lookups;
        l.mmdb_hit.inc_by(found);
        if country.is_some() {
            l.mmdb_miss.inc_by(not_found);
        }
        self.metrics
            .geo_lookup_duration
            .observe(started.elapsed().as_secs_f64());
        (out, remote)
    }

    /// Memory only: never does I/O, never resolves. Misses are absent.
    pub fn lookup_cached_only(&self, ips: &[IpAddr]) -> HashMap<IpAddr, GeoInfo> {
        let generation = self.generation();
        let mut out = HashMap::with_capacity(ips.len());
        for ip in ips {
            let ip = ip.to_canonical();
            if let Probe::Hit(info) = self.probe_counted(IpKey::of(ip), generation) {
                out.insert(ip, info.as_ref().clone());
            }
        }
        out
    }

    /// Memory only, without copying the result: the cheapest read (benchmarks, hot loops).
    pub fn cached_shared(&self, ip: IpAddr) -> Option<Arc<GeoInfo>> {
        match self.probe_counted(IpKey::of(ip), self.generation()) {
            Probe::Hit(info) => Some(info),
            _ => None,
        }
    }

    /// [`Self::probe`] plus the hit and miss counters.
    fn probe_counted(&self, key: IpKey, generation: u32) -> Probe {
        let probe = self.probe(key, generation);
        match probe {
            Probe::Miss => {
                self.misses.fetch_add(1, Ordering::Relaxed);
            }
            _ => self.metrics.geo_lookups.memory_hit.inc(),
        }
        probe
    }

    /// The memory tier (uncounted). Expired and outdated entries are misses. A hit records
    /// the access for eviction and, once per flush, queues the `last_seen` refresh.
    fn probe(&self, key: IpKey, generation: u32) -> Probe {
        match self.probe_with(key, generation, |info| info.map(Arc::clone)) {
            Some(Some(info)) => Probe::Hit(info),
            Some(None) => Probe::Negative,
            None => Probe::Miss,
        }
    }

    /// [`Self::probe`] that reads the answer under the map guard with `read` (`None` given:
    /// negative entry); `None` returned: miss.
    fn probe_with<T>(
        &self,
        key: IpKey,
        generation: u32,
        read: impl FnOnce(Option<&Arc<GeoInfo>>) -> Option<T>,
    ) -> Option<Option<T>> {
        let entry = self.memory.get(&key)?;
        if !self.is_valid(&entry, generation) {
            return None;
        }
        let answer = read(entry.info.as_ref());
        let want = TOUCHED | self.current_tick();
        if entry.state.load(Ordering::Relaxed) != want {
            let before = entry.state.swap(want, Ordering::Relaxed);
            drop(entry);
            if before & TOUCHED == 0 {
                locked(&self.touched).push(key);
            }
        }
        Some(answer)
    }

    /// MMDB lookup of a canonical IP in the given readers (no memory, no metrics). With a
    /// `memo`, IPs of one network (and ASN record) share one `Arc<GeoInfo>`: the network text
    /// and the strings are built once per network.
    fn resolve_with(
        &self,
        db: &LoadedMmdb,
        asn: Option<&LoadedMmdb>,
        ip: IpAddr,
        memo: Option<&mut NetMemo>,
    ) -> Option<Arc<GeoInfo>> {
        let (record, (addr, prefix)) = match db.lookup_country_network(ip) {
            Ok(found) => found?,
            Err(e) => {
                tracing::warn!(%ip, error = %e, "MMDB lookup failed");
                return None;
            }
        };
        let asn = asn.and_then(|a| a.lookup_asn_record(ip).ok().flatten());
        let build = || {
            Arc::new(geo_info(
                &record,
                network_text(addr, prefix),
                asn.as_ref().map(|(_, r)| r.as_ref()),
                db.build_epoch,
            ))
        };
        let Some(memo) = memo else {
            return Some(build());
        };
        let key = (
            IpKey::of(addr),
            prefix,
            asn.as_ref().map_or(usize::MAX, |(offset, _)| *offset),
        );
        Some(Arc::clone(memo.entry(key).or_insert_with(build)))
    }

    /// MMDB lookup through the serving readers; a found result goes to memory and the dirty
    /// set. Returns whether the IP was found.
    fn resolve_local(&self, ip: IpAddr) -> bool {
        let generation = self.generation();
        let Some(db) = self.country.current() else {
            return false;
        };
        let asn = self.asn.current();
        let Some(info) = self.resolve_with(&db, asn.as_deref(), ip, None) else {
            self.metrics.geo_lookups.mmdb_miss.inc();
            return false;
        };
        self.metrics.geo_lookups.mmdb_hit.inc();
        let key = IpKey::of(ip);
        self.insert(key, Some(Arc::clone(&info)), generation);
        locked(&self.dirty).insert(key, Some(info));
        true
    }

    fn fallback_allowed(&self, ip: IpAddr) -> bool {
        self.ipapi.is_some() && is_public(ip)
    }

    /// A negative result: 5 minutes in memory, and a NULL row for the re-resolve job
    /// (private and reserved addresses are never persisted).
    fn store_negative(&self, ip: IpAddr) {
        if !is_public(ip) {
            return;
        }
        let key = IpKey::of(ip);
        self.insert(key, None, self.expiring(NEGATIVE_TTL));
        locked(&self.dirty).insert(key, None);
    }

    fn insert(&self, key: IpKey, info: Option<Arc<GeoInfo>>, validity: u32) {
        let entry = Entry {
            info,
            validity,
            state: AtomicU32::new(TOUCHED | self.current_tick()),
        };
        if self.memory.insert(key, entry).is_none()
            && self.len.fetch_add(1, Ordering::Relaxed) + 1 > self.max_entries
        {
            self.evict();
        }
    }

    /// Removes about 1/16 of the capacity, least recently accessed first (access recency is
    /// kept per flush interval). One evictor at a time; others go on.
    fn evict(&self) {
        if self.evicting.swap(true, Ordering::Acquire) {
            return;
        }
        let target = (self.max_entries / 16).max(1);
        let generation = self.generation();
        let mut ages: Vec<(u32, IpKey)> = Vec::with_capacity(self.len.load(Ordering::Relaxed));
        for e in self.memory.iter() {
            let age = if self.is_valid(e.value(), generation) {
                (e.state.load(Ordering::Relaxed) & !TOUCHED).saturating_add(1)
            } else {
                0
            };
            ages.push((age, *e.key()));
        }
        let n = target.min(ages.len());
        if n > 0 && n < ages.len() {
            ages.select_nth_unstable_by_key(n, |(age, _)| *age);
        }
        let mut removed = 0u64;
        for (_, key) in ages.iter().take(n) {
            if self.memory.remove(key).is_some() {
                self.len.fetch_sub(1, Ordering::Relaxed);
                removed += 1;
            }
        }
        self.evictions.fetch_add(removed, Ordering::Relaxed);
        self.evicting.store(false, Ordering::Release);
    }

    /// ip-api for IPs the MMDB did not know, with single-flight: an IP already being asked
    /// for is waited on, not asked again. Every IP of `ips` is in the answer.
    async fn resolve_remote(&self, ips: &[IpAddr]) -> HashMap<IpAddr, Option<Arc<GeoInfo>>> {
        let mut result: HashMap<IpAddr, Option<Arc<GeoInfo>>> = HashMap::new();
        let Some(client) = &self.ipapi else {
            return result;
        };
        let (tx, rx) = watch::channel::<Option<Shared>>(None);
        let mut mine = Vec::new();
        let mut waits: Vec<(IpAddr, watch::Receiver<Option<Shared>>)> = Vec::new();
        for ip in ips {
            match self.inflight.entry(*ip) {
                MapEntry::Occupied(e) => waits.push((*ip, e.get().clone())),
                MapEntry::Vacant(v) => {
                    v.insert(rx.clone());
                    mine.push(*ip);
                }
            }
        }
        let guard = InflightGuard {
            map: &self.inflight,
            ips: mine.clone(),
            rx: rx.clone(),
        };
        // Another leader may have finished between the memory probe and registration.
        mine.retain(|ip| match self.peek(*ip) {
            Some(info) => {
                result.insert(*ip, info);
                false
            }
            None => true,
        });
        let mut answers: HashMap<IpAddr, Option<Arc<GeoInfo>>> = HashMap::new();
        for chunk in mine.chunks(MAX_BATCH) {
            let outcome = if let [one] = chunk {
                client.lookup(*one).await.map(|o| {
                    o.map(|info| HashMap::from([(*one, info)]))
                        .unwrap_or_default()
                })
            } else {
                client.lookup_batch(chunk).await
            };
            match outcome {
                Ok(mut found) => {
                    for ip in chunk {
                        match found.remove(ip) {
                            Some(info) => {
                                self.metrics.geo_lookups.ipapi_hit.inc();
                                let info = Arc::new(info);
                                self.insert(
                                    IpKey::of(*ip),
                                    Some(Arc::clone(&info)),
                                    self.expiring(IPAPI_TTL),
                                );
                                answers.insert(*ip, Some(info));
                            }
                            None => {
                                self.metrics.geo_lookups.ipapi_miss.inc();
                                self.store_negative(*ip);
                                answers.insert(*ip, None);
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, ips = chunk.len(), "ip-api fallback failed");
                    for ip in chunk {
                        self.metrics.geo_lookups.ipapi_error.inc();
                        self.store_negative(*ip);
                        answers.insert(*ip, None);
                    }
                }
            }
        }
        let answers = Arc::new(answers);
        let _ = tx.send(Some(Arc::clone(&answers)));
        drop(guard);
        for (ip, info) in answers.iter() {
            result.insert(*ip, info.clone());
        }
        for (ip, mut waiting) in waits {
            let shared = waiting
                .wait_for(|v| v.is_some())
                .await
                .ok()
                .and_then(|v| v.clone());
            let info = shared.and_then(|m| m.get(&ip).cloned().flatten());
            result.insert(ip, info);
        }
        result
    }

    /// Memory state of an IP without counting or touching: `Some(answer)` when known and not
    /// expired.
    fn peek(&self, ip: IpAddr) -> Option<Option<Arc<GeoInfo>>> {
        let entry = self.memory.get(&IpKey::of(ip))?;
        if entry.validity & EXPIRES != 0 && self.now_secs() >= entry.validity & !EXPIRES {
            return None;
        }
        Some(entry.info.clone())
    }

    // ---------------------------------------------------------------- persistence

    /// Writes the dirty set and the pending `last_seen` refreshes in one transaction; returns
    /// the number of result rows written. On failure everything stays queued.
    pub async fn flush_dirty(&self) -> Result<usize, sqlx::Error> {
        self.tick.fetch_add(1, Ordering::Relaxed);
        let taken: DirtyMap = std::mem::take(&mut *locked(&self.dirty));
        let touched_keys: Vec<IpKey> = std::mem::take(&mut *locked(&self.touched));
        for key in taken.keys().chain(touched_keys.iter()) {
            if let Some(entry) = self.memory.get(key) {
                entry.state.fetch_and(!TOUCHED, Ordering::Relaxed);
            }
        }
        let mut touched: Vec<String> = touched_keys
            .iter()
            .filter(|key| !taken.contains_key(key))
            .map(|key| key.addr().to_string())
            .collect();
        let mut rows: Vec<repo::UpsertRow<'_>> = taken
            .iter()
            .map(|(key, info)| repo::UpsertRow {
                ip: key.addr().to_string(),
                info: info.as_deref(),
            })
            .collect();
        // In key order, SQLite appends to the primary-key B-tree page by page instead of
        // jumping across (and spilling) its page cache.
        rows.sort_unstable_by(|a, b| a.ip.cmp(&b.ip));
        touched.sort_unstable();
        let result = repo::flush(&self.db, &rows, &touched, crate::db::now_epoch()).await;
        drop(rows);
        match result {
            Ok(()) => {
                self.refresh_gauges();
                Ok(taken.len())
            }
            Err(e) => {
                let written = taken.len();
                {
                    let mut dirty = locked(&self.dirty);
                    for (key, info) in taken {
                        dirty.entry(key).or_insert(info);
                    }
                }
                locked(&self.touched).extend(touched_keys);
                self.refresh_gauges();
                tracing::debug!(rows = written, "geo cache flush failed; rows stay queued");
                Err(e)
            }
        }
    }

    /// Warms memory with the most recently seen rows (at most `cache_max_entries`). Rows of an
    /// older MMDB are loaded too and re-resolved on access. Returns the number loaded.
    pub async fn load_from_db(&self) -> Result<usize, sqlx::Error> {
        let rows = repo::load_recent(&self.db, self.max_entries).await?;
        let generation = self.generation();
        let version = self.version.load(Ordering::Relaxed);
        let mut loaded = 0;
        for row in rows {
            let (Some(info), Ok(ip)) = (row.info, row.ip.parse::<IpAddr>()) else {
                continue;
            };
            let key = IpKey::of(ip);
            let validity = match info.source {
                GeoSource::Mmdb if version == 0 || info.db_version == Some(version) => generation,
                GeoSource::Mmdb => STALE,
                GeoSource::Ipapi => self.expiring(IPAPI_TTL),
            };
            let entry = Entry {
                info: Some(Arc::new(info)),
                validity,
                state: AtomicU32::new(0),
            };
            if let MapEntry::Vacant(v) = self.memory.entry(key) {
                v.insert(entry);
                self.len.fetch_add(1, Ordering::Relaxed);
                loaded += 1;
            }
            if self.len.load(Ordering::Relaxed) >= self.max_entries {
                break;
            }
        }
        self.refresh_gauges();
        Ok(loaded)
    }

    /// Retries negative rows and rows of an older MMDB: MMDB first, then ip-api if allowed.
    /// Results are written at once (one flush). `resolved` counts retried IPs that now have a
    /// country.
    pub async fn re_resolve_unresolved(&self) -> Result<ReResolveOutcome, sqlx::Error> {
        let version = self.country.build_epoch();
        let candidates = repo::retry_candidates(&self.db, version).await?;
        let total = candidates.len();
        let mut resolved = 0;
        let mut remote = Vec::new();
        for text in candidates {
            let Ok(ip) = text.parse::<IpAddr>() else {
                continue;
            };
            let ip = ip.to_canonical();
            let key = IpKey::of(ip);
            if self
                .memory
                .remove_if(&key, |_, e| e.info.is_none())
                .is_some()
            {
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            if self.resolve_local(ip) {
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

    /// Forgets every negative entry in memory so the next access retries at once.
    pub fn clear_negative(&self) {
        let mut removed = 0usize;
        self.memory.retain(|_, e| {
            let keep = e.info.is_some();
            if !keep {
                removed += 1;
            }
            keep
        });
        self.len.fetch_sub(removed, Ordering::Relaxed);
        self.refresh_gauges();
    }

    /// Re-opens the configured database file(s). A file that fails validation leaves the old
    /// reader serving; the error is logged and counted. Returns the country database's state.
    pub fn reload(&self) -> Result<MmdbStatus, MmdbError> {
        if self.asn.path().is_some() {
            match self.asn.reload() {
                Ok(status) => {
                    self.metrics.geo_mmdb_reload_success.inc();
                    log_reloaded(&status);
                }
                Err(e) => {
                    self.metrics.geo_mmdb_reload_failure.inc();
                    tracing::error!(error = %e.chain(), "GeoIP ASN database reload failed; keeping the old one");
                }
            }
        }
        match self.country.reload() {
            Ok(status) => {
                let version = status.build_epoch.unwrap_or(0);
                if self.version.swap(version, Ordering::AcqRel) != version {
                    // Skip STALE when the counter wraps.
                    let _ =
                        self.generation
                            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| {
                                Some(g.wrapping_add(1).max(STALE + 1))
                            });
                }
                self.metrics
                    .geo_mmdb_build_epoch
                    .set(i64::try_from(version).unwrap_or(i64::MAX));
                self.metrics.geo_mmdb_reload_success.inc();
                log_reloaded(&status);
                Ok(status)
            }
            Err(e) => {
                self.metrics.geo_mmdb_reload_failure.inc();
                tracing::error!(error = %e.chain(), "GeoIP database reload failed; keeping the old one");
                Err(e)
            }
        }
    }

    /// Paths of the configured database files (for the watcher).
    pub fn watched_paths(&self) -> Vec<std::path::PathBuf> {
        [self.country.path(), self.asn.path()]
            .into_iter()
            .flatten()
            .map(std::path::Path::to_path_buf)
            .collect()
    }

    pub fn stats(&self) -> GeoStats {
        let negative_entries = self.memory.iter().filter(|e| e.info.is_none()).count();
        self.refresh_gauges();
        let l = &self.metrics.geo_lookups;
        GeoStats {
            entries: self.len.load(Ordering::Relaxed),
            negative_entries,
            dirty_entries: locked(&self.dirty).len(),
            touched_entries: locked(&self.touched).len(),
            max_entries: self.max_entries,
            hits: l.memory_hit.get(),
            misses: self.misses.load(Ordering::Relaxed),
            mmdb_lookups: l.mmdb_hit.get() + l.mmdb_miss.get(),
            ipapi_lookups: l.ipapi_hit.get() + l.ipapi_miss.get() + l.ipapi_error.get(),
            evictions: self.evictions.load(Ordering::Relaxed),
            http_fallback_enabled: self.ipapi.is_some(),
            mmdb: self.country.status(),
            asn_mmdb: self.asn.status(),
        }
    }

    /// Brings the size gauges up to date (called by flush, stats and `GET /metrics`).
    pub fn refresh_gauges(&self) {
        let m = &self.metrics;
        m.geo_cache_entries
            .set(i64::try_from(self.len.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
        let dirty = locked(&self.dirty).len();
        m.geo_cache_dirty_entries
            .set(i64::try_from(dirty).unwrap_or(i64::MAX));
    }
}

fn log_reloaded(status: &MmdbStatus) {
    tracing::info!(
        path = status.path.as_deref().unwrap_or(""),
        database_type = status.database_type.as_deref().unwrap_or(""),
        build_epoch = status.build_epoch.unwrap_or(0),
        "GeoIP database reloaded"
    );
}

/// Removes the single-flight registrations of a leader even if its future is dropped.
struct InflightGuard<'a> {
    map: &'a DashMap<IpAddr, watch::Receiver<Option<Shared>>>,
    ips: Vec<IpAddr>,
    rx: watch::Receiver<Option<Shared>>,
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        for ip in &self.ips {
            self.map.remove_if(ip, |_, rx| rx.same_channel(&self.rx));
        }
    }
}

/// Whether an address can be located at all by a public service: private, loopback,
/// link-local, shared, documentation, multicast and unspecified ranges cannot.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || a >= 240
                || a == 0)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let first = s.first().copied().unwrap_or(0);
            let second = s.get(1).copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && second == 0x0db8))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn private_and_reserved_addresses_are_never_public() {
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "203.0.113.5",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "::ffff:9.9.9.9"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }
}
