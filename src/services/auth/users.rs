//! User administration: list, create, change role or password, delete. The last admin can be
//! neither demoted nor deleted; a new password or role ends the user's sessions and revokes
//! their API tokens.

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::db::{self, api_tokens, sessions, users};
use crate::domain::auth::{NewPassword, Role, Username};

use super::credential_cache::CredentialCache;
use super::{AuthError, UserView, passwords};

/// The outcome of an admin's change to a user.
pub struct UserUpdate {
    pub user: UserView,
    /// API tokens revoked because the password or the role changed.
    pub tokens_revoked: u64,
}

pub struct UserService {
    db: SqlitePool,
    cache: Arc<CredentialCache>,
}

impl UserService {
    pub fn new(db: SqlitePool, cache: Arc<CredentialCache>) -> Self {
        Self { db, cache }
    }

    pub async fn list(&self) -> Result<Vec<UserView>, sqlx::Error> {
        Ok(users::list(&self.db)
            .await?
            .into_iter()
            .map(UserView::from)
            .collect())
    }

    pub async fn create(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<UserView, AuthError> {
        let name = Username::parse(username)?;
        let pw = NewPassword::parse(password, &name)?;
        let hash = passwords::hash(pw.expose().to_string()).await?;
        users::insert(&self.db, name.as_str(), &hash, role, db::now_epoch())
            .await?
            .map(UserView::from)
            .ok_or_else(|| AuthError::UsernameTaken(name.to_string()))
    }

    /// Changes a user's role and/or password. The last admin cannot be demoted. A new password
    /// or a different role ends the user's sessions and revokes all their API tokens, so that
    /// nothing issued under the old credentials or rights stays usable.
    pub async fn update(
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
                Some(passwords::hash(pw.expose().to_string()).await?)
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
        self.cache.clear();
        let user = users::by_id(&self.db, id)
            .await?
            .map(UserView::from)
            .ok_or(AuthError::NotFound("user"))?;
        Ok(UserUpdate {
            user,
            tokens_revoked,
        })
    }

    /// Deletes a user (never the last admin); their sessions and tokens go with them.
    pub async fn delete(&self, id: i64) -> Result<(), AuthError> {
        let user = users::by_id(&self.db, id)
            .await?
            .ok_or(AuthError::NotFound("user"))?;
        if user.role() == Role::Admin && users::count_admins(&self.db).await? <= 1 {
            return Err(AuthError::LastAdmin);
        }
        users::delete(&self.db, id).await?;
        self.cache.clear();
        Ok(())
    }
}
