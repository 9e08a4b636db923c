//! Geolocation of IP addresses: the domain types, the hot-swappable MMDB readers, the ip-api
//! fallback, the file watcher and the `GeoCache` service that every list and map goes
//! through. Nothing here knows about HTTP routes or the scheduler.

pub mod cache;
pub mod ipapi;
pub mod key;
pub mod mmdb;
pub mod model;
pub mod watcher;

pub use crate::domain::{GeoInfo, GeoSource};
pub use cache::GeoCache;
pub use mmdb::{MmdbState, MmdbStatus};
pub use model::{GeoStats, ReResolveOutcome, ReloadFailure};
