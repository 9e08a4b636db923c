//! First-run setup: creating the first admin exactly once, answering whether it is done, and
//! throttling the public endpoint once it is.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::SqlitePool;

use crate::db::{self, users};
use crate::domain::auth::{NewPassword, Username};
use crate::services::login_limiter::{Backoff, throttle_key};

use super::{AuthError, UserView, passwords};

/// `POST /setup` calls refused (409) from one address after setup before they answer 429.
const FREE_REFUSALS: u32 = 2;

pub struct SetupService {
    db: SqlitePool,
    /// Set once the first admin exists; it never goes back.
    done: AtomicBool,
    /// Refused calls per address once setup is done.
    refusals: Backoff<IpAddr>,
}

impl SetupService {
    pub fn new(db: SqlitePool) -> Self {
        Self {
            db,
            done: AtomicBool::new(false),
            refusals: Backoff::new(FREE_REFUSALS),
        }
    }

    /// True once the first admin exists; cached after the first positive answer.
    pub async fn is_done(&self) -> Result<bool, sqlx::Error> {
        if self.done.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let done = users::count(&self.db).await? > 0;
        if done {
            self.done.store(true, Ordering::Relaxed);
        }
        Ok(done)
    }

    /// Creates the first admin. Exactly one concurrent caller wins; the rest get `AlreadySetUp`.
    /// Once setup is done, each address gets a couple of `AlreadySetUp` answers and then
    /// `SetupRateLimited` with a doubling wait, so that the public endpoint cannot be hammered.
    pub async fn run(
        &self,
        username: &str,
        password: &str,
        client_ip: IpAddr,
    ) -> Result<UserView, AuthError> {
        if self.is_done().await? {
            return Err(self.refuse(client_ip));
        }
        let name = Username::parse(username)?;
        let pw = NewPassword::parse(password, &name)?;
        let hash = passwords::hash(pw.expose().to_string()).await?;
        let row = users::insert_first_admin(&self.db, name.as_str(), &hash, db::now_epoch())
            .await?
            .ok_or(AuthError::AlreadySetUp)?;
        self.done.store(true, Ordering::Relaxed);
        Ok(row.into())
    }

    fn refuse(&self, client_ip: IpAddr) -> AuthError {
        let key = throttle_key(client_ip);
        let now = Instant::now();
        if let Err(secs) = self.refusals.check_at(&key, now) {
            return AuthError::SetupRateLimited(secs);
        }
        let failure = self.refusals.failure_at(&key, now);
        if failure.wait > Duration::ZERO {
            AuthError::SetupRateLimited(failure.wait.as_secs().max(1))
        } else {
            AuthError::AlreadySetUp
        }
    }

    /// Forgets stale refusal records.
    pub fn cleanup(&self) {
        self.refusals.cleanup_at(Instant::now());
    }
}
