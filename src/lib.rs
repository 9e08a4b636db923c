//! BanGUI: a web dashboard and REST API for fail2ban. The binary in `main.rs` only reads the
//! configuration and runs [`startup::Application`]; everything else lives in this library so
//! the black-box tests can build the real application.
//!
//! Dependencies point one way: `routes → services → {fail2ban, geo, db} → domain`.

pub mod config;
pub mod cors;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod fail2ban;
pub mod geo;
pub mod instance_lock;
pub mod metrics;
pub mod middleware;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod tasks;
pub mod telemetry;
