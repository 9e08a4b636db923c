//! Benchmark helper (issue 16 item 8): how long a blocklist import of N entries takes into a
//! live private fail2ban, how long re-importing it unchanged takes (a scheduled run, which
//! checks fail2ban's ban count, and one by hand, which checks every member), and how
//! fail2ban's answer time for other callers moves meanwhile: a `ping` and the command sequence
//! of `/dashboard/status`, each every 50 ms (the dashboard's requests wait behind the import's
//! commands the same way). Serves the list from a local HTTP server, keeps
//! BanGUI's database in a temp dir.
//!
//! ```text
//! cargo run --release --example blocklist_import_timing -- [ENTRIES (100000)] [BATCH (100)] [dummy|none] [PAUSE_MS (3)]
//! ```
//! `dummy` keeps the test configuration's `dummy` action on `blocklist-import` (one shell fork
//! per banned entry, like most firewall actions); `none` removes the jail's actions first, which
//! measures fail2ban's and BanGUI's own cost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use bangui::domain::JailName;
use bangui::domain::blocklist::{ImportSchedule, SourceUrl};
use bangui::fail2ban::{ClientConfig, Fail2banClient};
use bangui::services::blocklists::{
    BlocklistService, FetchLimits, Fetcher, ImportLimits, SourceInput, SystemResolver,
};

#[allow(dead_code)]
#[path = "../tests/it/support/fail2ban.rs"]
mod fail2ban_support;

fn list(n: u32) -> String {
    let mut out = String::with_capacity(n as usize * 14);
    out.push_str("# synthetic blocklist\n");
    for i in 0..n {
        let a = 11 + (i >> 24);
        out.push_str(&format!(
            "{a}.{}.{}.{}\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// What the dashboard asks fail2ban, every 50 ms until `stop`: a `ping` (as `/health`) or,
/// with `status`, the commands of `/dashboard/status` one after the other (version, the jail
/// list, `status JAIL short` per jail).
async fn probe(client: Fail2banClient, stop: Arc<AtomicBool>, status: bool) -> Vec<Duration> {
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        if status {
            let _ = client.version().await;
            for jail in client.jails().await.unwrap_or_default() {
                let _ = client.jail_counters(&JailName::parse(&jail).unwrap()).await;
            }
        } else {
            let _ = client.ping().await;
        }
        out.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    out.sort();
    out
}

/// Both probes side by side until `stop`.
async fn probes(client: Fail2banClient, stop: Arc<AtomicBool>) -> (Vec<Duration>, Vec<Duration>) {
    tokio::join!(
        probe(client.clone(), Arc::clone(&stop), false),
        probe(client, stop, true)
    )
}

fn show(what: &str, samples: &[Duration]) {
    println!(
        "{what}: {} samples, p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        samples.last().copied().unwrap_or_default()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let entries: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let batch: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let action = args.get(3).cloned().unwrap_or_else(|| "none".into());
    let pause_ms: u64 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(3);

    let f2b = fail2ban_support::Fail2banServer::start();
    if action == "none" {
        f2b.client(&["set", "blocklist-import", "delaction", "dummy"]);
    }
    let body = web::Bytes::from(list(entries));
    let size = body.len();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let body = body.clone();
        App::new().route(
            "/list",
            web::get().to(move || {
                let body = body.clone();
                async move { HttpResponse::Ok().body(body) }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let dir = tempfile::tempdir().unwrap();
    let db = bangui::db::connect(&dir.path().join("bangui.db"), Duration::from_secs(5))
        .await
        .unwrap();
    // As in the application: the dashboard's client, and the import's bulk client made from it
    // (which lets the dashboard's commands go first).
    let prober = Fail2banClient::new(ClientConfig::new(f2b.socket()));
    let service = BlocklistService::new(
        db,
        prober.for_bulk_work(Duration::from_secs(600)),
        Fetcher::new(
            Arc::new(SystemResolver),
            FetchLimits {
                max_bytes: 50 << 20,
                timeout: Duration::from_secs(60),
            },
        ),
        ImportLimits {
            batch_size: batch,
            verify_every: Duration::from_secs(3600),
            pause: Duration::from_millis(pause_ms),
        },
        std::sync::Arc::new(bangui::services::events::EventBus::default()),
    );
    let src = service
        .create(&SourceInput {
            name: "bench".into(),
            url: SourceUrl::parse(&format!("http://127.0.0.1:{port}/list")).unwrap(),
            enabled: true,
            jail: JailName::parse("blocklist-import").unwrap(),
            schedule: ImportSchedule::Manual,
            allow_internal: true,
        })
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let idle = tokio::spawn(probes(prober.clone(), Arc::clone(&stop)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let idle = idle.await.unwrap();

    println!(
        "list: {entries} entries, {size} bytes; batch {batch}, pause {pause_ms} ms; action {action}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let busy = tokio::spawn(probes(prober.clone(), Arc::clone(&stop)));
    let t = Instant::now();
    let run = service.import_and_wait(src.id, true).await.unwrap();
    let first = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let busy = busy.await.unwrap();
    assert_eq!(run.state, "completed", "{run:?}");
    println!("first import: {first:.2?} ({} added)", run.added);

    // A scheduled run trusts fail2ban's ban count after the first import's full check; an
    // import started by hand reads and compares the whole live list.
    let t = Instant::now();
    let run = service.import_and_wait(src.id, false).await.unwrap();
    let again = t.elapsed();
    println!(
        "unchanged re-import, scheduled (count check): {again:.2?} (state {})",
        run.state
    );
    let t = Instant::now();
    let run = service.import_and_wait(src.id, true).await.unwrap();
    let again = t.elapsed();
    println!(
        "unchanged re-import, by hand (full check): {again:.2?} (state {})",
        run.state
    );
    let banned = prober
        .banned_entries(&JailName::parse("blocklist-import").unwrap())
        .await
        .unwrap()
        .len();
    println!("jail holds {banned} entries");
    show("fail2ban ping, idle", &idle.0);
    show("fail2ban ping, during the import", &busy.0);
    show("dashboard status commands, idle", &idle.1);
    show("dashboard status commands, during the import", &busy.1);
}
