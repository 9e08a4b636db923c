//! Metric families built from plain values at scrape time, for series whose label set is
//! whatever a snapshot holds (jails come and go, countries are a bounded top list): the
//! fail2ban exporter's `f2b_*` series and BanGUI's own bans by country. Building them from
//! the snapshot on each scrape means a jail that stopped leaves no stale series behind.
//!
//! The `f2b_*` names and labels are those of the widely used fail2ban exporter, so existing
//! dashboards and alerts keep working. Two of its names break Prometheus' naming rules
//! (`f2b_errors` counts without `_total`, `f2b_jail_count` is not a histogram's `_count`), so
//! they are exposed untyped: `promtool check metrics` accepts them and every query on them
//! works as before. The prometheus crate is retiring its untyped model, so those two are
//! written as text ([`fail2ban_untyped`]); their labels are fixed words, nothing to escape. `f2b_jail_banned_total` and `f2b_jail_failed_total` are counters (they
//! only grow while fail2ban runs and restart from 0 with it, which `rate()` handles).

use std::fmt::Write;

use prometheus::proto::{Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType};

/// One jail's counters as fail2ban reports them (`status JAIL`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JailSeries {
    pub jail: String,
    pub banned_current: u64,
    pub banned_total: u64,
    pub failed_current: u64,
    pub failed_total: u64,
}

/// What the `f2b_*` series show: the last status poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fail2banSeries {
    pub up: bool,
    pub jails: Vec<JailSeries>,
    /// Polls that could not connect to the socket.
    pub errors_socket_conn: u64,
    /// Commands that connected but failed (timeout, unreadable reply, refused).
    pub errors_socket_req: u64,
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut l = LabelPair::default();
    l.set_name(name.to_string());
    l.set_value(value.to_string());
    l
}

fn sample(kind: MetricType, labels: Vec<LabelPair>, value: f64) -> Metric {
    let mut m = Metric::default();
    m.set_label(labels);
    match kind {
        MetricType::COUNTER => {
            let mut c = Counter::default();
            c.set_value(value);
            m.set_counter(c);
        }
        _ => {
            let mut g = Gauge::default();
            g.set_value(value);
            m.set_gauge(g);
        }
    }
    m
}

/// A family of samples; `None` when it would be empty (the text format needs one sample).
pub fn family(
    name: &str,
    help: &str,
    kind: MetricType,
    samples: impl IntoIterator<Item = (Vec<(&'static str, String)>, f64)>,
) -> Option<MetricFamily> {
    let metrics: Vec<Metric> = samples
        .into_iter()
        .map(|(labels, v)| {
            let labels = labels.iter().map(|(k, val)| label(k, val)).collect();
            sample(kind, labels, v)
        })
        .collect();
    if metrics.is_empty() {
        return None;
    }
    let mut f = MetricFamily::default();
    f.set_name(name.to_string());
    f.set_help(help.to_string());
    f.set_field_type(kind);
    f.set_metric(metrics);
    Some(f)
}

/// The untyped `f2b_errors` and `f2b_jail_count` in the text format (appended after the
/// encoder's output). `f2b_jail_count` is absent while fail2ban does not answer.
pub fn fail2ban_untyped(series: &Fail2banSeries) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "# HELP f2b_errors Errors talking to fail2ban since BanGUI started, by type \
         (socket_conn: cannot connect; socket_req: a command failed).\n\
         # TYPE f2b_errors untyped\n\
         f2b_errors{{type=\"socket_conn\"}} {}\n\
         f2b_errors{{type=\"socket_req\"}} {}\n",
        series.errors_socket_conn, series.errors_socket_req
    );
    if series.up {
        let _ = write!(
            out,
            "# HELP f2b_jail_count Number of running jails.\n\
             # TYPE f2b_jail_count untyped\n\
             f2b_jail_count {}\n",
            series.jails.len()
        );
    }
    out
}

/// The fail2ban exporter's typed series (see [`fail2ban_untyped`] for the other two).
pub fn fail2ban(series: &Fail2banSeries) -> Vec<MetricFamily> {
    let per_jail = |name: &str, help: &str, kind, value: fn(&JailSeries) -> u64| {
        family(
            name,
            help,
            kind,
            series
                .jails
                .iter()
                .map(|j| (vec![("jail", j.jail.clone())], value(j) as f64)),
        )
    };
    let up = if series.up { 1.0 } else { 0.0 };
    [
        family(
            "f2b_up",
            "Whether fail2ban answered the last status poll (1) or not (0).",
            MetricType::GAUGE,
            [(vec![], up)],
        ),
        per_jail(
            "f2b_jail_banned_current",
            "Addresses a jail bans now.",
            MetricType::GAUGE,
            |j| j.banned_current,
        ),
        per_jail(
            "f2b_jail_banned_total",
            "Bans a jail made since fail2ban started.",
            MetricType::COUNTER,
            |j| j.banned_total,
        ),
        per_jail(
            "f2b_jail_failed_current",
            "Failures a jail counts now (within findtime).",
            MetricType::GAUGE,
            |j| j.failed_current,
        ),
        per_jail(
            "f2b_jail_failed_total",
            "Failures a jail saw since fail2ban started.",
            MetricType::COUNTER,
            |j| j.failed_total,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}
