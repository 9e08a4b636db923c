//! fail2ban's own log, read for the log viewer: only when its log target is a file, only when
//! that file resolves (links followed) into one of the allowed log directories, and never whole:
//! at most [`MAX_READ_BYTES`] from the end (or from a given offset onwards, for live follow), on
//! the blocking pool. Lines are filtered by minimum level, jail and text. It never sees HTTP
//! types.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::fail2ban::{Fail2banClient, Fail2banError};

/// The most bytes one request reads.
pub const MAX_READ_BYTES: u64 = 1 << 20;
/// The most lines one answer holds.
pub const MAX_LINES: usize = 2000;

const LEVELS: [&str; 7] = [
    "TRACEDEBUG",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
];

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub lines: usize,
    /// Minimum level (`INFO`, `WARNING`, …).
    pub level: Option<String>,
    pub jail: Option<String>,
    pub text: Option<String>,
    /// Read from this byte offset on (the `end` of an earlier answer) instead of the tail.
    pub since: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogLine {
    pub text: String,
    pub level: Option<String>,
    pub jail: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogPage {
    pub path: String,
    /// The file's size when read; pass it as `since` to follow the log.
    pub end: u64,
    pub lines: Vec<LogLine>,
    /// More bytes were there than one read takes; older lines were skipped.
    pub truncated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("fail2ban logs to {0}, not to a file; there is no log file to show")]
    NotAFile(String),
    #[error(
        "fail2ban's log file {path} resolves to {real}, outside the allowed log directories ({allowed}); set BANGUI_FAIL2BAN_LOG_DIRS"
    )]
    NotAllowed {
        path: String,
        real: String,
        allowed: String,
    },
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    Fail2ban(#[from] Fail2banError),
    #[error("reading {path}: {reason}")]
    Io { path: String, reason: String },
}

#[derive(Clone)]
pub struct Fail2banLogService {
    fail2ban: Fail2banClient,
    log_dirs: Arc<Vec<PathBuf>>,
}

impl Fail2banLogService {
    pub fn new(fail2ban: Fail2banClient, log_dirs: Vec<PathBuf>) -> Self {
        Self {
            fail2ban,
            log_dirs: Arc::new(log_dirs),
        }
    }

    pub async fn read(&self, query: LogQuery) -> Result<LogPage, LogError> {
        if let Some(level) = &query.level
            && !LEVELS.contains(&level.to_ascii_uppercase().as_str())
        {
            return Err(DomainError::new(
                "level",
                level,
                format!("expected one of {}", LEVELS.join(", ")),
            )
            .into());
        }
        let target = self.fail2ban.server_settings().await?.logtarget;
        let path = PathBuf::from(target.trim());
        if !path.is_absolute() {
            return Err(LogError::NotAFile(target));
        }
        let dirs = Arc::clone(&self.log_dirs);
        tokio::task::spawn_blocking(move || read_log(&path, &dirs, &query))
            .await
            .map_err(|e| LogError::Io {
                path: target.clone(),
                reason: e.to_string(),
            })?
    }
}

fn read_log(path: &Path, dirs: &[PathBuf], q: &LogQuery) -> Result<LogPage, LogError> {
    let io = |e: std::io::Error| LogError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let real = path.canonicalize().map_err(io)?;
    if !dirs
        .iter()
        .any(|d| d.canonicalize().is_ok_and(|d| real.starts_with(d)))
    {
        return Err(LogError::NotAllowed {
            path: path.display().to_string(),
            real: real.display().to_string(),
            allowed: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut file = std::fs::File::open(&real).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let (start, end) = match q.since {
        Some(since) if since <= size => (since, size.min(since.saturating_add(MAX_READ_BYTES))),
        _ => (size.saturating_sub(MAX_READ_BYTES), size),
    };
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut buf = Vec::new();
    file.take(end - start).read_to_end(&mut buf).map_err(io)?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    let truncated = q.since.is_none() && start > 0 || end < size;
    if q.since.is_none() && start > 0 {
        // The first line was cut by the read window.
        text = text
            .split_once('\n')
            .map(|(_, r)| r.to_string())
            .unwrap_or_default();
    }
    // A line still being written is left for the next read.
    let mut consumed = end;
    if !text.ends_with('\n') {
        let cut = text.rfind('\n').map_or(0, |i| i + 1);
        consumed = end - (text.len() - cut) as u64;
        text.truncate(cut);
    }
    let min_level = q
        .level
        .as_deref()
        .and_then(|l| LEVELS.iter().position(|x| x.eq_ignore_ascii_case(l)));
    let needle = q.text.as_deref().map(str::to_lowercase);
    let limit = q.lines.clamp(1, MAX_LINES);
    let mut lines: Vec<LogLine> = text
        .lines()
        .map(parse_line)
        .filter(|l| {
            min_level.is_none_or(|min| {
                l.level
                    .as_deref()
                    .and_then(|lv| LEVELS.iter().position(|x| *x == lv))
                    .is_some_and(|p| p >= min)
            }) && q
                .jail
                .as_deref()
                .is_none_or(|j| l.jail.as_deref() == Some(j))
                && needle
                    .as_deref()
                    .is_none_or(|n| l.text.to_lowercase().contains(n))
        })
        .collect();
    if lines.len() > limit {
        lines.drain(..lines.len() - limit);
    }
    Ok(LogPage {
        path: path.display().to_string(),
        end: consumed,
        lines,
        truncated,
    })
}

/// `2026-… fail2ban.filter  [123]: INFO    [sshd] Found 1.2.3.4`.
fn parse_line(line: &str) -> LogLine {
    let after = line.find("]: ").and_then(|i| line.get(i + 3..));
    let (level, jail) = match after {
        Some(rest) => {
            let rest = rest.trim_start();
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase())
                .collect();
            let level = LEVELS.contains(&word.as_str()).then_some(word.clone());
            let tail = rest.get(word.len()..).unwrap_or_default().trim_start();
            let jail = tail
                .strip_prefix('[')
                .and_then(|t| t.split_once(']'))
                .map(|(j, _)| j.to_string());
            (level, jail)
        }
        None => (None, None),
    };
    LogLine {
        text: line.to_string(),
        level,
        jail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_a_bounded_tail_and_filters_by_level_jail_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("fail2ban.log");
        let mut f = std::fs::File::create(&log).unwrap();
        // Well over one read window: only the tail is read.
        for i in 0..40_000 {
            writeln!(f, "2026-01-01 00:00:00,000 fail2ban.filter [1]: INFO    [sshd] Found 192.0.2.{} - line {i}", i % 250).unwrap();
        }
        writeln!(
            f,
            "2026-01-01 00:00:01,000 fail2ban.actions [1]: NOTICE  [bangui-app] Ban 198.51.100.7"
        )
        .unwrap();
        writeln!(
            f,
            "2026-01-01 00:00:02,000 fail2ban.server [1]: ERROR   something broke"
        )
        .unwrap();
        drop(f);
        let dirs = vec![dir.path().to_path_buf()];
        let q = |level: Option<&str>, jail: Option<&str>, text: Option<&str>| LogQuery {
            lines: 100,
            level: level.map(str::to_string),
            jail: jail.map(str::to_string),
            text: text.map(str::to_string),
            since: None,
        };
        let page = read_log(&log, &dirs, &q(None, None, None)).unwrap();
        assert!(page.truncated);
        assert_eq!(page.lines.len(), 100);
        assert_eq!(page.lines.last().unwrap().level.as_deref(), Some("ERROR"));
        let page = read_log(&log, &dirs, &q(Some("notice"), None, None)).unwrap();
        assert_eq!(page.lines.len(), 2);
        let page = read_log(&log, &dirs, &q(None, Some("bangui-app"), None)).unwrap();
        assert_eq!(page.lines.len(), 1);
        assert_eq!(page.lines[0].jail.as_deref(), Some("bangui-app"));
        let page = read_log(&log, &dirs, &q(None, None, Some("LINE 39999"))).unwrap();
        assert_eq!(page.lines.len(), 1);
        // Following: nothing new after the end.
        let mut follow = q(None, None, None);
        follow.since = Some(page.end);
        assert!(read_log(&log, &dirs, &follow).unwrap().lines.is_empty());
    }

    #[test]
    fn a_log_outside_the_allowed_directories_is_refused_even_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().join("logs");
        std::fs::create_dir(&allowed).unwrap();
        let secret = dir.path().join("secret.txt");
        std::fs::write(&secret, "x\n").unwrap();
        let link = allowed.join("fail2ban.log");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let q = LogQuery {
            lines: 10,
            ..Default::default()
        };
        assert!(matches!(
            read_log(&link, &[allowed], &q),
            Err(LogError::NotAllowed { .. })
        ));
    }
}
