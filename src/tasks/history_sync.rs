//! Job `history_sync`: copies new rows of fail2ban's database into the history archive every
//! `history.sync_interval_seconds`. Only schedules; the work is `HistorySync::sync_once`.

use std::sync::Arc;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "history_sync";

pub fn spec(state: &AppState) -> JobSpec {
    let history = Arc::clone(&state.history);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(state.settings.history.sync_interval),
        run: Arc::new(move || {
            let history = Arc::clone(&history);
            Box::pin(async move {
                let n = history.sync_once().await?;
                if n > 0 {
                    tracing::debug!(job = JOB_ID, archived = n, "history synced");
                }
                Ok(())
            })
        }),
    }
}
