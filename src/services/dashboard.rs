//! The dashboard's use cases: server status from the status poll's snapshot (the same numbers
//! `fail2ban-client status JAIL` shows, summed; refreshed for the request when older than a
//! second, see [`Fail2banStatus::for_request`]), the paged ban list read from the archive's own
//! columns in index order, and the aggregates (per country, trend, per jail) read from the
//! rollups' published snapshot. No request geolocates or sums a time window: the heaviest
//! request work is one 100-row indexed read, and repeated pages are served from a cache that the
//! archive's generation invalidates.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use dashmap::DashMap;
use serde::Serialize;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use crate::db::{self, history, history_query};
use crate::domain::history_query::{BanState, HistoryFilter, HistoryQuery, Order};
use crate::domain::rollup::{Slice, Window, WindowAggregate};
use crate::domain::time::rfc3339;
use crate::domain::{GeoInfo, GeoSource, Origin, Page, TimeRange};
use crate::fail2ban::types::JailCounters;
use crate::geo::GeoCache;

use super::fail2ban_status::Fail2banStatus;
use super::rollups::RollupStore;

/// Pages kept in the page cache before it is emptied.
const PAGE_CACHE_MAX: usize = 512;
/// Rows counted at most for the total of a list filtered by state (`active` only: few rows).
const STATE_COUNT_CAP: u32 = 10_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerStatus {
    pub online: bool,
    pub version: Option<String>,
    pub socket: String,
    pub jails: u64,
    pub currently_banned: u64,
    pub currently_failed: u64,
    pub total_banned: u64,
    pub total_failed: u64,
    /// Why fail2ban is offline, with what to check.
    pub error: Option<String>,
    /// When fail2ban was asked for these numbers (RFC 3339 UTC); null before it was first
    /// asked. Older than a second only while fail2ban is too busy to answer at once.
    pub as_of: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BanRow {
    pub ip: String,
    pub jail: String,
    /// RFC 3339 UTC.
    pub banned_at: String,
    /// Null for a permanent ban.
    pub ban_ends_at: Option<String>,
    pub bantime_seconds: i64,
    pub bancount: i64,
    pub origin: String,
    pub geo: Option<GeoInfo>,
    /// active, expired or lifted (unbanned before its end).
    pub state: BanState,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BanPage {
    pub items: Vec<BanRow>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ByCountry {
    /// ISO country code → bans.
    pub countries: BTreeMap<String, u64>,
    /// ISO country code → English name, for display.
    pub country_names: BTreeMap<String, String>,
    /// Bans whose IP has no known country.
    pub unresolved: u64,
    pub total: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendBucket {
    pub start: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Trend {
    pub range: String,
    pub bucket_seconds: i64,
    pub buckets: Vec<TrendBucket>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JailCount {
    pub jail: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ByJail {
    pub jails: Vec<JailCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    range: TimeRange,
    origin: Origin,
    country: Option<String>,
    page: u32,
    page_size: u32,
}

/// A cached page is valid while neither the archive (store generation) nor the published
/// aggregates (snapshot generation, which the page's total comes from) have changed: the
/// archive changes before its aggregates are republished, so a page computed in between holds
/// new rows with an old total and must not outlive the republication.
struct CachedPage {
    generation: u64,
    published: u64,
    since: i64,
    json: bytes::Bytes,
}

/// The dashboard service: built once in `startup.rs`.
pub struct DashboardService {
    db: SqlitePool,
    status: Arc<Fail2banStatus>,
    /// fail2ban's socket, named in the status.
    socket: String,
    geo: Arc<GeoCache>,
    rollups: Arc<RollupStore>,
    pages: DashMap<PageKey, CachedPage>,
}

impl DashboardService {
    pub fn new(
        db: SqlitePool,
        status: Arc<Fail2banStatus>,
        socket: String,
        geo: Arc<GeoCache>,
        rollups: Arc<RollupStore>,
    ) -> Self {
        Self {
            db,
            status,
            socket,
            geo,
            rollups,
            pages: DashMap::new(),
        }
    }

    /// Live counters summed over every jail; fail2ban being offline is an answer, not an error.
    pub async fn status(&self) -> ServerStatus {
        let snapshot = self.status.for_request().await;
        let online = snapshot.is_online();
        // Offline, the snapshot keeps the last known jails; the status shows none.
        let jails: Vec<_> = if online {
            snapshot.jails.values().collect()
        } else {
            Vec::new()
        };
        let sum = |count: fn(&JailCounters) -> u64| jails.iter().map(|c| count(c)).sum();
        ServerStatus {
            online,
            version: snapshot.version.clone().filter(|_| online),
            socket: self.socket.clone(),
            jails: jails.len() as u64,
            currently_banned: sum(|c| c.currently_banned),
            currently_failed: sum(|c| c.currently_failed),
            total_banned: sum(|c| c.total_banned),
            total_failed: sum(|c| c.total_failed),
            error: snapshot.offline_reason(),
            as_of: snapshot.polled_at.map(rfc3339),
        }
    }

    /// The published aggregate of a window (an empty one before the first snapshot).
    fn window(&self, range: TimeRange, origin: Origin) -> Arc<WindowAggregate> {
        self.rollups
            .snapshot()
            .window(range, origin)
            .cloned()
            .unwrap_or_else(|| {
                let window = Window::of(range, db::now_epoch());
                Arc::new(WindowAggregate {
                    window,
                    all: Slice {
                        total: 0,
                        jails: BTreeMap::new(),
                        trend: vec![0; window.buckets],
                    },
                    countries: BTreeMap::new(),
                    unresolved: 0,
                })
            })
    }

    /// One page of bans in the window, newest first, as JSON (a [`BanPage`]); with `country`,
    /// only bans archived with that country.
    pub async fn bans_json(
        &self,
        range: TimeRange,
        origin: Origin,
        page: Page,
        country: Option<&str>,
    ) -> Result<bytes::Bytes, sqlx::Error> {
        // Both read before the page is computed: a key older than the data only costs a
        // recomputation, a newer one would keep stale data.
        let generation = self.rollups.generation();
        let published = self.rollups.snapshot().generation;
        let agg = self.window(range, origin);
        let since = agg.window.start;
        let key = PageKey {
            range,
            origin,
            country: country.map(str::to_string),
            page: page.page,
            page_size: page.page_size,
        };
        if let Some(hit) = self.pages.get(&key)
            && hit.generation == generation
            && hit.published == published
            && hit.since == since
        {
            return Ok(hit.json.clone());
        }
        let value = self.bans(range, origin, page, country).await?;
        let json = bytes::Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        if self.pages.len() >= PAGE_CACHE_MAX {
            self.pages.clear();
        }
        self.pages.insert(
            key,
            CachedPage {
                generation,
                published,
                since,
                json: json.clone(),
            },
        );
        Ok(json)
    }

    /// One page of bans in the window, newest first; the total comes from the rollups.
    pub async fn bans(
        &self,
        range: TimeRange,
        origin: Origin,
        page: Page,
        country: Option<&str>,
    ) -> Result<BanPage, sqlx::Error> {
        let agg = self.window(range, origin);
        let total = match country {
            None => agg.all.total,
            Some(cc) => agg.countries.get(cc).map_or(0, |s| s.total),
        };
        let (limit, offset) = (
            i64::from(page.limit()),
            i64::try_from(page.offset()).unwrap_or(i64::MAX),
        );
        let rows = history::page(
            &self.db,
            agg.window.start,
            Some(origin),
            country,
            limit,
            offset,
        )
        .await?;
        Ok(BanPage {
            items: rows.into_iter().map(|r| self.row(r)).collect(),
            total: i64::try_from(total).unwrap_or(i64::MAX),
            page: page.page,
            page_size: page.page_size,
        })
    }

    /// One page of the bans in the window that are in `state` now (the "active only" list),
    /// newest first. Not cached: a ban leaves `active` when its time runs out, not only when the
    /// archive changes. The read is the history search's (state index); the total is counted up
    /// to [`STATE_COUNT_CAP`].
    pub async fn bans_in_state(
        &self,
        range: TimeRange,
        origin: Origin,
        page: Page,
        country: Option<&str>,
        state: BanState,
    ) -> Result<BanPage, sqlx::Error> {
        let now = db::now_epoch();
        let query = HistoryQuery {
            filter: HistoryFilter {
                from: Some(self.window(range, origin).window.start),
                country: country.map(str::to_string),
                origin,
                state: Some(state),
                ..HistoryFilter::default()
            },
            order: Order::Newest,
            cursor: None,
            offset: page.offset(),
            limit: page.limit(),
        };
        let rows = history_query::search(&self.db, &query, now).await?;
        let (total, _) =
            history_query::count_capped(&self.db, &query.filter, now, STATE_COUNT_CAP).await?;
        Ok(BanPage {
            items: rows.into_iter().map(|r| self.row(r)).collect(),
            total: i64::try_from(total).unwrap_or(i64::MAX),
            page: page.page,
            page_size: page.page_size,
        })
    }

    /// A ban as listed: the geolocation stored on the row, with names from the answers seen.
    fn row(&self, r: history::HistoryRow) -> BanRow {
        let geo = r.country_code.as_ref().map(|cc| {
            let cached =
                r.ip.parse::<IpAddr>()
                    .ok()
                    .and_then(|a| self.geo.cached_shared(a.to_canonical()))
                    .filter(|g| g.country_code.as_ref() == Some(cc));
            GeoInfo {
                country_code: Some(cc.clone()),
                country_name: cached
                    .as_ref()
                    .and_then(|g| g.country_name.clone())
                    .or_else(|| self.rollups.country_name(cc)),
                geoname_id: cached.as_ref().and_then(|g| g.geoname_id),
                continent: cached.as_ref().and_then(|g| g.continent.clone()),
                asn: r.asn.and_then(|a| u32::try_from(a).ok()),
                org: cached.as_ref().and_then(|g| g.org.clone()),
                network: cached.as_ref().and_then(|g| g.network.clone()),
                source: r
                    .geo_source
                    .as_deref()
                    .and_then(GeoSource::parse)
                    .unwrap_or(GeoSource::Mmdb),
                db_version: r.geo_build.and_then(|b| u64::try_from(b).ok()),
            }
        });
        BanRow {
            geo,
            state: BanState::of(r.timeofban, r.bantime, r.lifted_at, db::now_epoch()),
            banned_at: rfc3339(r.timeofban),
            ban_ends_at: (r.bantime >= 0).then(|| rfc3339(r.timeofban.saturating_add(r.bantime))),
            bantime_seconds: r.bantime,
            bancount: r.bancount,
            origin: r.origin,
            ip: r.ip,
            jail: r.jail,
        }
    }

    /// Bans per country in the window (with `country`, that country alone).
    pub fn by_country(&self, range: TimeRange, origin: Origin, country: Option<&str>) -> ByCountry {
        let agg = self.window(range, origin);
        let countries: BTreeMap<String, u64> = agg
            .countries
            .iter()
            .filter(|(cc, _)| country.is_none_or(|c| c == cc.as_str()))
            .map(|(cc, s)| (cc.clone(), s.total))
            .collect();
        let (unresolved, total) = match country {
            None => (agg.unresolved, agg.all.total),
            Some(_) => (0, countries.values().sum()),
        };
        ByCountry {
            country_names: self.rollups.country_names(countries.keys()),
            countries,
            unresolved,
            total,
        }
    }

    fn slice<'a>(agg: &'a WindowAggregate, country: Option<&str>) -> Option<&'a Slice> {
        match country {
            None => Some(&agg.all),
            Some(cc) => agg.countries.get(cc),
        }
    }

    /// Bans per chart bucket over the window, zero-filled.
    pub fn trend(&self, range: TimeRange, origin: Origin, country: Option<&str>) -> Trend {
        let agg = self.window(range, origin);
        let w = agg.window;
        let counts = Self::slice(&agg, country)
            .map(|s| s.trend.as_slice())
            .unwrap_or(&[]);
        let buckets = (0..w.buckets)
            .map(|i| TrendBucket {
                start: rfc3339(w.start + i as i64 * w.bucket_seconds),
                count: counts
                    .get(i)
                    .map_or(0, |n| i64::try_from(*n).unwrap_or(i64::MAX)),
            })
            .collect();
        Trend {
            range: range.as_str().to_string(),
            bucket_seconds: w.bucket_seconds,
            buckets,
        }
    }

    /// Bans per jail in the window, most first.
    pub fn by_jail(&self, range: TimeRange, origin: Origin, country: Option<&str>) -> ByJail {
        let agg = self.window(range, origin);
        let mut jails: Vec<JailCount> = Self::slice(&agg, country)
            .map(|s| {
                s.jails
                    .iter()
                    .map(|(jail, n)| JailCount {
                        jail: jail.clone(),
                        count: i64::try_from(*n).unwrap_or(i64::MAX),
                    })
                    .collect()
            })
            .unwrap_or_default();
        jails.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.jail.cmp(&b.jail)));
        ByJail { jails }
    }
}
