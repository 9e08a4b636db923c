//! Repository of the `api_tokens` table: personal tokens for scripts, stored as keyed hashes
//! with a short visible prefix.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_prefix: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A valid token joined with its owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenUser {
    pub token_id: i64,
    pub user_id: i64,
    pub username: String,
    pub user_role: String,
    pub token_role: String,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub token_prefix: &'a str,
    pub role: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

macro_rules! token_columns {
    () => {
        "id, user_id, name, token_prefix, role, created_at, expires_at, last_used_at"
    };
}

pub async fn insert(pool: &SqlitePool, t: &NewToken<'_>) -> Result<TokenRow, sqlx::Error> {
    let id = sqlx::query(
        "INSERT INTO api_tokens (user_id, name, token_hash, token_prefix, role, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.token_hash)
    .bind(t.token_prefix)
    .bind(t.role)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(pool)
    .await?
    .last_insert_rowid();
    sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE id = ?"
    ))
    .bind(id)
    .fetch_one(pool)
    .await
}

pub async fn list_for_user(pool: &SqlitePool, user_id: i64) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY id"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

pub async fn find_valid(
    pool: &SqlitePool,
    token_hash: &str,
    now: i64,
) -> Result<Option<TokenUser>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id AS token_id, u.id AS user_id, u.username, u.role AS user_role, t.role AS token_role, \
         t.expires_at, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// Records a use; callers throttle this so that reads do not write on every request.
pub async fn touch(pool: &SqlitePool, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Revokes one of the user's tokens; false when there is no such live token.
pub async fn revoke(
    pool: &SqlitePool,
    user_id: i64,
    id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let res = sqlx::query(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// A live token with its owner's name, for the admins' overview.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnedTokenRow {
    #[sqlx(flatten)]
    pub token: TokenRow,
    pub username: String,
}

/// Every user's live (not revoked) tokens, oldest first.
pub async fn list_all(pool: &SqlitePool) -> Result<Vec<OwnedTokenRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, t.user_id, t.name, t.token_prefix, t.role, t.created_at, t.expires_at, \
         t.last_used_at, u.username FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.revoked_at IS NULL ORDER BY t.id",
    )
    .fetch_all(pool)
    .await
}

/// Revokes any live token; returns its owner's id, or `None` when there is no such live token.
pub async fn revoke_any(pool: &SqlitePool, id: i64, now: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING user_id",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Revokes every live token of a user; returns how many.
pub async fn revoke_for_user(
    pool: &SqlitePool,
    user_id: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(pool)
        .await?
        .rows_affected(),
    )
}
