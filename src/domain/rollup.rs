//! Ban counts per hour: the cells the dashboard's aggregates are summed from, and the windows
//! they are summed over. Pure data and arithmetic; the table that persists the cells is
//! `db::rollup`, the shared in-memory copy is `services::rollups`.
//!
//! A cell counts the archived bans of one (host, hour, jail, origin, country); `country` is
//! `None` for bans whose IP is not (yet) geolocated. A dashboard window is a whole number of
//! hours that ends with the current hour, so every aggregate is an exact sum of cells and equals
//! a plain `GROUP BY` over the archive rows with `timeofban >= window.start`.
//!
//! [`Rollup::aggregate`] sums every range in one sweep over the cells of the longest window,
//! adding into dense per-(dimension, bucket) arrays (no hashing per cell), so its cost grows with
//! the number of cells, never with the number of archived rows.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::query::{Origin, TimeRange};

/// Seconds per cell.
pub const HOUR: i64 = 3_600;

/// Every dashboard range, longest first.
pub const RANGES: [TimeRange; 4] = [
    TimeRange::Year,
    TimeRange::Month,
    TimeRange::Week,
    TimeRange::Day,
];

/// The origin filters a window is aggregated for.
pub const ORIGINS: [Origin; 3] = [Origin::All, Origin::Selfblock, Origin::Blocklist];

/// The hour cell a ban time falls into.
pub fn hour_of(timeofban: i64) -> i64 {
    timeofban.div_euclid(HOUR)
}

/// The key of one cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub host: String,
    pub hour: i64,
    pub jail: String,
    /// `Selfblock` or `Blocklist`; never `All`.
    pub origin: Origin,
    pub country: Option<String>,
}

/// A change of one cell: bans added (positive) or removed (negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupDelta {
    pub key: RollupKey,
    pub bans: i64,
}

/// Sums changes per key, dropping keys whose changes cancel out.
pub fn merge_deltas(deltas: impl IntoIterator<Item = RollupDelta>) -> Vec<RollupDelta> {
    let mut sums: BTreeMap<RollupKey, i64> = BTreeMap::new();
    for d in deltas {
        *sums.entry(d.key).or_insert(0) += d.bans;
    }
    sums.into_iter()
        .filter(|(_, bans)| *bans != 0)
        .map(|(key, bans)| RollupDelta { key, bans })
        .collect()
}

/// The hours a range covers at `now`: `buckets` chart buckets of `bucket_seconds` from `start`
/// (hour-aligned). The last hour is the current one; the window never reaches into the future
/// by more than the rest of the current hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub bucket_seconds: i64,
    pub buckets: usize,
}

impl Window {
    pub fn of(range: TimeRange, now: i64) -> Window {
        let next_hour = (hour_of(now) + 1) * HOUR;
        Window {
            start: next_hour - range.seconds(),
            bucket_seconds: range.bucket_seconds(),
            buckets: usize::try_from(range.bucket_count()).unwrap_or(1).max(1),
        }
    }

    pub fn start_hour(&self) -> i64 {
        hour_of(self.start)
    }

    /// Chart bucket of an hour at or after the start.
    fn bucket(&self, hour: i64) -> usize {
        let i = (hour * HOUR - self.start) / self.bucket_seconds.max(1);
        usize::try_from(i).unwrap_or(0).min(self.buckets - 1)
    }
}

/// Counts of one slice of a window: every ban, or the bans of one country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slice {
    pub total: u64,
    pub jails: BTreeMap<String, u64>,
    /// One count per chart bucket.
    pub trend: Vec<u64>,
}

impl Slice {
    fn empty(buckets: usize) -> Slice {
        Slice {
            total: 0,
            jails: BTreeMap::new(),
            trend: vec![0; buckets],
        }
    }
}

/// Everything the dashboard shows for one (range, origin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowAggregate {
    pub window: Window,
    pub all: Slice,
    /// Per ISO country code.
    pub countries: BTreeMap<String, Slice>,
    /// Bans whose IP has no known country.
    pub unresolved: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Dim {
    host: Arc<str>,
    jail: Arc<str>,
    origin: Origin,
    country: Option<Arc<str>>,
}

/// The in-memory cells: `hours[hour]` lists (dimension id, bans) with bans > 0.
#[derive(Debug, Default, Clone)]
pub struct Rollup {
    dims: Vec<Dim>,
    dim_ids: HashMap<Dim, u32>,
    hours: BTreeMap<i64, Vec<(u32, u64)>>,
}

impl Rollup {
    fn dim_id(&mut self, key: &RollupKey) -> u32 {
        let dim = Dim {
            host: Arc::from(key.host.as_str()),
            jail: Arc::from(key.jail.as_str()),
            origin: key.origin,
            country: key.country.as_deref().map(Arc::from),
        };
        if let Some(id) = self.dim_ids.get(&dim) {
            return *id;
        }
        let id = u32::try_from(self.dims.len()).unwrap_or(u32::MAX);
        self.dims.push(dim.clone());
        self.dim_ids.insert(dim, id);
        id
    }

    /// Adds the changes. A cell that would go below zero is clamped to zero and reported by
    /// the return value (the number of such cells; 0 when the deltas match the cells).
    pub fn apply(&mut self, deltas: &[RollupDelta]) -> usize {
        let mut clamped = 0;
        for d in deltas {
            let id = self.dim_id(&d.key);
            let cells = self.hours.entry(d.key.hour).or_default();
            match cells.iter().position(|(dim, _)| *dim == id) {
                Some(i) => {
                    let now = i128::from(cells[i].1) + i128::from(d.bans);
                    if now <= 0 {
                        if now < 0 {
                            clamped += 1;
                        }
                        cells.swap_remove(i);
                    } else {
                        cells[i].1 = u64::try_from(now).unwrap_or(u64::MAX);
                    }
                }
                None if d.bans > 0 => cells.push((id, d.bans.unsigned_abs())),
                None => clamped += 1,
            }
            if cells.is_empty() {
                self.hours.remove(&d.key.hour);
            }
        }
        clamped
    }

    /// Forgets every cell before `hour` (the retention purge).
    pub fn drop_before(&mut self, hour: i64) {
        self.hours = self.hours.split_off(&hour);
    }

    /// Bans in every cell.
    pub fn total(&self) -> u64 {
        self.hours.values().flatten().map(|(_, n)| *n).sum()
    }

    /// Number of non-empty cells.
    pub fn cells(&self) -> usize {
        self.hours.values().map(Vec::len).sum()
    }

    /// Every range and origin at `now`.
    pub fn aggregate(&self, now: i64) -> HashMap<(TimeRange, Origin), WindowAggregate> {
        let windows: Vec<Window> = RANGES.iter().map(|r| Window::of(*r, now)).collect();
        let dims = self.dims.len();
        // dense[range][dim * buckets + bucket]
        let mut dense: Vec<Vec<u64>> = windows.iter().map(|w| vec![0; dims * w.buckets]).collect();
        let first = windows.iter().map(Window::start_hour).min().unwrap_or(0);
        for (hour, cells) in self.hours.range(first..) {
            for (r, w) in windows.iter().enumerate() {
                if *hour < w.start_hour() {
                    continue;
                }
                let b = w.bucket(*hour);
                for (dim, n) in cells {
                    dense[r][*dim as usize * w.buckets + b] += n;
                }
            }
        }
        let mut out = HashMap::new();
        for (r, w) in windows.iter().enumerate() {
            for origin in ORIGINS {
                out.insert((RANGES[r], origin), self.fold(&dense[r], *w, origin));
            }
        }
        out
    }

    fn fold(&self, dense: &[u64], w: Window, origin: Origin) -> WindowAggregate {
        let mut agg = WindowAggregate {
            window: w,
            all: Slice::empty(w.buckets),
            countries: BTreeMap::new(),
            unresolved: 0,
        };
        for (id, dim) in self.dims.iter().enumerate() {
            if origin != Origin::All && dim.origin != origin {
                continue;
            }
            let counts = &dense[id * w.buckets..(id + 1) * w.buckets];
            let sum: u64 = counts.iter().sum();
            if sum == 0 {
                continue;
            }
            add(&mut agg.all, &dim.jail, counts, sum);
            match &dim.country {
                Some(cc) => {
                    let slice = agg
                        .countries
                        .entry(cc.to_string())
                        .or_insert_with(|| Slice::empty(w.buckets));
                    add(slice, &dim.jail, counts, sum);
                }
                None => agg.unresolved += sum,
            }
        }
        agg
    }
}

fn add(slice: &mut Slice, jail: &str, counts: &[u64], sum: u64) {
    slice.total += sum;
    *slice.jails.entry(jail.to_string()).or_insert(0) += sum;
    for (t, n) in slice.trend.iter_mut().zip(counts) {
        *t += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hour: i64, jail: &str, origin: Origin, country: Option<&str>) -> RollupKey {
        RollupKey {
            host: "local".into(),
            hour,
            jail: jail.into(),
            origin,
            country: country.map(str::to_string),
        }
    }

    fn delta(k: RollupKey, bans: i64) -> RollupDelta {
        RollupDelta { key: k, bans }
    }

    #[test]
    fn a_window_is_whole_hours_ending_with_the_current_one() {
        let now = 1_700_000_123; // 2023-11-14T22:15:23Z
        let w = Window::of(TimeRange::Day, now);
        assert_eq!(w.start % HOUR, 0);
        assert_eq!(w.start, (hour_of(now) - 23) * HOUR);
        assert_eq!(w.buckets, 24);
        assert_eq!(w.bucket(hour_of(now)), 23);
        assert_eq!(w.bucket(w.start_hour()), 0);
        let year = Window::of(TimeRange::Year, now);
        assert_eq!(year.bucket(hour_of(now)), year.buckets - 1);
    }

    #[test]
    fn cells_sum_into_every_range_origin_country_jail_and_bucket() {
        let now = 1_700_000_000;
        let h = hour_of(now);
        let mut r = Rollup::default();
        r.apply(&[
            delta(key(h, "sshd", Origin::Selfblock, Some("DE")), 3),
            delta(key(h - 30, "sshd", Origin::Selfblock, Some("FR")), 2),
            delta(
                key(h - 24 * 10, "blocklist-import", Origin::Blocklist, None),
                5,
            ),
        ]);
        let agg = r.aggregate(now);
        let day = &agg[&(TimeRange::Day, Origin::All)];
        assert_eq!((day.all.total, day.unresolved), (3, 0));
        assert_eq!(day.all.trend[23], 3);
        let week = &agg[&(TimeRange::Week, Origin::All)];
        assert_eq!(week.all.total, 5);
        assert_eq!(week.countries["FR"].jails["sshd"], 2);
        let month = &agg[&(TimeRange::Month, Origin::Blocklist)];
        assert_eq!((month.all.total, month.unresolved), (5, 5));
        let month_self = &agg[&(TimeRange::Month, Origin::Selfblock)];
        assert_eq!(month_self.all.total, 5);
        assert_eq!(r.total(), 10);
    }

    #[test]
    fn cells_that_reach_zero_disappear_and_purged_hours_are_gone() {
        let mut r = Rollup::default();
        let k = key(10, "sshd", Origin::Selfblock, None);
        assert_eq!(r.apply(&[delta(k.clone(), 2), delta(k.clone(), -2)]), 0);
        assert_eq!(r.cells(), 0);
        r.apply(&[delta(k, 1), delta(key(11, "a", Origin::Selfblock, None), 4)]);
        r.drop_before(11);
        assert_eq!((r.cells(), r.total()), (1, 4));
        assert_eq!(
            r.apply(&[delta(key(11, "b", Origin::Selfblock, None), -1)]),
            1
        );
    }

    #[test]
    fn merged_deltas_cancel_out() {
        let k = key(1, "sshd", Origin::Selfblock, Some("DE"));
        let merged = merge_deltas([delta(k.clone(), 1), delta(k.clone(), -1)]);
        assert!(merged.is_empty());
        let merged = merge_deltas([delta(k.clone(), 2), delta(k.clone(), 1)]);
        assert_eq!(merged, vec![delta(k, 3)]);
    }
}
