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

pub use channel::{
    Channel, ChannelConfig, ChannelKind, ChatFlavor, SecretUpdate, Secrets, SmtpSecurity,
};
pub use digest::{Digest, DigestSummary, Throttle};
pub use message::Message;
pub use notice::{Notice, NoticeKind};
pub use rules::{QuietHours, Rules};
