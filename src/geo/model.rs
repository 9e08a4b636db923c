//! The reports of the geolocation cache ([`GeoStats`], [`ReResolveOutcome`],
//! [`ReloadFailure`]). The answer types
//! themselves (`GeoInfo`, `GeoSource`) live in `domain::geo`. Plain data only.

use serde::Serialize;

/// Counters and sizes of the cache, for `GET /api/v1/geo/stats` and the metrics gauges.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GeoStats {
    /// Entries held in memory (positive and negative).
    pub entries: usize,
    /// Negative entries (not found / fallback failure) held in memory.
    pub negative_entries: usize,
    /// Results waiting for the flush job.
    pub dirty_entries: usize,
    /// IPs whose `last_seen` waits for the flush job.
    pub touched_entries: usize,
    pub max_entries: usize,
    pub hits: u64,
    pub misses: u64,
    pub mmdb_lookups: u64,
    pub ipapi_lookups: u64,
    pub evictions: u64,
    pub http_fallback_enabled: bool,
    pub mmdb: super::MmdbStatus,
    pub asn_mmdb: super::MmdbStatus,
}

/// Result of a re-resolve run: how many of the retried rows now have a country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReResolveOutcome {
    pub resolved: usize,
    pub total: usize,
}

/// A reload that was refused (the old database keeps serving), as
/// [`super::GeoCache::reload_failures`] announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadFailure {
    /// `country` or `asn`.
    pub database: &'static str,
    /// The error with its causes.
    pub error: String,
}
