//! Job `fail2ban_status`: every 5 s, polls fail2ban's jails and counters for the status
//! snapshot (`/metrics`) and the status events. Only schedules; the work is
//! `Fail2banStatus::poll`.

use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "fail2ban_status";

/// How often fail2ban's status is polled.
pub const INTERVAL: Duration = Duration::from_secs(5);

pub fn spec(state: &AppState) -> JobSpec {
    let status = Arc::clone(&state.fail2ban_status);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(INTERVAL),
        run: Arc::new(move || {
            let status = Arc::clone(&status);
            Box::pin(async move {
                status.poll().await;
                Ok(())
            })
        }),
    }
}
