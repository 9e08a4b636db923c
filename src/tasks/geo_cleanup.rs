//! Job `geo_cache_cleanup`: on `geoip.cleanup_cron` (daily by default) deletes geo_cache rows
//! whose `last_seen` is older than `geoip.retention_days`. Only schedules; the work is
//! `GeoCache::delete_stale`. Info log when rows were deleted, debug when none.

use std::sync::Arc;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "geo_cache_cleanup";

pub fn spec(state: &AppState) -> JobSpec {
    let geo = Arc::clone(&state.geo);
    let retention_days = state.settings.geoip.retention_days;
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Cron(state.settings.geoip.cleanup_cron.clone()),
        run: Arc::new(move || {
            let geo = Arc::clone(&geo);
            Box::pin(async move {
                let deleted = geo
                    .delete_stale(retention_days, chrono::Utc::now().timestamp())
                    .await?;
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
                Ok(())
            })
        }),
    }
}
