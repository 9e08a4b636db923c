//! `GeoCache`: the one service that owns all geolocation state. Built once at start-up and
//! injected through the application state.

use crate::config::GeoipSettings;

use super::mmdb::{MmdbSlot, MmdbStatus};

pub struct GeoCache {
    country: MmdbSlot,
}

impl GeoCache {
    pub fn new(settings: &GeoipSettings) -> Self {
        Self {
            country: MmdbSlot::open(settings.db_path.as_deref()),
        }
    }

    /// State of the country database, for health and stats.
    pub fn mmdb_status(&self) -> MmdbStatus {
        self.country.status()
    }
}
