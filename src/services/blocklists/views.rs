//! What the blocklist API shows: sources with their last and next run, runs, log lines and
//! previews. Built from database rows; times as RFC 3339 UTC.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::blocklists::{LogRow, RunRow, SourceRow};
use crate::domain::blocklist::RejectedLine;

pub(crate) fn rfc3339(epoch: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(epoch, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// One blocklist source.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceView {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub enabled: bool,
    /// The jail its entries are banned in.
    pub jail: String,
    /// `manual`, `hourly`, `daily`, `weekly` or a 6-field cron expression (UTC).
    pub schedule: String,
    /// Whether an admin allowed this source's host to be an internal address.
    pub allow_internal: bool,
    /// When the schedule runs it next (absent for manual sources and disabled ones).
    pub next_run_at: Option<String>,
    /// Entries this source currently holds in its jail.
    pub members: i64,
    pub last_run: Option<RunView>,
    pub created_at: String,
    pub updated_at: String,
}

impl SourceView {
    pub(crate) fn new(row: SourceRow, members: i64, last_run: Option<RunRow>) -> Self {
        Self {
            id: row.id,
            name: row.name,
            url: row.url,
            enabled: row.enabled,
            jail: row.jail,
            schedule: row.schedule,
            allow_internal: row.allow_internal,
            next_run_at: row.next_run_at.filter(|_| row.enabled).map(rfc3339),
            members,
            last_run: last_run.map(RunView::from),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// One import run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    pub source_id: i64,
    /// `schedule` or `manual`.
    pub trigger: String,
    /// `running`, `completed`, `unchanged` (nothing to do) or `failed`.
    pub state: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub http_status: Option<i64>,
    pub fetched_bytes: i64,
    /// Distinct valid entries in the list.
    pub entries: i64,
    pub added: i64,
    pub removed: i64,
    pub invalid: i64,
    /// Entries refused because they cover loopback, this host or everything.
    pub refused: i64,
    pub error_code: Option<String>,
    pub error: Option<String>,
}

impl From<RunRow> for RunView {
    fn from(r: RunRow) -> Self {
        Self {
            id: r.id,
            source_id: r.source_id,
            trigger: r.trigger,
            state: r.state,
            started_at: rfc3339(r.started_at),
            finished_at: r.finished_at.map(rfc3339),
            http_status: r.http_status,
            fetched_bytes: r.fetched_bytes,
            entries: r.entries,
            added: r.added,
            removed: r.removed,
            invalid: r.invalid,
            refused: r.refused,
            error_code: r.error_code,
            error: r.error,
        }
    }
}

/// One line of a source's log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogLineView {
    pub id: i64,
    pub run_id: i64,
    pub at: String,
    /// `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
}

impl From<LogRow> for LogLineView {
    fn from(r: LogRow) -> Self {
        Self {
            id: r.id,
            run_id: r.run_id,
            at: rfc3339(r.at),
            level: r.level,
            message: r.message,
        }
    }
}

/// What an import of a source would do now; nothing is banned to find out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewView {
    pub http_status: u16,
    pub fetched_bytes: u64,
    /// The first lines of the list as fetched (at most 20, each at most 200 characters).
    pub first_lines: Vec<String>,
    /// Distinct valid entries.
    pub entries: usize,
    /// Of those, networks.
    pub networks: usize,
    pub duplicates: usize,
    pub invalid: usize,
    pub invalid_examples: Vec<RejectedLine>,
    pub refused: usize,
    pub refused_examples: Vec<RejectedLine>,
    /// Entries the import would ban (not banned in the jail now).
    pub would_add: usize,
    /// Entries this source banned that left the list and the import would unban.
    pub would_remove: usize,
    /// Up to 20 of each.
    pub add_examples: Vec<String>,
    pub remove_examples: Vec<String>,
}

/// Answer to "import now".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportStarted {
    /// The sources whose import was started.
    pub started: Vec<i64>,
    /// The sources skipped because an import of theirs is still running.
    pub already_running: Vec<i64>,
}
