//! Writes the demo GeoIP databases: `cargo run --example demo_mmdb -- OUT_DIR` creates
//! `OUT_DIR/demo-country.mmdb` and `OUT_DIR/demo-asn.mmdb` (synthetic data, not real
//! geolocation) for `scripts/demo` and the end-to-end tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/it/support/mmdb.rs"]
mod mmdb;

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "data".into());
    let dir = std::path::Path::new(&out);
    std::fs::create_dir_all(dir).expect("create output directory");
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    mmdb::write_atomically(
        &dir.join("demo-country.mmdb"),
        &mmdb::country_bytes(&mmdb::demo_countries(), epoch),
    );
    mmdb::write_atomically(
        &dir.join("demo-asn.mmdb"),
        &mmdb::asn_bytes(&mmdb::demo_asns(), epoch),
    );
    println!("{}", dir.join("demo-country.mmdb").display());
}
