//! Health, readiness and the error contract, over HTTP against the real application.

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;

#[tokio::test]
async fn health_is_degraded_but_served_when_fail2ban_and_the_mmdb_are_absent() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, body) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"]["state"], "ok");
    assert_eq!(body["fail2ban"]["state"], "offline");
    assert!(
        body["fail2ban"]["socket"]
            .as_str()
            .is_some_and(|s| s.ends_with("no-fail2ban.sock"))
    );
    assert!(
        body["fail2ban"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not reachable")),
        "{body}"
    );
    assert_eq!(body["geoip"]["state"], "absent");
    assert_eq!(body["scheduler"]["state"], "running");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    app.stop().await;
}

#[tokio::test]
async fn health_reports_a_running_fail2ban_as_online() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder()
        .fail2ban_socket(&f2b.socket())
        .spawn()
        .await;
    let (status, body) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["fail2ban"]["state"], "online", "{body}");
    assert!(body["fail2ban"]["error"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn health_sees_fail2ban_stop_and_come_back_within_seconds() {
    let mut f2b = Fail2banServer::start();
    let app = TestApp::builder()
        .fail2ban_socket(&f2b.socket())
        .spawn()
        .await;
    app.setup_admin().await;
    let is = |state: &'static str| move |b: &serde_json::Value| b["fail2ban"]["state"] == state;
    app.wait_for_json("/api/v1/health", is("online")).await;
    f2b.stop();
    let body = app.wait_for_json("/api/v1/health", is("offline")).await;
    assert_eq!(body["status"], "degraded");
    assert!(
        body["fail2ban"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not reachable")),
        "{body}"
    );
    f2b.restart();
    let body = app.wait_for_json("/api/v1/health", is("online")).await;
    assert!(body["fail2ban"]["error"].is_null(), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn liveness_and_readiness_answer_without_fail2ban() {
    let app = TestApp::builder().spawn().await;
    assert_eq!(app.get_json("/api/v1/health/live").await.0, 200);
    let (status, body) = app.get_json("/api/v1/health/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ready");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_404_in_the_error_contract() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, body) = app.get_json("/api/v1/no/such/route").await;
    assert_eq!(status, 404);
    assert_eq!(body["error_code"], "route_not_found");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("/api/v1/no/such/route"))
    );
    assert!(body.get("details").is_some());
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_callers() {
    let app = TestApp::builder().spawn().await;
    let res = app.get("/api/v1/health/live").await;
    let generated = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(generated.len(), 36, "a UUID is generated: {generated}");
    let res = app
        .http
        .get(app.url("/api/v1/health/live"))
        .header("X-Request-Id", "trace-me-42")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-42")
    );
    app.stop().await;
}

#[tokio::test]
async fn client_routes_fall_back_to_a_page_and_never_to_the_api() {
    let app = TestApp::builder()
        .env("BANGUI_STATIC_DIR", "/nonexistent-dist")
        .spawn()
        .await;
    let res = app.get("/jails/sshd").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap_or_default().contains("not built"));
    app.stop().await;
}

#[tokio::test]
async fn cross_origin_access_is_granted_only_to_configured_origins() {
    let app = TestApp::builder()
        .env("BANGUI_CORS_ALLOWED_ORIGINS", "https://ops.example.org")
        .spawn()
        .await;
    let res = app
        .http
        .get(app.url("/api/v1/health/live"))
        .header("Origin", "https://ops.example.org")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        res.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://ops.example.org")
    );
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/bans"))
        .header("Origin", "https://ops.example.org")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 204);
    assert!(
        res.headers()
            .get("access-control-allow-headers")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("x-bangui-request"))
    );
    let res = app
        .http
        .get(app.url("/api/v1/health/live"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("sent");
    assert!(res.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}

#[tokio::test]
async fn anonymous_health_names_no_file_or_socket_path_and_no_error_text() {
    let app = TestApp::builder().spawn().await;
    let res = app
        .anonymous()
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["fail2ban"], serde_json::json!({"state": "offline"}));
    assert_eq!(body["geoip"], serde_json::json!({"state": "absent"}));
    assert!(!text.contains('/'), "no path in the public report: {text}");
    assert!(
        !text.contains("sock") && !text.contains("error\""),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failing_job_makes_health_degraded_with_its_last_error_and_is_counted_in_metrics() {
    let dir = tempfile::tempdir().unwrap();
    // A directory is no SQLite database: every history sync fails.
    let app = TestApp::builder()
        .env(
            "BANGUI_FAIL2BAN_DATABASE_PATH",
            dir.path().display().to_string(),
        )
        .env("BANGUI_HISTORY_SYNC_INTERVAL_SECONDS", "1")
        .spawn()
        .await;
    app.setup_admin().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let job = loop {
        let (_, body) = app.get_json("/api/v1/health").await;
        let job = body["jobs"]["history_sync"].clone();
        if job["failing"] == true {
            break job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failure seen: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(
        job["last_error"]["at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{job}"
    );
    assert!(
        job["last_error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{job}"
    );
    assert!(job["failures"].as_u64().is_some_and(|n| n >= 1), "{job}");
    let (_, body) = app.get_json("/api/v1/health").await;
    assert_eq!(body["status"], "degraded");
    let anonymous = app
        .anonymous()
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    let summary: serde_json::Value = anonymous.json().await.unwrap();
    assert!(
        summary["failing_jobs"]
            .as_array()
            .unwrap()
            .contains(&"history_sync".into())
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("job_failures_total{job=\"history_sync\"}"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::builder().spawn().await;
    for path in [
        "/api/v1/health/live",
        "/api/v1/no/such/route",
        "/api/docs/",
        "/",
        "/metrics",
    ] {
        let res = app.anonymous().get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp:?}");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp:?}");
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer", "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_method_on_a_known_path_is_a_405_in_the_error_contract() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let res = app
        .request(reqwest::Method::PUT, "/api/v1/jails")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers().get("allow").unwrap(), "GET");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "method_not_allowed");
    assert_eq!(body["details"]["allowed"], serde_json::json!(["GET"]));
    let res = app
        .request(reqwest::Method::PATCH, "/api/v1/jails/sshd/ignoreip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers().get("allow").unwrap(), "DELETE, GET, POST");
    let (status, body) = app.get_json("/api/v1/no/such/route").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("route_not_found"))
    );
    app.stop().await;
}
