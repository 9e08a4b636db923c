//! The OpenAPI 3 document, derived from the registered services (utoipa-actix-web collects each
//! handler's `#[utoipa::path]` as [`super::mount`] registers it), served at
//! `/api/v1/openapi.json` and browsable with Swagger UI at `/api/docs` (assets vendored into
//! the binary, nothing fetched at run time). A test compares it with actix's resource map.

use std::sync::OnceLock;

use actix_web::{App, HttpResponse, get, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
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
        doc
    })
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
