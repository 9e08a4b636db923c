//! Prometheus metrics of the process, owned by one [`Metrics`] value built at start-up and
//! shared through the application state (no global registry). It defines the metric families
//! and renders the text format; it does not decide when something is counted.

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
        registry.register(Box::new(job_failures.clone()))?;
        let notifications = NotificationCounters::register(&registry)?;
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

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
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

/// Counters of the notification dispatcher, labelled by channel kind (a fixed set).
#[derive(Clone)]
pub struct NotificationCounters {
    /// Messages a receiver accepted.
    pub sent: IntCounterVec,
    /// Failed attempts (each retry counts).
    pub failed: IntCounterVec,
    /// Messages given up after the last attempt.
    pub dead_letters: IntCounterVec,
    /// Messages pushed out of the full queue, or notices the router could not take.
    pub dropped: IntCounterVec,
    /// Messages waiting in the queue (retries included).
    pub queue_depth: IntGauge,
}

impl NotificationCounters {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let vec = |name: &str, help: &str, label: &str| {
            IntCounterVec::new(Opts::new(name, help), &[label])
        };
        let out = Self {
            sent: vec(
                "notifications_sent_total",
                "Notification messages accepted by the receiver, by channel kind.",
                "kind",
            )?,
            failed: vec(
                "notifications_failed_total",
                "Failed notification delivery attempts, by channel kind.",
                "kind",
            )?,
            dead_letters: vec(
                "notifications_dead_letter_total",
                "Notification messages given up after the last attempt, by channel kind.",
                "kind",
            )?,
            dropped: vec(
                "notifications_dropped_total",
                "Notification messages dropped (queue full: oldest digest first; or router input full), by reason.",
                "reason",
            )?,
            queue_depth: IntGauge::new(
                "notifications_queue_depth",
                "Notification messages waiting for delivery, retries included.",
            )?,
        };
        registry.register(Box::new(out.sent.clone()))?;
        registry.register(Box::new(out.failed.clone()))?;
        registry.register(Box::new(out.dead_letters.clone()))?;
        registry.register(Box::new(out.dropped.clone()))?;
        registry.register(Box::new(out.queue_depth.clone()))?;
        Ok(out)
    }
}
