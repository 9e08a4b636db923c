//! `/api/v1/server/…` (admins): fail2ban's server settings (log level and target, database
//! purge age and max matches) and flushing its logs.

use actix_web::{get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::fail2ban::types::{ServerSettingUpdate, ServerSettings};
use crate::state::AppState;

use super::guard::Admin;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_settings)
        .service(put_settings)
        .service(flush_logs);
}

#[derive(Deserialize, ToSchema)]
pub struct ServerSettingsUpdate {
    pub loglevel: Option<String>,
    pub logtarget: Option<String>,
    /// Seconds; fail2ban purges its ban history older than this.
    pub dbpurgeage: Option<i64>,
    pub dbmaxmatches: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct FlushResult {
    pub result: String,
}

/// fail2ban's server settings.
#[utoipa::path(get, path = "/api/v1/server/settings", tag = "server",
    responses((status = 200, body = ServerSettings), (status = 401), (status = 403), (status = 502)))]
#[get("/server/settings")]
pub async fn get_settings(
    _: Admin,
    state: web::Data<AppState>,
) -> Result<web::Json<ServerSettings>, ApiError> {
    Ok(web::Json(state.fail2ban.server_settings().await?))
}

/// Changes the given server settings; answers with all settings afterwards.
#[utoipa::path(put, path = "/api/v1/server/settings", tag = "server", request_body = ServerSettingsUpdate,
    responses((status = 200, body = ServerSettings), (status = 400), (status = 401), (status = 403), (status = 502)))]
#[put("/server/settings")]
pub async fn put_settings(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<ServerSettingsUpdate>,
) -> Result<web::Json<ServerSettings>, ApiError> {
    let mut updates = Vec::new();
    if let Some(v) = &body.loglevel {
        updates.push(ServerSettingUpdate::LogLevel(v.clone()));
    }
    if let Some(v) = &body.logtarget {
        updates.push(ServerSettingUpdate::LogTarget(v.clone()));
    }
    if let Some(v) = body.dbpurgeage {
        updates.push(ServerSettingUpdate::DbPurgeAge(v));
    }
    if let Some(v) = body.dbmaxmatches {
        updates.push(ServerSettingUpdate::DbMaxMatches(v));
    }
    let result = async {
        for u in updates {
            state.fail2ban.set_server_setting(u).await?;
        }
        Ok::<_, ApiError>(state.fail2ban.server_settings().await?)
    }
    .await;
    super::audit_result(&state, &caller, "server.settings", "fail2ban", &result).await;
    Ok(web::Json(result?))
}

/// Reopens fail2ban's log file (after log rotation).
#[utoipa::path(post, path = "/api/v1/server/flush-logs", tag = "server",
    responses((status = 200, body = FlushResult), (status = 401), (status = 403), (status = 502)))]
#[post("/server/flush-logs")]
pub async fn flush_logs(
    Admin(caller): Admin,
    state: web::Data<AppState>,
) -> Result<web::Json<FlushResult>, ApiError> {
    let result = state.fail2ban.flush_logs().await.map_err(ApiError::from);
    super::audit_result(&state, &caller, "server.flush_logs", "fail2ban", &result).await;
    Ok(web::Json(FlushResult { result: result? }))
}
