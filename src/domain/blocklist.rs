//! Blocklists as text: reading a downloaded list into the set of addresses and networks it
//! names, and the values a blocklist source is made of (its URL, its schedule). Pure: no I/O,
//! no clock, no name resolution; the host's own addresses are handed in by the caller.
//!
//! A list is read line by line. Blank lines and lines starting with `#` or `;` are comments;
//! anything after a `#` or `;` on a line is an annotation (Spamhaus DROP writes
//! `1.2.3.0/24 ; SBL123`); of a CSV line only the first column counts, of a whitespace-separated
//! line only the first word. What is left must be an IPv4 or IPv6 address or network (FireHOL
//! netsets are exactly that). Entries are canonical (IPv4-mapped IPv6 becomes IPv4, a network's
//! host bits are cleared, `/32` and `/128` are plain addresses) and duplicates are dropped.
//! Entries that would ban the host itself (loopback, the host's addresses, the whole address
//! space) are refused and counted apart from unreadable lines.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::Serialize;

use super::DomainError;

/// How many unreadable or refused lines a [`ParsedList`] keeps as examples.
pub const EXAMPLES: usize = 10;

/// One address or network of a list, canonical. Its text is what fail2ban is given and what it
/// lists back (`1.2.3.4`, `1.2.3.0/24`, `2001:db8::/48`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlocklistEntry(IpNet);

impl BlocklistEntry {
    /// Reads one address or network (`1.2.3.4`, `1.2.3.0/24`, `::ffff:1.2.3.4`, `2001:db8::/32`).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty");
        }
        let net = match t.split_once('/') {
            Some((addr, prefix)) => {
                let addr = IpAddr::from_str(addr).map_err(|_| "not an IP address or network")?;
                let prefix: u8 = prefix
                    .parse()
                    .map_err(|_| "the prefix length is not a number")?;
                let addr = addr.to_canonical();
                // An IPv4-mapped network keeps its IPv4 part: ::ffff:1.2.3.0/120 is 1.2.3.0/24.
                let prefix = match (t.contains(':'), addr) {
                    (true, IpAddr::V4(_)) if prefix >= 96 => prefix - 96,
                    (true, IpAddr::V4(_)) => return Err("an IPv4-mapped network shorter than /96"),
                    _ => prefix,
                };
                IpNet::new(addr, prefix).map_err(|_| "the prefix length is too long")?
            }
            None => {
                let addr = IpAddr::from_str(t).map_err(|_| "not an IP address or network")?;
                IpNet::from(addr.to_canonical())
            }
        };
        Ok(Self(net.trunc()))
    }

    /// The network (a single address is a `/32` or `/128`).
    pub fn net(&self) -> IpNet {
        self.0
    }

    /// Whether this entry is one address.
    pub fn is_address(&self) -> bool {
        self.0.prefix_len() == self.0.max_prefix_len()
    }

    /// Why this entry must never be banned, if it must not.
    pub fn refusal(&self, host: &[IpAddr]) -> Option<&'static str> {
        let net = self.0;
        if net.prefix_len() == 0 {
            return Some("covers the whole address space");
        }
        let loopback = match net {
            IpNet::V4(n) => n.contains(&Ipv4Addr::new(127, 0, 0, 0)) || n.network().is_loopback(),
            IpNet::V6(n) => n.contains(&Ipv6Addr::LOCALHOST),
        };
        if loopback {
            return Some("covers loopback addresses");
        }
        let unspecified = match net {
            IpNet::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpNet::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        if net.contains(&unspecified) {
            return Some("covers the unspecified address");
        }
        if host.iter().any(|a| net.contains(&a.to_canonical())) {
            return Some("covers an address of this host");
        }
        None
    }
}

impl fmt::Display for BlocklistEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_address() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// One line that was not taken, with its 1-based number and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RejectedLine {
    pub line: usize,
    /// The line as written (at most 200 characters).
    pub text: String,
    pub reason: String,
}

/// What a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedList {
    /// Distinct entries, ordered.
    pub entries: BTreeSet<BlocklistEntry>,
    /// Lines holding an entry (before duplicates are dropped).
    pub valid_lines: usize,
    /// Lines that hold nothing readable as an address or network.
    pub invalid: usize,
    pub invalid_examples: Vec<RejectedLine>,
    /// Readable entries refused because banning them would hurt the host.
    pub refused: usize,
    pub refused_examples: Vec<RejectedLine>,
    /// Entries listed more than once (counted beyond the first).
    pub duplicates: usize,
}

impl ParsedList {
    /// How many entries are networks rather than single addresses.
    pub fn networks(&self) -> usize {
        self.entries.iter().filter(|e| !e.is_address()).count()
    }
}

/// The part of a line that should hold the entry, or `None` for a comment or blank line.
fn payload(line: &str) -> Option<&str> {
    let line = line.trim_start_matches('\u{feff}').trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
        return None;
    }
    let line = line.split(['#', ';']).next().unwrap_or(line);
    let first = line.split(',').next().unwrap_or(line).trim();
    let first = first.trim_matches(|c| c == '"' || c == '\'').trim();
    let word = first.split_whitespace().next().unwrap_or(first);
    Some(word)
}

fn shown(line: &str) -> String {
    line.chars().take(200).collect()
}

/// Reads a whole list. `host` holds the host's own addresses, which no entry may cover.
pub fn parse_list(text: &str, host: &[IpAddr]) -> ParsedList {
    let mut out = ParsedList::default();
    for (i, line) in text.lines().enumerate() {
        let Some(word) = payload(line) else { continue };
        match BlocklistEntry::parse(word) {
            Ok(entry) => {
                if let Some(why) = entry.refusal(host) {
                    out.refused += 1;
                    if out.refused_examples.len() < EXAMPLES {
                        out.refused_examples.push(RejectedLine {
                            line: i + 1,
                            text: shown(line),
                            reason: format!("{entry} {why}"),
                        });
                    }
                    continue;
                }
                out.valid_lines += 1;
                if !out.entries.insert(entry) {
                    out.duplicates += 1;
                }
            }
            Err(why) => {
                out.invalid += 1;
                if out.invalid_examples.len() < EXAMPLES {
                    out.invalid_examples.push(RejectedLine {
                        line: i + 1,
                        text: shown(line),
                        reason: why.to_string(),
                    });
                }
            }
        }
    }
    out
}

/// The URL of a source: http or https, with a host, no credentials, at most 2,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUrl(String);

impl SourceUrl {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim();
        let bad = |why: &str| DomainError::new("url", text, why.to_string());
        if t.len() > 2000 {
            return Err(bad("the URL is longer than 2,000 characters"));
        }
        let url = url::Url::parse(t).map_err(|e| bad(&format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("only http:// and https:// URLs are allowed"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("the URL has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials in the URL are not allowed"));
        }
        Ok(Self(url.to_string()))
    }

    /// The URL, parsed.
    pub fn url(&self) -> Option<url::Url> {
        url::Url::parse(&self.0).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// When a source is imported by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSchedule {
    /// Only on request.
    Manual,
    Hourly,
    Daily,
    Weekly,
    /// A 6-field cron expression (seconds first, UTC), as `tokio-cron-scheduler` reads it.
    Cron(String),
}

impl ImportSchedule {
    /// Reads `manual`, `hourly`, `daily`, `weekly` or a cron expression of 6 (or 7) fields made
    /// of digits, `*`, `/`, `,`, `-`, `?`, letters (month and weekday names) and `L`/`#`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "manual" => return Ok(Self::Manual),
            "hourly" => return Ok(Self::Hourly),
            "daily" => return Ok(Self::Daily),
            "weekly" => return Ok(Self::Weekly),
            _ => {}
        }
        let expr = t.split_whitespace().collect::<Vec<_>>().join(" ");
        match cron_parser().parse(&expr) {
            Ok(_) if expr.split(' ').count() == 6 => Ok(Self::Cron(expr)),
            Ok(_) => Err(DomainError::new(
                "schedule",
                text,
                "a cron expression needs 6 fields (seconds minutes hours day-of-month month \
                 day-of-week), e.g. `0 15 3 * * *`",
            )),
            Err(e) => Err(DomainError::new(
                "schedule",
                text,
                format!(
                    "expected manual, hourly, daily, weekly or a cron expression of 6 fields \
                     (seconds minutes hours day-of-month month day-of-week), e.g. `0 15 3 * * *`: {e}"
                ),
            )),
        }
    }

    /// The first time after `after` (epoch seconds, UTC) this schedule runs; `None` for manual.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let expr = self.cron()?;
        let cron = cron_parser().parse(&expr).ok()?;
        let start = chrono::DateTime::<chrono::Utc>::from_timestamp(after, 0)?;
        cron.find_next_occurrence(&start, false)
            .ok()
            .map(|t| t.timestamp())
    }

    /// The cron expression the scheduler runs, `None` for manual imports. Fixed schedules run a
    /// few minutes past the hour so that many installations do not hit a list at `:00`.
    pub fn cron(&self) -> Option<String> {
        match self {
            Self::Manual => None,
            Self::Hourly => Some("0 7 * * * *".into()),
            Self::Daily => Some("0 7 3 * * *".into()),
            Self::Weekly => Some("0 7 3 * * Mon".into()),
            Self::Cron(c) => Some(c.clone()),
        }
    }
}

impl fmt::Display for ImportSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manual => f.write_str("manual"),
            Self::Hourly => f.write_str("hourly"),
            Self::Daily => f.write_str("daily"),
            Self::Weekly => f.write_str("weekly"),
            Self::Cron(c) => f.write_str(c),
        }
    }
}

fn cron_parser() -> croner::parser::CronParser {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .build()
}

#[cfg(test)]
mod tests;
