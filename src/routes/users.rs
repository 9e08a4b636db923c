//! User administration (admins only): list, create, change role or password, delete.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::auth::Role;
use crate::error::ApiError;
use crate::services::auth::UserView;
use crate::state::AppState;

use super::guard::Admin;

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserRequest {
    #[schema(pattern = r"^\s*[A-Za-z0-9._@-]{3,64}\s*$")]
    pub username: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    pub role: Role,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    pub role: Option<Role>,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: Option<String>,
}

/// All users.
#[utoipa::path(tag = "users",
    responses((status = 200, body = UserList), (status = 401), (status = 403)))]
#[get("/users")]
pub async fn list_users(
    _: Admin,
    state: web::Data<AppState>,
) -> Result<web::Json<UserList>, ApiError> {
    Ok(web::Json(UserList {
        items: state.auth.users.list().await?,
    }))
}

/// Creates a user.
#[utoipa::path(tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = UserView), (status = 400), (status = 401), (status = 403), (status = 409)))]
#[post("/users")]
pub async fn create_user(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<NewUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .auth
        .users
        .create(&body.username, &body.password, body.role)
        .await
        .map_err(ApiError::from);
    let target = format!("{} ({})", body.username.trim(), body.role.as_str());
    super::audit_result(&state, &caller, "user.create", &target, &result).await;
    Ok(HttpResponse::Created().json(result?))
}

/// Changes a user's role and/or password. A new password or a different role ends the user's
/// sessions and revokes all their API tokens (audited as `user.tokens_revoked`).
#[utoipa::path(tag = "users", request_body = UpdateUserRequest,
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = UserView), (status = 400), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "the last admin cannot be demoted")))]
#[patch("/users/{id}")]
pub async fn update_user(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<UpdateUserRequest>,
) -> Result<web::Json<UserView>, ApiError> {
    let id = id.into_inner();
    let result = state
        .auth
        .users
        .update(id, body.role, body.password.as_deref())
        .await
        .map_err(ApiError::from);
    let target = format!("user {id}");
    super::audit_result(&state, &caller, "user.update", &target, &result).await;
    let update = result?;
    if update.tokens_revoked > 0 {
        let details = serde_json::json!({ "tokens_revoked": update.tokens_revoked });
        state
            .audit
            .record(
                &caller.actor(),
                "user.tokens_revoked",
                Some(&target),
                "ok",
                Some(&details),
            )
            .await;
    }
    Ok(web::Json(update.user))
}

/// Deletes a user (never the last admin).
#[utoipa::path(tag = "users", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)))]
#[delete("/users/{id}")]
pub async fn delete_user(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let result = state.auth.users.delete(id).await.map_err(ApiError::from);
    super::audit_result(
        &state,
        &caller,
        "user.delete",
        &format!("user {id}"),
        &result,
    )
    .await;
    result?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(update_user)
        .service(delete_user);
}
