//! The history API against a real private fail2ban: bans caused by real log lines appear in the
//! IP's timeline with the lines that matched, live state and totals; an unban through BanGUI's
//! API and an unban made with `fail2ban-client` both turn the archived ban `lifted` (in the
//! history, the IP page and the dashboard's ban list, whose "active only" filter then drops
//! them); the export streams exactly the rows the
//! API pages show; bad input is a 400 naming the parameter; an unknown IP is an empty story.

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;
use reqwest::Method;
use serde_json::{Value, json};

fn states(body: &Value) -> Vec<String> {
    body["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|e| e["state"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn real_bans_show_their_log_lines_and_every_unban_turns_them_lifted() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.setup_admin().await;

    let (a, b) = ("192.0.2.31", "192.0.2.32");
    f2b.fail_ssh(a, 5);
    f2b.fail_ssh(b, 5);
    f2b.wait_banned("sshd", a);
    f2b.wait_banned("sshd", b);

    // The ban is archived with the log lines that caused it, and the IP page tells its story.
    let story = app
        .wait_for_json(&format!("/api/v1/history/{a}"), |v| {
            v["total_bans"].as_i64() == Some(1)
        })
        .await;
    let entry = &story["timeline"][0];
    assert_eq!(entry["jail"], "sshd");
    assert_eq!(entry["state"], "active");
    let lines: Vec<&str> = entry["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!lines.is_empty(), "matched lines: {entry}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("Failed password") && l.contains(a)),
        "{lines:?}"
    );
    assert!(entry["failures"].as_i64().unwrap_or(0) >= 1);
    assert_eq!(story["jails"][0]["jail"], "sshd");
    assert_eq!(story["jails"][0]["bans"], 1);
    assert!(story["first_seen"].is_string() && story["last_seen"].is_string());
    assert_eq!(story["banned_in"], json!(["sshd"]));
    assert!(story["ignored_in"].as_array().is_some_and(|i| i.is_empty()));

    // The search finds it with combined filters, and the export streams the same rows.
    let (status, page) = app
        .get_json(&format!(
            "/api/v1/history?ip={a}&jail=sshd&state=active&range=24h"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["total"], 1);

    // fail2ban's own database answers the same ban with source=fail2ban (before any unban:
    // fail2ban deletes an unbanned IP's rows).
    let (status, page) = app
        .get_json(&format!("/api/v1/history?source=fail2ban&ip={a}"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["ip"], a, "{page}");
    assert_eq!(page["items"][0]["jail"], "sshd");

    // The dashboard's "active only" list shows both running bans.
    let active = app
        .wait_for_json("/api/v1/dashboard/bans?range=24h&state=active", |v| {
            v["total"].as_i64() == Some(2)
        })
        .await;
    assert!(
        active["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["state"] == "active"),
        "{active}"
    );

    // Unban through the API: lifted at once, by the admin.
    let (status, body) = app
        .send_json(
            Method::DELETE,
            "/api/v1/bans",
            json!({"ip": a, "jail": "sshd"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, story) = app.get_json(&format!("/api/v1/history/{a}")).await;
    assert_eq!(states(&story), ["lifted"]);
    assert_eq!(story["timeline"][0]["lifted_by"], "bangui:admin");
    assert_eq!(story["banned_in"], json!([]));

    // Unban elsewhere: the detector notices it and records the time it was seen.
    app.wait_for_json(&format!("/api/v1/history/{b}"), |v| {
        v["total_bans"].as_i64() == Some(1)
    })
    .await;
    f2b.client(&["set", "sshd", "unbanip", b]);
    let lifted = app.state.history_lifts.detect().await.expect("detect");
    assert_eq!(lifted, 1);
    let (_, story) = app.get_json(&format!("/api/v1/history/{b}")).await;
    assert_eq!(states(&story), ["lifted"]);
    assert_eq!(story["timeline"][0]["lifted_by"], "fail2ban");
    // Nothing else changes on the next run.
    assert_eq!(app.state.history_lifts.detect().await.expect("detect"), 0);

    // The dashboard's ban list no longer shows them as running.
    let (_, bans) = app.get_json("/api/v1/dashboard/bans?range=24h").await;
    let listed: Vec<(&str, &str)> = bans["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            (
                r["ip"].as_str().unwrap_or(""),
                r["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        listed.contains(&(a, "lifted")) && listed.contains(&(b, "lifted")),
        "{listed:?}"
    );

    // The "active only" list drops them; a state it does not know is a 400 naming `state`.
    let (_, active) = app
        .get_json("/api/v1/dashboard/bans?range=24h&state=active")
        .await;
    assert_eq!(active["total"], 0, "{active}");
    assert_eq!(active["items"], json!([]));
    let (status, err) = app.get_json("/api/v1/dashboard/bans?state=running").await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["details"]["field"], "state", "{err}");

    // state=lifted finds both; state=active none of them.
    let (_, page) = app.get_json("/api/v1/history?state=lifted").await;
    assert_eq!(page["total"], 2);
    let (_, page) = app.get_json("/api/v1/history?state=active&jail=sshd").await;
    assert_eq!(page["total"], 0);

    // Banned again: the IP page lists the newest `limit` bans and says there are more; the
    // totals still count every ban. A limit outside 1..=500 is a 400 naming `limit`.
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/bans",
            json!({"ip": a, "jail": "sshd"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.wait_for_json(&format!("/api/v1/history/{a}"), |v| {
        v["total_bans"].as_i64() == Some(2)
    })
    .await;
    let (status, story) = app.get_json(&format!("/api/v1/history/{a}?limit=1")).await;
    assert_eq!(status, 200, "{story}");
    assert_eq!(states(&story), ["active"]);
    assert_eq!(story["timeline_truncated"], true);
    assert_eq!(story["jails"][0]["bans"], 2);
    // The per-day counts (the IP page's chart) cover every ban, not only the listed one.
    let days = story["days"].as_array().expect("days");
    let counted: i64 = days.iter().filter_map(|d| d["bans"].as_i64()).sum();
    assert_eq!(counted, 2, "{story}");
    let newest_day = days.last().and_then(|d| d["day"].as_str()).expect("a day");
    assert!(
        story["timeline"][0]["banned_at"]
            .as_str()
            .is_some_and(|t| t.starts_with(newest_day)),
        "{story}"
    );
    let (_, story) = app.get_json(&format!("/api/v1/history/{a}")).await;
    assert_eq!(states(&story), ["active", "lifted"]);
    assert_eq!(story["timeline_truncated"], false);
    for bad in ["0", "501", "many"] {
        let (status, err) = app
            .get_json(&format!("/api/v1/history/{a}?limit={bad}"))
            .await;
        assert_eq!(status, 400, "limit={bad}: {err}");
        assert_eq!(err["details"]["field"], "limit", "limit={bad}: {err}");
    }

    app.stop().await;
}

#[tokio::test]
async fn export_streams_exactly_the_rows_of_the_pages_and_bad_input_names_the_parameter() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.setup_admin().await;
    let ips = ["192.0.2.41", "192.0.2.42", "192.0.2.43"];
    for ip in ips {
        f2b.fail_ssh(ip, 5);
    }
    for ip in ips {
        f2b.wait_banned("sshd", ip);
    }
    app.wait_for_json("/api/v1/history?jail=sshd", |v| {
        v["total"].as_u64() == Some(3)
    })
    .await;

    // Pages of two, walked with the cursor.
    let mut paged: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get_json(&format!(
                "/api/v1/history?jail=sshd&page_size=2&order=oldest&cursor={cursor}"
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        paged.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(paged.len(), 3);

    let res = app
        .get("/api/v1/history/export?jail=sshd&order=oldest&format=ndjson")
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap_or_default(),
        "application/x-ndjson"
    );
    let text = res.text().await.expect("body");
    let exported: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(exported, paged);

    let csv = app
        .get("/api/v1/history/export?jail=sshd&order=oldest")
        .await
        .text()
        .await
        .expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("id,host,jail,ip,banned_at"));
    for (line, row) in lines[1..].iter().zip(&paged) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0], row["id"].to_string());
        assert_eq!(fields[3], row["ip"].as_str().unwrap_or_default());
        assert_eq!(fields[13], row["state"].as_str().unwrap_or_default());
    }

    // Bad input: 400 naming the parameter.
    for (query, field) in [
        ("ip=10.0.0.0/7", "ip"),
        ("ip=2001:db8::/31", "ip"),
        ("ip=not-an-ip", "ip"),
        ("from=yesterday", "from"),
        ("to=2024-13-45", "to"),
        ("cursor=abc", "cursor"),
        ("country=Germany", "country"),
        ("asn=big", "asn"),
        ("state=running", "state"),
        ("order=sideways", "order"),
        ("source=elsewhere", "source"),
        ("source=fail2ban&country=DE", "country"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/history?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["details"]["field"], field, "{query}: {body}");
        let (status, _) = app
            .get_json(&format!("/api/v1/history/export?{query}"))
            .await;
        assert_eq!(status, 400, "export {query}");
    }
    let (status, body) = app.get_json("/api/v1/history/export?format=xml").await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (400, Some("format"))
    );
    let (status, body) = app.get_json("/api/v1/history/not-an-ip").await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (400, Some("ip"))
    );

    // An IP never banned: an empty story, not an error.
    let (status, body) = app.get_json("/api/v1/history/203.0.113.250").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["timeline"], json!([]));
    assert_eq!(body["total_bans"], 0);
    assert_eq!(body["first_seen"], Value::Null);

    // Top offenders: computed off the request path; all three appear once computed.
    app.state.top_offenders.refresh().await.expect("top");
    let (status, top) = app.get_json("/api/v1/dashboard/top-ips?range=24h").await;
    assert_eq!(status, 200, "{top}");
    let listed: Vec<&str> = top["ips"]
        .as_array()
        .expect("ips")
        .iter()
        .filter_map(|e| e["ip"].as_str())
        .collect();
    for ip in ips {
        assert!(listed.contains(&ip), "{top}");
    }
    assert_eq!(top["ips"][0]["count"], 1);
    assert_eq!(top["ips"][0]["jails"], json!(["sshd"]));
    let (status, _) = app.get_json("/api/v1/dashboard/top-ips?limit=0").await;
    assert_eq!(status, 400);

    app.stop().await;
}
