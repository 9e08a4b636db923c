//! Runs fail2ban's own `fail2ban-regex` on a log file: never a shell string, always an argument
//! vector, in its own process group, with a timeout (the whole group is killed when it passes,
//! so a catastrophic regex cannot keep a Python process spinning) and a cap on what it may
//! print. One test is two runs side by side over the same file: a summary run (counts, hits,
//! date templates, every matched/missed/ignored line) and an `--out row` run (each match's id,
//! time and captures). Both use `--raw` (no DNS lookups from the server) and UTF-8.
//! fail2ban decides every match; this file only starts it and reads its answer.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::regex_output::{self, RegexRow, RegexSummary};

/// Where `fail2ban-regex` is and how far it may go.
#[derive(Debug, Clone)]
pub struct RegexToolConfig {
    pub program: PathBuf,
    /// fail2ban's configuration directory (`-c`), where filters are looked up by name.
    pub config_dir: PathBuf,
    pub timeout: Duration,
    /// Bytes one run may print (stdout and stderr each).
    pub max_output_bytes: usize,
}

/// What the failregex argument is.
#[derive(Debug, Clone, PartialEq)]
pub enum FailRegex {
    /// A filter of the configuration directory, by name (already checked), with an optional
    /// `mode`.
    Filter { name: String, mode: Option<String> },
    /// A failregex typed in (must contain a `<…>` tag or group, so fail2ban never reads it as a
    /// file name).
    Pattern(String),
}

/// One test: which file, which regexes.
#[derive(Debug, Clone)]
pub struct RegexJob {
    pub log_file: PathBuf,
    pub failregex: FailRegex,
    pub ignoreregex: Option<String>,
    pub datepattern: Option<String>,
    pub maxlines: Option<u32>,
}

/// fail2ban-regex's answer.
#[derive(Debug, Clone)]
pub struct RegexOutcome {
    pub summary: RegexSummary,
    pub rows: Vec<RegexRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegexToolError {
    /// fail2ban-regex refused the regex, the filter or the date pattern; its own message.
    #[error("{0}")]
    Refused(String),
    #[error(
        "fail2ban-regex did not finish within {seconds} s and was stopped; the regex probably backtracks catastrophically (nested quantifiers such as (a+)+) or the input is too large"
    )]
    Timeout { seconds: u64 },
    #[error("fail2ban-regex printed more than {limit} bytes and was stopped; test fewer lines")]
    OutputTooLarge { limit: usize },
    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("fail2ban-regex ended with {status} without a summary: {output}")]
    Unreadable { status: String, output: String },
}

/// Starts `fail2ban-regex`; cheap to clone.
#[derive(Debug, Clone)]
pub struct RegexTool {
    config: RegexToolConfig,
}

impl RegexTool {
    pub fn new(config: RegexToolConfig) -> Self {
        Self { config }
    }

    pub fn config_dir(&self) -> &std::path::Path {
        &self.config.config_dir
    }

    /// The arguments both runs share, then the positional LOG REGEX [IGNOREREGEX].
    pub fn arguments(&self, job: &RegexJob, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            "-c".to_string(),
            self.config.config_dir.display().to_string(),
            "--raw".into(),
            "-e".into(),
            "UTF-8".into(),
        ];
        if let Some(d) = &job.datepattern {
            args.push(format!("--datepattern={d}"));
        }
        if let Some(n) = job.maxlines {
            args.push(format!("--maxlines={n}"));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(job.log_file.display().to_string());
        args.push(match &job.failregex {
            FailRegex::Filter { name, mode: None } => name.clone(),
            FailRegex::Filter {
                name,
                mode: Some(m),
            } => format!("{name}[mode={m}]"),
            FailRegex::Pattern(p) => p.clone(),
        });
        if let Some(i) = &job.ignoreregex {
            args.push(i.clone());
        }
        args
    }

    /// Runs the summary and the row run side by side.
    pub async fn test(&self, job: &RegexJob) -> Result<RegexOutcome, RegexToolError> {
        let summary_args = self.arguments(
            job,
            &[
                "--print-all-matched",
                "--print-all-missed",
                "--print-all-ignored",
            ],
        );
        let row_args = self.arguments(job, &["--out", "row"]);
        let (summary, rows) = tokio::join!(self.run(&summary_args), self.run(&row_args));
        let summary = summary?;
        let Some(parsed) = regex_output::parse_summary(&summary.stdout) else {
            if let Some(text) = regex_output::error_text(&summary.stdout, &summary.stderr) {
                return Err(RegexToolError::Refused(text));
            }
            return Err(RegexToolError::Unreadable {
                status: summary.status,
                output: tail(&format!("{}\n{}", summary.stdout, summary.stderr), 2000),
            });
        };
        let rows = rows?;
        Ok(RegexOutcome {
            summary: parsed,
            rows: regex_output::parse_rows(&rows.stdout),
        })
    }

    async fn run(&self, args: &[String]) -> Result<Captured, RegexToolError> {
        run_bounded(
            &self.config.program,
            args,
            self.config.timeout,
            self.config.max_output_bytes,
        )
        .await
    }
}

fn tail(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    let start = trimmed.char_indices().rev().nth(max).map_or(0, |(i, _)| i);
    trimmed[start..].to_string()
}

struct Captured {
    stdout: String,
    stderr: String,
    status: String,
}

/// Runs `program args…` in a new process group with stdin closed; kills the group on timeout or
/// when either stream passes `cap` bytes.
async fn run_bounded(
    program: &std::path::Path,
    args: &[String],
    timeout: Duration,
    cap: usize,
) -> Result<Captured, RegexToolError> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|source| RegexToolError::Spawn {
        program: program.display().to_string(),
        source,
    })?;
    let group = child.id().and_then(|id| i32::try_from(id).ok());
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        kill_group(group);
        return Err(RegexToolError::Spawn {
            program: program.display().to_string(),
            source: std::io::Error::other("no pipes"),
        });
    };
    let work = async {
        let (stdout, stderr) = tokio::try_join!(read_capped(out, cap), read_capped(err, cap))?;
        let status = child.wait().await.ok();
        Ok::<_, RegexToolError>((stdout, stderr, status))
    };
    let result = tokio::time::timeout(timeout, work).await;
    match result {
        Ok(Ok((stdout, stderr, status))) => Ok(Captured {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            status: status.map_or_else(
                || "unknown status".into(),
                |s| match s.code() {
                    Some(c) => format!("exit code {c}"),
                    None => format!("signal {}", s.signal().unwrap_or_default()),
                },
            ),
        }),
        Ok(Err(e)) => {
            kill_group(group);
            let _ = child.wait().await;
            Err(e)
        }
        Err(_) => {
            kill_group(group);
            let _ = child.wait().await;
            Err(RegexToolError::Timeout {
                seconds: timeout.as_secs().max(1),
            })
        }
    }
}

async fn read_capped(
    mut stream: impl AsyncRead + Unpin,
    cap: usize,
) -> Result<Vec<u8>, RegexToolError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return Ok(buf);
        }
        if buf.len() + n > cap {
            return Err(RegexToolError::OutputTooLarge { limit: cap });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// SIGKILL to the whole process group the child leads (fail2ban-regex may fork helpers).
fn kill_group(group: Option<i32>) {
    if let Some(pgid) = group.filter(|g| *g > 1) {
        // SAFETY: killpg only sends a signal to the group this process created for the child.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}
