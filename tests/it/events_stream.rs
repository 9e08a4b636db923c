//! `GET /api/v1/events/stream` over real HTTP against a real private fail2ban: the stream
//! delivers a ban within 6 s of fail2ban banning (default sync interval), is neither buffered
//! nor compressed for proxies, needs credentials, resumes after `Last-Event-ID` with exactly
//! the missed events, starts with `reset` when they are gone, and hides admin events from a
//! viewer.

use std::time::{Duration, Instant};

use bangui::domain::event::EventKind;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;

/// One parsed SSE message.
#[derive(Debug, Clone, Default)]
struct Message {
    id: Option<u64>,
    event: Option<String>,
    data: Option<Value>,
}

/// Reads SSE messages from a streaming response.
struct Reader {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Reader {
    fn new(res: reqwest::Response) -> Self {
        Self {
            body: res.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next message with an `event:` (comments and `retry:` are skipped) before
    /// `deadline`; `None` when the deadline passes or the stream ends.
    async fn next(&mut self, deadline: Instant) -> Option<Message> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut m = Message::default();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        m.id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        m.event = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        m.data = serde_json::from_str(v).ok();
                    }
                }
                if m.event.is_some() {
                    return Some(m);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// The next message of type `event` before `deadline`, skipping others.
    async fn next_of(&mut self, event: &str, deadline: Instant) -> Option<Message> {
        loop {
            let m = self.next(deadline).await?;
            if m.event.as_deref() == Some(event) {
                return Some(m);
            }
        }
    }
}

async fn open(app: &TestApp, last_id: Option<u64>, token: Option<&str>) -> reqwest::Response {
    let mut req = match token {
        Some(t) => app
            .anonymous()
            .get(app.url("/api/v1/events/stream"))
            .bearer_auth(t),
        None => app.http.get(app.url("/api/v1/events/stream")),
    };
    req = req.header("Accept-Encoding", "gzip, br");
    if let Some(id) = last_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    req.send().await.expect("stream opened")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_delivers_a_ban_within_six_seconds_of_fail2ban_banning() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder()
        .fail2ban(&f2b)
        // The shipped default, not the harness's 1 s.
        .env("BANGUI_HISTORY_SYNC_INTERVAL_SECONDS", "2")
        .spawn()
        .await;
    app.setup_admin().await;
    let res = open(&app, None, None).await;
    assert_eq!(res.status().as_u16(), 200);
    let headers = res.headers().clone();
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    assert_eq!(
        headers
            .get("x-accel-buffering")
            .and_then(|v| v.to_str().ok()),
        Some("no")
    );
    assert_ne!(
        headers
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip"),
        "never compressed, whatever the client accepts"
    );
    let mut reader = Reader::new(res);

    let banned_at = Instant::now();
    f2b.client(&["set", "sshd", "banip", "203.0.113.77"]);
    let m = reader
        .next_of("ban", Instant::now() + Duration::from_secs(30))
        .await
        .expect("a ban event");
    let took = banned_at.elapsed();
    let data = m.data.expect("data");
    assert_eq!(data["ip"], "203.0.113.77");
    assert_eq!(data["jail"], "sshd");
    assert_eq!(data["type"], "ban");
    assert_eq!(m.id, data["id"].as_u64(), "the SSE id is the event's id");
    assert!(
        took < Duration::from_secs(6),
        "the ban reached the stream after {took:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_stream_needs_credentials_and_a_well_formed_last_event_id() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let anonymous = app
        .anonymous()
        .get(app.url("/api/v1/events/stream"))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status().as_u16(), 401);
    let bad = app
        .http
        .get(app.url("/api/v1/events/stream"))
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status().as_u16(), 400);
    let body: Value = bad.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Last-Event-ID"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_gets_exactly_what_it_missed_filtered_by_its_role() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "wall", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let viewer = created["token"].as_str().expect("token").to_string();

    let bus = &app.state.events;
    let seen = bus.publish(EventKind::JailStarted { jail: "a".into() });
    let missed_config = bus.publish(EventKind::ConfigApplied {
        change: "jail a".into(),
        actor: "admin".into(),
    });
    let missed_jail = bus.publish(EventKind::JailStopped { jail: "a".into() });

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut admin = Reader::new(open(&app, Some(seen), None).await);
    let first = admin.next(deadline).await.expect("backlog");
    assert_eq!(first.id, Some(missed_config));
    assert_eq!(first.event.as_deref(), Some("config_applied"));
    assert_eq!(
        admin.next(deadline).await.expect("backlog").id,
        Some(missed_jail)
    );

    let mut wall = Reader::new(open(&app, Some(seen), Some(&viewer)).await);
    let first = wall.next(deadline).await.expect("backlog");
    assert_eq!(
        first.id,
        Some(missed_jail),
        "the viewer does not see config_applied"
    );

    // Live events follow the backlog on both.
    let live = bus.publish(EventKind::JailStarted { jail: "b".into() });
    assert_eq!(admin.next(deadline).await.expect("live").id, Some(live));
    assert_eq!(wall.next(deadline).await.expect("live").id, Some(live));

    // An id this process never gave out: reset first.
    let mut stale = Reader::new(open(&app, Some(1), None).await);
    let first = stale.next(deadline).await.expect("reset");
    assert_eq!(first.event.as_deref(), Some("reset"));
    drop((admin, wall, stale));
    app.stop().await;
}
