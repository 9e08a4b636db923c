//! Personal API tokens of the caller: list, create (the secret is shown once) and revoke. A
//! token never has more rights than its owner. Admins also see every user's tokens
//! (`/tokens/all`) and may revoke any of them; each revocation is audited.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::auth::Role;
use crate::error::ApiError;
use crate::services::auth::TokenRow;
use crate::state::AppState;

use super::guard::{Admin, Viewer};
use crate::domain::time::rfc3339;

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<TokenRow> for TokenView {
    fn from(t: TokenRow) -> Self {
        Self {
            id: t.id,
            role: Role::parse(&t.role).unwrap_or(Role::Viewer),
            name: t.name,
            prefix: t.token_prefix,
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewTokenRequest {
    pub name: String,
    /// Defaults to the owner's role; may not exceed it.
    pub role: Option<Role>,
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedTokenView {
    #[serde(flatten)]
    pub info: TokenView,
    /// The secret, shown only in this response. Send it as `Authorization: Bearer <token>`.
    pub token: String,
}

/// The caller's live tokens.
#[utoipa::path(tag = "tokens", responses((status = 200, body = TokenList), (status = 401)))]
#[get("/tokens")]
pub async fn list_tokens(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<TokenList>, ApiError> {
    let rows = state.auth.tokens.list(&caller.identity).await?;
    Ok(web::Json(TokenList {
        items: rows.into_iter().map(TokenView::from).collect(),
    }))
}

/// Creates a token for the caller.
#[utoipa::path(tag = "tokens", request_body = NewTokenRequest,
    responses((status = 201, body = CreatedTokenView), (status = 400), (status = 401),
        (status = 403, description = "role above the owner's")))]
#[post("/tokens")]
pub async fn create_token(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
    body: web::Json<NewTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .auth
        .tokens
        .create(
            &caller.identity,
            &body.name,
            body.role,
            body.expires_in_days,
        )
        .await
        .map_err(ApiError::from);
    super::audit_result(&state, &caller, "token.create", body.name.trim(), &result).await;
    let created = result?;
    Ok(HttpResponse::Created().json(CreatedTokenView {
        info: created.row.into(),
        token: created.secret,
    }))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(tag = "tokens", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204), (status = 401), (status = 404)))]
#[delete("/tokens/{id}")]
pub async fn revoke_token(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let result = state
        .auth
        .tokens
        .revoke(&caller.identity, id)
        .await
        .map_err(ApiError::from);
    super::audit_result(
        &state,
        &caller,
        "token.revoke",
        &format!("token {id}"),
        &result,
    )
    .await;
    result?;
    Ok(HttpResponse::NoContent().finish())
}

/// A live token with its owner, for admins.
#[derive(Serialize, ToSchema)]
pub struct OwnedTokenView {
    #[serde(flatten)]
    pub info: TokenView,
    pub user_id: i64,
    pub username: String,
}

#[derive(Serialize, ToSchema)]
pub struct OwnedTokenList {
    pub items: Vec<OwnedTokenView>,
}

/// Every user's live tokens (admins only).
#[utoipa::path(tag = "tokens",
    responses((status = 200, body = OwnedTokenList), (status = 401), (status = 403)))]
#[get("/tokens/all")]
pub async fn list_all_tokens(
    _: Admin,
    state: web::Data<AppState>,
) -> Result<web::Json<OwnedTokenList>, ApiError> {
    let rows = state.auth.tokens.list_all().await?;
    Ok(web::Json(OwnedTokenList {
        items: rows
            .into_iter()
            .map(|r| OwnedTokenView {
                user_id: r.token.user_id,
                username: r.username,
                info: r.token.into(),
            })
            .collect(),
    }))
}

/// Revokes any user's token (admins only).
#[utoipa::path(tag = "tokens", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
#[delete("/tokens/all/{id}")]
pub async fn revoke_any_token(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let result = state
        .auth
        .tokens
        .revoke_any(id)
        .await
        .map_err(ApiError::from);
    let target = match &result {
        Ok(owner) => format!("token {id} of user {owner}"),
        Err(_) => format!("token {id}"),
    };
    super::audit_result(&state, &caller, "token.revoke", &target, &result).await;
    result?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_all_tokens)
        .service(revoke_any_token)
        .service(list_tokens)
        .service(create_token)
        .service(revoke_token);
}
