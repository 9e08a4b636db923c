//! Thin actix handlers, one file per resource: parse input into domain types, call a service,
//! return JSON. Every handler's path is written relative to `/api/v1` and mirrored in its
//! `#[utoipa::path]`; [`configure`] mounts them all.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;

pub mod audit;
pub mod auth;
pub mod bans;
pub mod dashboard;
pub mod frontend;
pub mod geo;
pub mod guard;
pub mod health;
pub mod history;
pub mod jails;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod server;
pub mod settings;
pub mod setup;

pub mod tokens;
pub mod users;

/// Mounts every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(openapi::configure_docs)
        .configure(metrics::configure)
        .service(
            web::scope("/api")
                .service(
                    web::scope("/v1")
                        .configure(health::configure)
                        .configure(setup::configure)
                        .configure(auth::configure)
                        .configure(users::configure)
                        .configure(tokens::configure)
                        .configure(audit::configure)
                        .configure(settings::configure)
                        .configure(openapi::configure)
                        .configure(geo::configure)
                        .configure(dashboard::configure)
                        .configure(history::configure)
                        .configure(bans::configure)
                        .configure(jails::configure)
                        .configure(server::configure)
                        .default_service(web::to(api_not_found)),
                )
                .default_service(web::to(api_not_found)),
        );
}

/// Any unknown `/api/...` path answers in the error contract, never with the SPA.
async fn api_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "route_not_found",
        format!("no API route {} {}", req.method(), req.path()),
    ))
}

/// Writes the audit record of a state-changing call from its outcome.
pub async fn audit_result<T>(
    state: &AppState,
    caller: &guard::Caller,
    action: &str,
    target: &str,
    result: &Result<T, ApiError>,
) {
    let code = result.as_ref().map_or_else(|e| e.code, |_| "ok");
    state
        .audit
        .record(&caller.actor(), action, Some(target), code, None)
        .await;
}
