//! The geolocation domain types every caller sees: [`GeoInfo`], where it came from
//! ([`GeoSource`]), and the reports of the cache ([`GeoStats`], [`ReResolveOutcome`]). Plain
//! data only: no I/O, no caching logic, nothing about HTTP or SQL.

use serde::Serialize;

/// Which resolver answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GeoSource {
    Mmdb,
    Ipapi,
}

impl GeoSource {
    pub fn as_str(self) -> &'static str {
        match self {
            GeoSource::Mmdb => "mmdb",
            GeoSource::Ipapi => "ipapi",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mmdb" => Some(GeoSource::Mmdb),
            "ipapi" => Some(GeoSource::Ipapi),
            _ => None,
        }
    }
}

/// The geolocation of one IP. `country_code` (ISO 3166-1 alpha-2) is the key for grouping;
/// `country_name` is English and for display only.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GeoInfo {
    pub country_code: Option<String>,
    pub country_name: Option<String>,
    pub geoname_id: Option<u32>,
    pub continent: Option<String>,
    pub asn: Option<u32>,
    pub org: Option<String>,
    /// The prefix the MMDB answered with (`203.0.113.0/24`).
    pub network: Option<String>,
    pub source: GeoSource,
    /// Build epoch of the MMDB that answered (`None` for ip-api answers).
    pub db_version: Option<u64>,
}

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
