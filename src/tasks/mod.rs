//! Background jobs. [`scheduler`] turns a [`scheduler::JobSpec`] into a guarded
//! `tokio-cron-scheduler` job; one file per job builds its spec from the application state;
//! [`register_all`] adds every job at start-up. Jobs call services; they hold no state of
//! their own.

pub mod blocklist_schedule;
pub mod fail2ban_status;
pub mod geo_cleanup;
pub mod geo_flush;
pub mod geo_re_resolve;
pub mod history_lifts;
pub mod history_regeo;
pub mod history_sync;
pub mod history_top;
pub mod scheduler;
pub mod session_cleanup;

use tokio_cron_scheduler::JobScheduler;

use crate::state::AppState;

pub use scheduler::{JobError, JobFn, JobMonitor, JobSpec, RegisterError, Schedule, register};

/// Registers every job of the application.
pub async fn register_all(scheduler: &JobScheduler, state: &AppState) -> Result<(), RegisterError> {
    let jobs = &state.jobs;
    register(scheduler, jobs, geo_flush::spec(state)).await?;
    register(scheduler, jobs, geo_re_resolve::spec(state)).await?;
    register(scheduler, jobs, geo_cleanup::spec(state)).await?;
    register(scheduler, jobs, history_sync::spec(state)).await?;
    register(scheduler, jobs, history_regeo::spec(state)).await?;
    register(scheduler, jobs, session_cleanup::spec(state)).await?;
    register(scheduler, jobs, history_lifts::spec(state)).await?;
    register(scheduler, jobs, history_top::spec(state)).await?;
    register(scheduler, jobs, fail2ban_status::spec(state)).await?;
    register(scheduler, jobs, blocklist_schedule::spec(state)).await?;
    Ok(())
}
