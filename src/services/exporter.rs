//! What `/metrics` shows beyond the registered metrics, assembled per scrape from snapshots
//! that jobs keep (nothing here asks fail2ban or reads the database): the fail2ban exporter's
//! `f2b_*` series from the last status poll, the archive's size and sync lag, events
//! published by type and the 24-hour bans by country (a bounded label set: the
//! [`TOP_COUNTRIES`] most frequent, the rest as `other`, unresolved ones as `unknown`).

use std::sync::Arc;

use prometheus::proto::{MetricFamily, MetricType};

use crate::db;
use crate::domain::{Origin, TimeRange};
use crate::metrics::Metrics;
use crate::metrics::families::{self, Fail2banSeries, JailSeries};

use super::events::EventBus;
use super::fail2ban_status::Fail2banStatus;
use super::history::HistorySync;
use super::rollups::RollupStore;

/// Countries with a label of their own in `bangui_bans_by_country`.
pub const TOP_COUNTRIES: usize = 20;

pub struct MetricsExporter {
    metrics: Arc<Metrics>,
    status: Arc<Fail2banStatus>,
    history: Arc<HistorySync>,
    rollups: Arc<RollupStore>,
    events: Arc<EventBus>,
}

impl MetricsExporter {
    pub fn new(
        metrics: Arc<Metrics>,
        status: Arc<Fail2banStatus>,
        history: Arc<HistorySync>,
        rollups: Arc<RollupStore>,
        events: Arc<EventBus>,
    ) -> Self {
        Self {
            metrics,
            status,
            history,
            rollups,
            events,
        }
    }

    /// The whole text exposition for one scrape.
    pub fn render(&self) -> String {
        self.metrics
            .archive_rows
            .set(i64::try_from(self.rollups.total()).unwrap_or(i64::MAX));
        self.metrics.archive_sync_lag.set(
            self.history
                .last_success_start()
                .map_or(-1, |t| (db::now_epoch() - t).max(0)),
        );
        let series = self.fail2ban_series();
        let mut extra = families::fail2ban(&series);
        extra.extend(self.events_published());
        extra.extend(self.bans_by_country());
        self.metrics
            .render_with(extra, &families::fail2ban_untyped(&series))
    }

    fn fail2ban_series(&self) -> Fail2banSeries {
        let snap = self.status.snapshot();
        let up = snap.online == Some(true);
        let jails = if up {
            snap.jails
                .iter()
                .map(|(jail, c)| JailSeries {
                    jail: jail.clone(),
                    banned_current: c.currently_banned,
                    banned_total: c.total_banned,
                    failed_current: c.currently_failed,
                    failed_total: c.total_failed,
                })
                .collect()
        } else {
            Vec::new()
        };
        Fail2banSeries {
            up,
            jails,
            errors_socket_conn: snap.connect_errors,
            errors_socket_req: snap.request_errors,
        }
    }

    fn events_published(&self) -> Option<MetricFamily> {
        families::family(
            "bangui_events_published_total",
            "Events published on the event bus, by type.",
            MetricType::COUNTER,
            self.events
                .published()
                .into_iter()
                .map(|(t, n)| (vec![("type", t.as_str().to_string())], n as f64)),
        )
    }

    fn bans_by_country(&self) -> Option<MetricFamily> {
        let snapshot = self.rollups.snapshot();
        let window = snapshot.window(TimeRange::Day, Origin::All)?;
        let mut countries: Vec<(&String, u64)> = window
            .countries
            .iter()
            .map(|(code, slice)| (code, slice.total))
            .collect();
        countries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let other: u64 = countries.iter().skip(TOP_COUNTRIES).map(|(_, n)| n).sum();
        let samples = countries
            .iter()
            .take(TOP_COUNTRIES)
            .map(|(code, n)| ((*code).clone(), *n))
            .chain([
                ("other".to_string(), other),
                ("unknown".to_string(), window.unresolved),
            ])
            .map(|(country, n)| (vec![("country", country)], n as f64));
        families::family(
            "bangui_bans_by_country",
            "Bans in the last 24 hours by country (the 20 most frequent; the rest as other, unresolved as unknown).",
            MetricType::GAUGE,
            samples,
        )
    }
}
