//! Everything that talks to fail2ban: the wire protocol (pure), the socket client and the
//! read-only reader of fail2ban's own database. Nothing here knows about HTTP.

pub mod client;
pub mod protocol;

pub use client::{ClientConfig, Fail2banClient, Fail2banError};
