//! A notice: one happening that a channel may be told about (a ban, an unban, a jail that
//! stopped, fail2ban going offline, ...), reduced to what rules filter on and messages show.
//! Notices are built from the application's internal events by the notification service; this
//! file does not know where they come from.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happened. The names are the ones rules list in `events`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Ban,
    Unban,
    JailStarted,
    JailStopped,
    Fail2banOffline,
    Fail2banOnline,
    BlocklistImportFailed,
    MmdbReloadFailed,
    ConfigApplied,
    ConfigRolledBack,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 10] = [
        Self::Ban,
        Self::Unban,
        Self::JailStarted,
        Self::JailStopped,
        Self::Fail2banOffline,
        Self::Fail2banOnline,
        Self::BlocklistImportFailed,
        Self::MmdbReloadFailed,
        Self::ConfigApplied,
        Self::ConfigRolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ban => "ban",
            Self::Unban => "unban",
            Self::JailStarted => "jail_started",
            Self::JailStopped => "jail_stopped",
            Self::Fail2banOffline => "fail2ban_offline",
            Self::Fail2banOnline => "fail2ban_online",
            Self::BlocklistImportFailed => "blocklist_import_failed",
            Self::MmdbReloadFailed => "mmdb_reload_failed",
            Self::ConfigApplied => "config_applied",
            Self::ConfigRolledBack => "config_rolled_back",
        }
    }

    /// Words for people (message titles).
    pub fn label(self) -> &'static str {
        match self {
            Self::Ban => "ban",
            Self::Unban => "unban",
            Self::JailStarted => "jail started",
            Self::JailStopped => "jail stopped",
            Self::Fail2banOffline => "fail2ban offline",
            Self::Fail2banOnline => "fail2ban online",
            Self::BlocklistImportFailed => "blocklist import failed",
            Self::MmdbReloadFailed => "GeoIP database reload failed",
            Self::ConfigApplied => "configuration applied",
            Self::ConfigRolledBack => "configuration rolled back",
        }
    }
}

/// One happening, with the fields rules filter on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notice {
    pub kind: NoticeKind,
    /// Epoch seconds when it happened.
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ip: Option<IpAddr>,
    /// ISO 3166-1 alpha-2 country of `ip`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// How many bans of `ip` the archive holds, this one included (bans only, when known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ban_count: Option<u64>,
    /// Free text from the source (an error message, a configuration summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Notice {
    pub fn new(kind: NoticeKind, at: i64) -> Self {
        Self {
            kind,
            at,
            jail: None,
            ip: None,
            country: None,
            ban_count: None,
            detail: None,
        }
    }

    /// One line for people: `ban 192.0.2.1 (DE) in sshd`.
    pub fn line(&self) -> String {
        let mut out = self.kind.label().to_string();
        if let Some(ip) = self.ip {
            out.push(' ');
            out.push_str(&ip.to_string());
        }
        if let Some(country) = &self.country {
            out.push_str(&format!(" ({country})"));
        }
        if let Some(jail) = &self.jail {
            out.push_str(&format!(" in {jail}"));
        }
        if let Some(n) = self.ban_count.filter(|n| *n > 1) {
            out.push_str(&format!(", banned {n} times"));
        }
        if let Some(detail) = &self.detail {
            out.push_str(": ");
            out.push_str(detail);
        }
        out
    }
}
