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

/// Overwrites `path` in place the way `cp new.mmdb GeoLite2-Country.mmdb` does: the same inode
/// is truncated, then written `chunk` bytes at a time. `between` runs after the truncation and
/// after each chunk with the number of bytes written so far (a slow copy, observed mid-way).
pub fn overwrite_in_place_slowly(
    path: &Path,
    bytes: &[u8],
    chunk: usize,
    mut between: impl FnMut(usize),
) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .expect("open the mmdb in place");
    between(0);
    let mut written = 0;
    for part in bytes.chunks(chunk.max(1)) {
        file.write_all(part).expect("write a chunk in place");
        file.flush().expect("flush");
        written += part.len();
        between(written);
    }
}

/// `count` /24 networks from `16.0.0.0` on, all in one country but each with its own record
/// (its own `geoname_id`, so the writer cannot merge them): a file of many pages.
pub fn many_networks(count: u32, iso: &str, name: &str) -> Vec<CountryNet> {
    (0..count)
        .map(|i| {
            let network = format!("16.{}.{}.0/24", (i >> 8) & 0xff, i & 0xff);
            CountryNet::new(&network, iso, name, "EU", 1_000 + i)
        })
        .collect()
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
        // Small countries the 110m world atlas of the dashboard has no shape for.
        ("37.0.0.0/8", "BH", "Bahrain", "AS", 290_291),
        ("42.0.0.0/8", "SG", "Singapore", "AS", 1_880_251),
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

/// Networks of [`synthetic_country_bytes`]: `v4` IPv4 /24s spread evenly over 1.0.0.0–
/// 223.255.255.255 and `v6` IPv6 /48s under 2a00::/12, cycling through 250 countries.
pub struct Synthetic {
    pub v4: u32,
    pub v6: u32,
}

impl Synthetic {
    /// About the size of GeoLite2-Country: ~500,000 networks.
    pub fn geolite2_country_sized() -> Self {
        Self {
            v4: 420_000,
            v6: 80_000,
        }
    }

    fn v4_stride(&self) -> u32 {
        (223u32 << 16) / self.v4.max(1)
    }

    /// The `i`-th IPv4 network's base address.
    pub fn v4_network(&self, i: u32) -> std::net::Ipv4Addr {
        std::net::Ipv4Addr::from((1u32 << 24) + i * self.v4_stride() * 256)
    }

    /// The `i`-th IPv6 network's base address.
    pub fn v6_network(&self, i: u32) -> std::net::Ipv6Addr {
        let hi = 0x2a00_0000_0000_0000_0000_0000_0000_0000u128;
        std::net::Ipv6Addr::from(hi + ((i as u128) << 80))
    }

    /// `count` distinct IPs that are all inside the database (every 6th is IPv6), spread
    /// over the networks in a scrambled order.
    pub fn sample_ips(&self, count: usize) -> Vec<std::net::IpAddr> {
        (0..count as u64)
            .map(|n| {
                if n % 6 == 5 {
                    let net = ((n * 7919) % self.v6 as u64) as u32;
                    std::net::IpAddr::V6(std::net::Ipv6Addr::from(
                        u128::from(self.v6_network(net)) + n as u128 + 1,
                    ))
                } else {
                    let net = ((n * 7919) % self.v4 as u64) as u32;
                    let host = 1 + ((n / self.v4 as u64) % 254) as u32;
                    std::net::IpAddr::V4(std::net::Ipv4Addr::from(
                        u32::from(self.v4_network(net)) + host,
                    ))
                }
            })
            .collect()
    }
}

/// A synthetic GeoIP2-Country database with the networks of `shape`.
pub fn synthetic_country_bytes(shape: &Synthetic, build_epoch: u64) -> Vec<u8> {
    let countries = synthetic_countries();
    let mut w = mmdb_writer::Writer::builder("GeoIP2-Country")
        .description(&[("en", "BanGUI synthetic country database")])
        .build_epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(build_epoch))
        .build();
    let records: Vec<WCountryRecord> = countries.iter().map(record_of).collect();
    for i in 0..shape.v4 {
        let net = IpNet::new(std::net::IpAddr::V4(shape.v4_network(i)), 24).expect("valid /24");
        w.insert(net, &records[i as usize % records.len()])
            .expect("insert v4 network");
    }
    for i in 0..shape.v6 {
        let net = IpNet::new(std::net::IpAddr::V6(shape.v6_network(i)), 48).expect("valid /48");
        w.insert(net, &records[(i as usize * 7) % records.len()])
            .expect("insert v6 network");
    }
    w.to_bytes().expect("serialise mmdb")
}

fn record_of(n: &CountryNet) -> WCountryRecord {
    let country = WCountry {
        geoname_id: n.geoname_id,
        iso_code: n.iso.clone(),
        names: Names { en: n.name.clone() },
    };
    WCountryRecord {
        continent: WContinent {
            code: n.continent.clone(),
            geoname_id: 6_255_148,
            names: Names {
                en: continent_name(&n.continent).into(),
            },
        },
        registered_country: country.clone(),
        country,
    }
}

/// 250 made-up countries with two-letter codes.
fn synthetic_countries() -> Vec<CountryNet> {
    let continents = ["EU", "NA", "SA", "AS", "AF", "OC"];
    (0..250u32)
        .map(|i| {
            let a = (b'A' + (i / 26) as u8) as char;
            let b = (b'A' + (i % 26) as u8) as char;
            CountryNet::new(
                "0.0.0.0/0",
                &format!("{a}{b}"),
                &format!("Country {a}{b}"),
                continents[i as usize % continents.len()],
                1_000_000 + i,
            )
        })
        .collect()
}
