//! The HTTP channels besides the signed webhook: ntfy (`POST base/topic`, text body, title and
//! tags in headers, optional bearer token), Slack/Mattermost/Discord incoming webhooks (JSON
//! `text` or `content`), Matrix (`PUT /_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}`
//! with the access token; the transaction id is the delivery id, so a retry is not shown twice)
//! and Telegram (`POST {api}/bot{token}/sendMessage`).

use serde_json::json;

use super::{DeliveryError, DeliveryId, expect_success, secret, transport};
use crate::domain::notification::{ChatFlavor, Message, Secrets};

/// Characters of a message body that chat services accept comfortably.
const MAX_TEXT: usize = 3500;

fn body(message: &Message) -> String {
    let text = format!("{}\n{}", message.title(), message.text());
    text.chars().take(MAX_TEXT).collect()
}

pub async fn ntfy(
    http: &reqwest::Client,
    base_url: &str,
    topic: &str,
    secrets: &Secrets,
    message: &Message,
) -> Result<(), DeliveryError> {
    let mut req = http
        .post(format!("{base_url}/{topic}"))
        // Header values must be visible ASCII; titles are built from ASCII words.
        .header(
            "Title",
            message
                .title()
                .replace(|c: char| !c.is_ascii() || c.is_ascii_control(), "?"),
        )
        .header("Tags", "shield")
        .body(message.text().chars().take(MAX_TEXT).collect::<String>());
    if let Some(token) = secrets.get("access_token") {
        req = req.bearer_auth(token);
    }
    expect_success(req.send().await.map_err(transport)?).await
}

pub async fn chat(
    http: &reqwest::Client,
    flavor: ChatFlavor,
    secrets: &Secrets,
    message: &Message,
) -> Result<(), DeliveryError> {
    let url = secret(secrets, "webhook_url")?;
    let payload = match flavor {
        ChatFlavor::Slack | ChatFlavor::Mattermost => json!({ "text": body(message) }),
        ChatFlavor::Discord => {
            json!({ "content": body(message).chars().take(1900).collect::<String>() })
        }
    };
    expect_success(
        http.post(url)
            .json(&payload)
            .send()
            .await
            .map_err(transport)?,
    )
    .await
}

pub async fn matrix(
    http: &reqwest::Client,
    homeserver: &str,
    room_id: &str,
    secrets: &Secrets,
    message: &Message,
    id: DeliveryId,
) -> Result<(), DeliveryError> {
    let token = secret(secrets, "access_token")?;
    let mut url = reqwest::Url::parse(homeserver)
        .map_err(|e| DeliveryError::Request(format!("homeserver URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| DeliveryError::Request("homeserver URL cannot have a path".into()))?
        .pop_if_empty()
        .extend([
            "_matrix",
            "client",
            "v3",
            "rooms",
            room_id,
            "send",
            "m.room.message",
            &format!("bangui-{}", id.0),
        ]);
    let payload = json!({ "msgtype": "m.notice", "body": body(message) });
    let res = http
        .put(url)
        .bearer_auth(token)
        .json(&payload)
        .send()
        .await
        .map_err(transport)?;
    expect_success(res).await
}

pub async fn telegram(
    http: &reqwest::Client,
    api_base: &str,
    chat_id: &str,
    secrets: &Secrets,
    message: &Message,
) -> Result<(), DeliveryError> {
    let token = secret(secrets, "bot_token")?;
    let payload = json!({
        "chat_id": chat_id,
        "text": body(message),
        "disable_web_page_preview": true,
    });
    let res = http
        .post(format!("{api_base}/bot{token}/sendMessage"))
        .json(&payload)
        .send()
        .await
        .map_err(transport)?;
    expect_success(res).await
}
