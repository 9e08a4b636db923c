//! Job `session_cleanup`: deletes expired sessions and forgets stale login-throttle records,
//! hourly. Only schedules; the work is `AuthService::cleanup`.

use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{JobSpec, Schedule};
use crate::state::AppState;

pub const JOB_ID: &str = "session_cleanup";

pub fn spec(state: &AppState) -> JobSpec {
    let auth = Arc::clone(&state.auth);
    JobSpec {
        id: JOB_ID,
        schedule: Schedule::Every(Duration::from_secs(3600)),
        run: Arc::new(move || {
            let auth = Arc::clone(&auth);
            Box::pin(async move {
                let n = auth.cleanup().await?;
                if n > 0 {
                    tracing::info!(job = JOB_ID, deleted = n, "expired sessions deleted");
                }
                Ok(())
            })
        }),
    }
}
