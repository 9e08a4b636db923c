//! A bulk client (`Fail2banClient::for_bulk_work`, used by blocklist imports) lets the other
//! commands of its family go first: fail2ban runs one command at a time, so a dashboard command
//! must not queue behind a stream of import batches. It waits only so long, so a dashboard that
//! never stops asking cannot starve an import.
//!
//! fail2ban itself cannot show in which order commands reached it, so these tests put a small
//! socket server in its place that records when each command arrives and holds the reply to
//! `ping` until the test releases it. Its replies are the ones recorded from fail2ban 1.0.2.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bangui::fail2ban::protocol::END_MARKER;
use bangui::fail2ban::{ClientConfig, Fail2banClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::sync::Semaphore;

/// How long a bulk command waits at most for the family's other commands (the client's
/// `BULK_YIELD_MAX`, 100 ms).
const BULK_WAIT: Duration = Duration::from_millis(100);

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fail2ban-1.0.2-replies")
        .join(name);
    let mut reply = std::fs::read(path).expect("fixture");
    reply.extend_from_slice(END_MARKER);
    reply
}

/// A socket server answering `ping` (once released) and `status` with fail2ban's replies.
struct HoldingServer {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    /// (command, when it arrived)
    arrivals: Arc<Mutex<Vec<(&'static str, Instant)>>>,
    /// One permit per `ping` reply the test lets go.
    pings: Arc<Semaphore>,
}

impl HoldingServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("f2b.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let pings = Arc::new(Semaphore::new(0));
        let (log, gate) = (Arc::clone(&arrivals), Arc::clone(&pings));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (log, gate) = (Arc::clone(&log), Arc::clone(&gate));
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !request.ends_with(END_MARKER) {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let is_ping = request.windows(4).any(|w| w == b"ping");
                    let command = if is_ping { "ping" } else { "status" };
                    log.lock().unwrap().push((command, Instant::now()));
                    let reply = if is_ping {
                        gate.acquire().await.expect("gate").forget();
                        fixture("00_ping.pkl")
                    } else {
                        fixture("02_status.pkl")
                    };
                    let _ = stream.write_all(&reply).await;
                    let _ = stream.read(&mut chunk).await; // the client's close marker
                });
            }
        });
        Self {
            _dir: dir,
            socket,
            arrivals,
            pings,
        }
    }

    fn arrived(&self, command: &str) -> Option<Instant> {
        let log = self.arrivals.lock().unwrap();
        log.iter().find(|(c, _)| *c == command).map(|(_, t)| *t)
    }

    async fn wait_arrived(&self, command: &str) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(t) = self.arrived(command) {
                return t;
            }
            assert!(Instant::now() < deadline, "{command} never arrived");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Lets the held `ping` reply go; when.
    fn release_ping(&self) -> Instant {
        let at = Instant::now();
        self.pings.add_permits(1);
        at
    }
}

/// The server, a bulk client of the application's client, and the application's `ping`, which
/// has reached the server and waits for its reply.
async fn a_dashboard_ping_in_flight() -> (
    HoldingServer,
    Fail2banClient,
    tokio::task::JoinHandle<Result<(), bangui::fail2ban::Fail2banError>>,
) {
    let server = HoldingServer::start();
    let client = Fail2banClient::new(ClientConfig::new(server.socket.clone()));
    let bulk = client.for_bulk_work(Duration::from_secs(10));
    let dashboard = tokio::spawn(async move { client.ping().await });
    server.wait_arrived("ping").await;
    (server, bulk, dashboard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_command_waits_until_the_dashboard_command_in_flight_is_answered() {
    let (server, bulk, dashboard) = a_dashboard_ping_in_flight().await;
    let issued = Instant::now();
    let import = tokio::spawn(async move { bulk.jails().await });
    tokio::time::sleep(BULK_WAIT / 3).await;
    let released = server.release_ping();
    dashboard.await.expect("task").expect("ping answered");
    let jails = import.await.expect("task").expect("status answered");
    assert!(!jails.is_empty(), "the recorded status names jails");

    let arrived = server.arrived("status").expect("status arrived");
    assert!(
        arrived >= released || arrived.duration_since(issued) >= BULK_WAIT,
        "the bulk command was sent {:?} after it was issued, while the ping was in flight \
         (released {:?} after it was issued)",
        arrived.duration_since(issued),
        released.duration_since(issued)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_command_goes_ahead_when_the_dashboard_command_takes_too_long() {
    let (server, bulk, dashboard) = a_dashboard_ping_in_flight().await;
    let issued = Instant::now();
    // The ping stays unanswered for 3 s; the import must not wait for it that long.
    let answered = tokio::time::timeout(Duration::from_secs(3), bulk.jails()).await;
    let took = issued.elapsed();
    server.release_ping();
    dashboard.await.expect("task").expect("ping answered");
    answered
        .expect("the bulk command did not wait for the held ping")
        .expect("status answered");
    assert!(
        took >= BULK_WAIT,
        "it first gave way for {BULK_WAIT:?} (went after {took:?})"
    );
}
