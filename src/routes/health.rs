//! Public health endpoints: `/health` (states for anyone, the full report for authenticated
//! callers), `/health/live` and `/health/ready`.

use actix_web::{HttpResponse, get, web};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::services::health::OverallState;
use crate::state::AppState;

use super::guard::Caller;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health_report).service(live).service(ready);
}

/// Health of the process and its dependencies. Anonymous callers get the states only; a
/// logged-in caller (or one with an API token) also gets socket and file paths, error messages
/// and each job's last success and last error.
#[utoipa::path(tag = "health", security(()),
    responses((status = 200, description = "ok or degraded"), (status = 503, description = "unavailable")))]
#[get("/health")]
pub async fn health_report(caller: Option<Caller>, state: web::Data<AppState>) -> HttpResponse {
    let report = state.health.report().await;
    let mut res = match report.status {
        OverallState::Unavailable => HttpResponse::ServiceUnavailable(),
        _ => HttpResponse::Ok(),
    };
    match caller {
        Some(_) => res.json(report),
        None => res.json(report.summary()),
    }
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", security(()), responses((status = 200)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the own database answers.
#[utoipa::path(tag = "health", security(()),
    responses((status = 200), (status = 503)))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.health.ready().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(e) => {
            // The cause goes to the log only: this endpoint is public.
            tracing::warn!(error = %e, "readiness: the application database does not answer");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "not_ready",
                "error": "the application database does not answer",
            }))
        }
    }
}
