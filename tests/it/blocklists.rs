//! Blocklist imports against a real private fail2ban and a list server spawned in the test
//! (actix-web on 127.0.0.1 serving real-format lists): the jail gains and loses exactly the
//! difference between runs (checked with `fail2ban-client`), unchanged lists are no-ops, a
//! jail that lost bans is repaired, and every fetch failure (HTTP 500, timeout, oversized body,
//! redirect to 127.0.0.1, a name resolving to 10.0.0.1) is a clear error in the run log with
//! nothing banned. The service is built here with an injected resolver; the HTTP API is tested
//! through the real application.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bangui::db::blocklists as repo;
use bangui::domain::JailName;
use bangui::domain::blocklist::{ImportSchedule, SourceUrl};
use bangui::fail2ban::{ClientConfig, Fail2banClient};
use bangui::services::blocklists::{
    BlocklistService, FetchLimits, Fetcher, ImportLimits, SourceInput, StaticResolver,
};
use reqwest::Method;
use serde_json::json;

use crate::support::app::TestApp;
use crate::support::fail2ban::Fail2banServer;

pub(crate) const JAIL: &str = "blocklist-import";

/// The list server: `/list` serves the current text with an ETag (and answers 304 to a
/// matching `If-None-Match`); other paths misbehave on purpose.
pub struct ListServer {
    pub port: u16,
    text: Arc<Mutex<String>>,
    handle: actix_web::dev::ServerHandle,
}

async fn list(req: HttpRequest, text: web::Data<Arc<Mutex<String>>>) -> HttpResponse {
    let body = text.lock().unwrap().clone();
    let etag = format!(
        "\"{:x}\"",
        body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
    );
    if req
        .headers()
        .get("if-none-match")
        .is_some_and(|v| v.to_str().unwrap_or_default() == etag)
    {
        return HttpResponse::NotModified().finish();
    }
    HttpResponse::Ok()
        .insert_header(("ETag", etag))
        .content_type("text/plain")
        .body(body)
}

async fn list_without_validators(text: web::Data<Arc<Mutex<String>>>) -> HttpResponse {
    HttpResponse::Ok().body(text.lock().unwrap().clone())
}

async fn broken() -> HttpResponse {
    HttpResponse::InternalServerError().body("upstream exploded")
}

async fn slow() -> HttpResponse {
    tokio::time::sleep(Duration::from_secs(30)).await;
    HttpResponse::Ok().body("1.2.3.4\n")
}

async fn big() -> HttpResponse {
    // Streamed without a Content-Length, so only counting the body can stop it.
    let line = web::Bytes::from_static(b"198.51.100.1\n");
    let chunks =
        futures_util::stream::iter((0..10_000).map(move |_| Ok::<_, std::io::Error>(line.clone())));
    HttpResponse::Ok().streaming(chunks)
}

async fn to_loopback(req: HttpRequest) -> HttpResponse {
    let port = req.app_config().local_addr().port();
    HttpResponse::Found()
        .insert_header(("Location", format!("http://127.0.0.1:{port}/list")))
        .finish()
}

impl ListServer {
    pub async fn start(initial: &str) -> Self {
        let text = Arc::new(Mutex::new(initial.to_string()));
        let data = web::Data::new(Arc::clone(&text));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/list", web::get().to(list))
                .route("/plain", web::get().to(list_without_validators))
                .route("/500", web::get().to(broken))
                .route("/slow", web::get().to(slow))
                .route("/big", web::get().to(big))
                .route("/to-loopback", web::get().to(to_loopback))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { port, text, handle }
    }

    pub fn set(&self, text: &str) {
        *self.text.lock().unwrap() = text.to_string();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

pub(crate) struct Fixture {
    pub(crate) f2b: Fail2banServer,
    pub(crate) service: BlocklistService,
    events: std::sync::Arc<bangui::services::events::EventBus>,
    pub(crate) db: sqlx::SqlitePool,
    _dir: tempfile::TempDir,
}

pub(crate) async fn fixture(limits: FetchLimits) -> Fixture {
    let f2b = Fail2banServer::start();
    let dir = tempfile::tempdir().unwrap();
    let db = bangui::db::connect(&dir.path().join("bangui.db"), Duration::from_secs(5))
        .await
        .unwrap();
    let mut config = ClientConfig::new(f2b.socket());
    config.command_timeout = Duration::from_secs(120);
    let resolver = StaticResolver(HashMap::from([
        ("lists.test".to_string(), vec![IpAddr::from([127, 0, 0, 1])]),
        ("evil.test".to_string(), vec![IpAddr::from([10, 0, 0, 1])]),
    ]));
    let events = std::sync::Arc::new(bangui::services::events::EventBus::default());
    let service = BlocklistService::new(
        db.clone(),
        Fail2banClient::new(config),
        Fetcher::new(Arc::new(resolver), limits),
        ImportLimits {
            batch_size: 2,
            verify_every: Duration::from_secs(3600),
            pause: Duration::ZERO,
        },
        std::sync::Arc::clone(&events),
    );
    Fixture {
        f2b,
        service,
        events,
        db,
        _dir: dir,
    }
}

pub(crate) fn limits() -> FetchLimits {
    FetchLimits {
        max_bytes: 1 << 20,
        timeout: Duration::from_secs(10),
    }
}

pub(crate) fn source(url: &str, allow_internal: bool) -> SourceInput {
    SourceInput {
        name: "test list".into(),
        url: SourceUrl::parse(url).unwrap(),
        enabled: true,
        jail: JailName::parse(JAIL).unwrap(),
        schedule: ImportSchedule::Manual,
        allow_internal,
    }
}

pub(crate) fn banned(f2b: &Fail2banServer) -> BTreeSet<String> {
    f2b.banned(JAIL).into_iter().collect()
}

pub(crate) fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub(crate) const DROP_V1: &str = "; Spamhaus DROP List 2026/11/29\n\
                       ; Last-Modified: Sun, 29 Nov 2026 10:00:00 GMT\n\
                       203.0.113.0/24 ; SBL100001\n\
                       198.51.100.7\n\
                       198.51.100.8 ; SBL100002\n\
                       2001:db8:77::/48 ; SBL100003\n\
                       not-an-address\n";

const DROP_V2: &str = "; Spamhaus DROP List 2026/11/30\n\
                       203.0.113.0/24 ; SBL100001\n\
                       198.51.100.8 ; SBL100002\n\
                       192.0.2.55\n\
                       2001:db8:77::/48 ; SBL100003\n\
                       2001:db8:99::1\n";

#[tokio::test]
async fn a_list_that_grows_and_shrinks_changes_the_jail_by_exactly_the_difference() {
    let fx = fixture(limits()).await;
    let lists = ListServer::start(DROP_V1).await;
    let src = fx
        .service
        .create(&source(&lists.url("/plain"), true))
        .await
        .unwrap();

    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!(run.state, "completed", "{run:?}");
    assert_eq!(
        (run.entries, run.added, run.removed, run.invalid),
        (4, 4, 0, 1)
    );
    assert_eq!(
        banned(&fx.f2b),
        set(&[
            "203.0.113.0/24",
            "198.51.100.7",
            "198.51.100.8",
            "2001:db8:77::/48"
        ])
    );

    lists.set(DROP_V2);
    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!(run.state, "completed", "{run:?}");
    assert_eq!((run.entries, run.added, run.removed), (5, 2, 1));
    assert_eq!(
        banned(&fx.f2b),
        set(&[
            "203.0.113.0/24",
            "198.51.100.8",
            "192.0.2.55",
            "2001:db8:77::/48",
            "2001:db8:99::1"
        ])
    );

    lists.set("198.51.100.8\n");
    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!((run.added, run.removed), (0, 4));
    assert_eq!(banned(&fx.f2b), set(&["198.51.100.8"]));
    let log = fx.service.log(src.id, 100).await.unwrap();
    assert!(
        log.iter()
            .any(|l| l.level == "warn" && l.message.contains("not-an-address")),
        "the invalid line is in the log: {log:?}"
    );
    lists.stop().await;
}

#[tokio::test]
async fn an_unchanged_list_is_a_no_op_by_etag_or_by_content_hash() {
    let fx = fixture(limits()).await;
    let lists = ListServer::start(DROP_V1).await;
    let with_etag = fx
        .service
        .create(&source(&lists.url("/list"), true))
        .await
        .unwrap();
    let first = fx
        .service
        .import_and_wait(with_etag.id, true)
        .await
        .unwrap();
    assert_eq!(first.added, 4);

    let again = fx
        .service
        .import_and_wait(with_etag.id, true)
        .await
        .unwrap();
    assert_eq!(again.state, "unchanged", "{again:?}");
    assert_eq!(again.http_status, Some(304));
    assert_eq!((again.added, again.removed), (0, 0));

    let mut plain = source(&lists.url("/plain"), true);
    plain.name = "same list without validators".into();
    let plain = fx.service.create(&plain).await.unwrap();
    let first = fx.service.import_and_wait(plain.id, true).await.unwrap();
    assert_eq!(first.state, "completed");
    assert_eq!(
        first.added, 0,
        "everything is banned already (by the other source)"
    );
    let again = fx.service.import_and_wait(plain.id, true).await.unwrap();
    assert_eq!(again.state, "unchanged", "{again:?}");
    assert_eq!(again.http_status, Some(200));
    assert_eq!(banned(&fx.f2b).len(), 4);
    lists.stop().await;
}

#[tokio::test]
async fn bans_lost_from_the_jail_are_restored_by_the_next_run_even_when_the_list_is_unchanged() {
    let fx = fixture(limits()).await;
    let lists = ListServer::start(DROP_V1).await;
    let src = fx
        .service
        .create(&source(&lists.url("/list"), true))
        .await
        .unwrap();
    fx.service.import_and_wait(src.id, true).await.unwrap();
    // As after a crash between claim and ban, or after the bans expired.
    fx.f2b
        .client(&["set", JAIL, "unbanip", "198.51.100.7", "203.0.113.0/24"]);
    assert_eq!(banned(&fx.f2b).len(), 2);

    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!(run.state, "completed", "{run:?}");
    assert_eq!(run.added, 2);
    assert_eq!(banned(&fx.f2b).len(), 4);
    lists.stop().await;
}

#[tokio::test]
async fn a_source_unbans_only_what_it_banned_itself() {
    let fx = fixture(limits()).await;
    let lists = ListServer::start("198.51.100.20\n198.51.100.21\n").await;
    fx.f2b.client(&["set", JAIL, "banip", "198.51.100.21"]);
    let src = fx
        .service
        .create(&source(&lists.url("/plain"), true))
        .await
        .unwrap();
    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!(run.added, 1);

    lists.set("# empty now\n");
    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!(run.removed, 1);
    assert_eq!(
        banned(&fx.f2b),
        set(&["198.51.100.21"]),
        "the ban made by hand stays"
    );
    lists.stop().await;
}

async fn assert_failed_and_nothing_banned(
    fx: &Fixture,
    url: &str,
    allow: bool,
    code: &str,
    says: &str,
) {
    let mut input = source(url, allow);
    input.name = code.into();
    let src = fx.service.create(&input).await.unwrap();
    let mut published = fx.events.subscribe();
    let run = fx.service.import_and_wait(src.id, true).await.unwrap();
    assert_eq!(run.state, "failed", "{url}: {run:?}");
    let event = published.try_recv().and_then(Result::ok);
    assert!(
        matches!(
            event.as_deref().map(|e| &e.kind),
            Some(bangui::domain::event::EventKind::BlocklistImportFailed { list, error })
                if list == code && error.contains(says)
        ),
        "{url}: a failed import is published as blocklist_import_failed: {event:?}"
    );
    assert_eq!(run.error_code.as_deref(), Some(code), "{url}: {run:?}");
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains(says), "{url}: {error}");
    assert_eq!(run.added, 0);
    let log = fx.service.log(src.id, 10).await.unwrap();
    assert!(
        log.iter()
            .any(|l| l.level == "error" && l.message.contains(says)),
        "{url}: {log:?}"
    );
    assert!(banned(&fx.f2b).is_empty(), "{url} banned something");
    let stored = repo::runs(&fx.db, src.id, 1).await.unwrap();
    assert_eq!(stored[0].state, "failed");
}

#[tokio::test]
async fn fetch_failures_are_clear_errors_in_the_run_log_and_ban_nothing() {
    let fx = fixture(FetchLimits {
        max_bytes: 64 * 1024,
        timeout: Duration::from_secs(2),
    })
    .await;
    let lists = ListServer::start(DROP_V1).await;
    let port = lists.port;
    assert_failed_and_nothing_banned(&fx, &lists.url("/500"), true, "http_status", "answered 500")
        .await;
    assert_failed_and_nothing_banned(
        &fx,
        &lists.url("/slow"),
        true,
        "timeout",
        "no complete answer",
    )
    .await;
    assert_failed_and_nothing_banned(
        &fx,
        &lists.url("/big"),
        true,
        "too_large",
        "larger than the limit of 65536 bytes",
    )
    .await;
    // The admin allowed lists.test (which is 127.0.0.1 here), not wherever it redirects.
    assert_failed_and_nothing_banned(
        &fx,
        &format!("http://lists.test:{port}/to-loopback"),
        true,
        "internal_address",
        "127.0.0.1 is loopback",
    )
    .await;
    assert_failed_and_nothing_banned(
        &fx,
        &format!("http://evil.test:{port}/list"),
        false,
        "internal_address",
        "evil.test resolves only to internal addresses (10.0.0.1)",
    )
    .await;
    assert_failed_and_nothing_banned(
        &fx,
        &lists.url("/list"),
        false,
        "internal_address",
        "127.0.0.1 is loopback",
    )
    .await;
    lists.stop().await;
}

#[tokio::test]
async fn admins_manage_sources_over_http_preview_bans_nothing_and_import_now_lands_in_fail2ban() {
    let f2b = Fail2banServer::start();
    let app = TestApp::builder().fail2ban(&f2b).spawn().await;
    app.setup_admin().await;
    let lists = ListServer::start(DROP_V1).await;

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/blocklists",
            json!({"name": "drop", "url": "ftp://x/y"}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("validation_error")),
        "{body}"
    );

    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/blocklists",
            json!({"name": "drop", "url": lists.url("/list"), "allow_internal": true, "schedule": "0 0 0 1 1 *"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["jail"], JAIL);
    assert!(created["next_run_at"].is_string(), "{created}");
    let id = created["id"].as_i64().unwrap();

    let (status, preview) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/blocklists/{id}/preview"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["entries"], 4);
    assert_eq!(preview["invalid"], 1);
    assert_eq!(preview["would_add"], 4);
    assert_eq!(preview["first_lines"][2], "203.0.113.0/24 ; SBL100001");
    assert!(f2b.banned(JAIL).is_empty(), "a preview bans nothing");

    let (status, started) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/blocklists/{id}/import"),
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let runs = app
        .wait_for_json(&format!("/api/v1/blocklists/{id}/runs"), |b| {
            b["items"][0]["state"] == "completed"
        })
        .await;
    assert_eq!(runs["items"][0]["added"], 4);
    assert_eq!(f2b.banned(JAIL).len(), 4);
    let (_, listed) = app.get_json("/api/v1/blocklists").await;
    assert_eq!(listed["items"][0]["members"], 4);
    assert_eq!(listed["items"][0]["last_run"]["state"], "completed");

    let (status, audit) = app.get_json("/api/v1/audit").await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"blocklist.create") && actions.contains(&"blocklist.import"),
        "{actions:?}"
    );

    let res = app
        .anonymous()
        .get(app.url("/api/v1/blocklists"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    let (status, deleted) = app
        .send_json(
            Method::DELETE,
            &format!("/api/v1/blocklists/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["unbanned"], 4);
    assert!(f2b.banned(JAIL).is_empty());
    lists.stop().await;
    app.stop().await;
}
