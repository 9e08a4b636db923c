//! `/api/v1/filters/…` and `/api/v1/actions/…`: fail2ban's filters and actions. Viewers list
//! them (with the jails using each) and read one parsed and raw; admins create (from scratch or
//! as a copy), edit (BanGUI's `NAME.local`: an override or its own file) and delete BanGUI's
//! files. Each write is tested by fail2ban first, applied to the running jails that use it,
//! rolled back if one does not come back, and audited with the file's diff. Bodies may carry a
//! whole file (512 KiB), so these scopes accept JSON bodies up to 640 KiB.

use actix_web::{delete, get, post, put, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, extractors};
use crate::services::filters_actions::{
    ConfigFileDetail, ConfigFileList, ConfigKind, ConfigWriteReport, FilterActionError,
};
use crate::state::AppState;

use super::guard::{Admin, Caller, Viewer};

const BODY_LIMIT: usize = 640 * 1024;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/filters")
            .app_data(extractors::json_config().limit(BODY_LIMIT))
            .default_service(web::to(super::api_not_found))
            .service(list_filters)
            .service(create_filter)
            .service(get_filter)
            .service(update_filter)
            .service(delete_filter),
    )
    .service(
        scope("/actions")
            .app_data(extractors::json_config().limit(BODY_LIMIT))
            .default_service(web::to(super::api_not_found))
            .service(list_actions)
            .service(create_action)
            .service(get_action)
            .service(update_action)
            .service(delete_action),
    );
}

/// A new filter or action.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The new name (file `NAME.local`).
    #[schema(pattern = r"^[A-Za-z0-9_-](\.?[A-Za-z0-9_-])*\.?$", max_length = 64)]
    pub name: String,
    /// The file's text (INI: `[Definition]` …); BanGUI's marker line is added on top.
    #[schema(max_length = 524288)]
    pub content: Option<String>,
    /// Copy this existing filter or action instead (its `.conf`, else its `.local`); wins over
    /// `content` when both are given.
    #[schema(pattern = r"^[A-Za-z0-9_-](\.?[A-Za-z0-9_-])*\.?$", max_length = 64)]
    pub copy_from: Option<String>,
}

/// The new text of BanGUI's `NAME.local`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[schema(max_length = 524288)]
    pub content: String,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only its parameter schema is used
pub struct NamePath {
    /// The filter's or action's name (the file stem).
    #[param(pattern = r"^[A-Za-z0-9_-](\.?[A-Za-z0-9_-])*\.?$", max_length = 64)]
    name: String,
}

/// Every filter of `filter.d` with the jails using it and whether a `.local` exists.
#[utoipa::path(tag = "filters", responses((status = 200, body = ConfigFileList), (status = 401)))]
#[get("")]
pub async fn list_filters(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<ConfigFileList>, ApiError> {
    Ok(web::Json(
        state.filters_actions.list(ConfigKind::Filter).await?,
    ))
}

/// One filter: `[INCLUDES]`, `[Definition]` (failregex, ignoreregex, prefregex, datepattern, …),
/// `[Init]`, the jails using it, and the raw `.conf` and `.local` texts.
#[utoipa::path(tag = "filters", params(NamePath),
    responses((status = 200, body = ConfigFileDetail), (status = 400), (status = 401), (status = 404)))]
#[get("/{name}")]
pub async fn get_filter(
    _: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<ConfigFileDetail>, ApiError> {
    Ok(web::Json(
        state.filters_actions.get(ConfigKind::Filter, &name).await?,
    ))
}

/// Creates `filter.d/NAME.local` from text or as a copy; tested by fail2ban first.
#[utoipa::path(tag = "filters", request_body = CreateBody,
    responses((status = 200, body = ConfigWriteReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409), (status = 413), (status = 503)))]
#[post("")]
pub async fn create_filter(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<CreateBody>>,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    create(&state, &caller, ConfigKind::Filter, body.into_inner().0).await
}

/// Replaces `filter.d/NAME.local` (an override of a packaged filter, or BanGUI's own filter).
/// Running jails using the filter are reloaded; if one does not come back the previous file is
/// restored (`recovered: true`).
#[utoipa::path(tag = "filters", params(NamePath), request_body = UpdateBody,
    responses((status = 200, body = ConfigWriteReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409), (status = 413), (status = 503)))]
#[put("/{name}")]
pub async fn update_filter(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<UpdateBody>>,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    let content = body.into_inner().0.content;
    write(
        &state,
        &caller,
        ConfigKind::Filter,
        "update",
        &name,
        async {
            state
                .filters_actions
                .update(ConfigKind::Filter, &name, &content)
                .await
        },
    )
    .await
}

/// Deletes BanGUI's `filter.d/NAME.local` (never a file BanGUI did not create).
#[utoipa::path(tag = "filters", params(NamePath),
    responses((status = 200, body = ConfigWriteReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409), (status = 503)))]
#[delete("/{name}")]
pub async fn delete_filter(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    write(
        &state,
        &caller,
        ConfigKind::Filter,
        "delete",
        &name,
        async {
            state
                .filters_actions
                .delete(ConfigKind::Filter, &name)
                .await
        },
    )
    .await
}

/// Every action of `action.d` with the running jails using it and whether a `.local` exists.
#[utoipa::path(tag = "actions", responses((status = 200, body = ConfigFileList), (status = 401)))]
#[get("")]
pub async fn list_actions(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<ConfigFileList>, ApiError> {
    Ok(web::Json(
        state.filters_actions.list(ConfigKind::Action).await?,
    ))
}

/// One action: `[INCLUDES]`, `[Definition]` (actionstart, actionban, actionunban, …), `[Init]`,
/// the jails using it, and the raw `.conf` and `.local` texts.
#[utoipa::path(tag = "actions", params(NamePath),
    responses((status = 200, body = ConfigFileDetail), (status = 400), (status = 401), (status = 404)))]
#[get("/{name}")]
pub async fn get_action(
    _: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<ConfigFileDetail>, ApiError> {
    Ok(web::Json(
        state.filters_actions.get(ConfigKind::Action, &name).await?,
    ))
}

/// Creates `action.d/NAME.local` from text or as a copy; tested by fail2ban first.
#[utoipa::path(tag = "actions", request_body = CreateBody,
    responses((status = 200, body = ConfigWriteReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409), (status = 413), (status = 503)))]
#[post("")]
pub async fn create_action(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<CreateBody>>,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    create(&state, &caller, ConfigKind::Action, body.into_inner().0).await
}

/// Replaces `action.d/NAME.local`; running jails using it are reloaded, with rollback.
#[utoipa::path(tag = "actions", params(NamePath), request_body = UpdateBody,
    responses((status = 200, body = ConfigWriteReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409), (status = 413), (status = 503)))]
#[put("/{name}")]
pub async fn update_action(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<UpdateBody>>,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    let content = body.into_inner().0.content;
    write(
        &state,
        &caller,
        ConfigKind::Action,
        "update",
        &name,
        async {
            state
                .filters_actions
                .update(ConfigKind::Action, &name, &content)
                .await
        },
    )
    .await
}

/// Deletes BanGUI's `action.d/NAME.local`.
#[utoipa::path(tag = "actions", params(NamePath),
    responses((status = 200, body = ConfigWriteReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409), (status = 503)))]
#[delete("/{name}")]
pub async fn delete_action(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    write(
        &state,
        &caller,
        ConfigKind::Action,
        "delete",
        &name,
        async {
            state
                .filters_actions
                .delete(ConfigKind::Action, &name)
                .await
        },
    )
    .await
}

async fn create(
    state: &AppState,
    caller: &Caller,
    kind: ConfigKind,
    body: CreateBody,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    let name = body.name.clone();
    write(state, caller, kind, "create", &name, async {
        state
            .filters_actions
            .create(
                kind,
                &body.name,
                body.content.as_deref(),
                body.copy_from.as_deref(),
            )
            .await
    })
    .await
}

/// Writes the audit record first, then its outcome with the file's diff.
async fn write(
    state: &AppState,
    caller: &Caller,
    kind: ConfigKind,
    verb: &str,
    name: &str,
    run: impl std::future::Future<Output = Result<ConfigWriteReport, FilterActionError>>,
) -> Result<web::Json<ConfigWriteReport>, ApiError> {
    let action = match kind {
        ConfigKind::Filter => format!("config.filter.{verb}"),
        ConfigKind::Action => format!("config.action.{verb}"),
    };
    let intent = state
        .audit
        .begin(&caller.actor(), &action, Some(name), None)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, action, "audit record not written; change refused");
            ApiError::unavailable(
                "audit_unavailable",
                "the audit log could not be written, so nothing was changed; see the server log",
            )
        })?;
    match run.await {
        Ok(report) => {
            let code = if report.recovered {
                "rolled_back"
            } else {
                "ok"
            };
            let details = json!({
                "file": report.file,
                "diff": report.diff,
                "changed": report.changed,
                "reloaded_jails": report.reloaded_jails,
                "recovered": report.recovered,
                "message": report.message,
            });
            state
                .audit
                .finish_with_details(intent, code, &details)
                .await;
            Ok(web::Json(report))
        }
        Err(e) => {
            let err = ApiError::from(e);
            state.audit.finish(intent, err.code).await;
            Err(err)
        }
    }
}
