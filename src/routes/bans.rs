//! `/api/v1/bans`: the active bans of every jail, ban, unban (one jail or all), unban all.
//! Input is parsed into `BanIp`/`JailName` first; an invalid IP is a 400 naming the value.

use actix_web::{delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{BanIp, JailName};
use crate::error::ApiError;
use crate::services::bans::{self, ActiveBans};
use crate::state::AppState;

use super::guard::{Operator, Viewer};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(active)
        .service(unban_all)
        .service(ban)
        .service(unban);
}

#[derive(Deserialize, ToSchema)]
pub struct BanRequest {
    pub ip: String,
    pub jail: String,
}

#[derive(Serialize, ToSchema)]
pub struct BanResponse {
    pub ip: String,
    pub jail: String,
    /// False when the IP was already banned in that jail.
    pub newly_banned: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct UnbanRequest {
    pub ip: String,
    /// The jail to unban from; null or absent for every jail.
    pub jail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnbanResponse {
    pub ip: String,
    /// Jails the IP was removed from.
    pub jails: Vec<String>,
    pub unbanned: usize,
}

#[derive(Serialize, ToSchema)]
pub struct UnbanAllResponse {
    pub count: u64,
}

/// Every active ban of every jail, with start, end and geolocation.
#[utoipa::path(get, path = "/api/v1/bans/active", tag = "bans",
    responses((status = 200, body = ActiveBans), (status = 401), (status = 502, description = "fail2ban unreachable")))]
#[get("/bans/active")]
pub async fn active(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<ActiveBans>, ApiError> {
    Ok(web::Json(bans::active(&state).await?))
}

/// Bans an IP in a running jail.
#[utoipa::path(post, path = "/api/v1/bans", tag = "bans", request_body = BanRequest,
    responses((status = 200, body = BanResponse), (status = 400, description = "invalid IP or jail name"),
        (status = 401), (status = 403), (status = 404, description = "no such running jail"), (status = 502)))]
#[post("/bans")]
pub async fn ban(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    body: web::Json<BanRequest>,
) -> Result<web::Json<BanResponse>, ApiError> {
    let target = format!("{} in {}", body.ip.trim(), body.jail.trim());
    let result = async {
        let ip = BanIp::parse(&body.ip)?;
        let jail = JailName::parse(&body.jail)?;
        state.fail2ban.ensure_jail(&jail).await?;
        let newly_banned = state.fail2ban.ban(&jail, ip).await?;
        Ok::<_, ApiError>(BanResponse {
            ip: ip.to_string(),
            jail: jail.to_string(),
            newly_banned,
        })
    }
    .await;
    super::audit_result(&state, &caller, "ban", &target, &result).await;
    Ok(web::Json(result?))
}

/// Unbans an IP from one jail, or from every jail when `jail` is null.
#[utoipa::path(delete, path = "/api/v1/bans", tag = "bans", request_body = UnbanRequest,
    responses((status = 200, body = UnbanResponse), (status = 400), (status = 401), (status = 403), (status = 404), (status = 502)))]
#[delete("/bans")]
pub async fn unban(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    body: web::Json<UnbanRequest>,
) -> Result<web::Json<UnbanResponse>, ApiError> {
    let jail_text = body
        .jail
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty());
    let target = format!(
        "{} in {}",
        body.ip.trim(),
        jail_text.unwrap_or("every jail")
    );
    let result = async {
        let ip = BanIp::parse(&body.ip)?;
        let jails = match jail_text {
            Some(j) => {
                let jail = JailName::parse(j)?;
                state.fail2ban.ensure_jail(&jail).await?;
                if state.fail2ban.unban(&jail, ip).await? {
                    vec![jail.to_string()]
                } else {
                    Vec::new()
                }
            }
            None => state.fail2ban.unban_everywhere(ip).await?,
        };
        if !jails.is_empty() {
            state
                .history_lifts
                .record_unban(Some(ip), &jails, &caller.identity.username)
                .await;
        }
        Ok::<_, ApiError>(UnbanResponse {
            ip: ip.to_string(),
            unbanned: jails.len(),
            jails,
        })
    }
    .await;
    super::audit_result(&state, &caller, "unban", &target, &result).await;
    Ok(web::Json(result?))
}

/// Unbans every IP in every jail (`fail2ban-client unban --all`).
#[utoipa::path(delete, path = "/api/v1/bans/all", tag = "bans",
    responses((status = 200, body = UnbanAllResponse), (status = 401), (status = 403), (status = 502)))]
#[delete("/bans/all")]
pub async fn unban_all(
    Operator(caller): Operator,
    state: web::Data<AppState>,
) -> Result<web::Json<UnbanAllResponse>, ApiError> {
    let result = state.fail2ban.unban_all().await.map_err(ApiError::from);
    if result.is_ok() {
        state
            .history_lifts
            .record_unban(None, &[], &caller.identity.username)
            .await;
    }
    super::audit_result(&state, &caller, "unban_all", "every jail", &result).await;
    Ok(web::Json(UnbanAllResponse { count: result? }))
}
