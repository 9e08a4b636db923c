//! Digests: the per-channel limit of one message per interval. [`Throttle`] decides, for each
//! notice and each clock tick, whether a message goes out now; the first notice after a quiet
//! interval goes out alone at once, every later one is folded into a [`Digest`] that goes out
//! when the interval has passed (and the quiet hours are over). A digest keeps counts, not
//! notices: its memory is bounded however large the attack.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::Message;
use super::notice::{Notice, NoticeKind};

/// Distinct addresses a digest counts one by one; further ones are only counted in total.
pub const MAX_TRACKED_IPS: usize = 10_000;
/// Entries in each "top" list of a summary.
pub const TOP: usize = 10;

/// Notices folded together since the channel's last message.
#[derive(Debug, Clone)]
pub struct Digest {
    first: Notice,
    last_at: i64,
    total: u64,
    by_kind: BTreeMap<NoticeKind, u64>,
    by_jail: BTreeMap<String, u64>,
    by_country: HashMap<String, u64>,
    by_ip: HashMap<IpAddr, u64>,
    untracked_ips: u64,
}

/// A key and how often it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Count {
    pub key: String,
    pub count: u64,
}

/// What a digest message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DigestSummary {
    /// Epoch seconds of the first and the last notice folded in.
    pub since: i64,
    pub until: i64,
    pub total: u64,
    pub by_kind: Vec<Count>,
    pub jails: Vec<Count>,
    pub top_ips: Vec<Count>,
    pub top_countries: Vec<Count>,
    /// Distinct addresses among the notices (a lower bound once more than 10,000 were seen).
    pub distinct_ips: u64,
}

impl Digest {
    pub fn new(first: Notice) -> Self {
        let mut digest = Self {
            last_at: first.at,
            first: first.clone(),
            total: 0,
            by_kind: BTreeMap::new(),
            by_jail: BTreeMap::new(),
            by_country: HashMap::new(),
            by_ip: HashMap::new(),
            untracked_ips: 0,
        };
        digest.add(&first);
        digest
    }

    pub fn add(&mut self, notice: &Notice) {
        self.total += 1;
        self.last_at = self.last_at.max(notice.at);
        *self.by_kind.entry(notice.kind).or_default() += 1;
        if let Some(jail) = &notice.jail {
            *self.by_jail.entry(jail.clone()).or_default() += 1;
        }
        if let Some(country) = &notice.country {
            *self.by_country.entry(country.clone()).or_default() += 1;
        }
        if let Some(ip) = notice.ip {
            if let Some(n) = self.by_ip.get_mut(&ip) {
                *n += 1;
            } else if self.by_ip.len() < MAX_TRACKED_IPS {
                self.by_ip.insert(ip, 1);
            } else {
                self.untracked_ips += 1;
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The message this digest becomes: the notice itself when it holds only one.
    pub fn into_message(self) -> Message {
        if self.total == 1 {
            return Message::Event(self.first);
        }
        Message::Digest(self.summary())
    }

    pub fn summary(&self) -> DigestSummary {
        fn top<K: ToString>(items: impl Iterator<Item = (K, u64)>) -> Vec<Count> {
            let mut all: Vec<Count> = items
                .map(|(k, count)| Count {
                    key: k.to_string(),
                    count,
                })
                .collect();
            all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
            all.truncate(TOP);
            all
        }
        DigestSummary {
            since: self.first.at,
            until: self.last_at,
            total: self.total,
            by_kind: self
                .by_kind
                .iter()
                .map(|(k, n)| Count {
                    key: k.as_str().to_string(),
                    count: *n,
                })
                .collect(),
            jails: top(self.by_jail.iter().map(|(k, n)| (k, *n))),
            top_ips: top(self.by_ip.iter().map(|(k, n)| (k, *n))),
            top_countries: top(self.by_country.iter().map(|(k, n)| (k, *n))),
            distinct_ips: self.by_ip.len() as u64 + self.untracked_ips.min(1),
        }
    }
}

/// One channel's pacing: at most one message per interval.
#[derive(Debug, Clone)]
pub struct Throttle {
    interval_ms: i64,
    last_sent_ms: Option<i64>,
    pending: Option<Digest>,
}

impl Throttle {
    pub fn new(interval_seconds: u32) -> Self {
        Self {
            interval_ms: i64::from(interval_seconds) * 1000,
            last_sent_ms: None,
            pending: None,
        }
    }

    pub fn set_interval(&mut self, interval_seconds: u32) {
        self.interval_ms = i64::from(interval_seconds) * 1000;
    }

    fn interval_passed(&self, now_ms: i64) -> bool {
        self.last_sent_ms
            .is_none_or(|last| now_ms.saturating_sub(last) >= self.interval_ms)
    }

    /// Takes a notice that passed the channel's rules at `now_ms`; returns the message to send
    /// now, if any (otherwise the notice waits in the digest).
    pub fn offer(&mut self, notice: Notice, now_ms: i64, quiet: bool) -> Option<Message> {
        if let Some(digest) = &mut self.pending {
            digest.add(&notice);
            return None;
        }
        if !quiet && self.interval_passed(now_ms) {
            self.last_sent_ms = Some(now_ms);
            return Some(Message::Event(notice));
        }
        self.pending = Some(Digest::new(notice));
        None
    }

    /// The digest, when one is waiting, the interval has passed and it is not quiet time.
    pub fn due(&mut self, now_ms: i64, quiet: bool) -> Option<Message> {
        if quiet || self.pending.is_none() || !self.interval_passed(now_ms) {
            return None;
        }
        self.last_sent_ms = Some(now_ms);
        self.pending.take().map(Digest::into_message)
    }

    /// Notices waiting in the digest.
    pub fn waiting(&self) -> u64 {
        self.pending.as_ref().map_or(0, Digest::total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(i: u32, country: &str) -> Notice {
        let mut n = Notice::new(NoticeKind::Ban, 1_000 + i64::from(i));
        n.ip = Some(IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]));
        n.jail = Some("sshd".into());
        n.country = Some(country.into());
        n
    }

    #[test]
    fn ten_thousand_bans_in_a_minute_make_one_message_per_interval() {
        let mut throttle = Throttle::new(60);
        let mut sent = Vec::new();
        // 10,000 bans spread over 60 s, ticks every second, then the clock runs on 2 minutes.
        for i in 0..10_000u32 {
            let now = i64::from(i) * 6;
            if let Some(m) =
                throttle.offer(ban(i, if i % 3 == 0 { "CN" } else { "RU" }), now, false)
            {
                sent.push((now, m));
            }
            if i % 166 == 0
                && let Some(m) = throttle.due(now, false)
            {
                sent.push((now, m));
            }
        }
        for s in 60..=180 {
            if let Some(m) = throttle.due(s * 1000, false) {
                sent.push((s * 1000, m));
            }
        }
        assert_eq!(sent.len(), 2, "the first ban alone, then one digest");
        assert!(matches!(sent[0].1, Message::Event(_)));
        let Message::Digest(summary) = &sent[1].1 else {
            panic!("second message is a digest")
        };
        assert_eq!(summary.total, 9_999);
        assert_eq!(summary.top_countries[0].key, "RU");
        assert_eq!(summary.top_ips.len(), TOP);
        assert_eq!(sent[1].0, 60_000, "sent as soon as the interval passed");
    }

    #[test]
    fn quiet_hours_hold_messages_until_they_end() {
        let mut throttle = Throttle::new(10);
        assert!(throttle.offer(ban(1, "DE"), 0, true).is_none());
        assert!(throttle.offer(ban(2, "DE"), 1_000, true).is_none());
        assert!(throttle.due(20_000, true).is_none());
        let Some(Message::Digest(s)) = throttle.due(21_000, false) else {
            panic!("digest after the quiet hours")
        };
        assert_eq!(s.total, 2);
    }

    #[test]
    fn a_lone_held_notice_goes_out_as_itself() {
        let mut throttle = Throttle::new(10);
        assert!(throttle.offer(ban(1, "DE"), 0, false).is_some());
        assert!(throttle.offer(ban(2, "DE"), 1_000, false).is_none());
        assert!(throttle.due(9_999, false).is_none());
        assert!(matches!(
            throttle.due(10_000, false),
            Some(Message::Event(_))
        ));
        assert!(throttle.due(30_000, false).is_none(), "nothing waiting");
        assert!(
            throttle.offer(ban(3, "DE"), 30_000, false).is_some(),
            "quiet long enough"
        );
    }
}
