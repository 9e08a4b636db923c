//! Health of the process and its dependencies: the own database, fail2ban (as the status poll
//! last saw it, refreshed for the request when older than a second; a fail2ban too busy to
//! answer at once counts as online until two polls in a row time out, and as `unresponsive`
//! once it has answered no poll for 15 s), the GeoIP
//! database, the scheduler and each background job (last success, last error). fail2ban or the
//! MMDB being absent, or a job whose latest run failed, degrades the service; only a broken own
//! database makes it unavailable. The full report names files, sockets and error texts, so
//! anonymous callers get [`HealthReport::summary`], which holds states only.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use sqlx::SqlitePool;

use super::fail2ban_status::Fail2banStatus;
use super::job_monitor::{JobMonitor, JobStatus};
use crate::geo::{GeoCache, MmdbState, MmdbStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OverallState {
    Ok,
    Degraded,
    Unavailable,
}

#[derive(Debug, Serialize)]
pub struct ComponentState {
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The own database: whether it answers, and its connection pool (all connections busy for
/// long means a stuck or overloaded writer).
#[derive(Debug, Serialize)]
pub struct DatabaseHealth {
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Open connections in the pool.
    pub connections: u32,
    /// Of those, how many are idle.
    pub idle_connections: usize,
}

#[derive(Debug, Serialize)]
pub struct Fail2banHealth {
    pub state: &'static str,
    pub socket: String,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HealthReport {
    pub status: OverallState,
    pub version: &'static str,
    pub database: DatabaseHealth,
    pub fail2ban: Fail2banHealth,
    /// The whole status of the GeoIP database, including its last load or reload error.
    pub geoip: MmdbStatus,
    pub scheduler: ComponentState,
    /// Each background job by id.
    pub jobs: BTreeMap<String, JobStatus>,
}

/// The state of one part, without paths or error texts.
#[derive(Debug, Serialize)]
pub struct StateOnly {
    pub state: &'static str,
}

/// What anyone may see: overall status, version and the state of each part.
#[derive(Debug, Serialize)]
pub struct HealthSummary {
    pub status: OverallState,
    pub version: &'static str,
    pub database: StateOnly,
    pub fail2ban: StateOnly,
    pub geoip: StateOnly,
    pub scheduler: StateOnly,
    /// Jobs whose latest run failed (ids only).
    pub failing_jobs: Vec<String>,
}

impl HealthReport {
    /// The report without file or socket paths and error messages.
    pub fn summary(&self) -> HealthSummary {
        let geoip = match self.geoip.state {
            MmdbState::Loaded => "loaded",
            MmdbState::Absent => "absent",
            _ => "error",
        };
        HealthSummary {
            status: self.status,
            version: self.version,
            database: StateOnly {
                state: self.database.state,
            },
            fail2ban: StateOnly {
                state: self.fail2ban.state,
            },
            geoip: StateOnly { state: geoip },
            scheduler: StateOnly {
                state: self.scheduler.state,
            },
            failing_jobs: self
                .jobs
                .iter()
                .filter(|(_, s)| s.failing)
                .map(|(id, _)| id.clone())
                .collect(),
        }
    }
}

/// The health service: built once in `startup.rs`.
pub struct HealthService {
    db: SqlitePool,
    fail2ban: Arc<Fail2banStatus>,
    /// fail2ban's socket, named in the report.
    socket: String,
    geo: Arc<GeoCache>,
    jobs: JobMonitor,
    scheduler_running: Arc<AtomicBool>,
}

impl HealthService {
    pub fn new(
        db: SqlitePool,
        fail2ban: Arc<Fail2banStatus>,
        socket: String,
        geo: Arc<GeoCache>,
        jobs: JobMonitor,
        scheduler_running: Arc<AtomicBool>,
    ) -> Self {
        Self {
            db,
            fail2ban,
            socket,
            geo,
            jobs,
            scheduler_running,
        }
    }

    pub async fn report(&self) -> HealthReport {
        let (db, f2b) = tokio::join!(crate::db::ping(&self.db), self.fail2ban.for_request());
        let (state, error) = match db {
            Ok(()) => ("ok", None),
            Err(e) => ("error", Some(e.to_string())),
        };
        let database = DatabaseHealth {
            state,
            error,
            connections: self.db.size(),
            idle_connections: self.db.num_idle(),
        };
        let fail2ban = match f2b.silent_for() {
            Some(silent) => Fail2banHealth {
                state: "unresponsive",
                socket: self.socket.clone(),
                error: Some(format!(
                    "fail2ban has not answered for {} s",
                    silent.as_secs()
                )),
            },
            None => Fail2banHealth {
                state: if f2b.is_online() { "online" } else { "offline" },
                socket: self.socket.clone(),
                error: f2b.offline_reason(),
            },
        };
        let geoip = self.geo.mmdb_status();
        let scheduler = if self.scheduler_running.load(Ordering::Relaxed) {
            ComponentState {
                state: "running",
                error: None,
            }
        } else {
            ComponentState {
                state: "stopped",
                error: None,
            }
        };
        let jobs = self.jobs.snapshot();
        let status = if database.error.is_some() {
            OverallState::Unavailable
        } else if fail2ban.error.is_some()
            || geoip.state != MmdbState::Loaded
            || scheduler.state != "running"
            || jobs.values().any(|j| j.failing)
        {
            OverallState::Degraded
        } else {
            OverallState::Ok
        };
        HealthReport {
            status,
            version: env!("CARGO_PKG_VERSION"),
            database,
            fail2ban,
            geoip,
            scheduler,
            jobs,
        }
    }

    /// Readiness: the own database answers. fail2ban being down is shown in the UI, not hidden by
    /// taking the dashboard out of rotation.
    pub async fn ready(&self) -> Result<(), sqlx::Error> {
        crate::db::ping(&self.db).await
    }
}
