//! `JobMonitor`: the outcome of every background job's runs — last success, last error (time and
//! message), whether the latest run failed and how many failed — shared by the scheduler, which
//! records, and the health service, which reports. It also counts failures per job in
//! `job_failures_total{job}` of `/metrics`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::IntCounterVec;
use serde::Serialize;

use crate::domain::time::rfc3339;

/// A failed run: when (RFC 3339) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobFailure {
    pub at: String,
    pub message: String,
}

/// What health shows of one job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobStatus {
    /// When a run last succeeded (RFC 3339); `None` before the first success.
    pub last_success: Option<String>,
    pub last_error: Option<JobFailure>,
    /// Whether the most recent run failed.
    pub failing: bool,
    /// Failed runs since start.
    pub failures: u64,
    /// When the run going on now started (RFC 3339); `None` between runs. A run that started
    /// long ago is stuck.
    pub running_since: Option<String>,
    /// How long the latest finished run took, in milliseconds.
    pub last_duration_ms: Option<u64>,
}

impl JobStatus {
    fn finished(&mut self, took: Duration) {
        self.running_since = None;
        self.last_duration_ms = Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
    }
}

/// The outcome of every job's runs, shared by the scheduler (writer) and health (reader).
#[derive(Clone, Default)]
pub struct JobMonitor {
    jobs: Arc<Mutex<BTreeMap<&'static str, JobStatus>>>,
    /// `job_failures_total{job}` of the metrics registry, when there is one.
    failures: Option<IntCounterVec>,
}

impl JobMonitor {
    /// A monitor that also counts failures in `failures` (label `job`).
    pub fn new(failures: IntCounterVec) -> Self {
        Self {
            jobs: Arc::default(),
            failures: Some(failures),
        }
    }

    fn update(&self, id: &'static str, change: impl FnOnce(&mut JobStatus)) {
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(jobs.entry(id).or_default());
    }

    /// Lists a job before its first run, so health names every registered job.
    pub fn known(&self, id: &'static str) {
        self.update(id, |_| {});
    }

    /// A run starts.
    pub fn started(&self, id: &'static str) {
        let now = rfc3339(chrono::Utc::now().timestamp());
        self.update(id, |s| s.running_since = Some(now));
    }

    pub fn succeeded(&self, id: &'static str, took: Duration) {
        let now = rfc3339(chrono::Utc::now().timestamp());
        self.update(id, |s| {
            s.last_success = Some(now);
            s.failing = false;
            s.finished(took);
        });
    }

    /// Whether the job's latest run failed with exactly `message` (a failure that goes on).
    pub fn failing_with(&self, id: &'static str, message: &str) -> bool {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        jobs.get(id).is_some_and(|s| {
            s.failing && s.last_error.as_ref().is_some_and(|e| e.message == message)
        })
    }

    pub fn failed(&self, id: &'static str, message: String, took: Duration) {
        if let Some(counter) = &self.failures {
            counter.with_label_values(&[id]).inc();
        }
        let at = rfc3339(chrono::Utc::now().timestamp());
        self.update(id, |s| {
            s.last_error = Some(JobFailure { at, message });
            s.failing = true;
            s.failures += 1;
            s.finished(took);
        });
    }

    /// Every known job's status, by id.
    pub fn snapshot(&self) -> BTreeMap<String, JobStatus> {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        jobs.iter()
            .map(|(id, s)| (id.to_string(), s.clone()))
            .collect()
    }
}
