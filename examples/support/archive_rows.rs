//! Synthetic archive rows for the examples that time the archive (`archive_write_timing`,
//! `top_offenders_memory`): `n` bans spread evenly over `days`, oldest first as the sync reads
//! them, random public-looking IPv4 addresses, three jails, one country and `asns` ASNs.
//! Deterministic for a given `seed`. Shared by `#[path]` because examples cannot share a
//! module otherwise.

use bangui::db::history::{NewHistory, RowGeo};
use bangui::domain::{GeoSource, Origin};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What varies between the examples.
pub struct Spec {
    pub seed: u64,
    pub days: i64,
    pub asns: u32,
    /// The matched lines stored on every row (a JSON array), if any.
    pub matches: Option<&'static str>,
}

pub fn rows(n: usize, now: i64, spec: &Spec) -> Vec<NewHistory> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let jails = ["sshd", "bangui-app", "blocklist-import"];
    let span = spec.days * 86_400;
    (0..n)
        .map(|i| {
            let jail = jails[rng.random_range(0..jails.len())];
            NewHistory {
                host: "local".into(),
                jail: jail.into(),
                ip: format!(
                    "{}.{}.{}.{}",
                    rng.random_range(1..224),
                    rng.random_range(0..256),
                    rng.random_range(0..256),
                    rng.random_range(1..255)
                ),
                timeofban: now - span + (i as i64) * span / n as i64,
                bantime: 600,
                bancount: 1,
                failures: Some(5),
                matches: spec.matches.map(str::to_string),
                origin: Origin::of_jail(jail),
                geo: RowGeo {
                    country_code: Some("DE".into()),
                    asn: Some(64496 + rng.random_range(0..spec.asns)),
                    source: Some(GeoSource::Mmdb),
                    build: Some(1),
                },
            }
        })
        .collect()
}
