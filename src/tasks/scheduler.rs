//! Registering a background job is one call: [`register`] takes a [`JobSpec`] (stable id,
//! schedule, async body) and adds it to the `tokio-cron-scheduler` with a no-overlap guard
//! (a run still going makes the next tick skip) and error logging (a failing run logs and the
//! job lives on). It knows nothing about what the jobs do.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio_cron_scheduler::{Job, JobScheduler};

/// When a job runs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every interval, first run one interval after registration.
    Every(Duration),
    /// A 6-field cron expression (seconds first), UTC.
    Cron(String),
}

/// The body of a job: returns an error text to log on failure.
pub type JobFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// One job: a stable id used in logs, when it runs and what it does.
#[derive(Clone)]
pub struct JobSpec {
    pub id: &'static str,
    pub schedule: Schedule,
    pub run: JobFn,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot register job `{id}`: {message}")]
pub struct RegisterError {
    pub id: &'static str,
    pub message: String,
}

/// Wraps `spec.run` with the no-overlap guard and logging, then adds it to `scheduler`.
pub async fn register(scheduler: &JobScheduler, spec: JobSpec) -> Result<(), RegisterError> {
    let id = spec.id;
    let running = Arc::new(AtomicBool::new(false));
    let body = guarded(id, spec.run, running);
    let job = match &spec.schedule {
        Schedule::Every(every) => Job::new_repeated_async(*every, move |_uuid, _lock| body()),
        Schedule::Cron(expr) => Job::new_async(expr.as_str(), move |_uuid, _lock| body()),
    }
    .map_err(|e| RegisterError {
        id,
        message: e.to_string(),
    })?;
    scheduler.add(job).await.map_err(|e| RegisterError {
        id,
        message: e.to_string(),
    })?;
    tracing::info!(job = id, schedule = ?spec.schedule, "job registered");
    Ok(())
}

/// The body as the scheduler calls it: skips when the previous run is still going, logs errors.
pub fn guarded(
    id: &'static str,
    run: JobFn,
    running: Arc<AtomicBool>,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync {
    move || {
        let run = Arc::clone(&run);
        let running = Arc::clone(&running);
        Box::pin(async move {
            if running.swap(true, Ordering::AcqRel) {
                tracing::debug!(job = id, "previous run still going; skipping this tick");
                return;
            }
            let started = Instant::now();
            // Run in its own task so a panic inside the job cannot take the guard with it.
            let outcome = tokio::spawn(run()).await;
            match outcome {
                Ok(Ok(())) => tracing::debug!(
                    job = id,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "job finished"
                ),
                Ok(Err(e)) => tracing::error!(job = id, error = %e, "job failed"),
                Err(e) => tracing::error!(job = id, error = %e, "job crashed"),
            }
            running.store(false, Ordering::Release);
        })
    }
}
