//! What the history API answers: one ban as a history row (also as a CSV line for the export),
//! a page of them, and one IP's story (timeline, totals per jail, live state, geolocation).
//! Plain data built by `services::history_query`; no I/O here.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::GeoInfo;
use crate::domain::history_query::BanState;

/// One ban as a history row.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryItem {
    /// Archive row id (rowid of fail2ban's `bans` with `source=fail2ban`).
    pub id: i64,
    pub host: String,
    pub jail: String,
    pub ip: String,
    /// RFC 3339 UTC.
    pub banned_at: String,
    /// Null for a permanent ban.
    pub ban_ends_at: Option<String>,
    pub bantime_seconds: i64,
    pub bancount: i64,
    pub failures: Option<i64>,
    /// `selfblock` or `blocklist`.
    pub origin: String,
    pub country_code: Option<String>,
    pub country_name: Option<String>,
    pub asn: Option<u32>,
    pub state: BanState,
    /// When the ban was lifted (unbanned before its end).
    pub lifted_at: Option<String>,
    /// `bangui:<user>` for an unban through BanGUI, `fail2ban` for one noticed elsewhere.
    pub lifted_by: Option<String>,
}

impl HistoryItem {
    /// The CSV header of an export (the fields in order).
    pub const CSV_HEADER: &'static str = "id,host,jail,ip,banned_at,ban_ends_at,bantime_seconds,bancount,failures,origin,country_code,country_name,asn,state,lifted_at,lifted_by\n";

    /// One CSV line (RFC 4180 quoting where needed).
    pub fn csv_line(&self, out: &mut String) {
        use std::fmt::Write as _;
        fn text(out: &mut String, v: &str) {
            if v.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&v.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(v);
            }
        }
        fn opt(out: &mut String, v: Option<&str>) {
            if let Some(v) = v {
                text(out, v);
            }
        }
        let _ = write!(out, "{},", self.id);
        text(out, &self.host);
        out.push(',');
        text(out, &self.jail);
        out.push(',');
        text(out, &self.ip);
        out.push(',');
        out.push_str(&self.banned_at);
        out.push(',');
        opt(out, self.ban_ends_at.as_deref());
        let _ = write!(out, ",{},{},", self.bantime_seconds, self.bancount);
        if let Some(f) = self.failures {
            let _ = write!(out, "{f}");
        }
        out.push(',');
        text(out, &self.origin);
        out.push(',');
        opt(out, self.country_code.as_deref());
        out.push(',');
        opt(out, self.country_name.as_deref());
        out.push(',');
        if let Some(a) = self.asn {
            let _ = write!(out, "{a}");
        }
        out.push(',');
        out.push_str(self.state.as_str());
        out.push(',');
        opt(out, self.lifted_at.as_deref());
        out.push(',');
        opt(out, self.lifted_by.as_deref());
        out.push('\n');
    }
}

/// A page of a history search.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    pub items: Vec<HistoryItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub page: u32,
    pub page_size: u32,
    /// Matching rows, counted up to 1,000.
    pub total: u64,
    /// False when there are more than `total` rows.
    pub total_exact: bool,
    /// `archive` or `fail2ban`.
    pub source: String,
}

/// Bans of one IP in one jail.
#[derive(Debug, Serialize, ToSchema)]
pub struct JailTotal {
    pub host: String,
    pub jail: String,
    pub bans: i64,
    pub first_seen: String,
    pub last_seen: String,
}

/// One ban of an IP's timeline with the log lines that caused it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub ban: HistoryItem,
    /// The matched log lines fail2ban stored with the ban.
    pub matches: Vec<String>,
}

/// An IP's bans on one UTC day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// The day, `YYYY-MM-DD` (UTC).
    pub day: String,
    pub bans: i64,
}

/// Everything known about one IP.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpHistory {
    pub ip: String,
    /// Null when the archive has no ban of this IP.
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub total_bans: i64,
    /// Bans per jail, most first.
    pub jails: Vec<JailTotal>,
    /// The newest archived bans, newest first (`limit` of them, default 100, at most 500).
    pub timeline: Vec<TimelineEntry>,
    /// True when the IP has more bans than the timeline shows.
    pub timeline_truncated: bool,
    /// Every archived ban of the IP counted per UTC day, oldest first; days without bans are
    /// left out. Sums to `total_bans` however long the timeline is.
    pub days: Vec<DayCount>,
    /// Jails banning the IP now (live); null when fail2ban could not be asked.
    pub banned_in: Option<Vec<String>>,
    /// Jails whose ignore list covers the IP (live, lists at most 10 s old); null when fail2ban
    /// could not be asked.
    pub ignored_in: Option<Vec<String>>,
    /// Why the live part is missing.
    pub live_error: Option<String>,
    pub geo: Option<GeoInfo>,
}
