//! Blocklist sources (issue 16): viewers read sources, runs and logs; admins create, change and
//! delete sources, preview them and start imports. Every change is audited. Imports started
//! here run in the background; the answer says which started.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::JailName;
use crate::domain::blocklist::{ImportSchedule, SourceUrl};
use crate::domain::query::BLOCKLIST_JAIL;
use crate::error::ApiError;
use crate::services::blocklists::{
    ImportStarted, LogLineView, PreviewView, RunView, SourceInput, SourceView,
};
use crate::state::AppState;

use super::guard::{Admin, Viewer};

#[derive(Serialize, ToSchema)]
pub struct SourceList {
    pub items: Vec<SourceView>,
}

fn yes() -> bool {
    true
}

/// A source as an admin writes it.
#[derive(Deserialize, ToSchema)]
pub struct SourceRequest {
    /// 1 to 100 characters.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$",
        max_length = 100
    )]
    pub name: String,
    /// An http:// or https:// URL without credentials.
    #[schema(
        pattern = r"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$",
        max_length = 2000
    )]
    pub url: String,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub enabled: bool,
    /// The jail to ban in (default `blocklist-import`).
    #[schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$")]
    pub jail: Option<String>,
    /// `manual`, `hourly`, `daily` (default), `weekly` or a 6-field cron expression (UTC).
    #[schema(pattern = r"^(manual|hourly|daily|weekly|[0-9*/,?A-Za-z-]+( [0-9*/,?A-Za-z-]+){5})$")]
    pub schedule: Option<String>,
    /// Let this source's host be an internal address (loopback, private, link-local).
    #[serde(default)]
    pub allow_internal: bool,
}

impl SourceRequest {
    fn parse(&self) -> Result<SourceInput, ApiError> {
        Ok(SourceInput {
            name: SourceInput::name(&self.name)?,
            url: SourceUrl::parse(&self.url)?,
            enabled: self.enabled,
            jail: JailName::parse(self.jail.as_deref().unwrap_or(BLOCKLIST_JAIL))?,
            schedule: ImportSchedule::parse(self.schedule.as_deref().unwrap_or("daily"))?,
            allow_internal: self.allow_internal,
        })
    }
}

#[derive(Deserialize, IntoParams)]
pub struct LimitQuery {
    /// How many of the newest (default 50, 1 to 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

impl LimitQuery {
    fn limit(&self) -> Result<i64, ApiError> {
        match self.limit.unwrap_or(50) {
            n @ 1..=500 => Ok(i64::from(n)),
            n => Err(
                crate::domain::DomainError::new("limit", &n.to_string(), "expected 1 to 500")
                    .into(),
            ),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunView>,
}

#[derive(Serialize, ToSchema)]
pub struct LogList {
    pub items: Vec<LogLineView>,
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// Entries of the source that were unbanned.
    pub unbanned: u64,
}

/// Every blocklist source with its last and next run.
#[utoipa::path(tag = "blocklists",
    responses((status = 200, body = SourceList), (status = 401), (status = 403)))]
#[get("/blocklists")]
pub async fn list_sources(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<SourceList>, ApiError> {
    Ok(web::Json(SourceList {
        items: state.blocklists.list().await?,
    }))
}

/// Adds a source.
#[utoipa::path(tag = "blocklists", request_body = SourceRequest,
    responses((status = 201, body = SourceView), (status = 400), (status = 401), (status = 403),
        (status = 409, description = "a source with this URL exists")))]
#[post("/blocklists")]
pub async fn create_source(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<SourceRequest>>,
) -> Result<HttpResponse, ApiError> {
    let input = body.parse()?;
    let result = state
        .blocklists
        .create(&input)
        .await
        .map_err(ApiError::from);
    let target = format!("{} ({})", input.name, input.url);
    super::audit_result(&state, &caller, "blocklist.create", &target, &result).await;
    Ok(HttpResponse::Created().json(result?))
}

/// Starts an import of every enabled source now (in the background).
#[utoipa::path(tag = "blocklists",
    responses((status = 202, body = ImportStarted), (status = 401), (status = 403)))]
#[post("/blocklists/import")]
pub async fn import_all(
    Admin(caller): Admin,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .blocklists
        .import_now(None)
        .await
        .map_err(ApiError::from);
    super::audit_result(&state, &caller, "blocklist.import", "all sources", &result).await;
    Ok(HttpResponse::Accepted().json(result?))
}

/// One source.
#[utoipa::path(tag = "blocklists", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = SourceView), (status = 401), (status = 403), (status = 404)))]
#[get("/blocklists/{id}")]
pub async fn get_source(
    _: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<web::Json<SourceView>, ApiError> {
    Ok(web::Json(state.blocklists.get(id.into_inner()).await?))
}

/// Replaces a source's settings. Moving it to another jail unbans its entries in the old one.
#[utoipa::path(tag = "blocklists", request_body = SourceRequest, params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = SourceView), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 409)))]
#[put("/blocklists/{id}")]
pub async fn update_source(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<super::body::JsonObject<SourceRequest>>,
) -> Result<web::Json<SourceView>, ApiError> {
    let id = id.into_inner();
    let input = body.parse()?;
    let result = state
        .blocklists
        .update(id, &input)
        .await
        .map_err(ApiError::from);
    let target = format!(
        "blocklist {id}: {} ({}, jail {}, {})",
        input.name, input.url, input.jail, input.schedule
    );
    super::audit_result(&state, &caller, "blocklist.update", &target, &result).await;
    Ok(web::Json(result?))
}

/// Deletes a source and unbans what it banned (unless another source of the jail lists it).
#[utoipa::path(tag = "blocklists", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = Deleted), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "an import of the source is running")))]
#[delete("/blocklists/{id}")]
pub async fn delete_source(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<web::Json<Deleted>, ApiError> {
    let id = id.into_inner();
    let target = format!("blocklist {id}");
    let unbanned = super::audited(&state, &caller, "blocklist.delete", &target, None, async {
        state.blocklists.delete(id).await.map_err(ApiError::from)
    })
    .await?;
    Ok(web::Json(Deleted { unbanned }))
}

/// Fetches the list and shows what an import would do; bans nothing.
#[utoipa::path(tag = "blocklists", params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = PreviewView), (status = 401), (status = 403), (status = 404),
        (status = 502, description = "the list could not be fetched (error_code says why)")))]
#[post("/blocklists/{id}/preview")]
pub async fn preview_source(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<web::Json<PreviewView>, ApiError> {
    Ok(web::Json(state.blocklists.preview(id.into_inner()).await?))
}

/// Starts an import of one source now (in the background).
#[utoipa::path(tag = "blocklists", params(("id" = i64, Path, minimum = 1)),
    responses((status = 202, body = ImportStarted), (status = 401), (status = 403), (status = 404)))]
#[post("/blocklists/{id}/import")]
pub async fn import_source(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let result = state
        .blocklists
        .import_now(Some(id))
        .await
        .map_err(ApiError::from);
    super::audit_result(
        &state,
        &caller,
        "blocklist.import",
        &format!("blocklist {id}"),
        &result,
    )
    .await;
    Ok(HttpResponse::Accepted().json(result?))
}

/// The newest runs of a source.
#[utoipa::path(tag = "blocklists", params(("id" = i64, Path, minimum = 1), LimitQuery),
    responses((status = 200, body = RunList), (status = 400), (status = 401), (status = 403), (status = 404)))]
#[get("/blocklists/{id}/runs")]
pub async fn list_runs(
    _: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<LimitQuery>,
) -> Result<web::Json<RunList>, ApiError> {
    let items = state
        .blocklists
        .runs(id.into_inner(), query.limit()?)
        .await?;
    Ok(web::Json(RunList { items }))
}

/// The newest log lines of a source (invalid lines, refused entries, errors, summaries).
#[utoipa::path(tag = "blocklists", params(("id" = i64, Path, minimum = 1), LimitQuery),
    responses((status = 200, body = LogList), (status = 400), (status = 401), (status = 403), (status = 404)))]
#[get("/blocklists/{id}/log")]
pub async fn source_log(
    _: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<LimitQuery>,
) -> Result<web::Json<LogList>, ApiError> {
    let items = state
        .blocklists
        .log(id.into_inner(), query.limit()?)
        .await?;
    Ok(web::Json(LogList { items }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_sources)
        .service(create_source)
        .service(import_all)
        .service(get_source)
        .service(update_source)
        .service(delete_source)
        .service(preview_source)
        .service(import_source)
        .service(list_runs)
        .service(source_log);
}
