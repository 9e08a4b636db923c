//! Re-geolocation of the archive, off the request path: rows archived unresolved are retried
//! (through `GeoCache::lookup_batch_shared`, so ip-api answers flow in when that opt-in
//! fallback is on), and when the country MMDB's build changes every row an older build
//! resolved is looked up again. Work goes in bounded chunks of [`CHUNK`] rows, each written in
//! one transaction that also moves the counted bans between the rollups' country cells.
//!
//! Progress survives between runs: a pass for one MMDB build resumes after the last row id it
//! finished, and starts over from the first row when the build changes.

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use sqlx::SqlitePool;
use tokio::sync::Mutex;

use crate::db::history;
use crate::geo::GeoCache;

use super::history::{WriterLock, row_geo};
use super::rollups::RollupStore;

/// Rows per chunk.
const CHUNK: i64 = 2_000;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegeoOutcome {
    /// Rows looked at.
    pub examined: u64,
    /// Rows whose stored geolocation changed.
    pub changed: u64,
}

#[derive(Debug, Default)]
struct Progress {
    build: Option<u64>,
    after_id: i64,
}

pub struct HistoryRegeo {
    db: SqlitePool,
    geo: Arc<GeoCache>,
    rollups: Arc<RollupStore>,
    writer: WriterLock,
    progress: Mutex<Progress>,
}

impl HistoryRegeo {
    pub fn new(
        db: SqlitePool,
        geo: Arc<GeoCache>,
        rollups: Arc<RollupStore>,
        writer: WriterLock,
    ) -> Self {
        Self {
            db,
            geo,
            rollups,
            writer,
            progress: Mutex::new(Progress::default()),
        }
    }

    /// Continues the pass for the serving MMDB build, then retries every unresolved row.
    pub async fn run_once(&self) -> Result<RegeoOutcome, sqlx::Error> {
        let mut progress = self.progress.lock().await;
        let build = self.geo.mmdb_status().build_epoch;
        if progress.build != build {
            *progress = Progress { build, after_id: 0 };
        }
        let mut out = RegeoOutcome::default();
        if build.is_some() {
            // Rows up to here are examined by this pass; the next pass starts after them (it
            // used to start again at the first row whenever no row needed a new answer, reading
            // the whole archive every 30 s).
            let end = history::max_id(&self.db).await?;
            loop {
                let rows =
                    history::regeo_candidates(&self.db, progress.after_id, build, CHUNK).await?;
                let Some(last) = rows.last().map(|(id, _)| *id) else {
                    progress.after_id = progress.after_id.max(end);
                    break;
                };
                self.chunk(&rows, &mut out).await?;
                progress.after_id = last;
            }
        }
        let mut after = 0;
        loop {
            let rows = history::regeo_candidates(&self.db, after, None, CHUNK).await?;
            let Some(last) = rows.last().map(|(id, _)| *id) else {
                break;
            };
            self.chunk(&rows, &mut out).await?;
            after = last;
        }
        if out.changed > 0 {
            self.rollups.publish().await;
            tracing::info!(
                examined = out.examined,
                changed = out.changed,
                "archive re-geolocated"
            );
        }
        Ok(out)
    }

    async fn chunk(
        &self,
        rows: &[(i64, String)],
        out: &mut RegeoOutcome,
    ) -> Result<(), sqlx::Error> {
        let parsed: Vec<(i64, Option<IpAddr>)> = rows
            .iter()
            .map(|(id, ip)| (*id, ip.parse::<IpAddr>().ok().map(|a| a.to_canonical())))
            .collect();
        let ips: Vec<IpAddr> = parsed.iter().filter_map(|(_, ip)| *ip).collect();
        let found = self.geo.lookup_batch_shared(&ips).await;
        self.rollups.learn_names(
            found
                .values()
                .filter_map(|g| Some((g.country_code.clone()?, g.country_name.clone()?))),
        );
        let updates: Vec<(i64, history::RowGeo)> = parsed
            .into_iter()
            .map(|(id, ip)| {
                (
                    id,
                    row_geo(ip.and_then(|a| found.get(&a)).map(|g| g.as_ref())),
                )
            })
            .collect();
        let _writing = self.writer.lock().await;
        let (changed, deltas) = history::set_geo(&self.db, &updates).await?;
        self.rollups.apply(&deltas);
        out.examined += rows.len() as u64;
        out.changed += changed;
        Ok(())
    }
}
