//! `/api/v1/jails`: running jails with counters, one jail's settings, start/stop/idle/reload,
//! the ignore list and ignoreself, and the jail's banned IPs (paged, searchable by prefix).

use actix_web::{delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::Page;
use crate::error::ApiError;
use crate::services::bans::JailBans;
use crate::services::jails::{JailDetail, JailSummary};
use crate::state::AppState;

use super::guard::{Caller, Operator, Viewer};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(reload_all)
        .service(detail)
        .service(start)
        .service(stop)
        .service(reload)
        .service(idle)
        .service(ignore_list)
        .service(add_ignore)
        .service(remove_ignore)
        .service(ignoreself)
        .service(unban_all)
        .service(banned);
}

#[derive(Serialize, ToSchema)]
pub struct JailList {
    pub items: Vec<JailSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct JailAction {
    pub jail: String,
    pub action: String,
    pub ok: bool,
    /// Always `true`: the change lives in the running fail2ban only and is lost when fail2ban
    /// restarts or reloads; persisted settings go through `PUT /config/jails/{name}`.
    pub runtime_only: bool,
}

#[derive(Serialize, ToSchema)]
pub struct JailUnbanAll {
    pub jail: String,
    /// How many bans were lifted.
    pub count: u64,
}

#[derive(Deserialize, ToSchema)]
pub struct IdleRequest {
    pub on: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct IgnoreRequest {
    /// An IP address or a CIDR network.
    #[schema(schema_with = crate::routes::openapi::rules::ignore_target)]
    pub ip: String,
}

#[derive(Serialize, ToSchema)]
pub struct IgnoreList {
    pub items: Vec<String>,
    /// Always `true`: entries added here live in the running fail2ban only; to keep one across
    /// restarts, persist `ignoreip` with `PUT /config/jails/{name}`.
    pub runtime_only: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct IgnoreSelfRequest {
    pub enabled: bool,
}

/// The jail named in the path (for the document; handlers take `web::Path<String>`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only its parameter schema is used
pub struct JailPath {
    /// The jail's name.
    #[param(schema_with = crate::routes::openapi::rules::jail_name)]
    name: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct BannedQuery {
    /// 1-based page (default 1); 400 when out of range.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page (default 100, 1 to 500); 400 when out of range.
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
    /// Only IPs whose text starts with this.
    pub search: Option<String>,
}

/// Runs a jail action with its audit record written first.
async fn audited_action(
    state: &AppState,
    caller: &Caller,
    action: &str,
    name: &str,
    run: impl std::future::Future<Output = Result<(), ApiError>>,
) -> Result<web::Json<JailAction>, ApiError> {
    super::audited(state, caller, &format!("jail.{action}"), name, None, run).await?;
    Ok(web::Json(JailAction {
        jail: name.to_string(),
        action: action.to_string(),
        ok: true,
        runtime_only: true,
    }))
}

/// Running jails with their counters.
#[utoipa::path(tag = "jails", responses((status = 200, body = JailList), (status = 401), (status = 502)))]
#[get("/jails")]
pub async fn list(_: Viewer, state: web::Data<AppState>) -> Result<web::Json<JailList>, ApiError> {
    Ok(web::Json(JailList {
        items: state.jails.list().await?,
    }))
}

/// One jail's counters and settings, read from the socket.
#[utoipa::path(tag = "jails", params(JailPath),
    responses((status = 200, body = JailDetail), (status = 401), (status = 404), (status = 502)))]
#[get("/jails/{name}")]
pub async fn detail(
    _: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<JailDetail>, ApiError> {
    Ok(web::Json(state.jails.detail(&name).await?))
}

/// Starts a configured jail (through fail2ban-client, which reads the configuration).
#[utoipa::path(tag = "jails", params(JailPath),
    responses((status = 200, body = JailAction), (status = 400), (status = 401), (status = 403), (status = 409), (status = 502)))]
#[post("/jails/{name}/start")]
pub async fn start(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<JailAction>, ApiError> {
    audited_action(&state, &caller, "start", &name, async {
        Ok(state.jails.start(&name).await?)
    })
    .await
}

/// Stops a running jail (its bans are lifted).
#[utoipa::path(tag = "jails", params(JailPath),
    responses((status = 200, body = JailAction), (status = 401), (status = 403), (status = 404), (status = 502)))]
#[post("/jails/{name}/stop")]
pub async fn stop(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<JailAction>, ApiError> {
    audited_action(&state, &caller, "stop", &name, async {
        Ok(state.jails.stop(&name).await?)
    })
    .await
}

/// Reloads one jail's configuration.
#[utoipa::path(tag = "jails", params(JailPath),
    responses((status = 200, body = JailAction), (status = 401), (status = 403), (status = 404), (status = 409), (status = 502)))]
#[post("/jails/{name}/reload")]
pub async fn reload(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<JailAction>, ApiError> {
    audited_action(&state, &caller, "reload", &name, async {
        Ok(state.jails.reload(Some(&name)).await?)
    })
    .await
}

/// Reloads fail2ban's whole configuration.
#[utoipa::path(tag = "jails",
    responses((status = 200, body = JailAction), (status = 401), (status = 403), (status = 409), (status = 502)))]
#[post("/jails/reload-all")]
pub async fn reload_all(
    Operator(caller): Operator,
    state: web::Data<AppState>,
) -> Result<web::Json<JailAction>, ApiError> {
    audited_action(&state, &caller, "reload_all", "*", async {
        Ok(state.jails.reload(None).await?)
    })
    .await
}

/// Puts a jail into idle (no new bans) or back.
#[utoipa::path(tag = "jails", params(JailPath), request_body = IdleRequest,
    responses((status = 200, body = JailAction), (status = 401), (status = 403), (status = 404), (status = 502)))]
#[post("/jails/{name}/idle")]
pub async fn idle(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<IdleRequest>>,
) -> Result<web::Json<JailAction>, ApiError> {
    let action = if body.on { "idle_on" } else { "idle_off" };
    audited_action(&state, &caller, action, &name, async {
        Ok(state.jails.set_idle(&name, body.on).await?)
    })
    .await
}

/// The jail's ignore list.
#[utoipa::path(tag = "jails", params(JailPath),
    responses((status = 200, body = IgnoreList), (status = 401), (status = 404), (status = 502)))]
#[get("/jails/{name}/ignoreip")]
pub async fn ignore_list(
    _: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<IgnoreList>, ApiError> {
    Ok(web::Json(IgnoreList {
        items: state.jails.ignore_list(&name).await?,
        runtime_only: true,
    }))
}

async fn change_ignore(
    state: &AppState,
    caller: &Caller,
    name: &str,
    text: &str,
    add: bool,
) -> Result<web::Json<IgnoreList>, ApiError> {
    let action = if add {
        "ignoreip.add"
    } else {
        "ignoreip.remove"
    };
    let target = format!("{} in {name}", text.trim());
    let items = super::audited(state, caller, action, &target, None, async {
        Ok(if add {
            state.jails.add_ignore(name, text).await?
        } else {
            state.jails.remove_ignore(name, text).await?
        })
    })
    .await?;
    Ok(web::Json(IgnoreList {
        items,
        runtime_only: true,
    }))
}

/// Adds an IP or network to the ignore list.
#[utoipa::path(tag = "jails", params(JailPath), request_body = IgnoreRequest,
    responses((status = 200, body = IgnoreList), (status = 400), (status = 401), (status = 403), (status = 404), (status = 502)))]
#[post("/jails/{name}/ignoreip")]
pub async fn add_ignore(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<IgnoreRequest>>,
) -> Result<web::Json<IgnoreList>, ApiError> {
    change_ignore(&state, &caller, &name, &body.ip, true).await
}

/// Removes an entry from the ignore list, written as the list shows it; 404 when absent.
#[utoipa::path(tag = "jails", params(JailPath), request_body = IgnoreRequest,
    responses((status = 200, body = IgnoreList), (status = 400), (status = 401), (status = 403), (status = 404), (status = 502)))]
#[delete("/jails/{name}/ignoreip")]
pub async fn remove_ignore(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<IgnoreRequest>>,
) -> Result<web::Json<IgnoreList>, ApiError> {
    change_ignore(&state, &caller, &name, &body.ip, false).await
}

/// Whether the jail ignores the host's own addresses.
#[utoipa::path(tag = "jails", params(JailPath), request_body = IgnoreSelfRequest,
    responses((status = 200, body = JailAction), (status = 401), (status = 403), (status = 404), (status = 502)))]
#[post("/jails/{name}/ignoreself")]
pub async fn ignoreself(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<IgnoreSelfRequest>>,
) -> Result<web::Json<JailAction>, ApiError> {
    let action = if body.enabled {
        "ignoreself_on"
    } else {
        "ignoreself_off"
    };
    audited_action(&state, &caller, action, &name, async {
        Ok(state.jails.set_ignoreself(&name, body.enabled).await?)
    })
    .await
}

/// The jail's banned IPs, newest first, paged and searchable by prefix.
#[utoipa::path(tag = "jails", params(JailPath, BannedQuery),
    responses((status = 200, body = JailBans), (status = 400), (status = 401), (status = 404), (status = 502)))]
#[get("/jails/{name}/banned")]
pub async fn banned(
    _: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
    q: web::Query<BannedQuery>,
) -> Result<web::Json<JailBans>, ApiError> {
    let jail = state.jails.running(&name).await?;
    let page = Page::new(q.page, q.page_size)?;
    Ok(web::Json(
        state.bans.of_jail(&jail, q.search.as_deref(), page).await?,
    ))
}

/// Lifts every ban of one running jail (runtime only: fail2ban's configuration is unchanged).
#[utoipa::path(tag = "jails", params(JailPath),
    responses((status = 200, body = JailUnbanAll), (status = 400), (status = 401), (status = 403), (status = 404), (status = 502), (status = 503)))]
#[post("/jails/{name}/unban-all")]
pub async fn unban_all(
    Operator(caller): Operator,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<JailUnbanAll>, ApiError> {
    let count = super::audited(&state, &caller, "jail.unban_all", &name, None, async {
        Ok(state.jails.unban_all(&name).await?)
    })
    .await?;
    state
        .history_lifts
        .record_unban(
            None,
            std::slice::from_ref(&name.to_string()),
            &caller.identity.username,
        )
        .await;
    Ok(web::Json(JailUnbanAll {
        jail: name.to_string(),
        count,
    }))
}
