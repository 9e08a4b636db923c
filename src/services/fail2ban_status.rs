//! The status poller: every few seconds (job `fail2ban_status`) asks fail2ban for its jails and
//! each jail's counters (`status`, `status JAIL short`; no banned lists are transferred), keeps
//! the latest answer as a snapshot (read by `/metrics`, `/health` and `/dashboard/status`, so no
//! request asks fail2ban for its counters itself), and turns changes into events:
//! `fail2ban_offline` when the socket stops answering (also at start when it never answered),
//! `fail2ban_online` when it answers again after being offline, `jail_started` and
//! `jail_stopped` when the list of running jails changes between two answers. The first
//! answer after start is the baseline and publishes nothing, so a restart of BanGUI does not
//! announce every jail. While fail2ban is offline the last known jail list is kept, so a
//! restart of fail2ban with the same jails publishes only offline and online. A timeout alone
//! (a busy fail2ban, e.g. during a bulk ban) counts as offline only when the next poll fails
//! too; a refused or missing socket counts at once.
//!
//! Requests read the snapshot through [`Fail2banStatus::for_request`]: a snapshot older than
//! [`REQUEST_MAX_AGE`] is refreshed first, by one poll that every request arriving meanwhile
//! shares. A request waits for that poll at most [`REQUEST_WAIT`], and not at all for
//! [`BUSY_MEMORY`] after a poll took longer than that. An idle fail2ban answers a poll in a few
//! milliseconds, so a request after a ban sees the new counters; a busy one (a bulk import
//! holds its command loop) makes the answer older, never slower.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::{Mutex, watch};

use crate::db;
use crate::domain::JailName;
use crate::domain::event::EventKind;
use crate::fail2ban::types::JailCounters;
use crate::fail2ban::{Fail2banClient, Fail2banError};

use super::events::EventBus;

/// What the last poll saw.
#[derive(Debug, Clone, Default)]
pub struct StatusSnapshot {
    /// `None` before the first poll.
    pub online: Option<bool>,
    /// When the poll ended (epoch seconds), `None` before the first poll.
    pub polled_at: Option<i64>,
    /// Counters of each running jail (of the last poll that reached fail2ban).
    pub jails: BTreeMap<String, JailCounters>,
    /// Polls since start that could not connect to the socket (refused, missing, denied).
    pub connect_errors: u64,
    /// Commands since start that connected but failed (timeout, unreadable reply, refused).
    pub request_errors: u64,
    /// Polls in a row that did not reach fail2ban.
    pub failed_polls: u32,
    /// When the poll ended (monotonic clock), `None` before the first poll.
    pub taken: Option<Instant>,
    /// When fail2ban last answered a poll (monotonic clock).
    pub answered: Option<Instant>,
    /// Until when requests do not wait for a refresh: [`BUSY_MEMORY`] after the end of the
    /// last poll that took longer than [`REQUEST_WAIT`].
    pub busy_until: Option<Instant>,
    /// fail2ban's version, read when it (again) answers after being offline or unknown.
    pub version: Option<String>,
    /// Why the last poll did not reach fail2ban; `None` after a poll that did.
    pub error: Option<String>,
}

impl StatusSnapshot {
    /// Whether the last poll that decided it found fail2ban answering.
    pub fn is_online(&self) -> bool {
        self.online == Some(true)
    }

    /// How long an online fail2ban has not answered a poll, once that is longer than
    /// [`UNRESPONSIVE_AFTER`]: hung, or held by one command for that long. A timeout alone
    /// does not make it offline (a busy fail2ban is not), so health reports this instead.
    pub fn silent_for(&self) -> Option<Duration> {
        let silent = self.answered?.elapsed();
        (self.is_online() && silent > UNRESPONSIVE_AFTER).then_some(silent)
    }

    /// Why fail2ban counts as offline, for people; `None` while it is online.
    pub fn offline_reason(&self) -> Option<String> {
        if self.is_online() {
            return None;
        }
        Some(
            self.error
                .clone()
                .unwrap_or_else(|| "fail2ban has not answered yet".to_owned()),
        )
    }
}

/// A snapshot older than this is refreshed before a request reads it.
pub const REQUEST_MAX_AGE: Duration = Duration::from_secs(1);
/// How long a request waits for that refresh before it answers with the older snapshot.
pub const REQUEST_WAIT: Duration = Duration::from_millis(50);
/// How long requests answer without waiting after a poll that took longer than
/// [`REQUEST_WAIT`]. One slow poll is enough: while an import runs, a poll that happens to fall
/// between two batches is fast, and the next one is not.
pub const BUSY_MEMORY: Duration = Duration::from_secs(10);
/// How long fail2ban may leave polls unanswered before health calls it unresponsive: three
/// poll intervals. A blocklist import holds it at most one batch at a time (well under a
/// second even with a forking action), so only a hung fail2ban stays silent this long.
pub const UNRESPONSIVE_AFTER: Duration = Duration::from_secs(15);
/// How long a request waits for the very first poll (there is no older snapshot to answer
/// with). Longer than a refused or missing socket takes to fail, shorter than a client timeout.
const FIRST_POLL_WAIT: Duration = Duration::from_secs(2);

pub struct Fail2banStatus {
    fail2ban: Fail2banClient,
    events: Arc<EventBus>,
    snapshot: ArcSwap<StatusSnapshot>,
    /// Serialises polls (the job and request-driven refreshes may overlap).
    polling: Mutex<()>,
    /// Counts finished polls; requests waiting for a refresh watch it.
    polled: watch::Sender<u64>,
    /// A request-driven refresh is under way (at most one at a time).
    refreshing: AtomicBool,
}

impl Fail2banStatus {
    pub fn new(fail2ban: Fail2banClient, events: Arc<EventBus>) -> Self {
        Self {
            fail2ban,
            events,
            snapshot: ArcSwap::from_pointee(StatusSnapshot::default()),
            polling: Mutex::new(()),
            polled: watch::Sender::new(0),
            refreshing: AtomicBool::new(false),
        }
    }

    /// The snapshot as a request should see it: refreshed first when older than
    /// [`REQUEST_MAX_AGE`], waiting for the refresh at most [`REQUEST_WAIT`] (before the first
    /// poll: [`FIRST_POLL_WAIT`]; not at all while fail2ban is busy, see
    /// [`StatusSnapshot::busy_until`]), then answering with what it has.
    pub async fn for_request(self: &Arc<Self>) -> Arc<StatusSnapshot> {
        // Subscribe before looking, so a poll ending in between still wakes this request.
        let mut polled = self.polled.subscribe();
        let current = self.snapshot();
        let busy = current.busy_until.is_some_and(|t| Instant::now() < t);
        let wait = match current.taken {
            Some(t) if t.elapsed() <= REQUEST_MAX_AGE => return current,
            Some(_) if busy => Duration::ZERO,
            Some(_) => REQUEST_WAIT,
            None => FIRST_POLL_WAIT,
        };
        self.refresh_in_background();
        if wait.is_zero() {
            return current;
        }
        let _ = tokio::time::timeout(wait, polled.changed()).await;
        self.snapshot()
    }

    /// Starts one poll on the current runtime unless a request-driven one is already running.
    /// The poll goes on after the requests that wanted it stopped waiting.
    fn refresh_in_background(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let status = Arc::clone(self);
        tokio::spawn(async move {
            // Cleared however the poll ends, also when its runtime shuts down mid-poll.
            let _clear = ClearOnDrop(&status.refreshing);
            status.poll().await;
        });
    }

    /// The latest snapshot (cheap; never asks fail2ban).
    pub fn snapshot(&self) -> Arc<StatusSnapshot> {
        self.snapshot.load_full()
    }

    /// Asks fail2ban once, publishes what changed and stores the new snapshot. fail2ban being
    /// offline is a state, not an error of the poll.
    pub async fn poll(&self) {
        let _one = self.polling.lock().await;
        let started = Instant::now();
        let before = self.snapshot.load_full();
        let mut next = StatusSnapshot {
            polled_at: None,
            ..before.as_ref().clone()
        };
        match self.read_jails().await {
            Ok((jails, request_errors)) => {
                if before.online != Some(true) || before.version.is_none() {
                    next.version = self.fail2ban.version().await.ok();
                }
                if before.online == Some(false) {
                    let version = next.version.clone();
                    self.events.publish(EventKind::Fail2banOnline { version });
                }
                if before.online.is_some() {
                    self.publish_jail_changes(&before.jails, &jails);
                }
                next.online = Some(true);
                next.jails = jails;
                next.request_errors += request_errors;
                next.failed_polls = 0;
                next.error = None;
                next.answered = Some(Instant::now());
            }
            Err(e) => {
                if is_connect_error(&e) {
                    next.connect_errors += 1;
                } else {
                    next.request_errors += 1;
                }
                next.failed_polls = before.failed_polls.saturating_add(1);
                next.error = Some(e.to_string());
                let busy = matches!(e, Fail2banError::Timeout { .. }) && next.failed_polls < 2;
                if !busy {
                    if before.online != Some(false) {
                        self.events.publish(EventKind::Fail2banOffline {
                            error: e.to_string(),
                        });
                    }
                    next.online = Some(false);
                }
            }
        }
        next.polled_at = Some(db::now_epoch());
        let ended = Instant::now();
        next.taken = Some(ended);
        if ended.duration_since(started) > REQUEST_WAIT {
            next.busy_until = Some(ended + BUSY_MEMORY);
        }
        self.snapshot.store(Arc::new(next));
        self.polled.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Running jails with their counters, and how many jails' counters could not be read
    /// (such a jail keeps its place with its previous counters, or zeros).
    async fn read_jails(&self) -> Result<(BTreeMap<String, JailCounters>, u64), Fail2banError> {
        let names = self.fail2ban.jails().await?;
        let previous = self.snapshot.load();
        let mut out = BTreeMap::new();
        let mut errors = 0;
        for name in names {
            let counters = match JailName::parse(&name) {
                Ok(jail) => match self.fail2ban.jail_counters(&jail).await {
                    Ok(c) => Some(c),
                    Err(Fail2banError::UnknownJail(_)) => continue, // stopped meanwhile
                    Err(e)
                        if is_connect_error(&e) || matches!(e, Fail2banError::Timeout { .. }) =>
                    {
                        return Err(e);
                    }
                    Err(e) => {
                        tracing::warn!(jail = name, error = %e, "cannot read a jail's counters");
                        None
                    }
                },
                Err(e) => {
                    tracing::warn!(jail = name, error = %e, "fail2ban reports an unusable jail name");
                    None
                }
            };
            let counters = counters.unwrap_or_else(|| {
                errors += 1;
                previous.jails.get(&name).cloned().unwrap_or_default()
            });
            out.insert(name, counters);
        }
        Ok((out, errors))
    }

    fn publish_jail_changes(
        &self,
        before: &BTreeMap<String, JailCounters>,
        now: &BTreeMap<String, JailCounters>,
    ) {
        let old: BTreeSet<&String> = before.keys().collect();
        let new: BTreeSet<&String> = now.keys().collect();
        let stopped = old
            .difference(&new)
            .map(|j| EventKind::JailStopped { jail: (*j).clone() });
        let started = new
            .difference(&old)
            .map(|j| EventKind::JailStarted { jail: (*j).clone() });
        self.events.publish_all(stopped.chain(started));
    }
}

/// Clears a flag when dropped.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn is_connect_error(e: &Fail2banError) -> bool {
    matches!(
        e,
        Fail2banError::Offline { .. } | Fail2banError::PermissionDenied { .. }
    )
}
