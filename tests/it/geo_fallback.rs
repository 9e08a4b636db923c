//! The ip-api.com fallback against a local HTTP server standing in for ip-api: off means no
//! IP ever leaves the host; on means unknown IPs are asked in batches of at most 100, answers
//! are cached in memory (not persisted), concurrent lookups of one IP are asked once, and
//! `status: fail`, HTTP 429 and an unreachable server end as negative results.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bangui::config::{Settings, Sources};
use bangui::geo::{GeoCache, GeoSource};
use bangui::metrics::Metrics;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    body: String,
}

#[derive(Clone, Copy)]
enum Mode {
    Answer { delay_ms: u64 },
    TooManyRequests,
}

/// A minimal HTTP/1.1 server answering like ip-api: IPs starting with 8. are in the US,
/// 9. in Switzerland; everything else is `status: fail`.
struct StandIn {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn answer_for(ip: &str) -> Value {
    if ip.starts_with("8.") {
        json!({"status":"success","country":"United States","countryCode":"US","continentCode":"NA","as":"AS15169 Google LLC","org":"Google Public DNS","query":ip})
    } else if ip.starts_with("9.") {
        json!({"status":"success","country":"Switzerland","countryCode":"CH","continentCode":"EU","as":"AS19281 Quad9","org":"Quad9","query":ip})
    } else {
        json!({"status":"fail","message":"reserved range","query":ip})
    }
}

impl StandIn {
    async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body) = loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..pos]).to_string();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            while buf.len() < pos + 4 + len {
                                let n = sock.read(&mut chunk).await.unwrap_or(0);
                                if n == 0 {
                                    break;
                                }
                                buf.extend_from_slice(&chunk[..n]);
                            }
                            let body = String::from_utf8_lossy(&buf[pos + 4..]).to_string();
                            break (head, body);
                        }
                    };
                    let mut parts = head.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_string();
                    let path = parts.next().unwrap_or_default().to_string();
                    log.lock().expect("log").push(Seen {
                        method: method.clone(),
                        path: path.clone(),
                        body: body.clone(),
                    });
                    let (status, extra, payload) = match mode {
                        Mode::TooManyRequests => (
                            "429 Too Many Requests",
                            "X-Rl: 0\r\nX-Ttl: 60\r\n",
                            json!({"status":"fail","message":"rate limited"}),
                        ),
                        Mode::Answer { delay_ms } => {
                            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                            let payload = if method == "POST" {
                                let ips: Vec<String> =
                                    serde_json::from_str(&body).unwrap_or_default();
                                Value::Array(ips.iter().map(|ip| answer_for(ip)).collect())
                            } else {
                                let ip = path
                                    .trim_start_matches("/json/")
                                    .split('?')
                                    .next()
                                    .unwrap_or_default();
                                answer_for(ip)
                            };
                            ("200 OK", "X-Rl: 40\r\nX-Ttl: 60\r\n", payload)
                        }
                    };
                    let payload = payload.to_string();
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                        payload.len()
                    );
                    let _ = sock.write_all(response.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { url, seen }
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

struct World {
    _dir: tempfile::TempDir,
    pool: sqlx::SqlitePool,
    geo: Arc<GeoCache>,
}

async fn world(stand_in: &StandIn, fallback: bool) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = bangui::db::connect(&dir.path().join("bangui.db"), Duration::from_secs(5))
        .await
        .expect("db");
    let mmdb = dir.path().join("country.mmdb");
    crate::support::mmdb::write_atomically(
        &mmdb,
        &crate::support::mmdb::country_bytes(
            &crate::support::mmdb::demo_countries(),
            1_700_000_000,
        ),
    );
    let mut env = BTreeMap::new();
    env.insert("BANGUI_GEOIP_DB_PATH".into(), mmdb.display().to_string());
    env.insert("BANGUI_GEOIP_IPAPI_BASE_URL".into(), stand_in.url.clone());
    env.insert(
        "BANGUI_GEOIP_ALLOW_HTTP_FALLBACK".into(),
        fallback.to_string(),
    );
    let settings = Settings::from_sources(&Sources { file: None, env }).expect("settings");
    let geo = Arc::new(GeoCache::new(
        &settings.geoip,
        pool.clone(),
        Arc::new(Metrics::new().expect("metrics")),
    ));
    geo.load_from_db().await.expect("warm (start-up)");
    World {
        _dir: dir,
        pool,
        geo,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[tokio::test]
async fn with_the_fallback_off_the_stand_in_server_receives_nothing() {
    let server = StandIn::start(Mode::Answer { delay_ms: 0 }).await;
    let w = world(&server, false).await;
    assert!(!w.geo.http_fallback_enabled());
    assert_eq!(w.geo.lookup(ip("8.8.8.8")).await, None);
    assert!(
        w.geo
            .lookup_batch_shared(&[ip("8.8.4.4"), ip("9.9.9.9")])
            .await
            .is_empty()
    );
    w.geo.re_resolve_unresolved().await.expect("re-resolve");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn with_the_fallback_on_unknown_ips_are_asked_in_batches_of_100_and_cached() {
    let server = StandIn::start(Mode::Answer { delay_ms: 0 }).await;
    let w = world(&server, true).await;
    let mut ips: Vec<IpAddr> = (0..150u32)
        .map(|i| IpAddr::V4(std::net::Ipv4Addr::from(0x0800_0000 + i)))
        .collect();
    ips.push(ip("203.0.113.5")); // in the MMDB: never sent
    ips.push(ip("10.0.0.1")); // private: never sent
    let found = w.geo.lookup_batch_shared(&ips).await;
    assert_eq!(found.len(), 151);
    let us = &found[&ip("8.0.0.7")];
    assert_eq!(us.source, GeoSource::Ipapi);
    assert_eq!(us.country_code.as_deref(), Some("US"));
    assert_eq!(us.asn, Some(15169));
    assert_eq!(us.org.as_deref(), Some("Google Public DNS"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| {
            assert_eq!(r.method, "POST");
            assert!(r.path.starts_with("/batch"));
            serde_json::from_str::<Vec<String>>(&r.body)
                .expect("JSON array")
                .len()
        })
        .collect();
    assert_eq!(sizes, vec![100, 50]);
    assert!(
        !requests
            .iter()
            .any(|r| r.body.contains("203.0.113.5") || r.body.contains("10.0.0.1"))
    );

    // Served from memory for the next five minutes: nothing new is asked.
    assert_eq!(w.geo.lookup_batch_shared(&ips).await.len(), 151);
    assert_eq!(
        w.geo.lookup(ip("8.0.0.7")).await.map(|i| i.source),
        Some(GeoSource::Ipapi)
    );
    assert_eq!(server.requests().len(), 2);
    // ip-api answers live in memory only; the flush writes just the MMDB answer.
    assert_eq!(w.geo.flush_dirty().await.expect("flush"), 1);
    assert_eq!(
        bangui::db::geo_cache::count(&w.pool).await.expect("count"),
        1
    );
}

#[tokio::test]
async fn a_single_lookup_uses_the_single_endpoint_and_a_failed_answer_is_negative() {
    let server = StandIn::start(Mode::Answer { delay_ms: 0 }).await;
    let w = world(&server, true).await;
    let info = w.geo.lookup(ip("9.9.9.9")).await.expect("found");
    assert_eq!(info.country_code.as_deref(), Some("CH"));
    assert_eq!(w.geo.lookup(ip("11.1.1.1")).await, None, "status: fail");
    assert_eq!(w.geo.lookup(ip("11.1.1.1")).await, None);
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "the negative answer is cached: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.path.starts_with("/json/"))
    );
    assert_eq!(w.geo.flush_dirty().await.expect("flush"), 1);
    let row = bangui::db::geo_cache::get(&w.pool, "11.1.1.1")
        .await
        .expect("get");
    assert!(row.expect("negative row").info.is_none());
}

#[tokio::test]
async fn concurrent_lookups_of_one_ip_over_http_resolve_once() {
    let server = StandIn::start(Mode::Answer { delay_ms: 300 }).await;
    let w = world(&server, true).await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let geo = Arc::clone(&w.geo);
            tokio::spawn(async move { geo.lookup(ip("8.8.8.8")).await })
        })
        .collect();
    for t in tasks {
        let info = t.await.expect("task").expect("found");
        assert_eq!(info.country_code.as_deref(), Some("US"));
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn http_429_backs_off_and_ends_as_a_negative_result() {
    let server = StandIn::start(Mode::TooManyRequests).await;
    let w = world(&server, true).await;
    assert_eq!(w.geo.lookup(ip("8.8.8.8")).await, None);
    // Another unknown IP right after: not sent, the limiter pauses after a 429.
    assert_eq!(w.geo.lookup(ip("8.8.4.4")).await, None);
    assert_eq!(server.requests().len(), 1, "the limiter pauses after a 429");
}

#[tokio::test]
async fn an_unreachable_fallback_server_is_a_negative_result_not_an_error() {
    let server = StandIn {
        url: "http://127.0.0.1:9".into(),
        seen: Arc::new(Mutex::new(Vec::new())),
    };
    let w = world(&server, true).await;
    assert_eq!(w.geo.lookup(ip("8.8.8.8")).await, None);
    assert_eq!(w.geo.stats().negative_entries, 1);
}
