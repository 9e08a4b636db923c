//! The local MaxMind databases (country and the optional ASN one), each read whole into memory
//! and held behind an atomic pointer (`arc-swap`). A replacement is read, validated and only
//! then swapped in, so a lookup never sees "no database", an old reader stays alive until its
//! last lookup drops it, and nothing that happens to the file on disk (an in-place overwrite, a
//! truncation, a slow copy, a deletion) can reach a serving reader: a file that fails
//! validation leaves the previous one serving and is reported, with its time, by
//! [`MmdbSlot::status`]. This module decodes records into [`GeoInfo`] parts; it does not cache
//! per IP, persist, log metrics or talk HTTP.
//!
//! Over 500 lines on purpose: loading, validating and swapping a database file is one job, and
//! its failure cases (missing, half-written, wrong type, no build epoch, failing probe) are the
//! bulk of it; splitting them would scatter the one rule "never serve an unvalidated file".

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use dashmap::DashMap;
use maxminddb::{Reader, geoip2};
use serde::{Deserialize, Serialize};

use super::key::KeyHasherBuilder;
use crate::domain::{GeoInfo, GeoSource};

/// Whether a database is serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MmdbState {
    /// A database is serving (a later file may have been refused: see `MmdbStatus::error`).
    Loaded,
    /// Nothing is serving and the file is not there (yet).
    Absent,
    /// Nothing is serving and the file is there but was refused.
    Error,
}

/// What health and stats report about the database.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MmdbStatus {
    pub state: MmdbState,
    pub path: Option<String>,
    pub database_type: Option<String>,
    pub build_epoch: Option<u64>,
    /// Why the last (re)load failed, with its causes; cleared by the next successful one. With
    /// `state: loaded` it means the previous database is still serving.
    pub error: Option<String>,
    /// When that failure happened (RFC 3339 UTC).
    pub error_at: Option<String>,
}

/// Which shape of database a slot accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmdbKind {
    /// GeoIP2/GeoLite2 Country (or City, which is a superset).
    Country,
    /// GeoLite2-ASN.
    Asn,
}

impl MmdbKind {
    fn accepts(self, database_type: &str) -> bool {
        match self {
            MmdbKind::Country => {
                database_type.contains("Country") || database_type.contains("City")
            }
            MmdbKind::Asn => database_type.contains("ASN"),
        }
    }
}

/// The country part of a record, decoded once per distinct data record.
#[derive(Debug, Clone, PartialEq)]
pub struct CountryRecord {
    pub country_code: Option<String>,
    pub country_name: Option<String>,
    pub geoname_id: Option<u32>,
    pub continent: Option<String>,
}

/// The ASN part of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct AsnRecord {
    pub asn: Option<u32>,
    pub org: Option<String>,
}

/// Distinct data records remembered per reader; a GeoLite2-Country file has a few hundred,
/// an ASN file ~100,000, so the bound only matters for the latter.
const RECORD_CACHE_LIMIT: usize = 131_072;

/// A network as its (masked) address and prefix length.
pub type Network = (IpAddr, u8);

/// A loaded database and where it came from.
pub struct LoadedMmdb {
    pub reader: Reader<Vec<u8>>,
    pub path: PathBuf,
    pub database_type: String,
    pub build_epoch: u64,
    countries: DashMap<usize, Arc<CountryRecord>, KeyHasherBuilder>,
    asns: DashMap<usize, Arc<AsnRecord>, KeyHasherBuilder>,
}

impl LoadedMmdb {
    /// Country lookup with full decode of the record (no record memo). Returns the record and
    /// the network the database answered with; `Ok(None)` when the IP is not in the file.
    pub fn lookup_country_decoded(
        &self,
        ip: IpAddr,
    ) -> Result<Option<(CountryRecord, String)>, maxminddb::MaxMindDbError> {
        let res = self.reader.lookup(ip)?;
        let Some(rec) = res.decode::<SlimCountry<'_>>()? else {
            return Ok(None);
        };
        let record = rec.to_record();
        let network = res.network()?;
        Ok(Some((record, network_text(network.ip(), network.prefix()))))
    }

    /// Country lookup that walks the trie and decodes each distinct data record only once per
    /// reader: other IPs of a network (and other networks sharing the record) reuse it.
    pub fn lookup_country(
        &self,
        ip: IpAddr,
    ) -> Result<Option<(Arc<CountryRecord>, String)>, maxminddb::MaxMindDbError> {
        Ok(self
            .lookup_country_network(ip)?
            .map(|(record, (addr, prefix))| (record, network_text(addr, prefix))))
    }

    /// [`Self::lookup_country`] with the network as address and prefix length, so callers
    /// can key by network before paying for its text.
    pub fn lookup_country_network(
        &self,
        ip: IpAddr,
    ) -> Result<Option<(Arc<CountryRecord>, Network)>, maxminddb::MaxMindDbError> {
        let res = self.reader.lookup(ip)?;
        let Some(offset) = res.offset() else {
            return Ok(None);
        };
        let network = res.network()?;
        let network = (network.ip(), network.prefix());
        if let Some(hit) = self.countries.get(&offset) {
            return Ok(Some((Arc::clone(hit.value()), network)));
        }
        let Some(rec) = res.decode::<SlimCountry<'_>>()? else {
            return Ok(None);
        };
        let record = Arc::new(rec.to_record());
        if self.countries.len() < RECORD_CACHE_LIMIT {
            self.countries.insert(offset, Arc::clone(&record));
        }
        Ok(Some((record, network)))
    }

    /// ASN lookup (GeoLite2-ASN shape), memoised per data record like [`Self::lookup_country`].
    pub fn lookup_asn(
        &self,
        ip: IpAddr,
    ) -> Result<Option<Arc<AsnRecord>>, maxminddb::MaxMindDbError> {
        Ok(self.lookup_asn_record(ip)?.map(|(_, record)| record))
    }

    /// [`Self::lookup_asn`] with the record's data offset, which identifies the record within
    /// this reader.
    pub fn lookup_asn_record(
        &self,
        ip: IpAddr,
    ) -> Result<Option<(usize, Arc<AsnRecord>)>, maxminddb::MaxMindDbError> {
        let res = self.reader.lookup(ip)?;
        let Some(offset) = res.offset() else {
            return Ok(None);
        };
        if let Some(hit) = self.asns.get(&offset) {
            return Ok(Some((offset, Arc::clone(hit.value()))));
        }
        let Some(rec) = res.decode::<geoip2::Asn>()? else {
            return Ok(None);
        };
        let record = Arc::new(AsnRecord {
            asn: rec.autonomous_system_number,
            org: rec.autonomous_system_organization.map(str::to_string),
        });
        if self.asns.len() < RECORD_CACHE_LIMIT {
            self.asns.insert(offset, Arc::clone(&record));
        }
        Ok(Some((offset, record)))
    }
}

/// `203.0.113.0/24`: IPv4 networks are written digit by digit (the common case, without the
/// formatting machinery); IPv6 ones through `Display`, which applies the `::` compression.
pub fn network_text(addr: IpAddr, prefix: u8) -> String {
    fn push_decimal(out: &mut String, v: u8) {
        if v >= 100 {
            out.push(char::from(b'0' + v / 100));
        }
        if v >= 10 {
            out.push(char::from(b'0' + (v / 10) % 10));
        }
        out.push(char::from(b'0' + v % 10));
    }
    match addr {
        IpAddr::V4(v4) => {
            let mut out = String::with_capacity(18);
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(&mut out, octet);
            }
            out.push('/');
            push_decimal(&mut out, prefix);
            out
        }
        IpAddr::V6(v6) => format!("{v6}/{prefix}"),
    }
}

/// The parts of a GeoIP2 Country/City record that [`CountryRecord`] needs, borrowed from the
/// file's bytes. Every other field (other locales, traits, represented country, City parts) is
/// skipped by the decoder without being expanded.
#[derive(Deserialize, Default)]
struct SlimCountry<'a> {
    #[serde(borrow, default)]
    continent: SlimContinent<'a>,
    #[serde(borrow, default)]
    country: SlimPlace<'a>,
    #[serde(borrow, default)]
    registered_country: SlimPlace<'a>,
}

#[derive(Deserialize, Default)]
struct SlimContinent<'a> {
    #[serde(borrow, default)]
    code: Option<&'a str>,
}

#[derive(Deserialize, Default)]
struct SlimPlace<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
    #[serde(default)]
    geoname_id: Option<u32>,
    #[serde(borrow, default)]
    names: SlimNames<'a>,
}

#[derive(Deserialize, Default)]
struct SlimNames<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

impl SlimCountry<'_> {
    fn to_record(&self) -> CountryRecord {
        // Fall back to the registered country when the database has no located country.
        let country = if self.country.iso_code.is_some() {
            &self.country
        } else {
            &self.registered_country
        };
        CountryRecord {
            country_code: country.iso_code.map(str::to_string),
            country_name: country.names.en.map(str::to_string),
            geoname_id: country.geoname_id,
            continent: self.continent.code.map(str::to_string),
        }
    }
}

/// Builds the [`GeoInfo`] of an MMDB answer.
pub fn geo_info(
    country: &CountryRecord,
    network: String,
    asn: Option<&AsnRecord>,
    db_version: u64,
) -> GeoInfo {
    GeoInfo {
        country_code: country.country_code.clone(),
        country_name: country.country_name.clone(),
        geoname_id: country.geoname_id,
        continent: country.continent.clone(),
        asn: asn.and_then(|a| a.asn),
        org: asn.and_then(|a| a.org.clone()),
        network: Some(network),
        source: GeoSource::Mmdb,
        db_version: Some(db_version),
    }
}

/// Why a database file was not (re)loaded. The previous database, if any, keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum MmdbError {
    #[error("no database path is configured")]
    NotConfigured,
    #[error("{} does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} changed while it was being read (still being written?)", path.display())]
    Changing { path: PathBuf },
    #[error("{} is not a valid MaxMind database", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: maxminddb::MaxMindDbError,
    },
    #[error("{} has unusable metadata", path.display())]
    Metadata {
        path: PathBuf,
        #[source]
        problem: MetadataProblem,
    },
    #[error("{}: database type {database_type:?} is not a {kind:?} database", path.display())]
    WrongType {
        path: PathBuf,
        database_type: String,
        kind: MmdbKind,
    },
    #[error("{}: probe lookup of {probe} failed", path.display())]
    Probe {
        path: PathBuf,
        probe: IpAddr,
        #[source]
        source: maxminddb::MaxMindDbError,
    },
}

impl MmdbError {
    /// The message with its causes, `outer: cause: cause`, as health and the logs show it.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        text
    }
}

/// What is wrong with the metadata of a file that otherwise parses.
#[derive(Debug, thiserror::Error)]
pub enum MetadataProblem {
    #[error("the database has no search tree")]
    NoSearchTree,
    #[error("the database has no build epoch")]
    NoBuildEpoch,
    #[error("IP version {0} is neither 4 nor 6")]
    IpVersion(u16),
}

/// The last failed (re)load: what went wrong and when (Unix seconds).
#[derive(Debug, Clone)]
struct LoadFailure {
    message: String,
    at: i64,
    /// The file was not there: with nothing serving, the state is `absent`, not `error`.
    missing: bool,
}

/// The swappable slot of one database file.
pub struct MmdbSlot {
    kind: MmdbKind,
    path: Option<PathBuf>,
    current: ArcSwapOption<LoadedMmdb>,
    last_error: ArcSwapOption<LoadFailure>,
}

impl MmdbSlot {
    /// A slot for `path`, opened at once if the file is there; a missing or broken file is
    /// reported through [`Self::status`], not fatal. A file that is not there yet is not an
    /// error (state `absent`): the watcher loads it when it appears.
    pub fn open(path: Option<&Path>) -> Self {
        Self::open_kind(MmdbKind::Country, path)
    }

    pub fn open_kind(kind: MmdbKind, path: Option<&Path>) -> Self {
        let slot = Self {
            kind,
            path: path.map(Path::to_path_buf),
            current: ArcSwapOption::empty(),
            last_error: ArcSwapOption::empty(),
        };
        if path.is_some_and(Path::exists) {
            let _ = slot.reload();
        }
        slot
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn current(&self) -> Option<Arc<LoadedMmdb>> {
        self.current.load_full()
    }

    /// Build epoch of the serving database, if any.
    pub fn build_epoch(&self) -> Option<u64> {
        self.current.load().as_ref().map(|db| db.build_epoch)
    }

    /// Reads the configured file into memory, validates it, then swaps it in. On any failure
    /// (missing, unreadable, half-written, garbage, wrong type) the previous database keeps
    /// serving and the error with its time is kept for [`Self::status`] until a reload
    /// succeeds.
    pub fn reload(&self) -> Result<MmdbStatus, MmdbError> {
        // No configured path is a setting, not a failed load: nothing is recorded.
        let Some(path) = self.path.as_deref() else {
            return Err(MmdbError::NotConfigured);
        };
        match open_validated(self.kind, path) {
            Ok(loaded) => {
                self.current.store(Some(Arc::new(loaded)));
                self.last_error.store(None);
                Ok(self.status())
            }
            Err(e) => {
                self.last_error.store(Some(Arc::new(LoadFailure {
                    message: e.chain(),
                    at: crate::db::now_epoch(),
                    missing: matches!(e, MmdbError::Missing { .. }),
                })));
                Err(e)
            }
        }
    }

    pub fn status(&self) -> MmdbStatus {
        let failure = self.last_error.load_full();
        let error = failure.as_ref().map(|f| f.message.clone());
        let error_at = failure.as_ref().map(|f| crate::domain::time::rfc3339(f.at));
        let broken = failure.as_ref().is_some_and(|f| !f.missing);
        match self.current() {
            Some(db) => MmdbStatus {
                state: MmdbState::Loaded,
                path: Some(db.path.display().to_string()),
                database_type: Some(db.database_type.clone()),
                build_epoch: Some(db.build_epoch),
                error,
                error_at,
            },
            None => MmdbStatus {
                state: if broken {
                    MmdbState::Error
                } else {
                    MmdbState::Absent
                },
                path: self.path.as_ref().map(|p| p.display().to_string()),
                database_type: None,
                build_epoch: None,
                error,
                error_at,
            },
        }
    }
}

/// Reads `path` whole into memory and checks it: the bytes read match the file's size before
/// and after the read (a file being written is refused), the metadata is sane (database type of
/// `kind`, a search tree, a build epoch, IP version 4 or 6), and probe lookups answer.
///
/// The database is never memory-mapped: a mapping of a file that someone rewrites in place
/// (`cp new.mmdb GeoLite2-Country.mmdb`) faults with SIGBUS once the file is truncated under
/// it. The copy in memory costs the file's size (about 10 MB for GeoLite2-Country) and is
/// immune to whatever happens to the file afterwards.
pub fn open_validated(kind: MmdbKind, path: &Path) -> Result<LoadedMmdb, MmdbError> {
    let owned = || path.to_path_buf();
    let bytes = read_stable(path)?;
    let reader = Reader::from_source(bytes).map_err(|source| MmdbError::Invalid {
        path: owned(),
        source,
    })?;
    let meta = reader.metadata();
    let database_type = meta.database_type.clone();
    if !kind.accepts(&database_type) {
        return Err(MmdbError::WrongType {
            path: owned(),
            database_type,
            kind,
        });
    }
    let problem = if meta.node_count == 0 {
        Some(MetadataProblem::NoSearchTree)
    } else if meta.build_epoch == 0 {
        Some(MetadataProblem::NoBuildEpoch)
    } else if meta.ip_version != 4 && meta.ip_version != 6 {
        Some(MetadataProblem::IpVersion(meta.ip_version))
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(MmdbError::Metadata {
            path: owned(),
            problem,
        });
    }
    let build_epoch = meta.build_epoch;
    let mut probes = vec![IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1))];
    if meta.ip_version == 6 {
        probes.push(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0x4860, 0, 0, 0, 0, 0, 0x8888,
        )));
    }
    for probe in probes {
        let failed = |source| MmdbError::Probe {
            path: owned(),
            probe,
            source,
        };
        let res = reader.lookup(probe).map_err(failed)?;
        match kind {
            MmdbKind::Country => res.decode::<geoip2::Country>().map(|_| ()),
            MmdbKind::Asn => res.decode::<geoip2::Asn>().map(|_| ()),
        }
        .map_err(failed)?;
        if res.has_data() {
            res.network().map_err(failed)?;
        }
    }
    Ok(LoadedMmdb {
        reader,
        path: owned(),
        database_type,
        build_epoch,
        countries: DashMap::with_hasher(KeyHasherBuilder::new()),
        asns: DashMap::with_hasher(KeyHasherBuilder::new()),
    })
}

/// The whole file, refused when its size changes while it is read (someone is writing it).
fn read_stable(path: &Path) -> Result<Vec<u8>, MmdbError> {
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            MmdbError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            MmdbError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let before = file.metadata().map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(before.len()).unwrap_or(0));
    file.read_to_end(&mut bytes).map_err(io)?;
    let after = file.metadata().map_err(io)?;
    let stable = before.len() == after.len()
        && u64::try_from(bytes.len()).is_ok_and(|n| n == after.len())
        && before.modified().ok() == after.modified().ok();
    if !stable {
        return Err(MmdbError::Changing {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::network_text;

    #[test]
    fn network_text_matches_the_standard_notation() {
        for (addr, prefix) in [
            ("0.0.0.0", 0u8),
            ("1.2.3.0", 24),
            ("10.20.0.0", 16),
            ("203.0.113.128", 25),
            ("255.255.255.255", 32),
            ("2001:db8:abcd::", 48),
            ("::", 0),
        ] {
            let ip: std::net::IpAddr = addr.parse().expect("ip");
            assert_eq!(network_text(ip, prefix), format!("{ip}/{prefix}"));
        }
    }
}
