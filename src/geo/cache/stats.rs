//! The statistics of the geo cache: [`GeoStats`] for `GET /api/v1/geo/stats` and the size
//! gauges of `/metrics`. Reads counters and sizes; changes nothing else.
//!
//! Counters: memory hits and the MMDB and ip-api outcomes live in the Prometheus counters of
//! [`crate::metrics::Metrics`]; misses of the memory tier and evictions are counted here and in
//! the memory tier, because no metric series exists for them.

use std::sync::atomic::Ordering;

use super::GeoCache;
use crate::geo::model::GeoStats;

impl GeoCache {
    pub fn stats(&self) -> GeoStats {
        self.refresh_gauges();
        let l = &self.metrics.geo_lookups;
        GeoStats {
            entries: self.memory.entries(),
            negative_entries: self.memory.negative_count(),
            dirty_entries: self.store.pending(),
            touched_entries: self.memory.touched_len(),
            max_entries: self.memory.max_entries(),
            hits: l.memory_hit.get(),
            misses: self.misses.load(Ordering::Relaxed),
            mmdb_lookups: l.mmdb_hit.get() + l.mmdb_miss.get(),
            ipapi_lookups: l.ipapi_hit.get() + l.ipapi_miss.get() + l.ipapi_error.get(),
            evictions: self.memory.evictions(),
            http_fallback_enabled: self.remote.is_some(),
            mmdb: self.dbs.country_status(),
            asn_mmdb: self.dbs.asn_status(),
        }
    }

    /// Brings the size gauges up to date (called by flush, stats and `GET /metrics`).
    pub fn refresh_gauges(&self) {
        let m = &self.metrics;
        m.geo_cache_entries
            .set(i64::try_from(self.memory.entries()).unwrap_or(i64::MAX));
        m.geo_cache_dirty_entries
            .set(i64::try_from(self.store.pending()).unwrap_or(i64::MAX));
    }
}
