//! The dispatcher's bounded queue: messages waiting for their first attempt or for a retry,
//! each with the instant it may be tried. When full, a new message pushes out the oldest
//! digest (a later digest of the same channel will summarise what follows anyway), or the
//! oldest message when no digest waits. Memory is bounded by the capacity, however slow or
//! dead a receiver is.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::time::Instant;

use crate::domain::notification::Message;

/// One message on its way to one channel.
#[derive(Debug, Clone)]
pub struct Job {
    /// Row of the delivery log (0 when it could not be written).
    pub delivery_id: i64,
    pub channel_id: i64,
    pub message: Arc<Message>,
    /// Attempts made so far.
    pub attempts: u32,
    pub ready_at: Instant,
}

impl Job {
    fn is_digest(&self) -> bool {
        matches!(*self.message, Message::Digest(_))
    }
}

#[derive(Debug)]
pub struct DispatchQueue {
    jobs: VecDeque<Job>,
    capacity: usize,
}

impl DispatchQueue {
    pub fn new(capacity: usize) -> Self {
        Self {
            jobs: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Adds a job; returns the one pushed out when the queue was full.
    pub fn push(&mut self, job: Job) -> Option<Job> {
        let dropped = if self.jobs.len() >= self.capacity {
            let victim = self.jobs.iter().position(Job::is_digest).unwrap_or(0);
            self.jobs.remove(victim)
        } else {
            None
        };
        self.jobs.push_back(job);
        dropped
    }

    /// The oldest job that may be tried at `now`.
    pub fn take_ready(&mut self, now: Instant) -> Option<Job> {
        let i = self.jobs.iter().position(|j| j.ready_at <= now)?;
        self.jobs.remove(i)
    }

    /// When the next job becomes ready.
    pub fn next_ready_at(&self) -> Option<Instant> {
        self.jobs.iter().map(|j| j.ready_at).min()
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notification::{DigestSummary, Notice, NoticeKind};
    use std::time::Duration;

    fn job(id: i64, digest: bool, ready_at: Instant) -> Job {
        let message = if digest {
            Message::Digest(DigestSummary {
                since: 0,
                until: 0,
                total: 2,
                by_kind: vec![],
                jails: vec![],
                top_ips: vec![],
                top_countries: vec![],
                distinct_ips: 2,
            })
        } else {
            Message::Event(Notice::new(NoticeKind::Ban, 0))
        };
        Job {
            delivery_id: id,
            channel_id: 1,
            message: Arc::new(message),
            attempts: 0,
            ready_at,
        }
    }

    #[test]
    fn a_full_queue_drops_its_oldest_digest_first_then_its_oldest_message() {
        let now = Instant::now();
        let mut q = DispatchQueue::new(3);
        assert!(q.push(job(1, false, now)).is_none());
        assert!(q.push(job(2, true, now)).is_none());
        assert!(q.push(job(3, true, now)).is_none());
        assert_eq!(q.push(job(4, false, now)).map(|j| j.delivery_id), Some(2));
        assert_eq!(q.push(job(5, false, now)).map(|j| j.delivery_id), Some(3));
        assert_eq!(q.push(job(6, false, now)).map(|j| j.delivery_id), Some(1));
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn jobs_waiting_for_a_retry_let_ready_ones_pass() {
        let now = Instant::now();
        let later = now + Duration::from_secs(5);
        let mut q = DispatchQueue::new(10);
        q.push(job(1, false, later));
        q.push(job(2, false, now));
        assert_eq!(q.take_ready(now).map(|j| j.delivery_id), Some(2));
        assert!(q.take_ready(now).is_none());
        assert_eq!(q.next_ready_at(), Some(later));
        assert_eq!(q.take_ready(later).map(|j| j.delivery_id), Some(1));
        assert!(q.is_empty());
    }
}
