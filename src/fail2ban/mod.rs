//! Everything that talks to fail2ban: the wire protocol (pure), the socket client with its typed
//! commands and the read-only reader of fail2ban's own database. Nothing here knows about HTTP.

pub mod blocklist;
pub mod client;
pub mod commands;
pub mod config_dump;
pub mod config_files;
pub mod database;
pub mod jail_files;
pub mod protocol;
pub mod pyliteral;
pub mod regex_output;
pub mod regex_tool;
pub mod types;

pub use client::{ClientConfig, Fail2banClient, Fail2banError};
pub use database::{BanRecord, Fail2banDb, Fail2banDbError};
pub use types::{
    ActiveBan, JailCounters, JailSettings, JailStatus, ServerSettingUpdate, ServerSettings,
};
