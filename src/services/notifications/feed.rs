//! The feeder task: reads the internal event stream (`services::events`) and hands each event,
//! as a [`Notice`], to the router. It waits for the router (bounded channel) rather than drop
//! notices; if the router falls so far behind that the event bus's live buffer overflows, the
//! missed events are counted in `bangui_notifications_input_dropped_total{reason="events_missed"}`.
//!
//! Bans carry no repeat count here: fail2ban's own `bancount` grows only with
//! `bantime.increment`, so the router counts the address's bans in the archive when a channel's
//! rules need it.

use prometheus::IntCounterVec;
use tokio::sync::mpsc;

use crate::domain::event::{Event, EventKind};
use crate::domain::notification::{Notice, NoticeKind};
use crate::services::events::Subscription;

/// The notice an event becomes.
pub fn notice_of(event: &Event) -> Notice {
    let at = event.published_at.timestamp();
    let (kind, jail, detail) = match &event.kind {
        EventKind::Ban(b) => {
            let mut n = Notice::new(NoticeKind::Ban, b.time.timestamp());
            n.ip = Some(b.ip);
            n.jail = Some(b.jail.clone());
            n.country = b.country.clone();
            return n;
        }
        EventKind::Unban(u) => {
            let mut n = Notice::new(NoticeKind::Unban, u.time.timestamp());
            n.ip = u.ip;
            n.jail = u.jail.clone();
            n.detail = Some(format!("lifted by {}", u.lifted_by));
            return n;
        }
        EventKind::JailStarted { jail } => (NoticeKind::JailStarted, Some(jail.clone()), None),
        EventKind::JailStopped { jail } => (NoticeKind::JailStopped, Some(jail.clone()), None),
        EventKind::Fail2banOffline { error } => {
            (NoticeKind::Fail2banOffline, None, Some(error.clone()))
        }
        EventKind::Fail2banOnline { version } => (
            NoticeKind::Fail2banOnline,
            None,
            version.as_ref().map(|v| format!("version {v}")),
        ),
        EventKind::BlocklistImportFailed { list, error } => (
            NoticeKind::BlocklistImportFailed,
            None,
            Some(format!("{list}: {error}")),
        ),
        EventKind::MmdbReloadFailed { database, error } => (
            NoticeKind::MmdbReloadFailed,
            None,
            Some(format!("{database}: {error}")),
        ),
        EventKind::ConfigApplied { change, actor } => (
            NoticeKind::ConfigApplied,
            None,
            Some(format!("{change} by {actor}")),
        ),
        EventKind::ConfigRolledBack {
            change,
            actor,
            reason,
        } => (
            NoticeKind::ConfigRolledBack,
            None,
            Some(format!("{change} by {actor}: {reason}")),
        ),
    };
    let mut n = Notice::new(kind, at);
    n.jail = jail;
    n.detail = detail;
    n
}

/// Runs until the bus or the router is gone (or the task is aborted at shutdown).
pub async fn run(mut events: Subscription, router: mpsc::Sender<Notice>, dropped: IntCounterVec) {
    while let Some(next) = events.recv().await {
        match next {
            Ok(event) => {
                if router.send(notice_of(&event)).await.is_err() {
                    return;
                }
            }
            Err(missed) => {
                tracing::warn!(
                    missed = missed.0,
                    "notifications fell behind the event stream"
                );
                dropped
                    .with_label_values(&["events_missed"])
                    .inc_by(missed.0);
            }
        }
    }
}
