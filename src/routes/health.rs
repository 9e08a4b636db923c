//! Public health endpoints: `/health` (full report), `/health/live` and `/health/ready`.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::services::health::{self, OverallState};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health_report).service(live).service(ready);
}

/// Health of the process and its dependencies.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", security(()),
    responses((status = 200, description = "ok or degraded"), (status = 503, description = "unavailable")))]
#[get("/health")]
pub async fn health_report(state: web::Data<AppState>) -> HttpResponse {
    let report = health::report(&state).await;
    match report.status {
        OverallState::Unavailable => HttpResponse::ServiceUnavailable().json(report),
        _ => HttpResponse::Ok().json(report),
    }
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/api/v1/health/live", tag = "health", security(()), responses((status = 200)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the own database answers.
#[utoipa::path(get, path = "/api/v1/health/ready", tag = "health", security(()),
    responses((status = 200), (status = 503)))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match health::ready(&state).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(e) => {
            HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "error": e}))
        }
    }
}
