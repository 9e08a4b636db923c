//! `AppState`: every long-lived service, built once in `startup.rs` and shared with handlers
//! and jobs as cheap `Arc` clones. There is no other place where state lives.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::SqlitePool;

use crate::config::Settings;
use crate::geo::GeoCache;
use crate::metrics::Metrics;
use crate::services::audit::AuditService;
use crate::services::auth::AuthServices;
use crate::services::bans::BanService;
use crate::services::blocklists::BlocklistService;
use crate::services::dashboard::DashboardService;
use crate::services::events::EventBus;
use crate::services::exporter::MetricsExporter;
use crate::services::fail2ban_log::Fail2banLogService;
use crate::services::fail2ban_status::Fail2banStatus;
use crate::services::filters_actions::FilterActionService;
use crate::services::health::HealthService;
use crate::services::history::HistorySync;
use crate::services::history_lifts::HistoryLifts;
use crate::services::history_query::HistoryQueryService;
use crate::services::history_regeo::HistoryRegeo;
use crate::services::jail_config::JailConfigService;
use crate::services::jails::JailService;
use crate::services::job_monitor::JobMonitor;
use crate::services::live_stream::LiveStreams;
use crate::services::map_settings::MapSettingsService;
use crate::services::notifications::NotificationService;
use crate::services::regex_tester::RegexTesterService;
use crate::services::server_settings::ServerSettingsService;
use crate::services::top_offenders::TopOffenders;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: SqlitePool,
    pub geo: Arc<GeoCache>,
    pub auth: Arc<AuthServices>,
    pub audit: AuditService,
    pub history: Arc<HistorySync>,
    pub regeo: Arc<HistoryRegeo>,
    pub dashboard: Arc<DashboardService>,
    pub bans: BanService,
    pub blocklists: BlocklistService,
    pub jails: JailService,
    pub server: ServerSettingsService,
    pub jail_config: JailConfigService,
    pub fail2ban_log: Fail2banLogService,
    pub map_settings: MapSettingsService,
    pub history_query: Arc<HistoryQueryService>,
    pub history_lifts: Arc<HistoryLifts>,
    pub top_offenders: Arc<TopOffenders>,
    pub metrics: Arc<Metrics>,
    pub scheduler_running: Arc<AtomicBool>,
    /// Outcomes of the background jobs' runs (for health and `/metrics`).
    pub jobs: JobMonitor,
    pub health: Arc<HealthService>,
    /// Notification channels and their delivery pipeline.
    pub notifications: Arc<NotificationService>,
    /// The event stream (bans, unbans, status changes, failures): publish and subscribe.
    pub events: Arc<EventBus>,
    /// The latest fail2ban status poll (jails, counters, online).
    pub fail2ban_status: Arc<Fail2banStatus>,
    /// `/metrics` beyond the registry: fail2ban exporter series and BanGUI's own.
    pub exporter: Arc<MetricsExporter>,
    /// The SSE streams of the event bus (open count, limits, close on shutdown).
    pub live_streams: Arc<LiveStreams>,
    pub regex_tester: RegexTesterService,
    pub filters_actions: FilterActionService,
}

impl AppState {
    pub fn scheduler_is_running(&self) -> bool {
        self.scheduler_running.load(Ordering::Relaxed)
    }
}
