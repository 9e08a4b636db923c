//! Write-behind persistence of the geo cache: the dirty set of new answers, the flush that
//! writes it (with the queued `last_seen` refreshes) in one transaction, and the warm load of
//! recent rows into memory at start-up. A lookup never writes to the database.
//!
//! Invariants:
//! - An answer is in the dirty set from the moment it enters memory until a flush committed it;
//!   a failed flush puts every taken row and touch back (a newer answer for the same IP taken
//!   meanwhile wins), so nothing is lost, only written later.
//! - A row of the dirty set is written with its `last_seen`; a touched key that is also dirty
//!   is written once, as a row.
//! - The warm load never replaces an answer already in memory (those are at least as fresh)
//!   and stops at the tier's bound. Rows of another MMDB build load as [`STALE`]: served
//!   again only after a re-resolve on access.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use sqlx::SqlitePool;

use crate::db::geo_cache as repo;
use crate::domain::{GeoInfo, GeoSource};
use crate::geo::key::{IpKey, KeyHasherBuilder};

use super::memory::{MemoryTier, STALE, locked};
use super::remote::IPAPI_TTL;

type DirtyMap = HashMap<IpKey, Option<Arc<GeoInfo>>, KeyHasherBuilder>;

pub struct WriteBehind {
    db: SqlitePool,
    /// Results (or negatives) waiting for the flush job; taken as a whole by the flush.
    dirty: Mutex<DirtyMap>,
}

impl WriteBehind {
    pub fn new(db: SqlitePool) -> Self {
        Self {
            db,
            dirty: Mutex::new(HashMap::with_hasher(KeyHasherBuilder::new())),
        }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.db
    }

    /// Queues one answer (or negative) for the next flush.
    pub fn mark(&self, key: IpKey, info: Option<Arc<GeoInfo>>) {
        locked(&self.dirty).insert(key, info);
    }

    /// Queues many answers under one lock.
    pub fn mark_all(&self, rows: Vec<(IpKey, Option<Arc<GeoInfo>>)>) {
        if !rows.is_empty() {
            locked(&self.dirty).extend(rows);
        }
    }

    /// Rows waiting for the flush.
    pub fn pending(&self) -> usize {
        locked(&self.dirty).len()
    }

    /// Writes the dirty set and the touch queue of `memory` in one transaction; returns the
    /// number of result rows written. On failure everything is queued again.
    pub async fn flush(&self, memory: &MemoryTier) -> Result<usize, sqlx::Error> {
        let touched_keys = memory.take_touched();
        let taken: DirtyMap = std::mem::take(&mut *locked(&self.dirty));
        memory.untouch(taken.keys().chain(touched_keys.iter()));
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
            Ok(()) => Ok(taken.len()),
            Err(e) => {
                let written = taken.len();
                {
                    let mut dirty = locked(&self.dirty);
                    for (key, info) in taken {
                        dirty.entry(key).or_insert(info);
                    }
                }
                memory.requeue_touched(touched_keys);
                tracing::debug!(rows = written, "geo cache flush failed; rows stay queued");
                Err(e)
            }
        }
    }

    /// Loads the most recently seen rows into `memory` (at most its bound). `version` is the
    /// serving country build (0: none, then every MMDB row is taken as current) and
    /// `generation` the one its entries are valid for. Returns the number loaded.
    pub async fn warm(
        &self,
        memory: &MemoryTier,
        version: u64,
        generation: u32,
    ) -> Result<usize, sqlx::Error> {
        let rows = repo::load_recent(&self.db, memory.max_entries()).await?;
        let mut loaded = 0;
        for row in rows {
            let (Some(info), Ok(ip)) = (row.info, row.ip.parse::<IpAddr>()) else {
                continue;
            };
            let validity = match info.source {
                GeoSource::Mmdb if version == 0 || info.db_version == Some(version) => generation,
                GeoSource::Mmdb => STALE,
                GeoSource::Ipapi => memory.expiring(IPAPI_TTL),
            };
            if memory.insert_vacant(IpKey::of(ip), Arc::new(info), validity) {
                loaded += 1;
            }
            if memory.entries() >= memory.max_entries() {
                break;
            }
        }
        Ok(loaded)
    }
}
