//! Health, readiness and the error contract, over HTTP against the real application.

mod support;

use support::app::TestApp;
use support::fail2ban::Fail2banServer;

#[tokio::test]
async fn health_is_degraded_but_served_when_fail2ban_and_the_mmdb_are_absent() {
    let app = TestApp::builder().spawn().await;
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
