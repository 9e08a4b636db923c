//! Benchmark helper: how much the history indexes of migration 0005 cost the archive's write
//! path. Inserts the same random ban rows (chunks of 5,000, as the history sync writes them)
//! into two fresh BanGUI databases — one with every migration applied, one with the 0005
//! indexes dropped again — and prints rows per second for both. Writes only in a temp dir.
//!
//! ```text
//! cargo run --release --example archive_write_timing -- [ROWS (default 300000)]
//! ```

#[path = "support/archive_rows.rs"]
mod archive_rows;

use std::time::Instant;

use bangui::db::{self, history};

const INDEXES_0005: [&str; 5] = [
    "history_jail_time",
    "history_asn_time",
    "history_lifted_time",
    "history_end",
    "history_permanent",
];

fn rows(n: usize, now: i64) -> Vec<history::NewHistory> {
    archive_rows::rows(
        n,
        now,
        &archive_rows::Spec {
            seed: 5,
            days: 365,
            asns: 50,
            matches: Some(r#"["Nov 29 10:00:00 host sshd[1]: Failed password"]"#),
        },
    )
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
