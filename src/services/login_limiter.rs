//! Login throttling per client IP: the first few failures are free, then every further failure
//! doubles the wait (1 s, 2 s, 4 s ... capped at 5 minutes) until a success clears the record.
//! Memory is bounded: at most `MAX_TRACKED` addresses, and a cleanup job drops old records.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;

const FREE_FAILURES: u32 = 3;
const MAX_WAIT: Duration = Duration::from_secs(300);
const MAX_TRACKED: usize = 100_000;
/// A record untouched for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    blocked_until: Option<Instant>,
    last_failure: Instant,
}

#[derive(Debug, Default)]
pub struct LoginLimiter {
    records: DashMap<IpAddr, Record>,
}

impl LoginLimiter {
    /// `Err(seconds to wait)` while the address is blocked.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        match self.records.get(&ip).and_then(|r| r.blocked_until) {
            Some(until) if until > now => Err((until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt; returns the wait imposed from now on (zero while free).
    pub fn failure(&self, ip: IpAddr) -> Duration {
        self.failure_at(ip, Instant::now())
    }

    fn failure_at(&self, ip: IpAddr, now: Instant) -> Duration {
        if self.records.len() >= MAX_TRACKED && !self.records.contains_key(&ip) {
            self.cleanup_at(now);
        }
        let mut entry = self.records.entry(ip).or_insert(Record {
            failures: 0,
            blocked_until: None,
            last_failure: now,
        });
        entry.failures += 1;
        entry.last_failure = now;
        let wait = match entry.failures.checked_sub(FREE_FAILURES + 1) {
            None => Duration::ZERO,
            Some(extra) => Duration::from_secs(1u64 << extra.min(20)).min(MAX_WAIT),
        };
        entry.blocked_until = (wait > Duration::ZERO).then_some(now + wait);
        wait
    }

    pub fn success(&self, ip: IpAddr) {
        self.records.remove(&ip);
    }

    /// Drops records that are no longer blocking and are old; returns how many remain.
    pub fn cleanup(&self) -> usize {
        self.cleanup_at(Instant::now())
    }

    fn cleanup_at(&self, now: Instant) -> usize {
        self.records.retain(|_, r| {
            r.blocked_until.is_some_and(|u| u > now)
                || now.duration_since(r.last_failure) < FORGET_AFTER
        });
        self.records.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_are_free_then_the_wait_doubles_up_to_five_minutes() {
        let l = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.failure_at(ip, t0), Duration::ZERO);
            assert!(l.check_at(ip, t0).is_ok());
        }
        assert_eq!(l.failure_at(ip, t0), Duration::from_secs(1));
        assert_eq!(l.check_at(ip, t0), Err(1));
        assert_eq!(l.failure_at(ip, t0), Duration::from_secs(2));
        assert_eq!(l.failure_at(ip, t0), Duration::from_secs(4));
        for _ in 0..30 {
            l.failure_at(ip, t0);
        }
        assert_eq!(l.failure_at(ip, t0), MAX_WAIT);
        assert!(
            l.check_at(ip, t0 + MAX_WAIT + Duration::from_secs(1))
                .is_ok()
        );
    }

    #[test]
    fn a_success_clears_the_record_and_other_addresses_are_unaffected() {
        let l = LoginLimiter::default();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "2001:db8::1".parse().expect("ip");
        for _ in 0..5 {
            l.failure(a);
        }
        assert!(l.check(a).is_err());
        assert!(l.check(b).is_ok());
        l.success(a);
        assert!(l.check(a).is_ok());
    }
}
