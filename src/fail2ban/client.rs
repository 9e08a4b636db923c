//! Async client for fail2ban's Unix control socket. One connection per command (fail2ban
//! executes commands one at a time anyway), a per-command timeout and a bounded number of
//! commands in flight.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::Semaphore;

use super::protocol::{CLOSE_MARKER, END_MARKER, encode_request};

/// How the client reaches fail2ban.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub socket: PathBuf,
    pub command_timeout: Duration,
    pub max_concurrency: usize,
    pub max_reply_bytes: usize,
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
}

/// Cheap to clone; every clone shares the concurrency limit.
#[derive(Debug, Clone)]
pub struct Fail2banClient {
    config: Arc<ClientConfig>,
    permits: Arc<Semaphore>,
}

impl Fail2banClient {
    pub fn new(config: ClientConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_concurrency.max(1)));
        Self {
            config: Arc::new(config),
            permits,
        }
    }

    pub fn socket(&self) -> &Path {
        &self.config.socket
    }

    /// `ping` → `pong`.
    pub async fn ping(&self) -> Result<(), Fail2banError> {
        let raw = self.raw(&["ping"]).await?;
        if raw.windows(4).any(|w| w == b"pong") {
            Ok(())
        } else {
            Err(Fail2banError::Protocol(
                "ping was not answered with pong".into(),
            ))
        }
    }

    /// Sends one command and returns the reply bytes without the end marker.
    pub async fn raw(&self, words: &[&str]) -> Result<Vec<u8>, Fail2banError> {
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

    async fn exchange(&self, words: &[&str]) -> Result<Vec<u8>, Fail2banError> {
        let mut stream = UnixStream::connect(&self.config.socket)
            .await
            .map_err(|e| self.connect_error(e))?;
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
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > self.config.max_reply_bytes + END_MARKER.len() {
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

    fn offline(&self, reason: &str) -> Fail2banError {
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
