//! What happens, as one vocabulary: a ban or an unban, a jail starting or stopping, fail2ban
//! going offline or coming back, a blocklist import or an MMDB reload failing, a configuration
//! change applied or rolled back. An [`Event`] carries the data a notification or a live view
//! needs (IP, jail, time, country, ASN, ban count, host) and the id the event bus gave it.
//! Pure values: who publishes them and how they travel is `services::events`.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;
use super::auth::Role;
use super::query::Origin;

/// One published event: the bus's id (increasing within the process; the SSE `id:`), when it
/// was published, and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: u64,
    /// When the event was published (RFC 3339 UTC).
    #[schema(value_type = String, format = DateTime)]
    pub published_at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Serialised with its type as `"type"` (`"ban"`, `"jail_started"`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// fail2ban banned an address (seen by the archive sync).
    Ban(BanEvent),
    /// Bans were lifted before their end (through BanGUI or found by the lift detector).
    Unban(UnbanEvent),
    JailStarted {
        jail: String,
    },
    JailStopped {
        jail: String,
    },
    /// fail2ban's socket stopped answering.
    Fail2banOffline {
        error: String,
    },
    /// fail2ban's socket answers again (or for the first time since start).
    Fail2banOnline {
        version: Option<String>,
    },
    BlocklistImportFailed {
        /// The blocklist's name or URL as configured.
        list: String,
        error: String,
    },
    MmdbReloadFailed {
        /// Which database: `country` or `asn`.
        database: String,
        error: String,
    },
    /// A configuration change took effect.
    ConfigApplied {
        /// What changed, e.g. `jail sshd` or `server loglevel`.
        change: String,
        actor: String,
    },
    /// A configuration change was undone (it failed to apply, or by request).
    ConfigRolledBack {
        change: String,
        actor: String,
        reason: String,
    },
}

/// One ban as the archive recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BanEvent {
    #[schema(value_type = String, example = "203.0.113.7")]
    pub ip: IpAddr,
    pub jail: String,
    /// When fail2ban banned it (RFC 3339 UTC).
    #[schema(value_type = String, format = DateTime)]
    pub time: DateTime<Utc>,
    /// Seconds; -1 is permanent.
    pub bantime: i64,
    /// How often fail2ban has banned this address (its `bancount`, 1 for a first ban).
    pub bancount: i64,
    /// ISO country code, when the address was geolocated.
    pub country: Option<String>,
    pub asn: Option<u32>,
    /// The fail2ban host (`local` for the one this process talks to).
    pub host: String,
    #[schema(value_type = String, example = "selfblock")]
    pub origin: Origin,
}

/// A lifted ban: one address in one jail, or every ban at once (`ip` and `jail` both `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnbanEvent {
    /// The address; `None` when every ban was lifted at once.
    #[schema(value_type = Option<String>, example = "203.0.113.7")]
    pub ip: Option<IpAddr>,
    /// The jail; `None` when the lift covered every jail.
    pub jail: Option<String>,
    /// When the lift happened or was noticed (RFC 3339 UTC).
    #[schema(value_type = String, format = DateTime)]
    pub time: DateTime<Utc>,
    /// `bangui:<user>` for an unban through BanGUI, `fail2ban` for one found by the detector.
    pub lifted_by: String,
    pub host: String,
}

/// The kinds of event by name, for subscriptions and rules ("which events").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
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

impl EventType {
    pub const ALL: [EventType; 10] = [
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

    /// The name used in JSON, in SSE `event:` lines and in rules.
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

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text.trim())
            .ok_or_else(|| {
                let allowed: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                DomainError::new(
                    "event type",
                    text,
                    format!("allowed: {}", allowed.join(", ")),
                )
            })
    }

    /// The lowest role that may see events of this type. Configuration changes name who made
    /// them (as the audit log does) and are for admins; a failed blocklist import names its
    /// source and is for operators, who act on it; the rest is what every viewer sees anyway.
    pub fn audience(self) -> Role {
        match self {
            Self::ConfigApplied | Self::ConfigRolledBack => Role::Admin,
            Self::BlocklistImportFailed => Role::Operator,
            _ => Role::Viewer,
        }
    }
}

impl EventKind {
    pub fn event_type(&self) -> EventType {
        match self {
            Self::Ban(_) => EventType::Ban,
            Self::Unban(_) => EventType::Unban,
            Self::JailStarted { .. } => EventType::JailStarted,
            Self::JailStopped { .. } => EventType::JailStopped,
            Self::Fail2banOffline { .. } => EventType::Fail2banOffline,
            Self::Fail2banOnline { .. } => EventType::Fail2banOnline,
            Self::BlocklistImportFailed { .. } => EventType::BlocklistImportFailed,
            Self::MmdbReloadFailed { .. } => EventType::MmdbReloadFailed,
            Self::ConfigApplied { .. } => EventType::ConfigApplied,
            Self::ConfigRolledBack { .. } => EventType::ConfigRolledBack,
        }
    }

    /// The jail the event is about, if any (for per-jail rules).
    pub fn jail(&self) -> Option<&str> {
        match self {
            Self::Ban(b) => Some(&b.jail),
            Self::Unban(u) => u.jail.as_deref(),
            Self::JailStarted { jail } | Self::JailStopped { jail } => Some(jail),
            _ => None,
        }
    }

    /// The address the event is about, if any.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ban(b) => Some(b.ip),
            Self::Unban(u) => u.ip,
            _ => None,
        }
    }

    /// The country of the address, if known (bans only).
    pub fn country(&self) -> Option<&str> {
        match self {
            Self::Ban(b) => b.country.as_deref(),
            _ => None,
        }
    }
}

impl Event {
    pub fn event_type(&self) -> EventType {
        self.kind.event_type()
    }

    /// Whether a caller with `role` may see this event.
    pub fn visible_to(&self, role: Role) -> bool {
        role >= self.event_type().audience()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban() -> EventKind {
        EventKind::Ban(BanEvent {
            ip: "203.0.113.7".parse().expect("ip"),
            jail: "sshd".into(),
            time: DateTime::from_timestamp(1_700_000_000, 0).expect("time"),
            bantime: 600,
            bancount: 2,
            country: Some("DE".into()),
            asn: Some(64_500),
            host: "local".into(),
            origin: Origin::Selfblock,
        })
    }

    #[test]
    fn an_event_serialises_flat_with_its_type_name() {
        let event = Event {
            id: 7,
            published_at: DateTime::from_timestamp(1_700_000_001, 0).expect("time"),
            kind: ban(),
        };
        let json = serde_json::to_value(&event).expect("json");
        assert_eq!(json["id"], 7);
        assert_eq!(json["type"], "ban");
        assert_eq!(json["ip"], "203.0.113.7");
        assert_eq!(json["time"], "2023-11-14T22:13:20Z");
        assert_eq!(json["country"], "DE");
        assert_eq!(json["origin"], "selfblock");
        let back: Event = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, event);
    }

    #[test]
    fn every_type_name_parses_back_and_matches_the_serialised_tag() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Ok(t));
            assert_eq!(
                serde_json::to_value(t).expect("json"),
                serde_json::Value::String(t.as_str().into())
            );
        }
        assert!(EventType::parse("bann").is_err());
        let started = EventKind::JailStarted { jail: "x".into() };
        let json = serde_json::to_value(&started).expect("json");
        assert_eq!(json["type"], started.event_type().as_str());
    }

    #[test]
    fn configuration_events_are_for_admins_and_bans_for_everyone() {
        let event = |kind| Event {
            id: 1,
            published_at: Utc::now(),
            kind,
        };
        let config = event(EventKind::ConfigApplied {
            change: "jail sshd".into(),
            actor: "alice".into(),
        });
        assert!(!config.visible_to(Role::Operator));
        assert!(config.visible_to(Role::Admin));
        assert!(event(ban()).visible_to(Role::Viewer));
    }
}
