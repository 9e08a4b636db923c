//! `AppState`: every long-lived service, built once in `startup.rs` and shared with handlers
//! and jobs as cheap `Arc` clones. There is no other place where state lives.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::SqlitePool;

use crate::config::Settings;
use crate::fail2ban::Fail2banClient;
use crate::geo::GeoCache;
use crate::metrics::Metrics;
use crate::services::aggregate_cache::AggregateCache;
use crate::services::audit::AuditService;
use crate::services::auth::AuthServices;
use crate::services::history::HistorySync;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: SqlitePool,
    pub fail2ban: Fail2banClient,
    pub geo: Arc<GeoCache>,
    pub auth: Arc<AuthServices>,
    pub audit: AuditService,
    pub history: Arc<HistorySync>,
    pub aggregates: Arc<AggregateCache>,
    pub metrics: Arc<Metrics>,
    pub scheduler_running: Arc<AtomicBool>,
}

impl AppState {
    pub fn scheduler_is_running(&self) -> bool {
        self.scheduler_running.load(Ordering::Relaxed)
    }
}
