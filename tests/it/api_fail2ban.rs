//! The dashboard, bans and jails API against a real private fail2ban, a real SQLite file and a
//! generated MMDB: numbers equal what `fail2ban-client` reports, bans made through the API are
//! real bans, bans caused by log lines show up geolocated, and a stopped fail2ban is a 502 that
//! names the socket.

use std::time::Duration;

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;
use crate::support::mmdb;
use reqwest::Method;
use serde_json::{Value, json};

async fn app_with(f2b: &Fail2banServer, dir: &std::path::Path) -> TestApp {
    let country = dir.join("country.mmdb");
    mmdb::write_atomically(
        &country,
        &mmdb::country_bytes(&mmdb::demo_countries(), 1_700_000_000),
    );
    let app = TestApp::builder()
        .fail2ban(f2b)
        .geoip(&country)
        .spawn()
        .await;
    app.setup_admin().await;
    app
}

/// `Currently banned`-style counters from `fail2ban-client status JAIL`, summed over all jails.
fn client_totals(f2b: &Fail2banServer) -> [u64; 4] {
    let jails = f2b.client(&["status"]);
    let list = jails
        .lines()
        .find_map(|l| l.split("Jail list:").nth(1))
        .unwrap_or_default()
        .to_string();
    let mut totals = [0u64; 4];
    for jail in list.split(',').map(str::trim).filter(|j| !j.is_empty()) {
        let out = f2b.client(&["status", jail]);
        for (i, label) in [
            "Currently failed:",
            "Total failed:",
            "Currently banned:",
            "Total banned:",
        ]
        .iter()
        .enumerate()
        {
            let n: u64 = out
                .lines()
                .find_map(|l| l.split(label).nth(1))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            totals[i] += n;
        }
    }
    totals
}

#[tokio::test]
async fn dashboard_status_numbers_equal_what_fail2ban_client_reports() {
    let f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app_with(&f2b, dir.path()).await;
    f2b.client(&["set", "sshd", "banip", "203.0.113.5", "198.51.100.6"]);
    f2b.fail_ssh("192.0.2.50", 1);
    f2b.fail_app("5.1.2.3", 2);
    f2b.wait_banned("bangui-app", "5.1.2.3");
    let [failed, total_failed, banned, total_banned] = client_totals(&f2b);
    // The status comes from the status poll's snapshot, refreshed for a request when older
    // than a second: it catches up with fail2ban without waiting for the 5 s job.
    let body = app
        .wait_for_json("/api/v1/dashboard/status", |b| {
            b["currently_banned"] == banned && b["currently_failed"] == failed
        })
        .await;
    assert_eq!(body["online"], true);
    assert!(
        body["as_of"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 20),
        "{body}"
    );
    assert_eq!(body["version"], f2b.client(&["version"]));
    assert_eq!(body["jails"], 3);
    assert_eq!(body["currently_failed"], failed, "{body}");
    assert_eq!(body["total_failed"], total_failed);
    assert_eq!(body["currently_banned"], banned);
    assert_eq!(body["total_banned"], total_banned);
    assert_eq!(banned, 3);
    app.stop().await;
}

#[tokio::test]
async fn banning_and_unbanning_through_the_api_changes_what_fail2ban_reports() {
    let f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app_with(&f2b, dir.path()).await;

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/bans",
            json!({"ip": "::ffff:203.0.113.77", "jail": "sshd"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["ip"].as_str(), body["newly_banned"].as_bool()),
        (Some("203.0.113.77"), Some(true))
    );
    assert!(
        f2b.banned("sshd").contains(&"203.0.113.77".to_string()),
        "IPv4-mapped became IPv4"
    );
    let (_, again) = app
        .send_json(
            Method::POST,
            "/api/v1/bans",
            json!({"ip": "203.0.113.77", "jail": "sshd"}),
        )
        .await;
    assert_eq!(again["newly_banned"], false);

    app.send_json(
        Method::POST,
        "/api/v1/bans",
        json!({"ip": "2001:db8:abcd::9", "jail": "bangui-app"}),
    )
    .await;
    let (status, active) = app.get_json("/api/v1/bans/active").await;
    assert_eq!(status, 200);
    let v6 = active["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["ip"] == "2001:db8:abcd::9").cloned())
        .unwrap_or_default();
    assert_eq!(v6["jail"], "bangui-app");
    assert_eq!(v6["geo"]["country_code"], "FR");
    assert!(v6["ban_ends_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/bans",
            json!({"ip": "example.com", "jail": "sshd"}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_ip"))
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("example.com")),
        "{body}"
    );
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/bans",
            json!({"ip": "1.2.3.4", "jail": "nosuchjail"}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("jail_not_found")),
        "{body}"
    );

    let (status, body) = app
        .send_json(
            Method::DELETE,
            "/api/v1/bans",
            json!({"ip": "203.0.113.77", "jail": null}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jails"], json!(["sshd"]));
    assert!(!f2b.banned("sshd").contains(&"203.0.113.77".to_string()));

    let (status, body) = app
        .send_json(Method::DELETE, "/api/v1/bans/all", json!({}))
        .await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(1)));
    assert!(f2b.banned("bangui-app").is_empty());

    let (_, audit) = app.get_json("/api/v1/audit").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["action"].as_str()).collect())
        .unwrap_or_default();
    for wanted in ["ban", "unban", "unban_all"] {
        assert!(actions.contains(&wanted), "{wanted} audited: {actions:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bans_caused_by_log_lines_appear_on_the_dashboard_geolocated_and_aggregated() {
    let f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app_with(&f2b, dir.path()).await;
    f2b.fail_ssh("203.0.113.9", 3);
    f2b.fail_ssh("14.1.2.3", 3);
    f2b.fail_app("2001:db8:abcd::42", 2);
    f2b.wait_banned("sshd", "14.1.2.3");
    f2b.wait_banned("bangui-app", "2001:db8:abcd::42");
    f2b.client(&["set", "blocklist-import", "banip", "58.9.9.9"]);

    let page = app
        .wait_for_json("/api/v1/dashboard/bans?range=24h", |b| b["total"] == 4)
        .await;
    let de = page["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["ip"] == "203.0.113.9").cloned())
        .unwrap_or_default();
    assert_eq!(
        (de["jail"].as_str(), de["origin"].as_str()),
        (Some("sshd"), Some("selfblock"))
    );
    assert_eq!(de["geo"]["country_code"], "DE");
    assert_eq!(de["geo"]["network"], "203.0.113.0/24");
    assert_eq!(de["bantime_seconds"], 600);

    let (_, blocklist) = app
        .get_json("/api/v1/dashboard/bans?origin=blocklist")
        .await;
    assert_eq!(blocklist["total"], 1);
    assert_eq!(blocklist["items"][0]["origin"], "blocklist");

    let (_, countries) = app
        .get_json("/api/v1/dashboard/bans/by-country?range=7d")
        .await;
    assert_eq!(
        countries["countries"],
        json!({"CN": 1, "DE": 1, "FR": 1, "JP": 1})
    );
    assert_eq!(countries["country_names"]["DE"], "Germany");
    assert_eq!(
        (
            countries["unresolved"].as_u64(),
            countries["total"].as_u64()
        ),
        (Some(0), Some(4))
    );

    let (_, only_de) = app.get_json("/api/v1/dashboard/bans?country=de").await;
    assert_eq!(only_de["total"], 1);
    assert_eq!(only_de["items"][0]["ip"], "203.0.113.9");

    let (_, trend) = app.get_json("/api/v1/dashboard/bans/trend?range=24h").await;
    let buckets = trend["buckets"].as_array().cloned().unwrap_or_default();
    assert_eq!(buckets.len(), 24);
    assert_eq!(
        buckets
            .iter()
            .map(|b| b["count"].as_i64().unwrap_or(0))
            .sum::<i64>(),
        4
    );
    assert_eq!(trend["bucket_seconds"], 3600);

    let (_, by_jail) = app.get_json("/api/v1/dashboard/bans/by-jail").await;
    assert_eq!(by_jail["jails"][0], json!({"jail": "sshd", "count": 2}));

    let (status, body) = app.get_json("/api/v1/dashboard/bans?range=2y").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_range"))
    );
    let (status, _) = app.get_json("/api/v1/dashboard/bans?page_size=501").await;
    assert_eq!(status, 400);
    app.stop().await;
}

#[tokio::test]
async fn jails_list_detail_ignore_list_and_banned_ips_come_from_the_socket() {
    let f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app_with(&f2b, dir.path()).await;
    let ips: Vec<String> = (1..=25).map(|i| format!("45.0.0.{i}")).collect();
    let mut args = vec!["set", "sshd", "banip"];
    args.extend(ips.iter().map(String::as_str));
    f2b.client(&args);

    let (_, list) = app.get_json("/api/v1/jails").await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|j| j["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["bangui-app", "blocklist-import", "sshd"]);
    let (status, detail) = app.get_json("/api/v1/jails/bangui-app").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            detail["settings"]["maxretry"].as_i64(),
            detail["settings"]["bantime"].as_i64()
        ),
        (Some(2), Some(3600))
    );
    assert_eq!(app.get_json("/api/v1/jails/nosuchjail").await.0, 404);

    let (_, page) = app
        .get_json("/api/v1/jails/sshd/banned?page=2&page_size=10")
        .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().map(Vec::len)
        ),
        (Some(25), Some(10))
    );
    assert_eq!(page["items"][0]["geo"]["country_code"], "US");
    let (_, search) = app
        .get_json("/api/v1/jails/sshd/banned?search=45.0.0.2")
        .await;
    assert_eq!(search["total"], 7, "45.0.0.2 and 45.0.0.20-25");

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/jails/sshd/ignoreip",
            json!({"ip": "10.20.0.0/16"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        f2b.client(&["get", "sshd", "ignoreip"])
            .contains("10.20.0.0/16")
    );
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/jails/sshd/ignoreip",
            json!({"ip": "not/a/net"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = app
        .send_json(
            Method::DELETE,
            "/api/v1/jails/sshd/ignoreip",
            json!({"ip": "10.20.0.0/16"}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        !f2b.client(&["get", "sshd", "ignoreip"])
            .contains("10.20.0.0/16")
    );

    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/jails/sshd/ignoreself",
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(f2b.client(&["get", "sshd", "ignoreself"]), "True");
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/jails/bangui-app/idle",
            json!({"on": true}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, body) = app
        .send_json(Method::POST, "/api/v1/jails/bangui-app/stop", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!f2b.client(&["status"]).contains("bangui-app"));
    let (status, body) = app
        .send_json(Method::POST, "/api/v1/jails/bangui-app/start", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(f2b.client(&["status"]).contains("bangui-app"));
    let (status, body) = app
        .send_json(Method::POST, "/api/v1/jails/sshd/reload", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_stopped_fail2ban_is_a_502_naming_the_socket_and_the_app_recovers_when_it_returns() {
    let mut f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app_with(&f2b, dir.path()).await;
    f2b.stop();
    let (status, body) = app.get_json("/api/v1/jails").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (502, Some("fail2ban_unavailable")),
        "{body}"
    );
    let socket = f2b.socket().display().to_string();
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&socket)),
        "{body}"
    );
    let status_body = app
        .wait_for_json("/api/v1/dashboard/status", |b| b["online"] == false)
        .await;
    assert_eq!(
        status_body["jails"], 0,
        "no counters while offline: {status_body}"
    );
    assert!(
        status_body["error"]
            .as_str()
            .is_some_and(|m| m.contains(&socket)),
        "{status_body}"
    );
    f2b.restart();
    let (status, _) = app.get_json("/api/v1/jails").await;
    assert_eq!(
        status, 200,
        "the same app works again after fail2ban restarted"
    );
    app.stop().await;
}

async fn app_with_env(f2b: &Fail2banServer, env: &[(&str, &str)]) -> TestApp {
    let mut builder = TestApp::builder().fail2ban(f2b);
    for (key, value) in env {
        builder = builder.env(key, *value);
    }
    let app = builder.spawn().await;
    app.setup_admin().await;
    app
}

fn audit_rows(audit: &Value, action: &str) -> Vec<Value> {
    audit["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| i["action"] == action)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn sixty_four_concurrent_jail_lists_in_rounds_all_succeed_even_while_fail2ban_pauses() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[]).await;
    for round in 0..5 {
        if round == 2 {
            f2b.pause();
        }
        let requests: Vec<_> = (0..64)
            .map(|_| {
                let http = app.http.clone();
                let url = app.url("/api/v1/jails");
                tokio::spawn(async move {
                    let res = http.get(url).send().await.expect("request sent");
                    let status = res.status().as_u16();
                    (status, res.text().await.unwrap_or_default())
                })
            })
            .collect();
        if round == 2 {
            // A busy fail2ban (here: paused for longer than the old 300 ms connect budget)
            // refuses connections with EAGAIN; that is waited for, not reported as offline.
            tokio::time::sleep(Duration::from_millis(700)).await;
            f2b.resume();
        }
        for request in requests {
            let (status, body) = request.await.expect("task");
            assert_eq!(status, 200, "round {round}: {body}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_frozen_fail2ban_is_a_504_timeout_not_a_502_unreachable() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[("BANGUI_FAIL2BAN_COMMAND_TIMEOUT_SECONDS", "1")]).await;
    f2b.pause();
    let (status, body) = app.get_json("/api/v1/jails").await;
    let (second, body2) = app.get_json("/api/v1/bans/active").await;
    f2b.resume();
    assert_eq!(
        (status, body["error_code"].as_str()),
        (504, Some("fail2ban_timeout")),
        "{body}"
    );
    assert_eq!(
        (second, body2["error_code"].as_str()),
        (504, Some("fail2ban_timeout")),
        "{body2}"
    );
    app.wait_for_json("/api/v1/jails", |b| b["items"].as_array().is_some())
        .await;
    app.stop().await;
}

#[tokio::test]
async fn while_fail2ban_is_frozen_status_and_health_answer_at_once_from_the_last_poll() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[("BANGUI_FAIL2BAN_COMMAND_TIMEOUT_SECONDS", "10")]).await;
    f2b.client(&["set", "sshd", "banip", "203.0.113.9"]);
    let before = app
        .wait_for_json("/api/v1/dashboard/status", |b| b["currently_banned"] == 1)
        .await;
    // Older than a second, so the next request asks for a refresh that cannot come.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    f2b.pause();
    let started = std::time::Instant::now();
    let (status_code, status) = app.get_json("/api/v1/dashboard/status").await;
    let (health_code, health) = app.get_json("/api/v1/health").await;
    let took = started.elapsed();
    f2b.resume();
    assert_eq!((status_code, health_code), (200, 200), "{status} {health}");
    assert!(
        took < Duration::from_secs(5),
        "both answered without waiting for the 10 s command timeout (took {took:?})"
    );
    assert_eq!(status["online"], true, "busy is not offline: {status}");
    assert_eq!(status["currently_banned"], before["currently_banned"]);
    assert_eq!(health["fail2ban"]["state"], "online", "{health}");
    app.stop().await;
}

#[tokio::test]
async fn a_fail2ban_that_answers_no_poll_for_15_s_is_unresponsive_in_health() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[("BANGUI_FAIL2BAN_COMMAND_TIMEOUT_SECONDS", "60")]).await;
    app.wait_for_json("/api/v1/health", |b| b["fail2ban"]["state"] == "online")
        .await;
    f2b.pause();
    // Hung, not stopped: every poll waits for the 60 s timeout, so it never turns offline.
    let body = app
        .wait_for_json("/api/v1/health", |b| {
            b["fail2ban"]["state"] == "unresponsive"
        })
        .await;
    f2b.resume();
    assert_eq!(body["status"], "degraded", "{body}");
    assert!(
        body["fail2ban"]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("fail2ban has not answered for ")),
        "{body}"
    );
    app.wait_for_json("/api/v1/health", |b| b["fail2ban"]["state"] == "online")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn with_the_own_database_locked_no_fail2ban_action_runs_and_the_caller_gets_an_error() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[("BANGUI_DATABASE_BUSY_TIMEOUT_MS", "300")]).await;
    // Warm the session cache so that authentication needs no database write.
    assert_eq!(app.get_json("/api/v1/jails").await.0, 200);

    use sqlx::Connection;
    let url = format!("sqlite://{}", app.database_path().display());
    let mut lock = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut lock)
        .await
        .expect("lock");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/bans",
            json!({"ip": "203.0.113.55", "jail": "sshd"}),
        )
        .await;
    let (stop_status, stop_body) = app
        .send_json(Method::POST, "/api/v1/jails/sshd/stop", json!({}))
        .await;
    sqlx::query("ROLLBACK")
        .execute(&mut lock)
        .await
        .expect("unlock");
    lock.close().await.expect("close");

    assert_eq!(
        (status, body["error_code"].as_str()),
        (503, Some("audit_unavailable")),
        "{body}"
    );
    assert!(!f2b.banned("sshd").contains(&"203.0.113.55".to_string()));
    assert_eq!(stop_status, 503, "{stop_body}");
    assert!(f2b.client(&["status"]).contains("sshd"), "sshd still runs");

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/bans",
            json!({"ip": "203.0.113.55", "jail": "sshd"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, audit) = app.get_json("/api/v1/audit").await;
    let bans = audit_rows(&audit, "ban");
    assert_eq!(bans.len(), 1, "one ban, one record: {audit}");
    assert_eq!(bans[0]["result"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn a_log_target_is_a_special_target_or_a_file_in_the_current_log_directory_and_is_audited() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[]).await;
    let before = f2b.dir().join("fail2ban.log").display().to_string();
    let escape = f2b.dir().join("log/../../escape.log").display().to_string();
    for bad in [
        "/etc/cron.d/bangui",
        "/tmp/x.log",
        escape.as_str(),
        "fail2ban.log",
    ] {
        let (status, body) = app
            .send_json(
                Method::PUT,
                "/api/v1/server/settings",
                json!({"logtarget": bad}),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["details"]["field"], "logtarget", "{body}");
    }
    assert!(!std::path::Path::new("/etc/cron.d/bangui").exists());

    let other = f2b.dir().join("other.log").display().to_string();
    let (status, body) = app
        .send_json(
            Method::PUT,
            "/api/v1/server/settings",
            json!({"logtarget": other}),
        )
        .await;
    assert_eq!(
        (status, body["logtarget"].as_str()),
        (200, Some(other.as_str())),
        "{body}"
    );
    let (status, body) = app
        .send_json(
            Method::PUT,
            "/api/v1/server/settings",
            json!({"logtarget": "stderr"}),
        )
        .await;
    assert_eq!(
        (status, body["logtarget"].as_str()),
        (200, Some("STDERR")),
        "{body}"
    );

    let (_, audit) = app.get_json("/api/v1/audit").await;
    let changes = audit_rows(&audit, "server.settings");
    let details: Vec<&Value> = changes
        .iter()
        .filter(|r| r["result"] == "ok")
        .map(|r| &r["details"]["logtarget"])
        .collect();
    assert!(
        details.contains(&&json!({"old": before, "new": other})),
        "{audit}"
    );
    assert!(
        details.contains(&&json!({"old": other, "new": "STDERR"})),
        "{audit}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_zero_length_ignore_network_is_refused_and_every_entry_is_removable_as_shown() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[]).await;
    let path = "/api/v1/jails/sshd/ignoreip";
    for bad in ["0.0.0.0/0", "10.0.0.0/0", "::/0", "2001:db8::/0"] {
        let (status, body) = app.send_json(Method::POST, path, json!({"ip": bad})).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (400, Some("invalid_ignoreip")),
            "{bad}: {body}"
        );
    }
    // A /0 network that reached fail2ban another way is listed as a bare address.
    f2b.client(&["set", "sshd", "addignoreip", "0.0.0.0/0"]);
    f2b.client(&["set", "sshd", "addignoreip", "::/0"]);
    let (status, body) = app
        .send_json(Method::POST, path, json!({"ip": "10.20.30.40/16"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = app.get_json(path).await;
    let shown: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(shown.len(), 3, "{shown:?}");
    for entry in &shown {
        let (status, body) = app
            .send_json(Method::DELETE, path, json!({"ip": entry}))
            .await;
        assert_eq!(status, 200, "removing {entry} as shown: {body}");
        assert!(
            !body["items"]
                .as_array()
                .expect("items")
                .contains(&json!(entry))
        );
    }
    assert_eq!(app.get_json(path).await.1["items"], json!([]));

    let (status, body) = app
        .send_json(Method::DELETE, path, json!({"ip": "192.0.2.99"}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("ignoreip_not_found")),
        "{body}"
    );
    assert!(
        !body["message"]
            .as_str()
            .unwrap_or("")
            .contains("list.remove")
    );
    app.stop().await;
}

#[tokio::test]
async fn special_addresses_and_the_hosts_own_addresses_cannot_be_banned() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[]).await;
    let own: Vec<String> = bangui::services::ban_policy::host_addresses()
        .into_iter()
        .map(|ip| ip.to_string())
        .collect();
    let special = [
        "127.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.251",
        "169.254.10.20",
        "::1",
        "::",
        "ff02::1",
        "fe80::1",
    ];
    for ip in special.iter().map(|s| s.to_string()).chain(own) {
        let (status, body) = app
            .send_json(
                Method::POST,
                "/api/v1/bans",
                json!({"ip": ip, "jail": "sshd"}),
            )
            .await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (400, Some("invalid_ip")),
            "{ip}: {body}"
        );
    }
    assert!(f2b.banned("sshd").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn starting_an_unknown_jail_is_a_404_without_reloading_fail2ban() {
    let f2b = Fail2banServer::start();
    let app = app_with_env(&f2b, &[]).await;
    let (status, _) = app
        .send_json(Method::POST, "/api/v1/jails/bangui-app/stop", json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .send_json(Method::POST, "/api/v1/jails/nosuchjail/start", json!({}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("jail_not_found")),
        "{body}"
    );
    // A reload would have started every enabled jail again.
    assert!(!f2b.client(&["status"]).contains("bangui-app"));
    let (status, body) = app
        .send_json(Method::POST, "/api/v1/jails/bangui-app/start", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(f2b.client(&["status"]).contains("bangui-app"));
    app.stop().await;
}
