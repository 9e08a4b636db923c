//! The log-path tester of [`RegexTesterService`]: what a jail's `logpath` glob resolves to
//! (files inside the allow-listed directories only, links resolved), each file's size and last
//! lines, and how many of those lines the jail's filter matches; and [`read_tail`], the bounded
//! read from the end of a log file that the regex tester shares.

use super::*;

/// Files one log-path test lists at most.
pub const MAX_LOGPATH_FILES: usize = 50;
/// Files of one log-path test whose tails are run through the filter.
pub const MAX_LOGPATH_TESTED: usize = 5;

/// A log-path test: a jail's `logpath` glob and, optionally, the filter to count matches with.
#[derive(Debug, Clone, Default)]
pub struct LogPathRequest {
    pub logpath: String,
    pub filter: Option<String>,
    /// Last lines shown and tested per file (default 20, at most 1000).
    pub tail_lines: Option<usize>,
}

/// One file the glob resolved to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogPathFile {
    /// The path the glob produced.
    pub path: String,
    /// The path after resolving links.
    pub real_path: Option<String>,
    /// Inside the allow-listed log directories.
    pub allowed: bool,
    pub readable: bool,
    pub size: Option<u64>,
    pub last_lines: Vec<String>,
    /// Lines of `last_lines` the filter matched (fail2ban-regex's count), when a filter was
    /// given and the file was among the first tested.
    pub matched: Option<u64>,
    /// Why the file could not be read or tested.
    pub problem: Option<String>,
}

/// The answer of a log-path test.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogPathReport {
    pub logpath: String,
    pub files: Vec<LogPathFile>,
    /// More files matched than are listed.
    pub truncated: bool,
    pub allowed_dirs: Vec<String>,
}

impl RegexTesterService {
    /// Resolves `logpath` (a glob as fail2ban's `logpath` takes it) and reports each file: in
    /// the allow-list after resolving links, readable, its size and last lines, and how many of
    /// them the filter matches. Files outside the allow-list are named but never read.
    pub async fn test_logpath(
        &self,
        req: LogPathRequest,
    ) -> Result<LogPathReport, RegexTesterError> {
        let pattern = req.logpath.trim().to_string();
        if pattern.is_empty()
            || !pattern.starts_with('/')
            || pattern.contains(['\0', '\n'])
            || pattern.len() > 4096
        {
            return Err(DomainError::new(
                "logpath",
                &pattern,
                "an absolute path or glob on one line",
            )
            .into());
        }
        let tail_lines = req.tail_lines.unwrap_or(20);
        if !(1..=1000).contains(&tail_lines) {
            return Err(
                DomainError::new("tail_lines", &tail_lines.to_string(), "1 to 1000").into(),
            );
        }
        let filter = match req.filter.as_deref() {
            None => None,
            Some(f) => Some(ConfigName::parse("filter", f)?.to_string()),
        };
        let me = self.clone();
        let p = pattern.clone();
        let (mut files, truncated) = run_blocking(move || me.resolve_glob(&p, tail_lines)).await?;
        if let Some(filter) = filter {
            for file in files
                .iter_mut()
                .filter(|f| f.readable)
                .take(MAX_LOGPATH_TESTED)
            {
                let lines = file.last_lines.join("\n");
                let outcome = self
                    .test(RegexTestRequest {
                        filter: Some(filter.clone()),
                        lines: Some(lines),
                        ..RegexTestRequest::default()
                    })
                    .await;
                match outcome {
                    Ok(r) => file.matched = Some(r.counts.matched),
                    Err(
                        e @ (RegexTesterError::FilterNotFound(_) | RegexTesterError::Invalid(_)),
                    ) => {
                        return Err(e);
                    }
                    Err(e) => file.problem = Some(e.to_string()),
                }
            }
        }
        Ok(LogPathReport {
            logpath: pattern,
            files,
            truncated,
            allowed_dirs: self
                .log_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
        })
    }

    fn resolve_glob(
        &self,
        pattern: &str,
        tail_lines: usize,
    ) -> Result<(Vec<LogPathFile>, bool), RegexTesterError> {
        let paths =
            glob::glob(pattern).map_err(|e| DomainError::new("logpath", pattern, e.to_string()))?;
        let allowed_dirs: Vec<PathBuf> = self
            .log_dirs
            .iter()
            .filter_map(|d| std::fs::canonicalize(d).ok())
            .collect();
        let mut files = Vec::new();
        let mut truncated = false;
        for entry in paths {
            if files.len() == MAX_LOGPATH_FILES {
                truncated = true;
                break;
            }
            let Ok(path) = entry else { continue };
            let real = std::fs::canonicalize(&path).ok();
            let allowed = real
                .as_ref()
                .is_some_and(|r| allowed_dirs.iter().any(|d| r.starts_with(d)));
            let mut file = LogPathFile {
                path: path.display().to_string(),
                real_path: real.as_ref().map(|r| r.display().to_string()),
                allowed,
                readable: false,
                size: None,
                last_lines: Vec::new(),
                matched: None,
                problem: None,
            };
            match real.as_ref().filter(|_| allowed) {
                None => {
                    file.real_path = None;
                    file.problem =
                        Some("outside the allow-listed log directories; not read".into());
                }
                Some(real) if !real.is_file() => {
                    file.problem = Some("not a regular file".into());
                }
                Some(real) => {
                    file.size = std::fs::metadata(real).ok().map(|m| m.len());
                    match read_tail(real, MAX_TAIL_BYTES, tail_lines) {
                        Ok(t) => {
                            file.readable = true;
                            file.last_lines = t.text.lines().map(str::to_string).collect();
                        }
                        Err(e) => file.problem = Some(format!("cannot read: {e}")),
                    }
                }
            }
            files.push(file);
        }
        Ok((files, truncated))
    }
}

/// The last lines of a file.
pub struct Tail {
    pub text: String,
    pub lines: usize,
    /// True when the file holds more than `text`.
    pub truncated: bool,
}

/// Reads at most `max_bytes` from the end of `path` and keeps the last `max_lines` whole lines
/// (a line cut by the byte bound is dropped). Invalid UTF-8 is replaced.
pub fn read_tail(path: &Path, max_bytes: u64, max_lines: usize) -> std::io::Result<Tail> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max_bytes);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    file.take(max_bytes).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let mut body: &str = &text;
    if start > 0 {
        body = body.split_once('\n').map_or("", |(_, rest)| rest);
    }
    let all: Vec<&str> = body.lines().collect();
    let keep = all.len().min(max_lines);
    let lines = &all[all.len() - keep..];
    Ok(Tail {
        text: lines.join("\n") + if keep > 0 { "\n" } else { "" },
        lines: keep,
        truncated: start > 0 || keep < all.len(),
    })
}
