//! Notifications as the domain sees them: the channels an admin configures (where a message
//! goes and how it is signed or authenticated), the rules that pick which happenings reach a
//! channel, the notices themselves, and the per-channel digest that folds a burst of notices
//! into one message. Pure values with parsing and rendering; sending, storing and scheduling
//! live in `delivery/`, `db/notifications.rs` and `services/notifications/`.

pub mod channel;
pub mod digest;
pub mod message;
pub mod notice;
pub mod rules;
pub mod schema;

/// Reads a `T` only from a JSON object: serde would also read a struct (or an internally tagged
/// enum) from an array of its fields, which the API's schema does not allow.
pub fn from_object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::Deserialize;
    use serde::de::Error;
    let object = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    serde_json::from_value(serde_json::Value::Object(object)).map_err(D::Error::custom)
}

/// [`from_object`] for an optional field: `null` is `None`.
pub fn from_optional_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::Deserialize;
    use serde::de::Error;
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)? {
        None => Ok(None),
        Some(object) => serde_json::from_value(serde_json::Value::Object(object))
            .map(Some)
            .map_err(D::Error::custom),
    }
}

pub use channel::{
    Channel, ChannelConfig, ChannelKind, ChatFlavor, SecretUpdate, Secrets, SmtpSecurity,
};
pub use digest::{Digest, DigestSummary, Throttle};
pub use message::Message;
pub use notice::{Notice, NoticeKind};
pub use rules::{QuietHours, Rules};
