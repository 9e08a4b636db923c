//! The router task: takes notices from the internal stream, checks each enabled channel's
//! rules, and hands what passes to the channel's [`Throttle`]; a tick twice a second sends the
//! digests that are due. The result goes to the dispatcher's queue. One task owns all throttle
//! state, so no lock is shared with the sync or with requests; a burst of notices costs a rule
//! check per channel each (and one indexed count when a channel asks for repeat offenders).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::mpsc;

use super::channels::ChannelSet;
use super::dispatcher::Dispatcher;
use crate::db::notifications as store;
use crate::domain::notification::{Notice, NoticeKind, Throttle};

/// How often due digests are looked for.
pub const TICK: Duration = Duration::from_millis(500);

pub struct Router {
    channels: Arc<ChannelSet>,
    dispatcher: Arc<Dispatcher>,
    pool: SqlitePool,
    throttles: HashMap<i64, Throttle>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Router {
    pub fn new(channels: Arc<ChannelSet>, dispatcher: Arc<Dispatcher>, pool: SqlitePool) -> Self {
        Self {
            channels,
            dispatcher,
            pool,
            throttles: HashMap::new(),
        }
    }

    /// Runs until the input closes (or the task is aborted at shutdown).
    pub async fn run(mut self, mut input: mpsc::Receiver<Notice>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                notice = input.recv() => match notice {
                    Some(notice) => self.on_notice(notice).await,
                    None => return,
                },
                _ = tick.tick() => self.on_tick().await,
            }
        }
    }

    async fn on_notice(&mut self, mut notice: Notice) {
        let channels = self.channels.all();
        let now = now_ms();
        for channel in channels.iter().filter(|c| c.enabled) {
            let rules = &channel.rules;
            if notice.kind == NoticeKind::Ban
                && notice.ban_count.is_none()
                && rules.needs_ban_count()
                && let Some(ip) = notice.ip
            {
                match store::ban_count(&self.pool, &ip.to_string()).await {
                    Ok(n) => notice.ban_count = Some(u64::try_from(n).unwrap_or(0).max(1)),
                    Err(e) => tracing::warn!(error = %e, "cannot count the bans of an address"),
                }
            }
            if !rules.accepts(&notice) {
                continue;
            }
            let throttle = self
                .throttles
                .entry(channel.id)
                .or_insert_with(|| Throttle::new(rules.digest_interval_seconds));
            throttle.set_interval(rules.digest_interval_seconds);
            if let Some(message) = throttle.offer(notice.clone(), now, rules.is_quiet(now / 1000)) {
                self.dispatcher.enqueue(channel, message).await;
            }
        }
    }

    async fn on_tick(&mut self) {
        let channels = self.channels.all();
        self.throttles
            .retain(|id, _| channels.iter().any(|c| c.id == *id && c.enabled));
        let now = now_ms();
        for channel in channels.iter() {
            let Some(throttle) = self.throttles.get_mut(&channel.id) else {
                continue;
            };
            throttle.set_interval(channel.rules.digest_interval_seconds);
            if let Some(message) = throttle.due(now, channel.rules.is_quiet(now / 1000)) {
                self.dispatcher.enqueue(channel, message).await;
            }
        }
    }
}
