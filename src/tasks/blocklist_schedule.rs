//! Job `blocklist_schedule`: at second 0 of every minute, imports the blocklist sources whose
//! next run (computed from each source's schedule: hourly, daily, weekly or its own cron
//! expression) is due. Only schedules; the work is `BlocklistService::run_due`. A run that
//! outlasts a minute makes the next ticks skip (the scheduler's no-overlap guard), and the
//! sources due meanwhile run on the first tick after it.

use std::sync::Arc;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "blocklist_schedule";

pub fn spec(state: &AppState) -> JobSpec {
    let blocklists = state.blocklists.clone();
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Cron("0 * * * * *".into()),
        run: Arc::new(move || {
            let blocklists = blocklists.clone();
            Box::pin(async move {
                let n = blocklists.run_due().await?;
                if n > 0 {
                    tracing::info!(job = JOB_ID, sources = n, "scheduled blocklist imports ran");
                }
                Ok(())
            })
        }),
    }
}
