//! Repository of the notification tables: channels (configuration and rules stored as the
//! domain's JSON documents, secrets in their own column) and the per-channel delivery log,
//! pruned to the newest [`LOG_ROWS_PER_CHANNEL`] rows of each channel.

use sqlx::{Row, SqlitePool};

use crate::domain::notification::{Channel, ChannelConfig, Rules, Secrets};

/// Delivery log rows kept per channel.
pub const LOG_ROWS_PER_CHANNEL: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum NotificationStoreError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("stored notification channel {id} cannot be read: {source}")]
    Corrupt { id: i64, source: serde_json::Error },
    #[error("cannot encode the channel: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("a channel named {0:?} exists already")]
    DuplicateName(String),
}

/// A channel to store (no id yet, or the id of the one to replace).
pub struct ChannelWrite<'a> {
    pub name: &'a str,
    pub enabled: bool,
    pub config: &'a ChannelConfig,
    pub secrets: &'a Secrets,
    pub rules: &'a Rules,
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, NotificationStoreError> {
    serde_json::to_string(value).map_err(NotificationStoreError::Encode)
}

fn duplicate(e: sqlx::Error, name: &str) -> NotificationStoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            NotificationStoreError::DuplicateName(name.to_string())
        }
        _ => NotificationStoreError::Sql(e),
    }
}

fn channel(row: &sqlx::sqlite::SqliteRow) -> Result<Channel, NotificationStoreError> {
    let id: i64 = row.try_get("id")?;
    let corrupt = |source| NotificationStoreError::Corrupt { id, source };
    Ok(Channel {
        id,
        name: row.try_get("name")?,
        enabled: row.try_get("enabled")?,
        config: serde_json::from_str(row.try_get("config")?).map_err(corrupt)?,
        secrets: serde_json::from_str(row.try_get("secrets")?).map_err(corrupt)?,
        rules: serde_json::from_str(row.try_get("rules")?).map_err(corrupt)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<Channel>, NotificationStoreError> {
    let rows = sqlx::query(
        "SELECT id, name, enabled, config, secrets, rules, created_at, updated_at \
         FROM notification_channels ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(channel).collect()
}

pub async fn get(pool: &SqlitePool, id: i64) -> Result<Option<Channel>, NotificationStoreError> {
    let row = sqlx::query(
        "SELECT id, name, enabled, config, secrets, rules, created_at, updated_at \
         FROM notification_channels WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(channel).transpose()
}

pub async fn insert(
    pool: &SqlitePool,
    c: &ChannelWrite<'_>,
    now: i64,
) -> Result<i64, NotificationStoreError> {
    let id = sqlx::query(
        "INSERT INTO notification_channels \
         (name, kind, enabled, config, secrets, rules, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.name)
    .bind(c.config.kind().as_str())
    .bind(c.enabled)
    .bind(encode(c.config)?)
    .bind(encode(c.secrets)?)
    .bind(encode(c.rules)?)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .map_err(|e| duplicate(e, c.name))?
    .last_insert_rowid();
    Ok(id)
}

/// Replaces a channel; `false` when there is none with `id`.
pub async fn update(
    pool: &SqlitePool,
    id: i64,
    c: &ChannelWrite<'_>,
    now: i64,
) -> Result<bool, NotificationStoreError> {
    let done = sqlx::query(
        "UPDATE notification_channels SET name = ?, kind = ?, enabled = ?, config = ?, \
         secrets = ?, rules = ?, updated_at = ? WHERE id = ?",
    )
    .bind(c.name)
    .bind(c.config.kind().as_str())
    .bind(c.enabled)
    .bind(encode(c.config)?)
    .bind(encode(c.secrets)?)
    .bind(encode(c.rules)?)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map_err(|e| duplicate(e, c.name))?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a channel and its delivery log; `false` when there is none with `id`.
pub async fn delete(pool: &SqlitePool, id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM notification_deliveries WHERE channel_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM notification_channels WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// One row of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: i64,
    pub channel_id: i64,
    pub kind: String,
    pub summary: String,
    pub notices: i64,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Logs a new message as `status` and prunes the channel's oldest rows.
pub async fn log_new(
    pool: &SqlitePool,
    channel_id: i64,
    kind: &str,
    summary: &str,
    notices: u64,
    status: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let id = sqlx::query(
        "INSERT INTO notification_deliveries \
         (channel_id, kind, summary, notices, status, attempts, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
    )
    .bind(channel_id)
    .bind(kind)
    .bind(summary)
    .bind(i64::try_from(notices).unwrap_or(i64::MAX))
    .bind(status)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?
    .last_insert_rowid();
    sqlx::query(
        "DELETE FROM notification_deliveries WHERE channel_id = ?1 AND id <= \
         (SELECT id FROM notification_deliveries WHERE channel_id = ?1 \
          ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    )
    .bind(channel_id)
    .bind(LOG_ROWS_PER_CHANNEL)
    .execute(pool)
    .await?;
    Ok(id)
}

/// Records the outcome of an attempt (or a drop) on a logged message.
pub async fn log_outcome(
    pool: &SqlitePool,
    id: i64,
    status: &str,
    attempts: u32,
    error: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_deliveries SET status = ?, attempts = ?, \
         last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(attempts)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The newest `limit` rows of a channel's log, newest first.
pub async fn log_page(
    pool: &SqlitePool,
    channel_id: i64,
    limit: u32,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, channel_id, kind, summary, notices, status, attempts, last_error, \
         created_at, updated_at FROM notification_deliveries WHERE channel_id = ? \
         ORDER BY id DESC LIMIT ?",
    )
    .bind(channel_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: r.try_get("id")?,
                channel_id: r.try_get("channel_id")?,
                kind: r.try_get("kind")?,
                summary: r.try_get("summary")?,
                notices: r.try_get("notices")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
}

/// How many archived bans `ip` has (for the repeat-offender rule).
pub async fn ban_count(pool: &SqlitePool, ip: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM history WHERE ip = ?")
        .bind(ip)
        .fetch_one(pool)
        .await
}
