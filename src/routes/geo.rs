//! Geolocation endpoints under `/api/v1/geo`: lookup of one IP, re-resolve, reload and stats.
//! Thin handlers: parse, call the `GeoCache`, return JSON. Auth guards are added as
//! extractors by the API layer.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;

use crate::error::ApiError;
use crate::geo::GeoInfo;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(lookup)
        .service(re_resolve)
        .service(reload)
        .service(stats);
}

#[derive(Serialize)]
struct LookupResponse {
    ip: String,
    /// `null` when neither the MMDB nor the fallback knows the IP.
    geo: Option<GeoInfo>,
}

#[get("/geo/lookup/{ip}")]
async fn lookup(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let ip: IpAddr = raw.trim().parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_ip",
            format!("{raw:?} is not an IPv4 or IPv6 address"),
        )
    })?;
    let ip = ip.to_canonical();
    let geo = state.geo.lookup(ip).await;
    Ok(HttpResponse::Ok().json(LookupResponse {
        ip: ip.to_string(),
        geo,
    }))
}

#[post("/geo/re-resolve")]
async fn re_resolve(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let outcome = state.geo.re_resolve_unresolved().await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[post("/geo/reload")]
async fn reload(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let geo = Arc::clone(&state.geo);
    let outcome = web::block(move || geo.reload())
        .await
        .map_err(|e| ApiError::internal(format!("reload task failed: {e}")))?;
    match outcome {
        Ok(status) => Ok(HttpResponse::Ok().json(status)),
        Err(message) => Err(ApiError::unprocessable(message)
            .with_details(serde_json::to_value(state.geo.mmdb_status()).unwrap_or_default())),
    }
}

#[get("/geo/stats")]
async fn stats(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.geo.stats())
}
