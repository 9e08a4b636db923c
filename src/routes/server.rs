//! `/api/v1/server/…` (admins): fail2ban's server settings (log level and target, database
//! purge age and max matches) and flushing its logs.

use actix_web::{get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::services::fail2ban_log::{LogPage, LogQuery};
use crate::services::server_settings::{ServerSettings, ServerSettingsChange};
use crate::state::AppState;

use super::guard::Admin;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_settings)
        .service(put_settings)
        .service(flush_logs)
        .service(log);
}

#[derive(Deserialize, ToSchema)]
pub struct ServerSettingsUpdate {
    /// One of fail2ban's log levels (any case).
    #[schema(
        pattern = r"^[ \t\r\n]*([Cc][Rr][Ii][Tt][Ii][Cc][Aa][Ll]|[Ee][Rr][Rr][Oo][Rr]|[Ww][Aa][Rr][Nn][Ii][Nn][Gg]|[Nn][Oo][Tt][Ii][Cc][Ee]|[Ii][Nn][Ff][Oo]|[Dd][Ee][Bb][Uu][Gg]|[Tt][Rr][Aa][Cc][Ee][Dd][Ee][Bb][Uu][Gg]|[Hh][Ee][Aa][Vv][Yy][Dd][Ee][Bb][Uu][Gg])[ \t\r\n]*$"
    )]
    pub loglevel: Option<String>,
    /// STDOUT, STDERR, SYSLOG or SYSTEMD-JOURNAL (any case), or the absolute path of a file
    /// directly in fail2ban's current log directory. The pattern covers the four names only: the
    /// log directory is known at run time, not in this document.
    #[schema(
        pattern = r"^[ \t\r\n]*([Ss][Tt][Dd][Oo][Uu][Tt]|[Ss][Tt][Dd][Ee][Rr][Rr]|[Ss][Yy][Ss][Ll][Oo][Gg]|[Ss][Yy][Ss][Tt][Ee][Mm][Dd]-[Jj][Oo][Uu][Rr][Nn][Aa][Ll])[ \t\r\n]*$"
    )]
    pub logtarget: Option<String>,
    /// Seconds; fail2ban purges its ban history older than this.
    #[schema(minimum = 0)]
    pub dbpurgeage: Option<i64>,
    #[schema(minimum = 0)]
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
    body: web::Json<super::body::JsonObject<ServerSettingsUpdate>>,
) -> Result<web::Json<ServerSettings>, ApiError> {
    let body = body.into_inner().0;
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

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LogParams {
    /// Lines to return, newest last (default 200, at most 2000).
    #[param(minimum = 1, maximum = 2000)]
    pub lines: Option<usize>,
    /// Minimum level: TRACEDEBUG, DEBUG, INFO, NOTICE, WARNING, ERROR or CRITICAL.
    #[param(
        pattern = r"^([Tt][Rr][Aa][Cc][Ee])?[Dd][Ee][Bb][Uu][Gg]$|^[Ii][Nn][Ff][Oo]$|^[Nn][Oo][Tt][Ii][Cc][Ee]$|^[Ww][Aa][Rr][Nn][Ii][Nn][Gg]$|^[Ee][Rr][Rr][Oo][Rr]$|^[Cc][Rr][Ii][Tt][Ii][Cc][Aa][Ll]$"
    )]
    pub level: Option<String>,
    /// Only lines of this jail.
    pub jail: Option<String>,
    /// Only lines containing this text (any case).
    pub q: Option<String>,
    /// Read what was appended after this byte offset (the `end` of an earlier answer).
    #[param(minimum = 0)]
    pub since: Option<u64>,
}

/// The tail of fail2ban's own log file (at most 1 MiB is read), filtered by level, jail and
/// text; `since` follows it. 409 when fail2ban does not log to a file or the file lies outside
/// the allowed log directories; 400 for a bad parameter.
#[utoipa::path(tag = "server", params(LogParams),
    responses((status = 200, body = LogPage), (status = 400), (status = 401), (status = 403), (status = 409), (status = 502)))]
#[get("/server/log")]
pub async fn log(
    _: Admin,
    state: web::Data<AppState>,
    q: web::Query<LogParams>,
) -> Result<web::Json<LogPage>, ApiError> {
    let q = q.into_inner();
    let lines = q.lines.unwrap_or(200);
    if !(1..=2000).contains(&lines) {
        return Err(crate::domain::DomainError::new(
            "lines",
            &lines.to_string(),
            "expected 1 to 2000",
        )
        .into());
    }
    Ok(web::Json(
        state
            .fail2ban_log
            .read(LogQuery {
                lines,
                level: q.level.filter(|l| !l.is_empty()),
                jail: q.jail.filter(|j| !j.is_empty()),
                text: q.q.filter(|t| !t.is_empty()),
                since: q.since,
            })
            .await?,
    ))
}
