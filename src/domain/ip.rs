//! IP addresses and networks as BanGUI accepts them. Everything that reaches fail2ban is parsed
//! and canonicalised here first (fail2ban's `banip` accepts hostnames and garbage). Owns parsing
//! and canonical text only; it must not resolve names or talk to anything.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::DomainError;

/// One host address that may be banned: IPv4 or IPv6; an IPv4-mapped IPv6 address becomes
/// IPv4. Networks, hostnames, zone ids and empty strings are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BanIp(IpAddr);

impl BanIp {
    pub fn parse(text: &str) -> Result<BanIp, DomainError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DomainError::new("ip", text, "an IP address is required"));
        }
        if t.contains('/') {
            return Err(DomainError::new(
                "ip",
                text,
                "a network (CIDR) cannot be banned; give a single address",
            ));
        }
        if t.contains('%') {
            return Err(DomainError::new(
                "ip",
                text,
                "zone ids are not allowed in an address",
            ));
        }
        match IpAddr::from_str(t) {
            Ok(ip) => Ok(BanIp(ip.to_canonical())),
            Err(_) => Err(DomainError::new(
                "ip",
                text,
                "not an IPv4 or IPv6 address (hostnames are not accepted)",
            )),
        }
    }

    pub fn ip(&self) -> IpAddr {
        self.0
    }
}

impl From<IpAddr> for BanIp {
    fn from(ip: IpAddr) -> Self {
        BanIp(ip.to_canonical())
    }
}

impl fmt::Display for BanIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for BanIp {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BanIp::parse(s)
    }
}

impl TryFrom<String> for BanIp {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        BanIp::parse(&s)
    }
}

impl From<BanIp> for String {
    fn from(ip: BanIp) -> String {
        ip.to_string()
    }
}

/// An entry of a jail's ignore list: one address or a network, never a /0 network (it would make
/// the jail ignore everything, and fail2ban lists it as a bare address). Host bits of a network are
/// cleared (`10.1.2.3/8` becomes `10.0.0.0/8`); a full-length prefix is shown as a bare address,
/// which is how fail2ban lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IgnoreTarget(IpNet);

impl IgnoreTarget {
    pub fn parse(text: &str) -> Result<IgnoreTarget, DomainError> {
        let t = text.trim();
        let Some((addr, prefix)) = t.split_once('/') else {
            let ip = BanIp::parse(t).map_err(|e| DomainError::new("ignoreip", text, e.reason))?;
            return Ok(IgnoreTarget(IpNet::from(ip.ip())));
        };
        let ip = BanIp::parse(addr).map_err(|e| DomainError::new("ignoreip", text, e.reason))?;
        let max = if ip.ip().is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (1..=max).contains(p))
            .ok_or_else(|| {
                DomainError::new(
                    "ignoreip",
                    text,
                    format!(
                        "the prefix must be 1..={max}; a /0 network would ignore every address"
                    ),
                )
            })?;
        let net = IpNet::new(ip.ip(), prefix)
            .map_err(|e| DomainError::new("ignoreip", text, e.to_string()))?;
        Ok(IgnoreTarget(net.trunc()))
    }

    pub fn net(&self) -> IpNet {
        self.0
    }
}

impl fmt::Display for IgnoreTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            self.0.addr().fmt(f)
        } else {
            self.0.fmt(f)
        }
    }
}

impl FromStr for IgnoreTarget {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IgnoreTarget::parse(s)
    }
}

impl TryFrom<String> for IgnoreTarget {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IgnoreTarget::parse(&s)
    }
}

impl From<IgnoreTarget> for String {
    fn from(t: IgnoreTarget) -> String {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_and_ipv6_addresses_are_accepted_and_trimmed() {
        assert_eq!(BanIp::parse(" 1.2.3.4 ").unwrap().to_string(), "1.2.3.4");
        assert_eq!(
            BanIp::parse("2001:DB8:0:0::1").unwrap().to_string(),
            "2001:db8::1"
        );
    }

    #[test]
    fn an_ipv4_mapped_address_becomes_ipv4() {
        assert_eq!(
            BanIp::parse("::ffff:192.0.2.7").unwrap().to_string(),
            "192.0.2.7"
        );
    }

    #[test]
    fn networks_hostnames_zone_ids_and_empty_strings_are_rejected() {
        for bad in [
            "",
            "  ",
            "10.0.0.0/8",
            "example.com",
            "fe80::1%eth0",
            "1.2.3",
            "1.2.3.4.5",
        ] {
            let err = BanIp::parse(bad).unwrap_err();
            assert_eq!(err.field, "ip", "{bad}");
        }
    }

    #[test]
    fn a_ban_ip_serialises_as_its_canonical_text_and_deserialises_through_parse() {
        let ip: BanIp = serde_json::from_str("\"::ffff:10.0.0.1\"").unwrap();
        assert_eq!(serde_json::to_string(&ip).unwrap(), "\"10.0.0.1\"");
        assert!(serde_json::from_str::<BanIp>("\"nope\"").is_err());
    }

    #[test]
    fn ignore_targets_take_addresses_and_networks_and_clear_host_bits() {
        assert_eq!(
            IgnoreTarget::parse("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            IgnoreTarget::parse("127.0.0.1").unwrap().to_string(),
            "127.0.0.1"
        );
        assert_eq!(
            IgnoreTarget::parse("127.0.0.1/32").unwrap().to_string(),
            "127.0.0.1"
        );
        assert_eq!(
            IgnoreTarget::parse("2001:db8::5/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "host/8",
            "",
            "::/129",
            "0.0.0.0/0",
            "1.2.3.4/0",
            "::/0",
            "2001:db8::/0",
        ] {
            assert_eq!(
                IgnoreTarget::parse(bad).unwrap_err().field,
                "ignoreip",
                "{bad}"
            );
        }
    }
}
