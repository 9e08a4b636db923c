//! The bulk commands a blocklist import needs: ban and unban many addresses and networks in
//! one command, and the raw list of what a jail bans (networks included, which the typed
//! `status` reader skips). fail2ban 1.0.2 accepts a network (`1.2.3.0/24`) for `banip` and hands
//! it to its actions as written; it lists it back the same way. Every entry is a parsed
//! [`BlocklistEntry`], so nothing unchecked reaches the socket.

use super::client::{Fail2banClient, Fail2banError};
use super::types;
use crate::domain::JailName;
use crate::domain::blocklist::BlocklistEntry;

impl Fail2banClient {
    /// `set JAIL banip E…`: how many were newly banned.
    pub async fn ban_entries(
        &self,
        jail: &JailName,
        entries: &[BlocklistEntry],
    ) -> Result<u64, Fail2banError> {
        self.bulk(jail, "banip", entries).await
    }

    /// `set JAIL unbanip E…`: how many were banned and are not any more.
    pub async fn unban_entries(
        &self,
        jail: &JailName,
        entries: &[BlocklistEntry],
    ) -> Result<u64, Fail2banError> {
        self.bulk(jail, "unbanip", entries).await
    }

    async fn bulk(
        &self,
        jail: &JailName,
        verb: &str,
        entries: &[BlocklistEntry],
    ) -> Result<u64, Fail2banError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let texts: Vec<String> = entries.iter().map(ToString::to_string).collect();
        let mut words = Vec::with_capacity(texts.len() + 3);
        words.extend(["set", jail.as_str(), verb]);
        words.extend(texts.iter().map(String::as_str));
        let v = self.call(&words).await?;
        v.as_i64()
            .map(|n| n.max(0) as u64)
            .ok_or_else(|| Fail2banError::Protocol(types::shape(verb, &v)))
    }

    /// `get JAIL banip`: every banned entry as fail2ban writes it.
    pub async fn banned_entries(&self, jail: &JailName) -> Result<Vec<String>, Fail2banError> {
        let v = self.call(&["get", jail.as_str(), "banip"]).await?;
        types::strings(&v).ok_or_else(|| Fail2banError::Protocol(types::shape("banip", &v)))
    }
}
