//! The event bus against real parts: a ban fail2ban makes from real log lines is published by
//! the archive sync with its country, ASN and ban count; an unban made with
//! `fail2ban-client` is published by the lift detector, one made through the API at once;
//! stopping a jail and stopping or restarting fail2ban are published by the status poller;
//! a refused MMDB reload is published; a subscriber resuming from an id gets exactly the
//! events after it.

use std::time::Duration;

use bangui::domain::event::{Event, EventKind, EventType};
use bangui::services::events::Subscription;
use serde_json::json;

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;
use crate::support::mmdb;

/// The next event of `wanted` type within `within`, skipping others; panics naming what came.
async fn next_of(sub: &mut Subscription, wanted: EventType, within: Duration) -> Event {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, sub.recv()).await {
            Ok(Some(Ok(e))) if e.event_type() == wanted => return e.as_ref().clone(),
            Ok(Some(Ok(e))) => seen.push(e.event_type()),
            Ok(Some(Err(missed))) => panic!("subscriber lagged: {missed}"),
            Ok(None) => panic!("the bus closed"),
            Err(_) => panic!("no {wanted:?} event within {within:?}; saw {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_from_real_log_lines_is_published_with_country_asn_and_bancount() {
    let f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let country = dir.path().join("country.mmdb");
    let asn = dir.path().join("asn.mmdb");
    mmdb::write_atomically(
        &country,
        &mmdb::country_bytes(&mmdb::demo_countries(), 1_700_000_000),
    );
    mmdb::write_atomically(&asn, &mmdb::asn_bytes(&mmdb::demo_asns(), 1_700_000_000));
    let app = TestApp::builder()
        .fail2ban(&f2b)
        .geoip(&country)
        .env("BANGUI_GEOIP_ASN_DB_PATH", asn.display().to_string())
        .spawn()
        .await;
    let mut sub = app.state.events.subscribe();

    f2b.fail_ssh("203.0.113.9", 3);
    let ban = next_of(&mut sub, EventType::Ban, Duration::from_secs(30)).await;
    let EventKind::Ban(b) = &ban.kind else {
        unreachable!()
    };
    assert_eq!(b.ip.to_string(), "203.0.113.9");
    assert_eq!(b.jail, "sshd");
    assert_eq!(b.host, "local");
    assert_eq!(b.bancount, 1);
    assert_eq!(b.country.as_deref(), Some("DE"));
    assert!(
        b.asn.is_some(),
        "the demo ASN database knows 203.0.113.0/24"
    );
    assert!(
        (chrono::Utc::now() - b.time).num_seconds() < 60,
        "the ban time is fail2ban's"
    );

    // The same ban is not published twice by later sync runs.
    app.state.history.sync_once().await.expect("sync");
    assert!(sub.try_recv().is_none(), "no second event for the same ban");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbans_are_published_by_the_detector_and_by_the_api() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.setup_admin().await;
    let mut sub = app.state.events.subscribe();
    f2b.client(&["set", "sshd", "banip", "192.0.2.10", "192.0.2.11"]);
    let mut banned = Vec::new();
    for _ in 0..2 {
        let ban = next_of(&mut sub, EventType::Ban, Duration::from_secs(30)).await;
        banned.extend(ban.kind.ip().map(|i| i.to_string()));
    }
    banned.sort();
    assert_eq!(banned, ["192.0.2.10", "192.0.2.11"]);

    // Outside BanGUI: found by the lift detector.
    f2b.client(&["set", "sshd", "unbanip", "192.0.2.10"]);
    app.state.history_lifts.detect().await.expect("detect");
    let unban = next_of(&mut sub, EventType::Unban, Duration::from_secs(5)).await;
    let EventKind::Unban(u) = &unban.kind else {
        unreachable!()
    };
    assert_eq!(u.ip.map(|i| i.to_string()).as_deref(), Some("192.0.2.10"));
    assert_eq!(u.jail.as_deref(), Some("sshd"));
    assert_eq!(u.lifted_by, "fail2ban");

    // Through the API: published at once, naming the user.
    let (status, _) = app
        .send_json(
            reqwest::Method::DELETE,
            "/api/v1/bans",
            json!({"ip": "192.0.2.11", "jail": "sshd"}),
        )
        .await;
    assert_eq!(status, 200);
    let unban = next_of(&mut sub, EventType::Unban, Duration::from_secs(5)).await;
    let EventKind::Unban(u) = &unban.kind else {
        unreachable!()
    };
    assert_eq!(u.ip.map(|i| i.to_string()).as_deref(), Some("192.0.2.11"));
    assert!(u.lifted_by.starts_with("bangui:"), "{}", u.lifted_by);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jail_and_fail2ban_status_changes_are_published_by_the_status_poll() {
    let mut f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    let status = &app.state.fail2ban_status;
    let mut sub = app.state.events.subscribe();
    status.poll().await; // the baseline publishes nothing
    let snapshot = status.snapshot();
    assert_eq!(snapshot.online, Some(true));
    assert!(snapshot.jails.contains_key("sshd"), "{:?}", snapshot.jails);

    f2b.client(&["stop", "bangui-app"]);
    status.poll().await;
    let stopped = next_of(&mut sub, EventType::JailStopped, Duration::from_secs(5)).await;
    assert_eq!(stopped.kind.jail(), Some("bangui-app"));

    f2b.stop();
    status.poll().await;
    next_of(&mut sub, EventType::Fail2banOffline, Duration::from_secs(5)).await;
    status.poll().await; // still offline: published once
    assert!(sub.try_recv().is_none(), "offline is published once");

    f2b.restart();
    status.poll().await;
    let online = next_of(&mut sub, EventType::Fail2banOnline, Duration::from_secs(5)).await;
    assert!(matches!(online.kind, EventKind::Fail2banOnline { .. }));
    // The restarted fail2ban runs bangui-app again.
    let started = next_of(&mut sub, EventType::JailStarted, Duration::from_secs(5)).await;
    assert_eq!(started.kind.jail(), Some("bangui-app"));
    app.stop().await;
}

#[tokio::test]
async fn a_refused_mmdb_reload_is_published_and_resumption_returns_what_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let country = dir.path().join("country.mmdb");
    mmdb::write_atomically(
        &country,
        &mmdb::country_bytes(&mmdb::demo_countries(), 1_700_000_000),
    );
    let app = TestApp::builder().geoip(&country).spawn().await;
    let mut sub = app.state.events.subscribe();
    mmdb::write_atomically(&country, b"not an mmdb at all");
    let geo = std::sync::Arc::clone(&app.state.geo);
    let outcome = tokio::task::spawn_blocking(move || geo.reload())
        .await
        .expect("join");
    assert!(outcome.is_err(), "garbage is refused");
    let failed = next_of(
        &mut sub,
        EventType::MmdbReloadFailed,
        Duration::from_secs(5),
    )
    .await;
    let EventKind::MmdbReloadFailed { database, error } = &failed.kind else {
        unreachable!()
    };
    assert_eq!(database, "country");
    assert!(!error.is_empty());

    let resumed = app.state.events.resume(Some(failed.id - 1));
    assert!(!resumed.gap);
    assert_eq!(resumed.backlog.first().map(|e| e.id), Some(failed.id));
    assert!(resumed.backlog.windows(2).all(|w| w[1].id == w[0].id + 1));
    app.stop().await;
}
