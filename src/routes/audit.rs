//! The audit log (admins only), newest first.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::Page;
use crate::error::ApiError;
use crate::state::AppState;

use super::guard::Admin;
use crate::domain::time::rfc3339;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// 1-based page (default 1); 400 when out of range.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Rows per page (default 100, 1 to 500); 400 when out of range.
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub auth: Option<String>,
    pub client_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub result: String,
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

/// Who did what, when, and how it ended.
#[utoipa::path(tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, description = "page or page_size out of range"), (status = 401), (status = 403)))]
#[get("/audit")]
pub async fn audit_log(
    _: Admin,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let page = Page::new(query.page, query.page_size)?;
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let (rows, total) = state.audit.page(i64::from(page.page_size), offset).await?;
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: rfc3339(r.at),
            actor: r.actor,
            auth: r.auth,
            client_ip: r.client_ip,
            action: r.action,
            target: r.target,
            result: r.result,
            details: r.details.and_then(|d| serde_json::from_str(&d).ok()),
        })
        .collect();
    Ok(web::Json(AuditPage {
        items,
        total,
        page: page.page,
        page_size: page.page_size,
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(audit_log);
}
