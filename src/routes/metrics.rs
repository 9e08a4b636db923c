//! `GET /metrics`: the Prometheus text exposition, public (no auth), outside `/api`.

use actix_web::{HttpResponse, get, web};

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(metrics);
}

#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state.geo.refresh_gauges();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
