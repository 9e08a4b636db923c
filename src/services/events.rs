//! The event bus: one in-process stream of [`Event`]s (bans, unbans, jail and fail2ban status
//! changes, failures) that the archive sync, the lift detector, the status poller, the geo
//! reload and the configuration services publish into, and that live views (SSE) and
//! notifications read.
//!
//! Two ways to read it, both bounded so that no reader can grow memory:
//! - [`EventBus::subscribe`]: a live subscription (tokio `broadcast`, capacity
//!   [`LIVE_CAPACITY`]); a reader that falls that far behind loses the oldest events and is
//!   told how many ([`Missed`]).
//! - [`EventBus::resume`]: the events after a given id from the ring of the last
//!   [`RING_CAPACITY`] events, plus a live subscription that continues exactly where the
//!   backlog ends (taken under the same lock that numbers events, so nothing is lost or
//!   delivered twice between the two). This is what SSE's `Last-Event-ID` uses.
//!
//! Ids increase by one per event. The first id is the start time in milliseconds, so that ids
//! of a later process are (in practice) above those of an earlier one, and a client resuming
//! with an id from before a restart is recognised as having a gap rather than being far ahead.
//! Publishing never blocks and never fails: with no reader the event only enters the ring.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use tokio::sync::broadcast;

use crate::domain::event::{Event, EventKind, EventType};

/// Events kept for resumption.
pub const RING_CAPACITY: usize = 4_096;
/// Events a live subscriber may fall behind before it misses some.
pub const LIVE_CAPACITY: usize = 1_024;

/// A live subscriber fell behind by this many events; they are gone for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the subscriber fell behind and missed {0} events")]
pub struct Missed(pub u64);

pub struct EventBus {
    inner: Mutex<Ring>,
    live: broadcast::Sender<Arc<Event>>,
    ring_capacity: usize,
    /// Events published per type, in the order of `EventType::ALL`.
    published: [AtomicU64; EventType::ALL.len()],
}

struct Ring {
    next_id: u64,
    events: VecDeque<Arc<Event>>,
}

/// A live subscription: every event published after it was taken.
pub struct Subscription {
    receiver: broadcast::Receiver<Arc<Event>>,
}

impl Subscription {
    /// The next event; `Err(Missed(n))` once after falling behind (the subscription then goes
    /// on with the oldest event still held); `None` when the bus is gone.
    pub async fn recv(&mut self) -> Option<Result<Arc<Event>, Missed>> {
        match self.receiver.recv().await {
            Ok(e) => Some(Ok(e)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Err(Missed(n))),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// Like [`Self::recv`] without waiting: `None` when no event is ready.
    pub fn try_recv(&mut self) -> Option<Result<Arc<Event>, Missed>> {
        match self.receiver.try_recv() {
            Ok(e) => Some(Ok(e)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(Missed(n))),
            Err(_) => None,
        }
    }
}

/// What [`EventBus::resume`] hands back.
pub struct Resumed {
    /// Held events after the requested id, oldest first.
    pub backlog: Vec<Arc<Event>>,
    /// True when events after the requested id are no longer held (or the id is unknown to
    /// this process): the reader must reload its state instead of relying on the backlog.
    pub gap: bool,
    /// Every event after the backlog.
    pub live: Subscription,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(RING_CAPACITY, LIVE_CAPACITY)
    }
}

impl EventBus {
    pub fn new(ring_capacity: usize, live_capacity: usize) -> Self {
        let (live, _) = broadcast::channel(live_capacity.max(1));
        let first = u64::try_from(Utc::now().timestamp_millis())
            .unwrap_or(1)
            .max(1);
        Self {
            inner: Mutex::new(Ring {
                next_id: first,
                events: VecDeque::with_capacity(ring_capacity.min(RING_CAPACITY)),
            }),
            live,
            ring_capacity: ring_capacity.max(1),
            published: Default::default(),
        }
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding the lock cannot leave the ring half-changed (every change is
        // one push or pop), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes one event; returns its id.
    pub fn publish(&self, kind: EventKind) -> u64 {
        let mut ring = self.ring();
        self.push(&mut ring, kind)
    }

    /// Publishes several events with consecutive ids, in order.
    pub fn publish_all(&self, kinds: impl IntoIterator<Item = EventKind>) -> usize {
        let mut ring = self.ring();
        kinds.into_iter().map(|k| self.push(&mut ring, k)).count()
    }

    fn push(&self, ring: &mut Ring, kind: EventKind) -> u64 {
        let t = kind.event_type();
        if let Some(i) = EventType::ALL.iter().position(|x| *x == t)
            && let Some(n) = self.published.get(i)
        {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let id = ring.next_id;
        ring.next_id += 1;
        let event = Arc::new(Event {
            id,
            published_at: Utc::now(),
            kind,
        });
        if ring.events.len() >= self.ring_capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(Arc::clone(&event));
        // An error only means nobody listens right now.
        let _ = self.live.send(event);
        id
    }

    /// A live subscription to every event published from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.live.subscribe(),
        }
    }

    /// The held events after `last_id` and a subscription continuing after them. `None`
    /// means "only what comes next" (no backlog, no gap).
    pub fn resume(&self, last_id: Option<u64>) -> Resumed {
        let ring = self.ring();
        let live = Subscription {
            receiver: self.live.subscribe(),
        };
        let Some(last) = last_id else {
            return Resumed {
                backlog: Vec::new(),
                gap: false,
                live,
            };
        };
        let newest = ring.next_id - 1;
        let oldest_held = ring.events.front().map_or(ring.next_id, |e| e.id);
        // Resuming needs every id after `last`: the oldest held must be at most `last + 1`,
        // and `last` must not be from the future (another process's numbering).
        let gap = last > newest || last.saturating_add(1) < oldest_held;
        let backlog = if gap {
            Vec::new()
        } else {
            ring.events
                .iter()
                .filter(|e| e.id > last)
                .cloned()
                .collect()
        };
        Resumed { backlog, gap, live }
    }

    /// The id of the newest event, if any was published.
    pub fn newest_id(&self) -> Option<u64> {
        self.ring().events.back().map(|e| e.id)
    }

    /// Events published since start, per type (every type, zeros included).
    pub fn published(&self) -> Vec<(EventType, u64)> {
        EventType::ALL
            .iter()
            .zip(&self.published)
            .map(|(t, n)| (*t, n.load(Ordering::Relaxed)))
            .collect()
    }

    /// Live subscribers right now.
    pub fn subscribers(&self) -> usize {
        self.live.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(jail: &str) -> EventKind {
        EventKind::JailStarted { jail: jail.into() }
    }

    #[tokio::test]
    async fn subscribers_receive_events_in_order_with_increasing_ids() {
        let bus = EventBus::default();
        let mut sub = bus.subscribe();
        let a = bus.publish(started("a"));
        bus.publish_all([started("b"), started("c")]);
        let mut ids = Vec::new();
        for _ in 0..3 {
            let e = sub.recv().await.expect("open").expect("not lagged");
            ids.push(e.id);
        }
        assert_eq!(ids, vec![a, a + 1, a + 2]);
        assert_eq!(bus.newest_id(), Some(a + 2));
    }

    #[tokio::test]
    async fn resume_returns_exactly_the_events_after_the_given_id_then_continues_live() {
        let bus = EventBus::new(10, 10);
        let first = bus.publish(started("a"));
        bus.publish(started("b"));
        bus.publish(started("c"));
        let mut resumed = bus.resume(Some(first));
        assert!(!resumed.gap);
        let ids: Vec<u64> = resumed.backlog.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![first + 1, first + 2]);
        let next = bus.publish(started("d"));
        let live = resumed.live.recv().await.expect("open").expect("in time");
        assert_eq!(live.id, next);
        assert!(resumed.live.try_recv().is_none(), "nothing delivered twice");
    }

    #[test]
    fn resuming_from_an_id_the_ring_no_longer_holds_reports_a_gap() {
        let bus = EventBus::new(3, 10);
        let first = bus.publish(started("a"));
        for j in ["b", "c", "d", "e"] {
            bus.publish(started(j));
        }
        assert!(bus.resume(Some(first)).gap, "ids first+1 was dropped");
        assert!(!bus.resume(Some(first + 1)).gap, "first+2.. are still held");
        assert_eq!(bus.resume(Some(first + 1)).backlog.len(), 3);
        assert!(bus.resume(Some(first + 100)).gap, "an id from the future");
        assert!(bus.resume(Some(1)).gap, "an id of an earlier process");
        let current = bus.resume(bus.newest_id());
        assert!(!current.gap && current.backlog.is_empty());
    }

    #[test]
    fn a_subscriber_that_falls_behind_is_told_how_many_it_missed() {
        let bus = EventBus::new(100, 4);
        let mut sub = bus.subscribe();
        for i in 0..10 {
            bus.publish(started(&i.to_string()));
        }
        assert_eq!(sub.try_recv(), Some(Err(Missed(6))));
        let next = sub.try_recv().expect("held").expect("after the gap");
        assert_eq!(next.kind, started("6"));
    }

    #[test]
    fn the_ring_stays_bounded() {
        let bus = EventBus::new(5, 5);
        for i in 0..50 {
            bus.publish(started(&i.to_string()));
        }
        assert_eq!(bus.resume(Some(0)).backlog.len(), 0);
        let newest = bus.newest_id().expect("some");
        assert_eq!(bus.resume(Some(newest - 5)).backlog.len(), 5);
    }
}
