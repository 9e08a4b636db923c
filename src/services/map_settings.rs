//! Dashboard preferences kept in the own database: the map's colour thresholds (three ban counts
//! of 1 to 1,000,000,000, kept in ascending order; equal counts are allowed; defaults when nothing valid
//! is stored).

use sqlx::SqlitePool;

use crate::db;
use crate::domain::DomainError;

const MAP_THRESHOLDS_KEY: &str = "map_thresholds";
pub const DEFAULT_THRESHOLDS: [u64; 3] = [10, 50, 200];
/// Largest threshold accepted (no map shows a billion bans per country).
pub const MAX_THRESHOLD: u64 = 1_000_000_000;

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

    /// Stores new thresholds after checking them, in ascending order; answers what was stored.
    pub async fn set_thresholds(&self, t: &[u64]) -> Result<Vec<u64>, MapSettingsError> {
        let mut sorted = t.to_vec();
        sorted.sort_unstable();
        if !valid(&sorted) {
            return Err(DomainError::new(
                "thresholds",
                &format!("{t:?}"),
                "thresholds must be three counts of 1 to 1000000000",
            )
            .into());
        }
        let text = serde_json::to_string(&sorted).unwrap_or_default();
        db::settings::set(&self.db, MAP_THRESHOLDS_KEY, &text, db::now_epoch()).await?;
        Ok(sorted)
    }
}

/// Three counts of 1..=[`MAX_THRESHOLD`] in ascending order (equal neighbours allowed).
fn valid(t: &[u64]) -> bool {
    matches!(t, [a, b, c] if *a >= 1 && a <= b && b <= c && *c <= MAX_THRESHOLD)
}
