//! Dashboard preferences stored in the own database: the map's colour thresholds.

use actix_web::{get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

use super::guard::{Admin, Viewer};

const MAP_THRESHOLDS_KEY: &str = "map_thresholds";
const DEFAULT_THRESHOLDS: [u64; 3] = [10, 50, 200];

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MapSettings {
    /// Ascending ban counts at which a country turns low, medium and high.
    pub thresholds: Vec<u64>,
}

/// The map's colour thresholds.
#[utoipa::path(get, path = "/api/v1/settings/map", tag = "settings",
    responses((status = 200, body = MapSettings), (status = 401)))]
#[get("/settings/map")]
pub async fn get_map(
    _: Viewer,
    state: web::Data<AppState>,
) -> Result<web::Json<MapSettings>, ApiError> {
    let stored = db::settings::get(&state.db, MAP_THRESHOLDS_KEY).await?;
    let thresholds = stored
        .and_then(|s| serde_json::from_str::<Vec<u64>>(&s).ok())
        .filter(|t| t.len() == 3)
        .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec());
    Ok(web::Json(MapSettings { thresholds }))
}

/// Changes the map's colour thresholds (three ascending positive counts).
#[utoipa::path(put, path = "/api/v1/settings/map", tag = "settings", request_body = MapSettings,
    responses((status = 200, body = MapSettings), (status = 400), (status = 401), (status = 403)))]
#[put("/settings/map")]
pub async fn put_map(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    body: web::Json<MapSettings>,
) -> Result<web::Json<MapSettings>, ApiError> {
    let t = &body.thresholds;
    let valid = t.len() == 3 && t[0] >= 1 && t[0] < t[1] && t[1] < t[2];
    let result = if valid {
        let text = serde_json::to_string(t).unwrap_or_default();
        db::settings::set(&state.db, MAP_THRESHOLDS_KEY, &text, db::now_epoch())
            .await
            .map_err(ApiError::from)
    } else {
        Err(ApiError::bad_request(
            "validation_error",
            "thresholds must be three ascending counts, the first at least 1",
        )
        .with_details(serde_json::json!({"thresholds": t})))
    };
    super::audit_result(&state, &caller, "settings.map", &format!("{t:?}"), &result).await;
    result?;
    Ok(web::Json(MapSettings {
        thresholds: t.clone(),
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_map).service(put_map);
}
