//! The background dispatcher: takes messages from the bounded [`DispatchQueue`], delivers up
//! to [`PARALLEL`] at a time (each attempt bounded by the delivery timeout), and on failure
//! puts the message back with an exponentially growing delay with jitter until the last
//! attempt, after which it is dead-lettered. Every state change is written to the channel's
//! delivery log and counted for `/metrics`. Nothing here runs on a request or the sync path:
//! enqueueing is a short lock and one insert, done by the router task.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use super::channels::ChannelSet;
use super::queue::{DispatchQueue, Job};
use crate::db::{self, notifications as store};
use crate::delivery::{Deliverer, DeliveryId};
use crate::domain::notification::{Channel, Message};
use crate::metrics::NotificationCounters;

/// Deliveries in flight at once.
pub const PARALLEL: usize = 4;
/// Longest delay between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(600);

/// How often and how patiently failed deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1`, after `attempts` failures: `base · 2^(n-1)`,
    /// at most [`MAX_DELAY`], of which a random half is jitter ("equal jitter"), so retries of
    /// many messages to one dead receiver spread out.
    pub fn delay(&self, attempts: u32, random: f64) -> Duration {
        let exp = attempts.saturating_sub(1).min(20);
        let full = self.base.saturating_mul(1 << exp).min(MAX_DELAY);
        full / 2 + full.mul_f64(random.clamp(0.0, 1.0) / 2.0)
    }
}

pub struct Dispatcher {
    queue: Mutex<DispatchQueue>,
    wake: Notify,
    slots: Arc<Semaphore>,
    pool: SqlitePool,
    deliverer: Deliverer,
    channels: Arc<ChannelSet>,
    policy: RetryPolicy,
    counters: NotificationCounters,
}

impl Dispatcher {
    pub fn new(
        capacity: usize,
        pool: SqlitePool,
        deliverer: Deliverer,
        channels: Arc<ChannelSet>,
        policy: RetryPolicy,
        counters: NotificationCounters,
    ) -> Self {
        Self {
            queue: Mutex::new(DispatchQueue::new(capacity)),
            wake: Notify::new(),
            slots: Arc::new(Semaphore::new(PARALLEL)),
            pool,
            deliverer,
            channels,
            policy,
            counters,
        }
    }

    fn with_queue<T>(&self, f: impl FnOnce(&mut DispatchQueue) -> T) -> T {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let out = f(&mut q);
        self.counters
            .queue_depth
            .set(i64::try_from(q.len()).unwrap_or(i64::MAX));
        out
    }

    /// Logs `message` for `channel` as queued and puts it in the queue.
    pub async fn enqueue(&self, channel: &Channel, message: Message) {
        let now = db::now_epoch();
        let delivery_id = match store::log_new(
            &self.pool,
            channel.id,
            message.kind(),
            &message.summary(),
            message.notices(),
            "queued",
            now,
        )
        .await
        {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, channel = channel.id, "delivery log not written");
                0
            }
        };
        self.push(Job {
            delivery_id,
            channel_id: channel.id,
            message: Arc::new(message),
            attempts: 0,
            ready_at: Instant::now(),
        })
        .await;
    }

    async fn push(&self, job: Job) {
        let dropped = self.with_queue(|q| q.push(job));
        self.wake.notify_one();
        if let Some(old) = dropped {
            if let Some(channel) = self.channels.get(old.channel_id) {
                self.counters
                    .dropped
                    .with_label_values(&[channel.config.kind().as_str()])
                    .inc();
            }
            tracing::warn!(
                channel = old.channel_id,
                kind = old.message.kind(),
                "notification queue full; oldest digest dropped"
            );
            self.log(&old, "dropped", Some("the queue was full")).await;
        }
    }

    async fn log(&self, job: &Job, status: &str, error: Option<&str>) {
        if job.delivery_id == 0 {
            return;
        }
        if let Err(e) = store::log_outcome(
            &self.pool,
            job.delivery_id,
            status,
            job.attempts,
            error,
            db::now_epoch(),
        )
        .await
        {
            tracing::warn!(error = %e, delivery = job.delivery_id, "delivery log not updated");
        }
    }

    /// Runs until the task is aborted at shutdown.
    pub async fn run(self: Arc<Self>) {
        loop {
            let next = self.with_queue(|q| q.take_ready(Instant::now()).ok_or(q.next_ready_at()));
            match next {
                Ok(job) => {
                    let Ok(permit) = Arc::clone(&self.slots).acquire_owned().await else {
                        return;
                    };
                    let me = Arc::clone(&self);
                    tokio::spawn(async move {
                        me.attempt(job).await;
                        drop(permit);
                    });
                }
                Err(Some(at)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = self.wake.notified() => {}
                    }
                }
                Err(None) => self.wake.notified().await,
            }
        }
    }

    async fn attempt(&self, mut job: Job) {
        let Some(channel) = self.channels.get(job.channel_id) else {
            return; // deleted meanwhile, with its log
        };
        if !channel.enabled {
            self.log(&job, "dropped", Some("the channel was disabled"))
                .await;
            return;
        }
        let kind = channel.config.kind().as_str();
        job.attempts += 1;
        let result = self
            .deliverer
            .send(
                &channel.config,
                &channel.secrets,
                &job.message,
                DeliveryId(job.delivery_id),
            )
            .await;
        match result {
            Ok(()) => {
                self.counters.sent.with_label_values(&[kind]).inc();
                self.log(&job, "sent", None).await;
            }
            Err(e) => {
                self.counters.failed.with_label_values(&[kind]).inc();
                let error = e.to_string();
                if job.attempts >= self.policy.max_attempts {
                    self.counters.dead_letters.with_label_values(&[kind]).inc();
                    self.counters.dropped.with_label_values(&[kind]).inc();
                    tracing::warn!(
                        channel = channel.id,
                        attempts = job.attempts,
                        error,
                        "notification dead-lettered"
                    );
                    self.log(&job, "dead", Some(&error)).await;
                } else {
                    let delay = self.policy.delay(job.attempts, rand::random::<f64>());
                    tracing::info!(
                        channel = channel.id,
                        attempts = job.attempts,
                        ?delay,
                        error,
                        "notification delivery failed; will retry"
                    );
                    self.log(&job, "retrying", Some(&error)).await;
                    job.ready_at = Instant::now() + delay;
                    self.push(job).await;
                }
            }
        }
    }

    /// One immediate attempt outside the queue (the "send test" button); logged like others.
    pub async fn send_now(
        &self,
        channel: &Channel,
        message: Message,
    ) -> (i64, Result<(), crate::delivery::DeliveryError>) {
        let now = db::now_epoch();
        let id = store::log_new(
            &self.pool,
            channel.id,
            message.kind(),
            &message.summary(),
            0,
            "queued",
            now,
        )
        .await
        .unwrap_or(0);
        let kind = channel.config.kind().as_str();
        let job = Job {
            delivery_id: id,
            channel_id: channel.id,
            message: Arc::new(message),
            attempts: 1,
            ready_at: Instant::now(),
        };
        match self
            .deliverer
            .send(
                &channel.config,
                &channel.secrets,
                &job.message,
                DeliveryId(id),
            )
            .await
        {
            Ok(()) => {
                self.counters.sent.with_label_values(&[kind]).inc();
                self.log(&job, "sent", None).await;
                (id, Ok(()))
            }
            Err(e) => {
                self.counters.failed.with_label_values(&[kind]).inc();
                self.log(&job, "failed", Some(&e.to_string())).await;
                (id, Err(e))
            }
        }
    }

    /// Messages waiting (first attempts and retries).
    pub fn queued(&self) -> usize {
        self.with_queue(|q| q.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_with_jitter_and_stop_growing_at_the_cap() {
        let p = RetryPolicy {
            max_attempts: 6,
            base: Duration::from_secs(2),
        };
        assert_eq!(p.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(p.delay(1, 1.0), Duration::from_secs(2));
        assert_eq!(p.delay(3, 1.0), Duration::from_secs(8));
        assert!(
            p.delay(3, 0.5) > Duration::from_secs(4) && p.delay(3, 0.5) < Duration::from_secs(8)
        );
        assert_eq!(p.delay(40, 1.0), MAX_DELAY);
    }
}
