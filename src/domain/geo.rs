//! What a geolocation answer is: [`GeoInfo`] and which resolver gave it ([`GeoSource`]). Plain
//! data shared by the archive (`db`), the resolvers (`geo`) and the API; no I/O here.

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
