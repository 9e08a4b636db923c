//! `/api/v1/regex/test` (operators and admins): tries a filter, or a failregex typed in,
//! against pasted lines or the tail of an allow-listed log file with fail2ban's own
//! `fail2ban-regex`. Reads only; nothing is written or audited.

use actix_web::{post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::services::regex_tester::{
    LogPathReport, LogPathRequest, RegexTestReport, RegexTestRequest,
};
use crate::state::AppState;

use super::guard::Operator;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(test).service(test_logpath);
}

/// What to test. Give `filter` or `failregex` (a filter wins when both are given), and `lines`
/// or `log_path` (a non-empty log path wins).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegexTestBody {
    /// A filter of fail2ban's `filter.d` (with its `.local`), by name.
    #[schema(pattern = r"^[A-Za-z0-9_-](\.?[A-Za-z0-9_-])*\.?$", max_length = 64)]
    pub filter: Option<String>,
    /// The filter's `mode` (`aggressive`, `ddos`, …), with `filter` only.
    #[schema(pattern = r"^[A-Za-z0-9_-]{0,32}$")]
    pub mode: Option<String>,
    /// One failregex (with `<HOST>`, `<ADDR>` or an `<F-ID>` group).
    #[schema(max_length = 8192)]
    pub failregex: Option<String>,
    /// One ignoreregex.
    #[schema(max_length = 8192)]
    pub ignoreregex: Option<String>,
    /// A date pattern as fail2ban-regex's `--datepattern` takes it (single `%`).
    #[schema(max_length = 8192)]
    pub datepattern: Option<String>,
    /// Lines buffered for multi-line regexes.
    #[schema(minimum = 1, maximum = 100)]
    pub maxlines: Option<u32>,
    /// Log lines to test, newline-separated (at most 192 KiB).
    #[schema(max_length = 196608)]
    pub lines: Option<String>,
    /// An absolute path inside the allow-listed log directories; its last lines are tested
    /// (empty: not given).
    #[schema(max_length = 4096, pattern = "^(/.*)?$")]
    pub log_path: Option<String>,
    /// How many lines from the end of `log_path` (default 1000, at most 5000; at most 1 MiB).
    #[schema(minimum = 1, maximum = 5000)]
    pub tail_lines: Option<usize>,
}

/// Runs fail2ban-regex and returns its counts (exactly as it prints them), each match with
/// host, time and captures, the missed and ignored lines and the date templates used. A regex
/// fail2ban cannot compile answers 400 `regex_invalid` with fail2ban's message; a test that
/// passes the timeout (catastrophic backtracking) is stopped and answers 422 `regex_timeout`.
#[utoipa::path(tag = "regex", request_body = RegexTestBody,
    responses((status = 200, body = RegexTestReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 422), (status = 502), (status = 503)))]
#[post("/regex/test")]
pub async fn test(
    _: Operator,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<RegexTestBody>>,
) -> Result<web::Json<RegexTestReport>, ApiError> {
    let b = body.into_inner().0;
    let report = state
        .regex_tester
        .test(RegexTestRequest {
            filter: b.filter,
            mode: b.mode,
            failregex: b.failregex,
            ignoreregex: b.ignoreregex,
            datepattern: b.datepattern,
            maxlines: b.maxlines,
            lines: b.lines,
            log_path: b.log_path,
            tail_lines: b.tail_lines,
        })
        .await?;
    Ok(web::Json(report))
}

/// A log-path test.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogPathBody {
    /// An absolute path or glob as a jail's `logpath` takes it.
    #[schema(max_length = 4096, pattern = "^/")]
    pub logpath: String,
    /// The filter whose matches are counted in each file's last lines.
    #[schema(pattern = r"^[A-Za-z0-9_-](\.?[A-Za-z0-9_-])*\.?$", max_length = 64)]
    pub filter: Option<String>,
    /// Last lines shown and tested per file (default 20).
    #[schema(minimum = 1, maximum = 1000)]
    pub tail_lines: Option<usize>,
}

/// Resolves a `logpath` glob: each file, whether it lies in the allow-listed log directories
/// (links resolved; files outside are named, never read), its size, its last lines and how
/// many of them the filter matches (fail2ban-regex, first 5 files).
#[utoipa::path(tag = "regex", request_body = LogPathBody,
    responses((status = 200, body = LogPathReport), (status = 400), (status = 401), (status = 403),
        (status = 404), (status = 503)))]
#[post("/regex/logpath")]
pub async fn test_logpath(
    _: Operator,
    state: web::Data<AppState>,
    body: web::Json<super::body::JsonObject<LogPathBody>>,
) -> Result<web::Json<LogPathReport>, ApiError> {
    let b = body.into_inner().0;
    let report = state
        .regex_tester
        .test_logpath(LogPathRequest {
            logpath: b.logpath,
            filter: b.filter,
            tail_lines: b.tail_lines,
        })
        .await?;
    Ok(web::Json(report))
}
