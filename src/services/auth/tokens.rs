//! Personal API tokens: creation (the secret is shown once; only its keyed digest is stored),
//! listing and revocation by the owner or an admin, and validation of bearer tokens with their
//! `last_used_at` written in the background at most once a minute.

use std::sync::Arc;

use dashmap::DashMap;
use sqlx::SqlitePool;

use crate::db::{self, api_tokens};
use crate::domain::DomainError;
use crate::domain::auth::Role;

use super::credential_cache::{CredentialCache, Kind};
use super::digest::CredentialDigest;
use super::{AuthError, AuthKind, Identity};

/// A stored token as the service lists it (never the secret).
pub use crate::db::api_tokens::TokenRow;

/// Prefix of personal API tokens, so that leaked tokens are recognisable.
pub const TOKEN_PREFIX: &str = "bgt_";
/// A token's `last_used_at` is written at most this often (seconds).
const TOUCH_INTERVAL: i64 = 60;
/// Longest bearer token looked up; anything longer is refused without a database read.
const MAX_TOKEN_LEN: usize = 200;
const MAX_NAME_CHARS: usize = 100;
const MAX_EXPIRY_DAYS: u32 = 3650;

/// A freshly created token: the secret is shown exactly once.
pub struct CreatedToken {
    pub row: api_tokens::TokenRow,
    pub secret: String,
}

/// 32 random bytes as hex after `prefix`: a session or API token.
pub(super) fn random_secret(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 32]>()))
}

pub struct TokenService {
    db: SqlitePool,
    digest: Arc<CredentialDigest>,
    cache: Arc<CredentialCache>,
    /// When each token's `last_used_at` was last written, so that at most one write a minute
    /// happens per token however many requests use it.
    touched: DashMap<i64, i64>,
}

impl TokenService {
    pub fn new(db: SqlitePool, digest: Arc<CredentialDigest>, cache: Arc<CredentialCache>) -> Self {
        Self {
            db,
            digest,
            cache,
            touched: DashMap::new(),
        }
    }

    /// The identity behind a bearer token, if the token is live. Its role is the lower of the
    /// token's and its owner's.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Identity>, sqlx::Error> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        let (digest, now) = (self.digest.of(token), db::now_epoch());
        if let Some(identity) = self.cache.get(Kind::Token, &digest, now) {
            return Ok(Some(identity));
        }
        let Some(t) = api_tokens::find_valid(&self.db, &digest, now).await? else {
            return Ok(None);
        };
        self.touch(t.token_id, t.last_used_at, now);
        let owner = Role::parse(&t.user_role).unwrap_or(Role::Viewer);
        let granted = Role::parse(&t.token_role).unwrap_or(Role::Viewer);
        let identity = Identity {
            user_id: t.user_id,
            username: t.username,
            role: owner.min(granted),
            auth: AuthKind::Token,
            expires_at: t.expires_at,
        };
        self.cache.remember(Kind::Token, digest, &identity);
        Ok(Some(identity))
    }

    /// Records a token's use in the background, at most once a minute per token; the request
    /// never waits for this write.
    fn touch(&self, id: i64, stored: Option<i64>, now: i64) {
        let last = self.touched.get(&id).map(|v| *v).or(stored);
        if last.is_some_and(|l| now - l < TOUCH_INTERVAL) {
            return;
        }
        // Claim this minute's write; a concurrent request that lost the race skips it.
        let claimed = match self.touched.entry(id) {
            dashmap::Entry::Occupied(mut e) if now - *e.get() >= TOUCH_INTERVAL => {
                e.insert(now);
                true
            }
            dashmap::Entry::Occupied(_) => false,
            dashmap::Entry::Vacant(e) => {
                e.insert(now);
                true
            }
        };
        if claimed {
            let db = self.db.clone();
            tokio::spawn(async move {
                if let Err(e) = api_tokens::touch(&db, id, now).await {
                    tracing::warn!(error = %e, token = id, "could not record the token's last use");
                }
            });
        }
    }

    /// Creates a personal token for `owner`, never above the owner's role.
    pub async fn create(
        &self,
        owner: &Identity,
        name: &str,
        role: Option<Role>,
        expires_in_days: Option<u32>,
    ) -> Result<CreatedToken, AuthError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(DomainError::new(
                "name",
                name,
                "give the token a name of 1 to 100 characters without control characters",
            )
            .into());
        }
        let role = role.unwrap_or(owner.role);
        if role > owner.role {
            return Err(AuthError::Forbidden(format!(
                "a token cannot have more rights than its owner ({} < {})",
                owner.role.as_str(),
                role.as_str()
            )));
        }
        if expires_in_days.is_some_and(|d| d == 0 || d > MAX_EXPIRY_DAYS) {
            return Err(DomainError::new(
                "expires_in_days",
                &format!("{expires_in_days:?}"),
                "use 1 to 3650 days, or leave it out for no expiry",
            )
            .into());
        }
        let secret = random_secret(TOKEN_PREFIX);
        let now = db::now_epoch();
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let row = api_tokens::insert(
            &self.db,
            &api_tokens::NewToken {
                user_id: owner.user_id,
                name,
                token_hash: &self.digest.of(&secret),
                token_prefix: &prefix,
                role: role.as_str(),
                created_at: now,
                expires_at: expires_in_days.map(|d| now + i64::from(d) * 86_400),
            },
        )
        .await?;
        Ok(CreatedToken { row, secret })
    }

    /// The owner's live tokens.
    pub async fn list(&self, owner: &Identity) -> Result<Vec<api_tokens::TokenRow>, sqlx::Error> {
        api_tokens::list_for_user(&self.db, owner.user_id).await
    }

    /// Revokes one of the owner's tokens.
    pub async fn revoke(&self, owner: &Identity, id: i64) -> Result<(), AuthError> {
        if api_tokens::revoke(&self.db, owner.user_id, id, db::now_epoch()).await? {
            self.cache.clear();
            Ok(())
        } else {
            Err(AuthError::NotFound("token"))
        }
    }

    /// Every user's live tokens (for admins).
    pub async fn list_all(&self) -> Result<Vec<api_tokens::OwnedTokenRow>, sqlx::Error> {
        api_tokens::list_all(&self.db).await
    }

    /// Revokes any user's token (for admins); returns the owner's id.
    pub async fn revoke_any(&self, id: i64) -> Result<i64, AuthError> {
        let owner = api_tokens::revoke_any(&self.db, id, db::now_epoch())
            .await?
            .ok_or(AuthError::NotFound("token"))?;
        self.cache.clear();
        Ok(owner)
    }
}
