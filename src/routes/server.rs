//! `/api/v1/server/…` (admins): fail2ban's server settings (log level and target, database
//! purge age and max matches) and flushing its logs.

use actix_web::{get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::services::server_settings::{ServerSettings, ServerSettingsChange};
use crate::state::AppState;

use super::guard::Admin;

pub fn configure(cfg: &mut ServiceConfig) {
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
#[utoipa::path(tag = "server",
    responses((status = 200, body = ServerSettings), (status = 401), (status = 403), (status = 502)))]
#[get("/server/settings")]
pub async fn get_settings(
    _: Admin,
    state: web::Data<AppState>,
) -> Result<web::Json<ServerSettings>, ApiError> {
    Ok(web::Json(state.server.current().await?))
}

/// Changes the given server settings; answers with all settings afterwards. A log target is
/// STDOUT, STDERR, SYSLOG, SYSTEMD-JOURNAL or a file directly in fail2ban's current log
/// directory. The audit record (written first) holds the old and new value of each setting.
#[utoipa::path(tag = "server", request_body = ServerSettingsUpdate,
    responses((status = 200, body = ServerSettings), (status = 400), (status = 401), (status = 403), (status = 502), (status = 503)))]
#[put("/server/settings")]
pub async fn put_settings(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<ServerSettingsUpdate>,
) -> Result<web::Json<ServerSettings>, ApiError> {
    let body = body.into_inner();
    let change = ServerSettingsChange {
        loglevel: body.loglevel,
        logtarget: body.logtarget,
        dbpurgeage: body.dbpurgeage,
        dbmaxmatches: body.dbmaxmatches,
    };
    let (updates, details) = match state.server.plan(&change).await {
        Ok(plan) => plan,
        Err(e) => {
            let err = ApiError::from(e);
            super::audit_result::<()>(
                &state,
                &caller,
                "server.settings",
                "fail2ban",
                &Err(err.clone()),
            )
            .await;
            return Err(err);
        }
    };
    let settings = super::audited(
        &state,
        &caller,
        "server.settings",
        "fail2ban",
        Some(details),
        async { Ok(state.server.apply(updates).await?) },
    )
    .await?;
    Ok(web::Json(settings))
}

/// Reopens fail2ban's log file (after log rotation).
#[utoipa::path(tag = "server",
    responses((status = 200, body = FlushResult), (status = 401), (status = 403), (status = 502), (status = 503)))]
#[post("/server/flush-logs")]
pub async fn flush_logs(
    Admin(caller): Admin,
    state: web::Data<AppState>,
) -> Result<web::Json<FlushResult>, ApiError> {
    let result = super::audited(
        &state,
        &caller,
        "server.flush_logs",
        "fail2ban",
        None,
        async { Ok(state.server.flush_logs().await?) },
    )
    .await?;
    Ok(web::Json(FlushResult { result }))
}
