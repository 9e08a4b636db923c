//! Job `geo_cache_cleanup`: on `geoip.cleanup_cron` (daily by default) deletes geo_cache rows
//! whose `last_seen` is older than `geoip.retention_days`. Info log when rows were deleted,
//! debug when none.

use std::sync::Arc;

use sqlx::SqlitePool;

use super::scheduler::{JobSpec, Schedule};
use crate::db::geo_cache;
use crate::state::AppState;

pub const JOB_ID: &str = "geo_cache_cleanup";

/// One cleanup run at `now` (epoch seconds); returns the number of deleted rows.
pub async fn run(pool: &SqlitePool, retention_days: u32, now: i64) -> Result<u64, sqlx::Error> {
    let cutoff = now - i64::from(retention_days) * 86_400;
    let deleted = geo_cache::delete_stale(pool, cutoff).await?;
    if deleted > 0 {
        tracing::info!(
            job = JOB_ID,
            deleted,
            retention_days,
            "stale geo_cache rows deleted"
        );
    } else {
        tracing::debug!(job = JOB_ID, retention_days, "no stale geo_cache rows");
    }
    Ok(deleted)
}

pub fn spec(state: &AppState) -> JobSpec {
    let pool = state.db.clone();
    let days = state.settings.geoip.retention_days;
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Cron(state.settings.geoip.cleanup_cron.clone()),
        run: Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move {
                run(&pool, days, crate::db::now_epoch())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        }),
    }
}
