//! Shared test harness: a real private `fail2ban-server` per test ([`fail2ban::Fail2banServer`])
//! and the real application on a free port ([`app::TestApp`]). Each test binary includes this
//! module with `mod support;` and uses what it needs.
#![allow(dead_code)]

pub mod app;
pub mod fail2ban;
pub mod mmdb;
