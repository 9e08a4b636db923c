//! Outbound delivery of one notification message to one channel: the wire format of each kind
//! (signed webhook, ntfy, Slack/Mattermost/Discord incoming webhooks, Matrix, Telegram, SMTP).
//! One attempt per call, bounded by a timeout; retries, queueing and logging belong to
//! `services::notifications`. Errors never carry a secret (URLs are stripped from HTTP errors,
//! because a Telegram URL holds the bot token and a chat webhook URL is itself the credential).
//!
//! Crates: `reqwest` (with rustls and the `ring` provider, system trust store) for HTTPS, which
//! every public notification service requires, and `lettre` for SMTP with STARTTLS or TLS.

pub mod email;
pub mod http;
pub mod webhook;

use std::time::Duration;

use crate::domain::notification::{ChannelConfig, Message, Secrets};

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the receiver answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("cannot reach the receiver: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("the secret {0} is not set")]
    MissingSecret(&'static str),
    #[error("cannot build the request: {0}")]
    Request(String),
    #[error("SMTP: {0}")]
    Smtp(#[source] lettre::transport::smtp::Error),
    #[error("cannot build the e-mail: {0}")]
    Email(String),
}

/// Identifies a delivery to the receiver (idempotency key, Matrix transaction id).
#[derive(Debug, Clone, Copy)]
pub struct DeliveryId(pub i64);

/// Sends messages; one shared HTTP client (connection pool) for every channel.
#[derive(Clone)]
pub struct Deliverer {
    http: reqwest::Client,
    timeout: Duration,
}

impl Deliverer {
    pub fn new(timeout: Duration) -> Result<Self, DeliveryError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("BanGUI/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliveryError::Request(e.without_url().to_string()))?;
        Ok(Self { http, timeout })
    }

    /// One attempt to deliver `message` over the channel.
    pub async fn send(
        &self,
        config: &ChannelConfig,
        secrets: &Secrets,
        message: &Message,
        id: DeliveryId,
    ) -> Result<(), DeliveryError> {
        let attempt = async {
            match config {
                ChannelConfig::Webhook { url } => {
                    webhook::send(&self.http, url, secrets, message, id).await
                }
                ChannelConfig::Ntfy { base_url, topic } => {
                    http::ntfy(&self.http, base_url, topic, secrets, message).await
                }
                ChannelConfig::Chat { flavor } => {
                    http::chat(&self.http, *flavor, secrets, message).await
                }
                ChannelConfig::Matrix {
                    homeserver,
                    room_id,
                } => http::matrix(&self.http, homeserver, room_id, secrets, message, id).await,
                ChannelConfig::Telegram { api_base, chat_id } => {
                    http::telegram(&self.http, api_base, chat_id, secrets, message).await
                }
                ChannelConfig::Email { .. } => {
                    email::send(config, secrets, message, self.timeout).await
                }
            }
        };
        // The HTTP client has its own timeout; this one also bounds SMTP dialogues.
        tokio::time::timeout(self.timeout + Duration::from_secs(1), attempt)
            .await
            .map_err(|_| DeliveryError::Timeout(self.timeout))?
    }
}

fn secret<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, DeliveryError> {
    secrets.get(name).ok_or(DeliveryError::MissingSecret(name))
}

/// Turns a response into success (2xx) or a `Status` error with the start of the body.
async fn expect_success(res: reqwest::Response) -> Result<(), DeliveryError> {
    let status = res.status();
    if status.is_success() {
        return Ok(());
    }
    let body = res.text().await.unwrap_or_default();
    Err(DeliveryError::Status {
        status: status.as_u16(),
        body: body.chars().take(200).collect(),
    })
}

fn transport(e: reqwest::Error) -> DeliveryError {
    DeliveryError::Transport(e.without_url())
}
