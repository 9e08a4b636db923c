//! Which addresses may never be banned by hand: loopback, unspecified, multicast, broadcast and
//! link-local addresses, and the host's own addresses (read from its interfaces with
//! `getifaddrs` at the time of the request, so an address added later counts too). A ban of
//! such an address locks the host out of itself or does nothing useful.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::domain::{BanIp, DomainError};

/// `Ok` when `ip` may be banned, else a [`DomainError`] for the field `ip` saying why not.
pub fn check(ip: BanIp) -> Result<(), DomainError> {
    let addr = ip.ip();
    let reason = special_reason(addr).or_else(|| {
        host_addresses()
            .contains(&addr)
            .then_some("is an address of this host; banning it would lock the host out")
    });
    match reason {
        None => Ok(()),
        Some(why) => Err(DomainError::new(
            "ip",
            &addr.to_string(),
            format!("{addr} {why}"),
        )),
    }
}

/// Why an address is never a sensible ban, from its kind alone.
fn special_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        Some("is a loopback address")
    } else if ip.is_unspecified() {
        Some("is the unspecified address")
    } else if ip.is_broadcast() {
        Some("is the broadcast address")
    } else if ip.is_multicast() {
        Some("is a multicast address")
    } else if ip.is_link_local() {
        Some("is a link-local address")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        Some("is a loopback address")
    } else if ip.is_unspecified() {
        Some("is the unspecified address")
    } else if ip.is_multicast() {
        Some("is a multicast address")
    } else if ip.is_unicast_link_local() {
        Some("is a link-local address")
    } else {
        None
    }
}

/// The addresses of the host's interfaces (empty if they cannot be read).
pub fn host_addresses() -> HashSet<IpAddr> {
    let mut out = HashSet::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list that we free with freeifaddrs below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "cannot read the host's interface addresses"
        );
        return out;
    }
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a non-null node of the list returned by getifaddrs.
        let node = unsafe { &*cursor };
        if let Some(ip) = sockaddr_ip(node.ifa_addr) {
            out.insert(ip.to_canonical());
        }
        cursor = node.ifa_next;
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

fn sockaddr_ip(addr: *const libc::sockaddr) -> Option<IpAddr> {
    if addr.is_null() {
        return None;
    }
    // SAFETY: a non-null ifa_addr points to a sockaddr whose family says its real type.
    let family = i32::from(unsafe { (*addr).sa_family });
    match family {
        libc::AF_INET => {
            // SAFETY: the family is AF_INET, so this is a sockaddr_in.
            let sin = unsafe { &*(addr.cast::<libc::sockaddr_in>()) };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family is AF_INET6, so this is a sockaddr_in6.
            let sin6 = unsafe { &*(addr.cast::<libc::sockaddr_in6>()) };
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        check(BanIp::parse(text).unwrap()).is_err()
    }

    #[test]
    fn special_addresses_are_refused_and_ordinary_ones_pass() {
        for bad in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "169.254.1.2",
            "::1",
            "::",
            "ff02::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(refused(bad), "{bad} must be refused");
        }
        for good in ["192.0.2.10", "198.51.100.7", "2001:db8::10", "10.1.2.3"] {
            assert!(!refused(good), "{good} must be allowed");
        }
    }

    #[test]
    fn the_hosts_own_addresses_are_read_and_refused() {
        let own = host_addresses();
        assert!(own.contains(&IpAddr::from([127, 0, 0, 1])), "{own:?}");
        for ip in own {
            let err = check(BanIp::from(ip)).unwrap_err();
            assert_eq!(err.field, "ip");
        }
    }
}
