//! Ban state you can trust: records when an archived ban was lifted (unbanned before its end).
//! Unbans made through BanGUI are recorded right after fail2ban confirmed them
//! ([`HistoryLifts::record_unban`], called by the unban routes); unbans made anywhere else
//! (`fail2ban-client unban`, a jail restart that did not restore a ban) are found by
//! [`HistoryLifts::detect`], run by the `history_lifts` job: it compares the archive's
//! still-active bans of the local fail2ban with the live banned lists and records the lift at
//! the time it was seen. A lift changes no rollup cell, so it does not take the archive's writer
//! lock; it bumps the rollups' generation so that cached ban pages show the new state.
//!
//! Every lift is published on the event bus as an `unban` event: one per (address, jail)
//! the detector found gone, one per jail an unban through BanGUI covered. An older row that a
//! newer ban of the same address replaced is lifted silently (the address is still banned).
//!
//! Reading every banned list (`banned`) holds fail2ban's single command loop for about half a
//! second when a jail bans 100,000 entries (a blocklist), which every other caller (the
//! dashboard, `/health`) waits out; every 4 s that was a steady 12 % of fail2ban's time. So the
//! detector reads them all only on its first run and then every [`FULL_READ_EVERY`]; in between
//! it compares each running jail's ban count (`status JAIL short`) with the archive's distinct
//! still-active addresses of that jail and reads only the jails whose count is lower (a ban is
//! gone) or whose archive holds two active rows of one address (an older one to retire). A lift
//! hidden from the count by as many bans not yet archived is found by a later run once the
//! archive sync has caught up, at the latest by the next full read.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::SqlitePool;

use crate::db::{self, history_query as q};
use crate::domain::event::{EventKind, UnbanEvent};
use crate::domain::{BanIp, JailName};
use crate::fail2ban::{Fail2banClient, Fail2banError};

use super::events::EventBus;
use super::history::LOCAL_HOST;
use super::rollups::RollupStore;

/// Bans ending within this many seconds are left to expire: fail2ban may unban them a moment
/// before their end.
const GRACE_SECONDS: i64 = 5;

/// `lifted_by` of a lift noticed by the detector.
pub const SEEN_BY_DETECTOR: &str = "fail2ban";

/// How often the detector reads every jail's banned list whatever the counts say.
pub const FULL_READ_EVERY: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum LiftError {
    #[error("cannot read fail2ban's banned lists")]
    Fail2ban(#[source] Fail2banError),
    #[error("recording lifted bans failed")]
    Database(#[from] sqlx::Error),
}

pub struct HistoryLifts {
    db: SqlitePool,
    fail2ban: Fail2banClient,
    rollups: Arc<RollupStore>,
    events: Arc<EventBus>,
    /// When every banned list was last read (`None`: not yet).
    last_full_read: Mutex<Option<Instant>>,
    full_reads: AtomicU64,
    jail_reads: AtomicU64,
}

/// How often the detector has read fail2ban's banned lists since it was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListReads {
    /// Reads of every jail's list (`banned`).
    pub full: u64,
    /// Reads of one jail's list (`get JAIL banip`) after its count dropped.
    pub jails: u64,
}

fn unban(ip: Option<IpAddr>, jail: Option<String>, at: i64, by: &str) -> EventKind {
    EventKind::Unban(UnbanEvent {
        ip,
        jail,
        time: chrono::DateTime::from_timestamp(at, 0).unwrap_or_default(),
        lifted_by: by.to_string(),
        host: LOCAL_HOST.to_string(),
    })
}

impl HistoryLifts {
    pub fn new(
        db: SqlitePool,
        fail2ban: Fail2banClient,
        rollups: Arc<RollupStore>,
        events: Arc<EventBus>,
    ) -> Self {
        Self {
            db,
            fail2ban,
            rollups,
            events,
            last_full_read: Mutex::new(None),
            full_reads: AtomicU64::new(0),
            jail_reads: AtomicU64::new(0),
        }
    }

    pub fn list_reads(&self) -> ListReads {
        ListReads {
            full: self.full_reads.load(Ordering::Relaxed),
            jails: self.jail_reads.load(Ordering::Relaxed),
        }
    }

    fn last_full_read(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        match self.last_full_read.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The jails whose banned list this run reads: `None` for all of them (first run, or the
    /// last full read is [`FULL_READ_EVERY`] old), else the running jails whose ban count is
    /// below the archive's distinct still-active addresses of the jail, or whose archive has
    /// more active rows than addresses.
    async fn jails_to_read(&self, now: i64) -> Result<Option<Vec<String>>, LiftError> {
        let due = self
            .last_full_read()
            .is_none_or(|t| t.elapsed() >= FULL_READ_EVERY);
        if due {
            return Ok(None);
        }
        let archived: HashMap<String, (i64, i64)> =
            q::still_active_counts(&self.db, LOCAL_HOST, now, GRACE_SECONDS)
                .await?
                .into_iter()
                .map(|(jail, rows, distinct)| (jail, (rows, distinct)))
                .collect();
        let mut out = Vec::new();
        if archived.is_empty() {
            return Ok(Some(out));
        }
        for jail in self.fail2ban.jails().await.map_err(LiftError::Fail2ban)? {
            let Some(&(rows, distinct)) = archived.get(&jail) else {
                continue;
            };
            let Ok(name) = JailName::parse(&jail) else {
                continue;
            };
            let banned = self
                .fail2ban
                .jail_counters(&name)
                .await
                .map_err(LiftError::Fail2ban)?
                .currently_banned;
            if rows > distinct || banned < u64::try_from(distinct).unwrap_or(0) {
                out.push(jail);
            }
        }
        Ok(Some(out))
    }

    /// fail2ban's banned addresses of the jails this run reads (see [`Self::jails_to_read`]).
    async fn live(&self, now: i64) -> Result<Vec<(String, Vec<String>)>, LiftError> {
        let Some(jails) = self.jails_to_read(now).await? else {
            let started = Instant::now();
            let all = self
                .fail2ban
                .banned_all_entries()
                .await
                .map_err(LiftError::Fail2ban)?;
            *self.last_full_read() = Some(started);
            self.full_reads.fetch_add(1, Ordering::Relaxed);
            return Ok(all);
        };
        let mut out = Vec::with_capacity(jails.len());
        for jail in jails {
            let Ok(name) = JailName::parse(&jail) else {
                continue;
            };
            let entries = self
                .fail2ban
                .banned_entries(&name)
                .await
                .map_err(LiftError::Fail2ban)?;
            self.jail_reads.fetch_add(1, Ordering::Relaxed);
            out.push((jail, entries));
        }
        Ok(out)
    }

    /// Records an unban made through BanGUI by `user`: the still-active bans of `ip` (every IP
    /// for `None`) in `jails` (every jail when empty). Never fails the unban: errors are logged.
    pub async fn record_unban(&self, ip: Option<BanIp>, jails: &[String], user: &str) -> u64 {
        let ip_text = ip.map(|i| i.to_string());
        let by = format!("bangui:{user}");
        let now = db::now_epoch();
        let addr = ip.map(|i| i.ip());
        if jails.is_empty() {
            self.events.publish(unban(addr, None, now, &by));
        } else {
            self.events
                .publish_all(jails.iter().map(|j| unban(addr, Some(j.clone()), now, &by)));
        }
        match q::lift_active(&self.db, LOCAL_HOST, ip_text.as_deref(), jails, now, &by).await {
            Ok(n) => {
                if n > 0 {
                    self.rollups.touch();
                }
                n
            }
            Err(e) => {
                tracing::error!(error = %e, ip = ?ip_text, "recording an unban in the history failed");
                0
            }
        }
    }

    /// Compares the archive's still-active bans with fail2ban's live banned lists and records
    /// every ban no longer there (and every older ban of the same jail and IP that a newer one
    /// replaced) as lifted now. Jails that are not running are left alone. Returns rows lifted.
    pub async fn detect(&self) -> Result<u64, LiftError> {
        let now = db::now_epoch();
        let live = self.live(now).await?;
        if live.is_empty() {
            return Ok(0);
        }
        let live: HashMap<String, HashSet<String>> = live
            .into_iter()
            .map(|(jail, entries)| {
                let keys = entries.iter().filter_map(|e| entry_key(e)).collect();
                (jail, keys)
            })
            .collect();
        let rows = q::still_active(&self.db, LOCAL_HOST, now, GRACE_SECONDS).await?;
        // Newest row per (jail, ip): rows are oldest first, so the last one wins.
        let mut newest: HashMap<(&str, &str), i64> = HashMap::new();
        for (id, jail, ip, _) in &rows {
            newest.insert((jail.as_str(), ip.as_str()), *id);
        }
        let mut lifted = Vec::new();
        // (jail, ip) pairs no longer banned, each once.
        let mut gone: Vec<(&str, IpAddr)> = Vec::new();
        let mut seen: HashSet<(&str, IpAddr)> = HashSet::new();
        for (id, jail, ip, _) in &rows {
            let Some(banned) = live.get(jail) else {
                continue;
            };
            // Archived networks (a blocklist's `203.0.113.0/24`) are compared as networks.
            let addr = ip.parse::<IpAddr>().ok().map(|a| a.to_canonical());
            let still = entry_key(ip).is_some_and(|k| banned.contains(&k));
            if !still {
                lifted.push(*id);
                if let Some(a) = addr
                    && seen.insert((jail.as_str(), a))
                {
                    gone.push((jail.as_str(), a));
                }
            } else if newest.get(&(jail.as_str(), ip.as_str())) != Some(id) {
                lifted.push(*id);
            }
        }
        let n = q::mark_lifted(&self.db, &lifted, now, SEEN_BY_DETECTOR).await?;
        if n > 0 {
            self.rollups.touch();
            tracing::info!(lifted = n, "bans lifted outside BanGUI recorded");
        }
        self.events.publish_all(
            gone.into_iter()
                .map(|(jail, ip)| unban(Some(ip), Some(jail.to_string()), now, SEEN_BY_DETECTOR)),
        );
        Ok(n)
    }
}

/// One banned entry as a comparable key: an address in its canonical text, a network in its
/// normalised text (host bits cleared), `None` for anything else.
fn entry_key(entry: &str) -> Option<String> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical().to_string());
    }
    entry
        .parse::<ipnet::IpNet>()
        .ok()
        .map(|net| net.trunc().to_string())
}

#[cfg(test)]
mod tests {
    use super::entry_key;

    #[test]
    fn addresses_and_networks_compare_by_their_normalised_text() {
        assert_eq!(entry_key(" 192.0.2.7 ").as_deref(), Some("192.0.2.7"));
        assert_eq!(entry_key("::ffff:192.0.2.7").as_deref(), Some("192.0.2.7"));
        assert_eq!(
            entry_key("203.0.113.9/24").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            entry_key("2001:db8::1/32").as_deref(),
            Some("2001:db8::/32")
        );
        assert_eq!(entry_key("not-an-ip"), None);
    }
}
