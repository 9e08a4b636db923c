//! The signed webhook: the message as JSON, POSTed with
//! `X-BanGUI-Timestamp: <epoch seconds>` and
//! `X-BanGUI-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, plus
//! `X-BanGUI-Delivery: <id>` that stays the same across retries. A receiver recomputes the
//! signature over the raw body and rejects a timestamp older than a few minutes, so a
//! captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{DeliveryError, DeliveryId, expect_success, secret, transport};
use crate::domain::notification::{Message, Secrets};

pub const TIMESTAMP_HEADER: &str = "X-BanGUI-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-BanGUI-Signature";
pub const DELIVERY_HEADER: &str = "X-BanGUI-Delivery";

/// `sha256=<hex>` over `<timestamp>.<body>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn send(
    http: &reqwest::Client,
    url: &str,
    secrets: &Secrets,
    message: &Message,
    id: DeliveryId,
) -> Result<(), DeliveryError> {
    let key = secret(secrets, "signing_secret")?;
    let body = serde_json::to_vec(message).map_err(|e| DeliveryError::Request(e.to_string()))?;
    let timestamp = chrono::Utc::now().timestamp();
    let res = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(
            SIGNATURE_HEADER,
            signature(key.as_bytes(), timestamp, &body),
        )
        .header(DELIVERY_HEADER, id.0.to_string())
        .body(body)
        .send()
        .await
        .map_err(transport)?;
    expect_success(res).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_timestamp_dot_body_as_openssl_computes_it() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature(b"key", 1_700_000_000, b"{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }
}
