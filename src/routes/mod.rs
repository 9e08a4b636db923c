//! Thin actix handlers, one file per resource: parse input into domain types, call a service,
//! return JSON. Each handler's method and path are written once, in its actix macro (relative
//! to `/api/v1`); its `#[utoipa::path]` adds only the OpenAPI details. [`mount`] registers them
//! all through utoipa-actix-web, so the running routes and the OpenAPI document come from the
//! same list.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::state::AppState;

pub mod audit;
pub mod auth;
pub mod bans;
pub mod blocklists;
pub mod body;
pub mod config;
pub mod dashboard;
pub mod events;
pub mod filters;
pub mod frontend;
pub mod geo;
pub mod guard;
pub mod health;
pub mod history;
pub mod jails;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod query;
pub mod regex;
pub mod server;
pub mod settings;
pub mod setup;

pub mod tokens;
pub mod users;

/// Mounts every route of the application on a plain actix `ServiceConfig` (what `startup.rs`
/// uses); the OpenAPI paths collected on the way are dropped here and built once by
/// [`openapi::document`] from the same [`mount`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    mount(&mut ServiceConfig::new(cfg));
}

/// Registers every route once: each `service(handler)` both mounts the actix handler and adds
/// its `#[utoipa::path]` operation, prefixed by the enclosing scopes, to the OpenAPI document.
pub fn mount(cfg: &mut ServiceConfig) {
    cfg.configure(openapi::configure_docs)
        .configure(metrics::configure)
        .service(
            scope("/api")
                .service(
                    scope("/v1")
                        .wrap(actix_web::middleware::from_fn(undeclared_method))
                        .configure(health::configure)
                        .configure(setup::configure)
                        .configure(auth::configure)
                        .configure(users::configure)
                        .configure(tokens::configure)
                        .configure(audit::configure)
                        .configure(settings::configure)
                        .configure(openapi::configure)
                        .configure(geo::configure)
                        .configure(dashboard::configure)
                        .configure(history::configure)
                        .configure(bans::configure)
                        .configure(blocklists::configure)
                        .configure(jails::configure)
                        .configure(server::configure)
                        .configure(regex::configure)
                        .configure(filters::configure)
                        .configure(config::configure)
                        .configure(notifications::configure)
                        .configure(events::configure)
                        .default_service(web::to(api_not_found)),
                )
                .default_service(web::to(api_not_found)),
        );
}

/// Any unknown `/api/...` path answers in the error contract, never with the SPA: 405 with an
/// `Allow` header when the path is known for other methods, else 404.
async fn api_not_found(req: HttpRequest) -> HttpResponse {
    let allowed = allowed_methods(req.path());
    if allowed.is_empty() {
        return ApiError::not_found(
            "route_not_found",
            format!("no API route {} {}", req.method(), req.path()),
        )
        .error_response();
    }
    let allow = allowed.join(", ");
    let mut res = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}; use {allow}",
            req.method(),
            req.path()
        ),
    )
    .with_details(serde_json::json!({"allowed": allowed}))
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// A path written out in the document (`/tokens/all`) is its own resource, even where a
/// template also fits it (`DELETE /tokens/{id}`): a method the document does not list for it
/// answers 405 before routing could hand the request to the template's handler.
async fn undeclared_method(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let method = req.method().as_str();
    let refused = literal_methods(req.path()).is_some_and(|methods| {
        !methods.contains(&method) && method != "HEAD" && method != "OPTIONS"
    });
    if refused {
        let (http_req, _) = req.into_parts();
        let res = api_not_found(http_req.clone()).await;
        return Ok(actix_web::dev::ServiceResponse::new(http_req, res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

type MethodTable = Vec<(Vec<String>, Vec<&'static str>)>;

/// Each documented path template, split at `/`, with the methods the document lists for it.
fn method_table() -> &'static MethodTable {
    static TABLE: OnceLock<MethodTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        openapi::document()
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_string).collect();
                let mut methods = Vec::new();
                for (method, op) in [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ] {
                    if op.is_some() {
                        methods.push(method);
                    }
                }
                (segments, methods)
            })
            .collect()
    })
}

/// The methods of `path` when the document writes it out literally (no template parameter).
fn literal_methods(path: &str) -> Option<&'static [&'static str]> {
    method_table()
        .iter()
        .find(|(segments, _)| {
            !segments.iter().any(|t| t.starts_with('{'))
                && segments.len() == path.split('/').count()
                && segments.iter().zip(path.split('/')).all(|(t, w)| t == w)
        })
        .map(|(_, methods)| methods.as_slice())
}

/// The methods the OpenAPI document lists for `path` (empty when no documented path matches).
fn allowed_methods(path: &str) -> Vec<&'static str> {
    let table = method_table();
    let wanted: Vec<&str> = path.split('/').collect();
    let matching: Vec<&(Vec<String>, Vec<&'static str>)> = table
        .iter()
        .filter(|(segments, _)| {
            segments.len() == wanted.len()
                && segments.iter().zip(&wanted).all(|(t, w)| {
                    (t.starts_with('{') && t.ends_with('}') && !w.is_empty()) || t == w
                })
        })
        .collect();
    // A path written out in the document (`/jails/reload-all`) is its own resource: its
    // methods are the ones listed, not those of a template it also fits (`/jails/{name}`).
    let literal = |segments: &Vec<String>| !segments.iter().any(|t| t.starts_with('{'));
    let exact: Vec<_> = matching.iter().filter(|(s, _)| literal(s)).collect();
    let chosen: Vec<_> = if exact.is_empty() {
        matching.iter().collect()
    } else {
        exact
    };
    let mut out: Vec<&'static str> = chosen
        .iter()
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Runs a state-changing action with its audit record written first: when the record cannot
/// be written the action does not run and the caller gets 503 `audit_unavailable`; otherwise
/// the record gets the action's result (`ok` or the error code) when it ends.
pub async fn audited<T>(
    state: &AppState,
    caller: &guard::Caller,
    action: &str,
    target: &str,
    details: Option<serde_json::Value>,
    run: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let intent = state
        .audit
        .begin(&caller.actor(), action, Some(target), details.as_ref())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, action, target, "audit record not written; action refused");
            ApiError::unavailable(
                "audit_unavailable",
                "the audit log could not be written, so nothing was changed; see the server log",
            )
        })?;
    let result = run.await;
    let code = result.as_ref().map_or_else(|e| e.code, |_| "ok");
    state.audit.finish(intent, code).await;
    result
}

/// Writes the audit record of a state-changing call from its outcome.
pub async fn audit_result<T>(
    state: &AppState,
    caller: &guard::Caller,
    action: &str,
    target: &str,
    result: &Result<T, ApiError>,
) {
    let code = result.as_ref().map_or_else(|e| e.code, |_| "ok");
    state
        .audit
        .record(&caller.actor(), action, Some(target), code, None)
        .await;
}
