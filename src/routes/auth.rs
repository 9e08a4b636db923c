//! Login, logout and the current session. Login is public and throttled per client address;
//! it sets the `bangui_session` cookie (HttpOnly, SameSite=Lax, Secure as configured).

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::auth::Role;
use crate::error::ApiError;
use crate::services::audit::Actor;
use crate::services::auth::AuthKind;
use crate::state::AppState;

use super::guard::{Caller, SESSION_COOKIE, client_ip, session_token};
use crate::domain::time::rfc3339;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    pub username: String,
    pub role: Role,
    /// RFC 3339; null for a token without expiry.
    pub expires_at: Option<String>,
    pub auth: AuthKind,
}

fn session_cookie(state: &AppState, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.session.cookie_secure)
        .max_age(time::Duration::seconds(max_age_secs))
        .finish()
}

/// Logs in and sets the session cookie.
#[utoipa::path(tag = "auth", security(()), request_body = LoginRequest,
    responses((status = 200, body = SessionInfo), (status = 401, description = "wrong user name or password"),
        (status = 429, description = "too many failures from this address; see Retry-After"),
        (status = 503, description = "setup required")))]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req, &state.settings.security.trusted_proxies);
    let ua = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok());
    let result = state
        .auth
        .sessions
        .login(&body.username, &body.password, ip, ua)
        .await
        .map_err(ApiError::from);
    let actor = Actor {
        name: body.username.trim().chars().take(64).collect(),
        auth: None,
        client_ip: Some(ip.to_string()),
    };
    let code = result.as_ref().map_or_else(|e| e.code, |_| "ok");
    state
        .audit
        .record(&actor, "login", Some(&actor.name), code, None)
        .await;
    let (token, identity) = result?;
    let max_age = state.auth.sessions.ttl().as_secs() as i64;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, token, max_age))
        .json(SessionInfo {
            username: identity.username,
            role: identity.role,
            expires_at: identity.expires_at.map(rfc3339),
            auth: identity.auth,
        }))
}

/// Ends the session and clears the cookie. Without a valid session it still succeeds.
#[utoipa::path(tag = "auth", security(()),
    responses((status = 204, description = "logged out")))]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = session_token(&req) {
        state.auth.sessions.logout(&token).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&state, String::new(), 0))
        .finish())
}

/// Who the caller is.
#[utoipa::path(tag = "auth",
    responses((status = 200, body = SessionInfo), (status = 401, description = "not logged in")))]
#[get("/auth/session")]
pub async fn current_session(caller: Caller) -> web::Json<SessionInfo> {
    let id = caller.identity;
    web::Json(SessionInfo {
        username: id.username,
        role: id.role,
        expires_at: id.expires_at.map(rfc3339),
        auth: id.auth,
    })
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(logout).service(current_session);
}
