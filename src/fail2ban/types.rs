//! Typed views of fail2ban's replies and the pure functions that read them out of decoded
//! [`PyValue`]s (status pairs, `--with-time` lines, `banned` dicts). No I/O here; the client
//! sends the commands and hands the values to these readers.

use std::net::IpAddr;

use chrono::{Local, NaiveDateTime, TimeZone};
use serde::Serialize;

use super::protocol::PyValue;

/// Counts of a jail's filter and actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JailCounters {
    pub currently_failed: u64,
    pub total_failed: u64,
    pub currently_banned: u64,
    pub total_banned: u64,
}

/// `status JAIL`: counters, watched files (or journal matches) and the banned addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JailStatus {
    pub counters: JailCounters,
    pub file_list: Vec<String>,
    pub banned: Vec<IpAddr>,
}

/// One active ban as `get JAIL banip --with-time` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveBan {
    pub ip: IpAddr,
    pub jail: String,
    /// Epoch seconds.
    pub banned_at: i64,
    /// Seconds; -1 is permanent.
    pub bantime: i64,
    /// Epoch seconds; `None` for a permanent ban.
    pub ends_at: Option<i64>,
}

/// A jail's settings as the dashboard shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JailSettings {
    pub bantime: i64,
    pub findtime: i64,
    pub maxretry: i64,
    pub maxmatches: Option<i64>,
    pub logpath: Vec<String>,
    pub ignoreip: Vec<String>,
    pub ignoreself: bool,
    pub failregex: Vec<String>,
    pub ignoreregex: Vec<String>,
    pub datepattern: Option<String>,
    pub actions: Vec<String>,
    pub backend: Option<String>,
    /// The jail is idle (keeps its bans, acts on no new failures); `None` when the server
    /// cannot say.
    pub idle: Option<bool>,
}

/// Server-wide settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServerSettings {
    pub loglevel: String,
    pub logtarget: String,
    pub dbfile: Option<String>,
    pub dbpurgeage: i64,
    pub dbmaxmatches: i64,
    pub syslogsocket: String,
}

/// One change of a server setting; values are validated by [`ServerSettingUpdate::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "setting", content = "value", rename_all = "lowercase")]
pub enum ServerSettingUpdate {
    LogLevel(String),
    LogTarget(String),
    DbPurgeAge(i64),
    DbMaxMatches(i64),
}

/// Log levels fail2ban accepts.
pub const LOG_LEVELS: [&str; 8] = [
    "CRITICAL",
    "ERROR",
    "WARNING",
    "NOTICE",
    "INFO",
    "DEBUG",
    "TRACEDEBUG",
    "HEAVYDEBUG",
];

impl ServerSettingUpdate {
    /// The `set` words for fail2ban, or why the value is refused.
    pub fn validate(&self) -> Result<(&'static str, String), crate::domain::DomainError> {
        use crate::domain::DomainError;
        match self {
            ServerSettingUpdate::LogLevel(level) => {
                let upper = level.trim().to_ascii_uppercase();
                if LOG_LEVELS.contains(&upper.as_str()) {
                    Ok(("loglevel", upper))
                } else {
                    Err(DomainError::new(
                        "loglevel",
                        level,
                        format!("expected one of {}", LOG_LEVELS.join(", ")),
                    ))
                }
            }
            ServerSettingUpdate::LogTarget(target) => {
                let t = target.trim();
                let special = ["STDOUT", "STDERR", "SYSLOG", "SYSTEMD-JOURNAL"];
                if special.contains(&t) || (t.starts_with('/') && !t.contains('\0')) {
                    Ok(("logtarget", t.to_string()))
                } else {
                    Err(DomainError::new(
                        "logtarget",
                        target,
                        "expected STDOUT, STDERR, SYSLOG, SYSTEMD-JOURNAL or an absolute path",
                    ))
                }
            }
            ServerSettingUpdate::DbPurgeAge(secs) if *secs >= 0 => {
                Ok(("dbpurgeage", secs.to_string()))
            }
            ServerSettingUpdate::DbPurgeAge(secs) => Err(DomainError::new(
                "dbpurgeage",
                &secs.to_string(),
                "must not be negative",
            )),
            ServerSettingUpdate::DbMaxMatches(n) if *n >= 0 => Ok(("dbmaxmatches", n.to_string())),
            ServerSettingUpdate::DbMaxMatches(n) => Err(DomainError::new(
                "dbmaxmatches",
                &n.to_string(),
                "must not be negative",
            )),
        }
    }
}

/// Why a decoded value does not have the expected shape.
pub(crate) fn shape(what: &str, value: &PyValue) -> String {
    let text: String = value.display().chars().take(120).collect();
    format!("unexpected reply shape for {what}: {text}")
}

/// A list of strings (IPAddr values included).
pub fn strings(value: &PyValue) -> Option<Vec<String>> {
    match value {
        PyValue::None => Some(Vec::new()),
        PyValue::Str(s) if s.is_empty() => Some(Vec::new()),
        _ => value
            .as_list()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
    }
}

/// Addresses from a list of IP strings; entries that are not addresses (fail2ban accepts
/// hostnames in `banip`) are skipped and reported in the second list.
pub fn ips(value: &PyValue) -> Option<(Vec<IpAddr>, Vec<String>)> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for s in strings(value)? {
        match s.trim().parse::<IpAddr>() {
            Ok(ip) => good.push(ip.to_canonical()),
            Err(_) => bad.push(s),
        }
    }
    Some((good, bad))
}

fn count(value: &PyValue, key: &str) -> u64 {
    value
        .field(key)
        .and_then(PyValue::as_i64)
        .map_or(0, |n| n.max(0) as u64)
}

/// `status` → the jail names (one comma-separated string in the reply).
pub fn parse_jail_list(value: &PyValue) -> Option<Vec<String>> {
    let list = value.field("Jail list")?;
    if let Some(text) = list.as_str() {
        return Some(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        );
    }
    strings(list)
}

/// `status JAIL [short]` → status (banned list empty for `short`).
pub fn parse_jail_status(value: &PyValue) -> Option<(JailStatus, Vec<String>)> {
    let filter = value.field("Filter")?;
    let actions = value.field("Actions")?;
    let counters = JailCounters {
        currently_failed: count(filter, "Currently failed"),
        total_failed: count(filter, "Total failed"),
        currently_banned: count(actions, "Currently banned"),
        total_banned: count(actions, "Total banned"),
    };
    let file_list = filter
        .field("File list")
        .or_else(|| filter.field("Journal matches"))
        .and_then(strings)
        .unwrap_or_default();
    let (banned, bad) = match actions.field("Banned IP list") {
        Some(v) => ips(v)?,
        None => (Vec::new(), Vec::new()),
    };
    Some((
        JailStatus {
            counters,
            file_list,
            banned,
        },
        bad,
    ))
}

/// `banned` → every jail's entries as fail2ban lists them: addresses and networks alike.
pub fn parse_banned_all_entries(value: &PyValue) -> Option<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for item in value.as_list()? {
        let PyValue::Dict(pairs) = item else {
            return None;
        };
        for (k, v) in pairs {
            out.push((k.as_str()?.to_string(), strings(v)?));
        }
    }
    Some(out)
}

/// Reads one `get JAIL banip --with-time` line:
/// `IP \tYYYY-mm-dd HH:MM:SS + BANTIME = YYYY-mm-dd HH:MM:SS`, times in the server's local
/// time zone (the same machine as BanGUI).
pub fn parse_with_time(jail: &str, line: &str) -> Option<ActiveBan> {
    let (ip, rest) = line.split_once('\t')?;
    let ip: IpAddr = ip.trim().parse().ok()?;
    let (start, rest) = rest.split_once(" + ")?;
    let (bantime, _end) = rest.split_once(" = ")?;
    let bantime: i64 = bantime.trim().parse().ok()?;
    let naive = NaiveDateTime::parse_from_str(start.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    let banned_at = Local.from_local_datetime(&naive).earliest()?.timestamp();
    let ends_at = (bantime >= 0).then(|| banned_at.saturating_add(bantime));
    Some(ActiveBan {
        ip: ip.to_canonical(),
        jail: jail.to_string(),
        banned_at,
        bantime,
        ends_at,
    })
}

/// `get JAIL datepattern` → the pattern (`(None, 'Default Detectors')` → `None`).
pub fn parse_datepattern(value: &PyValue) -> Option<String> {
    match value {
        PyValue::Str(s) => Some(s.clone()),
        PyValue::Tuple(v) | PyValue::List(v) => v.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Orders fail2ban versions such as `1.0.2`, `0.11.2`, `1.1.0.dev1`.
pub fn version_tuple(text: &str) -> (u32, u32, u32) {
    let mut parts = text
        .trim()
        .trim_start_matches(['v', 'V'])
        .split('.')
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<u32>()
                .unwrap_or(0)
        });
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}
