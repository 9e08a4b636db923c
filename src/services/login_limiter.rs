//! Throttles for the public credential endpoints. [`Backoff`] is the mechanism: per key, the
//! first few failures are free, then every further failure doubles the wait (1 s, 2 s, 4 s ...
//! capped at 5 minutes). [`LoginLimiter`] applies it twice: per (client address, user name),
//! which a successful login for that same name clears, and per client address alone with a
//! higher allowance, which a success never clears. So failures against one account are not
//! forgiven by logging in to another, and spraying many names from one address still meets a
//! wall. IPv6 clients count per /64 network ([`throttle_key`]). Memory is bounded: at most `MAX_TRACKED` keys each, and a cleanup job drops old records.

use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Failures against one user name from one address before the wait starts.
const FREE_FAILURES_PER_ACCOUNT: u32 = 3;
/// Failures from one address, whatever the name and whatever succeeded in between, before the
/// wait starts. Forgotten only [`FORGET_AFTER`] after the last failure.
const FREE_FAILURES_PER_ADDRESS: u32 = 20;
const MAX_WAIT: Duration = Duration::from_secs(300);
const MAX_TRACKED: usize = 100_000;
/// A record untouched for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// User names are compared case-insensitively and cut to this length for the key.
const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    blocked_until: Option<Instant>,
    last_failure: Instant,
}

/// What one more failure did to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Failures counted for the key, this one included.
    pub count: u32,
    /// The wait imposed from now on (zero while failures are still free).
    pub wait: Duration,
}

/// The address a throttle counts against: an IPv4 address as is, an IPv6 address by its /64
/// network, because one IPv6 host usually holds a whole /64 and could otherwise rotate through it.
pub fn throttle_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Exponential back-off per key after `free` failures.
#[derive(Debug)]
pub struct Backoff<K: Eq + Hash> {
    records: DashMap<K, Record>,
    free: u32,
}

impl<K: Eq + Hash + Clone> Backoff<K> {
    pub fn new(free: u32) -> Self {
        Self {
            records: DashMap::new(),
            free,
        }
    }

    /// `Err(seconds to wait)` while the key is blocked.
    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), u64> {
        match self.records.get(key).and_then(|r| r.blocked_until) {
            Some(until) if until > now => Err((until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a failure for `key`.
    pub fn failure_at(&self, key: &K, now: Instant) -> Failure {
        if self.records.len() >= MAX_TRACKED && !self.records.contains_key(key) {
            self.cleanup_at(now);
        }
        let mut entry = self.records.entry(key.clone()).or_insert(Record {
            failures: 0,
            blocked_until: None,
            last_failure: now,
        });
        // A record whose last failure is older than the window starts again from zero.
        if now.duration_since(entry.last_failure) >= FORGET_AFTER
            && entry.blocked_until.is_none_or(|u| u <= now)
        {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure = now;
        let wait = match entry.failures.checked_sub(self.free + 1) {
            None => Duration::ZERO,
            Some(extra) => Duration::from_secs(1u64 << extra.min(20)).min(MAX_WAIT),
        };
        entry.blocked_until = (wait > Duration::ZERO).then_some(now + wait);
        Failure {
            count: entry.failures,
            wait,
        }
    }

    pub fn clear(&self, key: &K) {
        self.records.remove(key);
    }

    /// Drops records that are no longer blocking and are old; returns how many remain.
    pub fn cleanup_at(&self, now: Instant) -> usize {
        self.records.retain(|_, r| {
            r.blocked_until.is_some_and(|u| u > now)
                || now.duration_since(r.last_failure) < FORGET_AFTER
        });
        self.records.len()
    }
}

/// The login throttle: per (address, user name) and per address.
#[derive(Debug)]
pub struct LoginLimiter {
    accounts: Backoff<(IpAddr, String)>,
    addresses: Backoff<IpAddr>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            accounts: Backoff::new(FREE_FAILURES_PER_ACCOUNT),
            addresses: Backoff::new(FREE_FAILURES_PER_ADDRESS),
        }
    }
}

fn account_key(ip: IpAddr, username: &str) -> (IpAddr, String) {
    let name = username
        .trim()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .to_lowercase();
    (throttle_key(ip), name)
}

impl LoginLimiter {
    /// `Err(seconds to wait)` while this address, or this name from this address, is blocked.
    pub fn check(&self, ip: IpAddr, username: &str) -> Result<(), u64> {
        self.check_at(ip, username, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, username: &str, now: Instant) -> Result<(), u64> {
        let account = self.accounts.check_at(&account_key(ip, username), now);
        let address = self.addresses.check_at(&throttle_key(ip), now);
        match (account, address) {
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(a), Ok(())) | (Ok(()), Err(a)) => Err(a),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    /// Records a failed attempt; returns the wait imposed from now on (zero while free).
    pub fn failure(&self, ip: IpAddr, username: &str) -> Duration {
        self.failure_at(ip, username, Instant::now())
    }

    fn failure_at(&self, ip: IpAddr, username: &str, now: Instant) -> Duration {
        let account = self.accounts.failure_at(&account_key(ip, username), now);
        let address = self.addresses.failure_at(&throttle_key(ip), now);
        account.wait.max(address.wait)
    }

    /// A successful login clears the failures against that name from that address only; the
    /// per-address count stays until it ages out.
    pub fn success(&self, ip: IpAddr, username: &str) {
        self.accounts.clear(&account_key(ip, username));
    }

    /// Drops records that are no longer blocking and are old; returns how many remain.
    pub fn cleanup(&self) -> usize {
        let now = Instant::now();
        self.accounts.cleanup_at(now) + self.addresses.cleanup_at(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn three_failures_are_free_then_the_wait_doubles_up_to_five_minutes() {
        let l = LoginLimiter::default();
        let a = ip("192.0.2.1");
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.failure_at(a, "admin", t0), Duration::ZERO);
            assert!(l.check_at(a, "admin", t0).is_ok());
        }
        assert_eq!(l.failure_at(a, "admin", t0), Duration::from_secs(1));
        assert_eq!(l.check_at(a, "admin", t0), Err(1));
        assert_eq!(l.failure_at(a, "admin", t0), Duration::from_secs(2));
        assert_eq!(l.failure_at(a, "admin", t0), Duration::from_secs(4));
        for _ in 0..30 {
            l.failure_at(a, "admin", t0);
        }
        assert_eq!(l.failure_at(a, "admin", t0), MAX_WAIT);
        assert!(
            l.check_at(a, "admin", t0 + MAX_WAIT + Duration::from_secs(1))
                .is_ok()
        );
    }

    #[test]
    fn a_success_clears_only_that_name_and_other_addresses_are_unaffected() {
        let l = LoginLimiter::default();
        let (a, b) = (ip("192.0.2.1"), ip("2001:db8::1"));
        for _ in 0..5 {
            l.failure(a, "admin");
        }
        assert!(l.check(a, "admin").is_err());
        assert!(l.check(b, "admin").is_ok());
        l.success(a, "bob");
        assert!(
            l.check(a, "admin").is_err(),
            "logging in as bob does not forgive failures against admin"
        );
        l.success(a, "Admin");
        assert!(l.check(a, "admin").is_ok());
    }

    #[test]
    fn failures_against_one_name_are_not_reset_by_successes_for_another() {
        let l = LoginLimiter::default();
        let a = ip("192.0.2.7");
        let t0 = Instant::now();
        let mut blocked = false;
        for _ in 0..3 {
            for _ in 0..3 {
                blocked |= l.failure_at(a, "admin", t0) > Duration::ZERO;
            }
            l.success(a, "mallory");
        }
        assert!(
            blocked,
            "3 failures + 1 own login, repeated, meets the wait"
        );
        assert!(l.check_at(a, "admin", t0).is_err());
    }

    #[test]
    fn spraying_many_names_from_one_address_meets_the_address_ceiling_which_a_success_keeps() {
        let l = LoginLimiter::default();
        let a = ip("198.51.100.3");
        let t0 = Instant::now();
        for n in 0..FREE_FAILURES_PER_ADDRESS {
            assert_eq!(l.failure_at(a, &format!("user{n}"), t0), Duration::ZERO);
        }
        l.success(a, "mallory");
        assert_eq!(l.failure_at(a, "another", t0), Duration::from_secs(1));
        assert!(l.check_at(a, "anyone", t0).is_err());
    }

    #[test]
    fn ipv6_addresses_count_per_64_network() {
        assert_eq!(
            throttle_key(ip("2001:db8:1:2:aaaa::1")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(throttle_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let l = LoginLimiter::default();
        for n in 0..5 {
            l.failure(ip(&format!("2001:db8::{n}")), "admin");
        }
        assert!(l.check(ip("2001:db8::ff"), "admin").is_err());
    }

    #[test]
    fn old_failures_age_out() {
        let b: Backoff<u8> = Backoff::new(1);
        let t0 = Instant::now();
        b.failure_at(&1, t0);
        let later = t0 + FORGET_AFTER + Duration::from_secs(1);
        assert_eq!(b.failure_at(&1, later).count, 1);
        assert_eq!(b.cleanup_at(later + FORGET_AFTER * 2), 0);
    }
}
