//! The vocabulary of dashboard queries: time ranges with their chart buckets, the origin of a
//! ban (self-detected or imported from a blocklist) and 1-based pages. Pure values; no SQL here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// The jail that blocklist imports ban into.
pub const BLOCKLIST_JAIL: &str = "blocklist-import";

/// A dashboard time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeRange {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "365d")]
    Year,
}

impl TimeRange {
    pub fn parse(text: &str) -> Result<TimeRange, DomainError> {
        match text.trim() {
            "24h" => Ok(TimeRange::Day),
            "7d" => Ok(TimeRange::Week),
            "30d" => Ok(TimeRange::Month),
            "365d" => Ok(TimeRange::Year),
            _ => Err(DomainError::new(
                "range",
                text,
                "expected one of 24h, 7d, 30d, 365d",
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TimeRange::Day => "24h",
            TimeRange::Week => "7d",
            TimeRange::Month => "30d",
            TimeRange::Year => "365d",
        }
    }

    /// Length of the range in seconds.
    pub fn seconds(&self) -> i64 {
        const DAY: i64 = 86_400;
        match self {
            TimeRange::Day => DAY,
            TimeRange::Week => 7 * DAY,
            TimeRange::Month => 30 * DAY,
            TimeRange::Year => 365 * DAY,
        }
    }

    /// Width of one chart bucket: 24h → 1 h (24), 7d → 6 h (28), 30d → 1 d (30), 365d → 7 d (53).
    pub fn bucket_seconds(&self) -> i64 {
        match self {
            TimeRange::Day => 3_600,
            TimeRange::Week => 6 * 3_600,
            TimeRange::Month => 86_400,
            TimeRange::Year => 7 * 86_400,
        }
    }

    /// Number of buckets covering the range (the last one may be partial).
    pub fn bucket_count(&self) -> i64 {
        let (s, b) = (self.seconds(), self.bucket_seconds());
        (s + b - 1) / b
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimeRange {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeRange::parse(s)
    }
}

/// Where bans come from: every jail, the jails that detect attacks themselves, or the
/// blocklist import jail.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    #[default]
    All,
    Selfblock,
    Blocklist,
}

impl Origin {
    pub fn parse(text: &str) -> Result<Origin, DomainError> {
        match text.trim() {
            "all" => Ok(Origin::All),
            "selfblock" => Ok(Origin::Selfblock),
            "blocklist" => Ok(Origin::Blocklist),
            _ => Err(DomainError::new(
                "origin",
                text,
                "expected one of all, selfblock, blocklist",
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::All => "all",
            Origin::Selfblock => "selfblock",
            Origin::Blocklist => "blocklist",
        }
    }

    /// The origin of a ban in `jail`.
    pub fn of_jail(jail: &str) -> Origin {
        if jail == BLOCKLIST_JAIL {
            Origin::Blocklist
        } else {
            Origin::Selfblock
        }
    }

    /// Whether a ban in `jail` belongs to this origin.
    pub fn includes(&self, jail: &str) -> bool {
        match self {
            Origin::All => true,
            other => Origin::of_jail(jail) == *other,
        }
    }
}

impl FromStr for Origin {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Origin::parse(s)
    }
}

/// A 1-based page of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub page: u32,
    pub page_size: u32,
}

impl Page {
    pub const DEFAULT_SIZE: u32 = 100;
    pub const MAX_SIZE: u32 = 500;
    /// Highest page number accepted (500 million rows at the largest page size).
    pub const MAX_PAGE: u32 = 1_000_000;

    pub fn new(page: Option<u32>, size: Option<u32>) -> Result<Page, DomainError> {
        let page = page.unwrap_or(1);
        let page_size = size.unwrap_or(Self::DEFAULT_SIZE);
        if page == 0 || page > Self::MAX_PAGE {
            return Err(DomainError::new(
                "page",
                &page.to_string(),
                format!("must be 1..={}", Self::MAX_PAGE),
            ));
        }
        if page_size == 0 || page_size > Self::MAX_SIZE {
            return Err(DomainError::new(
                "page_size",
                &page_size.to_string(),
                format!("must be 1..={}", Self::MAX_SIZE),
            ));
        }
        Ok(Page { page, page_size })
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }

    pub fn limit(&self) -> u32 {
        self.page_size
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            page: 1,
            page_size: Self::DEFAULT_SIZE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ranges_parse_their_short_names_and_have_fixed_buckets() {
        let cases = [
            ("24h", 3_600, 24),
            ("7d", 21_600, 28),
            ("30d", 86_400, 30),
            ("365d", 604_800, 53),
        ];
        for (text, bucket, count) in cases {
            let r = TimeRange::parse(text).unwrap();
            assert_eq!(r.as_str(), text);
            assert_eq!(r.bucket_seconds(), bucket);
            assert_eq!(r.bucket_count(), count);
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{text}\""));
        }
        assert!(TimeRange::parse("1y").is_err());
    }

    #[test]
    fn the_blocklist_jail_is_the_only_blocklist_origin() {
        assert_eq!(Origin::of_jail(BLOCKLIST_JAIL), Origin::Blocklist);
        assert_eq!(Origin::of_jail("sshd"), Origin::Selfblock);
        assert_eq!(Origin::parse("selfblock").unwrap(), Origin::Selfblock);
        assert!(Origin::All.includes("sshd") && !Origin::Blocklist.includes("sshd"));
        assert!(Origin::parse("mine").is_err());
    }

    #[test]
    fn pages_default_to_the_first_hundred_and_cap_the_size() {
        let p = Page::new(None, None).unwrap();
        assert_eq!(
            (p.page, p.page_size, p.offset(), p.limit()),
            (1, 100, 0, 100)
        );
        assert_eq!(Page::new(Some(3), Some(50)).unwrap().offset(), 100);
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(None, Some(501)).is_err());
        assert!(Page::new(None, Some(0)).is_err());
    }
}
