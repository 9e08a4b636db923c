//! The dashboard's use cases: server status from fail2ban's socket (the same numbers
//! `fail2ban-client status JAIL` shows, summed), and ban lists and aggregates computed in SQL
//! over the history archive, geo-resolved with one batch lookup (`lookup_batch_shared`, no copies) per request. Nothing here
//! writes.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, history};
use crate::domain::JailName;
use crate::domain::query::{Origin, Page, TimeRange};
use crate::domain::time::rfc3339;
use crate::fail2ban::Fail2banError;
use crate::geo::GeoInfo;
use crate::state::AppState;

use super::aggregate_cache::Freshness;

/// `Origin::All` means no filter.
pub fn origin_filter(origin: Origin) -> Option<&'static str> {
    match origin {
        Origin::All => None,
        Origin::Selfblock => Some("selfblock"),
        Origin::Blocklist => Some("blocklist"),
    }
}

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
}

/// Live counters summed over every jail; fail2ban being offline is an answer, not an error.
pub async fn status(state: &AppState) -> ServerStatus {
    let f2b = &state.fail2ban;
    let mut s = ServerStatus {
        online: false,
        version: None,
        socket: f2b.socket().display().to_string(),
        jails: 0,
        currently_banned: 0,
        currently_failed: 0,
        total_banned: 0,
        total_failed: 0,
        error: None,
    };
    let result: Result<(), Fail2banError> = async {
        s.version = Some(f2b.version().await?);
        let jails = f2b.jails().await?;
        s.jails = jails.len() as u64;
        for jail in jails {
            let Ok(name) = JailName::parse(&jail) else {
                continue;
            };
            let c = f2b.jail_counters(&name).await?;
            s.currently_banned += c.currently_banned;
            s.currently_failed += c.currently_failed;
            s.total_banned += c.total_banned;
            s.total_failed += c.total_failed;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => s.online = true,
        Err(e) => s.error = Some(e.to_string()),
    }
    s
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

/// First second of the window: the window holds the last `range` seconds up to and including
/// now, so that a ban made this second falls into the last trend bucket.
fn window_start(range: TimeRange) -> i64 {
    db::now_epoch() - range.seconds() + 1
}

fn canonical(ip: &str) -> Option<IpAddr> {
    ip.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

fn to_rows(rows: Vec<history::HistoryRow>, geo: &HashMap<IpAddr, Arc<GeoInfo>>) -> Vec<BanRow> {
    rows.into_iter()
        .map(|r| BanRow {
            geo: canonical(&r.ip)
                .and_then(|ip| geo.get(&ip))
                .map(|g| GeoInfo::clone(g)),
            banned_at: rfc3339(r.timeofban),
            ban_ends_at: (r.bantime >= 0).then(|| rfc3339(r.timeofban.saturating_add(r.bantime))),
            bantime_seconds: r.bantime,
            bancount: r.bancount,
            origin: r.origin,
            ip: r.ip,
            jail: r.jail,
        })
        .collect()
}

/// One page of bans in the window, newest first; with `country`, only IPs located there.
pub async fn bans(
    state: &AppState,
    range: TimeRange,
    origin: Origin,
    page: Page,
    country: Option<&str>,
) -> Result<BanPage, sqlx::Error> {
    let since = window_start(range);
    let filter = origin_filter(origin);
    let (limit, offset) = (
        i64::from(page.limit()),
        page.offset().min(i64::MAX as u64) as i64,
    );
    let (rows, total) = match country {
        None => {
            let count =
                state
                    .aggregates
                    .count
                    .get_or_compute((range, origin), freshness(state), || {
                        history::count(&state.db, since, filter)
                    });
            let (rows, total) = tokio::try_join!(
                history::page(&state.db, since, filter, limit, offset),
                count
            )?;
            (rows, *total)
        }
        Some(cc) => {
            let wanted: Vec<String> = geolocated_counts(state, since, filter)
                .await?
                .into_iter()
                .filter(|(_, _, g)| g.as_ref().and_then(|g| g.country_code.as_deref()) == Some(cc))
                .map(|(ip, _, _)| ip)
                .collect();
            history::page_for_ips(&state.db, since, filter, &wanted, limit, offset).await?
        }
    };
    let ips: Vec<IpAddr> = rows.iter().filter_map(|r| canonical(&r.ip)).collect();
    let geo = state.geo.lookup_batch_shared(&ips).await;
    Ok(BanPage {
        items: to_rows(rows, &geo),
        total,
        page: page.page,
        page_size: page.page_size,
    })
}

/// Bans per IP in the window with each IP's geolocation: the SQL counts and one batch lookup,
/// each address parsed once. Shared by the per-country aggregate and the country filter.
async fn geolocated_counts(
    state: &AppState,
    since: i64,
    filter: Option<&str>,
) -> Result<Vec<(String, i64, Option<Arc<GeoInfo>>)>, sqlx::Error> {
    let per_ip = history::count_by_ip(&state.db, since, filter).await?;
    let parsed: Vec<Option<IpAddr>> = per_ip.iter().map(|(ip, _)| canonical(ip)).collect();
    let ips: Vec<IpAddr> = parsed.iter().flatten().copied().collect();
    let geo = state.geo.lookup_batch_shared(&ips).await;
    Ok(per_ip
        .into_iter()
        .zip(parsed)
        .map(|((ip, n), addr)| (ip, n, addr.and_then(|a| geo.get(&a).cloned())))
        .collect())
}

/// Bans per country in the window: SQL counts per IP, one batch lookup, summed by ISO code.
pub async fn by_country(
    state: &AppState,
    range: TimeRange,
    origin: Origin,
) -> Result<ByCountry, sqlx::Error> {
    let counts = geolocated_counts(state, window_start(range), origin_filter(origin)).await?;
    let mut out = ByCountry {
        countries: BTreeMap::new(),
        country_names: BTreeMap::new(),
        unresolved: 0,
        total: 0,
    };
    for (_, n, info) in &counts {
        let n = (*n).max(0) as u64;
        out.total += n;
        match info
            .as_ref()
            .and_then(|g| g.country_code.as_ref().map(|cc| (cc, g)))
        {
            Some((cc, g)) => {
                *out.countries.entry(cc.clone()).or_insert(0) += n;
                if let Some(name) = &g.country_name
                    && !out.country_names.contains_key(cc)
                {
                    out.country_names.insert(cc.clone(), name.clone());
                }
            }
            None => out.unresolved += n,
        }
    }
    Ok(out)
}

/// Bans per equal-width bucket over the window, zero-filled.
pub async fn trend(
    state: &AppState,
    range: TimeRange,
    origin: Origin,
) -> Result<Trend, sqlx::Error> {
    let since = window_start(range);
    let width = range.bucket_seconds();
    let counts: HashMap<i64, i64> = history::trend(&state.db, since, width, origin_filter(origin))
        .await?
        .into_iter()
        .collect();
    let buckets = (0..range.bucket_count())
        .map(|i| TrendBucket {
            start: rfc3339(since + i * width),
            count: counts.get(&i).copied().unwrap_or(0),
        })
        .collect();
    Ok(Trend {
        range: range.as_str().to_string(),
        bucket_seconds: width,
        buckets,
    })
}

/// Bans per jail in the window, most first.
pub async fn by_jail(
    state: &AppState,
    range: TimeRange,
    origin: Origin,
) -> Result<ByJail, sqlx::Error> {
    let rows =
        history::count_by_jail(&state.db, window_start(range), origin_filter(origin)).await?;
    Ok(ByJail {
        jails: rows
            .into_iter()
            .map(|(jail, count)| JailCount { jail, count })
            .collect(),
    })
}

fn freshness(state: &AppState) -> Freshness {
    Freshness {
        history_generation: state.history.generation(),
        geo_build: state.geo.mmdb_status().build_epoch,
    }
}

/// [`by_country`] through the aggregate memo.
pub async fn by_country_cached(
    state: &AppState,
    range: TimeRange,
    origin: Origin,
) -> Result<Arc<ByCountry>, sqlx::Error> {
    state
        .aggregates
        .by_country
        .get_or_compute((range, origin), freshness(state), || {
            by_country(state, range, origin)
        })
        .await
}

/// [`trend`] through the aggregate memo.
pub async fn trend_cached(
    state: &AppState,
    range: TimeRange,
    origin: Origin,
) -> Result<Arc<Trend>, sqlx::Error> {
    state
        .aggregates
        .trend
        .get_or_compute((range, origin), freshness(state), || {
            trend(state, range, origin)
        })
        .await
}

/// [`by_jail`] through the aggregate memo.
pub async fn by_jail_cached(
    state: &AppState,
    range: TimeRange,
    origin: Origin,
) -> Result<Arc<ByJail>, sqlx::Error> {
    state
        .aggregates
        .by_jail
        .get_or_compute((range, origin), freshness(state), || {
            by_jail(state, range, origin)
        })
        .await
}
