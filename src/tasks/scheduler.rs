//! Registering a background job is one call: [`register`] takes a [`JobSpec`] (stable id,
//! schedule, async body) and adds it to the `tokio-cron-scheduler` with a no-overlap guard
//! (a run still going makes the next tick skip) and error logging (a failing run logs and the
//! job lives on). Every run's outcome goes to the [`JobMonitor`]: last success, last error
//! (time and message) and the per-job failure counter of `/metrics`, which health reports.
//! It knows nothing about what the jobs do.
//!
//! Interval jobs ([`Schedule::Every`]) are not `tokio-cron-scheduler`'s repeated jobs: those
//! compute each next tick as the previous tick plus the interval, so a scheduler loop delayed
//! by more than one interval (a loaded machine, an attack) leaves the next tick behind the
//! last one and the job never runs again (upstream issue mvniekerk/tokio-cron-scheduler#113,
//! seen here as an archive sync that silently stopped). An interval job is instead a cron job
//! ticking every second that runs its body when the interval has passed since its last start;
//! cron ticks are computed from the current time, so they cannot fall behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio_cron_scheduler::{Job, JobScheduler};

pub use crate::services::job_monitor::JobMonitor;

/// When a job runs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every interval, first run one interval after registration.
    Every(Duration),
    /// A 6-field cron expression (seconds first), UTC.
    Cron(String),
}

/// Why a run failed: any error with its cause chain (each job's own `thiserror` type).
pub type JobError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The body of a job.
pub type JobFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// The message of an error followed by its causes (`a: b: c`).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One job: a stable id used in logs, when it runs and what it does.
#[derive(Clone)]
pub struct JobSpec {
    pub id: &'static str,
    pub schedule: Schedule,
    pub run: JobFn,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot register job `{id}`")]
pub struct RegisterError {
    pub id: &'static str,
    #[source]
    pub source: tokio_cron_scheduler::JobSchedulerError,
}

/// The cron expression of the tick that drives interval jobs.
const EVERY_SECOND: &str = "* * * * * *";

/// When an interval job is next due: one interval after registration, then one interval after
/// each start (a late tick starts the run late; it never makes the job skip for good).
struct IntervalGate {
    every: Duration,
    next: std::sync::Mutex<Instant>,
}

impl IntervalGate {
    fn new(every: Duration) -> Self {
        Self {
            every,
            next: std::sync::Mutex::new(Instant::now() + every),
        }
    }

    /// Whether a run starts now; if so, the next one is due one interval later.
    fn is_due(&self, now: Instant) -> bool {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now < *next {
            return false;
        }
        // Ticks come whole seconds apart: a small tolerance keeps a 1 s interval at every tick.
        *next = now + self.every.saturating_sub(Duration::from_millis(100));
        true
    }
}

/// Wraps `spec.run` with the no-overlap guard, logging and `monitor`, then adds it to
/// `scheduler`.
pub async fn register(
    scheduler: &JobScheduler,
    monitor: &JobMonitor,
    spec: JobSpec,
) -> Result<(), RegisterError> {
    let id = spec.id;
    let running = Arc::new(AtomicBool::new(false));
    monitor.known(id);
    let body = guarded(id, spec.run, running, monitor.clone());
    let job = match &spec.schedule {
        Schedule::Every(every) => {
            let due = IntervalGate::new(*every);
            Job::new_async(EVERY_SECOND, move |_uuid, _lock| {
                if due.is_due(Instant::now()) {
                    body()
                } else {
                    Box::pin(async {})
                }
            })
        }
        Schedule::Cron(expr) => Job::new_async(expr.as_str(), move |_uuid, _lock| body()),
    }
    .map_err(|source| RegisterError { id, source })?;
    scheduler
        .add(job)
        .await
        .map_err(|source| RegisterError { id, source })?;
    tracing::info!(job = id, schedule = ?spec.schedule, "job registered");
    Ok(())
}

/// The body as the scheduler calls it: skips when the previous run is still going, logs errors
/// and records each outcome in `monitor`.
pub fn guarded(
    id: &'static str,
    run: JobFn,
    running: Arc<AtomicBool>,
    monitor: JobMonitor,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync {
    move || {
        let run = Arc::clone(&run);
        let running = Arc::clone(&running);
        let monitor = monitor.clone();
        Box::pin(async move {
            if running.swap(true, Ordering::AcqRel) {
                tracing::debug!(job = id, "previous run still going; skipping this tick");
                return;
            }
            let started = Instant::now();
            monitor.started(id);
            // Run in its own task so a panic inside the job cannot take the guard with it.
            let outcome = tokio::spawn(run()).await;
            match outcome {
                Ok(Ok(())) => {
                    tracing::debug!(
                        job = id,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "job finished"
                    );
                    monitor.succeeded(id, started.elapsed());
                }
                Ok(Err(e)) => {
                    let message = error_chain(e.as_ref());
                    // A failure that goes on (fail2ban down for an hour) is logged once, when
                    // it starts; later runs with the same error are debug lines. Health and
                    // the failure counter still count every run.
                    if monitor.failing_with(id, &message) {
                        tracing::debug!(job = id, error = %message, "job still failing");
                    } else {
                        tracing::error!(job = id, error = %message, "job failed");
                    }
                    monitor.failed(id, message, started.elapsed());
                }
                Err(e) => {
                    tracing::error!(job = id, error = %e, "job crashed");
                    monitor.failed(id, format!("the job crashed: {e}"), started.elapsed());
                }
            }
            running.store(false, Ordering::Release);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::job_monitor::JobStatus;
    use prometheus::IntCounterVec;
    use std::sync::atomic::AtomicUsize;

    fn counting_job(runs: Arc<AtomicUsize>, hold: Duration, fail: bool) -> JobFn {
        Arc::new(move || {
            let runs = Arc::clone(&runs);
            Box::pin(async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(hold).await;
                if fail { Err("boom".into()) } else { Ok(()) }
            })
        })
    }

    #[tokio::test]
    async fn a_tick_while_the_previous_run_is_still_going_is_skipped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let body = guarded(
            "test",
            counting_job(Arc::clone(&runs), Duration::from_millis(200), false),
            Arc::new(AtomicBool::new(false)),
            JobMonitor::default(),
        );
        let first = tokio::spawn(body());
        tokio::time::sleep(Duration::from_millis(50)).await;
        body().await; // overlaps: skipped
        first.await.expect("first run");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        body().await; // the guard was released
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failing_or_panicking_job_is_logged_and_runs_again_next_time() {
        let runs = Arc::new(AtomicUsize::new(0));
        let body = guarded(
            "failing",
            counting_job(Arc::clone(&runs), Duration::ZERO, true),
            Arc::new(AtomicBool::new(false)),
            JobMonitor::default(),
        );
        body().await;
        body().await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let panicking: JobFn = Arc::new(|| Box::pin(async { panic!("job bug") }));
        let body = guarded(
            "panicking",
            panicking,
            Arc::new(AtomicBool::new(false)),
            JobMonitor::default(),
        );
        body().await;
        body().await; // still callable: the guard was released after the crash
    }

    #[tokio::test]
    async fn each_outcome_is_recorded_with_its_time_and_failures_are_counted_per_job() {
        let counter = IntCounterVec::new(
            prometheus::Opts::new("job_failures_total", "test"),
            &["job"],
        )
        .expect("counter");
        let monitor = JobMonitor::new(counter.clone());
        monitor.known("idle");
        let failing = guarded(
            "failing",
            counting_job(Arc::new(AtomicUsize::new(0)), Duration::ZERO, true),
            Arc::new(AtomicBool::new(false)),
            monitor.clone(),
        );
        failing().await;
        failing().await;
        let passing = guarded(
            "passing",
            counting_job(Arc::new(AtomicUsize::new(0)), Duration::ZERO, false),
            Arc::new(AtomicBool::new(false)),
            monitor.clone(),
        );
        passing().await;
        let jobs = monitor.snapshot();
        assert_eq!(jobs["idle"], JobStatus::default());
        let f = &jobs["failing"];
        assert!(f.failing && f.last_success.is_none() && f.failures == 2);
        assert_eq!(
            f.last_error.as_ref().map(|e| e.message.as_str()),
            Some("boom")
        );
        let p = &jobs["passing"];
        assert!(!p.failing && p.last_success.is_some() && p.last_error.is_none());
        assert_eq!(counter.with_label_values(&["failing"]).get(), 2);
        // The second identical failure is one that goes on (logged at debug, still counted).
        assert!(monitor.failing_with("failing", "boom"));
        assert!(!monitor.failing_with("failing", "another error"));
        assert!(!monitor.failing_with("passing", "boom"));
        assert_eq!(counter.with_label_values(&["passing"]).get(), 0);
    }

    #[test]
    fn an_interval_gate_opens_once_per_interval_and_late_ticks_do_not_close_it() {
        let gate = IntervalGate::new(Duration::from_secs(2));
        let start = Instant::now();
        assert!(!gate.is_due(start));
        assert!(gate.is_due(start + Duration::from_secs(2)));
        assert!(!gate.is_due(start + Duration::from_secs(3)));
        // Ten intervals late: runs, then is due again one interval after that late start.
        assert!(gate.is_due(start + Duration::from_secs(24)));
        assert!(!gate.is_due(start + Duration::from_secs(25)));
        assert!(gate.is_due(start + Duration::from_secs(26)));
    }

    #[tokio::test]
    async fn an_interval_job_keeps_running_after_the_scheduler_was_held_up_for_several_intervals() {
        // The runtime of this test has one thread: blocking it delays the scheduler's loop,
        // as a loaded machine does. tokio-cron-scheduler's repeated jobs stop for good then.
        let scheduler = JobScheduler::new().await.expect("scheduler");
        let runs = Arc::new(AtomicUsize::new(0));
        register(
            &scheduler,
            &JobMonitor::default(),
            JobSpec {
                id: "every_second",
                schedule: Schedule::Every(Duration::from_secs(1)),
                run: counting_job(Arc::clone(&runs), Duration::ZERO, false),
            },
        )
        .await
        .expect("interval job");
        scheduler.start().await.expect("start");
        let wait_for = |n: usize| {
            let runs = Arc::clone(&runs);
            async move {
                for _ in 0..100 {
                    if runs.load(Ordering::SeqCst) >= n {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                false
            }
        };
        assert!(wait_for(1).await, "the job ran once");
        std::thread::sleep(Duration::from_millis(3_500));
        let after_stall = runs.load(Ordering::SeqCst);
        assert!(
            wait_for(after_stall + 3).await,
            "the job kept running after the stall"
        );
        let mut scheduler = scheduler;
        scheduler.shutdown().await.expect("shutdown");
    }

    #[tokio::test]
    async fn registered_jobs_run_on_the_real_scheduler() {
        let scheduler = JobScheduler::new().await.expect("scheduler");
        let runs = Arc::new(AtomicUsize::new(0));
        register(
            &scheduler,
            &JobMonitor::default(),
            JobSpec {
                id: "every_second",
                schedule: Schedule::Every(Duration::from_secs(1)),
                run: counting_job(Arc::clone(&runs), Duration::ZERO, false),
            },
        )
        .await
        .expect("interval job");
        register(
            &scheduler,
            &JobMonitor::default(),
            JobSpec {
                id: "cron",
                schedule: Schedule::Cron("0 30 3 * * *".into()),
                run: counting_job(Arc::new(AtomicUsize::new(0)), Duration::ZERO, false),
            },
        )
        .await
        .expect("cron job");
        let bad = register(
            &scheduler,
            &JobMonitor::default(),
            JobSpec {
                id: "bad_cron",
                schedule: Schedule::Cron("30 3 * * *".into()),
                run: counting_job(Arc::new(AtomicUsize::new(0)), Duration::ZERO, false),
            },
        )
        .await;
        assert!(bad.is_err_and(|e| e.id == "bad_cron"));
        scheduler.start().await.expect("start");
        for _ in 0..100 {
            if runs.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(runs.load(Ordering::SeqCst) >= 1);
        let mut scheduler = scheduler;
        scheduler.shutdown().await.expect("shutdown");
    }
}
