//! Job `history_top`: every 60 s, recomputes the top-offender lists when the archive changed
//! (or every ten minutes, as the windows move), except while the history sync archives a
//! backlog (a first sync of a large fail2ban database): a pass over the growing archive would
//! compete with it and be stale at once. Only schedules; the work is `TopOffenders::refresh`.

use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "history_top";

pub fn spec(state: &AppState) -> JobSpec {
    let top = Arc::clone(&state.top_offenders);
    let history = Arc::clone(&state.history);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(Duration::from_secs(60)),
        run: Arc::new(move || {
            let top = Arc::clone(&top);
            let history = Arc::clone(&history);
            Box::pin(async move {
                if history.catching_up() {
                    return Ok(());
                }
                top.refresh_if_stale().await?;
                Ok(())
            })
        }),
    }
}
