//! Use cases that combine fail2ban, geo and the own database. Routes call these; these never
//! see HTTP types.

pub mod audit;
pub mod auth;
pub mod health;
pub mod login_limiter;
