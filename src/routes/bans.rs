//! `/api/v1/bans`: the active bans of every jail, ban, unban (one jail or all), unban all.
//! The ban service parses input into `BanIp`/`JailName` first; an invalid IP is a 400 naming
//! the value. Every change writes its audit record before it acts; a successful unban is then
//! recorded in the history (`HistoryLifts::record_unban`: the archived bans turn `lifted`).

use actix_web::{delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::BanIp;
use crate::error::ApiError;
use crate::services::bans::{ActiveBans, BanOutcome, UnbanOutcome};
use crate::state::AppState;

use super::guard::{Operator, Viewer};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(active)
        .service(unban_all)
        .service(ban)
        .service(unban);
}

#[derive(Deserialize, ToSchema)]
pub struct BanRequest {
    #[schema(schema_with = crate::routes::openapi::rules::ip_address)]
    pub ip: String,
    #[schema(schema_with = crate::routes::openapi::rules::jail_name)]
    pub jail: String,
}

#[derive(Deserialize, ToSchema)]
pub struct UnbanRequest {
    #[schema(schema_with = crate::routes::openapi::rules::ip_address)]
    pub ip: String,
    /// The jail to unban from; empty, null or absent for every jail.
    #[schema(schema_with = crate::routes::openapi::rules::optional_jail_name)]
    pub jail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnbanAllResponse {
    pub count: u64,
}

/// Every active ban of every jail, with start, end and geolocation.
#[utoipa::path(tag = "bans",
    responses((status = 200, body = ActiveBans), (status = 401), (status = 502, description = "fail2ban unreachable")))]
#[get("/bans/active")]
pub async fn active(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<ActiveBans>, ApiError> {
    Ok(web::Json(state.bans.active().await?))
}

/// Bans an IP in a running jail. Loopback, unspecified, multicast, broadcast and link-local
/// addresses and the host's own addresses are refused (400 `invalid_ip`).
#[utoipa::path(tag = "bans", request_body = BanRequest,
    responses((status = 200, body = BanOutcome), (status = 400, description = "invalid or refused IP, or invalid jail name"),
        (status = 401), (status = 403), (status = 404, description = "no such running jail"), (status = 502),
        (status = 503, description = "the audit log cannot be written; nothing was changed")))]
#[post("/bans")]
pub async fn ban(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<BanRequest>>,
) -> Result<web::Json<BanOutcome>, ApiError> {
    let target = format!("{} in {}", body.ip.trim(), body.jail.trim());
    let outcome = super::audited(&state, &caller, "ban", &target, None, async {
        Ok(state.bans.ban(&body.ip, &body.jail).await?)
    })
    .await?;
    Ok(web::Json(outcome))
}

/// Unbans an IP from one jail, or from every jail when `jail` is null.
#[utoipa::path(tag = "bans", request_body = UnbanRequest,
    responses((status = 200, body = UnbanOutcome), (status = 400), (status = 401), (status = 403), (status = 404), (status = 502), (status = 503)))]
#[delete("/bans")]
pub async fn unban(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<UnbanRequest>>,
) -> Result<web::Json<UnbanOutcome>, ApiError> {
    let jail = body
        .jail
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty());
    let target = format!("{} in {}", body.ip.trim(), jail.unwrap_or("every jail"));
    let outcome = super::audited(&state, &caller, "unban", &target, None, async {
        Ok(state.bans.unban(&body.ip, jail).await?)
    })
    .await?;
    // The outcome's address is the parsed one; a failed re-parse records nothing (never "all").
    if let (false, Ok(ip)) = (outcome.jails.is_empty(), BanIp::parse(&outcome.ip)) {
        state
            .history_lifts
            .record_unban(Some(ip), &outcome.jails, &caller.identity.username)
            .await;
    }
    Ok(web::Json(outcome))
}

/// Unbans every IP in every jail (`fail2ban-client unban --all`).
#[utoipa::path(tag = "bans",
    responses((status = 200, body = UnbanAllResponse), (status = 401), (status = 403), (status = 502), (status = 503)))]
#[delete("/bans/all")]
pub async fn unban_all(
    Operator(caller): Operator,
    state: web::Data<AppState>,
) -> Result<web::Json<UnbanAllResponse>, ApiError> {
    let count = super::audited(&state, &caller, "unban_all", "every jail", None, async {
        Ok(state.bans.unban_all().await?)
    })
    .await?;
    state
        .history_lifts
        .record_unban(None, &[], &caller.identity.username)
        .await;
    Ok(web::Json(UnbanAllResponse { count }))
}
