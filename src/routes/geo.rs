//! Geolocation endpoints under `/api/v1/geo`: lookup of one IP (with the jails that ban it
//! now), re-resolve, reload and stats. Thin handlers: parse, call the `GeoCache`, return JSON.

use std::sync::Arc;

use actix_web::{get, post, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::BanIp;
use crate::error::ApiError;
use crate::geo::{GeoInfo, GeoStats, MmdbStatus, ReResolveOutcome};
use crate::state::AppState;

use super::guard::{Operator, Viewer};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(lookup)
        .service(re_resolve)
        .service(reload)
        .service(stats);
}

#[derive(Serialize, ToSchema)]
pub struct LookupResponse {
    pub ip: String,
    /// `null` when neither the MMDB nor the fallback knows the IP.
    pub geo: Option<GeoInfo>,
    /// Jails that ban the IP now (empty when fail2ban is unreachable; see `fail2ban_error`).
    pub banned_in: Vec<String>,
    pub fail2ban_error: Option<String>,
}

/// The address named in the path (for the document; the handler takes `web::Path<String>`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only its parameter schema is used
pub struct IpPath {
    /// The address to look up.
    #[param(schema_with = crate::routes::openapi::rules::ip_address)]
    ip: String,
}

/// Geolocation of one IP and the jails that ban it now.
#[utoipa::path(tag = "geo", params(IpPath),
    responses((status = 200, body = LookupResponse), (status = 400, description = "not an IP address"),
        (status = 401), (status = 403)))]
#[get("/geo/lookup/{ip}")]
pub async fn lookup(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<LookupResponse>, ApiError> {
    let ip = BanIp::parse(&path.into_inner())?;
    let (geo, banned) = tokio::join!(state.geo.lookup(ip.ip()), state.bans.jails_banning(ip));
    let (banned_in, fail2ban_error) = match banned {
        Ok(jails) => (jails, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(web::Json(LookupResponse {
        ip: ip.to_string(),
        geo,
        banned_in,
        fail2ban_error,
    }))
}

/// Retries every cached IP without a country (and entries of an older database).
#[utoipa::path(tag = "geo",
    responses((status = 200, body = ReResolveOutcome), (status = 401), (status = 403)))]
#[post("/geo/re-resolve")]
pub async fn re_resolve(
    Operator(caller): Operator,
    state: web::Data<AppState>,
) -> Result<web::Json<ReResolveOutcome>, ApiError> {
    let result = state
        .geo
        .re_resolve_unresolved()
        .await
        .map_err(ApiError::from);
    super::audit_result(&state, &caller, "geo.re_resolve", "geo_cache", &result).await;
    Ok(web::Json(result?))
}

/// Re-opens the configured MMDB file(s) now; a broken file leaves the old one serving (422).
#[utoipa::path(tag = "geo",
    responses((status = 200, body = MmdbStatus), (status = 401), (status = 403),
        (status = 422, description = "the new file is invalid; the previous database keeps serving")))]
#[post("/geo/reload")]
pub async fn reload(
    Operator(caller): Operator,
    state: web::Data<AppState>,
) -> Result<web::Json<MmdbStatus>, ApiError> {
    let geo = Arc::clone(&state.geo);
    let outcome = web::block(move || geo.reload())
        .await
        .map_err(|e| ApiError::internal(format!("reload task failed: {e}")))?;
    let result = outcome.map_err(|e| {
        ApiError::unprocessable(e.chain())
            .with_details(serde_json::to_value(state.geo.mmdb_status()).unwrap_or_default())
    });
    super::audit_result(&state, &caller, "geo.reload", "mmdb", &result).await;
    Ok(web::Json(result?))
}

/// Cache sizes, hit counters and the state of the databases.
#[utoipa::path(tag = "geo", responses((status = 200, body = GeoStats), (status = 401)))]
#[get("/geo/stats")]
pub async fn stats(_: Viewer, state: web::Data<AppState>) -> web::Json<GeoStats> {
    web::Json(state.geo.stats())
}
