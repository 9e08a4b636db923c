//! `Application`: takes the single-instance lock, opens the database and applies migrations,
//! builds every service once, starts the scheduler, binds the HTTP server (port 0 works for
//! tests) and, on SIGINT/SIGTERM, stops accepting, lets requests in flight finish, runs the
//! shutdown steps and releases the lock.
//!
//! Over 500 lines on purpose: it is the composition root, the one place that builds every
//! service with exactly its dependencies, so it lists them all.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use tokio_cron_scheduler::JobScheduler;

use crate::config::Settings;
use crate::db::{self, DbError};
use crate::error::extractors;
use crate::fail2ban::config_files::ConfigWriter;
use crate::fail2ban::regex_tool::{RegexTool, RegexToolConfig};
use crate::fail2ban::{ClientConfig, Fail2banClient};
use crate::geo::GeoCache;
use crate::geo::watcher::MmdbWatcher;
use crate::instance_lock::{InstanceLock, LockError};
use crate::metrics::Metrics;
use crate::services::audit::AuditService;
use crate::services::auth::AuthServices;
use crate::services::bans::BanService;
use crate::services::blocklists::{
    BlocklistService, FetchLimits, Fetcher, ImportLimits, SystemResolver,
};
use crate::services::dashboard::DashboardService;
use crate::services::events::EventBus;
use crate::services::exporter::MetricsExporter;
use crate::services::fail2ban_log::Fail2banLogService;
use crate::services::fail2ban_status::Fail2banStatus;
use crate::services::filters_actions::FilterActionService;
use crate::services::health::HealthService;
use crate::services::history::{HistorySync, WriterLock};
use crate::services::history_lifts::HistoryLifts;
use crate::services::history_query::HistoryQueryService;
use crate::services::history_regeo::HistoryRegeo;
use crate::services::jail_config::JailConfigService;
use crate::services::jails::JailService;
use crate::services::job_monitor::JobMonitor;
use crate::services::live_stream::LiveStreams;
use crate::services::map_settings::MapSettingsService;
use crate::services::notifications::{NotificationError, NotificationService};
use crate::services::regex_tester::RegexTesterService;
use crate::services::rollups::RollupStore;
use crate::services::server_settings::ServerSettingsService;
use crate::services::top_offenders::TopOffenders;
use crate::state::AppState;
use crate::{middleware, routes};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("cannot prepare the data directory {dir}: {source}")]
    DataDir { dir: String, source: std::io::Error },
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("cannot load the ban rollups")]
    Rollups(#[source] sqlx::Error),
    #[error("cannot start the scheduler: {0}")]
    Scheduler(String),
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    #[error("cannot start notifications: {0}")]
    Notifications(#[from] NotificationError),
}

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    scheduler: JobScheduler,
    lock: InstanceLock,
    signals: Option<StopSignals>,
    watcher: MmdbWatcher,
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// SIGTERM and SIGINT streams, registered before the server announces itself so that an early
/// signal is never handled by the default action (which would kill the process).
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Option<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(term), Ok(int)) => Some(Self { term, int }),
            _ => {
                tracing::error!("cannot install signal handlers; stop the process with SIGKILL");
                None
            }
        }
    }
}

impl Application {
    /// Builds everything and binds the listener; serving starts with [`Self::run_until_stopped`].
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        let lock = InstanceLock::acquire(&settings.database.path)?;
        settings
            .ensure_session_secret()
            .map_err(|source| StartupError::DataDir {
                dir: settings.data_dir().display().to_string(),
                source,
            })?;
        let pool = db::connect(&settings.database.path, settings.database.busy_timeout).await?;

        let fail2ban = Fail2banClient::new(ClientConfig {
            socket: settings.fail2ban.socket.clone(),
            command_timeout: settings.fail2ban.command_timeout,
            max_concurrency: settings.fail2ban.max_concurrency,
            max_reply_bytes: settings.fail2ban.max_reply_bytes,
            config_dir: settings.fail2ban.config_dir.clone(),
            client_path: settings.fail2ban.client_path.clone(),
        });
        let metrics = Arc::new(Metrics::new().map_err(|e| StartupError::Metrics(e.to_string()))?);
        let geo = Arc::new(GeoCache::new(
            &settings.geoip,
            pool.clone(),
            Arc::clone(&metrics),
        ));
        let scheduler = JobScheduler::new()
            .await
            .map_err(|e| StartupError::Scheduler(e.to_string()))?;
        scheduler
            .start()
            .await
            .map_err(|e| StartupError::Scheduler(e.to_string()))?;

        let secret = settings
            .session
            .secret
            .clone()
            .unwrap_or_else(|| secrecy::SecretString::from(String::new()));
        let auth = Arc::new(AuthServices::new(
            pool.clone(),
            &secret,
            settings.session.duration,
        ));
        let audit = AuditService::new(pool.clone());
        let events = Arc::new(EventBus::default());
        let rollups = RollupStore::load(&pool)
            .await
            .map_err(StartupError::Rollups)?;
        let writer: WriterLock = Arc::default();
        let history = Arc::new(HistorySync::new(
            pool.clone(),
            fail2ban.clone(),
            Arc::clone(&geo),
            Arc::clone(&rollups),
            Arc::clone(&writer),
            Arc::clone(&events),
            settings.fail2ban.database_path.clone(),
            settings.history.retention_days,
        ));
        let regeo = Arc::new(HistoryRegeo::new(
            pool.clone(),
            Arc::clone(&geo),
            Arc::clone(&rollups),
            writer,
        ));
        let history_query = Arc::new(HistoryQueryService::new(
            pool.clone(),
            fail2ban.clone(),
            Arc::clone(&geo),
            Arc::clone(&rollups),
            settings.fail2ban.database_path.clone(),
        ));
        let history_lifts = Arc::new(HistoryLifts::new(
            pool.clone(),
            fail2ban.clone(),
            Arc::clone(&rollups),
            Arc::clone(&events),
        ));
        let fail2ban_status = Arc::new(Fail2banStatus::new(fail2ban.clone(), Arc::clone(&events)));
        let top_offenders = Arc::new(TopOffenders::new(pool.clone(), Arc::clone(&rollups)));
        let exporter = Arc::new(MetricsExporter::new(
            Arc::clone(&metrics),
            Arc::clone(&fail2ban_status),
            Arc::clone(&history),
            Arc::clone(&rollups),
            Arc::clone(&events),
        ));
        let socket_name = settings.fail2ban.socket.display().to_string();
        let dashboard = Arc::new(DashboardService::new(
            pool.clone(),
            Arc::clone(&fail2ban_status),
            socket_name.clone(),
            Arc::clone(&geo),
            rollups,
        ));
        // HTTPS for notification channels: rustls with the ring provider (the only one built).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (notifications, notification_tasks) = NotificationService::start(
            pool.clone(),
            &settings.notifications,
            metrics.notifications.clone(),
            &events,
        )
        .await?;
        let jobs = JobMonitor::new(metrics.job_failures.clone());
        let scheduler_running = Arc::new(AtomicBool::new(true));
        let health = Arc::new(HealthService::new(
            pool.clone(),
            Arc::clone(&fail2ban_status),
            socket_name,
            Arc::clone(&geo),
            jobs.clone(),
            Arc::clone(&scheduler_running),
        ));
        let regex_tester = RegexTesterService::new(
            RegexTool::new(RegexToolConfig {
                program: settings.fail2ban.regex_path.clone(),
                config_dir: settings.fail2ban.config_dir.clone(),
                timeout: settings.fail2ban.regex_timeout,
                max_output_bytes: REGEX_OUTPUT_LIMIT,
            }),
            settings.fail2ban.log_dirs.clone(),
            settings.fail2ban.regex_timeout,
        );
        let jail_config = JailConfigService::new(
            fail2ban.clone(),
            ConfigWriter::new(
                settings.fail2ban.config_dir.clone(),
                settings.data_dir().join("config-backups"),
            ),
            pool.clone(),
            settings.data_dir(),
            settings.fail2ban.log_dirs.clone(),
            settings.fail2ban.apply_watch,
        );
        let fail2ban_log =
            Fail2banLogService::new(fail2ban.clone(), settings.fail2ban.log_dirs.clone());
        let live_streams = Arc::new(LiveStreams::new(Arc::clone(&events)));
        let blocklists = blocklist_service(&pool, &fail2ban, Arc::clone(&events));
        if let Err(e) = blocklists.recover().await {
            tracing::warn!(error = %e, "cannot mark interrupted blocklist imports as failed");
        }
        let filters_actions = FilterActionService::new(
            ConfigWriter::new(
                settings.fail2ban.config_dir.clone(),
                settings.data_dir().join("config-backups"),
            ),
            fail2ban.clone(),
            jail_config.clone(),
        );
        let state = AppState {
            blocklists,
            filters_actions,
            regex_tester,
            settings: Arc::new(settings),
            bans: BanService::new(fail2ban.clone(), Arc::clone(&geo)),
            jails: JailService::new(fail2ban.clone()),
            server: ServerSettingsService::new(fail2ban.clone()),
            jail_config,
            fail2ban_log,
            map_settings: MapSettingsService::new(pool.clone()),
            db: pool,
            geo,
            auth,
            audit,
            history,
            regeo,
            dashboard,
            history_query,
            history_lifts,
            top_offenders,
            metrics,
            scheduler_running,
            jobs,
            health,
            notifications,
            events,
            fail2ban_status,
            exporter,
            live_streams,
        };
        crate::tasks::register_all(&scheduler, &state)
            .await
            .map_err(|e| StartupError::Scheduler(e.to_string()))?;
        let watcher =
            MmdbWatcher::start(Arc::clone(&state.geo), state.settings.geoip.watch_debounce);
        let mut background = vec![
            tokio::spawn(warm_geo_cache(Arc::clone(&state.geo))),
            tokio::spawn(reload_geo_on_sighup(Arc::clone(&state.geo))),
            tokio::spawn(first_status_poll(Arc::clone(&state.fail2ban_status))),
            tokio::spawn(publish_geo_reload_failures(
                state.geo.reload_failures(),
                Arc::clone(&state.events),
            )),
        ];
        background.extend(notification_tasks);

        let address = format!("{}:{}", state.settings.http.host, state.settings.http.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?
            .port();
        let server = http_server(state.clone(), listener)?;
        let signals = StopSignals::install();
        tracing::info!(port, database = %state.settings.database.path.display(), "BanGUI listening");
        Ok(Self {
            port,
            server,
            state,
            scheduler,
            lock,
            signals,
            watcher,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere (tests).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM (or a [`ServerHandle::stop`]), then shuts down in order.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server,
            state,
            mut scheduler,
            lock,
            signals,
            watcher,
            background,
            ..
        } = self;
        let signals = tokio::spawn(stop_on_signal(
            server.handle(),
            signals,
            Arc::clone(&state.live_streams),
        ));
        let result = server.await;
        signals.abort();
        tracing::info!("HTTP server stopped; running shutdown steps");
        state.scheduler_running.store(false, Ordering::Relaxed);
        if let Err(e) = scheduler.shutdown().await {
            tracing::warn!(error = %e, "scheduler did not shut down cleanly");
        }
        watcher.stop().await;
        for task in background {
            task.abort();
        }
        match state.geo.flush_dirty().await {
            Ok(n) => tracing::info!(flushed = n, "final geo cache flush done"),
            Err(e) => tracing::error!(error = %e, "final geo cache flush failed"),
        }
        state.db.close().await;
        lock.release();
        tracing::info!("shutdown complete");
        result
    }
}

/// Bytes one fail2ban-regex run may print (every line of a 1 MiB test, listed once, fits).
const REGEX_OUTPUT_LIMIT: usize = 8 << 20;

fn http_server(state: AppState, listener: TcpListener) -> Result<Server, StartupError> {
    let threads = match state.settings.http.threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        n => n,
    };
    let shutdown = state.settings.http.shutdown_timeout.as_secs();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(extractors::json_config())
            .app_data(extractors::query_config())
            .app_data(extractors::path_config())
            .wrap(from_fn(routes::guard::authenticate_request))
            .wrap(from_fn(routes::guard::setup_gate))
            .wrap(from_fn(crate::cors::cors))
            .wrap(Compress::default())
            .wrap(from_fn(middleware::request_telemetry))
            .wrap(from_fn(middleware::security_headers))
            .configure(routes::configure)
            .default_service(web::to(routes::frontend::serve))
    })
    .workers(threads)
    // Idle connections stay open longer than a reverse proxy keeps its upstream connections
    // (nginx: 60 s), so the proxy never reuses a connection this side is closing.
    .keep_alive(KEEP_ALIVE)
    .shutdown_timeout(shutdown)
    .disable_signals()
    .listen(listener)
    .map_err(|source| StartupError::Bind {
        address: "listener".into(),
        source,
    })?
    .run();
    Ok(server)
}

/// How long an idle HTTP/1.1 connection is kept open.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(75);

/// SIGINT and SIGTERM both mean a graceful stop. Live event streams end first: they never
/// finish by themselves and would hold the drain until its timeout.
async fn stop_on_signal(
    handle: ServerHandle,
    signals: Option<StopSignals>,
    live_streams: Arc<LiveStreams>,
) {
    let Some(StopSignals { mut term, mut int }) = signals else {
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received; stopping gracefully"),
        _ = int.recv() => tracing::info!("SIGINT received; stopping gracefully"),
    }
    live_streams.close_all();
    handle.stop(true).await;
}

/// Warms the geo cache from the database in the background, so serving starts at once. The
/// `geo_re_resolve` job (and `POST /geo/re-resolve`) wait inside `re_resolve_unresolved` until
/// this has ended, so the first re-resolve never works on a cold memory tier.
async fn warm_geo_cache(geo: Arc<GeoCache>) {
    match geo.load_from_db().await {
        Ok(n) => tracing::info!(loaded = n, "geo cache warmed from the database"),
        Err(e) => tracing::error!(error = %e, "cannot warm the geo cache from the database"),
    }
}

/// The status poll's baseline at once, so `/metrics` has fail2ban's series before the job's
/// first tick.
async fn first_status_poll(status: Arc<Fail2banStatus>) {
    status.poll().await;
}

/// Refused MMDB reloads become `mmdb_reload_failed` events.
async fn publish_geo_reload_failures(
    mut failures: tokio::sync::broadcast::Receiver<crate::geo::ReloadFailure>,
    events: Arc<EventBus>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match failures.recv().await {
            Ok(f) => {
                events.publish(crate::domain::event::EventKind::MmdbReloadFailed {
                    database: f.database.to_string(),
                    error: f.error,
                });
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "MMDB reload failures were not published");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// SIGHUP reloads the GeoIP database(s).
async fn reload_geo_on_sighup(geo: Arc<GeoCache>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot install the SIGHUP handler; reload the GeoIP database over the API");
        return;
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP received; reloading the GeoIP database");
        let geo = Arc::clone(&geo);
        if let Err(e) = tokio::task::spawn_blocking(move || geo.reload()).await {
            tracing::error!(error = %e, "GeoIP reload task failed");
        }
    }
}

/// The blocklist service: its own (bulk) fail2ban client whose command timeout fits a batch of
/// bans (a forking ban action takes milliseconds per address) and which lets the dashboard's
/// commands go first, the system resolver behind the SSRF
/// guard, 50 MB and 60 s per download.
fn blocklist_service(
    pool: &sqlx::SqlitePool,
    fail2ban: &Fail2banClient,
    events: Arc<EventBus>,
) -> BlocklistService {
    let timeout = fail2ban
        .config()
        .command_timeout
        .max(std::time::Duration::from_secs(120));
    BlocklistService::new(
        pool.clone(),
        fail2ban.for_bulk_work(timeout),
        Fetcher::new(
            Arc::new(SystemResolver),
            FetchLimits {
                max_bytes: 50 * 1024 * 1024,
                timeout: std::time::Duration::from_secs(60),
            },
        ),
        ImportLimits {
            batch_size: BLOCKLIST_BATCH_SIZE,
            verify_every: BLOCKLIST_VERIFY_EVERY,
            pause: BLOCKLIST_BATCH_PAUSE,
        },
        events,
    )
}

/// Entries per `banip` command of an import (see docs/perf.md for the measurement).
pub const BLOCKLIST_BATCH_SIZE: usize = 100;

/// The pause between two batches of an import, in which fail2ban answers the dashboard
/// (docs/perf.md, "Blocklist imports").
pub const BLOCKLIST_BATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(3);

/// How long a full check of a blocklist's members against fail2ban's live ban list is trusted
/// for an unchanged list (scheduled runs check the jail's ban count in between). Six hours,
/// not one: the hourly schedule runs 3600 s apart give or take a second, so a one-hour bound
/// would make every other hourly run (at random) a full check; with six hours an hourly source
/// is checked in full about every sixth run and a daily or weekly one on every run, and a ban
/// lost behind an equal number of foreign bans (which the count cannot see) is repaired within
/// six hours. Lost bans the count does see (expiry, unban by hand, a fail2ban restart without
/// its database) are repaired by the next run whatever the bound.
pub const BLOCKLIST_VERIFY_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
