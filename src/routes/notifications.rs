//! Notification channels (admins only): list, create, read, replace, delete, send a test
//! message, and read a channel's delivery log. Secrets are write-only: a request sets
//! (`"name": "value"`), clears (`"name": null`) or keeps (absent) each one, and every answer
//! shows only whether each is set. Changes are audited without their secrets.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::notification::{Channel, ChannelConfig, ChannelKind, Rules, SecretUpdate};
use crate::domain::time::rfc3339;
use crate::error::ApiError;
use crate::services::notifications::{ChannelInput, DeliveryRow};
use crate::state::AppState;

use super::guard::Admin;

/// A channel as the API shows it: secrets as set/unset only.
#[derive(Serialize, ToSchema)]
pub struct ChannelView {
    pub id: i64,
    pub name: String,
    pub kind: ChannelKind,
    pub enabled: bool,
    pub config: ChannelConfig,
    /// Each secret of this kind and whether it is set; values are never returned.
    pub secrets: BTreeMap<String, bool>,
    pub rules: Rules,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Channel> for ChannelView {
    fn from(c: Channel) -> Self {
        let kind = c.config.kind();
        Self {
            id: c.id,
            name: c.name,
            kind,
            enabled: c.enabled,
            secrets: c.secrets.presence(kind),
            config: c.config,
            rules: c.rules,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    pub items: Vec<ChannelView>,
}

fn enabled_by_default() -> bool {
    true
}

/// A channel to create, or the full new state of one to replace.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// 1 to 100 characters, unique.
    #[schema(
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f]([^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$",
        max_length = 100
    )]
    pub name: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(deserialize_with = "crate::domain::notification::from_object")]
    pub config: ChannelConfig,
    /// New values (or null to clear) of the channel's secrets; absent ones keep their value,
    /// and names that are not secrets of the channel's kind are ignored.
    #[serde(default, deserialize_with = "crate::domain::notification::from_object")]
    pub secrets: SecretsInput,
    #[serde(default, deserialize_with = "crate::domain::notification::from_object")]
    pub rules: Rules,
}

/// Write-only secrets by name: webhook `signing_secret`, ntfy and Matrix `access_token`, chat
/// `webhook_url`, Telegram `bot_token`, e-mail `password`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SecretsInput {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::domain::notification::schema::secret)]
    pub signing_secret: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::domain::notification::schema::secret)]
    pub access_token: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::domain::notification::schema::secret)]
    pub webhook_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::domain::notification::schema::secret)]
    pub bot_token: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::domain::notification::schema::secret)]
    pub password: Option<Option<String>>,
}

/// A field that is present: `Some(value)` or `Some(None)` for an explicit null.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl SecretsInput {
    fn into_update(self) -> SecretUpdate {
        [
            ("signing_secret", self.signing_secret),
            ("access_token", self.access_token),
            ("webhook_url", self.webhook_url),
            ("bot_token", self.bot_token),
            ("password", self.password),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
    }

    fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (name, given) in [
            ("signing_secret", self.signing_secret.is_some()),
            ("access_token", self.access_token.is_some()),
            ("webhook_url", self.webhook_url.is_some()),
            ("bot_token", self.bot_token.is_some()),
            ("password", self.password.is_some()),
        ] {
            if given {
                out.push(name);
            }
        }
        out
    }
}

impl From<ChannelBody> for ChannelInput {
    fn from(b: ChannelBody) -> Self {
        Self {
            name: b.name,
            enabled: b.enabled,
            config: b.config,
            secrets: b.secrets.into_update(),
            rules: b.rules,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// `event`, `digest` or `test`.
    pub kind: String,
    pub summary: String,
    /// Notices the message stands for.
    pub notices: i64,
    /// `queued`, `retrying`, `sent`, `failed` (test), `dead` or `dropped`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(r: DeliveryRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            summary: r.summary,
            notices: r.notices,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryView>,
    /// Messages waiting in the dispatcher's queue (all channels, retries included).
    pub queued: usize,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DeliveryQuery {
    /// Newest rows to return (default 50, 1 to 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct TestResult {
    pub delivered: bool,
    /// The delivery log row of the test.
    pub delivery_id: i64,
    /// Why delivery failed (no secrets in it).
    pub error: Option<String>,
}

/// Every notification channel.
#[utoipa::path(tag = "notifications",
    responses((status = 200, body = ChannelList), (status = 401), (status = 403)))]
#[get("/notifications/channels")]
pub async fn list_channels(
    _: Admin,
    state: web::Data<AppState>,
) -> Result<web::Json<ChannelList>, ApiError> {
    let items = state.notifications.list().await?;
    Ok(web::Json(ChannelList {
        items: items.into_iter().map(ChannelView::from).collect(),
    }))
}

/// Creates a channel.
#[utoipa::path(tag = "notifications", request_body = ChannelBody,
    responses((status = 201, body = ChannelView), (status = 400), (status = 401), (status = 403),
        (status = 409, description = "name taken, or 100 channels exist")))]
#[post("/notifications/channels")]
pub async fn create_channel(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<ChannelBody>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner().0;
    let target = body.name.trim().to_string();
    let result = state
        .notifications
        .create(body.into())
        .await
        .map_err(ApiError::from);
    super::audit_result(
        &state,
        &caller,
        "notification_channel.create",
        &target,
        &result,
    )
    .await;
    Ok(HttpResponse::Created().json(ChannelView::from(result?)))
}

/// One channel.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = ChannelView), (status = 401), (status = 403), (status = 404)))]
#[get("/notifications/channels/{id}")]
pub async fn get_channel(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<web::Json<ChannelView>, ApiError> {
    Ok(web::Json(
        state.notifications.get(id.into_inner()).await?.into(),
    ))
}

/// Replaces a channel's name, configuration, rules and the secrets named in the body.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path, minimum = 1)), request_body = ChannelBody,
    responses((status = 200, body = ChannelView), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409, description = "name taken")))]
#[put("/notifications/channels/{id}")]
pub async fn update_channel(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<super::body::JsonObject<ChannelBody>>,
) -> Result<web::Json<ChannelView>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner().0;
    let changed = body.secrets.names();
    let target = format!(
        "channel {id} ({}); secrets changed: {changed:?}",
        body.name.trim()
    );
    let result = state
        .notifications
        .update(id, body.into())
        .await
        .map_err(ApiError::from);
    super::audit_result(
        &state,
        &caller,
        "notification_channel.update",
        &target,
        &result,
    )
    .await;
    Ok(web::Json(result?.into()))
}

/// Deletes a channel and its delivery log.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path, minimum = 1)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
#[delete("/notifications/channels/{id}")]
pub async fn delete_channel(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let result = state.notifications.delete(id).await.map_err(ApiError::from);
    super::audit_result(
        &state,
        &caller,
        "notification_channel.delete",
        &format!("channel {id}"),
        &result,
    )
    .await;
    result?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends a test message through the channel now and reports the outcome.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = TestResult), (status = 401), (status = 403), (status = 404)))]
#[post("/notifications/channels/{id}/test")]
pub async fn test_channel(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<web::Json<TestResult>, ApiError> {
    let id = id.into_inner();
    let result = state
        .notifications
        .send_test(id)
        .await
        .map_err(ApiError::from);
    super::audit_result(
        &state,
        &caller,
        "notification_channel.test",
        &format!("channel {id}"),
        &result,
    )
    .await;
    let outcome = result?;
    Ok(web::Json(TestResult {
        delivered: outcome.error.is_none(),
        delivery_id: outcome.delivery_id,
        error: outcome.error,
    }))
}

/// The newest rows of a channel's delivery log, newest first.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path, minimum = 1), DeliveryQuery),
    responses((status = 200, body = DeliveryList), (status = 400), (status = 401), (status = 403), (status = 404)))]
#[get("/notifications/channels/{id}/deliveries")]
pub async fn channel_deliveries(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<DeliveryQuery>,
) -> Result<web::Json<DeliveryList>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be 1 to 500, got {limit}"),
        ));
    }
    let rows = state
        .notifications
        .deliveries(id.into_inner(), limit)
        .await?;
    Ok(web::Json(DeliveryList {
        items: rows.into_iter().map(DeliveryView::from).collect(),
        queued: state.notifications.queued(),
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_channels)
        .service(create_channel)
        .service(get_channel)
        .service(update_channel)
        .service(delete_channel)
        .service(test_channel)
        .service(channel_deliveries);
}
