//! The OpenAPI 3 document, derived from the registered services (utoipa-actix-web collects each
//! handler's `#[utoipa::path]` as [`super::mount`] registers it), served at
//! `/api/v1/openapi.json` and browsable with Swagger UI at `/api/docs` (assets vendored into
//! the binary, nothing fetched at run time). A test compares it with actix's resource map.

use std::sync::OnceLock;

use actix_web::{App, HttpResponse, get, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config, SwaggerUi};

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "bangui_session",
                "Session cookie from POST /api/v1/auth/login. State-changing requests also need X-BanGUI-Request: 1.",
            ))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Personal API token (bgt_...)"))
                    .build(),
            ),
        );
    }
}

/// The parts of the document that no route carries: title, description, security schemes and
/// the default security requirement. The paths and their schemas come from [`super::mount`].
#[derive(OpenApi)]
#[openapi(
    info(title = "BanGUI API", description = "REST API of the BanGUI fail2ban dashboard. Errors are `{error_code, message, details}`."),
    modifiers(&SecuritySchemes),
    security(("session" = []), ("token" = [])),
)]
pub struct ApiDoc;

/// The whole OpenAPI document, derived once from the registered services: [`super::mount`] is
/// run against a throwaway `App` wrapped by utoipa-actix-web, which collects every
/// `service(handler)`'s operation under its scopes' prefixes.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, doc) = App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(super::mount)
            .split_for_parts();
        with_error_responses(doc)
    })
}

/// The error contract every 4xx/5xx answer carries (see `crate::error`).
#[derive(ToSchema)]
#[allow(dead_code)] // only its schema is used
struct ErrorBody {
    /// Stable, machine-readable code, e.g. `invalid_ip`, `jail_not_found`.
    error_code: String,
    /// A sentence for people.
    message: String,
    /// Structured details (the field, value and reason of a validation error, ...), or null.
    details: Option<serde_json::Value>,
}

/// Completes what every operation can answer without each handler repeating it: 400 for a
/// path or query parameter that does not parse, 400/415/422 for a body that is not JSON, not
/// `application/json` or not of the expected shape, and the error contract's schema on every
/// 4xx/5xx response. (405 answers a documented path called with another method; it belongs to
/// no operation.)
fn with_error_responses(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{Content, RefOr, Response};
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("ErrorBody".to_string(), ErrorBody::schema());
    let error_content = || {
        Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "ErrorBody",
        ))))
    };
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut op.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::T(Response::new(description)));
            };
            if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                add("400", "a path or query parameter is invalid");
            }
            if op.request_body.is_some() {
                add(
                    "400",
                    "the body is not valid JSON, or a field's value is refused",
                );
                add("415", "the body is not sent as application/json");
                add(
                    "422",
                    "the JSON body does not have the expected fields or types",
                );
            }
            for (status, response) in responses.iter_mut() {
                if let RefOr::T(response) = response
                    && (status.starts_with('4') || status.starts_with('5'))
                    && response.content.is_empty()
                {
                    response
                        .content
                        .insert("application/json".to_string(), error_content());
                }
            }
        }
    }
    doc
}

/// This document.
#[utoipa::path(tag = "docs", security(()), responses((status = 200)))]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// Mounted inside `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(openapi_json);
}

/// Swagger UI at `/api/docs/` reading `/api/v1/openapi.json` (served by [`openapi_json`]).
pub fn configure_docs(cfg: &mut ServiceConfig) {
    cfg.route(
        "/api/docs",
        web::get().to(|| async {
            HttpResponse::Found()
                .insert_header(("Location", "/api/docs/"))
                .finish()
        }),
    )
    .map(|cfg| {
        cfg.service(
            SwaggerUi::new("/api/docs/{_:.*}").config(Config::new(["/api/v1/openapi.json"])),
        )
    });
}
