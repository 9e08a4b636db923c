//! Job `history_top`: every 60 s, recomputes the top-offender lists when the archive changed
//! (or every ten minutes, as the windows move). Only schedules; the work is
//! `TopOffenders::refresh`.

use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "history_top";

pub fn spec(state: &AppState) -> JobSpec {
    let top = Arc::clone(&state.top_offenders);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(Duration::from_secs(60)),
        run: Arc::new(move || {
            let top = Arc::clone(&top);
            Box::pin(async move {
                top.refresh_if_stale().await?;
                Ok(())
            })
        }),
    }
}
