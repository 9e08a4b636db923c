//! Writes real MMDB files of the GeoIP2-Country and GeoLite2-ASN shape with the `mmdb-writer`
//! crate, for tests, benchmarks and the demo. Include it elsewhere with
//! `#[path = "../tests/support/mmdb.rs"] mod mmdb;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use mmdb_writer::ipnet::IpNet;
use serde::Serialize;

#[derive(Serialize, Clone)]
struct Names {
    en: String,
}

#[derive(Serialize, Clone)]
struct WCountry {
    geoname_id: u32,
    iso_code: String,
    names: Names,
}

#[derive(Serialize, Clone)]
struct WContinent {
    code: String,
    geoname_id: u32,
    names: Names,
}

#[derive(Serialize, Clone)]
struct WCountryRecord {
    continent: WContinent,
    country: WCountry,
    registered_country: WCountry,
}

#[derive(Serialize)]
struct WAsn {
    autonomous_system_number: u32,
    autonomous_system_organization: String,
}

/// One country network.
#[derive(Clone, Debug)]
pub struct CountryNet {
    pub network: String,
    pub iso: String,
    pub name: String,
    pub continent: String,
    pub geoname_id: u32,
}

impl CountryNet {
    pub fn new(network: &str, iso: &str, name: &str, continent: &str, geoname_id: u32) -> Self {
        Self {
            network: network.into(),
            iso: iso.into(),
            name: name.into(),
            continent: continent.into(),
            geoname_id,
        }
    }
}

/// One ASN network.
#[derive(Clone, Debug)]
pub struct AsnNet {
    pub network: String,
    pub asn: u32,
    pub org: String,
}

fn continent_name(code: &str) -> &'static str {
    match code {
        "EU" => "Europe",
        "NA" => "North America",
        "SA" => "South America",
        "AS" => "Asia",
        "AF" => "Africa",
        "OC" => "Oceania",
        _ => "Antarctica",
    }
}

/// Serialises a GeoIP2-Country database with the given build epoch (seconds).
pub fn country_bytes(nets: &[CountryNet], build_epoch: u64) -> Vec<u8> {
    let mut w = mmdb_writer::Writer::builder("GeoIP2-Country")
        .description(&[("en", "BanGUI test country database")])
        .build_epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(build_epoch))
        .build();
    for n in nets {
        let country = WCountry {
            geoname_id: n.geoname_id,
            iso_code: n.iso.clone(),
            names: Names { en: n.name.clone() },
        };
        let record = WCountryRecord {
            continent: WContinent {
                code: n.continent.clone(),
                geoname_id: 6_255_148,
                names: Names {
                    en: continent_name(&n.continent).into(),
                },
            },
            registered_country: country.clone(),
            country,
        };
        let net: IpNet = n.network.parse().expect("valid network");
        w.insert(net, &record).expect("insert network");
    }
    w.to_bytes().expect("serialise mmdb")
}

/// Serialises a GeoLite2-ASN database.
pub fn asn_bytes(nets: &[AsnNet], build_epoch: u64) -> Vec<u8> {
    let mut w = mmdb_writer::Writer::builder("GeoLite2-ASN")
        .build_epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(build_epoch))
        .build();
    for n in nets {
        let net: IpNet = n.network.parse().expect("valid network");
        w.insert(
            net,
            &WAsn {
                autonomous_system_number: n.asn,
                autonomous_system_organization: n.org.clone(),
            },
        )
        .expect("insert network");
    }
    w.to_bytes().expect("serialise mmdb")
}

/// Writes `bytes` to `path` atomically (temp file in the same directory, then rename), the way
/// geoipupdate replaces a database.
pub fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("mmdb.tmp");
    std::fs::write(&tmp, bytes).expect("write temp mmdb");
    std::fs::rename(&tmp, path).expect("rename mmdb into place");
}

/// A small world for tests and the demo: documentation ranges plus one /8 in many countries.
pub fn demo_countries() -> Vec<CountryNet> {
    let rows: &[(&str, &str, &str, &str, u32)] = &[
        ("203.0.113.0/24", "DE", "Germany", "EU", 2_921_044),
        ("198.51.100.0/24", "US", "United States", "NA", 6_252_001),
        ("192.0.2.0/24", "GB", "United Kingdom", "EU", 2_635_167),
        ("2001:db8:abcd::/48", "FR", "France", "EU", 3_017_382),
        ("2001:db8:beef::/48", "JP", "Japan", "AS", 1_861_060),
        ("1.0.0.0/8", "AU", "Australia", "OC", 2_077_456),
        ("5.0.0.0/8", "DE", "Germany", "EU", 2_921_044),
        ("14.0.0.0/8", "CN", "China", "AS", 1_814_991),
        ("31.0.0.0/8", "RU", "Russia", "EU", 2_017_370),
        ("41.0.0.0/8", "ZA", "South Africa", "AF", 953_987),
        ("45.0.0.0/8", "US", "United States", "NA", 6_252_001),
        ("49.0.0.0/8", "IN", "India", "AS", 1_269_750),
        ("58.0.0.0/8", "JP", "Japan", "AS", 1_861_060),
        ("77.0.0.0/8", "FR", "France", "EU", 3_017_382),
        ("79.0.0.0/8", "IT", "Italy", "EU", 3_175_395),
        ("81.0.0.0/8", "GB", "United Kingdom", "EU", 2_635_167),
        ("85.0.0.0/8", "NL", "Netherlands", "EU", 2_750_405),
        ("91.0.0.0/8", "UA", "Ukraine", "EU", 690_791),
        ("95.0.0.0/8", "ES", "Spain", "EU", 2_510_769),
        ("103.0.0.0/8", "VN", "Vietnam", "AS", 1_562_822),
        ("110.0.0.0/8", "KR", "South Korea", "AS", 1_835_841),
        ("177.0.0.0/8", "BR", "Brazil", "SA", 3_469_034),
        ("186.0.0.0/8", "AR", "Argentina", "SA", 3_865_483),
        ("189.0.0.0/8", "MX", "Mexico", "NA", 3_996_063),
        ("196.0.0.0/8", "NG", "Nigeria", "AF", 2_328_926),
        ("200.0.0.0/8", "CL", "Chile", "SA", 3_895_114),
    ];
    rows.iter()
        .map(|(n, iso, name, cont, id)| CountryNet::new(n, iso, name, cont, *id))
        .collect()
}

/// ASN networks matching [`demo_countries`] (documentation ASNs 64496–64511 and private ones).
pub fn demo_asns() -> Vec<AsnNet> {
    demo_countries()
        .iter()
        .enumerate()
        .map(|(i, c)| AsnNet {
            network: c.network.clone(),
            asn: 64_496 + (i as u32 % 16),
            org: format!("Example {} Hosting {}", c.iso, i + 1),
        })
        .collect()
}

/// Convenience: the country names of [`demo_countries`] by ISO code.
pub fn demo_country_names() -> BTreeMap<String, String> {
    demo_countries()
        .into_iter()
        .map(|c| (c.iso, c.name))
        .collect()
}
