//! Async client for fail2ban's Unix control socket. One connection per command (fail2ban
//! executes commands one at a time anyway, and a fresh connection per command is what makes the
//! client recover by itself after fail2ban restarts or its socket file is recreated), a
//! per-command timeout, a bounded number of commands in flight and retries only while
//! connecting — never once a command was sent: a refused or missing socket is retried for about
//! 300 ms (then `Offline`), a busy one (EAGAIN: fail2ban's listen backlog is 1) until the command
//! timeout (then `Timeout`, as for a fail2ban that accepted the command and never answered).
//! It also runs `fail2ban-client` for the commands that need the client-side configuration
//! reader (start, reload). Typed commands live in `commands.rs`; it must not know about HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::{OnceCell, Semaphore};

use super::protocol::{CLOSE_MARKER, END_MARKER, PyValue, Reply, decode_reply, encode_request};

/// How the client reaches fail2ban.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub socket: PathBuf,
    pub command_timeout: Duration,
    pub max_concurrency: usize,
    pub max_reply_bytes: usize,
    /// fail2ban's configuration directory, for `fail2ban-client -c DIR … reload`.
    pub config_dir: PathBuf,
    /// The `fail2ban-client` program.
    pub client_path: PathBuf,
}

impl ClientConfig {
    /// Defaults for everything but the socket (10 s timeout, 4 in flight, 32 MiB replies).
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            socket: socket.into(),
            command_timeout: Duration::from_secs(10),
            max_concurrency: 4,
            max_reply_bytes: 32 << 20,
            config_dir: PathBuf::from("/etc/fail2ban"),
            client_path: PathBuf::from("fail2ban-client"),
        }
    }
}

/// Why a command did not produce a value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Fail2banError {
    #[error("fail2ban is not reachable at {socket}: {reason}")]
    Offline { socket: String, reason: String },
    #[error(
        "permission denied on fail2ban's socket {socket} for user {user}; the socket is root-only \
         by default: run BanGUI as root or give its user the socket's group"
    )]
    PermissionDenied { socket: String, user: String },
    #[error("fail2ban did not answer `{command}` within {seconds} s (socket {socket})")]
    Timeout {
        socket: String,
        command: String,
        seconds: u64,
    },
    #[error("fail2ban's reply could not be understood: {0}")]
    Protocol(String),
    #[error("fail2ban has no running jail {0:?}")]
    UnknownJail(String),
    #[error("fail2ban rejected the command: {0}")]
    Rejected(String),
    #[error("fail2ban failed: {class}: {message}")]
    Server { class: String, message: String },
    #[error("fail2ban {version} does not support `{command}`")]
    Unsupported { command: String, version: String },
    #[error(transparent)]
    Invalid(#[from] crate::domain::DomainError),
}

impl Fail2banError {
    /// Maps an exception reply to an error.
    pub fn from_exception(class: &str, message: String) -> Self {
        let short = class.rsplit('.').next().unwrap_or(class);
        match short {
            "UnknownJailException" => {
                Fail2banError::UnknownJail(message.trim_matches(['\'', '"']).to_string())
            }
            "ValueError" | "TypeError" | "KeyError" | "IndexError" => {
                Fail2banError::Rejected(message)
            }
            _ => Fail2banError::Server {
                class: class.to_string(),
                message,
            },
        }
    }

    /// fail2ban's answer to a command it does not implement.
    pub fn is_invalid_command(&self) -> bool {
        matches!(self, Fail2banError::Server { message, .. } if message.starts_with("Invalid command"))
    }
}

/// Delays between connection attempts when the socket is missing or refuses (fail2ban is
/// stopped or restarting): about 300 ms in all, then the command is `Offline`.
const CONNECT_BACKOFF: [Duration; 3] = [
    Duration::from_millis(25),
    Duration::from_millis(75),
    Duration::from_millis(200),
];

/// First and largest delay between connection attempts while fail2ban is busy. fail2ban listens
/// with a backlog of 1, so a connect meets EAGAIN whenever another client's connection waits to
/// be accepted; that is a busy server, not a missing one. Such attempts go on with growing
/// delays until the command timeout, which then reports a `Timeout` (a frozen fail2ban), never
/// `Offline`. The largest delay is small because it adds to every wait: once fail2ban is free, a
/// command waiting here starts at most that much later (with 100 ms, `/health` waited up to
/// ~100 ms more than fail2ban was busy during a blocklist import; docs/perf.md). A connection
/// attempt every 10 ms costs nothing measurable.
const BUSY_BACKOFF_FIRST: Duration = Duration::from_millis(2);
const BUSY_BACKOFF_MAX: Duration = Duration::from_millis(10);

/// Longest a bulk client waits for the other commands of its family to finish before it sends
/// one of its own anyway (so a dashboard that never stops asking cannot starve an import).
const BULK_YIELD_MAX: Duration = Duration::from_millis(100);

/// Cheap to clone; every clone shares the concurrency limit and the detected version.
#[derive(Debug, Clone)]
pub struct Fail2banClient {
    config: Arc<ClientConfig>,
    permits: Arc<Semaphore>,
    version: Arc<OnceCell<String>>,
    /// Commands of this family (the client and the bulk clients made from it) in flight
    /// that are not bulk: a bulk command waits until there are none (see [`Self::for_bulk_work`]).
    interactive: Arc<AtomicUsize>,
    bulk: bool,
}

/// Counts one interactive command while it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Fail2banClient {
    pub fn new(config: ClientConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_concurrency.max(1)));
        Self {
            config: Arc::new(config),
            permits,
            version: Arc::new(OnceCell::new()),
            interactive: Arc::new(AtomicUsize::new(0)),
            bulk: false,
        }
    }

    /// A client for long bulk work (a blocklist import) with its own command timeout and
    /// concurrency limit, which lets this client's other commands go first: before each
    /// command it waits (up to [`BULK_YIELD_MAX`]) until none of them is in flight.
    /// fail2ban runs one command at a time and accepts one waiting connection, so without
    /// this the dashboard's commands race the import's batches for every turn.
    pub fn for_bulk_work(&self, command_timeout: Duration) -> Self {
        let mut config = (*self.config).clone();
        config.command_timeout = command_timeout;
        Self {
            permits: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            config: Arc::new(config),
            version: Arc::clone(&self.version),
            interactive: Arc::clone(&self.interactive),
            bulk: true,
        }
    }

    /// For a bulk client: waits until no interactive command of the family is in flight.
    async fn give_way(&self) {
        let deadline = tokio::time::Instant::now() + BULK_YIELD_MAX;
        while self.interactive.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    pub fn socket(&self) -> &Path {
        &self.config.socket
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// `ping` → `pong`.
    pub async fn ping(&self) -> Result<(), Fail2banError> {
        match self.call(&["ping"]).await? {
            PyValue::Str(s) if s == "pong" => Ok(()),
            other => Err(Fail2banError::Protocol(format!(
                "ping was answered with {}",
                other.display()
            ))),
        }
    }

    /// The server's version, asked once and remembered (fail2ban is rarely upgraded under a
    /// running dashboard; a failed attempt is retried next time).
    pub async fn version(&self) -> Result<String, Fail2banError> {
        self.version
            .get_or_try_init(|| async {
                let v = self.call(&["version"]).await?;
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Fail2banError::Protocol(super::types::shape("version", &v)))
            })
            .await
            .cloned()
    }

    /// Sends one command and decodes the reply; exception replies become typed errors.
    pub async fn call(&self, words: &[&str]) -> Result<PyValue, Fail2banError> {
        let raw = self.raw(words).await?;
        match decode_reply(&raw).map_err(|e| Fail2banError::Protocol(e.to_string()))? {
            Reply::Ok(value) => Ok(value),
            Reply::Error { class, message } => Err(Fail2banError::from_exception(&class, message)),
            Reply::Bare(text) => Err(Fail2banError::Protocol(format!(
                "fail2ban could not read the request `{}`: {text}",
                words.join(" ")
            ))),
        }
    }

    /// Sends one command and returns the reply bytes without the end marker.
    async fn raw(&self, words: &[&str]) -> Result<Vec<u8>, Fail2banError> {
        let _counted = if self.bulk {
            self.give_way().await;
            None
        } else {
            self.interactive.fetch_add(1, Ordering::AcqRel);
            Some(InFlight(&self.interactive))
        };
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| self.offline("client closed"))?;
        let seconds = self.config.command_timeout.as_secs();
        tokio::time::timeout(self.config.command_timeout, self.exchange(words))
            .await
            .map_err(|_| Fail2banError::Timeout {
                socket: self.config.socket.display().to_string(),
                command: words.join(" "),
                seconds,
            })?
    }

    /// Connects, retrying a busy socket (EAGAIN) until the caller's timeout and a refused or
    /// missing socket for [`CONNECT_BACKOFF`].
    async fn connect(&self) -> Result<UnixStream, Fail2banError> {
        let mut refused = 0;
        let mut busy_delay = BUSY_BACKOFF_FIRST;
        loop {
            match UnixStream::connect(&self.config.socket).await {
                Ok(stream) => return Ok(stream),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(busy_delay).await;
                    busy_delay = busy_delay.saturating_mul(2).min(BUSY_BACKOFF_MAX);
                }
                Err(e) => {
                    let restarting = matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
                    );
                    match CONNECT_BACKOFF.get(refused) {
                        Some(delay) if restarting => {
                            tokio::time::sleep(*delay).await;
                            refused += 1;
                        }
                        _ => return Err(self.connect_error(e)),
                    }
                }
            }
        }
    }

    async fn exchange(&self, words: &[&str]) -> Result<Vec<u8>, Fail2banError> {
        let mut stream = self.connect().await?;
        // From here on the command may run: no retries.
        stream
            .write_all(&encode_request(words))
            .await
            .map_err(|e| self.offline(&e.to_string()))?;
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| self.offline(&e.to_string()))?;
            if n == 0 {
                return Err(self.offline("connection closed before the reply ended"));
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            if buf.len() > self.config.max_reply_bytes.saturating_add(END_MARKER.len()) {
                return Err(Fail2banError::Protocol(format!(
                    "reply larger than the cap of {} bytes",
                    self.config.max_reply_bytes
                )));
            }
            if buf.ends_with(END_MARKER) {
                buf.truncate(buf.len() - END_MARKER.len());
                break;
            }
        }
        let mut close = CLOSE_MARKER.to_vec();
        close.extend_from_slice(END_MARKER);
        let _ = stream.write_all(&close).await;
        Ok(buf)
    }

    /// Runs `fail2ban-client -c DIR args…` (no shell, no socket argument) with the reload
    /// timeout and returns its exit status and output, whatever the status.
    pub async fn run_tool(&self, dir: &Path, args: &[&str]) -> Result<ToolOutput, Fail2banError> {
        let mut full: Vec<&std::ffi::OsStr> = vec!["-c".as_ref(), dir.as_os_str()];
        full.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
        let output = self.spawn_client(&full, args).await?;
        Ok(ToolOutput {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    async fn spawn_client(
        &self,
        full: &[&std::ffi::OsStr],
        shown: &[&str],
    ) -> Result<std::process::Output, Fail2banError> {
        let mut cmd = tokio::process::Command::new(&self.config.client_path);
        cmd.args(full)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        // Reloads stream many commands; give them more time than a single command.
        let limit = self.config.command_timeout.saturating_mul(6);
        tokio::time::timeout(limit, cmd.output())
            .await
            .map_err(|_| Fail2banError::Timeout {
                socket: self.config.socket.display().to_string(),
                command: format!("fail2ban-client {}", shown.join(" ")),
                seconds: limit.as_secs(),
            })?
            .map_err(|e| Fail2banError::Server {
                class: "fail2ban-client".into(),
                message: format!("could not run {}: {e}", self.config.client_path.display()),
            })
    }

    /// Runs `fail2ban-client -c CONFIG_DIR -s SOCKET args…` (no shell) and returns its output.
    pub async fn run_client(&self, args: &[&str]) -> Result<String, Fail2banError> {
        let mut full: Vec<&std::ffi::OsStr> = vec![
            "-c".as_ref(),
            self.config.config_dir.as_os_str(),
            "-s".as_ref(),
            self.config.socket.as_os_str(),
        ];
        full.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
        let output = self.spawn_client(&full, args).await?;
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if output.status.success() {
            return Ok(stdout);
        }
        let text = [stdout, stderr]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if text.contains("Permission denied") {
            return Err(Fail2banError::PermissionDenied {
                socket: self.config.socket.display().to_string(),
                user: current_user(),
            });
        }
        if text.contains("Failed to access socket") || text.contains("Is fail2ban running") {
            return Err(self.offline(&text));
        }
        Err(Fail2banError::Server {
            class: "fail2ban-client".into(),
            message: text.chars().take(2000).collect(),
        })
    }

    pub(crate) fn offline(&self, reason: &str) -> Fail2banError {
        Fail2banError::Offline {
            socket: self.config.socket.display().to_string(),
            reason: reason.into(),
        }
    }

    fn connect_error(&self, e: std::io::Error) -> Fail2banError {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            return Fail2banError::PermissionDenied {
                socket: self.config.socket.display().to_string(),
                user: current_user(),
            };
        }
        self.offline(&e.to_string())
    }
}

/// What a `fail2ban-client` run printed, with its exit status.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Name (and uid) of the effective user, for error messages.
pub fn current_user() -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut parts = line.split(':');
                let name = parts.next()?;
                let id = parts.nth(1)?;
                (id == uid.to_string()).then(|| name.to_string())
            })
        });
    match name {
        Some(n) => format!("{n} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}
