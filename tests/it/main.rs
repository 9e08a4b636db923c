//! BanGUI's integration suite, one test binary (one link, one harness): the real application on
//! a free port against a real private fail2ban, real SQLite files and MMDBs written by the tests,
//! and the `bangui` binary as an operator runs it. Each module is the specification of one
//! area; `support` is the shared harness.
//!
//! Run one area with `cargo test --test it health::`, one test by its name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod api_auth;
mod api_fail2ban;
mod archive_crash;
mod archive_geo;
mod archive_rollups;
mod blocklists;
mod blocklists_unchanged;
mod events;
mod events_stream;
mod fail2ban_bulk;
mod fail2ban_client;
mod fail2ban_errors;
mod fail2ban_protocol;
mod fail2ban_protocol_props;
mod filters_api;
mod frontend_files;
mod geo_cache;
mod geo_fallback;
mod geo_http;
mod health;
mod history_api;
mod history_filters;
mod history_lifts_counts;
mod jail_config;
mod layers;
mod metrics;
mod notifications;
mod notifications_bench;
mod notifications_fail2ban;
mod openapi;
mod process;
mod regex_tester;
mod settings_docs;
mod shutdown;
