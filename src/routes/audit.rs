//! The audit log (admins only), newest first.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::state::AppState;

use super::guard::Admin;
use crate::domain::time::rfc3339;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    pub page: Option<u32>,
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
    responses((status = 200, body = AuditPage), (status = 401), (status = 403)))]
#[get("/audit")]
pub async fn audit_log(
    _: Admin,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let page = query.page.unwrap_or(1).max(1);
    let page_size = query.page_size.unwrap_or(100).clamp(1, 500);
    let (rows, total) = state
        .audit
        .page(i64::from(page_size), i64::from((page - 1) * page_size))
        .await?;
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
        page,
        page_size,
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(audit_log);
}
