//! First-run setup (public): `GET /setup` tells whether it is done, `POST /setup` creates the
//! first admin once and answers 409 afterwards.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::services::audit::Actor;
use crate::services::auth::UserView;
use crate::state::AppState;

use super::guard::client_ip;

#[derive(Serialize, ToSchema)]
pub struct SetupStatus {
    pub completed: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct SetupRequest {
    pub username: String,
    pub password: String,
}

/// Whether the first admin exists.
#[utoipa::path(get, path = "/api/v1/setup", tag = "setup", security(()),
    responses((status = 200, body = SetupStatus)))]
#[get("/setup")]
pub async fn setup_status(state: web::Data<AppState>) -> Result<web::Json<SetupStatus>, ApiError> {
    Ok(web::Json(SetupStatus {
        completed: state.auth.is_setup_done().await?,
    }))
}

/// Creates the first admin; only once.
#[utoipa::path(post, path = "/api/v1/setup", tag = "setup", security(()), request_body = SetupRequest,
    responses((status = 201, body = UserView), (status = 400, description = "weak password or bad user name"),
        (status = 409, description = "setup already done"), (status = 422, description = "malformed body")))]
#[post("/setup")]
pub async fn run_setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SetupRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .auth
        .setup(&body.username, &body.password)
        .await
        .map_err(ApiError::from);
    let actor = Actor {
        name: body.username.trim().chars().take(64).collect(),
        auth: None,
        client_ip: Some(client_ip(&req, &state.settings.security.trusted_proxies).to_string()),
    };
    let code = result.as_ref().map_or_else(|e| e.code, |_| "ok");
    state
        .audit
        .record(&actor, "setup", Some(&actor.name), code, None)
        .await;
    Ok(HttpResponse::Created().json(result?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(setup_status).service(run_setup);
}
