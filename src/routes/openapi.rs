//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` annotations, served
//! at `/api/v1/openapi.json` and browsable with Swagger UI at `/api/docs` (assets vendored into
//! the binary, nothing fetched at run time). A test compares it with the registered routes.

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    audit, auth, bans, dashboard, geo, health, history, jails, metrics, server, settings, setup,
    tokens, users,
};

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

#[derive(OpenApi)]
#[openapi(
    info(title = "BanGUI API", description = "REST API of the BanGUI fail2ban dashboard. Errors are `{error_code, message, details}`."),
    modifiers(&SecuritySchemes),
    security(("session" = []), ("token" = [])),
    paths(
        health::health_report, health::live, health::ready,
        setup::setup_status, setup::run_setup,
        auth::login, auth::logout, auth::current_session,
        users::list_users, users::create_user, users::update_user, users::delete_user,
        tokens::list_tokens, tokens::create_token, tokens::revoke_token,
        audit::audit_log,
        settings::get_map, settings::put_map,
        geo::lookup, geo::re_resolve, geo::reload, geo::stats,
        metrics::metrics,
        dashboard::status, dashboard::bans, dashboard::by_country, dashboard::trend, dashboard::by_jail,
        history::search, history::export, history::ip_history, history::top_ips,
        bans::active, bans::ban, bans::unban, bans::unban_all,
        jails::list, jails::detail, jails::start, jails::stop, jails::reload, jails::reload_all, jails::idle,
        jails::ignore_list, jails::add_ignore, jails::remove_ignore, jails::ignoreself, jails::banned,
        server::get_settings, server::put_settings, server::flush_logs,
        openapi_json,
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "docs", security(()), responses((status = 200)))]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// Mounted inside `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json);
}

/// Swagger UI at `/api/docs/` reading `/api/v1/openapi.json`.
pub fn configure_docs(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/docs",
        web::get().to(|| async {
            HttpResponse::Found()
                .insert_header(("Location", "/api/docs/"))
                .finish()
        }),
    )
    .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/v1/openapi.json", ApiDoc::openapi()));
}
