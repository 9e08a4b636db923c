//! Ban state you can trust: records when an archived ban was lifted (unbanned before its end).
//! Unbans made through BanGUI are recorded right after fail2ban confirmed them
//! ([`HistoryLifts::record_unban`], called by the unban routes); unbans made anywhere else
//! (`fail2ban-client unban`, a jail restart that did not restore a ban) are found by
//! [`HistoryLifts::detect`], run by the `history_lifts` job: it compares the archive's
//! still-active bans of the local fail2ban with the live banned lists and records the lift at
//! the time it was seen. A lift changes no rollup cell, so it does not take the archive's writer
//! lock; it bumps the rollups' generation so that cached ban pages show the new state.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use sqlx::SqlitePool;

use crate::db::{self, history_query as q};
use crate::domain::BanIp;
use crate::fail2ban::{Fail2banClient, Fail2banError};

use super::history::LOCAL_HOST;
use super::rollups::RollupStore;

/// Bans ending within this many seconds are left to expire: fail2ban may unban them a moment
/// before their end.
const GRACE_SECONDS: i64 = 5;

/// `lifted_by` of a lift noticed by the detector.
pub const SEEN_BY_DETECTOR: &str = "fail2ban";

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
}

impl HistoryLifts {
    pub fn new(db: SqlitePool, fail2ban: Fail2banClient, rollups: Arc<RollupStore>) -> Self {
        Self {
            db,
            fail2ban,
            rollups,
        }
    }

    /// Records an unban made through BanGUI by `user`: the still-active bans of `ip` (every IP
    /// for `None`) in `jails` (every jail when empty). Never fails the unban: errors are logged.
    pub async fn record_unban(&self, ip: Option<BanIp>, jails: &[String], user: &str) -> u64 {
        let ip_text = ip.map(|i| i.to_string());
        let by = format!("bangui:{user}");
        match q::lift_active(
            &self.db,
            LOCAL_HOST,
            ip_text.as_deref(),
            jails,
            db::now_epoch(),
            &by,
        )
        .await
        {
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
        let live = self
            .fail2ban
            .banned_all()
            .await
            .map_err(LiftError::Fail2ban)?;
        let now = db::now_epoch();
        let live: HashMap<String, HashSet<IpAddr>> = live
            .into_iter()
            .map(|(jail, ips)| (jail, ips.into_iter().map(|i| i.to_canonical()).collect()))
            .collect();
        let rows = q::still_active(&self.db, LOCAL_HOST, now, GRACE_SECONDS).await?;
        // Newest row per (jail, ip): rows are oldest first, so the last one wins.
        let mut newest: HashMap<(&str, &str), i64> = HashMap::new();
        for (id, jail, ip, _) in &rows {
            newest.insert((jail.as_str(), ip.as_str()), *id);
        }
        let lifted: Vec<i64> = rows
            .iter()
            .filter(|(id, jail, ip, _)| {
                let Some(banned) = live.get(jail) else {
                    return false;
                };
                let still = ip
                    .parse::<IpAddr>()
                    .is_ok_and(|a| banned.contains(&a.to_canonical()));
                !still || newest.get(&(jail.as_str(), ip.as_str())) != Some(id)
            })
            .map(|(id, ..)| *id)
            .collect();
        let n = q::mark_lifted(&self.db, &lifted, now, SEEN_BY_DETECTOR).await?;
        if n > 0 {
            self.rollups.touch();
            tracing::info!(lifted = n, "bans lifted outside BanGUI recorded");
        }
        Ok(n)
    }
}
