//! Bans as the dashboard shows and makes them: every jail's active bans with start and end, or
//! one jail's bans searched by prefix and paged, geolocated with one batch lookup; banning (never
//! an address [`ban_policy`] refuses), unbanning from one jail or all, and unbanning everything.

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::ban_policy;
use crate::domain::time::rfc3339;
use crate::domain::{BanIp, JailName, Page};
use crate::fail2ban::types::ActiveBan;
use crate::fail2ban::{Fail2banClient, Fail2banError};
use crate::geo::{GeoCache, GeoInfo};

#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveBanView {
    pub ip: String,
    pub jail: String,
    pub banned_at: String,
    /// Null for a permanent ban.
    pub ban_ends_at: Option<String>,
    pub geo: Option<GeoInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveBans {
    pub items: Vec<ActiveBanView>,
    pub total: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JailBans {
    pub items: Vec<ActiveBanView>,
    pub total: usize,
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BanOutcome {
    pub ip: String,
    pub jail: String,
    /// False when the IP was already banned in that jail.
    pub newly_banned: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnbanOutcome {
    pub ip: String,
    /// Jails the IP was removed from.
    pub jails: Vec<String>,
    pub unbanned: usize,
}

#[derive(Clone)]
pub struct BanService {
    fail2ban: Fail2banClient,
    geo: Arc<GeoCache>,
}

impl BanService {
    pub fn new(fail2ban: Fail2banClient, geo: Arc<GeoCache>) -> Self {
        Self { fail2ban, geo }
    }

    async fn views(&self, bans: Vec<ActiveBan>) -> Vec<ActiveBanView> {
        let ips: Vec<IpAddr> = bans.iter().map(|b| b.ip.to_canonical()).collect();
        let geo = self.geo.lookup_batch_shared(&ips).await;
        bans.into_iter()
            .map(|b| ActiveBanView {
                geo: geo.get(&b.ip.to_canonical()).map(|g| GeoInfo::clone(g)),
                ip: b.ip.to_string(),
                jail: b.jail,
                banned_at: rfc3339(b.banned_at),
                ban_ends_at: b.ends_at.map(rfc3339),
            })
            .collect()
    }

    /// Every active ban of every running jail.
    pub async fn active(&self) -> Result<ActiveBans, Fail2banError> {
        let mut all = Vec::new();
        for jail in self.fail2ban.jails().await? {
            let Ok(name) = JailName::parse(&jail) else {
                continue;
            };
            all.extend(self.fail2ban.active_bans(&name).await?);
        }
        all.sort_by_key(|b| std::cmp::Reverse(b.banned_at));
        let items = self.views(all).await;
        Ok(ActiveBans {
            total: items.len(),
            items,
        })
    }

    /// One jail's active bans whose text starts with `search`, newest first, one page.
    pub async fn of_jail(
        &self,
        jail: &JailName,
        search: Option<&str>,
        page: Page,
    ) -> Result<JailBans, Fail2banError> {
        let mut bans = self.fail2ban.active_bans(jail).await?;
        if let Some(prefix) = search.map(str::trim).filter(|s| !s.is_empty()) {
            bans.retain(|b| b.ip.to_string().starts_with(prefix));
        }
        bans.sort_by(|a, b| b.banned_at.cmp(&a.banned_at).then_with(|| a.ip.cmp(&b.ip)));
        let total = bans.len();
        let start = usize::try_from(page.offset())
            .unwrap_or(usize::MAX)
            .min(total);
        let end = start.saturating_add(page.limit() as usize).min(total);
        let slice: Vec<ActiveBan> = bans.drain(start..end).collect();
        Ok(JailBans {
            items: self.views(slice).await,
            total,
            page: page.page,
            page_size: page.page_size,
        })
    }

    /// The running jails that ban `ip` now.
    pub async fn jails_banning(&self, ip: BanIp) -> Result<Vec<String>, Fail2banError> {
        self.fail2ban.jails_banning(ip).await
    }

    /// Bans `ip` in the running `jail`, unless [`ban_policy`] refuses the address.
    pub async fn ban(&self, ip: &str, jail: &str) -> Result<BanOutcome, Fail2banError> {
        let ip = BanIp::parse(ip)?;
        let jail = JailName::parse(jail)?;
        ban_policy::check(ip)?;
        self.fail2ban.ensure_jail(&jail).await?;
        let newly_banned = self.fail2ban.ban(&jail, ip).await?;
        Ok(BanOutcome {
            ip: ip.to_string(),
            jail: jail.to_string(),
            newly_banned,
        })
    }

    /// Unbans `ip` from the running `jail`, or from every jail that bans it.
    pub async fn unban(&self, ip: &str, jail: Option<&str>) -> Result<UnbanOutcome, Fail2banError> {
        let ip = BanIp::parse(ip)?;
        let jails = match jail {
            Some(j) => {
                let jail = JailName::parse(j)?;
                self.fail2ban.ensure_jail(&jail).await?;
                if self.fail2ban.unban(&jail, ip).await? {
                    vec![jail.to_string()]
                } else {
                    Vec::new()
                }
            }
            None => self.fail2ban.unban_everywhere(ip).await?,
        };
        Ok(UnbanOutcome {
            ip: ip.to_string(),
            unbanned: jails.len(),
            jails,
        })
    }

    /// Lifts every ban of every jail; returns how many were lifted.
    pub async fn unban_all(&self) -> Result<u64, Fail2banError> {
        self.fail2ban.unban_all().await
    }
}
