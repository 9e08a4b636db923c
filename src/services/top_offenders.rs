//! `TopOffenders`: the most banned IPs and ASNs of every dashboard range and origin, for
//! `GET /api/v1/dashboard/top-ips`. Counting per IP needs a pass over the window's archive rows,
//! so it never runs on a request: the `history_top` job recomputes every list in one grouped
//! read of the year (`db::history_query::per_ip_and_jail`), sums it on the blocking pool and
//! publishes the result (arc-swap); requests only read the published lists. The first request
//! before any list exists starts a computation in the background and gets empty lists with
//! `computed_at: null`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use serde::Serialize;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use crate::db::{self, history_query as q};
use crate::domain::rollup::{ORIGINS, RANGES};
use crate::domain::time::rfc3339;
use crate::domain::{Origin, TimeRange};

use super::rollups::RollupStore;

/// Entries kept per list.
pub const TOP_MAX: usize = 100;
/// A list is recomputed at least this often (the windows move).
const MAX_AGE_SECONDS: i64 = 600;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopIp {
    pub ip: String,
    pub count: u64,
    /// Jails that banned it in the range.
    pub jails: Vec<String>,
    pub country_code: Option<String>,
    pub asn: Option<u32>,
    /// RFC 3339 UTC: its newest ban.
    pub last_seen: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopAsn {
    pub asn: u32,
    pub count: u64,
    /// Distinct IPs of that ASN banned in the range.
    pub ips: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopIps {
    pub range: String,
    pub origin: String,
    /// When the lists were computed; null before the first computation.
    pub computed_at: Option<String>,
    pub ips: Vec<TopIp>,
    pub asns: Vec<TopAsn>,
}

#[derive(Default)]
struct Lists {
    generation: u64,
    at: i64,
    lists: HashMap<(TimeRange, Origin), (Vec<TopIp>, Vec<TopAsn>)>,
}

pub struct TopOffenders {
    db: SqlitePool,
    rollups: Arc<RollupStore>,
    published: ArcSwap<Option<Lists>>,
    refreshing: AtomicBool,
}

#[derive(Default)]
struct IpAcc {
    count: u64,
    jails: BTreeSet<String>,
    country: Option<String>,
    asn: Option<i64>,
    last: i64,
}

fn compute(rows: Vec<q::IpJailCounts>) -> HashMap<(TimeRange, Origin), (Vec<TopIp>, Vec<TopAsn>)> {
    let mut out = HashMap::new();
    // RANGES is longest first, matching n0..n3.
    for (i, range) in RANGES.into_iter().enumerate() {
        for origin in ORIGINS {
            let mut ips: HashMap<&str, IpAcc> = HashMap::new();
            for r in &rows {
                let n = match i {
                    0 => r.n0,
                    1 => r.n1,
                    2 => r.n2,
                    _ => r.n3,
                };
                if n <= 0 || (origin != Origin::All && r.origin != origin.as_str()) {
                    continue;
                }
                let acc = ips.entry(r.ip.as_str()).or_default();
                acc.count += n as u64;
                acc.jails.insert(r.jail.clone());
                acc.country = acc.country.take().or_else(|| r.country_code.clone());
                acc.asn = acc.asn.or(r.asn);
                acc.last = acc.last.max(r.last);
            }
            let mut asns: HashMap<u32, (u64, u64)> = HashMap::new();
            for acc in ips.values() {
                if let Some(a) = acc.asn.and_then(|a| u32::try_from(a).ok()) {
                    let e = asns.entry(a).or_default();
                    e.0 += acc.count;
                    e.1 += 1;
                }
            }
            let mut top: Vec<(&str, IpAcc)> = ips.into_iter().collect();
            top.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
            top.truncate(TOP_MAX);
            let top_ips = top
                .into_iter()
                .map(|(ip, a)| TopIp {
                    ip: ip.to_string(),
                    count: a.count,
                    jails: a.jails.into_iter().collect(),
                    country_code: a.country,
                    asn: a.asn.and_then(|x| u32::try_from(x).ok()),
                    last_seen: rfc3339(a.last),
                })
                .collect();
            let mut top_asns: Vec<TopAsn> = asns
                .into_iter()
                .map(|(asn, (count, ips))| TopAsn { asn, count, ips })
                .collect();
            top_asns.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.asn.cmp(&b.asn)));
            top_asns.truncate(TOP_MAX);
            out.insert((range, origin), (top_ips, top_asns));
        }
    }
    out
}

impl TopOffenders {
    pub fn new(db: SqlitePool, rollups: Arc<RollupStore>) -> Self {
        Self {
            db,
            rollups,
            published: ArcSwap::from_pointee(None),
            refreshing: AtomicBool::new(false),
        }
    }

    /// Recomputes every list now.
    pub async fn refresh(&self) -> Result<(), sqlx::Error> {
        let generation = self.rollups.generation();
        let now = db::now_epoch();
        let since = RANGES.map(|r| now - r.seconds());
        let rows = q::per_ip_and_jail(&self.db, since).await?;
        let lists = tokio::task::spawn_blocking(move || compute(rows))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "computing the top offenders failed");
                HashMap::new()
            });
        self.published.store(Arc::new(Some(Lists {
            generation,
            at: now,
            lists,
        })));
        Ok(())
    }

    /// Recomputes when the archive changed since, or the lists are older than ten minutes.
    pub async fn refresh_if_stale(&self) -> Result<(), sqlx::Error> {
        let current = self.published.load();
        let stale = match current.as_ref() {
            None => true,
            Some(l) => {
                l.generation != self.rollups.generation()
                    || db::now_epoch() - l.at >= MAX_AGE_SECONDS
            }
        };
        if stale && !self.refreshing.swap(true, Ordering::AcqRel) {
            let result = self.refresh().await;
            self.refreshing.store(false, Ordering::Release);
            return result;
        }
        Ok(())
    }

    /// The published lists of a range and origin, at most `limit` entries each.
    pub fn top(self: &Arc<Self>, range: TimeRange, origin: Origin, limit: usize) -> TopIps {
        let current = self.published.load_full();
        let (computed_at, ips, asns) = match current.as_ref() {
            Some(l) => {
                let (ips, asns) = l.lists.get(&(range, origin)).cloned().unwrap_or_default();
                (Some(rfc3339(l.at)), ips, asns)
            }
            None => {
                let me = Arc::clone(self);
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    handle.spawn(async move {
                        if let Err(e) = me.refresh_if_stale().await {
                            tracing::error!(error = %e, "computing the top offenders failed");
                        }
                    });
                }
                (None, Vec::new(), Vec::new())
            }
        };
        TopIps {
            range: range.as_str().to_string(),
            origin: origin.as_str().to_string(),
            computed_at,
            ips: ips.into_iter().take(limit).collect(),
            asns: asns.into_iter().take(limit).collect(),
        }
    }
}
