//! Use cases that combine fail2ban, geo and the own database. Routes call these; these never
//! see HTTP types.

pub mod audit;
pub mod auth;
pub mod ban_policy;
pub mod bans;
pub mod blocklists;
pub mod dashboard;
pub mod events;
pub mod exporter;
pub mod fail2ban_log;
pub mod fail2ban_status;
pub mod filters_actions;
pub mod health;
pub mod history;
pub mod history_lifts;
pub mod history_query;
pub mod history_regeo;
pub mod history_views;
pub mod jail_config;
pub mod jails;
pub mod job_monitor;
pub mod live_stream;
pub mod login_limiter;
pub mod map_settings;
pub mod notifications;
pub mod regex_tester;
pub mod rollups;
pub mod server_settings;
pub mod top_offenders;
