//! Geolocation of IP addresses: the hot-swappable MMDB reader and the `GeoCache` service that
//! every list and map goes through. Nothing here knows about HTTP.

pub mod cache;
pub mod mmdb;

pub use cache::GeoCache;
pub use mmdb::{MmdbState, MmdbStatus};
