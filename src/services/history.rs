//! The history archive's writer: copies fail2ban's `bans` rows into BanGUI's own `history`
//! table, geolocated once on the way in, with the hour cells of the rollups kept in the same
//! transaction, and purges rows past the retention. History outlives fail2ban's own purge and
//! the dashboard never reads fail2ban's file.
//!
//! fail2ban writes its database with a rollback journal: a reader holding a transaction for
//! long makes fail2ban drop ban rows. So every read of its file is one short, indexed,
//! LIMITed statement (`Fail2banDb::jail_rows`, paged by `(timeofban, rowid)`), and the next
//! chunk is read while the previous one is geolocated and written. Geolocation here is memory and MMDB only
//! (`GeoCache::lookup_batch_local`); what stays unresolved is retried by the re-geolocation job
//! (`services::history_regeo`), which may ask ip-api.
//!
//! Every archive write (sync, purge, re-geolocation) holds the shared writer lock, so the
//! in-memory rollups follow the table change by change.
//!
//! After each run, the bans it added that fail2ban made in the last [`LIVE_WINDOW_SECONDS`]
//! are published on the event bus (one `ban` event each, in archive order); older rows
//! (the first sync of an existing database, catching up after a stop) are history, not news.
//!
//! Over 500 lines by a few: the steady sync and the first-sync backlog are two speeds of one
//! job and share its cursor, its batch geolocation and its event publishing; splitting them
//! would separate the cursor rule from one of its two users.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use crate::db::{self, history, history_events};
use crate::domain::event::{BanEvent, EventKind};
use crate::domain::rollup::{hour_of, merge_deltas};
use crate::domain::{GeoInfo, Origin};
use crate::fail2ban::database::{BanRecord, Fail2banDb, Fail2banDbError};
use crate::fail2ban::{Fail2banClient, Fail2banError};
use crate::geo::GeoCache;

use super::events::{EventBus, RING_CAPACITY};
use super::rollups::RollupStore;

/// Rows read from fail2ban's database per statement.
const CHUNK: u32 = 5_000;

/// Bans made longer ago than this when they are archived are not published as events.
pub const LIVE_WINDOW_SECONDS: i64 = 600;

/// The host name of rows from the fail2ban this process talks to.
pub const LOCAL_HOST: &str = "local";

/// Why a sync run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("fail2ban runs without a database (dbfile is None); there is no history to archive")]
    NoDatabase,
    #[error("cannot ask fail2ban where its database is")]
    Fail2ban(#[source] Fail2banError),
    #[error(transparent)]
    Fail2banDb(#[from] Fail2banDbError),
    #[error("writing the history archive failed")]
    Archive(#[from] sqlx::Error),
    #[error("geolocating a batch failed")]
    Geo(#[source] tokio::task::JoinError),
}

/// The lock every archive writer holds, shared with the re-geolocation job.
pub type WriterLock = Arc<Mutex<()>>;

pub struct HistorySync {
    db: SqlitePool,
    fail2ban: Fail2banClient,
    geo: Arc<GeoCache>,
    rollups: Arc<RollupStore>,
    configured: Option<PathBuf>,
    retention_days: u32,
    writer: WriterLock,
    events: Arc<EventBus>,
    /// When the last successful run started (epoch seconds, 0: none yet).
    last_success_start: AtomicI64,
    /// fail2ban's database: the path (asked once, kept while fail2ban is down) and its reader.
    reader: Mutex<Option<(PathBuf, Fail2banDb)>>,
    /// Set while a backlog is archived (see [`HistorySync::catching_up`]).
    backlog: AtomicBool,
}

impl HistorySync {
    // Each argument is one dependency built once in `startup.rs`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: SqlitePool,
        fail2ban: Fail2banClient,
        geo: Arc<GeoCache>,
        rollups: Arc<RollupStore>,
        writer: WriterLock,
        events: Arc<EventBus>,
        configured: Option<PathBuf>,
        retention_days: u32,
    ) -> Self {
        Self {
            db,
            fail2ban,
            geo,
            rollups,
            configured,
            retention_days,
            writer,
            events,
            last_success_start: AtomicI64::new(0),
            reader: Mutex::new(None),
            backlog: AtomicBool::new(false),
        }
    }

    /// Whether a backlog (the first sync of a large fail2ban database) is being archived right
    /// now: jobs that read the whole archive wait for its end instead of competing with it.
    pub fn catching_up(&self) -> bool {
        self.backlog.load(Ordering::Acquire)
    }

    /// Where fail2ban's database is: the configured path, else the path fail2ban reports
    /// (asked once; afterwards the sync goes on while fail2ban's socket is down).
    async fn database_path(&self) -> Result<PathBuf, SyncError> {
        if let Some(p) = &self.configured {
            return Ok(p.clone());
        }
        match self.fail2ban.dbfile().await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(SyncError::NoDatabase),
            Err(e) => Err(SyncError::Fail2ban(e)),
        }
    }

    /// When the last successful sync run started (epoch seconds): every row fail2ban wrote
    /// before it is archived. `None` before the first success.
    pub fn last_success_start(&self) -> Option<i64> {
        Some(self.last_success_start.load(Ordering::Acquire)).filter(|t| *t > 0)
    }

    /// Copies every new row and applies the retention; returns how many rows were added.
    pub async fn sync_once(&self) -> Result<u64, SyncError> {
        let started_at = db::now_epoch();
        let added = self.sync_run().await?;
        self.last_success_start.store(started_at, Ordering::Release);
        Ok(added)
    }

    async fn sync_run(&self) -> Result<u64, SyncError> {
        let mut guard = self.reader.lock().await;
        if guard.is_none() {
            let path = self.database_path().await?;
            let reader = Fail2banDb::open(&path).await?;
            *guard = Some((path, reader));
        }
        let Some((_, reader)) = guard.as_ref() else {
            return Ok(0);
        };
        let _writing = self.writer.lock().await;
        let before = history_events::newest_id(&self.db).await?;
        let jails = reader.jail_names().await?;
        let started = Instant::now();
        let mut timings = SyncTimings::default();
        let mut added = 0;
        for jail in jails {
            added += self.sync_jail(reader, &jail, &mut timings).await?;
        }
        if added > 0 {
            tracing::debug!(
                added,
                elapsed_ms = started.elapsed().as_millis() as u64,
                read_ms = timings.read.as_millis() as u64,
                geo_ms = timings.geo.as_millis() as u64,
                write_ms = timings.write.as_millis() as u64,
                "history sync"
            );
        }
        if added > 0 {
            self.publish_bans(before).await;
        }
        let purged = self.purge().await?;
        if added > 0 || purged > 0 {
            self.rollups.publish().await;
        }
        Ok(added)
    }

    /// Publishes the recent bans archived after row `before`. The rows are committed, so a
    /// failed read loses only events, never archive rows; it is logged.
    async fn publish_bans(&self, before: i64) {
        let since = db::now_epoch() - LIVE_WINDOW_SECONDS;
        let limit = u32::try_from(RING_CAPACITY).unwrap_or(u32::MAX);
        match history_events::bans_after(&self.db, before, since, limit).await {
            Ok(rows) => {
                self.events
                    .publish_all(rows.into_iter().filter_map(ban_event));
            }
            Err(e) => tracing::error!(error = %e, "cannot read new bans for the event bus"),
        }
    }

    /// Deletes whole hours older than the retention, rows and cells together.
    async fn purge(&self) -> Result<u64, SyncError> {
        let cutoff = db::now_epoch() - i64::from(self.retention_days) * 86_400;
        let hour = hour_of(cutoff);
        let purged = history::purge_before_hour(&self.db, hour).await?;
        if purged > 0 {
            self.rollups.drop_before(hour);
            tracing::info!(
                purged,
                retention_days = self.retention_days,
                "old history deleted"
            );
        }
        Ok(purged)
    }

    async fn sync_jail(
        &self,
        reader: &Fail2banDb,
        jail: &str,
        timings: &mut SyncTimings,
    ) -> Result<u64, SyncError> {
        // Re-read the newest second: fail2ban may have added rows of that second after the
        // last run; the archive's unique key drops the ones already there.
        let mut read = JailReader {
            reader,
            jail,
            cursor: history::cursor(&self.db, LOCAL_HOST, jail)
                .await?
                .unwrap_or(0),
            after: None,
        };
        let (first, read_time) = timed(read.next()).await;
        timings.read += read_time;
        let mut rows = first?;
        if rows.len() >= CHUNK as usize {
            // A backlog (the first sync, or fail2ban ran long without BanGUI).
            return self.sync_backlog(&mut read, rows, timings).await;
        }
        let mut added = 0;
        loop {
            let full = JailReader::more_after(&rows);
            let write = self.archive(rows, timings);
            if full {
                let (written, (next, read_time)) = tokio::join!(write, timed(read.next()));
                added += written?;
                timings.read += read_time;
                rows = next?;
            } else {
                added += write.await?;
                break;
            }
        }
        Ok(added)
    }

    /// Archives a backlog of one jail: transactions of up to [`BACKLOG_TX`] rows on one
    /// connection with a large page cache, so that each index page a transaction touches is
    /// written once per transaction instead of once per chunk (the per-IP index takes rows at
    /// random places). Each commit carries its cells and cursor, so a kill at any point
    /// resumes exactly; reads of fail2ban's file stay short chunks.
    async fn sync_backlog(
        &self,
        read: &mut JailReader<'_>,
        rows: Vec<BanRecord>,
        timings: &mut SyncTimings,
    ) -> Result<u64, SyncError> {
        self.backlog.store(true, Ordering::Release);
        let result = self
            .sync_backlog_on_one_connection(read, rows, timings)
            .await;
        self.backlog.store(false, Ordering::Release);
        result
    }

    async fn sync_backlog_on_one_connection(
        &self,
        read: &mut JailReader<'_>,
        rows: Vec<BanRecord>,
        timings: &mut SyncTimings,
    ) -> Result<u64, SyncError> {
        let mut conn = self.db.acquire().await?;
        history::bulk_cache(&mut conn, true).await?;
        let result = self
            .backlog_transactions(&mut conn, read, rows, timings)
            .await;
        let reset = history::bulk_cache(&mut conn, false).await;
        let added = result?;
        reset?;
        Ok(added)
    }

    async fn backlog_transactions(
        &self,
        conn: &mut SqliteConnection,
        read: &mut JailReader<'_>,
        mut rows: Vec<BanRecord>,
        timings: &mut SyncTimings,
    ) -> Result<u64, SyncError> {
        let mut added = 0;
        let mut tx = begin_immediate(conn).await?;
        let mut in_tx = 0usize;
        let mut deltas = Vec::new();
        let mut cursors = BTreeMap::new();
        loop {
            let full = JailReader::more_after(&rows);
            let batch = self.geolocate(rows, timings).await?;
            let started = Instant::now();
            let write = history::insert_rows(&mut tx, &batch, db::now_epoch());
            let (written, next) = if full {
                let (written, next) = tokio::join!(write, timed(read.next()));
                (written?, Some(next))
            } else {
                (write.await?, None)
            };
            timings.write += started.elapsed();
            added += written.0;
            deltas.extend(written.1);
            for (k, t) in history::cursors_of(&batch) {
                let c = cursors.entry(k).or_insert(t);
                *c = t.max(*c);
            }
            in_tx += batch.len();
            if in_tx >= BACKLOG_TX || next.is_none() {
                let started = Instant::now();
                let merged = merge_deltas(std::mem::take(&mut deltas));
                history::finish_rows(&mut tx, &merged, &std::mem::take(&mut cursors)).await?;
                tx.commit().await?;
                self.rollups.apply(&merged);
                timings.write += started.elapsed();
                in_tx = 0;
                tx = begin_immediate(conn).await?;
            }
            match next {
                Some((next, read_time)) => {
                    timings.read += read_time;
                    rows = next?;
                }
                None => break,
            }
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Geolocates one chunk (memory and MMDB, on the blocking pool) into archive records.
    async fn geolocate(
        &self,
        rows: Vec<BanRecord>,
        timings: &mut SyncTimings,
    ) -> Result<Vec<history::NewHistory>, SyncError> {
        let started = Instant::now();
        let ips: Vec<IpAddr> = rows
            .iter()
            .filter_map(|r| r.ip.parse::<IpAddr>().ok().map(|a| a.to_canonical()))
            .collect();
        let geo = Arc::clone(&self.geo);
        let found = tokio::task::spawn_blocking(move || geo.lookup_batch_local(&ips))
            .await
            .map_err(SyncError::Geo)?;
        self.rollups.learn_names(
            found
                .values()
                .filter_map(|g| Some((g.country_code.clone()?, g.country_name.clone()?))),
        );
        let batch = rows.into_iter().map(|r| to_history(r, &found)).collect();
        timings.geo += started.elapsed();
        Ok(batch)
    }

    /// Geolocates and writes one chunk; the in-memory rollups follow the commit.
    async fn archive(
        &self,
        rows: Vec<BanRecord>,
        timings: &mut SyncTimings,
    ) -> Result<u64, SyncError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let batch = self.geolocate(rows, timings).await?;
        let started = Instant::now();
        let (added, deltas) = history::insert_batch(&self.db, &batch, db::now_epoch()).await?;
        self.rollups.apply(&deltas);
        timings.write += started.elapsed();
        Ok(added)
    }
}

/// Rows archived per transaction while a backlog is written: large enough that the per-IP
/// index's pages are written a few times rather than once per chunk, small enough that other
/// writers of the database (sessions, the geo cache flush) wait well under the busy timeout.
const BACKLOG_TX: usize = 50_000;

/// A transaction that holds the write lock from its start (`BEGIN IMMEDIATE`): its statements
/// never meet a lock another writer took half-way, which would cost the rows already written
/// in it. A lock held longer than the busy timeout fails the run; the next run continues
/// after the last commit.
async fn begin_immediate(
    conn: &mut SqliteConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error> {
    conn.begin_with("BEGIN IMMEDIATE").await
}

/// Where the next read of one jail's rows in fail2ban's file starts: rows with
/// `timeofban >= cursor`, oldest first, after the last row read in this run (by
/// `(timeofban, rowid)`, so however many rows share one second, every read is one indexed
/// range scan of at most [`CHUNK`] rows; rowids are only compared within one run).
struct JailReader<'a> {
    reader: &'a Fail2banDb,
    jail: &'a str,
    cursor: i64,
    /// The key the next read starts after; `None` until a full chunk was read.
    after: Option<(i64, i64)>,
}

impl JailReader<'_> {
    /// One short, LIMITed statement; after a full chunk, the next read starts past its last
    /// row.
    async fn next(&mut self) -> Result<Vec<BanRecord>, Fail2banDbError> {
        let rows = self
            .reader
            .jail_rows(
                self.jail,
                Some(self.cursor),
                None,
                None,
                false,
                self.after,
                CHUNK,
            )
            .await?;
        if rows.len() >= CHUNK as usize {
            self.after = rows.last().map(|(rowid, r)| (r.timeofban, *rowid));
        }
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }

    /// Whether more rows may follow `rows` (the last read): it was a full chunk.
    fn more_after(rows: &[BanRecord]) -> bool {
        rows.len() >= CHUNK as usize
    }
}

/// Where a sync run spent its time (read and write overlap), logged at debug level.
#[derive(Debug, Default)]
struct SyncTimings {
    read: Duration,
    geo: Duration,
    write: Duration,
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

fn ban_event(row: history_events::ArchivedBan) -> Option<EventKind> {
    let Ok(ip) = row.ip.parse::<IpAddr>() else {
        tracing::warn!(
            ip = row.ip,
            jail = row.jail,
            "archived ban without a valid address"
        );
        return None;
    };
    Some(EventKind::Ban(BanEvent {
        ip,
        time: chrono::DateTime::from_timestamp(row.timeofban, 0).unwrap_or_default(),
        bantime: row.bantime,
        bancount: row.bancount,
        country: row.country_code,
        asn: row.asn.and_then(|a| u32::try_from(a).ok()),
        host: row.host,
        origin: Origin::parse(&row.origin).unwrap_or(Origin::Selfblock),
        jail: row.jail,
    }))
}

/// The stored geolocation of an answer (none for an unresolved IP).
pub fn row_geo(info: Option<&GeoInfo>) -> history::RowGeo {
    match info {
        Some(g) => history::RowGeo {
            country_code: g.country_code.clone(),
            asn: g.asn,
            source: g.country_code.as_ref().map(|_| g.source),
            build: g.db_version,
        },
        None => history::RowGeo::default(),
    }
}

fn to_history(r: BanRecord, geo: &HashMap<IpAddr, Arc<GeoInfo>>) -> history::NewHistory {
    let origin = Origin::of_jail(&r.jail);
    let info =
        r.ip.parse::<IpAddr>()
            .ok()
            .and_then(|a| geo.get(&a.to_canonical()));
    history::NewHistory {
        host: LOCAL_HOST.to_string(),
        matches: (!r.matches.is_empty())
            .then(|| serde_json::to_string(&r.matches).unwrap_or_default()),
        failures: r.failures.and_then(|f| i64::try_from(f).ok()),
        origin,
        geo: row_geo(info.map(|g| g.as_ref())),
        jail: r.jail,
        ip: r.ip,
        timeofban: r.timeofban,
        bantime: r.bantime,
        bancount: r.bancount,
    }
}
