//! History search and IP investigation: the pages of `GET /api/v1/history` (from the archive,
//! or from fail2ban's own database with `source=fail2ban`), the same rows in keyset chunks for
//! the streamed export, and one IP's whole story (`GET /api/v1/history/{ip}`): its archived
//! timeline with matched log lines, totals per jail, where it is banned now and whether a jail
//! ignores it (both live from fail2ban), and its geolocation.
//!
//! Every archive read is index-ordered and bounded (`db::history_query`); fail2ban's file is
//! read one jail at a time in short LIMITed statements on its `(jail, timeofban)` index and
//! merged here. Nothing in this service writes.
//!
//! Over 500 lines on purpose: search pages, exports and the IP story are one read model of
//! the archive (the same rows, cursors and rendering); the views live in `history_views.rs`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sqlx::SqlitePool;
use tokio::sync::{Mutex, mpsc};

use crate::db::{self, history_ip, history_query as q};
use crate::domain::history_query::{BanState, Cursor, HistoryQuery, IpFilter, Order};
use crate::domain::time::{per_utc_day, rfc3339, utc_day};
use crate::domain::{BanIp, DomainError, GeoInfo, GeoSource, IgnoreTarget, JailName, Origin};
use crate::fail2ban::{Fail2banClient, Fail2banDb, Fail2banDbError, Fail2banError};
use crate::geo::GeoCache;

use super::history::LOCAL_HOST;
pub use super::history_views::{
    DayCount, HistoryItem, HistoryPage, IpHistory, JailTotal, TimelineEntry,
};
use super::rollups::RollupStore;

/// Most bans of one IP's timeline.
pub const TIMELINE_MAX: u32 = 500;

/// Bans an IP page lists when the request does not say.
pub const TIMELINE_DEFAULT: u32 = 100;
/// Rows counted at most for a page's `total` (ten pages of 100).
pub const COUNT_CAP: u32 = 1_000;
/// Rows per chunk of an export from fail2ban's database (`source=fail2ban`).
pub const EXPORT_CHUNK: u32 = 5_000;
/// Rows rendered per message of an archive export, and messages its channel holds: the
/// export's memory is a few rendered batches whatever its size.
pub const EXPORT_BATCH: usize = 2_000;
const EXPORT_QUEUE: usize = 4;

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Ndjson,
}
/// Seconds since the epoch: the clock relative ranges (`range=24h`, …) are resolved against.
pub fn now_epoch() -> i64 {
    db::now_epoch()
}

/// How long the jails' ignore lists are reused for IP pages.
const IGNORE_LISTS_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// Deepest row a page number may reach on `source=fail2ban`.
const FAIL2BAN_MAX_OFFSET: u64 = 10_000;

/// Where a search reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    #[default]
    Archive,
    Fail2ban,
}

impl Source {
    pub fn parse(text: &str) -> Result<Source, DomainError> {
        match text.trim() {
            "archive" => Ok(Source::Archive),
            "fail2ban" => Ok(Source::Fail2ban),
            _ => Err(DomainError::new(
                "source",
                text,
                "expected archive or fail2ban",
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Source::Archive => "archive",
            Source::Fail2ban => "fail2ban",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("reading the history archive failed")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Fail2banDb(#[from] Fail2banDbError),
    #[error(transparent)]
    Fail2ban(#[from] Fail2banError),
    #[error("fail2ban runs without a database (dbfile is None); use source=archive")]
    NoFail2banDatabase,
}

pub struct HistoryQueryService {
    db: SqlitePool,
    fail2ban: Fail2banClient,
    geo: Arc<GeoCache>,
    rollups: Arc<RollupStore>,
    configured_f2b_db: Option<PathBuf>,
    f2b_db: Mutex<Option<Fail2banDb>>,
    /// Every running jail's ignore list, reused for [`IGNORE_LISTS_TTL`].
    ignore_lists: Mutex<Option<(std::time::Instant, Arc<IgnoreLists>)>>,
}

type IgnoreLists = Vec<(String, Vec<IgnoreTarget>)>;

impl HistoryQueryService {
    pub fn new(
        db: SqlitePool,
        fail2ban: Fail2banClient,
        geo: Arc<GeoCache>,
        rollups: Arc<RollupStore>,
        configured_f2b_db: Option<PathBuf>,
    ) -> Self {
        Self {
            db,
            fail2ban,
            geo,
            rollups,
            configured_f2b_db,
            f2b_db: Mutex::new(None),
            ignore_lists: Mutex::new(None),
        }
    }

    /// An archive row as listed at `now`.
    fn item(&self, r: crate::db::history::HistoryRow, now: i64) -> HistoryItem {
        HistoryItem {
            state: BanState::of(r.timeofban, r.bantime, r.lifted_at, now),
            country_name: r
                .country_code
                .as_deref()
                .and_then(|c| self.rollups.country_name(c)),
            banned_at: rfc3339(r.timeofban),
            ban_ends_at: (r.bantime >= 0).then(|| rfc3339(r.timeofban.saturating_add(r.bantime))),
            lifted_at: r.lifted_at.map(rfc3339),
            lifted_by: r.lifted_by,
            asn: r.asn.and_then(|a| u32::try_from(a).ok()),
            id: r.id,
            host: r.host,
            jail: r.jail,
            ip: r.ip,
            bantime_seconds: r.bantime,
            bancount: r.bancount,
            failures: r.failures,
            origin: r.origin,
            country_code: r.country_code,
        }
    }

    /// One page: rows, the cursor after them and the (capped) count.
    pub async fn page(
        &self,
        query: &HistoryQuery,
        source: Source,
        page: u32,
    ) -> Result<HistoryPage, HistoryError> {
        let now = db::now_epoch();
        let (items, next, total, exact) = match source {
            Source::Archive => {
                let (rows, (total, exact)) = tokio::try_join!(
                    q::search(&self.db, query, now),
                    q::count_capped(&self.db, &query.filter, now, COUNT_CAP),
                )?;
                let (items, next) = self.finish(rows, query.limit, now);
                (items, next, total, exact)
            }
            Source::Fail2ban => {
                let (items, next) = self.fail2ban_chunk(query, now).await?;
                let n = items.len() as u64 + query.offset;
                (items, next, n, next.is_none())
            }
        };
        Ok(HistoryPage {
            items,
            next_cursor: next.map(|c| c.to_string()),
            page,
            page_size: query.limit,
            total,
            total_exact: exact,
            source: source.as_str().to_string(),
        })
    }

    fn finish(
        &self,
        rows: Vec<crate::db::history::HistoryRow>,
        limit: u32,
        now: i64,
    ) -> (Vec<HistoryItem>, Option<Cursor>) {
        let next = (rows.len() >= limit as usize)
            .then(|| rows.last())
            .flatten()
            .map(|r| Cursor {
                timeofban: r.timeofban,
                id: r.id,
            });
        (rows.into_iter().map(|r| self.item(r, now)).collect(), next)
    }

    /// The next chunk of an export (or of any walk through a search): rows after `query.cursor`
    /// and the cursor after them (`None` when the walk is done).
    pub async fn chunk(
        &self,
        query: &HistoryQuery,
        source: Source,
    ) -> Result<(Vec<HistoryItem>, Option<Cursor>), HistoryError> {
        let now = db::now_epoch();
        match source {
            Source::Archive => {
                let rows = q::search(&self.db, query, now).await?;
                Ok(self.finish(rows, query.limit, now))
            }
            Source::Fail2ban => self.fail2ban_chunk(query, now).await,
        }
    }

    /// Every archive row of a search (paging ignored; after `query.cursor` if set), rendered
    /// as CSV (with its header) or NDJSON, through a bounded channel. Read in short keyset
    /// chunks and rendered on the blocking pool, never on the caller's worker; the channel's
    /// capacity bounds memory and makes the reader wait for a slow client. A read error is sent once
    /// and ends the stream.
    pub fn export_archive(
        self: &Arc<Self>,
        query: HistoryQuery,
        format: ExportFormat,
    ) -> mpsc::Receiver<Result<Vec<u8>, HistoryError>> {
        let (tx, rx) = mpsc::channel(EXPORT_QUEUE);
        let service = Arc::clone(self);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            handle.block_on(async move {
                let now = db::now_epoch();
                let mut header = format == ExportFormat::Csv;
                let mut line = String::with_capacity(512);
                let read = q::for_each_batch(&service.db, &query, now, EXPORT_BATCH, |rows| {
                    let mut out = Vec::with_capacity(rows.len() * 220 + 256);
                    if std::mem::take(&mut header) {
                        out.extend_from_slice(HistoryItem::CSV_HEADER.as_bytes());
                    }
                    for r in rows {
                        let item = service.item(r, now);
                        match format {
                            ExportFormat::Csv => {
                                line.clear();
                                item.csv_line(&mut line);
                                out.extend_from_slice(line.as_bytes());
                            }
                            ExportFormat::Ndjson => {
                                if serde_json::to_writer(&mut out, &item).is_ok() {
                                    out.push(b'\n');
                                }
                            }
                        }
                    }
                    let tx = tx.clone();
                    async move { tx.send(Ok(out)).await.is_ok() }
                })
                .await;
                match read {
                    Ok(()) if header => {
                        let _ = tx
                            .send(Ok(HistoryItem::CSV_HEADER.as_bytes().to_vec()))
                            .await;
                    }
                    Ok(()) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "history export stopped");
                        let _ = tx.send(Err(e.into())).await;
                    }
                }
            });
        });
        rx
    }

    async fn fail2ban_db(&self) -> Result<Fail2banDb, HistoryError> {
        let mut guard = self.f2b_db.lock().await;
        if let Some(db) = guard.as_ref() {
            return Ok(db.clone());
        }
        let path = match &self.configured_f2b_db {
            Some(p) => p.clone(),
            None => self
                .fail2ban
                .dbfile()
                .await?
                .ok_or(HistoryError::NoFail2banDatabase)?,
        };
        let db = Fail2banDb::open(&path).await?;
        *guard = Some(db.clone());
        Ok(db)
    }

    /// Reads fail2ban's database: each jail's next rows on its own index, merged.
    async fn fail2ban_chunk(
        &self,
        query: &HistoryQuery,
        now: i64,
    ) -> Result<(Vec<HistoryItem>, Option<Cursor>), HistoryError> {
        let f = &query.filter;
        for (param, set) in [
            ("country", f.country.is_some()),
            ("asn", f.asn.is_some()),
            ("host", f.host.is_some()),
            ("state", f.state == Some(BanState::Lifted)),
            ("ip", matches!(f.ip, Some(IpFilter::Net(_)))),
        ] {
            if set {
                return Err(DomainError::new(
                    param,
                    "",
                    "this filter needs source=archive (fail2ban's database has no such column)",
                )
                .into());
            }
        }
        if query.cursor.is_none() && query.offset > FAIL2BAN_MAX_OFFSET {
            return Err(DomainError::new(
                "page",
                &query.offset.to_string(),
                "with source=fail2ban, page through deeper rows with the cursor",
            )
            .into());
        }
        let reader = self.fail2ban_db().await?;
        let ip = match f.ip {
            Some(IpFilter::Addr(a)) => Some(a.to_string()),
            _ => None,
        };
        let newest = query.order == Order::Newest;
        let after = query.cursor.map(|c| (c.timeofban, c.id));
        let (mut from, mut to) = (f.from, f.to);
        if let Some((t, _)) = after {
            if newest {
                to = Some(to.map_or(t + 1, |x| x.min(t + 1)));
            } else {
                from = Some(from.map_or(t, |x| x.max(t)));
            }
        }
        let want =
            u32::try_from(u64::from(query.limit) + if after.is_some() { 0 } else { query.offset })
                .unwrap_or(u32::MAX);
        let mut all = Vec::new();
        for jail in reader.jail_names().await? {
            if f.jail.as_deref().is_some_and(|j| j != jail) || !f.origin.includes(&jail) {
                continue;
            }
            all.extend(
                reader
                    .jail_rows(&jail, from, to, ip.as_deref(), newest, after, want)
                    .await?,
            );
        }
        all.sort_by_key(|(rowid, r)| (r.timeofban, *rowid));
        if newest {
            all.reverse();
        }
        let rows: Vec<(i64, crate::fail2ban::BanRecord)> = all
            .into_iter()
            .filter(|(_, r)| match f.state {
                None => true,
                Some(s) => BanState::of(r.timeofban, r.bantime, None, now) == s,
            })
            .skip(if after.is_some() {
                0
            } else {
                query.offset as usize
            })
            .take(query.limit as usize)
            .collect();
        let ips: Vec<IpAddr> = rows
            .iter()
            .filter_map(|(_, r)| r.ip.parse::<IpAddr>().ok().map(|a| a.to_canonical()))
            .collect();
        let geo = self.geo.lookup_batch_shared(&ips).await;
        let next = (rows.len() >= query.limit as usize)
            .then(|| rows.last())
            .flatten()
            .map(|(rowid, r)| Cursor {
                timeofban: r.timeofban,
                id: *rowid,
            });
        let items = rows
            .into_iter()
            .map(|(rowid, r)| {
                let g =
                    r.ip.parse::<IpAddr>()
                        .ok()
                        .and_then(|a| geo.get(&a.to_canonical()).cloned());
                HistoryItem {
                    id: rowid,
                    host: LOCAL_HOST.to_string(),
                    state: BanState::of(r.timeofban, r.bantime, None, now),
                    banned_at: rfc3339(r.timeofban),
                    ban_ends_at: (r.bantime >= 0)
                        .then(|| rfc3339(r.timeofban.saturating_add(r.bantime))),
                    bantime_seconds: r.bantime,
                    bancount: r.bancount,
                    failures: r.failures.and_then(|n| i64::try_from(n).ok()),
                    origin: Origin::of_jail(&r.jail).as_str().to_string(),
                    country_code: g.as_ref().and_then(|g| g.country_code.clone()),
                    country_name: g.as_ref().and_then(|g| g.country_name.clone()),
                    asn: g.as_ref().and_then(|g| g.asn),
                    lifted_at: None,
                    lifted_by: None,
                    jail: r.jail,
                    ip: r.ip,
                }
            })
            .collect();
        Ok((items, next))
    }

    /// One IP's story with the newest `limit` bans (at most [`TIMELINE_MAX`]). An IP the
    /// archive never saw gets an empty timeline. The archive reads and fail2ban's live answer
    /// run concurrently.
    pub async fn ip(&self, ip: BanIp, limit: u32) -> Result<IpHistory, HistoryError> {
        let now = db::now_epoch();
        let text = ip.to_string();
        let limit = limit.clamp(1, TIMELINE_MAX);
        let archive = async {
            tokio::try_join!(
                history_ip::timeline(&self.db, &text, limit + 1),
                history_ip::ban_times(&self.db, &text),
                self.geo_of(ip, &text),
            )
        };
        let (archived, live) = tokio::join!(archive, self.live(ip));
        let (rows, groups, geo) = archived?;
        let all_times = || groups.iter().flat_map(|g| g.times.iter().copied());
        let days = per_utc_day(all_times());
        let (first, last) = (all_times().min(), all_times().max());
        let mut jails: Vec<JailTotal> = groups
            .into_iter()
            .filter_map(|g| {
                let first = g.times.iter().copied().min()?;
                let last = g.times.iter().copied().max()?;
                Some(JailTotal {
                    host: g.host,
                    jail: g.jail,
                    bans: g.times.len() as i64,
                    first_seen: rfc3339(first),
                    last_seen: rfc3339(last),
                })
            })
            .collect();
        let total_bans: i64 = jails.iter().map(|j| j.bans).sum();
        jails.sort_by(|a, b| b.bans.cmp(&a.bans).then_with(|| a.jail.cmp(&b.jail)));
        let truncated = rows.len() > limit as usize;
        let timeline = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| TimelineEntry {
                matches: r
                    .matches
                    .as_deref()
                    .and_then(|m| serde_json::from_str(m).ok())
                    .unwrap_or_default(),
                ban: self.item(r.row, now),
            })
            .collect();
        let (banned_in, ignored_in, live_error) = match live {
            Ok((b, i)) => (Some(b), Some(i), None),
            Err(e) => (None, None, Some(e.to_string())),
        };
        Ok(IpHistory {
            ip: text,
            first_seen: first.map(rfc3339),
            last_seen: last.map(rfc3339),
            total_bans,
            jails,
            timeline,
            timeline_truncated: truncated,
            days: days
                .into_iter()
                .map(|(day, bans)| DayCount {
                    day: utc_day(day),
                    bans,
                })
                .collect(),
            banned_in,
            ignored_in,
            live_error,
            geo,
        })
    }

    /// Jails banning `ip` now and jails whose ignore list covers it.
    async fn live(&self, ip: BanIp) -> Result<(Vec<String>, Vec<String>), Fail2banError> {
        let (banned, lists) =
            tokio::try_join!(self.fail2ban.jails_banning(ip), self.ignore_lists())?;
        let ignored = lists
            .iter()
            .filter(|(_, list)| list.iter().any(|t| t.net().contains(&ip.ip())))
            .map(|(j, _)| j.clone())
            .collect();
        Ok((banned, ignored))
    }

    /// Every running jail's ignore list (entries that are not addresses or networks, such as
    /// host names, are skipped), asked again after [`IGNORE_LISTS_TTL`].
    async fn ignore_lists(&self) -> Result<Arc<IgnoreLists>, Fail2banError> {
        let mut cached = self.ignore_lists.lock().await;
        if let Some((at, lists)) = cached.as_ref()
            && at.elapsed() < IGNORE_LISTS_TTL
        {
            return Ok(Arc::clone(lists));
        }
        let names: Vec<JailName> = self
            .fail2ban
            .jails()
            .await?
            .iter()
            .filter_map(|j| JailName::parse(j).ok())
            .collect();
        let lists =
            futures_util::future::try_join_all(names.iter().map(|j| self.fail2ban.ignore_list(j)))
                .await?;
        let lists: Arc<IgnoreLists> = Arc::new(
            names
                .iter()
                .zip(lists)
                .map(|(j, list)| {
                    let targets = list
                        .iter()
                        .filter_map(|e| IgnoreTarget::parse(e).ok())
                        .collect();
                    (j.as_str().to_string(), targets)
                })
                .collect(),
        );
        *cached = Some((std::time::Instant::now(), Arc::clone(&lists)));
        Ok(lists)
    }

    /// The geolocation: the geo cache's answer, else what the archive stored.
    /// The IP's geolocation: the cache's answer, else what the newest archived row of it
    /// stored (read only then).
    async fn geo_of(&self, ip: BanIp, text: &str) -> Result<Option<GeoInfo>, sqlx::Error> {
        let addr = ip.ip().to_canonical();
        let found = self.geo.lookup_batch_shared(&[addr]).await;
        if let Some(g) = found.get(&addr).filter(|g| g.country_code.is_some()) {
            return Ok(Some(GeoInfo::clone(g)));
        }
        let Some((cc, asn)) = history_ip::geo(&self.db, text).await? else {
            return Ok(None);
        };
        Ok(Some(GeoInfo {
            country_name: cc.as_deref().and_then(|c| self.rollups.country_name(c)),
            country_code: cc,
            geoname_id: None,
            continent: None,
            asn: asn.and_then(|a| u32::try_from(a).ok()),
            org: None,
            network: None,
            source: GeoSource::Mmdb,
            db_version: None,
        }))
    }
}
