//! Accounts and credentials: first-admin setup, login and logout with server-side sessions,
//! personal API tokens, user administration and the login throttle. Passwords are hashed with
//! argon2id on the blocking pool; session and API tokens are random and stored only as
//! HMAC-SHA256 digests keyed with the session secret.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use sqlx::SqlitePool;

use crate::db::{self, api_tokens, sessions, users};
use crate::domain::DomainError;
use crate::domain::auth::{NewPassword, Role, Username};

use super::login_limiter::{Backoff, LoginLimiter, throttle_key};

/// Prefix of personal API tokens, so that leaked tokens are recognisable.
pub const TOKEN_PREFIX: &str = "bgt_";
/// A token's `last_used_at` is written at most this often.
const TOKEN_TOUCH_INTERVAL: i64 = 60;

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
    Hashing(String),
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
    /// Epoch seconds.
    pub created_at: i64,
}

impl From<users::UserRow> for UserView {
    fn from(u: users::UserRow) -> Self {
        Self {
            id: u.id,
            role: u.role(),
            username: u.username,
            created_at: u.created_at,
        }
    }
}

/// The outcome of an admin's change to a user.
pub struct UserUpdate {
    pub user: UserView,
    /// API tokens revoked because the password or the role changed.
    pub tokens_revoked: u64,
}

/// A freshly created token: the secret is shown exactly once.
pub struct CreatedToken {
    pub row: api_tokens::TokenRow,
    pub secret: String,
}

pub struct AuthService {
    db: SqlitePool,
    key: Vec<u8>,
    session_ttl: Duration,
    setup_done: AtomicBool,
    limiter: LoginLimiter,
    /// When each token's `last_used_at` was last written, so that at most one write a minute
    /// happens per token however many requests use it.
    touched: dashmap::DashMap<i64, i64>,
    /// Recently validated sessions by digest, so that a busy dashboard does not cost a database
    /// read per request. Entries live [`VALIDATION_TTL`]; logout, revocation and any change to
    /// users drop them at once (this process is the only writer). Kept apart from
    /// `validated_tokens`, so that a token can never pass as a session or the other way round.
    validated_sessions: dashmap::DashMap<String, (Identity, std::time::Instant)>,
    /// Recently validated API tokens by digest, as above.
    validated_tokens: dashmap::DashMap<String, (Identity, std::time::Instant)>,
    /// Refused `POST /setup` calls per address once setup is done.
    setup_refusals: Backoff<IpAddr>,
}

/// `POST /setup` calls refused (409) from one address after setup before they answer 429.
const SETUP_FREE_REFUSALS: u32 = 2;

/// How long a validated session or token is trusted without reading the database again.
const VALIDATION_TTL: Duration = Duration::from_secs(10);

type HmacSha256 = Hmac<Sha256>;

impl AuthService {
    pub fn new(db: SqlitePool, secret: &str, session_ttl: Duration) -> Self {
        Self {
            db,
            key: secret.as_bytes().to_vec(),
            session_ttl,
            setup_done: AtomicBool::new(false),
            limiter: LoginLimiter::default(),
            touched: dashmap::DashMap::new(),
            validated_sessions: dashmap::DashMap::new(),
            validated_tokens: dashmap::DashMap::new(),
            setup_refusals: Backoff::new(SETUP_FREE_REFUSALS),
        }
    }

    pub fn session_ttl(&self) -> Duration {
        self.session_ttl
    }

    pub fn limiter(&self) -> &LoginLimiter {
        &self.limiter
    }

    /// Keyed digest of a session or API token, the only form that is stored.
    pub fn digest(&self, token: &str) -> String {
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else {
            // HMAC accepts keys of any length; this branch exists only to avoid a panic path.
            use sha2::Digest;
            return hex::encode(Sha256::digest(
                [self.key.as_slice(), token.as_bytes()].concat(),
            ));
        };
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// True once the first admin exists; cached after the first positive answer.
    pub async fn is_setup_done(&self) -> Result<bool, sqlx::Error> {
        if self.setup_done.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let done = users::count(&self.db).await? > 0;
        if done {
            self.setup_done.store(true, Ordering::Relaxed);
        }
        Ok(done)
    }

    /// Creates the first admin. Exactly one concurrent caller wins; the rest get `AlreadySetUp`.
    /// Once setup is done, each address gets a couple of `AlreadySetUp` answers and then
    /// `SetupRateLimited` with a doubling wait, so that the public endpoint cannot be hammered.
    pub async fn setup(
        &self,
        username: &str,
        password: &str,
        client_ip: IpAddr,
    ) -> Result<UserView, AuthError> {
        if self.is_setup_done().await? {
            return Err(self.refuse_setup(client_ip));
        }
        let name = Username::parse(username)?;
        let pw = NewPassword::parse(password, &name)?;
        let hash = hash_password(pw.expose().to_string()).await?;
        let row = users::insert_first_admin(&self.db, name.as_str(), &hash, db::now_epoch())
            .await?
            .ok_or(AuthError::AlreadySetUp)?;
        self.setup_done.store(true, Ordering::Relaxed);
        Ok(row.into())
    }

    fn refuse_setup(&self, client_ip: IpAddr) -> AuthError {
        let key = throttle_key(client_ip);
        let now = std::time::Instant::now();
        if let Err(secs) = self.setup_refusals.check_at(&key, now) {
            return AuthError::SetupRateLimited(secs);
        }
        let failure = self.setup_refusals.failure_at(&key, now);
        if failure.wait > Duration::ZERO {
            AuthError::SetupRateLimited(failure.wait.as_secs().max(1))
        } else {
            AuthError::AlreadySetUp
        }
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
        let ok = verify_password(password.to_string(), stored).await?;
        let Some(user) = user.filter(|_| ok) else {
            let wait = self.limiter.failure(client_ip, username);
            if wait > Duration::ZERO {
                return Err(AuthError::RateLimited(wait.as_secs().max(1)));
            }
            return Err(AuthError::InvalidCredentials);
        };
        self.limiter.success(client_ip, username);
        let token = random_token("");
        let now = db::now_epoch();
        let expires_at = now + self.session_ttl.as_secs() as i64;
        let ua = user_agent.map(|s| s.chars().take(256).collect::<String>());
        sessions::insert(
            &self.db,
            &self.digest(&token),
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
        let digest = self.digest(token);
        self.validated_sessions.remove(&digest);
        sessions::delete_by_hash(&self.db, &digest).await
    }

    /// Forgets every cached validation (after revocations and user changes).
    fn forget_validations(&self) {
        self.validated_sessions.clear();
        self.validated_tokens.clear();
    }

    pub async fn authenticate_session(&self, token: &str) -> Result<Option<Identity>, sqlx::Error> {
        if token.is_empty() || token.len() > 200 {
            return Ok(None);
        }
        let (digest, now) = (self.digest(token), db::now_epoch());
        if let Some(identity) = recently_validated(&self.validated_sessions, &digest, now) {
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
            remember(&self.validated_sessions, digest, id);
        }
        Ok(identity)
    }

    pub async fn authenticate_bearer(&self, token: &str) -> Result<Option<Identity>, sqlx::Error> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let (digest, now) = (self.digest(token), db::now_epoch());
        if let Some(identity) = recently_validated(&self.validated_tokens, &digest, now) {
            return Ok(Some(identity));
        }
        let Some(t) = api_tokens::find_valid(&self.db, &digest, now).await? else {
            return Ok(None);
        };
        self.touch_token(t.token_id, t.last_used_at, now);
        let owner = Role::parse(&t.user_role).unwrap_or(Role::Viewer);
        let granted = Role::parse(&t.token_role).unwrap_or(Role::Viewer);
        let identity = Identity {
            user_id: t.user_id,
            username: t.username,
            role: owner.min(granted),
            auth: AuthKind::Token,
            expires_at: t.expires_at,
        };
        remember(&self.validated_tokens, digest, &identity);
        Ok(Some(identity))
    }

    /// Records a token's use in the background, at most once a minute per token; the request
    /// never waits for this write.
    fn touch_token(&self, id: i64, stored: Option<i64>, now: i64) {
        let last = self.touched.get(&id).map(|v| *v).or(stored);
        if last.is_some_and(|l| now - l < TOKEN_TOUCH_INTERVAL) {
            return;
        }
        // Claim this minute's write; a concurrent request that lost the race skips it.
        let claimed = match self.touched.entry(id) {
            dashmap::Entry::Occupied(mut e) if now - *e.get() >= TOKEN_TOUCH_INTERVAL => {
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
    pub async fn create_token(
        &self,
        owner: &Identity,
        name: &str,
        role: Option<Role>,
        expires_in_days: Option<u32>,
    ) -> Result<CreatedToken, AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
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
        if expires_in_days.is_some_and(|d| d == 0 || d > 3650) {
            return Err(DomainError::new(
                "expires_in_days",
                &format!("{expires_in_days:?}"),
                "use 1 to 3650 days, or leave it out for no expiry",
            )
            .into());
        }
        let secret = random_token(TOKEN_PREFIX);
        let now = db::now_epoch();
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let row = api_tokens::insert(
            &self.db,
            &api_tokens::NewToken {
                user_id: owner.user_id,
                name,
                token_hash: &self.digest(&secret),
                token_prefix: &prefix,
                role: role.as_str(),
                created_at: now,
                expires_at: expires_in_days.map(|d| now + i64::from(d) * 86_400),
            },
        )
        .await?;
        Ok(CreatedToken { row, secret })
    }

    pub async fn list_tokens(
        &self,
        owner: &Identity,
    ) -> Result<Vec<api_tokens::TokenRow>, sqlx::Error> {
        api_tokens::list_for_user(&self.db, owner.user_id).await
    }

    pub async fn revoke_token(&self, owner: &Identity, id: i64) -> Result<(), AuthError> {
        if api_tokens::revoke(&self.db, owner.user_id, id, db::now_epoch()).await? {
            self.forget_validations();
            Ok(())
        } else {
            Err(AuthError::NotFound("token"))
        }
    }

    /// Every user's live tokens (for admins).
    pub async fn list_all_tokens(&self) -> Result<Vec<api_tokens::OwnedTokenRow>, sqlx::Error> {
        api_tokens::list_all(&self.db).await
    }

    /// Revokes any user's token (for admins); returns the owner's id.
    pub async fn revoke_any_token(&self, id: i64) -> Result<i64, AuthError> {
        let owner = api_tokens::revoke_any(&self.db, id, db::now_epoch())
            .await?
            .ok_or(AuthError::NotFound("token"))?;
        self.forget_validations();
        Ok(owner)
    }

    pub async fn list_users(&self) -> Result<Vec<UserView>, sqlx::Error> {
        Ok(users::list(&self.db)
            .await?
            .into_iter()
            .map(UserView::from)
            .collect())
    }

    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<UserView, AuthError> {
        let name = Username::parse(username)?;
        let pw = NewPassword::parse(password, &name)?;
        let hash = hash_password(pw.expose().to_string()).await?;
        users::insert(&self.db, name.as_str(), &hash, role, db::now_epoch())
            .await?
            .map(UserView::from)
            .ok_or_else(|| AuthError::UsernameTaken(name.to_string()))
    }

    /// Changes a user's role and/or password. The last admin cannot be demoted. A new password
    /// or a different role ends the user's sessions and revokes all their API tokens, so that
    /// nothing issued under the old credentials or rights stays usable.
    pub async fn update_user(
        &self,
        id: i64,
        role: Option<Role>,
        password: Option<&str>,
    ) -> Result<UserUpdate, AuthError> {
        let user = users::by_id(&self.db, id)
            .await?
            .ok_or(AuthError::NotFound("user"))?;
        let now = db::now_epoch();
        // Validate and hash first, so that a refused password changes nothing.
        let new_hash = match password {
            Some(pw) => {
                let name = Username::parse(&user.username)?;
                let pw = NewPassword::parse(pw, &name)?;
                Some(hash_password(pw.expose().to_string()).await?)
            }
            None => None,
        };
        let role_changed = role.is_some_and(|r| r != user.role());
        if let Some(role) = role.filter(|_| role_changed) {
            if user.role() == Role::Admin && users::count_admins(&self.db).await? <= 1 {
                return Err(AuthError::LastAdmin);
            }
            users::set_role(&self.db, id, role, now).await?;
        }
        if let Some(hash) = &new_hash {
            users::set_password(&self.db, id, hash, now).await?;
        }
        let mut tokens_revoked = 0;
        if role_changed || new_hash.is_some() {
            sessions::delete_for_user(&self.db, id).await?;
            tokens_revoked = api_tokens::revoke_for_user(&self.db, id, now).await?;
        }
        self.forget_validations();
        let user = users::by_id(&self.db, id)
            .await?
            .map(UserView::from)
            .ok_or(AuthError::NotFound("user"))?;
        Ok(UserUpdate {
            user,
            tokens_revoked,
        })
    }

    pub async fn delete_user(&self, id: i64) -> Result<(), AuthError> {
        let user = users::by_id(&self.db, id)
            .await?
            .ok_or(AuthError::NotFound("user"))?;
        if user.role() == Role::Admin && users::count_admins(&self.db).await? <= 1 {
            return Err(AuthError::LastAdmin);
        }
        users::delete(&self.db, id).await?;
        self.forget_validations();
        Ok(())
    }

    /// Job body: drops expired sessions and stale throttle records.
    pub async fn cleanup(&self) -> Result<u64, sqlx::Error> {
        self.limiter.cleanup();
        self.setup_refusals.cleanup_at(std::time::Instant::now());
        sessions::delete_expired(&self.db, db::now_epoch()).await
    }
}

type ValidationCache = dashmap::DashMap<String, (Identity, std::time::Instant)>;

/// A validated identity seen less than [`VALIDATION_TTL`] ago and not expired since.
fn recently_validated(cache: &ValidationCache, digest: &str, now: i64) -> Option<Identity> {
    let hit = cache.get(digest)?;
    let (identity, at) = hit.value();
    let fresh = at.elapsed() < VALIDATION_TTL && identity.expires_at.is_none_or(|e| e > now);
    fresh.then(|| identity.clone())
}

fn remember(cache: &ValidationCache, digest: String, identity: &Identity) {
    if cache.len() > 10_000 {
        cache.retain(|_, (_, at)| at.elapsed() < VALIDATION_TTL);
    }
    cache.insert(digest, (identity.clone(), std::time::Instant::now()));
}

fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 32]>()))
}

async fn hash_password(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| AuthError::Hashing(e.to_string()))?
}

/// Verifies against the stored hash; with no user, verifies against a fixed dummy hash so that
/// the answer takes as long as for a real user (no user enumeration by timing).
async fn verify_password(password: String, stored: Option<String>) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || {
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$YmFuZ3VpZHVtbXlzYWx0$0ZlJ6lN2FmYb2s1CkVJq7mP0yJ8y4lq2Qq0c8eYw6Xg";
        let real = stored.is_some();
        let text = stored.unwrap_or_else(|| DUMMY.to_string());
        let ok = PasswordHash::new(&text)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        real && ok
    })
    .await
    .map_err(|e| AuthError::Hashing(e.to_string()))
}
