//! `GET /metrics`: the Prometheus text exposition, public (no auth), outside `/api`.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(metrics);
}

/// Prometheus text exposition (public, for scrapers): the fail2ban exporter's `f2b_*` series
/// from the last status poll, BanGUI's archive, event, notification, geo, job and HTTP series.
#[utoipa::path(tag = "metrics", security(()),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state.geo.refresh_gauges();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.exporter.render())
}
