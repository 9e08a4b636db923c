//! Jails as the dashboard manages them: the running jails with their counters, one jail's
//! settings, start/stop/reload/idle, ignoreself and the ignore list. The ignore list is shown
//! exactly as fail2ban holds it and an entry is removed as shown; a jail that does not run is
//! [`Fail2banError::UnknownJail`] before anything is changed. It never sees HTTP types.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{IgnoreTarget, JailName};
use crate::fail2ban::types::{JailCounters, JailSettings};
use crate::fail2ban::{Fail2banClient, Fail2banError};

#[derive(Debug, Serialize, ToSchema)]
pub struct JailSummary {
    pub name: String,
    pub currently_failed: u64,
    pub total_failed: u64,
    pub currently_banned: u64,
    pub total_banned: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JailDetail {
    pub name: String,
    pub counters: JailCounters,
    pub settings: JailSettings,
}

/// Why a jail operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JailError {
    #[error(transparent)]
    Fail2ban(#[from] Fail2banError),
    #[error("{entry:?} is not in the ignore list of jail {jail}")]
    IgnoreEntryNotFound { jail: String, entry: String },
}

impl From<crate::domain::DomainError> for JailError {
    fn from(e: crate::domain::DomainError) -> Self {
        JailError::Fail2ban(e.into())
    }
}

#[derive(Clone)]
pub struct JailService {
    fail2ban: Fail2banClient,
}

impl JailService {
    pub fn new(fail2ban: Fail2banClient) -> Self {
        Self { fail2ban }
    }

    /// Parses `name` and checks that fail2ban runs that jail.
    pub async fn running(&self, name: &str) -> Result<JailName, Fail2banError> {
        let jail = JailName::parse(name)?;
        self.fail2ban.ensure_jail(&jail).await?;
        Ok(jail)
    }

    /// Running jails with their counters.
    pub async fn list(&self) -> Result<Vec<JailSummary>, Fail2banError> {
        let mut items = Vec::new();
        for jail in self.fail2ban.jails().await? {
            let Ok(name) = JailName::parse(&jail) else {
                continue;
            };
            let c = self.fail2ban.jail_counters(&name).await?;
            items.push(JailSummary {
                name: jail,
                currently_failed: c.currently_failed,
                total_failed: c.total_failed,
                currently_banned: c.currently_banned,
                total_banned: c.total_banned,
            });
        }
        Ok(items)
    }

    /// One running jail's counters and settings.
    pub async fn detail(&self, name: &str) -> Result<JailDetail, Fail2banError> {
        let jail = self.running(name).await?;
        let (counters, settings) = tokio::try_join!(
            self.fail2ban.jail_counters(&jail),
            self.fail2ban.jail_settings(&jail)
        )?;
        Ok(JailDetail {
            name: jail.to_string(),
            counters,
            settings,
        })
    }

    /// Starts a configured jail. An unknown name is refused before anything runs: a jail that
    /// fail2ban does not run and that no configuration file enables is `UnknownJail` without
    /// the full reload that starting a stopped jail needs.
    pub async fn start(&self, name: &str) -> Result<(), Fail2banError> {
        let jail = JailName::parse(name)?;
        if !self
            .fail2ban
            .jails()
            .await?
            .iter()
            .any(|j| j == jail.as_str())
            && !self.fail2ban.is_configured_jail(&jail).await?
        {
            return Err(Fail2banError::UnknownJail(jail.to_string()));
        }
        self.fail2ban.start_jail(&jail).await
    }

    pub async fn stop(&self, name: &str) -> Result<(), Fail2banError> {
        let jail = self.running(name).await?;
        self.fail2ban.stop_jail(&jail).await
    }

    /// Reloads one running jail, or the whole configuration when `name` is `None`.
    pub async fn reload(&self, name: Option<&str>) -> Result<(), Fail2banError> {
        match name {
            Some(name) => {
                let jail = self.running(name).await?;
                self.fail2ban.reload(Some(&jail)).await
            }
            None => self.fail2ban.reload(None).await,
        }
    }

    /// Lifts every ban of one running jail; returns how many were lifted.
    pub async fn unban_all(&self, name: &str) -> Result<u64, Fail2banError> {
        let jail = self.running(name).await?;
        self.fail2ban.unban_all_in(&jail).await
    }

    pub async fn set_idle(&self, name: &str, on: bool) -> Result<(), Fail2banError> {
        let jail = self.running(name).await?;
        self.fail2ban.set_idle(&jail, on).await
    }

    pub async fn set_ignoreself(&self, name: &str, on: bool) -> Result<(), Fail2banError> {
        let jail = self.running(name).await?;
        self.fail2ban.set_ignoreself(&jail, on).await
    }

    /// The ignore list exactly as fail2ban renders it.
    pub async fn ignore_list(&self, name: &str) -> Result<Vec<String>, Fail2banError> {
        let jail = self.running(name).await?;
        self.fail2ban.ignore_list(&jail).await
    }

    /// Adds an address or network (never a /0 network: see [`IgnoreTarget`]).
    pub async fn add_ignore(&self, name: &str, text: &str) -> Result<Vec<String>, JailError> {
        let jail = self.running(name).await?;
        let target = IgnoreTarget::parse(text)?;
        self.fail2ban.add_ignore(&jail, &target).await?;
        Ok(self.fail2ban.ignore_list(&jail).await?)
    }

    /// Removes the entry shown as `text` (or the network `text` denotes) from the ignore list;
    /// [`JailError::IgnoreEntryNotFound`] when the list holds no such entry.
    pub async fn remove_ignore(&self, name: &str, text: &str) -> Result<Vec<String>, JailError> {
        let jail = self.running(name).await?;
        let list = self.fail2ban.ignore_list(&jail).await?;
        let wanted = text.trim();
        let entry = list
            .iter()
            .find(|e| e.as_str() == wanted)
            .or_else(|| {
                let normal = IgnoreTarget::parse(wanted).ok()?.to_string();
                list.iter().find(|e| **e == normal)
            })
            .cloned()
            .ok_or_else(|| JailError::IgnoreEntryNotFound {
                jail: jail.to_string(),
                entry: wanted.to_string(),
            })?;
        match self.fail2ban.remove_ignore(&jail, &entry).await {
            Ok(()) => {}
            // fail2ban prints a /0 network as its bare address (`0.0.0.0`, `::`), so an entry
            // shown that way may be the network: remove it under that name.
            Err(Fail2banError::Rejected(_)) if is_unspecified(&entry) => {
                self.fail2ban
                    .remove_ignore(&jail, &format!("{entry}/0"))
                    .await?
            }
            Err(e) => return Err(e.into()),
        }
        Ok(self.fail2ban.ignore_list(&jail).await?)
    }
}

fn is_unspecified(entry: &str) -> bool {
    entry
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}
