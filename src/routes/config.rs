//! `/api/v1/config/…`: jail configuration from the browser. Viewers read every jail of the
//! configuration (running, stopped, inactive) with each setting's effective value and source,
//! and the pending recoveries; admins preview, persist, activate and deactivate (each change
//! audited with the before/after diff of BanGUI's file) and dismiss recoveries.

use actix_web::{delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::jail_config::JailEdit;
use crate::error::ApiError;
use crate::services::jail_config::{
    ApplyReport, EditPreview, JailConfigList, JailConfigView, PendingRecovery,
};
use crate::state::AppState;

use super::guard::{Admin, Caller, Viewer};
use super::jails::JailPath;
use crate::domain::event::EventKind;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(pending)
        .service(dismiss)
        .service(detail)
        .service(update)
        .service(preview)
        .service(activate)
        .service(deactivate);
}

/// Settings to persist for one jail.
#[derive(Deserialize, ToSchema)]
pub struct JailConfigUpdate {
    /// `{key: value}` with keys among enabled, bantime, findtime, maxretry, bantime.increment,
    /// bantime.factor, bantime.multipliers, bantime.maxtime, bantime.rndtime,
    /// bantime.overalljails, ignoreip, ignoreself, logpath, filter, action, banaction, backend,
    /// usedns; `null` drops BanGUI's override of a key.
    #[schema(value_type = Object)]
    pub settings: Map<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub struct PendingRecoveries {
    pub items: Vec<PendingRecovery>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only its parameter schema is used
pub struct RecoveryPath {
    /// The recovery's id.
    #[param(minimum = 1)]
    id: i64,
}

/// Every jail of fail2ban's configuration with its state and settings.
#[utoipa::path(tag = "config",
    responses((status = 200, body = JailConfigList), (status = 401), (status = 409), (status = 504)))]
#[get("/config/jails")]
pub async fn list(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<JailConfigList>, ApiError> {
    Ok(web::Json(state.jail_config.list().await?))
}

/// One jail of the configuration: state, effective values and where each comes from.
#[utoipa::path(tag = "config", params(JailPath),
    responses((status = 200, body = JailConfigView), (status = 400), (status = 401), (status = 404), (status = 409), (status = 504)))]
#[get("/config/jails/{name}")]
pub async fn detail(
    _: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<JailConfigView>, ApiError> {
    Ok(web::Json(state.jail_config.get(&name).await?))
}

/// The diff an update would write and fail2ban's configuration test of it; nothing changes.
#[utoipa::path(tag = "config", params(JailPath), request_body = JailConfigUpdate,
    responses((status = 200, body = EditPreview), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
#[post("/config/jails/{name}/preview")]
pub async fn preview(
    _: Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<JailConfigUpdate>>,
) -> Result<web::Json<EditPreview>, ApiError> {
    let edit = JailEdit::parse(&body.settings)?;
    Ok(web::Json(state.jail_config.preview(&name, &edit).await?))
}

/// Persists settings in BanGUI's `jail.d/<jail>.local` after fail2ban's configuration test,
/// applies them and rolls back automatically when the jail does not come up as wanted
/// (`recovered: true`). A refused change is 400 `config_rejected` with fail2ban's message and
/// leaves the files as they were.
#[utoipa::path(tag = "config", params(JailPath), request_body = JailConfigUpdate,
    responses((status = 200, body = ApplyReport), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
#[put("/config/jails/{name}")]
pub async fn update(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<super::body::JsonObject<JailConfigUpdate>>,
) -> Result<web::Json<ApplyReport>, ApiError> {
    let edit = match JailEdit::parse(&body.settings) {
        Ok(edit) => edit,
        Err(e) => {
            let err = ApiError::from(e);
            super::audit_result::<()>(&state, &caller, "config.jail", &name, &Err(err.clone()))
                .await;
            return Err(err);
        }
    };
    let requested = Value::Object(body.into_inner().0.settings);
    apply(&state, &caller, "config.jail", &name, &edit, requested).await
}

/// Enables a jail in BanGUI's file and starts it (same test, apply and rollback as an update).
#[utoipa::path(tag = "config", params(JailPath),
    responses((status = 200, body = ApplyReport), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
#[post("/config/jails/{name}/activate")]
pub async fn activate(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<ApplyReport>, ApiError> {
    toggle(&state, &caller, &name, true).await
}

/// Disables a jail in BanGUI's file and stops it.
#[utoipa::path(tag = "config", params(JailPath),
    responses((status = 200, body = ApplyReport), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
#[post("/config/jails/{name}/deactivate")]
pub async fn deactivate(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<web::Json<ApplyReport>, ApiError> {
    toggle(&state, &caller, &name, false).await
}

async fn toggle(
    state: &AppState,
    caller: &Caller,
    name: &str,
    on: bool,
) -> Result<web::Json<ApplyReport>, ApiError> {
    let mut settings = Map::new();
    settings.insert("enabled".into(), Value::Bool(on));
    let edit = JailEdit::parse(&settings)?;
    let action = if on {
        "config.jail.activate"
    } else {
        "config.jail.deactivate"
    };
    apply(state, caller, action, name, &edit, Value::Object(settings)).await
}

/// Writes the audit record first (the requested settings), then replaces its details with the
/// diff and the outcome.
async fn apply(
    state: &AppState,
    caller: &Caller,
    action: &str,
    name: &str,
    edit: &JailEdit,
    requested: Value,
) -> Result<web::Json<ApplyReport>, ApiError> {
    let intent = state
        .audit
        .begin(
            &caller.actor(),
            action,
            Some(name),
            Some(&json!({"requested": requested})),
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, action, "audit record not written; change refused");
            ApiError::unavailable(
                "audit_unavailable",
                "the audit log could not be written, so nothing was changed; see the server log",
            )
        })?;
    let result = state.jail_config.apply(name, edit).await;
    match result {
        Ok(report) => {
            let code = if report.recovered {
                "rolled_back"
            } else {
                "ok"
            };
            let details = json!({
                "requested": requested,
                "file": report.file,
                "diff": report.diff,
                "changed": report.changed,
                "recovered": report.recovered,
                "message": report.message,
            });
            state
                .audit
                .finish_with_details(intent, code, &details)
                .await;
            let change = format!("{action} {name}");
            let actor = caller.actor().name;
            if report.recovered {
                state.events.publish(EventKind::ConfigRolledBack {
                    change,
                    actor,
                    reason: report.message.clone(),
                });
            } else if report.changed {
                state
                    .events
                    .publish(EventKind::ConfigApplied { change, actor });
            }
            Ok(web::Json(report))
        }
        Err(e) => {
            let err = ApiError::from(e);
            state.audit.finish(intent, err.code).await;
            Err(err)
        }
    }
}

/// Automatic rollbacks not dismissed yet, newest first.
#[utoipa::path(tag = "config",
    responses((status = 200, body = PendingRecoveries), (status = 401)))]
#[get("/config/pending-recovery")]
pub async fn pending(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<PendingRecoveries>, ApiError> {
    Ok(web::Json(PendingRecoveries {
        items: state.jail_config.pending().await?,
    }))
}

/// Dismisses one pending recovery.
#[utoipa::path(tag = "config", params(RecoveryPath),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
#[delete("/config/pending-recovery/{id}")]
pub async fn dismiss(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let id = id.into_inner();
    super::audited(
        &state,
        &caller,
        "config.recovery.dismiss",
        &id.to_string(),
        None,
        async {
            Ok(state
                .jail_config
                .dismiss(id, &caller.identity.username)
                .await?)
        },
    )
    .await?;
    Ok(actix_web::HttpResponse::NoContent().finish())
}
