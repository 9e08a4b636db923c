//! The rules of one channel: which kinds of notice, which jails and countries reach it, from
//! how many bans of one address on (repeat offenders), the quiet hours during which it stays
//! silent (notices are held and summarised afterwards), and the digest interval: the channel
//! sends at most one message per interval.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::notice::{Notice, NoticeKind};
use crate::domain::{DomainError, JailName};

/// Bounds of the digest interval in seconds.
pub const MIN_INTERVAL_SECONDS: u32 = 1;
pub const MAX_INTERVAL_SECONDS: u32 = 86_400;
const MAX_LIST: usize = 256;

/// A daily window in UTC, `HH:MM` to `HH:MM`; it may wrap midnight (`22:00`–`07:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuietHours {
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start: String,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end: String,
}

impl QuietHours {
    fn minute(text: &str, field: &'static str) -> Result<u32, DomainError> {
        let bad = || DomainError::new(field, text, "expected HH:MM in UTC (00:00 to 23:59)");
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(h * 60 + m)
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        Self::minute(&self.start, "rules.quiet_hours.start")?;
        Self::minute(&self.end, "rules.quiet_hours.end")?;
        Ok(())
    }

    /// Whether the epoch second `at` falls inside the window (start inclusive, end exclusive;
    /// equal start and end mean no quiet time).
    pub fn contains(&self, at: i64) -> bool {
        let (Ok(start), Ok(end)) = (
            Self::minute(&self.start, "start"),
            Self::minute(&self.end, "end"),
        ) else {
            return false;
        };
        let minute = u32::try_from(at.rem_euclid(86_400) / 60).unwrap_or(0);
        if start <= end {
            (start..end).contains(&minute)
        } else {
            minute >= start || minute < end
        }
    }
}

fn default_events() -> Vec<NoticeKind> {
    vec![NoticeKind::Ban]
}

fn default_min_ban_count() -> u32 {
    1
}

fn default_interval() -> u32 {
    300
}

/// What reaches one channel and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Kinds of notice this channel receives (default: bans only).
    #[serde(default = "default_events")]
    pub events: Vec<NoticeKind>,
    /// Jails whose notices are sent; empty means every jail (notices without a jail always pass).
    #[serde(default)]
    #[schema(schema_with = super::schema::jail_list)]
    pub jails: Vec<String>,
    /// ISO 3166-1 alpha-2 countries whose bans are sent; empty means every country.
    #[serde(default)]
    #[schema(schema_with = super::schema::country_list)]
    pub countries: Vec<String>,
    /// Bans are sent only from this many archived bans of the address on (1: every ban).
    #[serde(default = "default_min_ban_count")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub min_ban_count: u32,
    /// Held back during this UTC window and summarised when it ends.
    #[serde(default, deserialize_with = "super::from_optional_object")]
    pub quiet_hours: Option<QuietHours>,
    /// At most one message per this many seconds; notices in between go out as one digest.
    #[serde(default = "default_interval")]
    #[schema(minimum = 1, maximum = 86400)]
    pub digest_interval_seconds: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            events: default_events(),
            jails: Vec::new(),
            countries: Vec::new(),
            min_ban_count: 1,
            quiet_hours: None,
            digest_interval_seconds: default_interval(),
        }
    }
}

impl Rules {
    /// Checks every field and returns the rules in canonical form (sorted, deduplicated,
    /// countries upper-case).
    pub fn validated(self) -> Result<Self, DomainError> {
        let events: BTreeSet<NoticeKind> = self.events.into_iter().collect();
        if self.jails.len() > MAX_LIST || self.countries.len() > MAX_LIST {
            return Err(DomainError::new(
                "rules",
                "",
                format!("at most {MAX_LIST} jails and {MAX_LIST} countries"),
            ));
        }
        let mut jails = BTreeSet::new();
        for jail in &self.jails {
            jails.insert(
                JailName::parse(jail)
                    .map_err(|e| DomainError::new("rules.jails", jail, e.reason))?
                    .as_str()
                    .to_string(),
            );
        }
        let mut countries = BTreeSet::new();
        for country in &self.countries {
            let code = country.to_ascii_uppercase();
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(DomainError::new(
                    "rules.countries",
                    country,
                    "expected an ISO 3166-1 alpha-2 code such as DE",
                ));
            }
            countries.insert(code);
        }
        if self.min_ban_count == 0 || self.min_ban_count > 1_000_000 {
            return Err(DomainError::new(
                "rules.min_ban_count",
                &self.min_ban_count.to_string(),
                "expected 1 to 1000000",
            ));
        }
        if !(MIN_INTERVAL_SECONDS..=MAX_INTERVAL_SECONDS).contains(&self.digest_interval_seconds) {
            return Err(DomainError::new(
                "rules.digest_interval_seconds",
                &self.digest_interval_seconds.to_string(),
                format!("expected {MIN_INTERVAL_SECONDS} to {MAX_INTERVAL_SECONDS}"),
            ));
        }
        if let Some(quiet) = &self.quiet_hours {
            quiet.validate()?;
        }
        Ok(Self {
            events: events.into_iter().collect(),
            jails: jails.into_iter().collect(),
            countries: countries.into_iter().collect(),
            ..self
        })
    }

    /// Whether a notice passes the filters (kind, jail, country, repeat count); quiet hours and
    /// the interval decide *when*, not *whether*.
    pub fn accepts(&self, notice: &Notice) -> bool {
        if !self.events.contains(&notice.kind) {
            return false;
        }
        if let Some(jail) = &notice.jail
            && !self.jails.is_empty()
            && !self.jails.iter().any(|j| j == jail)
        {
            return false;
        }
        if matches!(notice.kind, NoticeKind::Ban | NoticeKind::Unban) {
            if !self.countries.is_empty()
                && !notice
                    .country
                    .as_ref()
                    .is_some_and(|c| self.countries.iter().any(|x| x == c))
            {
                return false;
            }
            if notice.kind == NoticeKind::Ban
                && self.min_ban_count > 1
                && notice.ban_count.unwrap_or(1) < u64::from(self.min_ban_count)
            {
                return false;
            }
        }
        true
    }

    /// Whether `at` (epoch seconds) is inside the quiet hours.
    pub fn is_quiet(&self, at: i64) -> bool {
        self.quiet_hours.as_ref().is_some_and(|q| q.contains(at))
    }

    /// Whether bans must carry their archived count for these rules to decide.
    pub fn needs_ban_count(&self) -> bool {
        self.min_ban_count > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(jail: &str, country: Option<&str>, count: u64) -> Notice {
        let mut n = Notice::new(NoticeKind::Ban, 0);
        n.jail = Some(jail.into());
        n.ip = "192.0.2.1".parse().ok();
        n.country = country.map(str::to_string);
        n.ban_count = Some(count);
        n
    }

    #[test]
    fn rules_are_canonicalised_and_bad_values_name_their_field() {
        let rules = Rules {
            countries: vec!["de".into(), "DE".into(), "fr".into()],
            jails: vec!["sshd".into(), "sshd".into()],
            ..Rules::default()
        }
        .validated()
        .unwrap();
        assert_eq!(rules.countries, vec!["DE", "FR"]);
        assert_eq!(rules.jails, vec!["sshd"]);
        let bad = Rules {
            countries: vec!["Germany".into()],
            ..Rules::default()
        };
        assert_eq!(bad.validated().unwrap_err().field, "rules.countries");
        let bad = Rules {
            digest_interval_seconds: 0,
            ..Rules::default()
        };
        assert_eq!(
            bad.validated().unwrap_err().field,
            "rules.digest_interval_seconds"
        );
        let bad = Rules {
            quiet_hours: Some(QuietHours {
                start: "24:00".into(),
                end: "07:00".into(),
            }),
            ..Rules::default()
        };
        assert_eq!(
            bad.validated().unwrap_err().field,
            "rules.quiet_hours.start"
        );
    }

    #[test]
    fn filters_on_kind_jail_country_and_repeat_count() {
        let rules = Rules {
            jails: vec!["sshd".into()],
            countries: vec!["DE".into()],
            min_ban_count: 3,
            ..Rules::default()
        };
        assert!(rules.accepts(&ban("sshd", Some("DE"), 3)));
        assert!(
            !rules.accepts(&ban("sshd", Some("DE"), 2)),
            "not yet a repeat offender"
        );
        assert!(!rules.accepts(&ban("nginx", Some("DE"), 5)), "other jail");
        assert!(!rules.accepts(&ban("sshd", Some("FR"), 5)), "other country");
        assert!(!rules.accepts(&ban("sshd", None, 5)), "unknown country");
        let mut unban = ban("sshd", Some("DE"), 1);
        unban.kind = NoticeKind::Unban;
        assert!(!rules.accepts(&unban), "unbans are not among the events");
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = QuietHours {
            start: "22:00".into(),
            end: "07:00".into(),
        };
        let at = |h: i64, m: i64| 86_400 * 10 + h * 3600 + m * 60;
        assert!(q.contains(at(23, 30)));
        assert!(q.contains(at(0, 0)));
        assert!(q.contains(at(6, 59)));
        assert!(!q.contains(at(7, 0)));
        assert!(!q.contains(at(12, 0)));
        assert!(q.contains(at(22, 0)));
        let day = QuietHours {
            start: "09:00".into(),
            end: "17:00".into(),
        };
        assert!(day.contains(at(9, 0)) && !day.contains(at(17, 0)) && !day.contains(at(8, 59)));
    }
}
