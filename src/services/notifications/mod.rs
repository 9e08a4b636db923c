//! Notifications (issue 17): channel CRUD with write-only secrets, the delivery log, the
//! "send test" action, and the pipeline that turns the internal stream of happenings into
//! messages: notices → [`router::Router`] (rules, quiet hours, one message per interval with
//! digests) → [`dispatcher::Dispatcher`] (bounded queue, retries with backoff and jitter,
//! dead-letter) → `delivery::Deliverer`. The pipeline runs in two background tasks; feeding it
//! ([`NotificationService::publish`]) never waits.

pub mod channels;
pub mod dispatcher;
pub mod feed;
pub mod queue;
pub mod router;

use std::sync::Arc;

use sqlx::SqlitePool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::NotificationSettings;
use crate::db::{self, notifications as store};
use crate::delivery::{Deliverer, DeliveryError};
use crate::domain::DomainError;
use crate::domain::notification::channel::channel_name;
use crate::domain::notification::{
    Channel, ChannelConfig, Message, Notice, Rules, SecretUpdate, Secrets,
};
use crate::metrics::NotificationCounters;
use crate::services::events::EventBus;

use channels::ChannelSet;
use dispatcher::{Dispatcher, RetryPolicy};

pub use store::DeliveryRow;

/// Notices the router may have waiting before `publish` drops new ones.
pub const INPUT_CAPACITY: usize = 20_000;
/// Channels at most.
pub const MAX_CHANNELS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("no notification channel {0}")]
    NotFound(i64),
    #[error("a channel named {0:?} exists already")]
    Duplicate(String),
    #[error("at most {MAX_CHANNELS} channels")]
    TooMany,
    #[error(transparent)]
    Store(store::NotificationStoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("cannot set up delivery: {0}")]
    Setup(#[from] DeliveryError),
}

impl From<store::NotificationStoreError> for NotificationError {
    fn from(e: store::NotificationStoreError) -> Self {
        match e {
            store::NotificationStoreError::DuplicateName(n) => Self::Duplicate(n),
            store::NotificationStoreError::Sql(s) => Self::Database(s),
            other => Self::Store(other),
        }
    }
}

/// A channel as submitted (create or replace).
pub struct ChannelInput {
    pub name: String,
    pub enabled: bool,
    pub config: ChannelConfig,
    pub secrets: SecretUpdate,
    pub rules: Rules,
}

/// The outcome of a test message.
pub struct TestOutcome {
    pub delivery_id: i64,
    pub error: Option<String>,
}

pub struct NotificationService {
    pool: SqlitePool,
    channels: Arc<ChannelSet>,
    dispatcher: Arc<Dispatcher>,
    input: mpsc::Sender<Notice>,
    counters: NotificationCounters,
}

impl NotificationService {
    /// Loads the channels and starts the feeder (subscribed to `events`), router and
    /// dispatcher tasks (aborted at shutdown).
    pub async fn start(
        pool: SqlitePool,
        settings: &NotificationSettings,
        counters: NotificationCounters,
        events: &EventBus,
    ) -> Result<(Arc<Self>, Vec<JoinHandle<()>>), NotificationError> {
        let channels = Arc::new(ChannelSet::default());
        channels.reload(&pool).await?;
        let dispatcher = Arc::new(Dispatcher::new(
            settings.queue_capacity,
            pool.clone(),
            Deliverer::new(settings.timeout)?,
            Arc::clone(&channels),
            RetryPolicy {
                max_attempts: settings.max_attempts,
                base: settings.retry_base,
            },
            counters.clone(),
        ));
        let (input, rx) = mpsc::channel(INPUT_CAPACITY);
        let router =
            router::Router::new(Arc::clone(&channels), Arc::clone(&dispatcher), pool.clone());
        let tasks = vec![
            tokio::spawn(Arc::clone(&dispatcher).run()),
            tokio::spawn(router.run(rx)),
            tokio::spawn(feed::run(
                events.subscribe(),
                input.clone(),
                counters.input_dropped.clone(),
            )),
        ];
        Ok((
            Arc::new(Self {
                pool,
                channels,
                dispatcher,
                input,
                counters,
            }),
            tasks,
        ))
    }

    /// Hands a notice to the router without waiting; when the router is that far behind the
    /// notice is dropped and counted.
    pub fn publish(&self, notice: Notice) {
        if self.input.try_send(notice).is_err() {
            self.counters
                .input_dropped
                .with_label_values(&["router_full"])
                .inc();
        }
    }

    /// A sender for a feeder task that may wait (for example the event-stream subscriber).
    pub fn input(&self) -> mpsc::Sender<Notice> {
        self.input.clone()
    }

    pub async fn list(&self) -> Result<Vec<Channel>, NotificationError> {
        Ok(store::list(&self.pool).await?)
    }

    pub async fn get(&self, id: i64) -> Result<Channel, NotificationError> {
        store::get(&self.pool, id)
            .await?
            .ok_or(NotificationError::NotFound(id))
    }

    fn validate(
        input: ChannelInput,
        old: &Secrets,
    ) -> Result<(String, ChannelConfig, Secrets, Rules, bool), NotificationError> {
        let name = channel_name(&input.name)?;
        let config = input.config.validated()?;
        let secrets = old.updated(config.kind(), &input.secrets)?;
        let rules = input.rules.validated()?;
        Ok((name, config, secrets, rules, input.enabled))
    }

    pub async fn create(&self, input: ChannelInput) -> Result<Channel, NotificationError> {
        if self.channels.all().len() >= MAX_CHANNELS {
            return Err(NotificationError::TooMany);
        }
        let (name, config, secrets, rules, enabled) = Self::validate(input, &Secrets::default())?;
        let id = store::insert(
            &self.pool,
            &store::ChannelWrite {
                name: &name,
                enabled,
                config: &config,
                secrets: &secrets,
                rules: &rules,
            },
            db::now_epoch(),
        )
        .await?;
        self.channels.reload(&self.pool).await?;
        self.get(id).await
    }

    /// Replaces a channel; secrets not named in the input are kept (when the kind stays).
    pub async fn update(&self, id: i64, input: ChannelInput) -> Result<Channel, NotificationError> {
        let old = self.get(id).await?;
        let kept = if old.config.kind() == input.config.kind() {
            old.secrets
        } else {
            Secrets::default()
        };
        let (name, config, secrets, rules, enabled) = Self::validate(input, &kept)?;
        let found = store::update(
            &self.pool,
            id,
            &store::ChannelWrite {
                name: &name,
                enabled,
                config: &config,
                secrets: &secrets,
                rules: &rules,
            },
            db::now_epoch(),
        )
        .await?;
        if !found {
            return Err(NotificationError::NotFound(id));
        }
        self.channels.reload(&self.pool).await?;
        self.get(id).await
    }

    pub async fn delete(&self, id: i64) -> Result<(), NotificationError> {
        if !store::delete(&self.pool, id).await? {
            return Err(NotificationError::NotFound(id));
        }
        self.channels.reload(&self.pool).await?;
        Ok(())
    }

    /// Sends a test message now (one attempt, logged); the error names what went wrong.
    pub async fn send_test(&self, id: i64) -> Result<TestOutcome, NotificationError> {
        let channel = self.get(id).await?;
        let message = Message::Test {
            channel: channel.name.clone(),
        };
        let (delivery_id, result) = self.dispatcher.send_now(&channel, message).await;
        Ok(TestOutcome {
            delivery_id,
            error: result.err().map(|e| e.to_string()),
        })
    }

    /// The newest rows of a channel's delivery log.
    pub async fn deliveries(
        &self,
        id: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryRow>, NotificationError> {
        self.get(id).await?;
        Ok(store::log_page(&self.pool, id, limit).await?)
    }

    /// Messages waiting in the dispatcher's queue.
    pub fn queued(&self) -> usize {
        self.dispatcher.queued()
    }
}
