//! The regex tester: checks what an operator asks for (a filter by name, or a failregex,
//! ignoreregex and date pattern typed in; pasted lines or the tail of an allow-listed log file),
//! writes the lines to a private temporary file, lets fail2ban's own `fail2ban-regex` decide
//! (`fail2ban::regex_tool`), and shapes its answer: counts, each match with host, time and
//! captures, the missed and ignored lines, the date templates used. At most
//! [`MAX_CONCURRENT_TESTS`] runs at once (two Python processes each); file I/O runs on the
//! blocking pool. It never sees HTTP types.
//!
//! Over 500 lines by a few: running fail2ban-regex safely (argument vector, own process
//! group, timeout, output caps) and reading its output are one job; the log-path part is
//! already `logpath.rs`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use crate::domain::{ConfigName, DomainError};
use crate::fail2ban::regex_tool::{FailRegex, RegexJob, RegexTool, RegexToolError};

mod logpath;

pub use logpath::{
    LogPathFile, LogPathReport, LogPathRequest, MAX_LOGPATH_FILES, MAX_LOGPATH_TESTED, Tail,
    read_tail,
};

/// Pasted text accepted per test (the JSON body limit is 256 KiB).
pub const MAX_PASTED_BYTES: usize = 192 * 1024;
/// Bytes read from the end of a log file at most.
pub const MAX_TAIL_BYTES: u64 = 1024 * 1024;
/// Lines taken from the end of a log file at most.
pub const MAX_TAIL_LINES: usize = 5000;
/// Characters of one typed regex or date pattern at most.
pub const MAX_REGEX_CHARS: usize = 8192;
/// Tests running at once; more wait (up to the tool's timeout) for a slot.
pub const MAX_CONCURRENT_TESTS: usize = 2;

/// What to test, as the caller typed it; [`RegexTesterService::test`] checks every field.
#[derive(Debug, Clone, Default)]
pub struct RegexTestRequest {
    pub filter: Option<String>,
    pub mode: Option<String>,
    pub failregex: Option<String>,
    pub ignoreregex: Option<String>,
    pub datepattern: Option<String>,
    pub maxlines: Option<u32>,
    pub lines: Option<String>,
    pub log_path: Option<String>,
    pub tail_lines: Option<usize>,
}

/// One line fail2ban matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegexMatch {
    /// The matched log line, when fail2ban's line list and its matches pair up one to one.
    pub line: Option<String>,
    /// The failure id fail2ban found (the host's address, or an `<F-ID>`).
    pub host: String,
    /// The line's time as fail2ban read it (RFC 3339 UTC).
    pub time: Option<String>,
    /// Every named group the match captured (`<F-USER>` as `user`, …), empty ones left out.
    #[schema(value_type = Object)]
    pub captures: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegexHits {
    pub hits: u64,
    pub regex: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DateTemplateHits {
    pub hits: u64,
    pub template: String,
}

/// fail2ban-regex's own totals (`Lines: N lines, N ignored, N matched, N missed`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegexCounts {
    pub lines: u64,
    pub matched: u64,
    pub missed: u64,
    pub ignored: u64,
}

/// Where the tested lines came from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegexSource {
    /// `pasted` or `log_file`.
    pub kind: String,
    /// The log file after resolving links.
    pub path: Option<String>,
    /// Lines handed to fail2ban-regex.
    pub lines_sent: usize,
    /// True when the file held more than was read.
    pub truncated: bool,
}

/// The tester's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegexTestReport {
    pub counts: RegexCounts,
    pub matches: Vec<RegexMatch>,
    pub matched_lines: Vec<String>,
    pub missed_lines: Vec<String>,
    pub ignored_lines: Vec<String>,
    pub failregex_hits: Vec<RegexHits>,
    pub ignoreregex_hits: Vec<RegexHits>,
    pub date_templates: Vec<DateTemplateHits>,
    /// The date pattern fail2ban used (`pattern : template`), when one was set.
    pub datepattern: Option<String>,
    pub source: RegexSource,
}

#[derive(Debug, thiserror::Error)]
pub enum RegexTesterError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("no filter {0:?} in fail2ban's filter.d")]
    FilterNotFound(String),
    #[error("{path} is outside the log directories BanGUI may read ({allowed})")]
    LogPathForbidden { path: String, allowed: String },
    #[error("cannot read log file {path}: {source}")]
    LogUnreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("too many regex tests are running; try again in a moment")]
    Busy,
    #[error(transparent)]
    Tool(#[from] RegexToolError),
    #[error("temporary file for the test: {0}")]
    TempFile(#[source] std::io::Error),
}

/// Tests regexes with fail2ban-regex; cheap to clone.
#[derive(Clone)]
pub struct RegexTesterService {
    tool: RegexTool,
    log_dirs: Arc<Vec<PathBuf>>,
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// The lines to test, in a temporary file removed when this is dropped.
struct Input {
    file: tempfile::NamedTempFile,
    source: RegexSource,
}

impl RegexTesterService {
    /// `log_dirs`: the directories a log path may resolve into; `wait`: how long a test waits
    /// for a free slot.
    pub fn new(tool: RegexTool, log_dirs: Vec<PathBuf>, wait: Duration) -> Self {
        Self {
            tool,
            log_dirs: Arc::new(log_dirs),
            slots: Arc::new(Semaphore::new(MAX_CONCURRENT_TESTS)),
            wait,
        }
    }

    pub fn log_dirs(&self) -> &[PathBuf] {
        &self.log_dirs
    }

    pub async fn test(&self, req: RegexTestRequest) -> Result<RegexTestReport, RegexTesterError> {
        let failregex = self.failregex(&req)?;
        let ignoreregex = text_field("ignoreregex", req.ignoreregex.as_deref())?;
        let datepattern = text_field("datepattern", req.datepattern.as_deref())?;
        if let Some(n) = req.maxlines
            && !(1..=100).contains(&n)
        {
            return Err(DomainError::new("maxlines", &n.to_string(), "1 to 100").into());
        }
        if let Some(n) = req.tail_lines
            && !(1..=MAX_TAIL_LINES).contains(&n)
        {
            return Err(DomainError::new(
                "tail_lines",
                &n.to_string(),
                format!("1 to {MAX_TAIL_LINES}"),
            )
            .into());
        }
        let input = self.input(&req).await?;
        let job = RegexJob {
            log_file: input.file.path().to_path_buf(),
            failregex,
            ignoreregex,
            datepattern,
            maxlines: req.maxlines,
        };
        let _slot = tokio::time::timeout(self.wait, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| RegexTesterError::Busy)?
            .map_err(|_| RegexTesterError::Busy)?;
        let outcome = self.tool.test(&job).await?;
        drop(input.file);
        Ok(report(outcome, input.source))
    }

    fn failregex(&self, req: &RegexTestRequest) -> Result<FailRegex, RegexTesterError> {
        // A filter name takes precedence over a typed failregex; an empty field counts as absent.
        // Checked even when a filter wins, so an oversized or multi-line field is always refused.
        let typed = text_field("failregex", req.failregex.as_deref())?;
        match (&req.filter, typed) {
            (None, None) => {
                Err(
                    DomainError::new("failregex", "", "give either a filter name or a failregex")
                        .into(),
                )
            }
            (Some(name), _) => {
                let name = ConfigName::parse("filter", name)?;
                let dir = self.tool.config_dir().join("filter.d");
                let exists = ["conf", "local"]
                    .iter()
                    .any(|ext| dir.join(format!("{name}.{ext}")).is_file());
                if !exists {
                    return Err(RegexTesterError::FilterNotFound(name.to_string()));
                }
                let mode = match req.mode.as_deref() {
                    None | Some("") => None,
                    Some(m) => {
                        if m.len() > 32
                            || !m
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        {
                            return Err(DomainError::new(
                                "mode",
                                m,
                                "1 to 32 letters, digits, '-' or '_'",
                            )
                            .into());
                        }
                        Some(m.to_string())
                    }
                };
                Ok(FailRegex::Filter {
                    name: name.to_string(),
                    mode,
                })
            }
            (None, Some(pattern)) => {
                // fail2ban-regex reads a REGEX without '<' that names a file as a filter file;
                // every usable failregex holds a tag (<HOST>, <ADDR>, <F-ID>) or a named group.
                if !pattern.contains('<') {
                    return Err(DomainError::new(
                        "failregex",
                        &pattern,
                        "a failregex needs a host tag such as <HOST> or <ADDR> (or an <F-ID> group)",
                    )
                    .into());
                }
                Ok(FailRegex::Pattern(pattern))
            }
        }
    }

    async fn input(&self, req: &RegexTestRequest) -> Result<Input, RegexTesterError> {
        // A log path takes precedence over pasted lines; an empty path counts as absent.
        let log_path = req.log_path.as_ref().filter(|p| !p.is_empty());
        match (&req.lines, log_path) {
            // Neither given: nothing to test (fail2ban-regex reports 0 lines).
            (None, None) => {
                run_blocking(|| {
                    Ok(Input {
                        file: temp_with(b"")?,
                        source: RegexSource {
                            kind: "pasted".into(),
                            path: None,
                            lines_sent: 0,
                            truncated: false,
                        },
                    })
                })
                .await
            }
            (Some(text), None) => {
                if text.len() > MAX_PASTED_BYTES {
                    return Err(DomainError::new(
                        "lines",
                        "",
                        format!("at most {MAX_PASTED_BYTES} bytes"),
                    )
                    .into());
                }
                if text.contains('\0') {
                    return Err(DomainError::new("lines", "", "must not contain NUL").into());
                }
                // A log file's lines end with a newline, and fail2ban-regex skips a last line
                // without one (as it would a line still being written); pasted text often lacks it.
                let mut text = text.clone();
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                run_blocking(move || {
                    let lines_sent = text.lines().count();
                    Ok(Input {
                        file: temp_with(text.as_bytes())?,
                        source: RegexSource {
                            kind: "pasted".into(),
                            path: None,
                            lines_sent,
                            truncated: false,
                        },
                    })
                })
                .await
            }
            (_, Some(path)) => {
                let max_lines = req.tail_lines.unwrap_or(1000);
                if !(1..=MAX_TAIL_LINES).contains(&max_lines) {
                    return Err(DomainError::new(
                        "tail_lines",
                        &max_lines.to_string(),
                        format!("1 to {MAX_TAIL_LINES}"),
                    )
                    .into());
                }
                let real = self.allowed_log(path)?;
                run_blocking(move || {
                    let tail = read_tail(&real, MAX_TAIL_BYTES, max_lines).map_err(|source| {
                        RegexTesterError::LogUnreadable {
                            path: real.display().to_string(),
                            source,
                        }
                    })?;
                    Ok(Input {
                        file: temp_with(tail.text.as_bytes())?,
                        source: RegexSource {
                            kind: "log_file".into(),
                            path: Some(real.display().to_string()),
                            lines_sent: tail.lines,
                            truncated: tail.truncated,
                        },
                    })
                })
                .await
            }
        }
    }

    /// `path` resolved (links followed) and inside one of the allow-listed directories.
    pub fn allowed_log(&self, path: &str) -> Result<PathBuf, RegexTesterError> {
        if path.contains('\0') || !Path::new(path).is_absolute() {
            return Err(DomainError::new("log_path", path, "an absolute path is required").into());
        }
        let forbidden = || RegexTesterError::LogPathForbidden {
            path: path.to_string(),
            allowed: self
                .log_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let real = std::fs::canonicalize(path).map_err(|source| {
            // Say nothing about files outside the allow-list, not even whether they exist.
            if self.log_dirs.iter().any(|d| Path::new(path).starts_with(d)) {
                RegexTesterError::LogUnreadable {
                    path: path.to_string(),
                    source,
                }
            } else {
                forbidden()
            }
        })?;
        let inside = self.log_dirs.iter().any(|dir| {
            std::fs::canonicalize(dir)
                .map(|d| real.starts_with(d))
                .unwrap_or(false)
        });
        if !inside || !real.is_file() {
            return Err(forbidden());
        }
        Ok(real)
    }
}

fn text_field(field: &'static str, value: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(v) = value else { return Ok(None) };
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > MAX_REGEX_CHARS {
        return Err(DomainError::new(
            field,
            v,
            format!("at most {MAX_REGEX_CHARS} characters"),
        ));
    }
    if v.contains(['\0', '\n', '\r']) {
        return Err(DomainError::new(
            field,
            v,
            "one line without NUL (test several regexes through a filter)",
        ));
    }
    Ok(Some(v.to_string()))
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RegexTesterError> + Send + 'static,
) -> Result<T, RegexTesterError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RegexTesterError::TempFile(std::io::Error::other(e.to_string())))?
}

fn temp_with(bytes: &[u8]) -> Result<tempfile::NamedTempFile, RegexTesterError> {
    let mut file = tempfile::Builder::new()
        .prefix("bangui-regex-")
        .suffix(".log")
        .tempfile()
        .map_err(RegexTesterError::TempFile)?;
    file.write_all(bytes).map_err(RegexTesterError::TempFile)?;
    file.flush().map_err(RegexTesterError::TempFile)?;
    Ok(file)
}

fn report(
    outcome: crate::fail2ban::regex_tool::RegexOutcome,
    source: RegexSource,
) -> RegexTestReport {
    let s = outcome.summary;
    let pair = outcome.rows.len() == s.matched_lines.len();
    let matches = outcome
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let mut captures = row.data;
            for key in ["ip4", "ip6", "dns", "fid"] {
                captures.remove(key);
            }
            RegexMatch {
                line: pair.then(|| s.matched_lines.get(i).cloned()).flatten(),
                host: row.id,
                time: rfc3339(row.time),
                captures,
            }
        })
        .collect();
    let hits = |v: Vec<(u64, String)>| {
        v.into_iter()
            .map(|(hits, regex)| RegexHits { hits, regex })
            .collect()
    };
    RegexTestReport {
        counts: RegexCounts {
            lines: s.lines,
            matched: s.matched,
            missed: s.missed,
            ignored: s.ignored,
        },
        matches,
        matched_lines: s.matched_lines,
        missed_lines: s.missed_lines,
        ignored_lines: s.ignored_lines,
        failregex_hits: hits(s.failregex_hits),
        ignoreregex_hits: hits(s.ignoreregex_hits),
        date_templates: s
            .date_templates
            .into_iter()
            .map(|(hits, template)| DateTemplateHits { hits, template })
            .collect(),
        datepattern: s.datepattern,
        source,
    }
}

fn rfc3339(epoch: f64) -> Option<String> {
    if !epoch.is_finite() || epoch <= 0.0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let secs = epoch.trunc() as i64;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_keeps_whole_last_lines_within_the_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, "one\ntwo\nthree\nfour\n").unwrap();
        let t = read_tail(&path, 1024, 2).unwrap();
        assert_eq!(
            (t.text.as_str(), t.lines, t.truncated),
            ("three\nfour\n", 2, true)
        );
        let t = read_tail(&path, 8, 100).unwrap();
        // The last 8 bytes are "ee\nfour\n": the cut line is dropped.
        assert_eq!((t.text.as_str(), t.lines, t.truncated), ("four\n", 1, true));
        let t = read_tail(&path, 1024, 100).unwrap();
        assert_eq!((t.lines, t.truncated), (4, false));
    }

    #[test]
    fn typed_fields_are_one_bounded_line() {
        assert!(text_field("failregex", Some("a\nb")).is_err());
        assert!(text_field("failregex", Some(&"a".repeat(MAX_REGEX_CHARS + 1))).is_err());
        assert_eq!(text_field("failregex", Some("")).unwrap(), None);
    }
}
