//! Notifications, specified against real receivers spawned in the test: a local HTTP server
//! that records every request (the signed webhook, ntfy, chat, Matrix and Telegram formats) and
//! a local SMTP server that receives the e-mail from the real SMTP client. Channels are managed
//! over the HTTP API as an admin; notices enter through the application's own pipeline.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::app::TestApp;
use crate::support::receivers::{HttpReceiver, Received, SmtpReceiver};
use bangui::domain::notification::{Notice, NoticeKind};

const SECRET: &str = "s3cret-signing-key";

pub async fn app() -> TestApp {
    let app = TestApp::builder()
        .env("BANGUI_NOTIFICATIONS_RETRY_BASE_MILLISECONDS", "100")
        .env("BANGUI_NOTIFICATIONS_MAX_ATTEMPTS", "3")
        .env("BANGUI_NOTIFICATIONS_TIMEOUT_SECONDS", "5")
        .spawn()
        .await;
    app.setup_admin().await;
    app
}

pub async fn create(app: &TestApp, body: Value) -> i64 {
    let (status, created) = app
        .send_json(Method::POST, "/api/v1/notifications/channels", body)
        .await;
    assert_eq!(status, 201, "create channel: {created}");
    created["id"].as_i64().unwrap()
}

pub fn webhook_channel(url: &str, interval: u32) -> Value {
    json!({
        "name": "ops webhook",
        "config": {"kind": "webhook", "url": format!("{url}/hook")},
        "secrets": {"signing_secret": SECRET},
        "rules": {"events": ["ban", "jail_stopped"], "digest_interval_seconds": interval},
    })
}

/// Checks the signature headers the way a receiver must: HMAC-SHA256 over `timestamp.body`
/// with the shared secret, and a timestamp at most five minutes old.
pub fn assert_signed(r: &Received) {
    let ts: i64 = r
        .header("x-bangui-timestamp")
        .expect("timestamp header")
        .parse()
        .expect("numeric timestamp");
    let age = chrono::Utc::now().timestamp() - ts;
    assert!(
        (0..300).contains(&age),
        "stale or future timestamp: {age} s"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&r.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(r.header("x-bangui-signature"), Some(expected.as_str()));
}

pub fn ban(ip: &str, jail: &str, country: &str) -> Notice {
    let mut n = Notice::new(NoticeKind::Ban, chrono::Utc::now().timestamp());
    n.ip = ip.parse().ok();
    n.jail = Some(jail.into());
    n.country = Some(country.into());
    n
}

async fn deliveries(app: &TestApp, id: i64) -> Vec<Value> {
    let (status, body) = app
        .get_json(&format!("/api/v1/notifications/channels/{id}/deliveries"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// Polls the delivery log until `ok` accepts it (at most 20 s).
async fn wait_log(app: &TestApp, id: i64, ok: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = deliveries(app, id).await;
        if ok(&rows) {
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "delivery log never matched: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn channels_are_for_admins_and_their_secrets_are_write_only() {
    let app = app().await;
    let hook = HttpReceiver::start(0).await;
    let anonymous = app
        .anonymous()
        .get(app.url("/api/v1/notifications/channels"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let id = create(&app, webhook_channel(&hook.url, 60)).await;
    let (status, listed) = app.get_json("/api/v1/notifications/channels").await;
    assert_eq!(status, 200);
    assert!(
        !listed.to_string().contains(SECRET),
        "secret leaked: {listed}"
    );
    assert_eq!(
        listed["items"][0]["secrets"],
        json!({"signing_secret": true})
    );
    assert_eq!(listed["items"][0]["kind"], "webhook");

    // Replacing without naming the secret keeps it; clearing it leaves the channel unable to
    // deliver, and a test says why.
    let mut body = webhook_channel(&hook.url, 30);
    body.as_object_mut().unwrap().remove("secrets");
    let path = format!("/api/v1/notifications/channels/{id}");
    let (status, updated) = app.send_json(Method::PUT, &path, body.clone()).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["secrets"]["signing_secret"], true);
    assert_eq!(updated["rules"]["digest_interval_seconds"], 30);
    body["secrets"] = json!({"signing_secret": null});
    let (status, cleared) = app.send_json(Method::PUT, &path, body).await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["secrets"]["signing_secret"], false);
    let (_, tested) = app
        .send_json(Method::POST, &format!("{path}/test"), json!({}))
        .await;
    assert_eq!(tested["delivered"], false);
    assert!(
        tested["error"].as_str().unwrap().contains("signing_secret"),
        "{tested}"
    );
    assert!(hook.received().is_empty(), "nothing unsigned goes out");

    // Objects must be objects: serde would read a struct from an array of its fields.
    let mut arrayed = webhook_channel(&hook.url, 60);
    arrayed["name"] = json!("arrayed");
    arrayed["secrets"] = json!([SECRET]);
    let (status, refused) = app
        .send_json(Method::POST, "/api/v1/notifications/channels", arrayed)
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error_code"], "validation_error");

    // Bad input names its field.
    let mut bad = webhook_channel("ftp://example.org", 60);
    bad["name"] = json!("other");
    let (status, refused) = app
        .send_json(Method::POST, "/api/v1/notifications/channels", bad)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("config.url"));
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/notifications/channels",
            webhook_channel(&hook.url, 60),
        )
        .await;
    assert_eq!(status, 409, "names are unique");

    let res = app.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let (status, _) = app.get_json(&path).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_gets_the_first_ban_at_once_and_the_rest_of_a_burst_as_one_signed_digest() {
    let app = app().await;
    let hook = HttpReceiver::start(0).await;
    let id = create(&app, webhook_channel(&hook.url, 3)).await;

    app.state
        .notifications
        .publish(ban("192.0.2.1", "sshd", "DE"));
    let first = hook.wait_for(1, Duration::from_secs(10)).await;
    for i in 2..=40 {
        let country = if i % 4 == 0 { "FR" } else { "CN" };
        app.state
            .notifications
            .publish(ban(&format!("192.0.2.{i}"), "sshd", country));
    }
    // Filtered out by the rules: an unban, and nothing else arrives for it.
    let mut unban = ban("192.0.2.1", "sshd", "DE");
    unban.kind = NoticeKind::Unban;
    app.state.notifications.publish(unban);

    let all = hook.wait_for(2, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let all_after = hook.received();
    assert_eq!(all_after.len(), 2, "one event, one digest: {all:#?}");
    for r in &all_after {
        assert_signed(r);
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/hook");
    }
    let event = first[0].json();
    assert_eq!(event["type"], "event");
    assert_eq!(event["kind"], "ban");
    assert_eq!(event["ip"], "192.0.2.1");
    let digest = all_after[1].json();
    assert_eq!(digest["type"], "digest");
    assert_eq!(digest["total"], 39);
    assert_eq!(
        digest["top_countries"][0],
        json!({"key": "CN", "count": 29})
    );
    assert_eq!(
        digest["top_countries"][1],
        json!({"key": "FR", "count": 10})
    );
    assert_eq!(digest["jails"], json!([{"key": "sshd", "count": 39}]));
    assert_ne!(
        all_after[0].header("x-bangui-delivery"),
        all_after[1].header("x-bangui-delivery")
    );

    let log = wait_log(&app, id, |rows| {
        rows.len() == 2 && rows.iter().all(|r| r["status"] == "sent")
    })
    .await;
    assert_eq!(log[0]["kind"], "digest");
    assert_eq!(log[0]["notices"], 39);
    assert_eq!(log[1]["kind"], "event");
    app.stop().await;
}

#[tokio::test]
async fn a_receiver_answering_500_gets_the_same_message_again_until_it_accepts_it() {
    let app = app().await;
    let hook = HttpReceiver::start(2).await;
    let id = create(&app, webhook_channel(&hook.url, 60)).await;
    app.state
        .notifications
        .publish(ban("198.51.100.7", "sshd", "US"));

    let got = hook.wait_for(3, Duration::from_secs(15)).await;
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![500, 500, 200]
    );
    let delivery = got[0].header("x-bangui-delivery").unwrap().to_string();
    for r in &got {
        assert_signed(r);
        assert_eq!(r.header("x-bangui-delivery"), Some(delivery.as_str()));
        assert_eq!(r.json()["ip"], "198.51.100.7");
    }
    let log = wait_log(&app, id, |rows| {
        rows.first().is_some_and(|r| r["status"] == "sent")
    })
    .await;
    assert_eq!(log[0]["attempts"], 3);
    assert!(log[0]["last_error"].as_str().unwrap().contains("500"));

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("bangui_notifications_sent_total{channel=\"webhook\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("bangui_notifications_failed_total{channel=\"webhook\"} 2"));
    app.stop().await;
}

#[tokio::test]
async fn a_message_is_dead_lettered_after_the_last_attempt() {
    let app = app().await;
    let hook = HttpReceiver::start(usize::MAX).await;
    let id = create(&app, webhook_channel(&hook.url, 60)).await;
    app.state
        .notifications
        .publish(ban("198.51.100.9", "sshd", "US"));
    let log = wait_log(&app, id, |rows| {
        rows.first().is_some_and(|r| r["status"] == "dead")
    })
    .await;
    assert_eq!(log[0]["attempts"], 3, "BANGUI_NOTIFICATIONS_MAX_ATTEMPTS");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(hook.received().len(), 3, "no attempt after the last");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("bangui_notifications_dead_letter_total{channel=\"webhook\"} 1"));
    app.stop().await;
}

#[tokio::test]
async fn the_smtp_server_receives_the_e_mail_of_a_test_message_and_of_a_ban() {
    let app = app().await;
    let smtp = SmtpReceiver::start().await;
    let id = create(
        &app,
        json!({
            "name": "mail",
            "config": {"kind": "email", "host": "127.0.0.1", "port": smtp.port, "security": "plain",
                       "from": "bangui@example.org", "to": ["ops@example.org", "sec@example.org"]},
            "rules": {"digest_interval_seconds": 60},
        }),
    )
    .await;
    let (status, result) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/notifications/channels/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["delivered"], true, "{result}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].from, "bangui@example.org");
    assert_eq!(mails[0].to, vec!["ops@example.org", "sec@example.org"]);
    assert!(
        mails[0].data.contains("Subject: BanGUI: test message"),
        "{}",
        mails[0].data
    );
    assert!(
        mails[0]
            .data
            .contains("Test message for the channel \"mail\"")
    );

    app.state
        .notifications
        .publish(ban("203.0.113.5", "sshd", "BR"));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while smtp.mails().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the ban mail never came"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = &smtp.mails()[1];
    assert!(mail.data.contains("Subject: BanGUI: ban"), "{}", mail.data);
    assert!(
        mail.data.contains("ban 203.0.113.5 (BR) in sshd"),
        "{}",
        mail.data
    );
    app.stop().await;
}

#[tokio::test]
async fn ntfy_chat_matrix_and_telegram_messages_reach_configurable_base_urls() {
    let app = app().await;
    let server = HttpReceiver::start(0).await;
    let url = &server.url;
    let channels = [
        json!({"name": "ntfy", "config": {"kind": "ntfy", "base_url": url, "topic": "bans"},
               "secrets": {"access_token": "tk_ntfy"}}),
        json!({"name": "discord", "config": {"kind": "chat", "flavor": "discord"},
               "secrets": {"webhook_url": format!("{url}/api/webhooks/1/abc")}}),
        json!({"name": "slack", "config": {"kind": "chat", "flavor": "slack"},
               "secrets": {"webhook_url": format!("{url}/services/T/B/X")}}),
        json!({"name": "matrix", "config": {"kind": "matrix", "homeserver": url, "room_id": "!room:example.org"},
               "secrets": {"access_token": "syt_matrix"}}),
        json!({"name": "telegram", "config": {"kind": "telegram", "api_base": url, "chat_id": "-1001"},
               "secrets": {"bot_token": "123:ABC"}}),
    ];
    for (i, body) in channels.into_iter().enumerate() {
        let id = create(&app, body).await;
        let (status, result) = app
            .send_json(
                Method::POST,
                &format!("/api/v1/notifications/channels/{id}/test"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(result["delivered"], true, "{result}");
        server.wait_for(i + 1, Duration::from_secs(5)).await;
    }
    let got = server.received();
    assert_eq!(got[0].path, "/bans");
    assert_eq!(got[0].header("title"), Some("BanGUI: test message"));
    assert_eq!(got[0].header("authorization"), Some("Bearer tk_ntfy"));
    assert!(got[0].text().contains("Test message"));
    assert_eq!(got[1].path, "/api/webhooks/1/abc");
    assert!(
        got[1].json()["content"]
            .as_str()
            .unwrap()
            .contains("Test message")
    );
    assert_eq!(got[2].path, "/services/T/B/X");
    assert!(
        got[2].json()["text"]
            .as_str()
            .unwrap()
            .contains("Test message")
    );
    assert_eq!(got[3].method, "PUT");
    assert!(
        got[3]
            .path
            .replace("%21", "!")
            .starts_with("/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/bangui-"),
        "{}",
        got[3].path
    );
    assert_eq!(got[3].header("authorization"), Some("Bearer syt_matrix"));
    assert_eq!(got[3].json()["msgtype"], "m.notice");
    assert_eq!(got[4].path, "/bot123:ABC/sendMessage");
    assert_eq!(got[4].json()["chat_id"], "-1001");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_test_message_says_why_without_showing_the_token() {
    let app = app().await;
    let server = HttpReceiver::start_with(usize::MAX, 401).await;
    let id = create(
        &app,
        json!({"name": "telegram", "config": {"kind": "telegram", "api_base": server.url, "chat_id": "42"},
               "secrets": {"bot_token": "999:TOPSECRET"}}),
    )
    .await;
    let (status, result) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/notifications/channels/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(result["delivered"], false);
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("401"), "{error}");
    let log = deliveries(&app, id).await;
    assert_eq!(log[0]["status"], "failed");
    assert!(!format!("{result}{log:?}").contains("TOPSECRET"));

    // An unreachable receiver: the transport error carries no URL (which holds the token).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/notifications/channels/{id}"),
            json!({"name": "telegram", "config": {"kind": "telegram", "api_base": dead, "chat_id": "42"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, result) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/notifications/channels/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(result["delivered"], false);
    assert!(!result.to_string().contains("TOPSECRET"), "{result}");
    app.stop().await;
}
