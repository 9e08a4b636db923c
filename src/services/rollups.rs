//! `RollupStore`: the in-memory copy of `history_rollup` and the dashboard's precomputed
//! aggregates. Built once at start from the table (repaired from the archive first if the two
//! disagree); afterwards every archive writer applies, after its commit, exactly the cell
//! changes it committed. [`RollupStore::publish`] recomputes every (range, origin) aggregate on
//! the blocking pool and swaps it in; requests only read the published [`Snapshot`], so no
//! request ever sums cells, let alone archive rows.
//!
//! Invariants: the cells equal the table after every committed write (both change together,
//! under the archive's writer lock); `generation` grows with every change, so caches of
//! derived answers (the ban-list pages) know when they are stale. When the clock enters a new
//! hour the windows move: the first read that notices starts a background recomputation and
//! is answered from the previous snapshot meanwhile.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use arc_swap::ArcSwap;
use sqlx::SqlitePool;

use crate::db::{self, rollup};
use crate::domain::rollup::{Rollup, RollupDelta, WindowAggregate, hour_of};
use crate::domain::{Origin, TimeRange};

/// Aggregates of every (range, origin) at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The store's generation these were computed from.
    pub generation: u64,
    /// The hour the windows end with.
    pub hour: i64,
    pub windows: HashMap<(TimeRange, Origin), Arc<WindowAggregate>>,
}

impl Snapshot {
    pub fn window(&self, range: TimeRange, origin: Origin) -> Option<&Arc<WindowAggregate>> {
        self.windows.get(&(range, origin))
    }
}

pub struct RollupStore {
    cells: Mutex<Rollup>,
    snapshot: ArcSwap<Snapshot>,
    generation: AtomicU64,
    refreshing: AtomicBool,
    /// ISO code → English name, learned from geolocation answers.
    names: RwLock<BTreeMap<String, String>>,
}

impl RollupStore {
    /// An empty store (tests, and before the first load).
    pub fn empty() -> Self {
        Self {
            cells: Mutex::new(Rollup::default()),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            generation: AtomicU64::new(1),
            refreshing: AtomicBool::new(false),
            names: RwLock::new(BTreeMap::new()),
        }
    }

    /// Loads the cells (rebuilding the table from the archive when its sum disagrees with
    /// the archive's row count) and the country names known to the geo cache, and publishes
    /// the first snapshot.
    pub async fn load(pool: &SqlitePool) -> Result<Arc<Self>, sqlx::Error> {
        if !rollup::matches_archive(pool).await? {
            tracing::warn!("ban rollups disagree with the archive; rebuilding them");
            rollup::rebuild(pool).await?;
        }
        let deltas = rollup::load_all(pool).await?;
        let names = db::geo_cache::country_names(pool).await?;
        let store = Arc::new(Self::empty());
        store.apply(&deltas);
        store.learn_names(names);
        store.publish().await;
        Ok(store)
    }

    fn cells(&self) -> std::sync::MutexGuard<'_, Rollup> {
        self.cells.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Follows a committed change of the table.
    pub fn apply(&self, deltas: &[RollupDelta]) {
        if deltas.is_empty() {
            return;
        }
        let clamped = self.cells().apply(deltas);
        if clamped > 0 {
            tracing::error!(
                cells = clamped,
                "rollup change below zero; the in-memory copy was clamped"
            );
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Marks a committed archive change that moved no cell (a recorded lift), so that caches
    /// of derived answers (ban-list pages, top offenders) are recomputed.
    pub fn touch(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Follows a committed retention purge.
    pub fn drop_before(&self, hour: i64) {
        self.cells().drop_before(hour);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Changes with every applied change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Bans counted in memory (tests and health).
    pub fn total(&self) -> u64 {
        self.cells().total()
    }

    /// Remembers country names (code → English name).
    pub fn learn_names(&self, names: impl IntoIterator<Item = (String, String)>) {
        let mut known = self.names.write().unwrap_or_else(PoisonError::into_inner);
        for (code, name) in names {
            known.entry(code).or_insert(name);
        }
    }

    /// English name of a country code, when an answer carried one.
    pub fn country_name(&self, code: &str) -> Option<String> {
        self.names
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(code)
            .cloned()
    }

    /// Names of the given codes.
    pub fn country_names<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a String>,
    ) -> BTreeMap<String, String> {
        let known = self.names.read().unwrap_or_else(PoisonError::into_inner);
        codes
            .into_iter()
            .filter_map(|c| known.get(c).map(|n| (c.clone(), n.clone())))
            .collect()
    }

    fn compute(&self, now: i64) -> Snapshot {
        let generation = self.generation();
        let windows = self
            .cells()
            .aggregate(now)
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect();
        Snapshot {
            generation,
            hour: hour_of(now),
            windows,
        }
    }

    /// Recomputes every aggregate on the blocking pool and publishes it.
    pub async fn publish(self: &Arc<Self>) {
        let store = Arc::clone(self);
        let now = db::now_epoch();
        match tokio::task::spawn_blocking(move || store.compute(now)).await {
            Ok(snapshot) => self.snapshot.store(Arc::new(snapshot)),
            Err(e) => tracing::error!(error = %e, "computing the dashboard aggregates failed"),
        }
    }

    /// The published aggregates. When the clock has entered a new hour since, a
    /// recomputation starts in the background and this answer is the previous one.
    pub fn snapshot(self: &Arc<Self>) -> Arc<Snapshot> {
        let current = self.snapshot.load_full();
        let now = db::now_epoch();
        if current.hour != hour_of(now) && !self.refreshing.swap(true, Ordering::AcqRel) {
            let store = Arc::clone(self);
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    store.publish().await;
                    store.refreshing.store(false, Ordering::Release);
                });
            } else {
                self.refreshing.store(false, Ordering::Release);
            }
        }
        current
    }
}
