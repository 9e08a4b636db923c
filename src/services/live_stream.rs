//! Live streams of the event bus for connected clients (the SSE endpoint): what one client
//! receives, in order — a reset when its resumption point is gone, the held events after its
//! last id, then live events — filtered by its role, with a heartbeat when nothing happens.
//! Framing on the wire is the route's business; this module yields [`StreamItem`]s.
//!
//! Bounded everywhere: a client reads from the bus's shared broadcast buffer (no per-client
//! queue), so a client that does not keep up falls behind and its stream ends (it reconnects
//! and resumes from its last id, or gets a reset); at most `max_streams` streams are open;
//! each stream ends after `max_lifetime` (the client reconnects, and its credentials are
//! checked again); every stream ends when the server stops ([`LiveStreams::close_all`]), so
//! open streams do not hold the graceful shutdown.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::domain::auth::Role;
use crate::domain::event::Event;

use super::events::{EventBus, Subscription};

/// Open streams at most.
pub const MAX_STREAMS: usize = 1_000;
/// A heartbeat after this long without an event.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// A stream ends after this long; the client reconnects with its last id.
pub const MAX_LIFETIME: Duration = Duration::from_secs(600);

/// What a client receives.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// Events after the client's last id are gone: reload everything.
    Reset,
    Event(Arc<Event>),
    /// Nothing happened; keeps proxies and the client's connection alive.
    Heartbeat,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} live streams are open, the most allowed; try again later")]
pub struct TooManyStreams(pub usize);

pub struct LiveStreams {
    bus: Arc<EventBus>,
    open: Arc<AtomicUsize>,
    closed: watch::Sender<bool>,
    max_streams: usize,
    heartbeat: Duration,
    max_lifetime: Duration,
}

/// Counts a stream as open until dropped.
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct State {
    role: Role,
    pending: VecDeque<StreamItem>,
    live: Subscription,
    heartbeat: Interval,
    ends_at: Instant,
    closed: watch::Receiver<bool>,
    _open: OpenGuard,
}

impl LiveStreams {
    pub fn new(bus: Arc<EventBus>) -> Self {
        Self::with_limits(bus, MAX_STREAMS, HEARTBEAT, MAX_LIFETIME)
    }

    pub fn with_limits(
        bus: Arc<EventBus>,
        max_streams: usize,
        heartbeat: Duration,
        max_lifetime: Duration,
    ) -> Self {
        Self {
            bus,
            open: Arc::default(),
            closed: watch::channel(false).0,
            max_streams,
            heartbeat,
            max_lifetime,
        }
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Ends every open stream and refuses new ones (the server is stopping).
    pub fn close_all(&self) {
        self.closed.send_replace(true);
    }

    /// A stream for a caller with `role` that has seen events up to `last_id` (`None`: a new
    /// client, which gets only what happens from now on).
    pub fn open(
        &self,
        role: Role,
        last_id: Option<u64>,
    ) -> Result<impl Stream<Item = StreamItem> + use<>, TooManyStreams> {
        let open = self.open.fetch_add(1, Ordering::AcqRel) + 1;
        let guard = OpenGuard(Arc::clone(&self.open));
        if open > self.max_streams {
            return Err(TooManyStreams(self.max_streams));
        }
        let resumed = self.bus.resume(last_id);
        let mut pending = VecDeque::new();
        if resumed.gap {
            pending.push_back(StreamItem::Reset);
        }
        pending.extend(
            resumed
                .backlog
                .into_iter()
                .filter(|e| e.visible_to(role))
                .map(StreamItem::Event),
        );
        let mut heartbeat =
            tokio::time::interval_at(Instant::now() + self.heartbeat, self.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let state = State {
            role,
            pending,
            live: resumed.live,
            heartbeat,
            ends_at: Instant::now() + self.max_lifetime,
            closed: self.closed.subscribe(),
            _open: guard,
        };
        Ok(futures_util::stream::unfold(state, next))
    }
}

async fn next(mut s: State) -> Option<(StreamItem, State)> {
    if let Some(item) = s.pending.pop_front() {
        return Some((item, s));
    }
    loop {
        if *s.closed.borrow() {
            return None;
        }
        tokio::select! {
            received = s.live.recv() => match received {
                Some(Ok(event)) if event.visible_to(s.role) => {
                    s.heartbeat.reset();
                    return Some((StreamItem::Event(event), s));
                }
                Some(Ok(_)) => continue,
                // Fell behind: end; the client resumes from its last id.
                Some(Err(_)) | None => return None,
            },
            _ = s.heartbeat.tick() => return Some((StreamItem::Heartbeat, s)),
            _ = tokio::time::sleep_until(s.ends_at) => return None,
            _ = s.closed.changed() => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::EventKind;
    use futures_util::StreamExt;

    fn started(jail: &str) -> EventKind {
        EventKind::JailStarted { jail: jail.into() }
    }

    fn config() -> EventKind {
        EventKind::ConfigApplied {
            change: "jail sshd".into(),
            actor: "alice".into(),
        }
    }

    async fn next_item(s: &mut (impl Stream<Item = StreamItem> + Unpin)) -> Option<StreamItem> {
        tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .expect("an item in time")
    }

    #[tokio::test]
    async fn a_resuming_viewer_gets_the_visible_backlog_then_live_events() {
        let bus = Arc::new(EventBus::default());
        let streams = LiveStreams::new(Arc::clone(&bus));
        let first = bus.publish(started("a"));
        bus.publish(config());
        let b = bus.publish(started("b"));
        let mut s = Box::pin(streams.open(Role::Viewer, Some(first)).expect("open"));
        match next_item(&mut s).await {
            Some(StreamItem::Event(e)) => assert_eq!(e.id, b, "the admin-only event is skipped"),
            other => panic!("{other:?}"),
        }
        let c = bus.publish(started("c"));
        match next_item(&mut s).await {
            Some(StreamItem::Event(e)) => assert_eq!(e.id, c),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_lost_resumption_point_starts_with_a_reset() {
        let bus = Arc::new(EventBus::new(2, 8));
        let streams = LiveStreams::new(Arc::clone(&bus));
        let first = bus.publish(started("a"));
        for j in ["b", "c", "d"] {
            bus.publish(started(j));
        }
        let mut s = Box::pin(streams.open(Role::Admin, Some(first)).expect("open"));
        assert_eq!(next_item(&mut s).await, Some(StreamItem::Reset));
    }

    #[tokio::test]
    async fn heartbeats_flow_while_nothing_happens_and_the_stream_ends_at_its_lifetime() {
        let bus = Arc::new(EventBus::default());
        let streams = LiveStreams::with_limits(
            Arc::clone(&bus),
            10,
            Duration::from_millis(20),
            Duration::from_millis(300),
        );
        let mut s = Box::pin(streams.open(Role::Viewer, None).expect("open"));
        assert_eq!(next_item(&mut s).await, Some(StreamItem::Heartbeat));
        while let Some(item) = next_item(&mut s).await {
            assert_eq!(item, StreamItem::Heartbeat, "nothing else happened");
        }
        drop(s);
        assert_eq!(streams.open_streams(), 0);
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_is_dropped_and_the_open_count_follows() {
        let bus = Arc::new(EventBus::new(100, 4));
        let streams = LiveStreams::new(Arc::clone(&bus));
        let mut s = Box::pin(streams.open(Role::Viewer, None).expect("open"));
        assert_eq!(streams.open_streams(), 1);
        for i in 0..10 {
            bus.publish(started(&i.to_string()));
        }
        assert_eq!(next_item(&mut s).await, None);
        drop(s);
        assert_eq!(streams.open_streams(), 0);
    }

    #[tokio::test]
    async fn streams_are_capped_and_closing_ends_them() {
        let bus = Arc::new(EventBus::default());
        let streams = LiveStreams::with_limits(
            Arc::clone(&bus),
            1,
            Duration::from_secs(15),
            Duration::from_secs(600),
        );
        let mut s = Box::pin(streams.open(Role::Viewer, None).expect("open"));
        assert!(
            streams.open(Role::Viewer, None).is_err(),
            "the second is refused"
        );
        assert_eq!(streams.open_streams(), 1);
        streams.close_all();
        assert_eq!(next_item(&mut s).await, None);
    }
}
