//! Job `geo_re_resolve`: every `geoip.re_resolve_interval_seconds`, retries geo_cache rows
//! without a country or from an older MMDB. Only schedules; the work is
//! `GeoCache::re_resolve_unresolved`.

use std::sync::Arc;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "geo_re_resolve";

pub fn spec(state: &AppState) -> JobSpec {
    let geo = Arc::clone(&state.geo);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(state.settings.geoip.re_resolve_interval),
        run: Arc::new(move || {
            let geo = Arc::clone(&geo);
            Box::pin(async move {
                let out = geo.re_resolve_unresolved().await?;
                if out.total > 0 {
                    tracing::info!(
                        job = JOB_ID,
                        resolved = out.resolved,
                        total = out.total,
                        "geo rows re-resolved"
                    );
                }
                Ok(())
            })
        }),
    }
}
