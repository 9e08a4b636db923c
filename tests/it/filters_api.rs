//! Filters and actions from the browser against a real private fail2ban and its own
//! configuration directory: the lists name the jails using each file; one file reads back
//! parsed and raw; a filter created through the API is tried in the regex tester, attached to a
//! jail and bans from log lines; a filter in use is changed with its jails reloaded; BanGUI
//! deletes only its own files and never a filter a jail still needs; bad names are 400 and
//! change nothing.

use std::io::Write;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;

fn item<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"]
        .as_array()
        .and_then(|i| i.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[tokio::test]
async fn filters_and_actions_are_listed_with_their_jails_and_read_parsed_and_raw() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.setup_admin().await;

    let (status, list) = app.get_json("/api/v1/filters").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(item(&list, "sshd")["jails"], json!(["sshd"]));
    assert_eq!(item(&list, "bangui-app")["jails"], json!(["bangui-app"]));
    assert_eq!(item(&list, "sshd")["has_local"], false);
    assert_eq!(
        item(&list, "apache-auth")["jails"],
        json!(["apache-auth"]),
        "jails of the configuration count, enabled or not"
    );

    let (status, sshd) = app.get_json("/api/v1/filters/sshd").await;
    assert_eq!(status, 200, "{sshd}");
    assert_eq!(sshd["includes"]["before"], "common.conf");
    assert_eq!(
        sshd["definition"]["failregex"], "%(cmnfailre)s\n<mdre-<mode>>\n%(cfooterre)s",
        "values are shown as written: {sshd}"
    );
    assert!(sshd["definition"].get("prefregex").is_some());
    let (_, app_filter) = app.get_json("/api/v1/filters/bangui-app").await;
    assert_eq!(
        app_filter["definition"]["datepattern"],
        "{^LN-BEG}%%Y-%%m-%%d %%H:%%M:%%S"
    );
    assert!(sshd["conf_text"].as_str().unwrap().contains("[Definition]"));
    assert_eq!(sshd["local_text"], Value::Null);

    let (status, actions) = app.get_json("/api/v1/actions").await;
    assert_eq!(status, 200, "{actions}");
    let dummy = item(&actions, "dummy");
    assert!(
        dummy["jails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j == "sshd"),
        "{dummy}"
    );
    let (status, one) = app.get_json("/api/v1/actions/dummy").await;
    assert_eq!(status, 200, "{one}");
    assert!(one["definition"].get("actionban").is_some(), "{one}");

    for bad in ["a..b", ".hidden", "a%00b", &"x".repeat(65)] {
        let (status, body) = app.get_json(&format!("/api/v1/filters/{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = app.get_json("/api/v1/filters/no-such-filter").await;
    assert_eq!(status, 404);
    let res = app
        .request(Method::OPTIONS, "/api/v1/filters/sshd")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("PUT") && allow.contains("DELETE"), "{allow}");
    app.stop().await;
}

#[tokio::test]
async fn a_filter_written_in_the_browser_is_tested_attached_to_a_jail_and_bans_from_log_lines() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder()
        .fail2ban(&f2b)
        .env("BANGUI_FAIL2BAN_LOG_DIRS", f2b.dir().display().to_string())
        .env("BANGUI_FAIL2BAN_APPLY_WATCH_SECONDS", "0")
        .spawn()
        .await;
    app.setup_admin().await;
    let filter = "[Definition]\nfailregex = ^\\s*PORTAL DENIED from <HOST> user=<F-USER>\\S+</F-USER>\\s*$\nignoreregex =\ndatepattern = {^LN-BEG}%%Y-%%m-%%d %%H:%%M:%%S\n";

    // Bad names and content never reach the disk.
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/filters",
            json!({"name": "../x", "content": filter}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/filters",
            json!({"name": "sshd", "content": filter}),
        )
        .await;
    assert_eq!(status, 409, "an existing name is not overwritten: {body}");

    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/filters",
            json!({"name": "bangui-portal", "content": filter}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["changed"], true);
    assert!(created["diff"].as_str().unwrap().contains("+failregex"));
    let file = f2b.dir().join("etc/filter.d/bangui-portal.local");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("# Managed by BanGUI")
    );

    // The regex tester tries it by name.
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let lines = format!(
        "{now} PORTAL DENIED from 192.0.2.44 user=eve\n{now} PORTAL OK from 192.0.2.45 user=amy\n"
    );
    let (status, tested) = app
        .send_json(
            Method::POST,
            "/api/v1/regex/test",
            json!({"filter": "bangui-portal", "lines": lines}),
        )
        .await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(tested["counts"]["matched"], 1);
    assert_eq!(tested["matches"][0]["captures"]["user"], "eve");

    // Attached to a jail through the jail configuration, it bans from the log.
    let (status, applied) = app
        .send_json(
            Method::PUT,
            "/api/v1/config/jails/bangui-app",
            json!({"settings": {"filter": "bangui-portal"}}),
        )
        .await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["recovered"], false, "{applied}");
    let (_, list) = app.get_json("/api/v1/filters").await;
    assert_eq!(item(&list, "bangui-portal")["jails"], json!(["bangui-app"]));
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(f2b.dir().join("log/app.log"))
        .unwrap();
    for _ in 0..3 {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        writeln!(log, "{now} PORTAL DENIED from 192.0.2.44 user=eve").unwrap();
    }
    drop(log);
    f2b.wait_banned("bangui-app", "192.0.2.44");

    // A change of the filter in use reloads its jail.
    let (status, updated) = app
        .send_json(
            Method::PUT,
            "/api/v1/filters/bangui-portal",
            json!({"content": filter.replace("PORTAL DENIED", "PORTAL (?:DENIED|BLOCKED)")}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["reloaded_jails"],
        json!(["bangui-app"]),
        "{updated}"
    );
    assert_eq!(updated["recovered"], false, "{updated}");
    assert!(f2b.client(&["status"]).contains("bangui-app"));

    // Deleting it while the jail needs it is refused; a packaged filter is never deleted.
    let (status, body) = app
        .send_json(Method::DELETE, "/api/v1/filters/bangui-portal", json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error_code"], "config_file_in_use");
    let (status, body) = app
        .send_json(Method::DELETE, "/api/v1/filters/sshd", json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(file.exists());

    // A copy that no jail uses is deleted.
    let (status, copy) = app
        .send_json(
            Method::POST,
            "/api/v1/filters",
            json!({"name": "sshd-copy", "copy_from": "sshd"}),
        )
        .await;
    assert_eq!(status, 200, "{copy}");
    let (status, deleted) = app
        .send_json(Method::DELETE, "/api/v1/filters/sshd-copy", json!({}))
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert!(!f2b.dir().join("etc/filter.d/sshd-copy.local").exists());

    // Every write is audited with its diff.
    let (status, audit) = app.get_json("/api/v1/audit").await;
    assert_eq!(status, 200);
    let text = audit.to_string();
    assert!(text.contains("config.filter.create"), "{audit}");
    assert!(text.contains("config.filter.update"), "{audit}");
    app.stop().await;
}
