//! `/metrics` as Prometheus sees it, against a real private fail2ban: the fail2ban exporter's
//! series equal what `fail2ban-client status` reports for every jail, BanGUI's own series are
//! there, the whole exposition passes `promtool check metrics`, and a stopped fail2ban shows
//! as `f2b_up 0` without stale jail series.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;

/// `name{labels} value` lines of a text exposition, by the part before the value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The counters of one jail as `fail2ban-client status JAIL` prints them.
fn client_counters(f2b: &Fail2banServer, jail: &str) -> BTreeMap<&'static str, f64> {
    let out = f2b.client(&["status", jail]);
    let mut found = BTreeMap::new();
    for (label, series) in [
        ("Currently failed:", "f2b_jail_failed_current"),
        ("Total failed:", "f2b_jail_failed_total"),
        ("Currently banned:", "f2b_jail_banned_current"),
        ("Total banned:", "f2b_jail_banned_total"),
    ] {
        let line = out
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("no {label} in {out}"));
        let value = line
            .rsplit(['\t', ' '])
            .next()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("unreadable {line}"));
        found.insert(series, value);
    }
    found
}

/// `fail2ban-client status`: the jail list.
fn client_jails(f2b: &Fail2banServer) -> Vec<String> {
    let out = f2b.client(&["status"]);
    let line = out
        .lines()
        .find(|l| l.contains("Jail list:"))
        .unwrap_or_else(|| panic!("no jail list in {out}"));
    line.split_once("Jail list:")
        .map(|(_, list)| list)
        .unwrap_or_default()
        .split(',')
        .map(|j| j.trim().to_string())
        .filter(|j| !j.is_empty())
        .collect()
}

fn client_status(f2b: &Fail2banServer) -> BTreeMap<String, BTreeMap<&'static str, f64>> {
    client_jails(f2b)
        .into_iter()
        .map(|j| {
            let c = client_counters(f2b, &j);
            (j, c)
        })
        .collect()
}

/// Runs `promtool check metrics` on `text`; panics with its findings.
fn promtool_check_metrics(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/install-deps installs Debian's prometheus)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write metrics");
    let out = child.wait_with_output().expect("promtool ran");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- exposition ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn scrape(app: &TestApp) -> String {
    let res = app.get("/metrics").await;
    assert_eq!(res.status().as_u16(), 200);
    res.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail2ban_series_equal_fail2ban_client_status_for_every_jail_and_pass_promtool() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    f2b.fail_ssh("203.0.113.20", 3);
    f2b.fail_app("198.51.100.20", 1); // one failure, below maxretry: counted, not banned
    f2b.client(&[
        "set",
        "blocklist-import",
        "banip",
        "192.0.2.30",
        "192.0.2.31",
    ]);
    f2b.wait_banned("sshd", "203.0.113.20");

    // fail2ban's counters move while it reads the log lines; compare once they stand still
    // across the poll and the scrape.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (expected, text) = loop {
        let before = client_status(&f2b);
        app.state.fail2ban_status.poll().await;
        let text = scrape(&app).await;
        let after = client_status(&f2b);
        let app_failed = before
            .get("bangui-app")
            .and_then(|c| c.get("f2b_jail_failed_total"))
            .copied()
            .unwrap_or(0.0);
        if before == after && app_failed >= 1.0 {
            break (after, text);
        }
        assert!(
            Instant::now() < deadline,
            "fail2ban's counters never settled"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let got = samples(&text);
    assert_eq!(got.get("f2b_up"), Some(&1.0), "{text}");
    assert_eq!(
        got.get("f2b_jail_count"),
        Some(&(expected.len() as f64)),
        "{text}"
    );
    assert!(expected.len() >= 3, "{expected:?}");
    for (jail, counters) in &expected {
        for (series, value) in counters {
            let key = format!("{series}{{jail=\"{jail}\"}}");
            assert_eq!(got.get(&key), Some(value), "{key} in\n{text}");
        }
    }
    let jail_series = got
        .keys()
        .filter(|k| k.starts_with("f2b_jail_banned_current{"))
        .count();
    assert_eq!(jail_series, expected.len(), "one series per jail, no more");
    for key in [
        "f2b_errors{type=\"socket_conn\"}",
        "f2b_errors{type=\"socket_req\"}",
        "bangui_archive_rows",
        "bangui_archive_sync_lag_seconds",
        "bangui_events_published_total{type=\"ban\"}",
    ] {
        assert!(got.contains_key(key), "{key} missing in\n{text}");
    }
    for kind in ["sent", "failed", "dropped"] {
        assert!(
            text.contains(&format!("# TYPE bangui_notifications_{kind}_total counter")),
            "bangui_notifications_{kind}_total is declared"
        );
    }
    promtool_check_metrics(&text);

    // Once the archive has the bans, the archive and country series count them.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        app.state.history.sync_once().await.expect("sync");
        let got = samples(&scrape(&app).await);
        if got.get("bangui_archive_rows").copied().unwrap_or(0.0) >= 3.0 {
            let lag = got["bangui_archive_sync_lag_seconds"];
            assert!((0.0..60.0).contains(&lag), "lag {lag}");
            let by_country: f64 = got
                .iter()
                .filter(|(k, _)| k.starts_with("bangui_bans_by_country{"))
                .map(|(_, v)| v)
                .sum();
            assert_eq!(
                by_country, 3.0,
                "every archived ban is in one country label"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the bans were never archived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_fail2ban_shows_as_down_without_stale_jail_series() {
    let mut f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.state.fail2ban_status.poll().await;
    assert!(scrape(&app).await.contains("\nf2b_up 1\n"));
    f2b.stop();
    app.state.fail2ban_status.poll().await;
    let text = scrape(&app).await;
    let got = samples(&text);
    assert_eq!(got.get("f2b_up"), Some(&0.0), "{text}");
    assert!(
        got.get("f2b_errors{type=\"socket_conn\"}")
            .copied()
            .unwrap_or(0.0)
            >= 1.0,
        "{text}"
    );
    assert!(!got.keys().any(|k| k.starts_with("f2b_jail_")), "{text}");
    promtool_check_metrics(&text);
    app.stop().await;
}
