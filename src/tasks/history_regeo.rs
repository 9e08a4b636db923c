//! Job `history_regeo`: every [`INTERVAL`], retries the archive's unresolved rows and, after the
//! country MMDB changed build, re-geolocates the rows an older build resolved. Only schedules;
//! the work is `HistoryRegeo::run_once`.

use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "history_regeo";

/// How often the job runs.
pub const INTERVAL: Duration = Duration::from_secs(30);

pub fn spec(state: &AppState) -> JobSpec {
    let regeo = Arc::clone(&state.regeo);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(INTERVAL),
        run: Arc::new(move || {
            let regeo = Arc::clone(&regeo);
            Box::pin(async move {
                regeo.run_once().await?;
                Ok(())
            })
        }),
    }
}
