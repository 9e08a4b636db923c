//! First-run setup (public): `GET /setup` tells whether it is done, `POST /setup` creates the
//! first admin once. Afterwards it answers 409 a couple of times per address and then 429 with
//! `Retry-After`. Those refusals are not audited: they change nothing, and auditing each would
//! let any anonymous caller write rows into the audit log. Setup itself, and a refused attempt
//! before setup is done (weak password, bad name), are audited.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::services::audit::Actor;
use crate::services::auth::{AuthError, UserView};
use crate::state::AppState;

use super::guard::client_ip;

#[derive(Serialize, ToSchema)]
pub struct SetupStatus {
    pub completed: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct SetupRequest {
    #[schema(pattern = r"^\s*[A-Za-z0-9._@-]{3,64}\s*$")]
    pub username: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

/// Whether the first admin exists.
#[utoipa::path(tag = "setup", security(()),
    responses((status = 200, body = SetupStatus)))]
#[get("/setup")]
pub async fn setup_status(state: web::Data<AppState>) -> Result<web::Json<SetupStatus>, ApiError> {
    Ok(web::Json(SetupStatus {
        completed: state.auth.setup.is_done().await?,
    }))
}

/// Creates the first admin; only once.
#[utoipa::path(tag = "setup", security(()), request_body = SetupRequest,
    responses((status = 201, body = UserView), (status = 400, description = "weak password or bad user name"),
        (status = 409, description = "setup already done"), (status = 422, description = "malformed body"),
        (status = 429, description = "setup already done and asked too often from this address; see Retry-After")))]
#[post("/setup")]
pub async fn run_setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SetupRequest>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req, &state.settings.security.trusted_proxies);
    let result = state
        .auth
        .setup
        .run(&body.username, &body.password, ip)
        .await;
    let after_setup = matches!(
        result,
        Err(AuthError::AlreadySetUp | AuthError::SetupRateLimited(_))
    );
    let result = result.map_err(ApiError::from);
    if !after_setup {
        let actor = Actor {
            name: body.username.trim().chars().take(64).collect(),
            auth: None,
            client_ip: Some(ip.to_string()),
        };
        let code = result.as_ref().map_or_else(|e| e.code, |_| "ok");
        state
            .audit
            .record(&actor, "setup", Some(&actor.name), code, None)
            .await;
    }
    Ok(HttpResponse::Created().json(result?))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(setup_status).service(run_setup);
}
