//! Prometheus metrics of the process, owned by one [`Metrics`] value built at start-up and
//! shared through the application state (no global registry). It defines the metric families
//! and renders the text format; it does not decide when something is counted.
//!
//! Series whose labels follow a snapshot (the fail2ban exporter's `f2b_*`, bans by country)
//! are built per scrape by [`families`] and passed to [`Metrics::render_with`].

pub mod families;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

/// Handles for the label combinations used on hot paths, resolved once.
pub struct GeoLookupCounters {
    pub memory_hit: IntCounter,
    pub mmdb_hit: IntCounter,
    pub mmdb_miss: IntCounter,
    pub ipapi_hit: IntCounter,
    pub ipapi_miss: IntCounter,
    pub ipapi_error: IntCounter,
}

/// The `channel` label values of the notification counters.
pub const NOTIFICATION_CHANNELS: [&str; 6] =
    ["webhook", "ntfy", "chat", "matrix", "telegram", "email"];

pub struct Metrics {
    registry: Registry,
    pub geo_lookups: GeoLookupCounters,
    pub geo_lookup_duration: Histogram,
    pub geo_cache_entries: IntGauge,
    pub geo_cache_dirty_entries: IntGauge,
    pub geo_mmdb_reload_success: IntCounter,
    pub geo_mmdb_reload_failure: IntCounter,
    pub geo_mmdb_build_epoch: IntGauge,
    /// Failed runs of background jobs, by job id.
    pub job_failures: IntCounterVec,
    /// Notifications delivered, by channel type (`webhook`, `ntfy`, `chat`, `matrix`,
    /// `telegram`, `email`: a bounded set; never a channel's name or URL).
    pub notifications_sent: IntCounterVec,
    /// Delivery attempts that failed, by channel type.
    pub notifications_failed: IntCounterVec,
    /// Notifications dropped before delivery (queue full, dead-lettered), by channel type.
    pub notifications_dropped: IntCounterVec,
    /// Rows in the history archive (set at scrape time).
    pub archive_rows: IntGauge,
    /// Seconds since the start of the last successful archive sync (set at scrape time; -1
    /// before the first one): everything fail2ban wrote before that is archived.
    pub archive_sync_lag: IntGauge,

    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    /// Notification deliveries (issue 17).
    pub notifications: NotificationCounters,
}

impl Metrics {
    /// Defines and registers every metric family. Fails only on an invalid definition.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let lookups = IntCounterVec::new(
            Opts::new(
                "geo_lookups_total",
                "Geolocation lookups by source and result.",
            ),
            &["source", "result"],
        )?;
        let counter = |source: &str, result: &str| lookups.with_label_values(&[source, result]);
        let geo_lookups = GeoLookupCounters {
            memory_hit: counter("memory", "hit"),
            mmdb_hit: counter("mmdb", "hit"),
            mmdb_miss: counter("mmdb", "miss"),
            ipapi_hit: counter("ipapi", "hit"),
            ipapi_miss: counter("ipapi", "miss"),
            ipapi_error: counter("ipapi", "error"),
        };
        let geo_lookup_duration = Histogram::with_opts(
            HistogramOpts::new(
                "geo_lookup_duration_seconds",
                "Duration of lookups that missed the memory tier.",
            )
            .buckets(vec![
                1e-6, 5e-6, 2.5e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0, 5.0,
            ]),
        )?;
        let geo_cache_entries =
            IntGauge::new("geo_cache_entries", "Entries in the in-memory geo cache.")?;
        let geo_cache_dirty_entries = IntGauge::new(
            "geo_cache_dirty_entries",
            "Geo results waiting for the flush job.",
        )?;
        let reloads = IntCounterVec::new(
            Opts::new("geo_mmdb_reloads_total", "MMDB reload attempts by result."),
            &["result"],
        )?;
        let geo_mmdb_build_epoch = IntGauge::new(
            "geo_mmdb_build_epoch",
            "Build epoch of the serving country MMDB (0 when none).",
        )?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern and status.",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route pattern and status.",
            ),
            &["method", "route", "status"],
        )?;
        let job_failures = IntCounterVec::new(
            Opts::new(
                "job_failures_total",
                "Failed runs of background jobs by job.",
            ),
            &["job"],
        )?;
        let by_channel =
            |name: &str, help: &str| IntCounterVec::new(Opts::new(name, help), &["channel"]);
        let notifications_sent = by_channel(
            "bangui_notifications_sent_total",
            "Notifications delivered, by channel type.",
        )?;
        let notifications_failed = by_channel(
            "bangui_notifications_failed_total",
            "Notification delivery attempts that failed, by channel type.",
        )?;
        let notifications_dropped = by_channel(
            "bangui_notifications_dropped_total",
            "Notifications dropped before delivery (queue full or dead-lettered), by channel type.",
        )?;
        let archive_rows = IntGauge::new(
            "bangui_archive_rows",
            "Bans held in BanGUI's history archive.",
        )?;
        let archive_sync_lag = IntGauge::new(
            "bangui_archive_sync_lag_seconds",
            "Seconds since the start of the last successful archive sync (-1: none yet).",
        )?;
        // Every channel type shows 0 from the start, so `rate()` and alerts see the series
        // before the first delivery.
        for kind in NOTIFICATION_CHANNELS {
            for counter in [
                &notifications_sent,
                &notifications_failed,
                &notifications_dropped,
            ] {
                counter.with_label_values(&[kind]).reset();
            }
        }
        registry.register(Box::new(notifications_sent.clone()))?;
        registry.register(Box::new(notifications_failed.clone()))?;
        registry.register(Box::new(notifications_dropped.clone()))?;
        registry.register(Box::new(archive_rows.clone()))?;
        registry.register(Box::new(archive_sync_lag.clone()))?;
        registry.register(Box::new(job_failures.clone()))?;
        let notifications = NotificationCounters::register(
            &registry,
            &notifications_sent,
            &notifications_failed,
            &notifications_dropped,
        )?;
        registry.register(Box::new(lookups.clone()))?;
        registry.register(Box::new(geo_lookup_duration.clone()))?;
        registry.register(Box::new(geo_cache_entries.clone()))?;
        registry.register(Box::new(geo_cache_dirty_entries.clone()))?;
        registry.register(Box::new(reloads.clone()))?;
        registry.register(Box::new(geo_mmdb_build_epoch.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        Ok(Self {
            registry,
            geo_lookups,
            geo_lookup_duration,
            geo_cache_entries,
            geo_cache_dirty_entries,
            geo_mmdb_reload_success: reloads.with_label_values(&["success"]),
            geo_mmdb_reload_failure: reloads.with_label_values(&["failure"]),
            geo_mmdb_build_epoch,
            job_failures,
            notifications_sent,
            notifications_failed,
            notifications_dropped,
            archive_rows,
            archive_sync_lag,
            http_requests,
            http_duration,
            notifications,
        })
    }

    /// Counts one HTTP request; `route` is the matched pattern, never the raw path.
    pub fn observe_http(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let status = status.as_str();
        self.http_requests
            .with_label_values(&[method, route, status])
            .inc();
        self.http_duration
            .with_label_values(&[method, route, status])
            .observe(seconds);
    }

    /// The Prometheus text exposition of every registered metric.
    pub fn render(&self) -> String {
        self.render_with(Vec::new(), "")
    }

    /// The registered metrics followed by `extra` families built for this scrape, then
    /// `extra_text` (already in the text format).
    pub fn render_with(
        &self,
        extra: Vec<prometheus::proto::MetricFamily>,
        extra_text: &str,
    ) -> String {
        let mut all = self.registry.gather();
        all.extend(extra);
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&all, &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        let mut text = String::from_utf8(out).unwrap_or_default();
        text.push_str(extra_text);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_family_is_rendered_in_prometheus_text() {
        let m = Metrics::new().expect("metrics are valid");
        m.geo_lookups.mmdb_hit.inc();
        m.geo_lookup_duration.observe(0.001);
        m.geo_mmdb_reload_success.inc();
        m.observe_http("GET", "/api/v1/health", 200, 0.01);
        m.job_failures.with_label_values(&["history_sync"]).inc();
        let text = m.render();
        for name in [
            "geo_lookups_total{result=\"hit\",source=\"mmdb\"} 1",
            "geo_lookup_duration_seconds_bucket",
            "geo_cache_entries 0",
            "geo_cache_dirty_entries 0",
            "geo_mmdb_reloads_total{result=\"success\"} 1",
            "geo_mmdb_build_epoch 0",
            "http_requests_total{method=\"GET\",route=\"/api/v1/health\",status=\"200\"} 1",
            "http_request_duration_seconds_bucket",
            "job_failures_total{job=\"history_sync\"} 1",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }
}

/// The notification pipeline's handles: the per-channel-type counters above plus its own
/// dead-letter counter, input drops and queue depth.
#[derive(Clone)]
pub struct NotificationCounters {
    /// Messages a receiver accepted, by channel type.
    pub sent: IntCounterVec,
    /// Failed attempts (each retry counts), by channel type.
    pub failed: IntCounterVec,
    /// Messages dropped before delivery (pushed out of the full queue, or dead-lettered).
    pub dropped: IntCounterVec,
    /// Messages given up after the last attempt, by channel type.
    pub dead_letters: IntCounterVec,
    /// Notices lost before the router (`router_full`, `events_missed`), by reason.
    pub input_dropped: IntCounterVec,
    /// Messages waiting in the queue (retries included).
    pub queue_depth: IntGauge,
}

impl NotificationCounters {
    fn register(
        registry: &Registry,
        sent: &IntCounterVec,
        failed: &IntCounterVec,
        dropped: &IntCounterVec,
    ) -> Result<Self, prometheus::Error> {
        let out = Self {
            sent: sent.clone(),
            failed: failed.clone(),
            dropped: dropped.clone(),
            dead_letters: IntCounterVec::new(
                Opts::new(
                    "bangui_notifications_dead_letter_total",
                    "Notifications given up after the last delivery attempt, by channel type.",
                ),
                &["channel"],
            )?,
            input_dropped: IntCounterVec::new(
                Opts::new(
                    "bangui_notifications_input_dropped_total",
                    "Events that never reached the notification router, by reason.",
                ),
                &["reason"],
            )?,
            queue_depth: IntGauge::new(
                "bangui_notifications_queue_depth",
                "Notifications waiting for delivery, retries included.",
            )?,
        };
        for kind in NOTIFICATION_CHANNELS {
            out.dead_letters.with_label_values(&[kind]).reset();
        }
        registry.register(Box::new(out.dead_letters.clone()))?;
        registry.register(Box::new(out.input_dropped.clone()))?;
        registry.register(Box::new(out.queue_depth.clone()))?;
        Ok(out)
    }
}
