//! Benchmark helper: how much memory the `history_top` job's recomputation takes. Seeds ROWS
//! random bans (almost every one a different IP: the worst case for per-IP counting) over a
//! year into a fresh BanGUI database in a temp dir, then reports the process's peak RSS
//! (VmHWM) growth over one `TopOffenders::refresh`, and, for comparison, over the grouped
//! `fetch_all` the job used before (every (ip, jail) group of the year held at once).
//!
//! ```text
//! cargo run --example top_offenders_memory -- [ROWS (default 300000)]
//! ```

#[path = "support/archive_rows.rs"]
mod archive_rows;

use bangui::db::{self, history};
use bangui::services::rollups::RollupStore;
use bangui::services::top_offenders::TopOffenders;

/// One (ip, jail) group of the former query.
type Group = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
    i64,
);

fn kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak (VmHWM) to the current RSS, so each step shows its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn rows(n: usize, now: i64) -> Vec<history::NewHistory> {
    archive_rows::rows(
        n,
        now,
        &archive_rows::Spec {
            seed: 7,
            days: 364,
            asns: 500,
            matches: None,
        },
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300_000);
    let dir = tempfile::tempdir()?;
    let pool = db::connect(
        &dir.path().join("bangui.db"),
        std::time::Duration::from_secs(5),
    )
    .await?;
    let now = db::now_epoch();
    {
        let data = rows(n, now);
        for chunk in data.chunks(5_000) {
            history::insert_batch(&pool, chunk, now).await?;
        }
    }
    let rollups = RollupStore::load(&pool).await?;
    let top = TopOffenders::new(pool.clone(), rollups);

    reset_peak();
    let before = kib("VmHWM:");
    let started = std::time::Instant::now();
    top.refresh().await?;
    let streamed = kib("VmHWM:");
    println!(
        "{n} rows: refresh (streamed) {:.1} s, peak RSS {} MB -> {} MB (+{} MB)",
        started.elapsed().as_secs_f64(),
        before / 1024,
        streamed / 1024,
        streamed.saturating_sub(before) / 1024
    );

    reset_peak();
    let base = kib("VmHWM:");
    let started = std::time::Instant::now();
    let since = now - 365 * 86_400;
    let grouped: Vec<Group> = sqlx::query_as(
        "SELECT ip, jail, origin, MAX(country_code), MAX(asn), COUNT(*), MAX(timeofban) \
             FROM history INDEXED BY history_time WHERE timeofban >= ?1 GROUP BY ip, jail",
    )
    .bind(since)
    .fetch_all(&pool)
    .await?;
    let held = kib("VmHWM:");
    println!(
        "{n} rows: the former grouped fetch_all alone ({} groups) {:.1} s, peak RSS {} MB -> {} MB (+{} MB)",
        grouped.len(),
        started.elapsed().as_secs_f64(),
        base / 1024,
        held / 1024,
        held.saturating_sub(base) / 1024
    );
    pool.close().await;
    Ok(())
}
