//! Accounts and credentials, one service per concern, all built once by [`AuthServices::new`]:
//! [`SetupService`] (the first admin), [`SessionService`] (login, logout, session cookies and
//! the login throttle), [`TokenService`] (personal API tokens), [`UserService`] (user
//! administration). They share the keyed [`digest`] of credentials and the short-lived
//! [`credential_cache`]; passwords are hashed in [`passwords`]. This file holds the types every
//! one of them speaks: the error, the caller's [`Identity`] and the public [`UserView`].

mod credential_cache;
mod digest;
mod passwords;
mod sessions;
mod setup;
mod tokens;
mod users;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use sqlx::SqlitePool;

use crate::db::users::UserRow;
use crate::domain::DomainError;
use crate::domain::auth::Role;

pub use passwords::PasswordError;
pub use sessions::SessionService;
pub use setup::SetupService;
pub use tokens::{CreatedToken, TOKEN_PREFIX, TokenRow, TokenService};
pub use users::{UserService, UserUpdate};

use credential_cache::CredentialCache;
use digest::CredentialDigest;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("setup is already complete")]
    AlreadySetUp,
    #[error("setup is already complete; too many attempts from this address, retry in {0} s")]
    SetupRateLimited(u64),
    #[error("wrong user name or password")]
    InvalidCredentials,
    #[error("too many failed logins from this address; retry in {0} s")]
    RateLimited(u64),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("the user name {0} is taken")]
    UsernameTaken(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("the last admin cannot be removed or demoted")]
    LastAdmin,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hashing(#[from] PasswordError),
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    Session,
    Token,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Token => "token",
        }
    }
}

/// An authenticated caller. `role` is the effective role: a token never exceeds its owner.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub auth: AuthKind,
    pub expires_at: Option<i64>,
}

/// Public view of a user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// RFC 3339 UTC, like every time in the API.
    pub created_at: String,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            role: u.role(),
            username: u.username,
            created_at: crate::domain::time::rfc3339(u.created_at),
        }
    }
}

/// The account services, as `AppState` holds them.
pub struct AuthServices {
    pub setup: SetupService,
    pub sessions: SessionService,
    pub tokens: TokenService,
    pub users: UserService,
}

impl AuthServices {
    /// Builds every account service over the one pool; `secret` keys the credential digests.
    pub fn new(db: SqlitePool, secret: &SecretString, session_ttl: Duration) -> Self {
        let digest = Arc::new(CredentialDigest::new(secret));
        let cache = Arc::new(CredentialCache::default());
        Self {
            setup: SetupService::new(db.clone()),
            sessions: SessionService::new(
                db.clone(),
                Arc::clone(&digest),
                Arc::clone(&cache),
                session_ttl,
            ),
            tokens: TokenService::new(db.clone(), digest, Arc::clone(&cache)),
            users: UserService::new(db, cache),
        }
    }

    /// Job body: drops expired sessions and stale throttle records; returns the sessions dropped.
    pub async fn cleanup(&self) -> Result<u64, sqlx::Error> {
        self.setup.cleanup();
        self.sessions.cleanup().await
    }
}
