//! Thin actix handlers, one file per resource: parse input into domain types, call a service,
//! return JSON. [`configure`] mounts them all.

use actix_web::{HttpRequest, web};

use crate::error::ApiError;

pub mod frontend;
pub mod geo;
pub mod health;
pub mod metrics;

/// Mounts every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(metrics::configure).service(
        web::scope("/api")
            .service(
                web::scope("/v1")
                    .configure(health::configure)
                    .configure(geo::configure)
                    .default_service(web::to(api_not_found)),
            )
            .default_service(web::to(api_not_found)),
    );
}

/// Any unknown `/api/...` path answers in the error contract, never with the SPA.
async fn api_not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "route_not_found",
        format!("no API route {} {}", req.method(), req.path()),
    ))
}
