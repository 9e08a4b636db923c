//! Current bans as the dashboard shows them: every jail's active bans with start and end, or
//! one jail's bans searched by prefix and paged, geolocated with one batch lookup.

use std::net::IpAddr;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::time::rfc3339;
use crate::domain::{JailName, Page};
use crate::fail2ban::Fail2banError;
use crate::fail2ban::types::ActiveBan;
use crate::geo::GeoInfo;
use crate::state::AppState;

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

async fn views(state: &AppState, bans: Vec<ActiveBan>) -> Vec<ActiveBanView> {
    let ips: Vec<IpAddr> = bans.iter().map(|b| b.ip.to_canonical()).collect();
    let geo = state.geo.lookup_batch_shared(&ips).await;
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
pub async fn active(state: &AppState) -> Result<ActiveBans, Fail2banError> {
    let mut all = Vec::new();
    for jail in state.fail2ban.jails().await? {
        let Ok(name) = JailName::parse(&jail) else {
            continue;
        };
        all.extend(state.fail2ban.active_bans(&name).await?);
    }
    all.sort_by_key(|b| std::cmp::Reverse(b.banned_at));
    let items = views(state, all).await;
    Ok(ActiveBans {
        total: items.len(),
        items,
    })
}

/// One jail's active bans whose text starts with `search`, newest first, one page.
pub async fn of_jail(
    state: &AppState,
    jail: &JailName,
    search: Option<&str>,
    page: Page,
) -> Result<JailBans, Fail2banError> {
    let mut bans = state.fail2ban.active_bans(jail).await?;
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
        items: views(state, slice).await,
        total,
        page: page.page,
        page_size: page.page_size,
    })
}
