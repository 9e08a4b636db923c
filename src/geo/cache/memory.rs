//! The memory tier of the geo cache: a bounded concurrent map from [`IpKey`] to a 16-byte
//! [`Entry`] (the shared answer, or none for a negative result, plus two packed words), with
//! approximate least-recently-used eviction and the queue of keys whose `last_seen` the flush
//! job refreshes. No I/O, no metrics, no knowledge of MMDB files or ip-api.
//!
//! Invariants the rest of the cache relies on:
//! - **Validity.** An entry is served only while [`MemoryTier::is_valid`] holds: an expiring
//!   entry (bit [`EXPIRES`] set in `validity`) until the cache-clock second in its other 31
//!   bits; any other entry only while its `validity` equals the generation of the serving
//!   country database. Generation [`STALE`] is never current, so a `STALE` entry is re-resolved
//!   on its first access.
//! - **Length.** `len` equals the number of entries in `map` whenever no insert or removal is in
//!   flight: every change of the map's cardinality goes through [`MemoryTier::insert`],
//!   [`MemoryTier::insert_vacant`], [`MemoryTier::remove_negative`] or the eviction, and each of
//!   them adjusts `len` by exactly the change it made, right after making it. Between the two
//!   steps `len` may lag by the number of operations in flight; it only decides when to evict
//!   and feeds the gauge, where that lag does not matter. It exists because `DashMap::len`
//!   locks every shard, too slow for the insert path.
//! - **Bound.** An insert that takes `len` past `max_entries` evicts about 1/16 of the capacity
//!   (one evictor at a time; concurrent inserts go on), so the map exceeds its bound by at most
//!   the inserts that race one eviction.
//! - **Touch queue.** A key is pushed on `touched` at most once between two
//!   [`MemoryTier::take_touched`] calls: the entry's [`TOUCHED`] bit is set when it is queued
//!   (and when it is inserted, since a new entry is persisted as dirty anyway) and cleared only
//!   by [`MemoryTier::untouch`] after the flush took the queue.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;

use crate::domain::GeoInfo;
use crate::geo::key::{IpKey, KeyHasherBuilder};

/// `Entry::validity` with this bit set: the entry expires at the cache-clock second in the
/// other 31 bits. Without it: the MMDB generation the entry is valid for.
pub const EXPIRES: u32 = 1 << 31;
/// A generation no database ever has: the entry is re-resolved on its next access.
pub const STALE: u32 = 0;
/// `Entry::state` bit: already queued for a `last_seen` refresh since the last flush. The other
/// 31 bits hold the cache tick of the last access (eviction order).
pub const TOUCHED: u32 = 1 << 31;

/// One IP in memory: 16 bytes next to its 16-byte key. IPs of one network share the `Arc`.
pub struct Entry {
    /// `None`: negative result.
    info: Option<Arc<GeoInfo>>,
    /// See [`EXPIRES`] and [`STALE`].
    validity: u32,
    /// See [`TOUCHED`].
    state: AtomicU32,
}

pub(crate) fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct MemoryTier {
    map: DashMap<IpKey, Entry, KeyHasherBuilder>,
    /// See the module documentation (**Length**).
    len: AtomicUsize,
    max_entries: usize,
    /// Origin of the coarse seconds clock that expiring entries are stamped with.
    clock: Instant,
    /// Advanced by each flush; an access stamps the entry with it (eviction order).
    tick: AtomicU32,
    /// Keys whose `last_seen` waits for the flush job (see **Touch queue**).
    touched: Mutex<Vec<IpKey>>,
    evicting: AtomicBool,
    evictions: AtomicU64,
}

impl MemoryTier {
    pub fn new(max_entries: usize) -> Self {
        Self {
            map: DashMap::with_hasher(KeyHasherBuilder::new()),
            len: AtomicUsize::new(0),
            max_entries: max_entries.max(1),
            clock: Instant::now(),
            tick: AtomicU32::new(0),
            touched: Mutex::new(Vec::new()),
            evicting: AtomicBool::new(false),
            evictions: AtomicU64::new(0),
        }
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Entries held (see **Length**).
    pub fn entries(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Entries evicted so far.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    /// Negative entries held (walks the map).
    pub fn negative_count(&self) -> usize {
        self.map.iter().filter(|e| e.info.is_none()).count()
    }

    /// Seconds since the tier was built (31 bits are plenty: 68 years).
    fn now_secs(&self) -> u32 {
        u32::try_from(self.clock.elapsed().as_secs())
            .unwrap_or(!EXPIRES)
            .min(!EXPIRES)
    }

    /// `validity` of an entry that expires `ttl` from now.
    pub fn expiring(&self, ttl: Duration) -> u32 {
        let secs = u32::try_from(ttl.as_secs()).unwrap_or(!EXPIRES);
        EXPIRES | self.now_secs().saturating_add(secs).min(!EXPIRES)
    }

    fn current_tick(&self) -> u32 {
        self.tick.load(Ordering::Relaxed) & !TOUCHED
    }

    /// Whether an entry may still be served while `generation` is the serving database's.
    fn is_valid(&self, entry: &Entry, generation: u32) -> bool {
        if entry.validity & EXPIRES != 0 {
            self.now_secs() < entry.validity & !EXPIRES
        } else {
            entry.validity == generation
        }
    }

    /// The answer for `key` read under the map guard with `read` (`None` given: negative
    /// entry); `None` returned: miss (absent, expired or of another generation). A hit records
    /// the access for eviction and, once per flush, queues the `last_seen` refresh.
    pub fn probe<T>(
        &self,
        key: IpKey,
        generation: u32,
        read: impl FnOnce(Option<&Arc<GeoInfo>>) -> Option<T>,
    ) -> Option<Option<T>> {
        let entry = self.map.get(&key)?;
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

    /// State of an IP without recording the access: `Some(answer)` when held and not expired
    /// (whatever its generation).
    pub fn peek(&self, ip: IpAddr) -> Option<Option<Arc<GeoInfo>>> {
        let entry = self.map.get(&IpKey::of(ip))?;
        if entry.validity & EXPIRES != 0 && self.now_secs() >= entry.validity & !EXPIRES {
            return None;
        }
        Some(entry.info.clone())
    }

    /// Inserts or replaces the entry of `key`; evicts when the bound is passed. `generation`
    /// is the serving one (for the eviction's notion of stale).
    pub fn insert(&self, key: IpKey, info: Option<Arc<GeoInfo>>, validity: u32, generation: u32) {
        let entry = Entry {
            info,
            validity,
            state: AtomicU32::new(TOUCHED | self.current_tick()),
        };
        if self.map.insert(key, entry).is_none()
            && self.len.fetch_add(1, Ordering::Relaxed) + 1 > self.max_entries
        {
            self.evict(generation);
        }
    }

    /// Inserts only when `key` is not held (a warm load never overrides a fresher answer) and
    /// the tier is not full. Returns whether it inserted.
    pub fn insert_vacant(&self, key: IpKey, info: Arc<GeoInfo>, validity: u32) -> bool {
        if self.entries() >= self.max_entries {
            return false;
        }
        let MapEntry::Vacant(slot) = self.map.entry(key) else {
            return false;
        };
        slot.insert(Entry {
            info: Some(info),
            validity,
            state: AtomicU32::new(0),
        });
        self.len.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Forgets every negative entry (a new database may know those addresses); returns how many.
    pub fn forget_negatives(&self) -> usize {
        let mut removed = 0usize;
        self.map.retain(|_, e| {
            let keep = e.info.is_some();
            removed += usize::from(!keep);
            keep
        });
        self.len.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Forgets the entry of `key` if it is negative, so that the next access retries.
    pub fn remove_negative(&self, key: IpKey) {
        if self.map.remove_if(&key, |_, e| e.info.is_none()).is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Removes about 1/16 of the capacity, least recently accessed first (access recency is
    /// kept per flush interval; invalid entries go first). One evictor at a time; others go on.
    fn evict(&self, generation: u32) {
        if self.evicting.swap(true, Ordering::Acquire) {
            return;
        }
        let target = (self.max_entries / 16).max(1);
        let mut ages: Vec<(u32, IpKey)> = Vec::with_capacity(self.entries());
        for e in self.map.iter() {
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
            if self.map.remove(key).is_some() {
                self.len.fetch_sub(1, Ordering::Relaxed);
                removed += 1;
            }
        }
        self.evictions.fetch_add(removed, Ordering::Relaxed);
        self.evicting.store(false, Ordering::Release);
    }

    /// Starts a new flush interval (eviction recency) and takes the touch queue.
    pub fn take_touched(&self) -> Vec<IpKey> {
        self.tick.fetch_add(1, Ordering::Relaxed);
        std::mem::take(&mut *locked(&self.touched))
    }

    /// Keys waiting in the touch queue.
    pub fn touched_len(&self) -> usize {
        locked(&self.touched).len()
    }

    /// Puts keys back on the touch queue after a failed flush (their bits are still clear
    /// only if [`Self::untouch`] ran; either way each key is queued once more at most).
    pub fn requeue_touched(&self, keys: Vec<IpKey>) {
        locked(&self.touched).extend(keys);
    }

    /// Clears the [`TOUCHED`] bit of the given keys, so that their next access queues them
    /// again.
    pub fn untouch<'a>(&self, keys: impl IntoIterator<Item = &'a IpKey>) {
        for key in keys {
            if let Some(entry) = self.map.get(key) {
                entry.state.fetch_and(!TOUCHED, Ordering::Relaxed);
            }
        }
    }

    /// The number of entries the map really holds (locks every shard; tests only).
    #[cfg(test)]
    fn counted_len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> Arc<GeoInfo> {
        Arc::new(GeoInfo {
            country_code: Some("DE".into()),
            country_name: None,
            geoname_id: None,
            continent: None,
            asn: None,
            org: None,
            network: None,
            source: crate::domain::GeoSource::Mmdb,
            db_version: Some(1),
        })
    }

    fn key(i: u32) -> IpKey {
        IpKey::of(IpAddr::V4(std::net::Ipv4Addr::from(i)))
    }

    #[test]
    fn the_length_counter_matches_the_map_after_concurrent_inserts_evictions_and_removals() {
        let tier = Arc::new(MemoryTier::new(500));
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let tier = Arc::clone(&tier);
                std::thread::spawn(move || {
                    for i in 0..5_000u32 {
                        let k = key((i * 4 + t) % 3_000);
                        match i % 5 {
                            0 => tier.insert(k, None, tier.expiring(Duration::from_secs(60)), 1),
                            1 => tier.remove_negative(k),
                            2 => {
                                tier.insert_vacant(k, info(), 1);
                            }
                            _ => tier.insert(k, Some(info()), 1, 1),
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("worker");
        }
        assert_eq!(tier.entries(), tier.counted_len());
        assert!(tier.evictions() > 0);
    }

    #[test]
    fn an_entry_of_another_generation_or_past_its_expiry_is_a_miss() {
        let tier = MemoryTier::new(10);
        tier.insert(key(1), Some(info()), 7, 7);
        tier.insert(key(2), Some(info()), STALE, 7);
        tier.insert(key(3), None, EXPIRES, 7); // expires at second 0: already past
        let read = |i: Option<&Arc<GeoInfo>>| i.map(Arc::clone);
        assert!(tier.probe(key(1), 7, read).is_some());
        assert!(tier.probe(key(1), 8, read).is_none());
        assert!(tier.probe(key(2), 7, read).is_none());
        assert!(tier.probe(key(3), 7, read).is_none());
    }

    #[test]
    fn an_accessed_key_is_queued_for_its_last_seen_once_per_flush() {
        let tier = MemoryTier::new(10);
        tier.insert(key(1), Some(info()), 1, 1);
        let read = |i: Option<&Arc<GeoInfo>>| i.map(Arc::clone);
        tier.probe(key(1), 1, read);
        assert_eq!(
            tier.touched_len(),
            0,
            "a new entry is persisted as dirty, not touched"
        );
        let taken = tier.take_touched();
        tier.untouch(&[key(1)]);
        assert!(taken.is_empty());
        for _ in 0..3 {
            tier.probe(key(1), 1, read);
        }
        assert_eq!(tier.take_touched(), vec![key(1)]);
    }
}
