//! Domain values shared by every layer: validated IPs and networks, jail names and the query
//! vocabulary (time ranges, origins, pages). Pure types with parsing and canonical text; this
//! module does no I/O and knows nothing about fail2ban's wire format, HTTP or databases.

pub mod auth;
pub mod blocklist;
pub mod config_name;
pub mod event;
pub mod geo;
pub mod history_query;
pub mod ip;
pub mod jail;
pub mod jail_config;
pub mod notification;
pub mod query;
pub mod rollup;
pub mod time;

pub use config_name::ConfigName;
pub use geo::{GeoInfo, GeoSource};
pub use ip::{BanIp, IgnoreTarget};
pub use jail::JailName;
pub use query::{BLOCKLIST_JAIL, Origin, Page, TimeRange};

/// A value from outside that does not satisfy a domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {value:?}: {reason}")]
pub struct DomainError {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl DomainError {
    pub fn new(field: &'static str, value: &str, reason: impl Into<String>) -> Self {
        // Keep error messages bounded even when the input is not.
        let value: String = value.chars().take(128).collect();
        Self {
            field,
            value,
            reason: reason.into(),
        }
    }
}
