//! The regex tester (`POST /api/v1/regex/test`) against fail2ban's own `fail2ban-regex`: its
//! counts equal what fail2ban-regex prints for the packaged sample logs, typed regexes report
//! host, time and captures, bad regexes answer with fail2ban's error, a catastrophic regex is
//! stopped at the timeout while the server keeps answering, and log tails come only from the
//! allow-listed directories.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::app::TestApp;

const SAMPLES: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";

/// `Lines: N lines, N ignored, N matched, N missed` of a fail2ban-regex run of our own.
fn reference_counts(log: &Path, filter: &str) -> [u64; 4] {
    let out = std::process::Command::new("fail2ban-regex")
        .args(["--raw", "-e", "UTF-8"])
        .arg(log)
        .arg(filter)
        .output()
        .expect("fail2ban-regex runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("Lines: "))
        .unwrap_or_else(|| panic!("no summary for {filter}: {text}"));
    let n: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    [n[0], n[1], n[2], n[3]]
}

async fn test_regex(app: &TestApp, body: Value) -> (u16, Value) {
    app.send_json(Method::POST, "/api/v1/regex/test", body)
        .await
}

#[tokio::test]
async fn the_testers_counts_equal_fail2ban_regex_for_packaged_sample_logs() {
    let app = TestApp::builder()
        .env("BANGUI_FAIL2BAN_REGEX_TIMEOUT_SECONDS", "120")
        .spawn()
        .await;
    app.setup_admin().await;
    let filters = [
        "sshd",
        "nginx-http-auth",
        "apache-auth",
        "dovecot",
        "postfix",
        "vsftpd",
        "proftpd",
        "pure-ftpd",
        "named-refused",
        "exim",
        "mysqld-auth",
        "roundcube-auth",
    ];
    for filter in filters {
        let log = Path::new(SAMPLES).join(filter);
        let lines = std::fs::read_to_string(&log).expect("sample log");
        let (status, body) = test_regex(&app, json!({"filter": filter, "lines": lines})).await;
        assert_eq!(status, 200, "{filter}: {body}");
        let c = &body["counts"];
        let got = [
            c["lines"].as_u64().unwrap(),
            c["ignored"].as_u64().unwrap(),
            c["matched"].as_u64().unwrap(),
            c["missed"].as_u64().unwrap(),
        ];
        // Pasted text is whole lines: the tester ends it with a newline, and fail2ban-regex
        // skips a file's last line without one (a line still being written). The reference run
        // reads the same text as whole lines too (some sample logs lack the final newline).
        let reference_input = tempfile::NamedTempFile::new().unwrap();
        let mut whole_lines = lines.clone();
        if !whole_lines.ends_with('\n') {
            whole_lines.push('\n');
        }
        std::fs::write(reference_input.path(), whole_lines).unwrap();
        let log_for_reference = reference_input.path().to_path_buf();
        let filter_name = filter.to_string();
        let expected =
            tokio::task::spawn_blocking(move || reference_counts(&log_for_reference, &filter_name))
                .await
                .unwrap();
        assert_eq!(got, expected, "{filter}: tester vs fail2ban-regex");
        assert!(got[2] > 0, "{filter}: the sample log has matches");
        assert!(
            !body["matches"].as_array().unwrap().is_empty(),
            "{filter}: matches are listed"
        );
        assert!(
            body["date_templates"]
                .as_array()
                .is_some_and(|t| !t.is_empty()),
            "{filter}: date templates are reported"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_typed_failregex_reports_each_match_with_host_time_and_captures() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let lines = "2026-03-01 10:00:00 LOGIN FAILED user=alice ip=192.0.2.7\n\
                 2026-03-01 10:00:05 LOGIN OK user=bob ip=192.0.2.8\n\
                 2026-03-01 10:00:09 LOGIN FAILED user=test ip=192.0.2.9\n";
    let (status, body) = test_regex(
        &app,
        json!({
            "failregex": r"^\s*LOGIN FAILED user=<F-USER>\S+</F-USER> ip=<HOST>\s*$",
            "ignoreregex": "user=test",
            "datepattern": "{^LN-BEG}%Y-%m-%d %H:%M:%S",
            "lines": lines,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["counts"],
        json!({"lines": 3, "matched": 1, "missed": 1, "ignored": 1})
    );
    let m = &body["matches"][0];
    assert_eq!(m["host"], "192.0.2.7");
    assert_eq!(m["captures"]["user"], "alice");
    assert!(
        m["time"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-03-01T")),
        "{m}"
    );
    assert!(m["line"].as_str().unwrap().contains("user=alice"));
    assert_eq!(
        body["missed_lines"][0],
        "2026-03-01 10:00:05 LOGIN OK user=bob ip=192.0.2.8"
    );
    assert!(
        body["ignored_lines"][0]
            .as_str()
            .unwrap()
            .contains("user=test")
    );
    assert!(
        body["datepattern"]
            .as_str()
            .is_some_and(|d| d.starts_with("{^LN-BEG}%Y-%m-%d")),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_regex_fail2ban_cannot_use_answers_400_with_fail2bans_own_error() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, body) = test_regex(
        &app,
        json!({"failregex": "from <HOST>(", "lines": "x from 192.0.2.1"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_code"], "regex_invalid");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Unable to compile regular expression"),
        "{body}"
    );

    let (status, body) = test_regex(&app, json!({"failregex": "no host tag", "lines": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"]["field"], "failregex");

    for name in ["../etc/passwd", "a/b", "x\u{0}y", &"a".repeat(65)] {
        let (status, body) = test_regex(&app, json!({"filter": name, "lines": "x"})).await;
        assert_eq!(status, 400, "{name:?}: {body}");
        assert_eq!(body["details"]["field"], "filter");
    }
    let (status, body) = test_regex(&app, json!({"filter": "no-such-filter", "lines": "x"})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error_code"], "filter_not_found");
    app.stop().await;
}

#[tokio::test]
async fn catastrophic_backtracking_is_stopped_at_the_timeout_with_422_and_the_server_stays_responsive()
 {
    let app = TestApp::builder()
        .env("BANGUI_FAIL2BAN_REGEX_TIMEOUT_SECONDS", "3")
        .spawn()
        .await;
    app.setup_admin().await;
    let line = format!("2026-03-01 10:00:00 {}!", "a".repeat(64));
    let started = Instant::now();
    let mut live_answers = 0;
    let (status, body) = {
        let request = test_regex(
            &app,
            json!({"failregex": r"^\s*(a+)+$<HOST>", "lines": line}),
        );
        tokio::pin!(request);
        loop {
            tokio::select! {
                done = &mut request => break done,
                () = tokio::time::sleep(Duration::from_millis(300)) => {
                    let res = app.anonymous().get(app.url("/api/v1/health/live")).send().await.unwrap();
                    assert_eq!(res.status().as_u16(), 200);
                    live_answers += 1;
                }
            }
        }
    };
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error_code"], "regex_timeout");
    assert!(
        body["message"].as_str().unwrap().contains("backtrack"),
        "{body}"
    );
    assert!(
        live_answers > 0,
        "the liveness probe answered during the test"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the test was stopped, not left running"
    );
    app.stop().await;
}

#[tokio::test]
async fn log_tails_come_only_from_the_allow_listed_directories_and_viewers_may_not_test() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, body) =
        test_regex(&app, json!({"filter": "sshd", "log_path": "/etc/passwd"})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error_code"], "log_path_forbidden");
    let (status, body) = test_regex(
        &app,
        json!({"filter": "sshd", "log_path": "/var/log/../../etc/passwd"}),
    )
    .await;
    assert_eq!(status, 403, "links and dot-dots are resolved first: {body}");

    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "ro", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    let res = app
        .anonymous()
        .post(app.url("/api/v1/regex/test"))
        .bearer_auth(token)
        .json(&json!({"filter": "sshd", "lines": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "viewers cannot run the tester");
    app.stop().await;
}

#[tokio::test]
async fn a_logpath_glob_lists_its_files_with_sizes_last_lines_and_the_filters_matches() {
    let logs = tempfile::tempdir().unwrap();
    let dir = logs.path().canonicalize().unwrap();
    let matching = "2012/04/09 11:53:36 [error] 2865#0: *66647 user \"xyz\": password mismatch, client: 192.0.43.10, server: www.myhost.com, request: \"GET / HTTP/1.1\", host: \"www.myhost.com\"\n";
    let missed = "2020/11/25 14:42:16 [crit] 76952#76952: *2454307 SSL_do_handshake() failed while SSL handshaking, client: 142.93.180.14, server: 0.0.0.0:443\n";
    std::fs::write(
        dir.join("a.error.log"),
        format!("{matching}{missed}{matching}"),
    )
    .unwrap();
    std::fs::write(dir.join("b.error.log"), missed).unwrap();
    std::fs::write(dir.join("other.txt"), "not matched by the glob").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("c.error.log")).unwrap();
    let app = TestApp::builder()
        .env("BANGUI_FAIL2BAN_LOG_DIRS", dir.display().to_string())
        .env("BANGUI_FAIL2BAN_REGEX_TIMEOUT_SECONDS", "60")
        .spawn()
        .await;
    app.setup_admin().await;
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/regex/logpath",
            json!({"logpath": format!("{}/*.error.log", dir.display()), "filter": "nginx-http-auth"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let files = body["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{body}");
    let a = &files[0];
    assert!(a["path"].as_str().unwrap().ends_with("a.error.log"));
    assert_eq!(a["readable"], true);
    assert_eq!(a["size"], (2 * matching.len() + missed.len()) as u64);
    assert_eq!(a["last_lines"].as_array().unwrap().len(), 3);
    assert_eq!(
        a["matched"], 2,
        "fail2ban-regex matches two of the three lines"
    );
    assert_eq!(files[1]["matched"], 0);
    let c = &files[2];
    assert_eq!(
        c["allowed"], false,
        "a link out of the log directories is not followed: {c}"
    );
    assert_eq!(c["readable"], false);
    assert!(c["last_lines"].as_array().unwrap().is_empty());

    // A log tail for the regex tester comes from the same directories.
    let (status, body) = test_regex(
        &app,
        json!({"filter": "nginx-http-auth", "log_path": dir.join("a.error.log").display().to_string(), "tail_lines": 2}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["counts"]["lines"], 2);
    assert_eq!(body["counts"]["matched"], 1);
    assert_eq!(body["source"]["truncated"], true);
    app.stop().await;
}
