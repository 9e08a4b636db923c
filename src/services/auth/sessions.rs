//! Login, logout and session cookies: checks the password under the login throttle, opens a
//! server-side session (only its keyed digest is stored) and validates session tokens.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;

use crate::db::{self, sessions, users};
use crate::domain::auth::Role;
use crate::services::login_limiter::LoginLimiter;

use super::credential_cache::{CredentialCache, Kind};
use super::digest::CredentialDigest;
use super::{AuthError, AuthKind, Identity, passwords};

/// Longest session token looked up; anything longer is refused without a database read.
const MAX_TOKEN_LEN: usize = 200;
/// Longest user agent stored with a session.
const MAX_USER_AGENT_CHARS: usize = 256;

pub struct SessionService {
    db: SqlitePool,
    digest: Arc<CredentialDigest>,
    cache: Arc<CredentialCache>,
    ttl: Duration,
    limiter: LoginLimiter,
}

impl SessionService {
    pub fn new(
        db: SqlitePool,
        digest: Arc<CredentialDigest>,
        cache: Arc<CredentialCache>,
        ttl: Duration,
    ) -> Self {
        Self {
            db,
            digest,
            cache,
            ttl,
            limiter: LoginLimiter::default(),
        }
    }

    /// Lifetime of a new session.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Checks the password and opens a session; returns the cookie token and the identity.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client_ip: IpAddr,
        user_agent: Option<&str>,
    ) -> Result<(String, Identity), AuthError> {
        self.limiter
            .check(client_ip, username)
            .map_err(AuthError::RateLimited)?;
        let user = users::by_username(&self.db, username.trim()).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = passwords::verify(password.to_string(), stored).await?;
        let Some(user) = user.filter(|_| ok) else {
            let wait = self.limiter.failure(client_ip, username);
            if wait > Duration::ZERO {
                return Err(AuthError::RateLimited(wait.as_secs().max(1)));
            }
            return Err(AuthError::InvalidCredentials);
        };
        self.limiter.success(client_ip, username);
        let token = super::tokens::random_secret("");
        let now = db::now_epoch();
        let expires_at = now + self.ttl.as_secs() as i64;
        let ua = user_agent.map(|s| s.chars().take(MAX_USER_AGENT_CHARS).collect::<String>());
        sessions::insert(
            &self.db,
            &self.digest.of(&token),
            user.id,
            now,
            expires_at,
            Some(&client_ip.to_string()),
            ua.as_deref(),
        )
        .await?;
        let identity = Identity {
            user_id: user.id,
            role: user.role(),
            username: user.username,
            auth: AuthKind::Session,
            expires_at: Some(expires_at),
        };
        Ok((token, identity))
    }

    pub async fn logout(&self, token: &str) -> Result<(), sqlx::Error> {
        let digest = self.digest.of(token);
        self.cache.forget(Kind::Session, &digest);
        sessions::delete_by_hash(&self.db, &digest).await
    }

    /// The identity behind a session cookie, if the session is live.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Identity>, sqlx::Error> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        let (digest, now) = (self.digest.of(token), db::now_epoch());
        if let Some(identity) = self.cache.get(Kind::Session, &digest, now) {
            return Ok(Some(identity));
        }
        let found = sessions::find_valid(&self.db, &digest, now).await?;
        let identity = found.map(|s| Identity {
            user_id: s.user_id,
            role: Role::parse(&s.role).unwrap_or(Role::Viewer),
            username: s.username,
            auth: AuthKind::Session,
            expires_at: Some(s.expires_at),
        });
        if let Some(id) = &identity {
            self.cache.remember(Kind::Session, digest, id);
        }
        Ok(identity)
    }

    /// Drops expired sessions and stale throttle records; returns the sessions dropped.
    pub async fn cleanup(&self) -> Result<u64, sqlx::Error> {
        self.limiter.cleanup();
        sessions::delete_expired(&self.db, db::now_epoch()).await
    }
}
