//! The serving MMDB readers of the geo cache (country, optional ASN), their versioning and
//! reload, and the per-IP MMDB resolution into a shared [`GeoInfo`]. No memory tier, no
//! persistence, no network.
//!
//! Invariants the rest of the cache relies on:
//! - `version` is the build epoch of the serving country database (0: none), and `generation`
//!   changes exactly when `version` does; memory entries resolved from the MMDB carry the
//!   generation they were resolved under, so a reload to another build makes all of them
//!   misses at once, without a sweep. A reload of the same build keeps the generation (and the
//!   cached answers). The generation never takes the value [`STALE`].
//! - A failed reload changes nothing that serves: the previous readers, version and generation
//!   stay (see `geo::mmdb` for what is validated).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::config::GeoipSettings;
use crate::domain::GeoInfo;
use crate::geo::key::{IpKey, KeyHasherBuilder};
use crate::geo::mmdb::{
    LoadedMmdb, MmdbError, MmdbKind, MmdbSlot, MmdbState, MmdbStatus, geo_info, network_text,
};
use crate::geo::model::ReloadFailure;
use crate::metrics::Metrics;

use super::memory::STALE;

/// Per-batch sharing of results: (network address, prefix length, ASN record offset or MAX).
pub type NetMemo = HashMap<(IpKey, u8, usize), Arc<GeoInfo>, KeyHasherBuilder>;

pub struct Databases {
    country: MmdbSlot,
    asn: MmdbSlot,
    /// Build epoch of the serving country database, 0 when none.
    version: AtomicU64,
    /// See the module documentation.
    generation: AtomicU32,
}

/// The readers serving one lookup or batch (taken once, so a reload mid-batch does not mix
/// builds within it).
pub struct Readers {
    pub country: Option<Arc<LoadedMmdb>>,
    pub asn: Option<Arc<LoadedMmdb>>,
}

impl Databases {
    /// Opens the configured files; a missing or broken one is logged and reported by its
    /// status, not fatal.
    pub fn open(settings: &GeoipSettings, metrics: &Metrics) -> Self {
        let country = MmdbSlot::open_kind(MmdbKind::Country, settings.db_path.as_deref());
        let asn = MmdbSlot::open_kind(MmdbKind::Asn, settings.asn_db_path.as_deref());
        for (slot, what) in [(&country, "country"), (&asn, "ASN")] {
            let status = slot.status();
            if let Some(err) = &status.error {
                tracing::error!(database = what, error = %err, "cannot open GeoIP database");
            } else if status.state != MmdbState::Loaded
                && let Some(path) = &status.path
            {
                tracing::warn!(database = what, path = %path, "GeoIP database file not found; lookups are degraded until it appears");
            }
        }
        let version = country.build_epoch().unwrap_or(0);
        metrics
            .geo_mmdb_build_epoch
            .set(i64::try_from(version).unwrap_or(i64::MAX));
        Self {
            country,
            asn,
            version: AtomicU64::new(version),
            generation: AtomicU32::new(STALE + 1),
        }
    }

    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::Acquire)
    }

    /// Build epoch of the serving country database, 0 when none.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Build epoch of the serving country database, if any.
    pub fn country_epoch(&self) -> Option<u64> {
        self.country.build_epoch()
    }

    pub fn readers(&self) -> Readers {
        Readers {
            country: self.country.current(),
            asn: self.asn.current(),
        }
    }

    pub fn country_status(&self) -> MmdbStatus {
        self.country.status()
    }

    pub fn asn_status(&self) -> MmdbStatus {
        self.asn.status()
    }

    /// Paths of the configured database files (for the watcher).
    pub fn paths(&self) -> Vec<PathBuf> {
        [self.country.path(), self.asn.path()]
            .into_iter()
            .flatten()
            .map(Path::to_path_buf)
            .collect()
    }

    /// Re-reads the configured file(s). A file that fails validation leaves the old reader
    /// serving; the error is logged, counted, kept in the slot's status and handed to
    /// `failed`. Returns the country database's state.
    pub fn reload(
        &self,
        metrics: &Metrics,
        failed: &dyn Fn(ReloadFailure),
    ) -> Result<MmdbStatus, MmdbError> {
        if self.asn.path().is_some() {
            match self.asn.reload() {
                Ok(status) => {
                    metrics.geo_mmdb_reload_success.inc();
                    log_reloaded(&status);
                }
                Err(e) => {
                    metrics.geo_mmdb_reload_failure.inc();
                    tracing::error!(error = %e.chain(), "GeoIP ASN database reload failed; keeping the old one");
                    failed(ReloadFailure {
                        database: "asn",
                        error: e.chain(),
                    });
                }
            }
        }
        if self.country.path().is_none() {
            return Err(MmdbError::NotConfigured);
        }
        match self.country.reload() {
            Ok(status) => {
                let version = status.build_epoch.unwrap_or(0);
                if self.version.swap(version, Ordering::AcqRel) != version {
                    // Skip STALE when the counter wraps.
                    let _ =
                        self.generation
                            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| {
                                Some(g.wrapping_add(1).max(STALE + 1))
                            });
                }
                metrics
                    .geo_mmdb_build_epoch
                    .set(i64::try_from(version).unwrap_or(i64::MAX));
                metrics.geo_mmdb_reload_success.inc();
                log_reloaded(&status);
                Ok(status)
            }
            Err(e) => {
                metrics.geo_mmdb_reload_failure.inc();
                tracing::error!(error = %e.chain(), "GeoIP database reload failed; keeping the old one");
                failed(ReloadFailure {
                    database: "country",
                    error: e.chain(),
                });
                Err(e)
            }
        }
    }
}

impl Readers {
    /// MMDB answer of a canonical IP (no memory, no metrics). With a `memo`, IPs of one network
    /// (and ASN record) share one `Arc<GeoInfo>`: the network text and the strings are built
    /// once per network.
    pub fn resolve(&self, ip: IpAddr, memo: Option<&mut NetMemo>) -> Option<Arc<GeoInfo>> {
        let db = self.country.as_deref()?;
        let (record, (addr, prefix)) = match db.lookup_country_network(ip) {
            Ok(found) => found?,
            Err(e) => {
                tracing::warn!(%ip, error = %e, "MMDB lookup failed");
                return None;
            }
        };
        let asn = self
            .asn
            .as_deref()
            .and_then(|a| a.lookup_asn_record(ip).ok().flatten());
        let build = || {
            Arc::new(geo_info(
                &record,
                network_text(addr, prefix),
                asn.as_ref().map(|(_, r)| r.as_ref()),
                db.build_epoch,
            ))
        };
        let Some(memo) = memo else {
            return Some(build());
        };
        let key = (
            IpKey::of(addr),
            prefix,
            asn.as_ref().map_or(usize::MAX, |(offset, _)| *offset),
        );
        Some(Arc::clone(memo.entry(key).or_insert_with(build)))
    }
}

fn log_reloaded(status: &MmdbStatus) {
    tracing::info!(
        path = status.path.as_deref().unwrap_or(""),
        database_type = status.database_type.as_deref().unwrap_or(""),
        build_epoch = status.build_epoch.unwrap_or(0),
        "GeoIP database reloaded"
    );
}
