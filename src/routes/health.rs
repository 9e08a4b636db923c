//! Public health endpoints: `/health` (full report), `/health/live` and `/health/ready`.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::services::health::{self, OverallState};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health_report).service(live).service(ready);
}

#[get("/health")]
async fn health_report(state: web::Data<AppState>) -> HttpResponse {
    let report = health::report(&state).await;
    match report.status {
        OverallState::Unavailable => HttpResponse::ServiceUnavailable().json(report),
        _ => HttpResponse::Ok().json(report),
    }
}

#[get("/health/live")]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match health::ready(&state).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(e) => {
            HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "error": e}))
        }
    }
}
