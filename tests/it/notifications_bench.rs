//! Benchmark (ignored by default; figures in docs/perf.md): 10,000 bans arriving within a
//! minute on the application's event bus (as the archive sync publishes them), through the
//! real notification pipeline (feeder, router, dispatcher), to two channels with a 10 s
//! interval, each delivering to a local receiver. Prints the messages each receiver got, the
//! gaps between them and the notices they account for; asserts the rule itself (never more
//! than one message per channel per interval, every ban accounted for) but no timing.
//!
//! Run: `cargo test --test it notifications_bench:: -- --ignored --nocapture`
//! (`BENCH_BANS`, `BENCH_SECONDS`, `BENCH_INTERVAL` change the load).

use std::time::{Duration, Instant};

use serde_json::json;

use bangui::domain::Origin;
use bangui::domain::event::{BanEvent, EventKind};

use crate::notifications::{app, create, webhook_channel};
use crate::support::receivers::{HttpReceiver, Received};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn notices(r: &Received) -> u64 {
    let body = r.json();
    match body["type"].as_str() {
        Some("digest") => body["total"].as_u64().unwrap(),
        Some("event") => 1,
        _ => {
            // The chat format carries text only: "BanGUI: N events" or "BanGUI: ban".
            let text = body["text"].as_str().unwrap_or_default();
            text.strip_prefix("BanGUI: ")
                .and_then(|t| t.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1)
        }
    }
}

#[tokio::test]
#[ignore = "benchmark: about 75 s; run with --ignored"]
async fn ten_thousand_bans_in_a_minute_give_at_most_one_message_per_channel_per_interval() {
    let bans = env("BENCH_BANS", 10_000);
    let seconds = env("BENCH_SECONDS", 60);
    let interval = env("BENCH_INTERVAL", 10);
    let app = app().await;
    let hook = HttpReceiver::start(0).await;
    let chat = HttpReceiver::start(0).await;
    create(&app, webhook_channel(&hook.url, interval as u32)).await;
    create(
        &app,
        json!({"name": "chat", "config": {"kind": "chat", "flavor": "slack"},
               "secrets": {"webhook_url": format!("{}/slack", chat.url)},
               "rules": {"digest_interval_seconds": interval}}),
    )
    .await;

    let start = Instant::now();
    let mut slowest_publish = Duration::ZERO;
    for i in 0..bans {
        // Spread evenly over `seconds`.
        let due = start + Duration::from_secs_f64(seconds as f64 * i as f64 / bans as f64);
        tokio::time::sleep_until(due.into()).await;
        let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        let country = ["CN", "RU", "US", "BR", "IN"][(i % 5) as usize];
        let event = EventKind::Ban(BanEvent {
            ip: ip.parse().unwrap(),
            jail: "sshd".into(),
            time: chrono::Utc::now(),
            bantime: 600,
            bancount: 1,
            country: Some(country.into()),
            asn: None,
            host: "local".into(),
            origin: Origin::Selfblock,
        });
        let t = Instant::now();
        app.state.events.publish(event);
        slowest_publish = slowest_publish.max(t.elapsed());
    }
    let fed = start.elapsed();
    // Everything fed; the last digest goes out one interval after the previous message.
    let deadline = Instant::now() + Duration::from_secs(interval + 10);
    let mut settled = (0, 0);
    while Instant::now() < deadline {
        let accounted = (
            hook.received().iter().map(notices).sum::<u64>(),
            chat.received().iter().map(notices).sum::<u64>(),
        );
        if accounted == (bans, bans) {
            settled = accounted;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "fed {bans} bans in {:.1} s; slowest publish on the event bus {:?}",
        fed.as_secs_f64(),
        slowest_publish
    );
    for (name, receiver) in [("webhook", &hook), ("chat", &chat)] {
        let got = receiver.received();
        let counts: Vec<u64> = got.iter().map(notices).collect();
        println!(
            "{name}: {} messages for {} bans: {counts:?}",
            got.len(),
            counts.iter().sum::<u64>()
        );
        assert!(
            got.len() as u64 <= (seconds + interval) / interval + 1,
            "{name}: more than one message per interval"
        );
    }
    // The spacing rule, measured at the receivers (the router stamps each message once it is
    // due; delivery adds only milliseconds, so gaps can fall short by a little jitter).
    let ts = |rs: Vec<Received>| -> Vec<i64> {
        rs.iter()
            .map(|r| {
                r.header("x-bangui-timestamp")
                    .map_or(0, |t| t.parse().unwrap())
            })
            .collect()
    };
    let stamps = ts(hook.received());
    let gaps: Vec<i64> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
    println!("webhook gaps between messages (s): {gaps:?}");
    assert!(
        gaps.iter().all(|g| *g >= interval as i64 - 1),
        "gaps {gaps:?}"
    );
    assert_eq!(
        settled,
        (bans, bans),
        "every ban accounted for on both channels"
    );
    app.stop().await;
}
