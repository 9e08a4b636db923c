//! `/api/v1/dashboard/…`: live server status and the ban list and aggregates for a time window.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::services::dashboard::{BanPage, ByCountry, ByJail, ServerStatus, Trend};
use crate::state::AppState;

use super::guard::Viewer;
use super::query::WindowQuery;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(status)
        .service(bans)
        .service(by_country)
        .service(trend)
        .service(by_jail);
}

/// fail2ban's state and counters summed over all jails (as `fail2ban-client status JAIL` shows).
#[utoipa::path(tag = "dashboard",
    responses((status = 200, body = ServerStatus), (status = 401)))]
#[get("/dashboard/status")]
pub async fn status(_: Viewer, state: web::Data<AppState>) -> web::Json<ServerStatus> {
    web::Json(state.dashboard.status().await)
}

/// Bans in the window, newest first, paged, with the geolocation stored when each was archived.
#[utoipa::path(tag = "dashboard", params(WindowQuery),
    responses((status = 200, body = BanPage), (status = 400), (status = 401)))]
#[get("/dashboard/bans")]
pub async fn bans(
    _: Viewer,
    state: web::Data<AppState>,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let country = q.country()?;
    let json = state
        .dashboard
        .bans_json(q.range()?, q.origin()?, q.page()?, country.as_deref())
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json))
}

/// Bans per country in the window.
#[utoipa::path(tag = "dashboard", params(WindowQuery),
    responses((status = 200, body = ByCountry), (status = 400), (status = 401)))]
#[get("/dashboard/bans/by-country")]
pub async fn by_country(
    _: Viewer,
    state: web::Data<AppState>,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let w = q.aggregate()?;
    let value = state
        .dashboard
        .by_country(w.range, w.origin, w.country.as_deref());
    Ok(HttpResponse::Ok().json(value))
}

/// Bans per equal-width time bucket, zero-filled.
#[utoipa::path(tag = "dashboard", params(WindowQuery),
    responses((status = 200, body = Trend), (status = 400), (status = 401)))]
#[get("/dashboard/bans/trend")]
pub async fn trend(
    _: Viewer,
    state: web::Data<AppState>,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let w = q.aggregate()?;
    let value = state
        .dashboard
        .trend(w.range, w.origin, w.country.as_deref());
    Ok(HttpResponse::Ok().json(value))
}

/// Bans per jail in the window.
#[utoipa::path(tag = "dashboard", params(WindowQuery),
    responses((status = 200, body = ByJail), (status = 400), (status = 401)))]
#[get("/dashboard/bans/by-jail")]
pub async fn by_jail(
    _: Viewer,
    state: web::Data<AppState>,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let w = q.aggregate()?;
    let value = state
        .dashboard
        .by_jail(w.range, w.origin, w.country.as_deref());
    Ok(HttpResponse::Ok().json(value))
}
