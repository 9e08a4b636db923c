//! Recently validated credentials by digest, so that a busy dashboard or script does not cost a
//! database read per request. Entries are trusted for [`VALIDATION_TTL`] and never past the
//! credential's own expiry; logout, revocation and any change to users drop them at once (this
//! process is the only writer). Sessions and tokens live in two separate maps, so that a token
//! can never satisfy a session lookup or the other way round.

use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::Identity;

/// How long a validated session or token is trusted without reading the database again.
const VALIDATION_TTL: Duration = Duration::from_secs(10);
/// Above this many entries a map first drops its stale ones.
const PRUNE_ABOVE: usize = 10_000;

/// Which kind of credential a digest belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    Token,
}

#[derive(Debug, Default)]
pub struct CredentialCache {
    sessions: DashMap<String, (Identity, Instant)>,
    tokens: DashMap<String, (Identity, Instant)>,
}

impl CredentialCache {
    fn map(&self, kind: Kind) -> &DashMap<String, (Identity, Instant)> {
        match kind {
            Kind::Session => &self.sessions,
            Kind::Token => &self.tokens,
        }
    }

    /// The identity validated for this digest less than [`VALIDATION_TTL`] ago, unless it has
    /// expired since (`now` in epoch seconds).
    pub fn get(&self, kind: Kind, digest: &str, now: i64) -> Option<Identity> {
        let hit = self.map(kind).get(digest)?;
        let (identity, at) = hit.value();
        let fresh = at.elapsed() < VALIDATION_TTL && identity.expires_at.is_none_or(|e| e > now);
        fresh.then(|| identity.clone())
    }

    pub fn remember(&self, kind: Kind, digest: String, identity: &Identity) {
        let map = self.map(kind);
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, (_, at)| at.elapsed() < VALIDATION_TTL);
        }
        map.insert(digest, (identity.clone(), Instant::now()));
    }

    pub fn forget(&self, kind: Kind, digest: &str) {
        self.map(kind).remove(digest);
    }

    /// Drops every entry (after revocations and changes to users).
    pub fn clear(&self) {
        self.sessions.clear();
        self.tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::Role;
    use crate::services::auth::AuthKind;

    fn identity() -> Identity {
        Identity {
            user_id: 1,
            username: "admin".into(),
            role: Role::Admin,
            auth: AuthKind::Token,
            expires_at: None,
        }
    }

    #[test]
    fn a_token_entry_never_answers_a_session_lookup() {
        let cache = CredentialCache::default();
        cache.remember(Kind::Token, "d".into(), &identity());
        assert!(cache.get(Kind::Token, "d", 0).is_some());
        assert!(cache.get(Kind::Session, "d", 0).is_none());
        cache.clear();
        assert!(cache.get(Kind::Token, "d", 0).is_none());
    }

    #[test]
    fn an_expired_credential_is_not_served_from_the_cache() {
        let cache = CredentialCache::default();
        let mut id = identity();
        id.expires_at = Some(100);
        cache.remember(Kind::Session, "s".into(), &id);
        assert!(cache.get(Kind::Session, "s", 99).is_some());
        assert!(cache.get(Kind::Session, "s", 100).is_none());
    }
}
