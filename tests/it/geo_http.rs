//! The geo endpoints and `GET /metrics` over HTTP against the real application, plus the
//! start-up and shutdown duties: warm start from the database and the final flush.

use std::time::Duration;

use crate::support::app::TestApp;
use crate::support::mmdb;

const V1: u64 = 1_700_000_000;

fn demo_mmdb(dir: &std::path::Path, epoch: u64) -> std::path::PathBuf {
    let path = dir.join("GeoLite2-Country.mmdb");
    mmdb::write_atomically(&path, &mmdb::country_bytes(&mmdb::demo_countries(), epoch));
    path
}

#[tokio::test]
async fn lookup_returns_geo_network_and_source_and_rejects_bad_ips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::builder()
        .geoip(&demo_mmdb(dir.path(), V1))
        .spawn()
        .await;
    app.setup_admin().await;
    let (status, body) = app.get_json("/api/v1/geo/lookup/203.0.113.9").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ip"], "203.0.113.9");
    assert_eq!(body["geo"]["country_code"], "DE");
    assert_eq!(body["geo"]["country_name"], "Germany");
    assert_eq!(body["geo"]["network"], "203.0.113.0/24");
    assert_eq!(body["geo"]["source"], "mmdb");
    assert_eq!(body["geo"]["db_version"], V1);

    let (status, body) = app.get_json("/api/v1/geo/lookup/::ffff:198.51.100.4").await;
    assert_eq!((status, body["ip"].as_str()), (200, Some("198.51.100.4")));
    let (status, body) = app.get_json("/api/v1/geo/lookup/10.0.0.1").await;
    assert_eq!(status, 200);
    assert!(body["geo"].is_null());
    let (status, body) = app.get_json("/api/v1/geo/lookup/not-an-ip").await;
    assert_eq!(status, 400);
    assert_eq!(body["error_code"], "invalid_ip");
    app.stop().await;
}

#[tokio::test]
async fn reload_stats_and_re_resolve_answer_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::builder()
        .env(
            "BANGUI_GEOIP_DB_PATH",
            dir.path().join("later.mmdb").display().to_string(),
        )
        .spawn()
        .await;
    app.setup_admin().await;
    let res = app
        .request(reqwest::Method::POST, "/api/v1/geo/reload")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 422, "no file yet");
    let (_, health) = app.get_json("/api/v1/health").await;
    assert_eq!(health["geoip"]["state"], "absent");

    app.get_json("/api/v1/geo/lookup/31.1.1.1").await; // negative while no database
    mmdb::write_atomically(
        &dir.path().join("later.mmdb"),
        &mmdb::country_bytes(&mmdb::demo_countries(), V1),
    );
    let res = app
        .request(reqwest::Method::POST, "/api/v1/geo/reload")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 200);
    let status: serde_json::Value = res.json().await.expect("json");
    assert_eq!(status["state"], "loaded");
    assert_eq!(status["build_epoch"], V1);

    app.state.geo.flush_dirty().await.expect("flush");
    let res = app
        .request(reqwest::Method::POST, "/api/v1/geo/re-resolve")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 200);
    let outcome: serde_json::Value = res.json().await.expect("json");
    assert_eq!(outcome, serde_json::json!({"resolved": 1, "total": 1}));

    let (status, stats) = app.get_json("/api/v1/geo/stats").await;
    assert_eq!(status, 200);
    assert_eq!(stats["mmdb"]["state"], "loaded");
    assert_eq!(stats["http_fallback_enabled"], false);
    assert!(stats["entries"].as_u64().is_some_and(|n| n >= 1), "{stats}");
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_public_prometheus_text_labelled_by_route_pattern() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::builder()
        .geoip(&demo_mmdb(dir.path(), V1))
        .spawn()
        .await;
    app.setup_admin().await;
    app.get_json("/api/v1/geo/lookup/203.0.113.9").await;
    app.get_json("/api/v1/geo/lookup/198.51.100.1").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/plain"))
    );
    let text = res.text().await.expect("text");
    for needle in [
        "geo_lookups_total{result=\"hit\",source=\"mmdb\"} 2",
        "geo_lookup_duration_seconds_count",
        "geo_cache_entries 2",
        "geo_cache_dirty_entries 2",
        "geo_mmdb_build_epoch 1700000000",
        "http_requests_total{method=\"GET\",route=\"/api/v1/geo/lookup/{ip}\",status=\"200\"} 2",
        "http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(
        !text.contains("203.0.113.9"),
        "raw paths never become labels"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_graceful_stop_flushes_and_the_next_start_is_warmed_from_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mmdb_path = demo_mmdb(dir.path(), V1);
    let db_path = dir.path().join("bangui.db");
    let app = TestApp::builder()
        .geoip(&mmdb_path)
        .env("BANGUI_DATABASE_PATH", db_path.display().to_string())
        .spawn()
        .await;
    app.setup_admin().await;
    app.get_json("/api/v1/geo/lookup/77.1.2.3").await;
    app.stop().await;

    std::fs::remove_file(&mmdb_path).expect("remove mmdb");
    let app = TestApp::builder()
        .geoip(&mmdb_path)
        .env("BANGUI_DATABASE_PATH", db_path.display().to_string())
        .spawn()
        .await;
    app.login(
        crate::support::app::ADMIN_USER,
        crate::support::app::ADMIN_PASSWORD,
    )
    .await;
    let ip: std::net::IpAddr = "77.1.2.3".parse().expect("ip");
    let mut warmed = None;
    for _ in 0..100 {
        warmed = app.state.geo.cached_shared(ip);
        if warmed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        warmed.and_then(|g| g.country_code.clone()).as_deref(),
        Some("FR")
    );
    let (_, body) = app.get_json("/api/v1/geo/lookup/77.1.2.3").await;
    assert_eq!(
        body["geo"]["country_code"], "FR",
        "served from the warm cache"
    );
    app.stop().await;
}
