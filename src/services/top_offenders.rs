//! `TopOffenders`: the most banned IPs and ASNs of every dashboard range and origin, for
//! `GET /api/v1/dashboard/top-ips`. Counting per IP needs a pass over the window's archive rows,
//! so it never runs on a request: the `history_top` job recomputes every list in one streamed
//! read of the year in IP order (`db::history_query::bans_by_ip_since`: no GROUP BY, no sort,
//! no row kept), summing one IP at a time into candidate lists cut back to [`TOP_MAX`] and one
//! counter per ASN, so its memory does not grow with the archive; then it publishes the result
//! (arc-swap); requests only read the published lists. The first request
//! before any list exists starts a computation in the background and gets empty lists with
//! `computed_at: null`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use crate::db::rollup::origin_of;
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

/// Combinations of range and origin, in the order of [`RANGES`] × [`ORIGINS`].
const LISTS: usize = RANGES.len() * ORIGINS.len();

/// One IP's bans in one jail under one origin, while its rows stream by.
struct JailAcc {
    jail: String,
    blocklist: bool,
    /// Bans since each `since[i]` (`RANGES` order).
    n: [u64; RANGES.len()],
    last: i64,
}

/// The IP whose rows are streaming by (rows of one IP arrive together).
#[derive(Default)]
struct CurrentIp {
    ip: String,
    jails: Vec<JailAcc>,
    /// Its newest known country and ASN.
    country: Option<String>,
    asn: Option<i64>,
}

/// A list being built: at most `2 × TOP_MAX` candidates, cut back to the best `TOP_MAX`
/// whenever full, so memory stays bounded whatever the number of IPs.
#[derive(Default)]
struct Candidates {
    list: Vec<TopIp>,
    /// After a cut, the smallest count kept: a smaller one can never enter the list.
    floor: u64,
}

impl Candidates {
    fn wants(&self, count: u64) -> bool {
        count >= self.floor
    }

    fn push(&mut self, ip: TopIp) {
        self.list.push(ip);
        if self.list.len() >= 2 * TOP_MAX {
            self.cut();
        }
    }

    fn cut(&mut self) {
        self.list
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.ip.cmp(&b.ip)));
        self.list.truncate(TOP_MAX);
        if self.list.len() == TOP_MAX {
            self.floor = self.list.last().map_or(0, |l| l.count);
        }
    }
}

/// Streaming aggregation of the window's rows into every list. Memory: one IP's jails, the
/// candidate lists (bounded) and one counter per ASN.
struct Aggregate {
    since: [i64; RANGES.len()],
    current: CurrentIp,
    ips: Vec<Candidates>,
    /// Per ASN and list: bans and distinct IPs.
    asns: HashMap<u32, [(u64, u64); LISTS]>,
}

impl Aggregate {
    fn new(since: [i64; RANGES.len()]) -> Self {
        Self {
            since,
            current: CurrentIp::default(),
            ips: (0..LISTS).map(|_| Candidates::default()).collect(),
            asns: HashMap::new(),
        }
    }

    fn add(&mut self, row: q::IpBan) {
        if row.ip != self.current.ip {
            self.flush();
            self.current.ip = row.ip;
        }
        let cur = &mut self.current;
        let blocklist = origin_of(&row.origin) == Origin::Blocklist;
        let at = match cur
            .jails
            .iter()
            .position(|j| j.blocklist == blocklist && j.jail == row.jail)
        {
            Some(at) => at,
            None => {
                cur.jails.push(JailAcc {
                    jail: row.jail,
                    blocklist,
                    n: [0; RANGES.len()],
                    last: i64::MIN,
                });
                cur.jails.len() - 1
            }
        };
        if let Some(acc) = cur.jails.get_mut(at) {
            for (n, since) in acc.n.iter_mut().zip(self.since) {
                if row.timeofban >= since {
                    *n += 1;
                }
            }
            acc.last = acc.last.max(row.timeofban);
        }
        // Rows of an IP come oldest first: the last known value is the newest.
        if row.country_code.is_some() {
            cur.country = row.country_code;
        }
        if row.asn.is_some() {
            cur.asn = row.asn;
        }
    }

    /// Ends the current IP: offers it to every list it has bans in.
    fn flush(&mut self) {
        let cur = std::mem::take(&mut self.current);
        if cur.jails.is_empty() {
            return;
        }
        let asn = cur.asn.and_then(|a| u32::try_from(a).ok());
        for (i, _) in RANGES.iter().enumerate() {
            for (o, origin) in ORIGINS.into_iter().enumerate() {
                let matching = cur.jails.iter().filter(|j| {
                    j.n[i] > 0
                        && match origin {
                            Origin::All => true,
                            Origin::Blocklist => j.blocklist,
                            Origin::Selfblock => !j.blocklist,
                        }
                });
                let mut count = 0;
                let mut last = i64::MIN;
                let mut jails = BTreeSet::new();
                for j in matching {
                    count += j.n[i];
                    last = last.max(j.last);
                    jails.insert(j.jail.as_str());
                }
                if count == 0 {
                    continue;
                }
                let list = i * ORIGINS.len() + o;
                if let Some(asn) = asn {
                    let e = self.asns.entry(asn).or_insert([(0, 0); LISTS]);
                    if let Some(cell) = e.get_mut(list) {
                        cell.0 += count;
                        cell.1 += 1;
                    }
                }
                if let Some(candidates) = self.ips.get_mut(list).filter(|c| c.wants(count)) {
                    candidates.push(TopIp {
                        ip: cur.ip.clone(),
                        count,
                        jails: jails.into_iter().map(str::to_string).collect(),
                        country_code: cur.country.clone(),
                        asn,
                        last_seen: rfc3339(last),
                    });
                }
            }
        }
    }

    fn finish(mut self) -> HashMap<(TimeRange, Origin), (Vec<TopIp>, Vec<TopAsn>)> {
        self.flush();
        let mut out = HashMap::new();
        let mut ips = self.ips.into_iter();
        for (i, range) in RANGES.into_iter().enumerate() {
            for (o, origin) in ORIGINS.into_iter().enumerate() {
                let list = i * ORIGINS.len() + o;
                let mut top = ips.next().unwrap_or_default();
                top.cut();
                let mut asns: Vec<TopAsn> = self
                    .asns
                    .iter()
                    .filter_map(|(asn, cells)| {
                        let (count, ips) = cells.get(list).copied().unwrap_or_default();
                        (count > 0).then_some(TopAsn {
                            asn: *asn,
                            count,
                            ips,
                        })
                    })
                    .collect();
                asns.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.asn.cmp(&b.asn)));
                asns.truncate(TOP_MAX);
                out.insert((range, origin), (top.list, asns));
            }
        }
        out
    }
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
        let mut aggregate = Aggregate::new(since);
        let mut rows = q::bans_by_ip_since(&self.db, since[0]);
        while let Some(row) = rows.try_next().await? {
            aggregate.add(row);
        }
        drop(rows);
        let lists = aggregate.finish();
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn row(ip: &str, jail: &str, origin: &str, asn: i64, t: i64) -> q::IpBan {
        q::IpBan {
            ip: ip.to_string(),
            jail: jail.to_string(),
            origin: origin.to_string(),
            country_code: Some("DE".to_string()),
            asn: Some(asn),
            timeofban: t,
        }
    }

    /// The streamed, bounded lists equal a naive count of every row held in memory, for far
    /// more IPs than a list keeps (so candidates are cut many times).
    #[test]
    fn streamed_lists_equal_a_full_count() {
        let mut rng = StdRng::seed_from_u64(13);
        let since = [0, 500, 800, 950];
        let mut rows = Vec::new();
        for n in 0..1_500 {
            let ip = format!("10.0.{}.{}", n / 256, n % 256);
            let asn = 64_500 + (n % 37) as i64;
            for _ in 0..rng.random_range(1..6) {
                let (jail, origin) = if rng.random_bool(0.3) {
                    ("blocklist-x", "blocklist")
                } else if rng.random_bool(0.5) {
                    ("sshd", "selfblock")
                } else {
                    ("nginx", "selfblock")
                };
                rows.push(row(&ip, jail, origin, asn, rng.random_range(0..1_000)));
            }
        }
        rows.sort_by(|a, b| a.ip.cmp(&b.ip).then(a.timeofban.cmp(&b.timeofban)));
        let mut agg = Aggregate::new(since);
        for r in rows.iter().cloned() {
            agg.add(r);
        }
        let lists = agg.finish();
        for (i, range) in RANGES.into_iter().enumerate() {
            for origin in ORIGINS {
                let keep = |r: &&q::IpBan| {
                    r.timeofban >= since[i]
                        && (origin == Origin::All || origin_of(&r.origin) == origin)
                };
                let mut per_ip: HashMap<&str, (u64, BTreeSet<&str>, i64)> = HashMap::new();
                let mut per_asn: HashMap<i64, (u64, BTreeSet<&str>)> = HashMap::new();
                for r in rows.iter().filter(keep) {
                    let e = per_ip
                        .entry(&r.ip)
                        .or_insert((0, BTreeSet::new(), i64::MIN));
                    e.0 += 1;
                    e.1.insert(&r.jail);
                    let a = per_asn.entry(r.asn.unwrap()).or_default();
                    a.0 += 1;
                    a.1.insert(&r.ip);
                }
                let mut want: Vec<(&str, u64, Vec<String>)> = per_ip
                    .iter()
                    .map(|(ip, (n, jails, _))| {
                        (*ip, *n, jails.iter().map(|j| j.to_string()).collect())
                    })
                    .collect();
                want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                want.truncate(TOP_MAX);
                let (ips, asns) = &lists[&(range, origin)];
                let got: Vec<(&str, u64, Vec<String>)> = ips
                    .iter()
                    .map(|t| (t.ip.as_str(), t.count, t.jails.clone()))
                    .collect();
                assert_eq!(got, want, "{range:?} {origin:?}");
                let mut want_asns: Vec<(u32, u64, u64)> = per_asn
                    .iter()
                    .map(|(a, (n, ips))| (*a as u32, *n, ips.len() as u64))
                    .collect();
                want_asns.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let got_asns: Vec<(u32, u64, u64)> =
                    asns.iter().map(|a| (a.asn, a.count, a.ips)).collect();
                assert_eq!(got_asns, want_asns, "{range:?} {origin:?}");
            }
        }
    }
}
