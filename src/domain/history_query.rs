//! A history search as BanGUI understands it: the parsed filters of `GET /api/v1/history` and of
//! its export (time range or from/to, jail, IP or CIDR, country, ASN, origin, host, state), the
//! order, the keyset cursor and the ban state of one row. Pure values: parsing every parameter
//! into a typed filter or a [`DomainError`] naming the parameter, the text ranges a CIDR covers
//! in the archive's `ip` column, and the state rule. No SQL runs here.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use utoipa::ToSchema;

use super::query::{Origin, TimeRange};
use super::{DomainError, JailName};

/// The widest IPv4 network a search accepts.
pub const MIN_V4_PREFIX: u8 = 8;
/// The widest IPv6 network a search accepts.
pub const MIN_V6_PREFIX: u8 = 32;

/// A ban's state at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BanState {
    /// Its end is in the future (or it is permanent) and nobody lifted it.
    Active,
    /// Its end has passed.
    Expired,
    /// It was unbanned before its end.
    Lifted,
}

impl BanState {
    pub fn parse(text: &str) -> Result<BanState, DomainError> {
        match text.trim() {
            "active" => Ok(BanState::Active),
            "expired" => Ok(BanState::Expired),
            "lifted" => Ok(BanState::Lifted),
            _ => Err(DomainError::new(
                "state",
                text,
                "expected one of active, expired, lifted",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BanState::Active => "active",
            BanState::Expired => "expired",
            BanState::Lifted => "lifted",
        }
    }

    /// The state of a ban at `now`: lifted when a lift was recorded, active while permanent
    /// (`bantime < 0`) or before its end, expired after.
    pub fn of(timeofban: i64, bantime: i64, lifted_at: Option<i64>, now: i64) -> BanState {
        if lifted_at.is_some() {
            BanState::Lifted
        } else if bantime < 0 || timeofban.saturating_add(bantime) > now {
            BanState::Active
        } else {
            BanState::Expired
        }
    }
}

/// Newest first (default) or oldest first; `(timeofban, id)` in both cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Newest,
    Oldest,
}

impl Order {
    pub fn parse(text: &str) -> Result<Order, DomainError> {
        match text.trim() {
            "newest" | "desc" => Ok(Order::Newest),
            "oldest" | "asc" => Ok(Order::Oldest),
            _ => Err(DomainError::new("order", text, "expected newest or oldest")),
        }
    }
}

/// Where to continue: the `(timeofban, id)` of the last row of the previous page. Its text is
/// `<timeofban>.<id>` and meant to be passed back as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub timeofban: i64,
    pub id: i64,
}

impl Cursor {
    pub fn parse(text: &str) -> Result<Cursor, DomainError> {
        let bad = || DomainError::new("cursor", text, "not a cursor returned by this API");
        let (t, id) = text.trim().split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            timeofban: t.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.timeofban, self.id)
    }
}

/// One address or a network of at least /8 (IPv4) or /32 (IPv6), host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFilter {
    Addr(IpAddr),
    Net(IpNet),
}

impl IpFilter {
    pub fn parse(text: &str) -> Result<IpFilter, DomainError> {
        let t = text.trim();
        let bad = |reason: &str| DomainError::new("ip", text, reason);
        let Some((addr, prefix)) = t.split_once('/') else {
            let ip: IpAddr = t
                .parse()
                .map_err(|_| bad("not an IPv4 or IPv6 address or CIDR network"))?;
            return Ok(IpFilter::Addr(ip.to_canonical()));
        };
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| bad("not an IPv4 or IPv6 address or CIDR network"))?;
        let ip = ip.to_canonical();
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| bad("the prefix length is not a number"))?;
        let (min, max) = if ip.is_ipv4() {
            (MIN_V4_PREFIX, 32)
        } else {
            (MIN_V6_PREFIX, 128)
        };
        if prefix > max {
            return Err(bad(&format!("the prefix must be at most /{max}")));
        }
        if prefix < min {
            return Err(bad(&format!(
                "networks wider than /{min} are refused for {}",
                if ip.is_ipv4() { "IPv4" } else { "IPv6" }
            )));
        }
        if prefix == max {
            return Ok(IpFilter::Addr(ip));
        }
        let net = IpNet::new(ip, prefix).map_err(|e| bad(&e.to_string()))?;
        Ok(IpFilter::Net(net.trunc()))
    }

    /// Whether an archived address (canonical text) is inside.
    pub fn contains(&self, ip: &str) -> bool {
        let Ok(addr) = ip.parse::<IpAddr>() else {
            return false;
        };
        match self {
            IpFilter::Addr(a) => *a == addr.to_canonical(),
            IpFilter::Net(n) => n.contains(&addr.to_canonical()),
        }
    }

    /// Half-open text ranges `[lo, hi)` of the `ip` column that hold every address of the
    /// filter (canonical text, as the archive stores it). For IPv4 they hold exactly those
    /// addresses; for an IPv6 network they are a superset that [`Self::contains`] narrows.
    pub fn text_ranges(&self) -> Vec<(String, String)> {
        match self {
            IpFilter::Addr(a) => {
                let s = a.to_string();
                let mut hi = s.clone();
                hi.push('\0');
                vec![(s, hi)]
            }
            IpFilter::Net(IpNet::V4(n)) => v4_ranges(n.network().octets(), n.prefix_len()),
            IpFilter::Net(IpNet::V6(n)) => {
                let seg = n.network().segments();
                let (g1, g2) = (seg[0], seg[1]);
                let mut prefixes = Vec::new();
                if g1 == 0 {
                    // Compressed forms start with "::" or "0:".
                    prefixes.push("::".to_string());
                    prefixes.push(format!("0:{g2:x}:"));
                    prefixes.push("0::".to_string());
                } else if g2 == 0 {
                    prefixes.push(format!("{g1:x}:0:"));
                    prefixes.push(format!("{g1:x}::"));
                } else {
                    prefixes.push(format!("{g1:x}:{g2:x}:"));
                }
                prefixes.into_iter().map(prefix_range).collect()
            }
        }
    }
}

/// `[p, p with its last character incremented)`: every text starting with `p`.
fn prefix_range(p: String) -> (String, String) {
    let mut hi = p.clone();
    if let Some(last) = hi.pop() {
        hi.push(char::from_u32(u32::from(last) + 1).unwrap_or(char::MAX));
    }
    (p, hi)
}

/// The dotted-quad text prefixes of an IPv4 network: whole octets fixed, and one prefix per
/// value of the partly fixed octet (at most 128).
fn v4_ranges(octets: [u8; 4], prefix: u8) -> Vec<(String, String)> {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    let head: Vec<String> = octets.iter().take(full).map(u8::to_string).collect();
    if rest == 0 {
        return vec![prefix_range(format!("{}.", head.join(".")))];
    }
    let base = octets.get(full).copied().unwrap_or(0);
    let span = 1u16 << (8 - rest);
    (0..span)
        .map(|i| {
            let v = u16::from(base) + i;
            let mut parts = head.clone();
            parts.push(v.to_string());
            let text = parts.join(".");
            if full == 3 {
                let mut hi = text.clone();
                hi.push('\0');
                (text, hi)
            } else {
                prefix_range(format!("{text}."))
            }
        })
        .collect()
}

/// The parsed filters of a history search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    /// Bans with `timeofban >= from`.
    pub from: Option<i64>,
    /// Bans with `timeofban < to`.
    pub to: Option<i64>,
    pub jail: Option<String>,
    pub ip: Option<IpFilter>,
    /// ISO code; `"unknown"` (stored as NULL) is not searchable.
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub origin: Origin,
    pub host: Option<String>,
    pub state: Option<BanState>,
}

/// A history search: filters, order, where to start and how many.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuery {
    pub filter: HistoryFilter,
    pub order: Order,
    pub cursor: Option<Cursor>,
    /// Rows to skip (page numbers); ignored with a cursor.
    pub offset: u64,
    pub limit: u32,
}

/// The query-string parameters as they arrive (all optional text).
#[derive(Debug, Clone, Default)]
pub struct RawHistoryParams<'a> {
    pub range: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub jail: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub country: Option<&'a str>,
    pub asn: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub host: Option<&'a str>,
    pub state: Option<&'a str>,
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// RFC 3339 (`2024-05-01T00:00:00Z`), a date (`2024-05-01`, midnight UTC) or epoch seconds.
pub fn parse_time(field: &'static str, text: &str) -> Result<i64, DomainError> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(dt) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(dt.and_utc().timestamp());
    }
    Err(DomainError::new(
        field,
        text,
        "expected RFC 3339 (2024-05-01T00:00:00Z), a date (2024-05-01) or epoch seconds",
    ))
}

impl HistoryFilter {
    /// Parses every parameter; the error names the first bad one. `now` anchors `range`.
    pub fn parse(p: &RawHistoryParams<'_>, now: i64) -> Result<HistoryFilter, DomainError> {
        let mut f = HistoryFilter::default();
        if let Some(r) = present(p.range) {
            if present(p.from).is_some() {
                return Err(DomainError::new(
                    "range",
                    r,
                    "give either range or from/to, not both",
                ));
            }
            f.from = Some(now - TimeRange::parse(r)?.seconds());
        }
        if let Some(t) = present(p.from) {
            f.from = Some(parse_time("from", t)?);
        }
        if let Some(t) = present(p.to) {
            f.to = Some(parse_time("to", t)?);
        }
        if let (Some(a), Some(b)) = (f.from, f.to)
            && a >= b
        {
            return Err(DomainError::new(
                "to",
                p.to.unwrap_or_default(),
                "must be after from",
            ));
        }
        if let Some(j) = present(p.jail) {
            f.jail = Some(JailName::parse(j)?.as_str().to_string());
        }
        if let Some(ip) = present(p.ip) {
            f.ip = Some(IpFilter::parse(ip)?);
        }
        if let Some(c) = present(p.country) {
            if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                return Err(DomainError::new(
                    "country",
                    c,
                    "not a two-letter ISO country code",
                ));
            }
            f.country = Some(c.to_ascii_uppercase());
        }
        if let Some(a) = present(p.asn) {
            let digits = a
                .strip_prefix("AS")
                .or_else(|| a.strip_prefix("as"))
                .unwrap_or(a);
            f.asn = Some(
                digits
                    .parse()
                    .map_err(|_| DomainError::new("asn", a, "not an AS number (e.g. 64496)"))?,
            );
        }
        if let Some(o) = present(p.origin) {
            f.origin = Origin::parse(o)?;
        }
        if let Some(h) = present(p.host) {
            if h.len() > 128 || h.chars().any(char::is_control) {
                return Err(DomainError::new("host", h, "not a host name"));
            }
            f.host = Some(h.to_string());
        }
        if let Some(s) = present(p.state) {
            f.state = Some(BanState::parse(s)?);
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_end_permanence_and_lifts() {
        assert_eq!(BanState::of(100, 600, None, 650), BanState::Active);
        assert_eq!(BanState::of(100, 600, None, 700), BanState::Expired);
        assert_eq!(BanState::of(100, -1, None, 1_000_000), BanState::Active);
        assert_eq!(BanState::of(100, -1, Some(5), 1_000_000), BanState::Lifted);
        assert_eq!(BanState::of(100, 600, Some(200), 650), BanState::Lifted);
    }

    #[test]
    fn cidr_wider_than_the_limits_is_refused_and_names_ip() {
        assert_eq!(IpFilter::parse("10.0.0.0/7").unwrap_err().field, "ip");
        assert!(IpFilter::parse("10.0.0.0/8").is_ok());
        assert!(IpFilter::parse("2001:db8::/31").is_err());
        assert!(IpFilter::parse("2001:db8::/32").is_ok());
        assert!(IpFilter::parse("10.0.0.0/33").is_err());
        assert!(IpFilter::parse("banana").is_err());
        assert_eq!(
            IpFilter::parse("10.1.2.3/32").unwrap(),
            IpFilter::Addr("10.1.2.3".parse().unwrap())
        );
    }

    #[test]
    fn ipv4_text_ranges_hold_exactly_the_network() {
        let f = IpFilter::parse("10.4.0.0/14").unwrap();
        let ranges = f.text_ranges();
        assert_eq!(ranges.len(), 4);
        let inside = |ip: &str| {
            ranges
                .iter()
                .any(|(lo, hi)| ip >= lo.as_str() && ip < hi.as_str())
        };
        for ip in ["10.4.0.1", "10.7.255.255", "10.5.1.1"] {
            assert!(inside(ip) && f.contains(ip), "{ip}");
        }
        for ip in [
            "10.8.0.1",
            "10.3.9.9",
            "10.40.0.1",
            "110.4.0.1",
            "10.45.0.1",
        ] {
            assert!(!inside(ip) && !f.contains(ip), "{ip}");
        }
        let last = IpFilter::parse("192.0.2.128/25").unwrap();
        assert_eq!(last.text_ranges().len(), 128);
    }

    #[test]
    fn ipv6_text_ranges_hold_the_network() {
        for (net, ip) in [
            ("2001:db8::/32", "2001:db8::1"),
            ("2001:db8:5::/48", "2001:db8:5:1::9"),
            ("2001:0::/32", "2001::7"),
        ] {
            let f = IpFilter::parse(net).unwrap();
            let canon = ip.parse::<IpAddr>().unwrap().to_string();
            assert!(f.contains(&canon));
            assert!(
                f.text_ranges()
                    .iter()
                    .any(|(lo, hi)| canon.as_str() >= lo.as_str() && canon.as_str() < hi.as_str()),
                "{net} {canon}"
            );
        }
    }

    #[test]
    fn parameters_parse_or_name_themselves() {
        let ok = HistoryFilter::parse(
            &RawHistoryParams {
                range: Some("7d"),
                jail: Some("sshd"),
                ip: Some("198.51.100.0/24"),
                country: Some("de"),
                asn: Some("AS64496"),
                state: Some("lifted"),
                ..Default::default()
            },
            1_000_000,
        )
        .unwrap();
        assert_eq!(ok.from, Some(1_000_000 - 7 * 86_400));
        assert_eq!(ok.country.as_deref(), Some("DE"));
        assert_eq!(ok.asn, Some(64496));
        let field = |p: RawHistoryParams<'_>| HistoryFilter::parse(&p, 0).unwrap_err().field;
        assert_eq!(
            field(RawHistoryParams {
                from: Some("yesterday"),
                ..Default::default()
            }),
            "from"
        );
        assert_eq!(
            field(RawHistoryParams {
                country: Some("Germany"),
                ..Default::default()
            }),
            "country"
        );
        assert_eq!(
            field(RawHistoryParams {
                state: Some("running"),
                ..Default::default()
            }),
            "state"
        );
        assert_eq!(Cursor::parse("x").unwrap_err().field, "cursor");
        let c = Cursor::parse("1700000000.42").unwrap();
        assert_eq!(c.to_string(), "1700000000.42");
        assert_eq!(parse_time("from", "2024-05-01").unwrap(), 1_714_521_600);
    }
}
