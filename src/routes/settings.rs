//! Dashboard preferences stored in the own database: the map's colour thresholds.

use actix_web::{get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::state::AppState;

use super::guard::{Admin, Viewer};

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MapSettings {
    /// Ascending ban counts at which a country turns low, medium and high.
    pub thresholds: Vec<u64>,
}

/// The map's colour thresholds.
#[utoipa::path(tag = "settings",
    responses((status = 200, body = MapSettings), (status = 401)))]
#[get("/settings/map")]
pub async fn get_map(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<MapSettings>, ApiError> {
    Ok(web::Json(MapSettings {
        thresholds: state.map_settings.thresholds().await?,
    }))
}

/// Changes the map's colour thresholds (three ascending positive counts).
#[utoipa::path(tag = "settings", request_body = MapSettings,
    responses((status = 200, body = MapSettings), (status = 400), (status = 401), (status = 403)))]
#[put("/settings/map")]
pub async fn put_map(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<MapSettings>,
) -> Result<web::Json<MapSettings>, ApiError> {
    let t = &body.thresholds;
    let result = state
        .map_settings
        .set_thresholds(t)
        .await
        .map_err(ApiError::from);
    super::audit_result(&state, &caller, "settings.map", &format!("{t:?}"), &result).await;
    result?;
    Ok(web::Json(MapSettings {
        thresholds: t.clone(),
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_map).service(put_map);
}
