//! A short-lived memo for the dashboard's aggregates (per country, trend, per jail). An entry is
//! reused only while the history archive has not changed (its generation), the country
//! database is the same build, and it is younger than [`MAX_AGE`] (the window slides with the
//! clock). A year of history is a million rows; every dashboard tab polls these endpoints, and
//! between two syncs they would compute the same answer again.

use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::domain::{Origin, TimeRange};

/// How long an answer may be reused when nothing else changed.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// What an answer depends on besides its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub history_generation: u64,
    pub geo_build: Option<u64>,
}

struct Entry<T> {
    freshness: Freshness,
    at: Instant,
    value: Arc<T>,
}

/// One memo per kind of aggregate, keyed by range and origin.
pub struct Memo<T> {
    entries: DashMap<(TimeRange, Origin), Entry<T>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self {
            entries: DashMap::new(),
        }
    }
}

impl<T> Memo<T> {
    /// The cached answer if still valid, else `compute()`'s, which is then cached.
    pub async fn get_or_compute<E, F, Fut>(
        &self,
        key: (TimeRange, Origin),
        freshness: Freshness,
        compute: F,
    ) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        (TimeRange, Origin): Hash + Eq,
    {
        if let Some(e) = self.entries.get(&key)
            && e.freshness == freshness
            && e.at.elapsed() < MAX_AGE
        {
            return Ok(Arc::clone(&e.value));
        }
        let value = Arc::new(compute().await?);
        self.entries.insert(
            key,
            Entry {
                freshness,
                at: Instant::now(),
                value: Arc::clone(&value),
            },
        );
        Ok(value)
    }
}

/// The memos of the dashboard.
#[derive(Default)]
pub struct AggregateCache {
    pub by_country: Memo<super::dashboard::ByCountry>,
    pub trend: Memo<super::dashboard::Trend>,
    pub by_jail: Memo<super::dashboard::ByJail>,
    /// Bans in the window: the total of the paged ban list.
    pub count: Memo<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_is_reused_until_the_archive_or_the_database_changes() {
        let memo: Memo<u32> = Memo::default();
        let key = (TimeRange::Day, Origin::All);
        let f = Freshness {
            history_generation: 1,
            geo_build: Some(7),
        };
        let first = memo
            .get_or_compute(key, f, || async { Ok::<_, ()>(1) })
            .await;
        let again = memo
            .get_or_compute(key, f, || async { Ok::<_, ()>(2) })
            .await;
        assert_eq!((first.map(|v| *v), again.map(|v| *v)), (Ok(1), Ok(1)));
        let newer = Freshness {
            history_generation: 2,
            ..f
        };
        assert_eq!(
            memo.get_or_compute(key, newer, || async { Ok::<_, ()>(3) })
                .await
                .map(|v| *v),
            Ok(3)
        );
        let other_db = Freshness {
            geo_build: Some(8),
            ..newer
        };
        assert_eq!(
            memo.get_or_compute(key, other_db, || async { Ok::<_, ()>(4) })
                .await
                .map(|v| *v),
            Ok(4)
        );
        let other_key = (TimeRange::Week, Origin::All);
        assert_eq!(
            memo.get_or_compute(other_key, other_db, || async { Ok::<_, ()>(5) })
                .await
                .map(|v| *v),
            Ok(5)
        );
    }
}
