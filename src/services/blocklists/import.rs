//! One import run and the preview of one. A run fetches the list (conditionally), hashes it,
//! parses it on the blocking pool and reconciles the jail with it:
//!
//! ```text
//! desired D = the list's entries          members M = what this source banned (our DB)
//! live L    = `get JAIL banip`            others O  = what other sources of the jail banned
//! unban  (M − D) ∩ L − O, then forget M − D
//! ban    D − L in batches, each batch claimed in M before `banip`
//! claim  D ∩ L ∩ O − M  (shared with another source)
//! ```
//!
//! Because the ban set is computed from fail2ban's live list and claims precede bans, a run
//! interrupted anywhere leaves a state that the next run completes; the content hash is stored
//! only when a run completes. An unchanged body (304, or the same SHA-256) is a no-op as long
//! as every member is still banned (bans expire after the jail's `bantime`); otherwise the run
//! reconciles in full.
//!
//! Checking "every member is still banned" means reading `get JAIL banip`, which for 100,000
//! entries costs fail2ban seconds (and holds its single command loop). So an unchanged list on
//! a scheduled run is first checked by count: fail2ban's "currently banned" of the jail
//! (`status JAIL short`, no list transferred) must be at least the number of distinct entries
//! all blocklists of the jail put there. Only a count below that, a last full check older than
//! [`ImportLimits::verify_every`](super::ImportLimits), or an import started by hand reads the
//! live list. The count cannot see a lost member masked by as many bans from elsewhere (by
//! hand, by a filter); the age bound puts a limit on how long that can last.
//!
//! Over 500 lines on purpose: one run's reconciliation and the rules that make it
//! crash-safe and idempotent (claims before bans, hash stored last, the count check) belong
//! together; fetching, parsing and the views are their own files.

use crate::domain::event::EventKind;
use std::collections::HashSet;

use sha2::{Digest, Sha256};

use super::fetch::{FetchRequest, Fetched};
use super::views::PreviewView;
use super::{BlocklistError, BlocklistService, RunView};
use crate::db::blocklists::{self as repo, RunOutcome, SourceRow};
use crate::db::now_epoch;
use crate::domain::JailName;
use crate::domain::blocklist::{BlocklistEntry, ParsedList, parse_list};
use crate::fail2ban::Fail2banError;
use crate::services::ban_policy;

/// Lines of the list a preview shows.
const PREVIEW_LINES: usize = 20;

#[derive(Default)]
struct Summary {
    state: &'static str,
    http_status: Option<u16>,
    bytes: u64,
    hash: Option<String>,
    entries: usize,
    added: usize,
    removed: usize,
    invalid: usize,
    refused: usize,
}

fn error_code(e: &BlocklistError) -> &'static str {
    match e {
        BlocklistError::Fetch(f) => f.code(),
        BlocklistError::Fail2ban(Fail2banError::UnknownJail(_)) => "unknown_jail",
        BlocklistError::Fail2ban(_) => "fail2ban_error",
        BlocklistError::Db(_) => "database_error",
        BlocklistError::NotFound(_) => "not_found",
        BlocklistError::DuplicateUrl(_) => "duplicate_url",
        BlocklistError::Busy(_) => "import_running",
        BlocklistError::Join(_) => "internal_error",
    }
}

fn request(row: &SourceRow, conditional: bool) -> Result<FetchRequest, BlocklistError> {
    let url = url::Url::parse(&row.url).map_err(|_| {
        BlocklistError::Fetch(super::FetchError::Scheme(
            row.url.chars().take(100).collect(),
        ))
    })?;
    Ok(FetchRequest {
        url,
        allow_internal: row.allow_internal,
        etag: row.etag.clone().filter(|_| conditional),
        last_modified: row.last_modified.clone().filter(|_| conditional),
    })
}

fn jail_of(row: &SourceRow) -> Result<JailName, BlocklistError> {
    JailName::parse(&row.jail).map_err(|e| BlocklistError::Fail2ban(Fail2banError::Invalid(e)))
}

struct Body {
    status: u16,
    bytes: Vec<u8>,
    etag: Option<String>,
    last_modified: Option<String>,
}

impl BlocklistService {
    /// What the jail bans, as fail2ban writes it: the text each entry was banned with (ours are
    /// canonical), so no parsing is needed to compare.
    async fn live(&self, jail: &JailName) -> Result<HashSet<String>, BlocklistError> {
        Ok(self
            .inner
            .fail2ban
            .banned_entries(jail)
            .await?
            .into_iter()
            .collect())
    }

    /// Whether every entry this source claims is banned in its jail right now.
    async fn consistent(&self, row: &SourceRow, jail: &JailName) -> Result<bool, BlocklistError> {
        let members = repo::members(&self.inner.db, row.id).await?;
        if members.is_empty() {
            return Ok(true);
        }
        let live = self.live(jail).await?;
        Ok(members.iter().all(|m| live.contains(m)))
    }

    /// Whether an unchanged list is still applied: by fail2ban's ban count when the last full
    /// check is recent and the run was scheduled (a short count answers "no" at once: the
    /// reconciliation that follows reads the live list anyway), else by reading the live list,
    /// which is then recorded as the last full check.
    async fn still_applied(
        &self,
        row: &SourceRow,
        jail: &JailName,
        manual: bool,
        run: i64,
    ) -> Result<bool, BlocklistError> {
        let db = &self.inner.db;
        let now = now_epoch();
        let bound = i64::try_from(self.inner.limits.verify_every.as_secs()).unwrap_or(i64::MAX);
        let age = row.verified_at.map(|t| now.saturating_sub(t).max(0));
        let why = match age {
            _ if manual => "an import started by hand checks every member".to_string(),
            None => "its members were never checked one by one".to_string(),
            Some(age) if age >= bound => {
                format!("the last full check was {age} s ago (the bound is {bound} s)")
            }
            Some(age) => {
                let expected = repo::jail_member_count(db, &row.jail).await?;
                let banned = self
                    .inner
                    .fail2ban
                    .jail_counters(jail)
                    .await?
                    .currently_banned;
                let ok = banned >= expected;
                let message = if ok {
                    format!(
                        "count check: fail2ban bans {banned} entries in {}, at least the {expected} its blocklists put there (last full check {age} s ago)",
                        jail.as_str()
                    )
                } else {
                    format!(
                        "count check: fail2ban bans only {banned} entries in {} but its blocklists put {expected} there; reconciling",
                        jail.as_str()
                    )
                };
                self.note(run, row.id, "info", &message).await;
                return Ok(ok);
            }
        };
        self.note(
            run,
            row.id,
            "info",
            &format!("full check of every member against fail2ban's ban list: {why}"),
        )
        .await;
        let at = now_epoch();
        let ok = self.consistent(row, jail).await?;
        if ok {
            repo::set_verified(db, row.id, at).await?;
        }
        Ok(ok)
    }

    async fn note(&self, run: i64, source: i64, level: &str, message: &str) {
        if let Err(e) =
            repo::add_log(&self.inner.db, run, source, level, message, now_epoch()).await
        {
            tracing::warn!(error = %e, "cannot write the blocklist import log");
        }
    }

    async fn parse(&self, bytes: Vec<u8>) -> Result<ParsedList, BlocklistError> {
        Ok(tokio::task::spawn_blocking(move || {
            let host: Vec<_> = ban_policy::host_addresses().into_iter().collect();
            parse_list(&String::from_utf8_lossy(&bytes), &host)
        })
        .await?)
    }

    async fn fetch_body(
        &self,
        row: &SourceRow,
        conditional: bool,
    ) -> Result<Option<Body>, BlocklistError> {
        match self
            .inner
            .fetcher
            .fetch(&request(row, conditional)?)
            .await?
        {
            Fetched::NotModified { .. } if conditional => Ok(None),
            Fetched::NotModified { status } => {
                Err(BlocklistError::Fetch(super::FetchError::Status {
                    status,
                    url: row.url.clone(),
                }))
            }
            Fetched::Body {
                status,
                body,
                etag,
                last_modified,
            } => Ok(Some(Body {
                status,
                bytes: body,
                etag,
                last_modified,
            })),
        }
    }

    /// Runs one import of `row` (the caller holds the source's lock) and records it.
    pub(super) async fn run_import(
        &self,
        row: SourceRow,
        manual: bool,
    ) -> Result<RunView, BlocklistError> {
        let db = &self.inner.db;
        let trigger = if manual { "manual" } else { "schedule" };
        let run = repo::start_run(db, row.id, trigger, now_epoch()).await?;
        let result = self.attempt(&row, run, manual).await;
        let (summary, failure) = match result {
            Ok(s) => (s, None),
            Err((s, e)) => (s, Some(e)),
        };
        let message = failure.as_ref().map(|e| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                let c = cause.to_string();
                if !text.contains(&c) {
                    text.push_str(": ");
                    text.push_str(&c);
                }
                source = cause.source();
            }
            text
        });
        if let Some(m) = &message {
            self.note(run, row.id, "error", m).await;
            self.inner.events.publish(EventKind::BlocklistImportFailed {
                list: row.name.clone(),
                error: m.clone(),
            });
        }
        let outcome = RunOutcome {
            state: if failure.is_some() {
                "failed"
            } else {
                summary.state
            },
            http_status: summary.http_status,
            fetched_bytes: summary.bytes,
            content_hash: summary.hash.as_deref(),
            entries: summary.entries,
            added: summary.added,
            removed: summary.removed,
            invalid: summary.invalid,
            refused: summary.refused,
            error_code: failure.as_ref().map(error_code),
            error: message.as_deref(),
        };
        repo::finish_run(db, run, &outcome, now_epoch()).await?;
        repo::get_run(db, run)
            .await?
            .map(RunView::from)
            .ok_or(BlocklistError::NotFound(row.id))
    }

    async fn attempt(
        &self,
        row: &SourceRow,
        run: i64,
        manual: bool,
    ) -> Result<Summary, (Summary, BlocklistError)> {
        let mut summary = Summary::default();
        match self.attempt_inner(row, run, manual, &mut summary).await {
            Ok(()) => Ok(summary),
            Err(e) => Err((summary, e)),
        }
    }

    async fn attempt_inner(
        &self,
        row: &SourceRow,
        run: i64,
        manual: bool,
        s: &mut Summary,
    ) -> Result<(), BlocklistError> {
        let db = &self.inner.db;
        let jail = jail_of(row)?;
        self.inner.fail2ban.ensure_jail(&jail).await?;
        let conditional = row.content_hash.is_some();
        // Set when the jail is known to miss some of the list: no second check of the body.
        let mut stale = false;
        let body = match self.fetch_body(row, conditional).await? {
            Some(b) => b,
            None => {
                if self.still_applied(row, &jail, manual, run).await? {
                    s.state = "unchanged";
                    s.http_status = Some(304);
                    s.hash = row.content_hash.clone();
                    self.note(
                        run,
                        row.id,
                        "info",
                        "not modified (HTTP 304); nothing to do",
                    )
                    .await;
                    return Ok(());
                }
                self.note(run, row.id, "info",
                    "not modified, but some of its bans are gone from the jail; fetching it in full to repair")
                    .await;
                stale = true;
                self.fetch_body(row, false)
                    .await?
                    .ok_or(BlocklistError::NotFound(row.id))?
            }
        };
        s.http_status = Some(body.status);
        s.bytes = body.bytes.len() as u64;
        let hash = hex::encode(Sha256::digest(&body.bytes));
        s.hash = Some(hash.clone());
        if !stale
            && row.content_hash.as_deref() == Some(hash.as_str())
            && self.still_applied(row, &jail, manual, run).await?
        {
            s.state = "unchanged";
            repo::set_applied(
                db,
                row.id,
                body.etag.as_deref(),
                body.last_modified.as_deref(),
                Some(&hash),
                None,
            )
            .await?;
            self.note(
                run,
                row.id,
                "info",
                "the list is unchanged (same content hash); nothing to do",
            )
            .await;
            return Ok(());
        }
        let parsed = self.parse(body.bytes).await?;
        s.entries = parsed.entries.len();
        s.invalid = parsed.invalid;
        s.refused = parsed.refused;
        self.note(run, row.id, "info", &format!(
            "fetched {} bytes (HTTP {}): {} entries ({} networks), {} duplicates, {} invalid lines, {} refused",
            s.bytes, body.status, parsed.entries.len(), parsed.networks(), parsed.duplicates, parsed.invalid, parsed.refused,
        )).await;
        for bad in &parsed.invalid_examples {
            self.note(
                run,
                row.id,
                "warn",
                &format!("line {}: {:?}: {}", bad.line, bad.text, bad.reason),
            )
            .await;
        }
        for bad in &parsed.refused_examples {
            self.note(
                run,
                row.id,
                "warn",
                &format!("line {}: refused: {}", bad.line, bad.reason),
            )
            .await;
        }

        let checked_at = now_epoch();
        let (added, removed) = self.reconcile(row, &jail, &parsed).await?;
        s.added = added;
        s.removed = removed;
        repo::set_applied(
            db,
            row.id,
            body.etag.as_deref(),
            body.last_modified.as_deref(),
            Some(&hash),
            Some(checked_at),
        )
        .await?;
        s.state = "completed";
        self.note(
            run,
            row.id,
            "info",
            &format!(
                "banned {added} and unbanned {removed} in jail {}",
                jail.as_str()
            ),
        )
        .await;
        Ok(())
    }

    /// Before every batch but the first: leaves fail2ban's command loop to other callers for
    /// [`ImportLimits::pause`](super::ImportLimits), so a caller that sends several commands
    /// one after the other (the dashboard's status: one per jail) waits behind one batch in
    /// all, not one per command.
    async fn give_way(&self, batch_index: usize) {
        let pause = self.inner.limits.pause;
        if batch_index > 0 && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }

    /// Makes the jail hold `parsed` for this source; returns (banned, unbanned).
    async fn reconcile(
        &self,
        row: &SourceRow,
        jail: &JailName,
        parsed: &ParsedList,
    ) -> Result<(usize, usize), BlocklistError> {
        let db = &self.inner.db;
        let f2b = &self.inner.fail2ban;
        let batch = self.inner.limits.batch_size;
        let desired: HashSet<String> = parsed.entries.iter().map(ToString::to_string).collect();
        let members = repo::members(db, row.id).await?;
        let others = repo::claimed_by_others(db, row.id, &row.jail).await?;
        let live = self.live(jail).await?;

        let leaving: Vec<String> = members.difference(&desired).cloned().collect();
        let unban: Vec<BlocklistEntry> = leaving
            .iter()
            .filter(|e| live.contains(*e) && !others.contains(*e))
            .filter_map(|e| BlocklistEntry::parse(e).ok())
            .collect();
        let mut removed = 0;
        for (i, chunk) in unban.chunks(batch).enumerate() {
            self.give_way(i).await;
            removed += f2b.unban_entries(jail, chunk).await? as usize;
        }
        repo::remove_members(db, row.id, &leaving).await?;

        let ban: Vec<BlocklistEntry> = parsed
            .entries
            .iter()
            .filter(|e| !live.contains(&e.to_string()))
            .copied()
            .collect();
        let mut added = 0;
        for (i, chunk) in ban.chunks(batch).enumerate() {
            let texts: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            repo::add_members(db, row.id, &texts).await?;
            self.give_way(i).await;
            added += f2b.ban_entries(jail, chunk).await? as usize;
        }
        let shared: Vec<String> = desired
            .iter()
            .filter(|e| live.contains(*e) && others.contains(*e) && !members.contains(*e))
            .cloned()
            .collect();
        repo::add_members(db, row.id, &shared).await?;
        Ok((added, removed))
    }

    /// Unbans what `row` banned (unless another source of the jail lists it) and forgets it.
    pub(super) async fn release_members(&self, row: &SourceRow) -> Result<u64, BlocklistError> {
        let db = &self.inner.db;
        let members: Vec<String> = repo::members(db, row.id).await?.into_iter().collect();
        if members.is_empty() {
            return Ok(0);
        }
        let jail = jail_of(row)?;
        let others = repo::claimed_by_others(db, row.id, &row.jail).await?;
        let mut unbanned = 0;
        match self.live(&jail).await {
            Ok(live) => {
                let unban: Vec<BlocklistEntry> = members
                    .iter()
                    .filter(|e| live.contains(*e) && !others.contains(*e))
                    .filter_map(|e| BlocklistEntry::parse(e).ok())
                    .collect();
                for (i, chunk) in unban.chunks(self.inner.limits.batch_size).enumerate() {
                    self.give_way(i).await;
                    unbanned += self.inner.fail2ban.unban_entries(&jail, chunk).await?;
                }
            }
            // A jail that is not running holds no bans to lift.
            Err(BlocklistError::Fail2ban(Fail2banError::UnknownJail(_))) => {}
            Err(e) => return Err(e),
        }
        repo::remove_members(db, row.id, &members).await?;
        Ok(unbanned)
    }

    /// What an import of source `id` would do now. Fetches the list (unconditionally) and
    /// reads the jail; bans nothing and records nothing.
    pub async fn preview(&self, id: i64) -> Result<PreviewView, BlocklistError> {
        let row = self.row(id).await?;
        let jail = jail_of(&row)?;
        let body = self
            .fetch_body(&row, false)
            .await?
            .ok_or(BlocklistError::NotFound(id))?;
        let first_lines: Vec<String> =
            String::from_utf8_lossy(&body.bytes[..body.bytes.len().min(64 * 1024)])
                .lines()
                .take(PREVIEW_LINES)
                .map(|l| l.chars().take(200).collect())
                .collect();
        let status = body.status;
        let bytes = body.bytes.len() as u64;
        let parsed = self.parse(body.bytes).await?;
        let live = self.live(&jail).await?;
        let members = repo::members(&self.inner.db, id).await?;
        let others = repo::claimed_by_others(&self.inner.db, id, &row.jail).await?;
        let desired: HashSet<String> = parsed.entries.iter().map(ToString::to_string).collect();
        let add: Vec<String> = parsed
            .entries
            .iter()
            .map(ToString::to_string)
            .filter(|e| !live.contains(e))
            .collect();
        let mut remove: Vec<String> = members
            .iter()
            .filter(|e| !desired.contains(*e) && live.contains(*e) && !others.contains(*e))
            .cloned()
            .collect();
        remove.sort();
        Ok(PreviewView {
            http_status: status,
            fetched_bytes: bytes,
            first_lines,
            entries: parsed.entries.len(),
            networks: parsed.networks(),
            duplicates: parsed.duplicates,
            invalid: parsed.invalid,
            invalid_examples: parsed.invalid_examples,
            refused: parsed.refused,
            refused_examples: parsed.refused_examples,
            would_add: add.len(),
            would_remove: remove.len(),
            add_examples: add.into_iter().take(PREVIEW_LINES).collect(),
            remove_examples: remove.into_iter().take(PREVIEW_LINES).collect(),
        })
    }
}
