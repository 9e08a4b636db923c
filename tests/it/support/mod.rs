//! Shared test harness: a real private `fail2ban-server` per test ([`fail2ban::Fail2banServer`])
//! and the real application on a free port ([`app::TestApp`]). The suite's `main.rs` includes it once
//! and every test module uses what it needs through `crate::support`.
#![allow(dead_code)]

pub mod app;
pub mod archive;
pub mod fail2ban;
pub mod mmdb;
pub mod receivers;
