//! Dashboard preferences kept in the own database: the map's colour thresholds (three ascending
//! ban counts, the first at least 1; defaults when nothing valid is stored).

use sqlx::SqlitePool;

use crate::db;
use crate::domain::DomainError;

const MAP_THRESHOLDS_KEY: &str = "map_thresholds";
pub const DEFAULT_THRESHOLDS: [u64; 3] = [10, 50, 200];

#[derive(Debug, thiserror::Error)]
pub enum MapSettingsError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("cannot read or write the map settings: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct MapSettingsService {
    db: SqlitePool,
}

impl MapSettingsService {
    pub fn new(db: SqlitePool) -> Self {
        Self { db }
    }

    /// The stored thresholds, or the defaults.
    pub async fn thresholds(&self) -> Result<Vec<u64>, MapSettingsError> {
        let stored = db::settings::get(&self.db, MAP_THRESHOLDS_KEY).await?;
        Ok(stored
            .and_then(|s| serde_json::from_str::<Vec<u64>>(&s).ok())
            .filter(|t| valid(t))
            .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec()))
    }

    /// Stores new thresholds after checking them.
    pub async fn set_thresholds(&self, t: &[u64]) -> Result<(), MapSettingsError> {
        if !valid(t) {
            return Err(DomainError::new(
                "thresholds",
                &format!("{t:?}"),
                "thresholds must be three ascending counts, the first at least 1",
            )
            .into());
        }
        let text = serde_json::to_string(t).unwrap_or_default();
        db::settings::set(&self.db, MAP_THRESHOLDS_KEY, &text, db::now_epoch()).await?;
        Ok(())
    }
}

fn valid(t: &[u64]) -> bool {
    matches!(t, [a, b, c] if *a >= 1 && a < b && b < c)
}
