//! A message to one channel: a single notice, a digest, or a test. It renders itself as a
//! title and plain text (chat, ntfy, Matrix, Telegram, e-mail) and as the JSON body of the
//! signed webhook; senders only choose the framing.

use serde::Serialize;

use super::digest::DigestSummary;
use super::notice::Notice;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Event(Notice),
    Digest(DigestSummary),
    Test { channel: String },
}

impl Message {
    /// `event`, `digest` or `test` (the delivery log's `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => "event",
            Self::Digest(_) => "digest",
            Self::Test { .. } => "test",
        }
    }

    /// Notices the message stands for.
    pub fn notices(&self) -> u64 {
        match self {
            Self::Event(_) => 1,
            Self::Digest(d) => d.total,
            Self::Test { .. } => 0,
        }
    }

    pub fn title(&self) -> String {
        match self {
            Self::Event(n) => format!("BanGUI: {}", n.kind.label()),
            Self::Digest(d) => format!("BanGUI: {} events", d.total),
            Self::Test { .. } => "BanGUI: test message".to_string(),
        }
    }

    /// Plain text, a few lines.
    pub fn text(&self) -> String {
        match self {
            Self::Event(n) => n.line(),
            Self::Digest(d) => {
                let list = |items: &[super::digest::Count]| {
                    items
                        .iter()
                        .map(|c| format!("{} ({})", c.key, c.count))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut out = format!(
                    "{} events from {} distinct addresses between {} and {} UTC",
                    d.total,
                    d.distinct_ips,
                    crate::domain::time::rfc3339(d.since),
                    crate::domain::time::rfc3339(d.until)
                );
                out.push_str(&format!("\nkinds: {}", list(&d.by_kind)));
                if !d.jails.is_empty() {
                    out.push_str(&format!("\njails: {}", list(&d.jails)));
                }
                if !d.top_ips.is_empty() {
                    out.push_str(&format!("\ntop addresses: {}", list(&d.top_ips)));
                }
                if !d.top_countries.is_empty() {
                    out.push_str(&format!("\ntop countries: {}", list(&d.top_countries)));
                }
                out
            }
            Self::Test { channel } => {
                format!("Test message for the channel \"{channel}\": delivery works.")
            }
        }
    }

    /// One line for the delivery log.
    pub fn summary(&self) -> String {
        let text = match self {
            Self::Digest(d) => format!("digest of {} events", d.total),
            _ => self.text(),
        };
        text.chars().take(200).collect()
    }
}
