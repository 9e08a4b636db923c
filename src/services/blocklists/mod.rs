//! Blocklists (issue 16): sources an administrator manages, imported on a schedule or on request
//! into a fail2ban jail (default `blocklist-import`). [`BlocklistService`] owns the sources'
//! lifecycle, the per-source import lock and the scheduling of due runs; `import.rs` holds the
//! run itself (fetch → parse → reconcile with fail2ban's live list), `fetch.rs` the guarded
//! downloader, `views.rs` what the API shows.
//!
//! Invariants:
//! * one import per source at a time (a per-source `tokio` mutex, taken with `try_lock`: a
//!   second request is refused, a scheduled tick skipped);
//! * a source only ever unbans entries it banned itself (`blocklist_members`), and not while
//!   another source of the same jail still lists them;
//! * membership is written before a ban and after an unban, so after a crash it is a superset
//!   of what the source banned; the next run compares it with fail2ban's live list and repairs.

pub mod fetch;
mod import;
pub mod views;

use crate::services::events::EventBus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::SqlitePool;

use crate::db::blocklists::{self as repo, SourceFields};
use crate::db::now_epoch;
use crate::domain::blocklist::{ImportSchedule, SourceUrl};
use crate::domain::{DomainError, JailName};
use crate::fail2ban::{Fail2banClient, Fail2banError};

pub use fetch::{FetchError, FetchLimits, Fetcher, HostResolver, StaticResolver, SystemResolver};
pub use views::{ImportStarted, LogLineView, PreviewView, RunView, SourceView};

/// What an administrator gives for a source, parsed.
#[derive(Debug, Clone)]
pub struct SourceInput {
    pub name: String,
    pub url: SourceUrl,
    pub enabled: bool,
    pub jail: JailName,
    pub schedule: ImportSchedule,
    pub allow_internal: bool,
}

impl SourceInput {
    /// Checks the name (1–100 characters, no control characters).
    pub fn name(text: &str) -> Result<String, DomainError> {
        let t = text.trim();
        if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
            return Err(DomainError::new(
                "name",
                text,
                "a name of 1 to 100 characters without control characters is required",
            ));
        }
        Ok(t.to_string())
    }
}

/// How imports run.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// Entries per `banip`/`unbanip` command.
    pub batch_size: usize,
    /// How long a full check of an unchanged list's members against fail2ban's live ban list
    /// stays good: until then a scheduled run of an unchanged list checks fail2ban's ban count
    /// only (see `import.rs`). Zero checks every member on every run.
    pub verify_every: std::time::Duration,
    /// A pause between two `banip`/`unbanip` batches, in which fail2ban serves other callers.
    pub pause: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BlocklistError {
    #[error("no blocklist source with id {0}")]
    NotFound(i64),
    #[error("a blocklist source with the URL {0} exists already")]
    DuplicateUrl(String),
    #[error("an import of source {0} is running; try again when it has finished")]
    Busy(i64),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Fail2ban(#[from] Fail2banError),
    #[error("the blocklist database failed: {0}")]
    Db(#[from] sqlx::Error),
    #[error("parsing the list failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct BlocklistService {
    inner: Arc<Inner>,
}

struct Inner {
    db: SqlitePool,
    fail2ban: Fail2banClient,
    fetcher: Fetcher,
    limits: ImportLimits,
    /// Failed imports are published as `blocklist_import_failed`.
    events: Arc<EventBus>,
    locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

impl BlocklistService {
    /// `fail2ban` should have a command timeout long enough for a batch of bans.
    pub fn new(
        db: SqlitePool,
        fail2ban: Fail2banClient,
        fetcher: Fetcher,
        limits: ImportLimits,
        events: Arc<EventBus>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                fail2ban,
                fetcher,
                events,
                limits: ImportLimits {
                    batch_size: limits.batch_size.max(1),
                    ..limits
                },
                locks: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn lock_of(&self, id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = match self.inner.locks.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        Arc::clone(map.entry(id).or_default())
    }

    /// Marks runs a previous process left `running` as failed (called once at start).
    pub async fn recover(&self) -> Result<u64, BlocklistError> {
        Ok(repo::fail_interrupted_runs(&self.inner.db, now_epoch()).await?)
    }

    async fn view(&self, row: repo::SourceRow) -> Result<SourceView, BlocklistError> {
        let members = repo::member_count(&self.inner.db, row.id).await?;
        let last = repo::runs(&self.inner.db, row.id, 1)
            .await?
            .into_iter()
            .next();
        Ok(SourceView::new(row, members, last))
    }

    async fn row(&self, id: i64) -> Result<repo::SourceRow, BlocklistError> {
        repo::get_source(&self.inner.db, id)
            .await?
            .ok_or(BlocklistError::NotFound(id))
    }

    pub async fn list(&self) -> Result<Vec<SourceView>, BlocklistError> {
        let rows = repo::list_sources(&self.inner.db).await?;
        let mut last: HashMap<i64, repo::RunRow> = repo::last_runs(&self.inner.db)
            .await?
            .into_iter()
            .map(|r| (r.source_id, r))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let members = repo::member_count(&self.inner.db, row.id).await?;
            let run = last.remove(&row.id);
            out.push(SourceView::new(row, members, run));
        }
        Ok(out)
    }

    pub async fn get(&self, id: i64) -> Result<SourceView, BlocklistError> {
        let row = self.row(id).await?;
        self.view(row).await
    }

    fn map_unique(e: sqlx::Error, url: &SourceUrl) -> BlocklistError {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                BlocklistError::DuplicateUrl(url.to_string())
            }
            _ => BlocklistError::Db(e),
        }
    }

    pub async fn create(&self, input: &SourceInput) -> Result<SourceView, BlocklistError> {
        let now = now_epoch();
        let schedule = input.schedule.to_string();
        let fields = SourceFields {
            name: &input.name,
            url: input.url.as_str(),
            enabled: input.enabled,
            jail: input.jail.as_str(),
            schedule: &schedule,
            allow_internal: input.allow_internal,
            next_run_at: input.schedule.next_after(now),
        };
        let id = repo::insert_source(&self.inner.db, &fields, now)
            .await
            .map_err(|e| Self::map_unique(e, &input.url))?;
        self.get(id).await
    }

    pub async fn update(&self, id: i64, input: &SourceInput) -> Result<SourceView, BlocklistError> {
        let now = now_epoch();
        let schedule = input.schedule.to_string();
        let fields = SourceFields {
            name: &input.name,
            url: input.url.as_str(),
            enabled: input.enabled,
            jail: input.jail.as_str(),
            schedule: &schedule,
            allow_internal: input.allow_internal,
            next_run_at: input.schedule.next_after(now),
        };
        let _guard = self
            .lock_of(id)
            .try_lock_owned()
            .map_err(|_| BlocklistError::Busy(id))?;
        let before = self.row(id).await?;
        if before.jail != input.jail.as_str() {
            // The entries live in the old jail: take them out, the next run bans them in the new one.
            self.release_members(&before).await?;
        }
        let found = repo::update_source(&self.inner.db, id, &fields, now)
            .await
            .map_err(|e| Self::map_unique(e, &input.url))?;
        if !found {
            return Err(BlocklistError::NotFound(id));
        }
        self.get(id).await
    }

    /// Deletes a source after unbanning what it banned (unless another source of the jail
    /// lists it too). Returns how many entries were unbanned.
    pub async fn delete(&self, id: i64) -> Result<u64, BlocklistError> {
        let _guard = self
            .lock_of(id)
            .try_lock_owned()
            .map_err(|_| BlocklistError::Busy(id))?;
        let row = self.row(id).await?;
        let unbanned = self.release_members(&row).await?;
        repo::delete_source(&self.inner.db, id).await?;
        Ok(unbanned)
    }

    pub async fn runs(&self, id: i64, limit: i64) -> Result<Vec<RunView>, BlocklistError> {
        self.row(id).await?;
        Ok(repo::runs(&self.inner.db, id, limit)
            .await?
            .into_iter()
            .map(RunView::from)
            .collect())
    }

    pub async fn log(&self, id: i64, limit: i64) -> Result<Vec<LogLineView>, BlocklistError> {
        self.row(id).await?;
        Ok(repo::log(&self.inner.db, id, limit)
            .await?
            .into_iter()
            .map(LogLineView::from)
            .collect())
    }

    /// Imports one source and waits for the run to end; `Busy` if one is running.
    pub async fn import_and_wait(&self, id: i64, manual: bool) -> Result<RunView, BlocklistError> {
        let guard = self
            .lock_of(id)
            .try_lock_owned()
            .map_err(|_| BlocklistError::Busy(id))?;
        let row = self.row(id).await?;
        let run = self.run_import(row, manual).await;
        drop(guard);
        run
    }

    /// Starts imports of the given sources (all enabled ones for `None`) in the background.
    pub async fn import_now(&self, id: Option<i64>) -> Result<ImportStarted, BlocklistError> {
        let rows = match id {
            Some(id) => vec![self.row(id).await?],
            None => repo::list_sources(&self.inner.db)
                .await?
                .into_iter()
                .filter(|r| r.enabled)
                .collect(),
        };
        let mut started = Vec::new();
        let mut already_running = Vec::new();
        let mut batch = Vec::new();
        for row in rows {
            match self.lock_of(row.id).try_lock_owned() {
                Ok(guard) => {
                    started.push(row.id);
                    batch.push((row, guard));
                }
                Err(_) => already_running.push(row.id),
            }
        }
        // One after the other, as the schedule runs them: sources sharing a jail then see each
        // other's claims.
        let this = self.clone();
        tokio::spawn(async move {
            for (row, guard) in batch {
                let id = row.id;
                if let Err(e) = this.run_import(row, true).await {
                    tracing::error!(source = id, error = %e, "blocklist import failed");
                }
                drop(guard);
            }
        });
        Ok(ImportStarted {
            started,
            already_running,
        })
    }

    /// Runs every due source one after the other and moves each one's next run on. Called by
    /// the `blocklist_schedule` job.
    pub async fn run_due(&self) -> Result<usize, BlocklistError> {
        let now = now_epoch();
        let due = repo::due_sources(&self.inner.db, now).await?;
        let mut ran = 0;
        for id in due {
            let row = self.row(id).await?;
            let next = ImportSchedule::parse(&row.schedule)
                .ok()
                .and_then(|s| s.next_after(now));
            repo::set_next_run(&self.inner.db, id, next).await?;
            let Ok(guard) = self.lock_of(id).try_lock_owned() else {
                continue;
            };
            if let Err(e) = self.run_import(row, false).await {
                tracing::error!(source = id, error = %e, "scheduled blocklist import failed");
            }
            drop(guard);
            ran += 1;
        }
        Ok(ran)
    }
}
