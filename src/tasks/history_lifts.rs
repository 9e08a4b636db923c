//! Job `history_lifts`: every 4 s, records archived bans that were unbanned outside BanGUI (and
//! publishes them as `unban` events), so such an unban is seen within about 5 s.
//! Only schedules; the work is `HistoryLifts::detect`.

use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "history_lifts";

pub fn spec(state: &AppState) -> JobSpec {
    let lifts = Arc::clone(&state.history_lifts);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(Duration::from_secs(4)),
        run: Arc::new(move || {
            let lifts = Arc::clone(&lifts);
            Box::pin(async move {
                lifts.detect().await?;
                Ok(())
            })
        }),
    }
}
