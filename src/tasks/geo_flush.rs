//! Job `geo_cache_flush`: writes the geo cache's dirty set to the database every
//! `geoip.flush_interval_seconds`. Only schedules; the work is `GeoCache::flush_dirty`.

use std::sync::Arc;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "geo_cache_flush";

pub fn spec(state: &AppState) -> JobSpec {
    let geo = Arc::clone(&state.geo);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(state.settings.geoip.flush_interval),
        run: Arc::new(move || {
            let geo = Arc::clone(&geo);
            Box::pin(async move {
                let n = geo.flush_dirty().await?;
                if n > 0 {
                    tracing::debug!(job = JOB_ID, flushed = n, "geo cache flushed");
                }
                Ok(())
            })
        }),
    }
}
