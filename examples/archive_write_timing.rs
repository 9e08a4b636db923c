//! Benchmark helper: how much the history indexes of migration 0005 cost the archive's write
//! path. Inserts the same random ban rows (chunks of 5,000, as the history sync writes them)
//! into two fresh BanGUI databases — one with every migration applied, one with the 0005
//! indexes dropped again — and prints rows per second for both. Writes only in a temp dir.
//!
//! ```text
//! cargo run --release --example archive_write_timing -- [ROWS (default 300000)]
//! ```

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use bangui::db::{self, history};
use bangui::domain::{GeoSource, Origin};

const INDEXES_0005: [&str; 5] = [
    "history_jail_time",
    "history_asn_time",
    "history_lifted_time",
    "history_end",
    "history_permanent",
];

fn rows(n: usize, now: i64) -> Vec<history::NewHistory> {
    let mut rng = StdRng::seed_from_u64(5);
    let jails = ["sshd", "bangui-app", "blocklist-import"];
    (0..n)
        .map(|i| {
            let jail = jails[rng.random_range(0..3)];
            history::NewHistory {
                host: "local".into(),
                jail: jail.into(),
                ip: format!(
                    "{}.{}.{}.{}",
                    rng.random_range(1..224),
                    rng.random_range(0..256),
                    rng.random_range(0..256),
                    rng.random_range(1..255)
                ),
                // Oldest first, as the sync reads them.
                timeofban: now - 365 * 86_400 + (i as i64) * 365 * 86_400 / n as i64,
                bantime: 600,
                bancount: 1,
                failures: Some(5),
                matches: Some(r#"["Nov 29 10:00:00 host sshd[1]: Failed password"]"#.into()),
                origin: if jail == "blocklist-import" {
                    Origin::Blocklist
                } else {
                    Origin::Selfblock
                },
                geo: history::RowGeo {
                    country_code: Some("DE".into()),
                    asn: Some(64496 + rng.random_range(0..50)),
                    source: Some(GeoSource::Mmdb),
                    build: Some(1),
                },
            }
        })
        .collect()
}

async fn run(n: usize, drop_0005: bool) -> Result<f64, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let pool = db::connect(
        &dir.path().join("bangui.db"),
        std::time::Duration::from_secs(5),
    )
    .await?;
    if drop_0005 {
        for name in INDEXES_0005 {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
                .execute(&pool)
                .await?;
        }
    }
    let now = db::now_epoch();
    let data = rows(n, now);
    let started = Instant::now();
    for chunk in data.chunks(5_000) {
        history::insert_batch(&pool, chunk, now).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    pool.close().await;
    Ok(n as f64 / secs)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300_000);
    let without = run(n, true).await?;
    let with = run(n, false).await?;
    println!(
        "archive writes of {n} rows in 5,000-row batches: {without:.0} rows/s without the 0005 indexes, {with:.0} rows/s with them ({:+.1} %)",
        (with / without - 1.0) * 100.0
    );
    Ok(())
}
